"""The notifications panel, driven by small in-test feeds of contract items.

These pin the panel's own behaviour (order, pause, ring buffer, detail, alerts,
hostile text); test_ui_app.py runs it on the real SSE feed and the lab.
"""

from __future__ import annotations

import json

from scripted import RecordingApp, Script, screen_text
from servers import wait_until

from feedview.config import PanelConfig
from feedview.feeds.sse import Notification, SseEvent
from feedview.feeds.state import FeedState
from feedview.ui.notifications import NotificationView
from feedview.ui.screens.detail import DetailScreen

NOW = 1_700_000_000.0
HOSTILE_TITLE = "[bold red]alert[/] \x1b[2J\x1b]0;owned\x07 [/]"
HOSTILE_MESSAGE = "rm -rf [/] \x9b31m C1 \x85 next\x7f [link=http://evil]x[/link]"


def note(
    i: int,
    *,
    priority: int = 3,
    title: str | None = None,
    message: str | None = None,
    tags: tuple[str, ...] = ("deploy",),
    click: str | None = None,
    time: float = NOW,
) -> Notification:
    raw = {
        "id": f"n{i}",
        "time": int(time),
        "event": "message",
        "topic": "ops",
        "title": title if title is not None else f"title {i}",
        "message": message if message is not None else f"message {i}",
        "priority": priority,
        "tags": list(tags),
        **({"click": click} if click else {}),
    }
    return Notification.of(raw["id"], "ops", SseEvent("message", json.dumps(raw), raw["id"]), raw)


def app_with(script: Script, *, rows: int = 1000, clock=lambda: NOW, panels: int = 1) -> RecordingApp:
    configs = [
        PanelConfig("notifications", f"Deploys {n}" if n else "Deploys", {"url": "http://127.0.0.1:9/sse"}, rows=rows)
        for n in range(panels)
    ]
    return RecordingApp(configs, feeds=script, clock=clock)


def line_text(view: NotificationView, y: int) -> str:
    return "".join(segment.text for segment in view.render_line(y))


async def test_newest_first_with_priority_icons_and_relative_times():
    clock = [NOW]
    script = Script()
    app = app_with(script, clock=lambda: clock[0])
    async with app.run_test(size=(100, 20)) as pilot:
        script.put(note(1, priority=1, time=NOW - 120), note(2, priority=5, time=NOW - 30))
        view = app.query_one(NotificationView)
        await wait_until(lambda: len(view.entries) == 2 and view.virtual_size.height == 2)
        await pilot.pause()
        first, second = line_text(view, 0), line_text(view, 1)
        assert "‼" in first and "30s" in first and "title 2" in first
        assert "·" in second and "2m" in second and "title 1" in second
        clock[0] += 3600  # relative times stay current without new events
        view.refresh()
        await pilot.pause()
        assert "1h" in line_text(view, 0)


async def test_hostile_payload_is_shown_literally_and_never_reaches_the_terminal(browser):
    script = Script()
    app = app_with(script)
    async with app.run_test(size=(120, 20)) as pilot:
        script.put(
            note(1, title=HOSTILE_TITLE, message=HOSTILE_MESSAGE, tags=("[b]x[/b]",), click="javascript:alert(1)")
        )
        view = app.query_one(NotificationView)
        await wait_until(lambda: view.virtual_size.height == 1)
        await pilot.pause()
        screen = screen_text(app)
        assert "[bold red]alert[/]" in screen and "rm -rf [/]" in screen and "#[b]x[/b]" in screen
        assert "[link=http://evil]x[/link]" in screen
        for control in ("\x1b", "\x07", "\x9b", "\x85", "\x7f"):
            assert control not in screen
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        await pilot.pause()
        detail = screen_text(app)
        assert "[bold red]alert[/]" in detail and "[link=http://evil]x[/link]" in detail
        assert not any(c in detail for c in "\x1b\x07\x9b\x85\x7f")
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\x9b" not in svg
        await pilot.press("o")  # a javascript: click URL is never opened (refused before any browser starts)
        await pilot.pause()
        assert browser.opened() == []


async def test_detail_shows_title_message_tags_click_and_raw_json():
    script = Script()
    app = app_with(script)
    async with app.run_test(size=(120, 40)) as pilot:
        script.put(
            note(
                1,
                title="Deploy done",
                message="api v2 is live\nall green",
                tags=("rocket", "prod"),
                click="https://example.com/deploys/1",
            )
        )
        view = app.query_one(NotificationView)
        await wait_until(lambda: view.virtual_size.height == 1)
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        for expected in (
            "Deploy done",
            "api v2 is live",
            "all green",
            "rocket, prod",
            "https://example.com/deploys/1",
            "raw JSON",
            '"topic": "ops"',
        ):
            assert expected in text
        await pilot.press("y")
        assert app.clipboard == "https://example.com/deploys/1"
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_space_pauses_pulling_and_resume_loses_nothing():
    script = Script()
    app = app_with(script)
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.query_one(NotificationView)
        script.put(note(1))
        await wait_until(lambda: view.received == 1)
        await pilot.press("space")
        assert view.paused and "paused" in screen_text(app)
        script.put(*(note(i) for i in range(2, 12)))
        await pilot.pause()  # until the process is idle: an unpaused worker would have pulled them all
        assert script.pulled <= 2  # the worker stopped pulling: the rest wait in the feed
        assert view.received <= 2
        await pilot.press("space")
        await wait_until(lambda: view.received == 11)
        assert [item.id for item, _ in view.entries] == [f"n{i}" for i in range(1, 12)]
        await pilot.pause()
        assert "paused" not in screen_text(app)


async def test_ring_buffer_keeps_the_newest_and_renders_only_what_it_keeps():
    script = Script()
    app = app_with(script, rows=50)
    async with app.run_test(size=(100, 20)):
        view = app.query_one(NotificationView)
        script.put(*(note(i) for i in range(1, 1001)))
        await wait_until(lambda: view.received == 1000)
        assert len(view.entries) == 50
        assert view.entries[-1][0].id == "n1000" and view.entries[0][0].id == "n951"
        await wait_until(lambda: view.virtual_size.height == 50, message="the frame that shows the kept 50")
        await wait_until(lambda: "1,000 received" in screen_text(app) and "keeping 50" in screen_text(app))


async def test_cursor_moves_and_stays_on_its_item_while_new_ones_arrive():
    script = Script()
    app = app_with(script)
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.query_one(NotificationView)
        script.put(*(note(i) for i in range(1, 6)))
        await wait_until(lambda: view.virtual_size.height == 5)
        await pilot.press("down", "down")
        assert view.selected().id == "n3"
        script.put(note(6), note(7))
        await wait_until(lambda: view.virtual_size.height == 7)
        assert view.selected().id == "n3"  # new items above do not move the selection
        await pilot.press("end")
        assert view.selected().id == "n1"
        await pilot.press("up")
        assert view.selected().id == "n2"
        await pilot.press("home")
        script.put(note(8))
        await wait_until(lambda: view.virtual_size.height == 8)
        assert view.selected().id == "n8"  # home follows the newest again
        await pilot.press("pagedown")
        assert view.selected().id == "n1"
        await pilot.press("pageup")
        assert view.selected().id == "n8"


async def test_plain_events_and_connection_states_show_in_the_panel():
    script = Script()
    app = app_with(script)
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.query_one(NotificationView)
        script.put(SseEvent("tick", "[red]raw[/red] data", "7"))
        await wait_until(lambda: view.virtual_size.height == 1)
        await pilot.pause()
        assert "tick [red]raw[/red] data" in screen_text(app)
        script.put(FeedState("retrying", reason="connection refused", resume_at=NOW + 3, attempt=1))
        await wait_until(lambda: "retrying in 3 s: connection refused" in screen_text(app))
        script.put(FeedState("error", reason="HTTP 404 Not Found [/]"))
        await wait_until(lambda: "error: HTTP 404 Not Found [/]" in screen_text(app))


def test_a_time_no_clock_can_show_is_shown_as_a_number():
    from feedview.ui.timefmt import stamp

    assert stamp(10**15, 0) == "1e+15"
    assert stamp(1_700_000_000, 1_700_000_060).endswith("(1m ago)")
