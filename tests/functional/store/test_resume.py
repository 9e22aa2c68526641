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
        kept = conn.execute("SELECT count(*) FROM items").fetchone()[0]

    app = RecordingApp([panel], history=store)
    async with app.run_test(size=(100, 20)):
        # (what the store kept counts as received too: wait for five that came over the stream)
        await wait_until(lambda: view_of(app).received >= kept + 5, message="five more events")
        streams = [r for r in lab.state.requests if r.path == "/events"]
        assert len(streams) == 2 and streams[-1].headers.get("last-event-id") == last_id
        ids = [int(item.event.last_event_id) for item, _ in view_of(app).entries]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # every event once, in order, none missed


AUTH = {"Authorization": "Bearer lab-token"}


def inbox_panel(lab) -> PanelConfig:
    options = {"base_url": lab.base_url, "token": "lab-token", "min_poll_interval_s": 0.01}
    return PanelConfig("github-notifications", "inbox", options)


def polls(lab) -> list:
    return [r for r in lab.state.requests if r.path == "/notifications" and r.method == "GET"]


async def test_github_notifications_resume_with_if_modified_since_and_keep_read_marks(make_lab, tmp_path):
    lab = make_lab(extra={"notifications_poll_interval": 0.05, "notifications_new_every": 0})
    store = tmp_path / "history.sqlite3"
    app = RecordingApp([inbox_panel(lab)], history=store)
    async with app.run_test(size=(160, 30)):
        view = app.panels[0].view
        await wait_until(lambda: view.checked and view.order, message="the first listing")
        first = view.order[0]
        view.action_mark_read()  # the newest thread
        await wait_until(lambda: lab.state.counters.get("notifications:marked_read") == 1, message="the PATCH")
        await wait_until(lambda: len(polls(lab)) >= 3, message="a poll after the listing")
        listed = list(view.order)
    with sqlite3.connect(store) as conn:
        last_modified = conn.execute("SELECT value FROM cursors WHERE name = 'last_modified'").fetchone()[0]
    added = httpx.post(lab.url("/_lab/notifications/threads"), json={"title": "While you were away"}).json()

    before = len(polls(lab))
    app = RecordingApp([inbox_panel(lab)], history=store)
    async with app.run_test(size=(160, 30)):
        view = app.panels[0].view
        await wait_until(lambda: added["id"] in view.threads, message="the new thread")
        assert polls(lab)[before].headers.get("if-modified-since") == last_modified
        assert set(listed) <= set(view.threads)  # the stored threads, shown with the new one
        assert view.threads[first].unread is False  # the read mark outlived the session
        assert view.order[0] == added["id"]


def repos_panel(lab) -> PanelConfig:
    options = {"owner": "octo-org", "org": True, "base_url": lab.base_url, "token": lab.config.token}
    return PanelConfig("repos", "octo-org", options)


async def test_repos_pages_resume_with_if_none_match_and_cost_a_304(lab, tmp_path):
    store = tmp_path / "history.sqlite3"
    app = RecordingApp([repos_panel(lab)], history=store)
    async with app.run_test(size=(140, 40)):
        view = app.panels[0].view
        await wait_until(lambda: 1 in view.pages and not view.fetching, message="page 1")
        first_rows = [repo.full_name for repo in view.pages[1].repos]
    with sqlite3.connect(store) as conn:
        etags = dict(conn.execute("SELECT url, etag FROM pages"))
    assert etags

    before = len(lab.state.requests)
    app = RecordingApp([repos_panel(lab)], history=store)
    async with app.run_test(size=(140, 40)):
        view = app.panels[0].view
        await wait_until(lambda: 1 in view.pages and not view.fetching, message="page 1 again")
        assert view.pages[1].from_cache and [repo.full_name for repo in view.pages[1].repos] == first_rows
        asked = [r for r in lab.state.requests[before:] if "repos" in r.path]
        assert asked[0].headers.get("if-none-match") in etags.values()


async def test_health_samples_outlive_the_session_in_the_sparkline_and_uptime(lab, tmp_path):
    store = tmp_path / "history.sqlite3"
    panel = PanelConfig("health", "api", {"urls": [lab.url("/health/api?pattern=pf")], "interval": 0.05})
    app = RecordingApp([panel], history=store)
    async with app.run_test(size=(140, 20)):
        view = app.panels[0].view
        await wait_until(lambda: view.checks and len(next(iter(view.checks.values())).latencies) >= 4)
    with sqlite3.connect(store) as conn:
        stored = conn.execute("SELECT count(*), sum(verdict = 'healthy') FROM samples").fetchone()
    assert stored[0] >= 4

    app = RecordingApp([panel], history=store)
    async with app.run_test(size=(140, 20)):
        view = app.panels[0].view
        await wait_until(lambda: view.checks, message="the first sample of this run")
        row = next(iter(view.checks.values()))
        assert len(row.latencies) >= min(stored[0], 20)  # the sparkline starts with the stored samples
        past = next(iter(view._past.values()))
        assert past.total > stored[0] and past.passed >= stored[1]  # uptime over both runs
