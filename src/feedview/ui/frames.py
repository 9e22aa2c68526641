"""One app-wide clock for every view: a frame tick for what arrived, a second tick for times.

A busy feed must not repaint per item, and N panels must not run N timers (each timer
repaints on its own phase: four panels with a 30 Hz timer each repainted 43 times a
second). Views ask to be flushed at the next frame; one timer per app flushes the views that
asked, and only those, in one pass, so they reach the screen in the same repaint (with many
busy panels, a frame takes the focused one and a few others in turn: see `_flush`). The
timer runs only while something is due: an idle dashboard costs nothing.
Widgets that show a relative time or a countdown join the second tick: one timer for all
of them, whose callbacks run a few to a frame.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Protocol, cast

from textual.app import App, ScreenStackError
from textual.timer import Timer

FRAME_S = 1 / 30  # what arrived is shown at most this often
VIEWS_PER_FRAME = 1  # views besides the focused one that one frame flushes (the rest: the next frames)
SECOND_PER_FRAME = 2  # once-a-second callbacks run in one frame (the rest: the next frames)


class Flushable(Protocol):
    def flush_frame(self) -> None: ...


class Frames:
    """The app's frame tick and second tick (see the module's docstring)."""

    def __init__(self, app: App) -> None:
        self._app = app
        self._due: dict[Flushable, None] = {}  # insertion-ordered, each view once
        self._frame: Timer | None = None
        self._second: Timer | None = None
        self._every_second: weakref.WeakKeyDictionary[object, Callable[[], None]] = weakref.WeakKeyDictionary()
        self._second_due: list[object] = []  # owners whose once-a-second callback is still to run

    def request(self, view: Flushable) -> None:
        """Flush `view` at the next frame (once, however often it asks)."""
        self._due[view] = None
        if self._frame is None:
            self._frame = self._app.set_timer(FRAME_S, self._flush, name="frames")

    def _flush(self) -> None:
        """Flush the views that asked: the focused one first, then at most VIEWS_PER_FRAME others in
        the order they asked; the rest stay due, first in line for the next frame. Sixteen busy
        panels in a grid would otherwise all repaint every frame (a frame of 150 lines took ~100 ms
        to paint), and a key pressed meanwhile would wait for all of them."""
        self._frame = None
        try:
            focused = self._app.focused
        except ScreenStackError:  # the app is closing: its views have nothing more to show
            return
        first = [view for view in self._due if view is cast(object, focused)]
        others = [view for view in self._due if view is not cast(object, focused)]
        now, later = others[:VIEWS_PER_FRAME], others[VIEWS_PER_FRAME:]
        self._due = dict.fromkeys(later)
        for view in first + now:
            view.flush_frame()
        if later and self._frame is None:
            self._frame = self._app.set_timer(FRAME_S, self._flush, name="frames")

    def every_second(self, owner: object, callback: Callable[[], None]) -> None:
        """Call `callback` once a second while `owner` lives (until `stop(owner)`)."""
        self._every_second[owner] = callback
        if self._second is None:
            self._second = self._app.set_interval(1.0, self._tick, name="second")

    def stop(self, owner: object) -> None:
        self._every_second.pop(owner, None)
        self._due.pop(owner, None)  # type: ignore[call-overload]
        if not self._every_second and self._second is not None:
            self._second.stop()
            self._second = None

    def _tick(self) -> None:
        """The second: its callbacks run SECOND_PER_FRAME to a frame, not all in one. Sixteen
        panels whose times all read differently at the same moment would repaint together, one
        frame of ~150 lines (~100 ms): a key pressed then waited for it (benchmarks/ui_firehose.py,
        case 7's key-to-paint tail)."""
        self._second_due = list(self._every_second.keys())
        self._run_second_share()

    def _run_second_share(self) -> None:
        share, self._second_due = self._second_due[:SECOND_PER_FRAME], self._second_due[SECOND_PER_FRAME:]
        for owner in share:
            callback = self._every_second.get(owner)  # (gone: stopped since the second began)
            if callback is not None:
                callback()
        if self._second_due:
            self._app.set_timer(FRAME_S, self._run_second_share, name="second share")


def frames_of(app: App) -> Frames:
    """The app's Frames, made on first use."""
    frames = getattr(app, "_feedview_frames", None)
    if frames is None:
        frames = Frames(app)
        app._feedview_frames = frames  # type: ignore[attr-defined]
    return frames
