"""Restart tests, one per feed kind: receive, quit, publish more while closed, restart, and the
panel shows the exact sequence, each item once, having asked the server for what it missed with
the right cursor (since=, Last-Event-ID). Real files, the real lab, the real app."""

from __future__ import annotations

import sqlite3

import httpx
from scripted import RecordingApp
from servers import wait_until

from feedview.config import PanelConfig
from feedview.ui.notifications import NotificationView


def view_of(app: RecordingApp) -> NotificationView:
    return app.panels[0].view


def shown(app: RecordingApp) -> list[str]:
    """The messages on the panel, oldest first."""
    return [getattr(item, "message", None) or item.data for item, _ in view_of(app).entries]


def publish(lab, topic: str, *messages: str) -> None:
    for message in messages:
        httpx.post(lab.url(f"/ntfy/{topic}"), content=message.encode()).raise_for_status()


def stored_keys(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT key FROM items ORDER BY id")]


async def test_an_ntfy_panel_resumes_with_since_its_last_message_and_shows_each_once(lab, tmp_path):
    store = tmp_path / "history.sqlite3"
    # resend=2: the server sends the two messages before since= again; the store drops them
    panel = PanelConfig("notifications", "alerts", {"url": lab.url("/ntfy/alerts/sse?resend=2")})
    app = RecordingApp([panel], history=store)
    async with app.run_test(size=(100, 20)):
        await wait_until(lambda: lab.state.open_streams == 1, message="the stream opens")
        publish(lab, "alerts", "one", "two", "three")
        await wait_until(lambda: view_of(app).received == 3, message="three messages shown")
    assert len(stored_keys(store)) == 3
    last_id = stored_keys(store)[-1]
    publish(lab, "alerts", "four", "five")  # while feedview is closed

    app = RecordingApp([panel], history=store)
    async with app.run_test(size=(100, 20)):
        await wait_until(lambda: view_of(app).received >= 5, message="the two missed messages arrive")
        await wait_until(lambda: app.panels[0].badge == "· +2 while you were away", message="the catch-up badge")
        assert shown(app) == ["one", "two", "three", "four", "five"]
        streams = [r for r in lab.state.requests if r.path == "/ntfy/alerts/sse"]
        assert f"since={last_id}" in streams[-1].query
    assert len(stored_keys(store)) == 5 == len(set(stored_keys(store)))


async def test_an_sse_panel_resumes_with_last_event_id_and_the_sequence_has_no_gap_or_double(lab, tmp_path):
    store = tmp_path / "history.sqlite3"
    panel = PanelConfig("notifications", "events", {"url": lab.url("/events?interval=0.02")})
    app = RecordingApp([panel], history=store)
    async with app.run_test(size=(100, 20)):
        await wait_until(lambda: view_of(app).received >= 5, message="five events shown")
    with sqlite3.connect(store) as conn:
        last_id = conn.execute("SELECT event_id FROM items ORDER BY id DESC LIMIT 1").fetchone()[0]

    app = RecordingApp([panel], history=store)
    async with app.run_test(size=(100, 20)):
        before = view_of(app).received
        await wait_until(lambda: view_of(app).received >= before + 5, message="five more events")
        streams = [r for r in lab.state.requests if r.path == "/events"]
        assert streams[-1].headers.get("last-event-id") == last_id
        ids = [int(item.event.last_event_id) for item, _ in view_of(app).entries]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # every event once, in order, none missed
