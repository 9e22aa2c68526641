"""The dashboard: tabs, grid, dismissal, the add-panel form, the command palette, the
welcome page and the demo.

Keys drive scripted feeds (tests/scripted.py). What is about the network runs on the lab:
ctrl+w closes the dismissed panel's connection and the server sees it; quitting closes
every stream; the demo starts its own lab.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from scripted import RecordingApp, Scripts, screen_lines, screen_text, send_key
from servers import wait_until

from feedview.config import PanelConfig
from feedview.feeds.eventstream import SseEvent
from feedview.ui.app import FeedviewApp
from feedview.ui.notifications import NotificationView
from feedview.ui.screens.add_panel import AddPanelScreen


def events_panel(lab, title: str, interval: float = 0.1) -> PanelConfig:
    return PanelConfig("notifications", title, {"url": lab.url(f"/events?interval={interval}")})


def scripted_panel(title: str) -> PanelConfig:
    """A notifications panel whose feed the test scripts (its URL is never asked)."""
    return PanelConfig("notifications", title, {"url": "http://127.0.0.1:9/events"})


def events(count: int) -> list[SseEvent]:
    return [SseEvent("tick", f"event {n}", str(n)) for n in range(count)]


def tab_of(panel) -> str:
    return f"#tab-{panel.id.removeprefix('panel-')}"


def feed_tasks(panel_id: str) -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks() if t.get_name() == f"feed:{panel_id}-view" and not t.done()]


def views(app: FeedviewApp) -> dict[str, NotificationView]:
    return {panel.title: panel.view for panel in app.panels}


async def test_ctrl_w_dismisses_the_panel_and_the_server_sees_the_disconnect(lab):
    app = RecordingApp([events_panel(lab, "one"), events_panel(lab, "two"), events_panel(lab, "three")])
    async with app.run_test(size=(120, 30)):
        await wait_until(lambda: lab.state.open_streams == 3, message="three streams open")
        await wait_until(lambda: all(v.received > 0 for v in views(app).values()))
        dismissed = app.current_panel()
        assert dismissed.title == "one" and feed_tasks(dismissed.id)
        worker = next(w for w in app.workers if w.group == dismissed.view.feed_group)
        send_key(app, "ctrl+w")
        await wait_until(lambda: lab.state.disconnects == 1, message="the lab sees the disconnect")
        assert lab.state.open_streams == 2
        await wait_until(lambda: not dismissed.is_attached and not app.query(tab_of(dismissed)))
        assert [p.title for p in app.panels] == ["two", "three"]
        await wait_until(lambda: worker.is_finished)
        assert worker.state.name == "CANCELLED"
        assert not [w for w in app.workers if w.group == dismissed.view.feed_group]
        assert not feed_tasks(dismissed.id)
        # the others keep streaming, the one in the background tab too
        before = {title: view.received for title, view in views(app).items()}
        await wait_until(lambda: all(v.received > before[t] + 5 for t, v in views(app).items()))
        assert lab.state.open_streams == 2
        assert app.current_panel().title == "two"
        # focus follows a moment later (under load, after the streams above: it comes with a refresh)
        await wait_until(lambda: app.focused is app.current_panel().view, message="the next panel focused")


async def test_dismissal_in_grid_mode_takes_the_focused_panel_and_the_command_palette_does_it_too():
    scripts = Scripts()
    app = RecordingApp([scripted_panel("one"), scripted_panel("two")], layout="grid", feeds=scripts)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(lambda: scripts["one"].open and scripts["two"].open)
        assert all(panel.display for panel in app.panels)
        app.panels[1].view.focus()
        await pilot.pause()
        send_key(app, "ctrl+w")
        await wait_until(lambda: [p.title for p in app.panels] == ["one"], message="the focused panel dismissed")
        assert scripts["two"].closed == 1 and scripts["one"].open  # its feed closed, the other's not
        await pilot.press("ctrl+p")
        await pilot.press(*"close")
        await wait_until(lambda: "Close panel" in screen_text(app), message="the palette lists the command")
        send_key(app, "enter")
        await wait_until(lambda: not app.panels, message="the last panel dismissed")
        assert scripts["one"].closed == 1
        await wait_until(lambda: "No panels" in screen_text(app))
        await pilot.press("ctrl+w")  # nothing left to close: no error
        assert not app.panels


async def test_tabs_switch_and_background_tabs_count_unread():
    scripts = Scripts()
    app = RecordingApp([scripted_panel("front"), scripted_panel("back")], feeds=scripts)
    async with app.run_test(size=(120, 30)) as pilot:
        front, back = app.panels
        scripts["back"].put(*events(4))
        await wait_until(lambda: back.unread == 4, message="unread grows in the background")
        await wait_until(lambda: any("● back 4" in line and "● front" in line for line in screen_lines(app)))
        assert "new)" not in screen_text(app)  # the visible panel shows no unread count
        await pilot.press("2")
        assert app.current_panel() is back and back.unread == 0 and back.display
        assert not front.display
        scripts["front"].put(*events(2))
        await wait_until(lambda: front.unread == 2)
        await pilot.press("right_square_bracket")
        assert app.current_panel() is front and front.unread == 0
        await pilot.press("left_square_bracket")
        assert app.current_panel() is back
        await pilot.press("g")
        assert front.display and back.display and app.layout_mode == "grid"
        await pilot.press("g")
        assert app.layout_mode == "tabs" and not front.display


async def test_add_panel_form_validates_and_adds_a_streaming_panel():
    scripts = Scripts()
    app = RecordingApp([], welcome_path=None, feeds=scripts)
    async with app.run_test(size=(120, 30)) as pilot:
        assert "No panels" in screen_text(app)
        await pilot.press("a")
        assert isinstance(app.screen, AddPanelScreen)
        app.screen.query_one("#target").value = "ftp://nope"
        await pilot.press("enter")
        await wait_until(lambda: "http:// or https://" in screen_text(app), message="the form says why")
        assert isinstance(app.screen, AddPanelScreen) and not app.panels
        app.screen.query_one("#target").value = "http://127.0.0.1:9/events?interval=0.02"
        app.screen.query_one("#title").value = "added [b]live[/b]"
        await pilot.click("#add")
        await wait_until(lambda: len(app.panels) == 1)
        panel = app.panels[0]
        assert panel.title == "added [b]live[/b]"
        [config] = scripts.configs  # the feed opened on what the form was given
        assert config.kind == "notifications" and config.options["url"] == "http://127.0.0.1:9/events?interval=0.02"
        scripts["added [b]live[/b]"].put(*events(1))
        await wait_until(lambda: panel.view.received > 0)
        await wait_until(lambda: "added [b]live[/b]" in screen_text(app))
        await pilot.press("a", "escape")
        assert not isinstance(app.screen, AddPanelScreen) and len(app.panels) == 1


async def test_command_palette_lists_every_action():
    app = RecordingApp([scripted_panel("one")], feeds=Scripts())
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


async def test_pause_from_the_palette_and_theme_from_the_config():
    scripts = Scripts()
    app = RecordingApp([scripted_panel("one")], theme="nord", feeds=scripts)
    async with app.run_test(size=(120, 30)):
        assert app.theme == "nord"
        view = app.panels[0].view
        scripts["one"].put(*events(1))
        await wait_until(lambda: view.received > 0)
        app.action_toggle_pause()
        assert view.paused
        await wait_until(lambda: "paused" in screen_text(app))
        app.action_toggle_pause()
        assert not view.paused


async def test_welcome_says_where_the_config_goes_and_opens_the_demo():
    app = RecordingApp(welcome_path=Path("/home/me/.config/feedview/config.toml"))
    try:
        async with app.run_test(size=(120, 45)) as pilot:
            await pilot.pause()
            text = screen_text(app)
            assert "/home/me/.config/feedview/config.toml" in text
            assert "[[panel]]" in text and 'kind = "notifications"' in text and "demo" in text
            await pilot.press("d")
            # and their four tabs: the demo adds them in a worker, and a panel is added with its tab
            await wait_until(
                lambda: len(app.panels) == 4 and app.tabs is not None and len(app.tabs.query("Tab")) == 4,
                timeout=10,
                message="the demo's four panels",
            )
            assert [p.config.kind for p in app.panels] == ["notifications", "repos", "health", "github-notifications"]
            # the lab's backlog: the notifications panel opens on a history, not on one event
            await wait_until(lambda: app.panels[0].view.received >= 40, timeout=10)
    finally:
        app.resources.close()


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_q_and_ctrl_c_quit_with_status_zero(lab, key):
    app = RecordingApp([events_panel(lab, "one")])
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(lambda: lab.state.open_streams == 1)
        await pilot.press(key)
    assert app.return_code in (0, None)
    assert lab.state.wait_for(lambda s: s.open_streams == 0)


async def test_ctrl_w_belongs_to_forms_and_text_boxes_while_they_have_the_keys():
    scripts = Scripts()
    app = RecordingApp([scripted_panel("one")], feeds=scripts)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(lambda: scripts["one"].open)
        await pilot.press("a")
        assert isinstance(app.screen, AddPanelScreen)
        target = app.screen.query_one("#target")
        target.value = "http://x/a b"
        target.cursor_position = len(target.value)
        await pilot.press("ctrl+w")  # deletes a word in the form's text box
        assert target.value == "http://x/a "
        await pilot.press("escape")
        assert len(app.panels) == 1 and scripts["one"].open and not scripts["one"].closed


def test_run_panels_refuses_a_kind_without_a_panel(capsys):
    from feedview.ui.app import run_panels

    assert run_panels([PanelConfig("calendar", None, {})]) == 1  # a kind no panel class registers
    assert capsys.readouterr().err == "feedview: error: no dashboard panel for calendar yet\n"


async def test_the_app_turns_the_collector_back_on_after_its_first_frame(tmp_path):
    import gc

    gc.disable()  # as `feedview` starts (cli.main)
    try:
        app = RecordingApp(welcome_path=tmp_path / "config.toml")
        async with app.run_test():
            await wait_until(gc.isenabled, 5, "the collector to be back on")
            assert app.query("#welcome")  # the welcome page, the tab bar not yet there
            assert app.tabs is None
    finally:
        gc.enable()


async def test_two_panels_added_at_once_share_one_tab_bar(tmp_path):
    app = RecordingApp(welcome_path=tmp_path / "config.toml", feeds=Scripts())
    async with app.run_test():
        await asyncio.gather(app.add_panel(scripted_panel("one")), app.add_panel(scripted_panel("two")))
        assert len(app.query("#tabs")) == 1
        assert [str(tab.label) for tab in app.tabs.query("Tab")] == ["● one", "● two"]
