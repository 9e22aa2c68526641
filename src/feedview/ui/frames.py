"""One app-wide clock for every view: a frame tick for what arrived, a second tick for times.

A busy feed must not repaint per item, and N panels must not run N timers (each timer
repaints on its own phase: four panels with a 30 Hz timer each repainted 43 times a
second). Views ask to be flushed at the next frame; one timer per app flushes every view
that asked, and only those, in one pass, so all of them reach the screen in the same
repaint. The timer runs only while something is due: an idle dashboard costs nothing.
Widgets that show a relative time or a countdown join the second tick: one timer, one
repaint a second for all of them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Protocol

from textual.app import App
from textual.timer import Timer

FRAME_S = 1 / 30  # what arrived is shown at most this often


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

    def request(self, view: Flushable) -> None:
        """Flush `view` at the next frame (once, however often it asks)."""
        self._due[view] = None
        if self._frame is None:
            self._frame = self._app.set_timer(FRAME_S, self._flush, name="frames")

    def _flush(self) -> None:
        self._frame = None
        due, self._due = self._due, {}
        for view in due:
            view.flush_frame()

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
        for callback in list(self._every_second.values()):
            callback()


def frames_of(app: App) -> Frames:
    """The app's Frames, made on first use."""
    frames = getattr(app, "_feedview_frames", None)
    if frames is None:
        frames = Frames(app)
        app._feedview_frames = frames  # type: ignore[attr-defined]
    return frames
