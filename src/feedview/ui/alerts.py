"""Urgent notifications as toasts that never bury the screen: one per panel, updated in place.

Textual's `notify` makes a new toast each time and lays out the whole stack: a busy alert
topic raised one per frame (30 a second), cost 7x the intake, kept ~20 KB per expired
toast, and at 80x24 three of them covered half the screen. Here each panel has at most one
toast, which a burst updates ("+41 more urgent") at most four times a second; it goes after
ALERT_S without news, or on a click. The rack lives on the dashboard's own screen, so a
detail or a form pushed over it is never covered; and the panel the user is looking at
raises none (its red rows say it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.containers import Container
from textual.widgets import Static

from ..text import clean_line
from .frames import frames_of

ALERT_S = 8.0  # a toast goes this long after its last news
REDRAW_EVERY_S = 0.25  # a burst redraws a toast at most this often


@dataclass
class _News:
    panel: str  # the panel's title
    title: str
    message: str
    more: int  # urgent items besides the one shown
    severity: str  # "error" (priority 5) or "warning"
    until: float  # monotonic time it goes


class Alert(Static):
    """One panel's toast."""

    DEFAULT_CSS = """
    Alert {
        width: 56;
        max-width: 60%;
        height: auto;
        max-height: 5;
        margin-bottom: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        padding: 0 1;
        visibility: visible;
        background: $panel-lighten-1;
        border-left: outer $warning;
        &.-error { border-left: outer $error; }
    }
    """


class Alerts(Container):
    """The rack: top right, over the panels, one Alert per panel id (the bottom right is
    Textual's, for short notices such as "copied": the two never cover each other)."""

    DEFAULT_CSS = """
    Alerts {
        layer: alerts;
        dock: top;
        width: 1fr;
        height: auto;
        align: right top;
        visibility: hidden;
        margin-top: 2;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="alerts")
        self._news: dict[str, _News] = {}
        self._drawn: dict[str, float] = {}  # panel id -> when its toast was last redrawn
        self._redraw_due = False

    def on_unmount(self) -> None:
        frames_of(self.app).stop(self)

    def show(self, panel_id: str, panel: str, title: str, message: str, more: int, severity: str) -> None:
        """The panel's toast says this now (a later call replaces it, adding to `more`)."""
        before = self._news.get(panel_id)
        if before is not None:
            more += before.more + 1
        self._news[panel_id] = _News(panel, title, message, more, severity, time.monotonic() + ALERT_S)
        frames_of(self.app).every_second(self, self._expire)  # while a toast is up
        if time.monotonic() - self._drawn.get(panel_id, 0.0) >= REDRAW_EVERY_S:
            self._draw(panel_id)
        elif not self._redraw_due:
            self._redraw_due = True
            self.set_timer(REDRAW_EVERY_S, self._draw_all)

    def _draw_all(self) -> None:
        self._redraw_due = False
        for panel_id in list(self._news):
            self._draw(panel_id)

    def _draw(self, panel_id: str) -> None:
        news = self._news.get(panel_id)
        if news is None:
            return
        self._drawn[panel_id] = time.monotonic()
        text = Text.assemble((clean_line(news.panel), "dim"), " · ", (clean_line(news.title), "bold"))
        if news.message:
            text.append("\n" + clean_line(news.message)[:200])
        if news.more:
            text.append(f"\n+{news.more:,} more urgent", style="bold")
        found = self.query(f"#alert-{panel_id}")
        if found:
            alert = found.first(Alert)
            alert.update(text)
        else:
            alert = Alert(text, id=f"alert-{panel_id}")
            self.mount(alert)
        alert.set_class(news.severity == "error", "-error")

    def _expire(self) -> None:
        now = time.monotonic()
        for panel_id, news in list(self._news.items()):
            if now >= news.until:
                del self._news[panel_id]
                self._drawn.pop(panel_id, None)
                self.query(f"#alert-{panel_id}").remove()
        if not self._news:
            frames_of(self.app).stop(self)

    def on_click(self, event: events.Click) -> None:
        """A click on a toast dismisses it."""
        if isinstance(event.widget, Alert) and event.widget.id:
            event.stop()
            self.forget(event.widget.id.removeprefix("alert-"))

    def forget(self, panel_id: str) -> None:
        """The panel is gone: so is its toast."""
        self._news.pop(panel_id, None)
        self._drawn.pop(panel_id, None)
        self.query(f"#alert-{panel_id}").remove()
