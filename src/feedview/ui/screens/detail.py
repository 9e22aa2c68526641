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
from ..safe import clean


class DetailScreen(ModalScreen[None]):
    """A titled list of fields, a body and the raw JSON; `o` opens and `y` copies the link."""

    CSS_PATH = "screens.tcss"
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close"),
        Binding("o", "open_link", "Open link"),
        Binding("y", "copy_link", "Copy link"),
    ]

    def __init__(
        self,
        title: Text,
        fields: list[tuple[str, Text]],
        *,
        body: Text | None = None,
        raw: Any = None,
        link: str | None = None,
    ) -> None:
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
