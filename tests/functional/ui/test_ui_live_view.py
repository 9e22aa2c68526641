"""A live view a user can trust at a glance: a visible cursor, a pinned list that says so, the
selected panel being the focused one, and small truths on the status line."""

from __future__ import annotations

from rich.color import Color
from scripted import Script, note, scripted_app
from servers import wait_until

from feedview.config import PanelConfig
from feedview.ui.app import FeedviewApp
from feedview.ui.notifications import NotificationView


def background_of(view: NotificationView, y: int) -> set:
    return {segment.style.bgcolor for segment in view.render_line(y) if segment.style and segment.style.bgcolor}


def detail_of(app) -> str:
    return str(app.panels[0].query_one(".detail").content)


async def test_the_cursor_row_is_drawn_over_the_rows_own_colours():
    script = Script()
    app = scripted_app(script)
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.query_one(NotificationView)
        script.put(*(note(i, priority=5 if i == 2 else 3) for i in range(1, 4)))
        await wait_until(lambda: view.row_count == 3)
        await pilot.press("down")  # onto the urgent row, which has colours of its own
        cursor, other = background_of(view, 1), background_of(view, 2)
        assert len(cursor) == 1 and cursor != other  # one background across the whole row
        assert cursor == {Color.parse(str(app.theme_variables["block-cursor-background"]))}


async def test_a_pinned_list_says_how_many_newer_items_wait_and_home_follows_again():
    script = Script()
    app = scripted_app(script)
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.query_one(NotificationView)
        script.put(*(note(i) for i in range(1, 6)))
        await wait_until(lambda: view.row_count == 5)
        await pilot.press("down")
        assert view.selected().id == "n4"
        script.put(*(note(i) for i in range(6, 43)))  # 37 newer, above the rows in view
        await wait_until(lambda: "▲ 37 newer · home follows" in detail_of(app))
        assert view.selected().id == "n4"  # the reader's item stays put
        await pilot.press("up")  # up goes one item newer, still pinned...
        assert view.selected().id == "n5" and view.cursor_seq
        await pilot.press("up")  # ...and on, into the ones that came since
        assert view.selected().id == "n6" and view.cursor_seq
        await wait_until(lambda: "newer · home follows" in detail_of(app))
        await pilot.press("home")
        await wait_until(lambda: "newer" not in detail_of(app))
        assert view.selected().id == "n42" and view.cursor_seq == 0  # following the newest again
        script.put(note(43))
        await wait_until(lambda: view.selected().id == "n43")


async def test_in_the_grid_a_digit_selects_and_focuses_the_same_panel():
    script = Script()
    app = scripted_app(script, panels=3, layout="grid")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("3")
        third = app.panels[2]
        assert app.tabs.active == "tab-3" and app.focused is third.view
        await pilot.press("left_square_bracket")
        assert app.tabs.active == "tab-2" and app.focused is app.panels[1].view
        await pilot.press("ctrl+w")  # closes the one the underline and the focus agree on
        await wait_until(lambda: [p.title for p in app.panels] == ["Deploys 1", "Deploys 3"])


async def test_pause_is_in_the_palette_and_a_paused_stream_shows_no_stale_rate():
    script = Script()
    app = scripted_app(script)
    async with app.run_test(size=(100, 20)) as pilot:
        commands = [command.title for command in app.get_system_commands(app.screen)]
        assert "Pause/resume panel" in commands and "Add panel" in commands
        add = next(c for c in app.get_system_commands(app.screen) if c.title == "Add panel")
        assert "github-notifications" in add.help
        script.put(note(1))
        await wait_until(lambda: "1 received" in detail_of(app))
        await pilot.press("space")
        await wait_until(lambda: "paused" in detail_of(app) and app.panels[0].state.phase == "paused")


async def test_the_repos_loading_bar_stops_at_a_final_error(lab):
    options = {"owner": "nobody-here", "base_url": lab.base_url, "token": lab.config.token}
    app = FeedviewApp([PanelConfig("repos", "nobody", options)])
    async with app.run_test(size=(120, 30)):
        panel = app.panels[0]
        await wait_until(lambda: panel.state.phase == "error")
        await wait_until(lambda: not panel.query_one(".page-loading").display)


async def test_the_scrollbar_follows_a_growing_list_and_a_pinned_list_keeps_its_rows():
    """A list grows without laying the screen out again once its scrollbar is there (only the thumb
    changes), and a pinned list holds its rows by an anchor, not a scroll: both still look right."""
    script = Script()
    app = scripted_app(script)
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.query_one(NotificationView)
        script.put(*(note(i) for i in range(1, 4)))
        await wait_until(lambda: view.row_count == 3)
        assert not view.show_vertical_scrollbar  # three rows fit
        script.put(*(note(i) for i in range(4, 51)))
        await wait_until(lambda: view.row_count == 50 and view.show_vertical_scrollbar)
        script.put(*(note(i) for i in range(51, 501)))
        await wait_until(lambda: view.vertical_scrollbar.window_virtual_size == 500)
        assert view.virtual_size.height == 500 and view.max_scroll_y == 500 - view.scrollable_content_region.height
        await pilot.press("pagedown")  # pinned, some rows down
        top, selected = view.scroll_y, view.selected().id
        shown = view.entry_at(int(top))
        script.put(*(note(i) for i in range(501, 521)))
        await wait_until(lambda: "▲ " in detail_of(app) and view.received == 520)
        await pilot.pause()
        assert (view.scroll_y, view.selected().id, view.entry_at(int(top))) == (top, selected, shown)
