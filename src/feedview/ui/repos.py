"""The repos panel: GitHub repositories one page at a time.

The feed is lazy (one page per `__anext__`), so the worker pulls only what the
user is about to see: the current page and the one after it (the prefetch that
makes `n` instant). Pages already seen are kept and shown from memory.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input, LoadingIndicator

from ..config import PanelConfig
from ..feeds.state import FeedState
from ..text import clean_line
from .links import copy_link, open_link
from .panel import FeedPanel, PanelView
from .safe import safe_text
from .screens.detail import DetailScreen
from .timefmt import ago, parse_iso, stamp

OWNER_SORTS = (None, "updated", "pushed", "created", "full_name")
SEARCH_SORTS = (None, "stars", "forks", "updated")
SORT_NAMES = {None: "default", "full_name": "name"}


class RepoTable(PanelView, DataTable):
    """The table of one page of repositories (or the loaded rows that match the filter)."""

    class Loading(Message):
        """The page to show is on its way (or no more): the panel shows or hides its loading bar."""

        def __init__(self, loading: bool) -> None:
            super().__init__()
            self.loading = loading

    class FilterRequested(Message):
        """The user asked to filter the loaded rows (the panel opens its filter box)."""

    BINDINGS = [
        Binding("n", "page(1)", "Next page"),
        Binding("p", "page(-1)", "Prev page"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("enter", "open_detail", "Detail"),
        Binding("o", "open_browser", "Open"),
        Binding("y", "copy_url", "Copy URL"),
    ]

    def __init__(self, config: PanelConfig) -> None:
        super().__init__(config, cursor_type="row", zebra_stripes=True)
        self.pages: dict[int, Any] = {}  # page number -> RepoPage
        self.current = 1
        self.newest_page: Any = None  # the last page the feed gave
        self.filter_text = ""
        self.ordering: str | None = config.options.get("sort")  # the sort asked of GitHub
        self.rate: Any = None
        self._demand = asyncio.Event()
        self._shown: list[Any] = []  # repos in row order
        self._fetching = False
        self._pages_cache: Any = None  # feedview.store.items.StoredPages, with a history store
        self._resumed = False

    @property
    def fetching(self) -> bool:
        """Waiting for the page to show. (Not Textual's `loading`: that takes the focus away.)"""
        return self._fetching

    @fetching.setter
    def fetching(self, value: bool) -> None:
        if value != self._fetching:
            self._fetching = value
            self.post_message(self.Loading(value))

    def on_mount(self) -> None:  # PanelView.on_mount (the feed) runs too
        self.add_column("name", key="name")
        self.add_column(Text("★", justify="right"), key="stars")
        self.add_column("language", key="language")
        self.add_column("updated", key="updated")
        self.add_column("description", key="description")
        self._fetching = True  # the panel starts with its loading bar shown

    @property
    def searching(self) -> bool:
        return bool(self.config.options.get("search"))

    # -- the feed ---------------------------------------------------------------------------

    def _wants_page(self) -> bool:
        newest = self.newest_page
        return newest is None or (newest.has_next and newest.number < self.current + 1)

    def show_state(self, state: FeedState) -> None:
        super().show_state(state)
        if state.final:
            self.fetching = False  # no page is coming: the loading bar stops (it cost 7 % of a core)

    async def resume(self) -> dict[str, Any]:
        """Pages the store kept, with their ETags: reopening (or re-sorting) asks If-None-Match,
        and an unchanged page costs a 304, not rate limit."""
        if not self._resumed:
            self._resumed = True
            store = await self.panel_store()
            if store is not None:
                from ..store.items import StoredPages

                self._pages_cache = await asyncio.to_thread(StoredPages, store)
        return {"cache": self._pages_cache} if self._pages_cache is not None else {}

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
                self.show_state(item)
                if item.final:
                    self.fetching = False
                continue
            if self.feed_state.phase != "open":
                self.show_state(FeedState("open"))
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
            if needle
            in f"{repo.full_name} {repo.description or ''} {repo.language or ''} {' '.join(repo.topics)}".casefold()
        ]

    def _show(self, cursor: int = 0) -> None:
        have_page = self.current in self.pages or bool(self.filter_text)
        self.fetching = not have_page
        if not have_page:
            return
        now = self.clock()
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
            Text(ago(parse_iso(repo.updated_at or repo.pushed_at), now), style="dim"),
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
        detail.append(f"page {self.current} of {last or '?'}")
        if page is not None and page.total_count is not None:
            detail.append(f" · {page.total_count:,} results")
            if page.capped:
                detail.append(" (GitHub shows the first 1,000)")
            if page.incomplete_results:
                detail.append(" (incomplete)")
        detail.append(f" · sort: {SORT_NAMES.get(self.ordering, self.ordering)}")
        rate = self.rate
        if rate is not None and rate.remaining is not None:
            detail.append(" · API ")
            low = rate.limit and rate.remaining < max(1, rate.limit // 10)
            detail.append(
                f"{rate.remaining:,}/{rate.limit:,}" if rate.limit else f"{rate.remaining:,}",
                style="bold red" if low else "",
            )
            if rate.reset:
                minutes = max(0, math.ceil((rate.reset - self.clock()) / 60))
                detail.append(f" · resets in {minutes} min")
            if rate.limit == 60:
                from ..feeds.github_client import DEFAULT_BASE_URL, token_variable

                variable = token_variable(self.config.options.get("base_url") or DEFAULT_BASE_URL)
                detail.append(f" (unauthenticated: set {variable})")
        self.show_detail(detail)

    # -- actions ----------------------------------------------------------------------------

    def action_page(self, delta: int, cursor: int = 0) -> None:
        target = self.current + delta
        if target < 1:
            self.app.bell()
            return
        newest = self.newest_page
        if (
            delta > 0
            and target not in self.pages
            and (newest is None or not newest.has_next or target > newest.number + 1)
        ):
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
        self.ordering = sorts[(sorts.index(self.ordering) + 1) % len(sorts)] if self.ordering in sorts else sorts[0]
        self.pages = {}
        self.newest_page = None
        self.current = 1
        self.clear()
        self.fetching = True
        self._demand = asyncio.Event()
        self.start_feed(sort=self.ordering)
        self._show_detail()

    def action_filter(self) -> None:
        self.post_message(self.FilterRequested())

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
            self.app.push_screen(repo_detail(repo, self.clock()))

    def action_select_cursor(self) -> None:
        self.action_open_detail()

    async def action_open_browser(self) -> None:
        repo = self.selected_repo()
        await open_link(self.app, repo.html_url if repo else None)

    def action_copy_url(self) -> None:
        repo = self.selected_repo()
        copy_link(self.app, repo.html_url if repo else None)


def repo_detail(repo: Any, now: float) -> DetailScreen:
    def date(iso: str | None) -> Text:
        when = parse_iso(iso)
        return Text(stamp(when, now)) if when is not None else safe_text(iso or "", one_line=True)

    flags = [flag for flag, on in (("fork", repo.fork), ("archived", repo.archived)) if on]
    fields = [
        ("description", safe_text(repo.description or "")),
        ("topics", safe_text(", ".join(repo.topics), one_line=True)),
        ("language", safe_text(repo.language or "", one_line=True)),
        ("license", safe_text(repo.license or "none", one_line=True)),
        ("stars", Text(f"{repo.stargazers_count:,}")),
        ("forks", Text(f"{repo.forks_count:,}")),
        ("open issues", Text(f"{repo.open_issues_count:,}")),
        ("visibility", safe_text(repo.visibility or "", one_line=True)),
        *([("flags", Text(", ".join(flags)))] if flags else []),
        ("created", date(repo.created_at)),
        ("updated", date(repo.updated_at)),
        ("pushed", date(repo.pushed_at)),
        ("url", safe_text(repo.html_url, "underline", one_line=True)),
    ]
    return DetailScreen(safe_text(repo.full_name, "bold", one_line=True), fields, link=repo.html_url)


class ReposPanel(FeedPanel):
    view: RepoTable

    live_word = "connected"

    def make_view(self) -> RepoTable:
        return RepoTable(self.config)

    def compose_extra(self) -> ComposeResult:
        filter_input = Input(placeholder="filter the loaded repos (enter: done, escape: clear)", classes="filter")
        filter_input.display = False
        yield filter_input
        yield LoadingIndicator(classes="page-loading")  # page 1 is on its way

    def on_repo_table_loading(self, message: RepoTable.Loading) -> None:
        message.stop()
        for indicator in self.query(".page-loading"):
            indicator.display = message.loading

    def on_repo_table_filter_requested(self, message: RepoTable.FilterRequested) -> None:
        message.stop()
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

    def on_key(self, event: events.Key) -> None:
        filter_input = self.query_one(".filter", Input)
        if event.key == "escape" and filter_input.has_focus:
            event.stop()
            filter_input.value = ""
            filter_input.display = False
            self.view.set_filter("")
            self.view.focus()
