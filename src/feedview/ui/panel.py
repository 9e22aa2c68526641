"""What every panel shares: a status line over the view that consumes its feed.

The feed's worker lives on the view (the leaf widget that renders it), never on
the panel or the screen, so removing the panel unmounts the view, which cancels
the worker, and `aclosing` closes the generator and its connection at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker

from ..config import PanelConfig
from ..feeds.state import FeedState
from ..kinds import kind_of
from ..text import one_line
from .safe import clean_line

FRAME_S = 1 / 30  # updates are batched to this period: never one repaint per item
YIELD_EVERY_S = 0.004  # a busy feed gives the event loop (keys, repaints) a turn this often

_STATE_ICONS = {
    "connecting": "◌", "open": "●", "retrying": "↻", "waiting": "◷",
    "paused": "‖", "closed": "■", "error": "✖",
}


def describe_state(state: FeedState, now: float, *, live_word: str = "live") -> str:
    """One line: what the connection is doing, with a live countdown where there is one."""
    icon = _STATE_ICONS.get(state.phase, "?")
    reason = one_line(state.reason)
    if state.phase == "open":
        return f"{icon} {live_word}"
    if state.phase == "connecting":
        return f"{icon} connecting…"
    if state.phase == "paused":
        return f"{icon} paused{f': {reason}' if reason else ''}"
    if state.phase in ("retrying", "waiting") and state.resume_at is not None:
        left = max(0, round(min(state.resume_at - now, 10**9)))  # no feed waits that long; a bug must not crash
        until = clock_time(min(state.resume_at, now + 10**9))
        verb = "retrying in" if state.phase == "retrying" else "waiting"
        when = f"{left} s" if state.phase == "retrying" else f"until {until} ({left} s)"
        return f"{icon} {verb} {when}{f': {reason}' if reason else ''}"
    words = {"retrying": "retrying", "waiting": "waiting", "closed": "closed", "error": "error"}
    return f"{icon} {words.get(state.phase, state.phase)}{f': {reason}' if reason else ''}"


def clock_time(epoch: float) -> str:
    """HH:MM:SS of an epoch time, or "?" beyond what the platform's clock can show."""
    try:
        return datetime.fromtimestamp(epoch).strftime("%H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return "?"


class PanelView:
    """Mixin for the leaf widget that renders a panel and runs its feed's worker
    (a mixin, first in the bases, so the widget keeps its own CSS and components).

    Subclasses implement `consume(feed)`; they call `self.panel.show_state(...)`,
    `self.panel.show_detail(...)` and `self.panel.add_unread(n)`.
    """

    def __init__(self, panel: "FeedPanel", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.panel = panel
        self._last_yield = 0.0

    @property
    def feed_group(self) -> str:
        return f"feed:{self.panel.id}"

    def on_mount(self) -> None:
        self.start_feed()

    def start_feed(self, **overrides: Any) -> Worker[None]:
        """(Re)start the feed; exclusive within this panel's own group only."""
        return self.run_worker(
            self._run_feed(lambda: self.app.open_feed(self.panel.config, **overrides)),
            name=self.feed_group,
            group=self.feed_group,
            exclusive=True,
            exit_on_error=False,
        )

    async def _run_feed(self, make_feed: Callable[[], AsyncIterator[Any]]) -> None:
        task = asyncio.current_task()
        if task is not None:
            task.set_name(self.feed_group)  # so a leftover would be easy to spot
        self.panel.show_state(FeedState("connecting"))
        try:
            async with contextlib.aclosing(make_feed()) as feed:
                await self.consume(feed)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a final feed error belongs on the panel, not in a traceback
            self.panel.show_state(FeedState("error", reason=str(exc) or type(exc).__name__))
        else:
            if not self.panel.state.final:
                self.panel.show_state(FeedState("closed", reason="the feed ended"))

    async def consume(self, feed: AsyncIterator[Any]) -> None:
        raise NotImplementedError

    async def share_loop(self) -> None:
        """Let keys and repaints run when a fast feed has not waited for a while."""
        now = time.perf_counter()
        if now - self._last_yield > YIELD_EVERY_S:
            await asyncio.sleep(0)
            self._last_yield = time.perf_counter()


class FeedPanel(Vertical):
    """A dashboard panel: title, connection state and details, and its view."""

    DEFAULT_CLASSES = "panel"
    # panel.tcss (rules for `.panel` and its children), loaded with the first panel rather
    # than before the first frame; unscoped, as the app's own CSS is
    DEFAULT_CSS = (Path(__file__).parent / "panel.tcss").read_text(encoding="utf-8")
    SCOPED_CSS = False
    live_word: ClassVar[str] = "live"

    class Changed(Message):
        """The panel's title, unread count or state changed (the tab label follows)."""

        def __init__(self, panel: "FeedPanel") -> None:
            super().__init__()
            self.panel = panel

    def __init__(self, config: PanelConfig, *, id: str) -> None:
        super().__init__(id=id)
        self.config = config
        self.title = clean_line(config.title or kind_of(config.kind).default_title(config.options))
        self.state = FeedState("connecting")
        self.unread = 0
        self.visible_to_user = False
        self._detail = Text()
        self._state_text = ""
        self.view = self.make_view()

    def make_view(self) -> PanelView:
        raise NotImplementedError

    @property
    def clock(self) -> Callable[[], float]:
        return getattr(self.app, "clock", time.time)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="status"):
            yield Static(classes="state")
            yield Static(classes="detail")
        yield from self.compose_extra()
        yield self.view

    def compose_extra(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self._render_status()
        self._update_border()
        self.set_interval(1.0, self._render_status)

    def show_state(self, state: FeedState) -> None:
        changed = state.phase != self.state.phase
        self.state = state
        self._render_status()
        if changed:
            self.post_message(self.Changed(self))

    def show_detail(self, detail: Text | str) -> None:
        self._detail = detail if isinstance(detail, Text) else Text(detail)
        for line in self.query(".detail").results(Static):  # none while being removed
            line.update(self._detail, layout=False)  # its box (1fr by one line) never changes

    def add_unread(self, count: int) -> None:
        if count and not self.visible_to_user:
            self.unread += count
            self._update_border()
            self.post_message(self.Changed(self))

    def set_visible_to_user(self, visible: bool) -> None:
        self.visible_to_user = visible
        if visible and self.unread:
            self.unread = 0
            self._update_border()
            self.post_message(self.Changed(self))

    def _render_status(self) -> None:
        text = describe_state(self.state, self.clock(), live_word=self.live_word)
        for line in self.query(".state").results(Static):  # none while being removed
            if text != self._state_text:
                line.update(Text(text))  # width: auto, so this one lays out again
            line.set_classes(f"state -{self.state.phase}")
        self._state_text = text
        self.show_detail(self._detail)

    def _update_border(self) -> None:
        title = Text(self.title, style="bold")
        if self.unread:
            title.append(f" ({self.unread:,} new)", style="not bold")
        self.border_title = title

    def label(self) -> Text:
        """The tab label: a state dot, the title and the unread count."""
        colours = getattr(self.app, "theme_variables", {})
        phase_colour = {
            "open": colours.get("success", "green"),
            "connecting": colours.get("warning", "yellow"),
            "retrying": colours.get("warning", "yellow"),
            "waiting": colours.get("warning", "yellow"),
            "paused": colours.get("accent", "blue"),
            "error": colours.get("error", "red"),
        }.get(self.state.phase, colours.get("foreground-muted", "grey50"))
        label = Text("● ", style=phase_colour)
        label.append(self.title)
        if self.unread:
            label.append(f" {self.unread:,}", style="bold reverse")
        return label

    def focus_view(self) -> None:
        self.view.focus()
