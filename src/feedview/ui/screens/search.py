"""The notifications panel's `/`: every stored item that holds the words typed, not only the
rows in memory (the history store's FTS5 index; without a store, the loaded rows).

Results are network text: each row is built as `Text` from cleaned strings, never markup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...text import clean_line

Results = list[tuple[Any, float]]  # (item, when received), newest first


class SearchScreen(ModalScreen[None]):
    """A search box over a list of results; enter opens one, escape closes."""

    CSS_PATH = "screens.tcss"
    AUTO_FOCUS = "#search-text"  # (the app's is None: its panels choose their focus)
    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(
        self,
        title: str,
        search: Callable[[str], Awaitable[Results]],
        row: Callable[[Any, float], Text],
        open_item: Callable[[Any, float], None],
        *,
        where: str,
    ) -> None:
        super().__init__()
        self.heading = title
        self.search = search
        self.row = row
        self.open_item = open_item
        self.where = where  # "the stored history" or "the loaded rows"
        self.results: Results = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="search-box") as box:
            box.border_title = f"search {clean_line(self.heading)} (escape to close)"
            yield Input(placeholder=f"words to find in {self.where}", id="search-text")
            yield Static("", id="search-count", classes="search-count")
            yield OptionList(id="search-results")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.run_worker(self._show(event.value), group="search", exclusive=True, exit_on_error=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.results:
            self.query_one(OptionList).focus()

    async def _show(self, text: str) -> None:
        results = await self.search(text) if text.strip() else []
        self.results = results
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(self.row(item, received)) for item, received in results])
        count = f"{len(results):,} found in {self.where}" if text.strip() else ""
        self.query_one("#search-count", Static).update(Text(count, style="dim"))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if 0 <= event.option_index < len(self.results):
            self.open_item(*self.results[event.option_index])
