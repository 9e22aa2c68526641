"""Detail views: a modal over the dashboard, closed with escape.

Everything shown here came from the network, so every value goes through
`safe_text` (or is built as `Text`), never through markup.
"""

from __future__ import annotations

import json
from typing import Any

from rich.highlighter import JSONHighlighter
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from ..links import copy_link, open_link
from ..safe import clean, safe_text
from ..timefmt import stamp


class DetailScreen(ModalScreen[None]):
    """A titled list of fields, a body and the raw JSON; `o` opens and `y` copies the link."""

    CSS_PATH = "screens.tcss"
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close"),
        Binding("o", "open_link", "Open link"),
        Binding("y", "copy_link", "Copy link"),
    ]

    def __init__(self, title: Text, fields: list[tuple[str, Text]], *, body: Text | None = None,
                 raw: Any = None, link: str | None = None) -> None:
        super().__init__()
        self.heading = title
        self.fields = fields
        self.body = body
        self.raw = raw
        self.link = link

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="detail-box") as box:
            box.border_title = "detail (escape to close)"
            yield Static(self.heading, classes="detail-title")
            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold", no_wrap=True)
            table.add_column()
            for label, value in self.fields:
                table.add_row(label, value)
            yield Static(table, classes="detail-fields")
            if self.body is not None and self.body.plain:
                yield Static(self.body, classes="detail-body")
            if self.raw is not None:
                raw = json.dumps(self.raw, indent=2, ensure_ascii=False, default=str)
                yield Static(Text("raw JSON", style="bold"), classes="detail-raw-title")
                yield Static(JSONHighlighter()(Text(clean(raw))), classes="detail-raw")
        yield Footer()

    async def action_open_link(self) -> None:
        await open_link(self.app, self.link)

    def action_copy_link(self) -> None:
        copy_link(self.app, self.link)


def health_detail(sample: Any, now: float) -> DetailScreen:
    stats = sample.stats
    ms = lambda v: Text("" if v is None else f"{v:,.0f} ms")  # noqa: E731
    fields = [
        ("url", safe_text(sample.url, one_line=True)),
        ("state", Text(sample.state)),
        ("last check", Text(stamp(sample.time, now))),
        ("status", Text("" if sample.status_code is None else str(sample.status_code))),
        ("latency", ms(sample.latency_ms)),
        ("error", safe_text(sample.reason or "", one_line=True)),
    ]
    if stats is not None:
        fields += [
            ("uptime", Text("" if stats.uptime_pct is None else f"{stats.uptime_pct:.2f}% of {stats.window} checks")),
            ("p50 / p95", Text(f"{ms(stats.p50_ms)} / {ms(stats.p95_ms)}")),
            ("last error", safe_text(stats.last_error or "", one_line=True)),
            ("state since", Text(stamp(stats.last_change, now))),
        ]
    title = safe_text(sample.name or sample.url, "bold", one_line=True)
    return DetailScreen(title, fields, link=sample.url)
