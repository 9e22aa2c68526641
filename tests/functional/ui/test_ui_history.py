"""The notifications panel with a history store: read marks outlive the session, and `/`
finds stored items that are no longer in memory. Scripted feeds, a real store file."""

from __future__ import annotations

from scripted import NOW, RecordingApp, Script, note
from servers import wait_until

from feedview.config import PanelConfig
from feedview.ui.screens.search import SearchScreen

PANEL = PanelConfig("notifications", "Deploys", {"url": "http://127.0.0.1:9/sse"}, rows=50)


def app_on(script: Script, store) -> RecordingApp:
    return RecordingApp([PANEL], feeds=script, clock=lambda: NOW, history=store)


async def test_read_marks_persist_and_slash_searches_the_stored_history(tmp_path):
    store = tmp_path / "history.sqlite3"
    script = Script()
    app = app_on(script, store)
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.panels[0].view
        script.put([note(i, message="needle in the haystack" if i == 7 else "") for i in range(200)])
        await wait_until(lambda: view.received == 200, message="200 shown (50 in memory)")
        await pilot.press("r")  # the newest: n199
        await pilot.press("down", "r", "r")  # n198 read, then unread again
        assert view.read_keys == {"n199"}

    app = app_on(Script(), store)
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.panels[0].view
        await wait_until(lambda: view.received == 50, message="the 50 newest, from the store")
        assert [item.id for item, _ in view.entries][-2:] == ["n198", "n199"] and view.read_keys == {"n199"}
        assert "n7" not in {item.id for item, _ in view.entries}
        await pilot.press("slash")
        assert isinstance(app.screen, SearchScreen) and app.screen.where == "the stored history"
        await pilot.press(*"needle")
        screen = app.screen
        await wait_until(lambda: [item.id for item, _ in screen.results] == ["n7"], message="found in the store")
        await pilot.press("escape")
        await pilot.press("R")
        assert {item.id for item, _ in view.entries} <= view.read_keys


async def test_without_a_store_slash_searches_the_loaded_rows(tmp_path):
    script = Script()
    app = RecordingApp([PANEL], feeds=script, clock=lambda: NOW)
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.panels[0].view
        script.put([note(i, title="deploy" if i % 2 else "alert") for i in range(10)])
        await wait_until(lambda: view.received == 10)
        await pilot.press("slash", *"alert")
        screen = app.screen
        assert isinstance(screen, SearchScreen) and screen.where == "the loaded rows"
        await wait_until(lambda: [item.id for item, _ in screen.results] == ["n8", "n6", "n4", "n2", "n0"])
