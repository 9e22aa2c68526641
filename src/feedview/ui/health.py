"""The health panel: one row per check, updated once per frame at most."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from ..feeds.state import FeedState
from ..config import PanelConfig
from .frames import frames_of
from .panel import FeedPanel, PanelView
from .safe import clean_line

SPARK_BARS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 20
DOTS = {
    "healthy": ("●", "green"),
    "unstable": ("◐", "yellow"),
    "unhealthy": ("●", "red"),
    "unknown": ("○", "grey50"),
}
COLUMNS = (("", "dot"), ("check", "check"), ("status", "status"), ("latency", "latency"),
           ("recent", "recent"), ("uptime", "uptime"), ("next", "next"), ("last error", "error"))


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


def state_of(sample: Any) -> str:
    state = getattr(sample, "state", "unknown")
    if state == "unknown":
        return "healthy" if sample.ok else "unhealthy"
    return state


class HealthTable(PanelView, DataTable):
    BINDINGS = [Binding("enter", "open_detail", "Detail")]

    def __init__(self, config: PanelConfig) -> None:
        super().__init__(config, cursor_type="row", zebra_stripes=True)
        self.checks: dict[Any, CheckRow] = {}
        self._dirty: set[Any] = set()

    def on_mount(self) -> None:  # PanelView.on_mount (the feed) runs too
        for label, key in COLUMNS:
            self.add_column(label, key=key)
        frames_of(self.app).every_second(self, self._tick)

    async def consume(self, feed: AsyncIterator[Any]) -> None:
        async for item in feed:
            if isinstance(item, FeedState):
                self.show_state(item)
                continue
            check_id = getattr(item, "check_id", None)
            key = f"check-{check_id}" if check_id is not None else item.url
            row = self.checks.get(key)
            if row is None:
                row = self.checks[key] = CheckRow(item, (check_id if check_id is not None else 1 << 30, item.url))
            row.sample = item
            row.latencies.append(item.latency_ms if item.ok else None)
            self._dirty.add(key)
            self.request_flush()
            await self.share_loop()

    def flush_frame(self) -> None:
        if self.feed_state.phase != "open":
            self.show_state(FeedState("open"))
        now = self.clock()
        if any(key not in self.rows for key in self._dirty):
            # A new check: lay the rows out again in the checks' own order (once, at the start).
            cursor = self.cursor_row
            self.clear()
            for key, row in sorted(self.checks.items(), key=lambda item: item[1].order):
                self.add_row(*self._cells(row, now), key=key)
            self.move_cursor(row=cursor, animate=False)
        else:
            for key in self._dirty:
                for (_, column), value in zip(COLUMNS, self._cells(self.checks[key], now)):
                    self.update_cell(key, column, value, update_width=True)
        self._dirty.clear()
        self._summarise()

    def _tick(self) -> None:
        now = self.clock()
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
        return (
            Text(icon, style=colour),
            Text(clean_line(sample.name or sample.url)),
            Text(clean_line(status), style="" if sample.ok else "red"),
            Text(latency, justify="right"),
            sparkline(row.latencies),
            Text(uptime, justify="right"),
            self._next(sample, now),
            Text(clean_line(last_error)[:80], style="red" if not sample.ok else "dim"),
        )

    def _summarise(self) -> None:
        states = [state_of(r.sample) for r in self.checks.values()]
        detail = Text(f"{len(states)} checks: ", style="dim")
        detail.append(f"{states.count('healthy')} up", style="green")
        for word, style in (("unstable", "yellow"), ("unhealthy", "red")):
            if states.count(word):
                detail.append(f" · {states.count(word)} {'down' if word == 'unhealthy' else word}", style=style)
        self.show_detail(detail)

    def selected_check(self) -> Any:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        return self.checks[key].sample

    def action_open_detail(self) -> None:
        sample = self.selected_check()
        if sample is not None:
            from .screens.detail import health_detail

            self.app.push_screen(health_detail(sample, self.clock()))


class HealthPanel(FeedPanel):
    live_word = "checking"

    def make_view(self) -> HealthTable:
        return HealthTable(self.config)
