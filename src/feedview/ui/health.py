"""The health panel: one row per check, updated once per frame at most.

The state line says how the checks stand ("● 3 of 4 healthy · every 10 s") while the
feed lives, and the feed's own final state once it has ended: a late repaint never
puts a live word over a dead feed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from ..feeds.state import FeedState
from .panel import FRAME_S, FeedPanel, PanelView
from .safe import clean_line, redact_url

SPARK_BARS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 20
DOTS = {
    "healthy": ("●", "green"),
    "degraded": ("●", "yellow"),
    "unstable": ("◐", "yellow"),
    "unhealthy": ("●", "red"),
    "unknown": ("○", "grey50"),
}
COLUMNS = (
    ("", "dot"),
    ("check", "check"),
    ("status", "status"),
    ("latency", "latency"),
    ("recent", "recent"),
    ("uptime", "uptime"),
    ("next", "next"),
    ("last error", "error"),
)


@dataclass
class CheckRow:
    sample: Any
    order: tuple[int, str]  # the check's place in the feed's list
    latencies: deque[float | None] = field(default_factory=lambda: deque(maxlen=SPARK_WIDTH))


def sparkline(latencies: deque[float | None]) -> Text:
    known = [v for v in latencies if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    spark = Text()
    for value in latencies:
        if value is None:
            spark.append("✕", style="red")
        else:
            level = 0 if high == low else round((value - low) / (high - low) * (len(SPARK_BARS) - 1))
            spark.append(SPARK_BARS[level], style="cyan")
    return spark


def check_name(sample: Any) -> str:
    """A check as shown: its name, else its URL without credentials."""
    return clean_line(sample.name) if sample.name else redact_url(sample.url)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def standing(states: list[str], intervals: list[float | None]) -> str:
    """The state line's words for live checks: "3 of 4 healthy · every 10 s"."""
    if not states:
        return HealthPanel.live_word_before_samples
    if len(states) == 1:
        health = states[0]
    elif states.count("healthy") == len(states):
        health = f"all {len(states)} healthy"
    else:
        health = f"{states.count('healthy')} of {len(states)} healthy"
    known = sorted({i for i in intervals if i})
    if not known:
        return health
    every = f"{known[0]:g}" if len(known) == 1 else f"{known[0]:g}–{known[-1]:g}"
    return f"{health} · every {every} s"


def state_of(sample: Any) -> str:
    state = getattr(sample, "state", "unknown")
    if state == "unknown":
        return "healthy" if sample.ok else "unhealthy"
    return state


class HealthTable(PanelView, DataTable):
    BINDINGS = [Binding("enter", "open_detail", "Detail")]

    panel: HealthPanel

    def __init__(self, panel: HealthPanel) -> None:
        super().__init__(panel, cursor_type="row", zebra_stripes=True)
        self.checks: dict[Any, CheckRow] = {}
        self._dirty: set[Any] = set()
        self._flush_pending = False

    def on_mount(self) -> None:  # PanelView.on_mount (the feed) runs too
        for label, key in COLUMNS:
            self.add_column(label, key=key)
        self.set_interval(1.0, self._tick)

    async def consume(self, feed: AsyncIterator[Any]) -> None:
        async for item in feed:
            if isinstance(item, FeedState):
                self.panel.show_state(item)
                continue
            check_id = getattr(item, "check_id", None)
            key = f"check-{check_id}" if check_id is not None else item.url
            row = self.checks.get(key)
            if row is None:
                row = self.checks[key] = CheckRow(item, (check_id if check_id is not None else 1 << 30, item.url))
            row.sample = item
            row.latencies.append(item.latency_ms if item.ok else None)
            self._dirty.add(key)
            if not self._flush_pending:
                self._flush_pending = True
                self.set_timer(FRAME_S, self._flush)
            await self.share_loop()

    def _flush(self) -> None:
        self._flush_pending = False
        if not self.panel.state.final and self.panel.state.phase != "open":
            self.panel.show_state(FeedState("open"))
        now = self.panel.clock()
        if any(key not in self.rows for key in self._dirty):
            # A new check: lay the rows out again in the checks' own order (once, at the start).
            cursor = self.cursor_row
            self.clear()
            for key, row in sorted(self.checks.items(), key=lambda item: item[1].order):
                self.add_row(*self._cells(row, now), key=key)
            self.move_cursor(row=cursor, animate=False)
        else:
            for key in self._dirty:
                for (_, column), value in zip(COLUMNS, self._cells(self.checks[key], now), strict=True):
                    self.update_cell(key, column, value, update_width=True)
        self._dirty.clear()
        self._summarise()

    def _tick(self) -> None:
        now = self.panel.clock()
        for key, row in self.checks.items():
            if key in self.rows:  # a check seen since the last flush gets its row at the next one
                self.update_cell(key, "next", self._next(row.sample, now), update_width=True)

    @staticmethod
    def _next(sample: Any, now: float) -> Text:
        if sample.next_at is None:
            return Text("")
        return Text(f"in {max(0, round(sample.next_at - now))} s", style="dim")

    def _cells(self, row: CheckRow, now: float) -> tuple[Text, ...]:
        sample = row.sample
        icon, colour = DOTS[state_of(sample)]
        stats = sample.stats
        uptime = "" if stats is None or stats.uptime_pct is None else f"{stats.uptime_pct:.1f}%"
        latency = "" if sample.latency_ms is None else f"{sample.latency_ms:,.0f} ms"
        status = str(sample.status_code) if sample.status_code is not None else (sample.error_kind or "")
        last_error = sample.reason or (stats.last_error if stats else None) or ""
        error_style = "red" if not sample.ok else "yellow" if sample.reason else "dim"
        return (
            Text(icon, style=colour),
            Text(check_name(sample)),
            Text(clean_line(status), style="" if sample.ok else "red"),
            Text(latency, justify="right"),
            sparkline(row.latencies),
            Text(uptime, justify="right"),
            self._next(sample, now),
            Text(clean_line(last_error)[:80], style=error_style),
        )

    def _summarise(self) -> None:
        samples = [r.sample for r in self.checks.values()]
        states = [state_of(s) for s in samples]
        detail = Text(f"{plural(len(states), 'check')}: ", style="dim")
        detail.append(f"{states.count('healthy')} up", style="green")
        for word, style in (("degraded", "yellow"), ("unstable", "yellow"), ("unhealthy", "red")):
            if states.count(word):
                detail.append(f" · {states.count(word)} {'down' if word == 'unhealthy' else word}", style=style)
        self.panel.show_detail(detail)
        self.panel.set_summary(standing(states, [getattr(s, "interval", None) for s in samples]))

    def selected_check(self) -> Any:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        return self.checks[key].sample

    def action_open_detail(self) -> None:
        sample = self.selected_check()
        if sample is not None:
            from .screens.detail import health_detail

            self.app.push_screen(health_detail(sample, self.panel.clock()))


class HealthPanel(FeedPanel):
    live_word_before_samples = "checking"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._summary = self.live_word_before_samples
        super().__init__(*args, **kwargs)

    @property
    def live_word(self) -> str:  # FeedPanel's state line shows this while the feed is open
        return self._summary

    @live_word.setter
    def live_word(self, summary: str) -> None:
        self._summary = summary

    def set_summary(self, summary: str) -> None:
        if summary != self._summary:
            self.live_word = summary
            self.show_state(self.state)  # the same state, its line written again

    def make_view(self) -> HealthTable:
        return HealthTable(self)
