"""The repos panel on the real GitHub pages feed and the lab's catalogue."""

from __future__ import annotations

import pytest
from scripted import RecordingApp, screen_text
from servers import wait_until

from feedview.config import PanelConfig
from feedview.ui.repos import RepoTable
from feedview.ui.screens.detail import DetailScreen

NOW = 1_767_225_600.0  # 2026-01-01 UTC: the catalogue's dates are fixed, so ages are too


def repos_app(lab, **options) -> RecordingApp:
    options = {"owner": "octo-org", "org": True, "base_url": lab.base_url, "token": lab.config.token, **options}
    return RecordingApp([PanelConfig("repos", "octo-org", options)], clock=lambda: NOW)


def page_requests(lab) -> list[str]:
    return [f"{r.path}?{r.query}" for r in lab.state.requests if "repos" in r.path]


async def loaded(table: RepoTable, pages: int) -> None:
    await wait_until(lambda: len(table.pages) >= pages and not table.fetching, message=f"{pages} pages loaded")


async def test_pages_from_the_link_header_prefetch_and_memory(lab):
    app = repos_app(lab)
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.query_one(RepoTable)
        await loaded(table, 2)  # page 1 shown, page 2 prefetched
        assert "page 1 of 42" in screen_text(app)
        assert table.row_count == 30
        first_row = table.get_row_at(0)[0].plain
        await pilot.press("n")
        assert table.current == 2 and not table.fetching  # instant: it was prefetched
        assert table.get_row_at(0)[0].plain != first_row
        await loaded(table, 3)  # the next one is fetched behind the scenes
        requests = len(page_requests(lab))
        assert requests == 3
        await pilot.press("p")
        assert table.current == 1 and table.get_row_at(0)[0].plain == first_row
        await pilot.pause()  # the process idle: a fetch the key started would be under way or done
        assert not table.fetching and len(page_requests(lab)) == requests  # page 1 came from memory
        await pilot.press("p")  # nothing before page 1
        assert table.current == 1
        text = screen_text(app)
        assert "page 1 of 42" in text and "API 4,99" in text and "/5,000" in text and "resets in" in text


async def test_paging_past_the_last_and_first_row(lab):
    app = repos_app(lab)
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.query_one(RepoTable)
        await loaded(table, 2)
        table.move_cursor(row=table.row_count - 1)
        await pilot.press("down")
        assert table.current == 2 and table.cursor_row == 0
        await pilot.press("up")
        assert table.current == 1 and table.cursor_row == table.row_count - 1


async def test_filter_narrows_the_loaded_rows_and_escape_clears_it(lab):
    app = repos_app(lab)
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.query_one(RepoTable)
        await loaded(table, 2)
        loaded_names = [r.name for p in table.pages.values() for r in p.repos]
        await pilot.press("slash")
        await pilot.press(*"cli")
        expected = [
            r.name
            for p in sorted(table.pages)
            for r in table.pages[p].repos
            if "cli" in f"{r.full_name} {r.description or ''} {r.language or ''} {' '.join(r.topics)}".lower()
        ]
        assert 0 < table.row_count == len(expected) < len(loaded_names)
        assert f"filter 'cli': {len(expected)} of {len(loaded_names)} loaded" in screen_text(app)
        await pilot.press("enter")
        assert app.focused is table
        await pilot.press("slash", "escape")
        assert table.row_count == 30 and table.filter_text == ""


async def test_s_cycles_the_sort_and_refetches(lab):
    app = repos_app(lab)
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.query_one(RepoTable)
        await loaded(table, 2)
        await pilot.press("s")
        await loaded(table, 1)
        assert table.ordering == "updated"
        assert any("sort=updated" in r for r in page_requests(lab))
        assert "sort: updated" in screen_text(app)
        await pilot.press("s")
        await loaded(table, 1)
        assert table.ordering == "pushed"


async def test_enter_detail_o_opens_the_browser_y_copies(lab, browser):
    app = repos_app(lab)
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.query_one(RepoTable)
        await loaded(table, 1)
        repo = table.selected_repo()
        await pilot.press("y")
        assert app.clipboard == repo.html_url
        await pilot.press("o")
        await wait_until(lambda: browser.opened() == [repo.html_url])
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        await pilot.pause()
        text = screen_text(app)
        assert repo.full_name in text and "license" in text and "open issues" in text and "created" in text
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0]


async def test_unknown_owner_shows_the_error_on_the_panel(lab):
    app = repos_app(lab, owner="nobody-here", org=False)
    async with app.run_test(size=(140, 20)) as pilot:
        await wait_until(lambda: app.panels[0].state.phase == "error")
        await pilot.pause()
        assert "✖ error: not found (404)" in screen_text(app)


@pytest.mark.parametrize("query", ["org:octo-org language:Python"])
async def test_search_shows_result_count(lab, query):
    app = RecordingApp(
        [PanelConfig("repos", "search", {"search": query, "base_url": lab.base_url, "token": lab.config.token})],
        clock=lambda: NOW,
    )
    async with app.run_test(size=(140, 20)) as pilot:
        table = app.query_one(RepoTable)
        await loaded(table, 1)
        # the status line follows the page by a message: on a busy machine, a frame or two later
        await wait_until(lambda: "results" in screen_text(app), message="the result count on the status line")
        await pilot.press("s")
        await loaded(table, 1)
        assert table.ordering == "stars"
