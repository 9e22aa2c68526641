"""One app-wide clock for every view: a frame tick for what arrived, a second tick for times.

A busy feed must not repaint per item, and N panels must not run N timers (each timer
repaints on its own phase: four panels with a 30 Hz timer each repainted 43 times a
second). Views ask to be flushed at the next frame; one timer per app flushes them, and only
them, one a frame: the focused one, and every other frame while it is due too, the one that
has waited longest (see `_flush`). The timer runs only while something is due: an idle
dashboard costs nothing.
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
SECOND_PER_FRAME = 2  # once-a-second callbacks run in one frame (the rest: the next frames)


class Flushable(Protocol):
    def flush_frame(self) -> None: ...


class Frames:
    """The app's frame tick and second tick (see the module's docstring)."""

    def __init__(self, app: App) -> None:
        self._app = app
        self._due: dict[Flushable, None] = {}  # insertion-ordered, each view once
        self._others_turn = False  # the next frame flushes another view than the focused one
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
        """Flush one view that asked: the focused one, or, every other frame while it is due too,
        the one that has waited longest (the rest stay due, first in line for the next frame).
        Textual repaints the box around everything that changed in a frame: the focused panel
        and another one across a grid of sixteen made a box of most of the screen (~15 ms a
        frame, benchmarks/ui_firehose.py case 7), where one panel's box costs a few ms; and a
        key pressed meanwhile waited for it."""
        self._frame = None
        try:
            focused = self._app.focused
        except ScreenStackError:  # the app is closing: its views have nothing more to show
            return
        first_other = next((view for view in self._due if view is not cast(object, focused)), None)
        view: Flushable | None = first_other
        focused_due = focused is not None and cast(Flushable, focused) in self._due
        if focused_due and (first_other is None or not self._others_turn):
            view = cast(Flushable, focused)
        self._others_turn = view is not first_other
        if view is not None:
            del self._due[view]
            view.flush_frame()
        if self._due and self._frame is None:
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
