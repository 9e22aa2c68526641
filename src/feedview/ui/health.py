"""The health panel: one row per check, updated once per frame at most.

The state line says how the checks stand ("● 3 of 4 healthy · every 10 s") while the
feed lives, and the feed's own final state once it has ended: a late repaint never
puts a live word over a dead feed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from ..config import PanelConfig
from ..feeds.state import FeedState
from .frames import frames_of
from .panel import FeedPanel, PanelView
from .safe import clean_line, redact_url, safe_text
from .screens.detail import DetailScreen
from .timefmt import stamp

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


@dataclass
class PastSamples:
    """A check's samples in the history store: its sparkline's start and its long uptime."""

    latencies: list[float | None]  # the newest SPARK_WIDTH, oldest first (None: a failure)
    passed: int
    total: int

    def add(self, ok: bool) -> None:
        self.passed += ok
        self.total += 1

    @property
    def uptime_pct(self) -> float:
        return 100.0 * self.passed / self.total if self.total else 0.0


def verdict_of(sample: Any) -> str:
    """What this one answer said (healthy, degraded, unhealthy): a stored sample's verdict."""
    return getattr(sample, "verdict", None) or ("healthy" if sample.ok else "unhealthy")


def past_samples(store: Any) -> dict[str, PastSamples]:
    """Per check URL: its newest latencies and its pass count over everything kept (blocking)."""
    past = {}
    for url, passed, total in store.sample_counts():
        latencies = [
            latency if verdict in ("healthy", "degraded") else None
            for _, _, latency, verdict, _ in store.samples(url, SPARK_WIDTH)
        ]
        past[url] = PastSamples(latencies, passed, total)
    return past


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


def check_name(sample: Any) -> str:
    """A check as shown: its name, else its URL without credentials."""
    return clean_line(sample.name) if sample.name else redact_url(sample.url)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def standing(states: list[str], intervals: list[float | None]) -> str:
    """The state line's words for live checks: "3 of 4 healthy · every 10 s"."""
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


class HealthTable(PanelView, DataTable):
    BINDINGS = [Binding("enter", "open_detail", "Detail")]

    def __init__(self, config: PanelConfig) -> None:
        super().__init__(config, cursor_type="row", zebra_stripes=True)
        self.checks: dict[Any, CheckRow] = {}
        self._dirty: set[Any] = set()
        self.store: Any = None  # this panel's part of the history store (feedview.store.history.PanelStore)
        self._resumed = False
        self._past: dict[str, PastSamples] = {}  # check URL (without credentials) -> what the store kept

    def on_mount(self) -> None:  # PanelView.on_mount (the feed) runs too
        for label, key in COLUMNS:
            self.add_column(label, key=key)
        frames_of(self.app).every_second(self, self._tick)

    async def resume(self) -> dict[str, Any]:
        """What the store kept of each check: its sparkline starts full and its uptime covers every
        stored sample (days, not the session)."""
        if not self._resumed:
            self._resumed = True
            self.store = await self.panel_store()
            if self.store is not None:
                self._past = await asyncio.to_thread(past_samples, self.store)
        return {}

    async def consume(self, feed: AsyncIterator[Any]) -> None:
        async for item in feed:
            if isinstance(item, FeedState):
                self.show_state(item)
                continue
            check_id = getattr(item, "check_id", None)
            key = f"check-{check_id}" if check_id is not None else item.url
            row = self.checks.get(key)
            url = redact_url(item.url)
            past = self._past.get(url)
            if row is None:
                row = self.checks[key] = CheckRow(item, (check_id if check_id is not None else 1 << 30, item.url))
                if past is not None:
                    row.latencies.extend(past.latencies)
            row.sample = item
            row.latencies.append(item.latency_ms if item.ok else None)
            if past is not None:
                past.add(item.ok)
            if self.store is not None:  # (the writer commits all that a round brings in one transaction)
                sample = (url, item.time, item.status_code, item.latency_ms, verdict_of(item), item.reason)
                self.store.add_samples([sample])
            self._dirty.add(key)
            self.request_flush()
            await self.share_loop()

    def flush_frame(self) -> None:
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
                for (_, column), value in zip(COLUMNS, self._cells(self.checks[key], now), strict=True):
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
        past = self._past.get(redact_url(sample.url))
        if past is not None and past.total:
            uptime = f"{past.uptime_pct:.1f}%"  # every stored sample, this session's included
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
        self.show_detail(detail)
        if not self.feed_state.final:  # a late repaint never puts a live word over a dead feed
            live = FeedState("open", standing(states, [getattr(s, "interval", None) for s in samples]))
            if live != self.feed_state:
                self.show_state(live)

    def selected_check(self) -> Any:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        return self.checks[key].sample

    def action_open_detail(self) -> None:
        sample = self.selected_check()
        if sample is not None:
            self.app.push_screen(health_detail(sample, self.clock()))


def health_detail(sample: Any, now: float) -> DetailScreen:
    """A check's last sample: its state (coloured as in the table), what the answer said and
    in which format, and the rolling stats. The URL is shown, and linked, without credentials."""
    stats = sample.stats
    ms = lambda v: Text("" if v is None else f"{v:,.0f} ms")  # noqa: E731
    icon, colour = DOTS.get(sample.state, DOTS["unknown"])
    verdict = getattr(sample, "verdict", None)
    fields = [
        ("url", Text(redact_url(sample.url), no_wrap=True)),
        ("state", Text(f"{icon} {sample.state}", style=colour)),
        ("last answer", Text(verdict or "")),
        ("read as", safe_text(getattr(sample, "format", None) or "", one_line=True)),
        ("last check", Text(stamp(sample.time, now))),
        ("status", Text("" if sample.status_code is None else str(sample.status_code))),
        ("latency", ms(sample.latency_ms)),
        ("error" if not sample.ok else "note", safe_text(sample.reason or "", one_line=True)),
    ]
    if stats is not None:
        fields += [
            ("uptime", Text("" if stats.uptime_pct is None else f"{stats.uptime_pct:.2f}% of {stats.window} checks")),
            ("p50 / p95", Text(f"{ms(stats.p50_ms)} / {ms(stats.p95_ms)}")),
            ("last error", safe_text(stats.last_error or "", one_line=True)),
            ("state since", Text(stamp(stats.last_change, now))),
        ]
    title = Text(check_name(sample), style="bold", no_wrap=True)
    return DetailScreen(title, fields, link=_without_credentials(sample.url))


def _without_credentials(url: str) -> str | None:
    """The URL to open or copy: userinfo left out (a browser asks for it), None if unusable."""
    import httpx

    try:
        return str(httpx.URL(url).copy_with(userinfo=b""))
    except (httpx.InvalidURL, TypeError, ValueError):
        return None


class HealthPanel(FeedPanel):
    live_word = "checking"

    def make_view(self) -> HealthTable:
        return HealthTable(self.config)
