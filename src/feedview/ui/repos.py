"""The repos panel: GitHub repositories one page at a time.

The feed is lazy (one page per `__anext__`), so the worker pulls only what the
user is about to see: the current page and the one after it (the prefetch that
makes `n` instant). Pages already seen are kept and shown from memory.
"""

from __future__ import annotations

import asyncio
import math
import webbrowser
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, LoadingIndicator

from ..feeds.state import FeedState
from .panel import FeedPanel, PanelView
from .safe import clean_line

OWNER_SORTS = (None, "updated", "pushed", "created", "full_name")
SEARCH_SORTS = (None, "stars", "forks", "updated")
SORT_NAMES = {None: "default", "full_name": "name"}


def ago(iso: str | None, now: float) -> str:
    if not iso:
        return ""
    try:
        then = datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return clean_line(iso)
    delta = max(0, now - then)
    for size, unit in ((365 * 86400, "y"), (30 * 86400, "mo"), (86400, "d"), (3600, "h"), (60, "m")):
        if delta >= size:
            return f"{int(delta // size)}{unit} ago"
    return "just now"


def is_web_url(url: str | None) -> bool:
    """Only http(s) links from the network are opened: never file:, javascript: or others."""
    return isinstance(url, str) and url.lower().startswith(("https://", "http://"))


def open_in_browser(app: Any, url: str | None) -> None:
    if not is_web_url(url):
        app.notify("no web link to open", severity="warning")
        return
    # webbrowser can block while it starts a browser: keep the event loop free.
    asyncio.get_running_loop().run_in_executor(None, webbrowser.open, url)
    app.notify(clean_line(url), title="opened in your browser", markup=False)


def copy_url(app: Any, url: str | None) -> None:
    if not url:
        app.notify("no link to copy", severity="warning")
        return
    app.copy_to_clipboard(url)
    app.notify(clean_line(url), title="copied", markup=False)


class RepoTable(PanelView, DataTable):
    """The table of one page of repositories (or the loaded rows that match the filter)."""

    BINDINGS = [
        Binding("n", "page(1)", "Next page"),
        Binding("p", "page(-1)", "Prev page"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("enter", "open_detail", "Detail"),
        Binding("o", "open_browser", "Open"),
        Binding("y", "copy_url", "Copy URL"),
    ]

    def __init__(self, panel: FeedPanel) -> None:
        super().__init__(panel, cursor_type="row", zebra_stripes=True)
        self.pages: dict[int, Any] = {}  # page number -> RepoPage
        self.current = 1
        self.newest_page: Any = None  # the last page the feed gave
        self.filter_text = ""
        self.sort: str | None = panel.config.options.get("sort")
        self.rate: Any = None
        self._demand = asyncio.Event()
        self._shown: list[Any] = []  # repos in row order
        self._fetching = False

    @property
    def fetching(self) -> bool:
        """Waiting for the page to show. (Not Textual's `loading`: that takes the focus away.)"""
        return self._fetching

    @fetching.setter
    def fetching(self, value: bool) -> None:
        self._fetching = value
        self.panel.show_loading(value)

    def on_mount(self) -> None:  # PanelView.on_mount (the feed) runs too
        self.add_column("name", key="name")
        self.add_column(Text("★", justify="right"), key="stars")
        self.add_column("language", key="language")
        self.add_column("updated", key="updated")
        self.add_column("description", key="description")
        self.fetching = True

    @property
    def searching(self) -> bool:
        return bool(self.panel.config.options.get("search"))

    # -- the feed ---------------------------------------------------------------------------

    def _wants_page(self) -> bool:
        newest = self.newest_page
        return newest is None or (newest.has_next and newest.number < self.current + 1)

    async def consume(self, feed: AsyncIterator[Any]) -> None:
        while True:
            while not self._wants_page():
                self._demand.clear()
                await self._demand.wait()
            try:
                item = await anext(feed)
            except StopAsyncIteration:
                self.fetching = False
                return
            if isinstance(item, FeedState):
                self.panel.show_state(item)
                if item.final:
                    self.fetching = False
                continue
            if self.panel.state.phase != "open":
                self.panel.show_state(FeedState("open"))
            self.pages[item.number] = item
            self.newest_page = item
            self.rate = item.rate
            if item.number == self.current or self.filter_text:
                self._show()
            self._show_detail()

    # -- showing ----------------------------------------------------------------------------

    def _rows(self) -> list[Any]:
        if not self.filter_text:
            page = self.pages.get(self.current)
            return list(page.repos) if page else []
        needle = self.filter_text.casefold()
        return [
            repo
            for number in sorted(self.pages)
            for repo in self.pages[number].repos
            if needle in f"{repo.full_name} {repo.description or ''} {repo.language or ''} {' '.join(repo.topics)}".casefold()
        ]

    def _show(self, cursor: int = 0) -> None:
        have_page = self.current in self.pages or bool(self.filter_text)
        self.fetching = not have_page
        if not have_page:
            return
        now = self.panel.clock()
        self._shown = self._rows()
        self.clear()
        self.add_rows(self._row(repo, now) for repo in self._shown)
        if self._shown:
            self.move_cursor(row=max(0, min(cursor, len(self._shown) - 1)), animate=False)
        self._show_detail()

    def _row(self, repo: Any, now: float) -> tuple[Text, ...]:
        name = Text(clean_line(repo.name), style="bold")
        if repo.archived:
            name.append(" archived", style="dim")
        if repo.fork:
            name.append(" fork", style="dim")
        description = clean_line(repo.description or "")
        return (
            name,
            Text(f"{repo.stargazers_count:,}", justify="right"),
            Text(clean_line(repo.language or "")),
            Text(ago(repo.updated_at or repo.pushed_at, now), style="dim"),
            Text(description[:90] + ("…" if len(description) > 90 else "")),
        )

    def _show_detail(self) -> None:
        page = self.pages.get(self.current)
        detail = Text(style="dim")
        if self.filter_text:
            loaded = sum(len(p.repos) for p in self.pages.values())
            detail.append(f"filter {clean_line(self.filter_text)!r}: {len(self._shown)} of {loaded} loaded · ")
        last = self.newest_page.last_page if self.newest_page else None
        if last is None and self.newest_page is not None and not self.newest_page.has_next:
            last = self.newest_page.number
        detail.append(f"page {self.current} of {last if last else '?'}")
        if page is not None and page.total_count is not None:
            detail.append(f" · {page.total_count:,} results")
            if page.capped:
                detail.append(" (GitHub shows the first 1,000)")
            if page.incomplete_results:
                detail.append(" (incomplete)")
        detail.append(f" · sort: {SORT_NAMES.get(self.sort, self.sort)}")
        rate = self.rate
        if rate is not None and rate.remaining is not None:
            detail.append(" · API ")
            low = rate.limit and rate.remaining < max(1, rate.limit // 10)
            detail.append(f"{rate.remaining:,}/{rate.limit:,}" if rate.limit else f"{rate.remaining:,}",
                          style="bold red" if low else "")
            if rate.reset:
                minutes = max(0, math.ceil((rate.reset - self.panel.clock()) / 60))
                detail.append(f" · resets in {minutes} min")
            if rate.limit == 60:
                detail.append(" (unauthenticated: set GH_TOKEN)")
        self.panel.show_detail(detail)

    # -- actions ----------------------------------------------------------------------------

    def action_page(self, delta: int, cursor: int = 0) -> None:
        target = self.current + delta
        if target < 1:
            self.app.bell()
            return
        newest = self.newest_page
        if delta > 0 and target not in self.pages and (newest is None or not newest.has_next or target > newest.number + 1):
            if newest is not None and not newest.has_next:
                self.app.bell()
            return
        self.current = target
        self._demand.set()
        self._show(cursor)

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1 and not self.filter_text:
            self.action_page(1)
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.cursor_row <= 0 and self.current > 1 and not self.filter_text:
            self.action_page(-1, cursor=10**6)
        else:
            super().action_cursor_up()

    def action_cycle_sort(self) -> None:
        sorts = SEARCH_SORTS if self.searching else OWNER_SORTS
        self.sort = sorts[(sorts.index(self.sort) + 1) % len(sorts)] if self.sort in sorts else sorts[0]
        self.pages = {}
        self.newest_page = None
        self.current = 1
        self.clear()
        self.fetching = True
        self._demand = asyncio.Event()
        self.start_feed(sort=self.sort)
        self._show_detail()

    def action_filter(self) -> None:
        self.panel.open_filter()

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip()
        self._show()

    def selected_repo(self) -> Any:
        if 0 <= self.cursor_row < len(self._shown):
            return self._shown[self.cursor_row]
        return None

    def action_open_detail(self) -> None:
        repo = self.selected_repo()
        if repo is not None:
            from .screens.detail import repo_detail

            self.app.push_screen(repo_detail(repo, self.panel.clock()))

    def action_select_cursor(self) -> None:
        self.action_open_detail()

    def action_open_browser(self) -> None:
        repo = self.selected_repo()
        open_in_browser(self.app, repo.html_url if repo else None)

    def action_copy_url(self) -> None:
        repo = self.selected_repo()
        copy_url(self.app, repo.html_url if repo else None)


class ReposPanel(FeedPanel):
    live_word = "connected"

    def make_view(self) -> RepoTable:
        return RepoTable(self)

    def compose_extra(self) -> ComposeResult:
        filter_input = Input(placeholder="filter the loaded repos (enter: done, escape: clear)", classes="filter")
        filter_input.display = False
        yield filter_input
        yield LoadingIndicator(classes="page-loading")  # page 1 is on its way

    def show_loading(self, loading: bool) -> None:
        for indicator in self.query(".page-loading"):
            indicator.display = loading

    def open_filter(self) -> None:
        filter_input = self.query_one(".filter", Input)
        filter_input.display = True
        filter_input.focus()

    @on(Input.Changed, ".filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.view.set_filter(event.value)

    @on(Input.Submitted, ".filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.input.display = bool(event.value.strip())
        self.view.focus()

    def on_key(self, event) -> None:
        filter_input = self.query_one(".filter", Input)
        if event.key == "escape" and filter_input.has_focus:
            event.stop()
            filter_input.value = ""
            filter_input.display = False
            self.view.set_filter("")
            self.view.focus()
