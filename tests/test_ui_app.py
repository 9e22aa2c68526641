"""The dashboard: tabs, grid, dismissal (against the lab), the add-panel form,
the command palette, the welcome page and the demo."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from servers import wait_until

from feedview.config import PanelConfig
from feedview.ui.app import FeedviewApp
from feedview.ui.notifications import NotificationView
from feedview.ui.screens.add_panel import AddPanelScreen


def screen_text(app: FeedviewApp) -> str:
    update = app.screen._compositor.render_update(full=True)
    return "\n".join("".join(seg.text for strip in line for seg in strip) for line in update.strips)


def events_panel(lab, title: str, interval: float = 0.1) -> PanelConfig:
    return PanelConfig("notifications", title, {"url": lab.url(f"/events?interval={interval}")})


async def press_and_go(app: FeedviewApp, *keys: str) -> None:
    """Press keys like Pilot.press, without its wait for every widget to go idle: that
    wait never ends for widgets that a key removed (the dismissed panel's)."""
    await app._press_keys(keys)


def feed_tasks(panel_id: str) -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks() if t.get_name() == f"feed:{panel_id}-view" and not t.done()]


def views(app: FeedviewApp) -> dict[str, NotificationView]:
    return {panel.title: panel.view for panel in app.panels}


async def test_ctrl_w_dismisses_the_panel_and_the_server_sees_the_disconnect(lab):
    app = FeedviewApp([events_panel(lab, "one"), events_panel(lab, "two"), events_panel(lab, "three")])
    async with app.run_test(size=(120, 30)):
        await wait_until(lambda: lab.state.open_streams == 3, message="three streams open")
        await wait_until(lambda: all(v.received > 0 for v in views(app).values()))
        dismissed = app.current_panel()
        assert dismissed.title == "one" and feed_tasks(dismissed.id)
        worker = next(w for w in app.workers if w.group == dismissed.view.feed_group)
        await press_and_go(app, "ctrl+w")
        assert lab.state.wait_for(lambda s: s.disconnects == 1 and s.open_streams == 2, timeout=2)
        assert not dismissed.is_attached and [p.title for p in app.panels] == ["two", "three"]
        assert not app.query(f"#tab-{dismissed.id.removeprefix('panel-')}")
        await wait_until(lambda: worker.is_finished)
        assert worker.state.name == "CANCELLED"
        assert not [w for w in app.workers if w.group == dismissed.view.feed_group]
        assert not feed_tasks(dismissed.id)
        # the others keep streaming, the one in the background tab too
        before = {title: view.received for title, view in views(app).items()}
        await wait_until(lambda: all(v.received > before[t] + 5 for t, v in views(app).items()))
        assert lab.state.open_streams == 2
        assert app.current_panel().title == "two" and app.focused is app.current_panel().view


async def test_dismissal_in_grid_mode_takes_the_focused_panel_and_the_command_palette_does_it_too(lab):
    app = FeedviewApp([events_panel(lab, "one"), events_panel(lab, "two")], layout="grid")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(lambda: lab.state.open_streams == 2)
        assert all(panel.display for panel in app.panels)
        app.panels[1].view.focus()
        await pilot.pause()
        await press_and_go(app, "ctrl+w")
        assert lab.state.wait_for(lambda s: s.disconnects == 1, timeout=2)
        assert [p.title for p in app.panels] == ["one"]
        await pilot.press("ctrl+p")
        await pilot.press(*"close")
        await wait_until(lambda: "Close panel" in screen_text(app), message="the palette lists the command")
        await press_and_go(app, "enter")
        assert lab.state.wait_for(lambda s: s.disconnects == 2 and s.open_streams == 0, timeout=2)
        await wait_until(lambda: not app.panels)
        await pilot.pause()
        assert "No panels" in screen_text(app)
        await pilot.press("ctrl+w")  # nothing left to close: a bell, no error
        assert not app.panels


async def test_tabs_switch_and_background_tabs_count_unread(lab):
    app = FeedviewApp([events_panel(lab, "front"), events_panel(lab, "back")])
    async with app.run_test(size=(120, 30)) as pilot:
        back = next(p for p in app.panels if p.title == "back")
        await wait_until(lambda: back.unread > 3, message="unread grows in the background")
        await pilot.pause()
        assert f"back {back.unread:,}" in screen_text(app).splitlines()[1].replace("  ", " ") or back.unread
        assert "new)" not in screen_text(app)  # the visible panel shows no unread count
        await pilot.press("2")
        assert app.current_panel() is back and back.unread == 0 and back.display
        front = next(p for p in app.panels if p.title == "front")
        assert not front.display
        await wait_until(lambda: front.unread > 0)
        await pilot.press("right_square_bracket")
        assert app.current_panel() is front and front.unread == 0
        await pilot.press("left_square_bracket")
        assert app.current_panel() is back
        await pilot.press("g")
        assert front.display and back.display and app.layout_mode == "grid"
        await pilot.press("g")
        assert app.layout_mode == "tabs" and not front.display


async def test_add_panel_form_validates_and_adds_a_streaming_panel(lab):
    app = FeedviewApp([], welcome_path=None)
    async with app.run_test(size=(120, 30)) as pilot:
        assert "No panels" in screen_text(app)
        await pilot.press("a")
        assert isinstance(app.screen, AddPanelScreen)
        app.screen.query_one("#target").value = "ftp://nope"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AddPanelScreen) and "http:// or https://" in screen_text(app)
        target = app.screen.query_one("#target")
        target.value = lab.url("/events?interval=0.02")
        app.screen.query_one("#title").value = "added [b]live[/b]"
        await pilot.click("#add")
        await wait_until(lambda: len(app.panels) == 1)
        panel = app.panels[0]
        assert panel.title == "added [b]live[/b]"
        await wait_until(lambda: panel.view.received > 0)
        assert "added [b]live[/b]" in screen_text(app)
        await pilot.press("a", "escape")
        assert not isinstance(app.screen, AddPanelScreen) and len(app.panels) == 1


async def test_command_palette_lists_every_action(lab):
    app = FeedviewApp([events_panel(lab, "one")])
    async with app.run_test(size=(120, 30)):
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for expected in (
            "Add panel",
            "Close panel",
            "Toggle grid/tabs",
            "Pause/resume panel",
            "Go to panel: one",
            "Theme",
            "Quit",
        ):
            assert expected in titles


async def test_pause_from_the_palette_and_theme_from_the_config(lab):
    app = FeedviewApp([events_panel(lab, "one")], theme="nord")
    async with app.run_test(size=(120, 30)) as pilot:
        assert app.theme == "nord"
        view = app.panels[0].view
        await wait_until(lambda: view.received > 0)
        app.action_toggle_pause()
        await pilot.pause()
        assert view.paused and "paused" in screen_text(app)
        app.action_toggle_pause()
        assert not view.paused


async def test_welcome_says_where_the_config_goes_and_opens_the_demo():
    app = FeedviewApp(welcome_path=Path("/home/me/.config/feedview/config.toml"))
    try:
        async with app.run_test(size=(120, 45)) as pilot:
            await pilot.pause()
            text = screen_text(app)
            assert "/home/me/.config/feedview/config.toml" in text
            assert "[[panel]]" in text and 'kind = "notifications"' in text and "demo" in text
            await pilot.press("d")
            await wait_until(lambda: len(app.panels) == 4, timeout=10, message="the demo's four panels")
            assert [p.config.kind for p in app.panels] == ["notifications", "repos", "health", "github-notifications"]
            # the lab's backlog: the notifications panel opens on a history, not on one event
            await wait_until(lambda: app.panels[0].view.received >= 40, timeout=10)
    finally:
        app.resources.close()


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_q_and_ctrl_c_quit_with_status_zero(lab, key):
    app = FeedviewApp([events_panel(lab, "one")])
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(lambda: lab.state.open_streams == 1)
        await pilot.press(key)
    assert app.return_code in (0, None)
    assert lab.state.wait_for(lambda s: s.open_streams == 0, timeout=2)


async def test_ctrl_w_belongs_to_forms_and_text_boxes_while_they_have_the_keys(lab):
    app = FeedviewApp([events_panel(lab, "one")])
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(lambda: lab.state.open_streams == 1)
        await pilot.press("a")
        assert isinstance(app.screen, AddPanelScreen)
        await pilot.press(*"http://x/a b", "ctrl+w")  # deletes a word in the form's text box
        assert app.screen.query_one("#target").value == "http://x/a "
        await pilot.press("escape")
        assert len(app.panels) == 1 and lab.state.open_streams == 1


def test_run_panels_refuses_a_kind_without_a_panel(capsys):
    from feedview.ui.app import run_panels

    assert run_panels([PanelConfig("calendar", None, {})]) == 1  # a kind no panel class registers
    assert capsys.readouterr().err == "feedview: error: no dashboard panel for calendar yet\n"


async def test_the_app_turns_the_collector_back_on_after_its_first_frame(tmp_path):
    import gc

    gc.disable()  # as `feedview` starts (cli.main)
    try:
        app = FeedviewApp(welcome_path=tmp_path / "config.toml")
        async with app.run_test():
            await wait_until(gc.isenabled, 5, "the collector to be back on")
            assert app.query("#welcome")  # the welcome page, the tab bar not yet there
            assert app.tabs is None
    finally:
        gc.enable()


async def test_two_panels_added_at_once_share_one_tab_bar(lab, tmp_path):
    app = FeedviewApp(welcome_path=tmp_path / "config.toml")
    async with app.run_test():
        await asyncio.gather(app.add_panel(events_panel(lab, "one")), app.add_panel(events_panel(lab, "two")))
        assert len(app.query("#tabs")) == 1
        assert [str(tab.label) for tab in app.tabs.query("Tab")] == ["● one", "● two"]
