"""What every panel shares: a status line over the view that consumes its feed.

Messages up, calls down. The view (the leaf widget that renders the feed) knows its
config, not its panel: it tells the panel what changed by posting messages (the feed's
state, the status line's detail, how many items arrived, a badge for the border). The
panel calls only the view's public methods (`focus`, `toggle_pause`, ...).

The feed's worker lives on the view, never on the panel or the screen, so removing the
panel unmounts the view, which cancels the worker, and `aclosing` closes the generator
and its connection at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker

from ..config import PanelConfig
from ..feeds.state import FeedState
from ..kinds import kind_of
from ..text import clean_line, one_line
from .frames import frames_of
from .still import StillLines
from .timefmt import clock_time

YIELD_EVERY_S = 0.004  # a busy feed gives the event loop (keys, repaints) a turn this often

_STATE_ICONS = {
    "connecting": "◌",
    "open": "●",
    "idle": "●",
    "retrying": "↻",
    "waiting": "◷",
    "paused": "‖",
    "closed": "■",
    "error": "✖",
}
_LONGEST_WAIT_S = 10**9  # no feed waits this long; a bug must not crash the status line


def describe_state(state: FeedState, now: float, *, live_word: str = "live") -> str:
    """One line: what the connection is doing, with a live countdown where there is one."""
    icon = _STATE_ICONS.get(state.phase, "?")
    reason = one_line(state.reason)
    if state.phase == "open":  # a view may say more than "live" (health: "3 of 4 healthy")
        return f"{icon} {reason or live_word}"
    if state.phase == "connecting":
        return f"{icon} connecting…"
    if state.phase == "idle":  # a routine wait between polls: up to date
        if state.resume_at is None or state.resume_at - now < 0.5:
            return f"{icon} checking…"
        return f"{icon} up to date · next check in {_seconds_until(state.resume_at, now)} s"
    if state.phase == "paused":
        return f"{icon} paused{f': {reason}' if reason else ''}"
    if state.phase in ("retrying", "waiting") and state.resume_at is not None:
        left = _seconds_until(state.resume_at, now)
        if state.phase == "retrying":
            when = f"in {left} s"
        else:
            when = f"until {clock_time(min(state.resume_at, now + _LONGEST_WAIT_S))} ({left} s)"
        return f"{icon} {state.phase} {when}{f': {reason}' if reason else ''}"
    return f"{icon} {state.phase}{f': {reason}' if reason else ''}"


def _seconds_until(when: float, now: float) -> int:
    return max(0, round(min(when - now, _LONGEST_WAIT_S)))


if TYPE_CHECKING:
    _WidgetMixin = Widget
else:
    _WidgetMixin = object


class PanelView(_WidgetMixin):
    """Mixin for the widget that renders a panel's feed and runs its worker: first in the
    bases (`class RepoTable(PanelView, DataTable)`), so that the widget keeps its own CSS and
    component classes (Textual follows the first DOM base only).

    Subclasses implement `consume(feed)` and, if they batch what arrives, `flush_frame()`
    (called once per frame after `request_flush()`). They report with `show_state`,
    `show_detail`, `arrived` and `show_badge`, which post the messages below.
    """

    can_pause: ClassVar[bool] = False

    class StateChanged(Message):
        """The feed's connection state changed (the panel's status line and tab dot follow)."""

        def __init__(self, state: FeedState) -> None:
            super().__init__()
            self.state = state

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PanelView.StateChanged)

    class DetailChanged(Message):
        """The status line's right side: counts, rates, the page."""

        def __init__(self, detail: Text) -> None:
            super().__init__()
            self.detail = detail

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PanelView.DetailChanged)

    class Arrived(Message):
        """`count` new items arrived (a panel out of sight counts them as unread)."""

        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    class BadgeChanged(Message):
        """A short text after the panel's title on its border (e.g. "· 3 unread")."""

        def __init__(self, badge: str) -> None:
            super().__init__()
            self.badge = badge

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PanelView.BadgeChanged)

    def __init__(self, config: PanelConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.feed_state = FeedState("connecting")
        self._last_yield = 0.0

    @property
    def clock(self) -> Callable[[], float]:
        return getattr(self.app, "clock", time.time)

    @property
    def feed_group(self) -> str:
        return f"feed:{self.id}"

    def on_mount(self) -> None:
        self.start_feed()

    def on_unmount(self) -> None:
        frames_of(self.app).stop(self)

    # -- reporting up ---------------------------------------------------------------------------

    def show_state(self, state: FeedState) -> None:
        self.feed_state = state
        self.post_message(self.StateChanged(state))

    def show_detail(self, detail: Text | str) -> None:
        self.post_message(self.DetailChanged(detail if isinstance(detail, Text) else Text(detail)))

    def arrived(self, count: int) -> None:
        if count:
            self.post_message(self.Arrived(count))

    def show_badge(self, badge: str) -> None:
        self.post_message(self.BadgeChanged(badge))

    def request_flush(self) -> None:
        """flush_frame() at the next frame, with every other view that has something new."""
        frames_of(self.app).request(self)

    def flush_frame(self) -> None:
        """Show what arrived since the last frame (one repaint for all of it)."""

    # -- the feed -------------------------------------------------------------------------------

    def start_feed(self, **overrides: Any) -> Worker[None]:
        """(Re)start the feed; exclusive within this view's own group only. The feed resumes
        where the history store says (`resume()`); the caller's overrides come first."""
        return self.run_worker(
            self._run_feed(
                lambda resume: self.app.open_feed(self.config, **{**resume, **overrides})  # type: ignore[attr-defined]
            ),
            name=self.feed_group,
            group=self.feed_group,
            exclusive=True,
            exit_on_error=False,
        )

    async def _run_feed(self, make_feed: Callable[[dict[str, Any]], AsyncGenerator[Any, None]]) -> None:
        task = asyncio.current_task()
        if task is not None:
            task.set_name(self.feed_group)  # so a leftover would be easy to spot
        self.show_state(FeedState("connecting"))
        try:
            resume = await self.resume()
            async with contextlib.aclosing(make_feed(resume)) as feed:
                await self.consume(feed)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a final feed error belongs on the panel, not in a traceback  # noqa: BLE001
            self.show_state(FeedState("error", reason=str(exc) or type(exc).__name__))
        else:
            if not self.feed_state.final:
                self.show_state(FeedState("closed", reason="the feed ended"))

    async def consume(self, feed: AsyncIterator[Any]) -> None:
        raise NotImplementedError

    async def resume(self) -> dict[str, Any]:
        """Before the feed opens: show what the history store kept, and return the feed's options
        that resume it from there (a Last-Event-ID, a since=, a Last-Modified). Views that keep
        history override it; by default there is nothing to resume."""
        return {}

    async def panel_store(self) -> Any:
        """This panel's part of the history store, or None (history off or unusable)."""
        opener = getattr(self.app, "panel_store", None)
        return await opener(self.config) if opener is not None else None

    async def share_loop(self) -> None:
        """Let keys and repaints run when a fast feed has not waited for a while."""
        now = time.perf_counter()
        if now - self._last_yield > YIELD_EVERY_S:
            await asyncio.sleep(0)
            self._last_yield = time.perf_counter()

    def toggle_pause(self) -> None:
        """Stop or resume pulling the feed (views with `can_pause`)."""


class StatusRow(Horizontal, StillLines):
    """A panel's state and details (two Statics): its own lines are drawn again only when they change."""


class FeedPanel(Vertical, StillLines):
    """A dashboard panel: title, connection state and details, and its view."""

    DEFAULT_CLASSES = "panel"
    # panel.tcss (rules for `.panel` and its children), loaded with the first panel rather
    # than before the first frame; unscoped, as the app's own CSS is
    DEFAULT_CSS = (Path(__file__).parent / "panel.tcss").read_text(encoding="utf-8")
    SCOPED_CSS = False
    live_word: ClassVar[str] = "live"

    class Changed(Message):
        """The panel's title, unread count or state changed (the tab label follows)."""

        def __init__(self, panel: FeedPanel) -> None:
            super().__init__()
            self.panel = panel

    def __init__(self, config: PanelConfig, *, id: str) -> None:
        super().__init__(id=id)
        self.config = config
        self.title = clean_line(config.title or kind_of(config.kind).default_title(config.options))
        self.state = FeedState("connecting")
        self.unread = 0
        self.badge = ""
        self.visible_to_user = False
        self._detail = Text()
        self._state_text = ""
        self.view = self.make_view()
        self.view.id = f"{id}-view"

    def make_view(self) -> PanelView:
        raise NotImplementedError

    @property
    def clock(self) -> Callable[[], float]:
        return getattr(self.app, "clock", time.time)

    @property
    def can_pause(self) -> bool:
        return self.view.can_pause

    @property
    def tab_id(self) -> str:
        """The id of this panel's tab ("panel-3" has "tab-3")."""
        return "tab-" + (self.id or "").removeprefix("panel-")

    def compose(self) -> ComposeResult:
        with StatusRow(classes="status"):
            yield Static(classes="state")
            yield Static(classes="detail")
        yield from self.compose_extra()
        yield self.view

    def compose_extra(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self._render_status()
        self._update_border()

    def on_unmount(self) -> None:
        frames_of(self.app).stop(self)

    # -- what the view says ---------------------------------------------------------------------

    def on_panel_view_state_changed(self, message: PanelView.StateChanged) -> None:
        message.stop()
        changed = message.state.phase != self.state.phase
        self.state = message.state
        self._render_status()
        frames = frames_of(self.app)
        if message.state.resume_at is not None:
            frames.every_second(self, self._render_status)  # a countdown stays current
        else:
            frames.stop(self)  # nothing on the line changes by itself: no second tick (idle costs nothing)
        if changed:
            self.post_message(self.Changed(self))

    def on_panel_view_detail_changed(self, message: PanelView.DetailChanged) -> None:
        message.stop()
        self._detail = message.detail
        for line in self.query(".detail").results(Static):  # none while being removed
            line.update(self._detail, layout=False)  # its box (1fr by one line) never changes

    def on_panel_view_arrived(self, message: PanelView.Arrived) -> None:
        message.stop()
        if not self.visible_to_user:
            self.unread += message.count
            self._update_border()
            self.post_message(self.Changed(self))

    def on_panel_view_badge_changed(self, message: PanelView.BadgeChanged) -> None:
        message.stop()
        if message.badge != self.badge:
            self.badge = message.badge
            self._update_border()

    # -- calls down -----------------------------------------------------------------------------

    def focus_view(self) -> None:
        self.view.focus()

    def toggle_pause(self) -> None:
        self.view.toggle_pause()

    def set_visible_to_user(self, visible: bool) -> None:
        self.visible_to_user = visible
        if visible and self.unread:
            self.unread = 0
            self._update_border()
            self.post_message(self.Changed(self))

    # -- drawing --------------------------------------------------------------------------------

    def _render_status(self) -> None:
        text = describe_state(self.state, self.clock(), live_word=self.live_word)
        for line in self.query(".state").results(Static):  # none while being removed
            if text != self._state_text:
                line.update(Text(text))  # width: auto, so this one lays out again
            line.set_classes(f"state -{self.state.phase}")
        self._state_text = text

    def _update_border(self) -> None:
        title = Text(self.title, style="bold")
        if self.badge:
            title.append(f" {self.badge}", style="not bold")
        if self.unread:
            title.append(f" ({self.unread:,} new)", style="not bold")
        self.border_title = title

    def label(self) -> Text:
        """The tab label: a state dot, the title and the unread count."""
        colours = getattr(self.app, "theme_variables", {})
        phase_colour = {
            "open": colours.get("success", "green"),
            "idle": colours.get("success", "green"),
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
