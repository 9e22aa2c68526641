"""The lab's notifications endpoints as curl sees them, and `feedview notifications --json`."""

from __future__ import annotations

import json

import httpx
from servers import feedview

AUTH = {"Authorization": "Bearer lab-token"}
QUICK = {"notifications_poll_interval": 0.05, "notifications_new_every": 0}


def test_contract_last_modified_304_poll_interval_and_pages(make_lab):
    lab = make_lab(extra={"notifications_new_every": 0})
    assert httpx.get(lab.url("/notifications")).status_code == 401
    first = httpx.get(lab.url("/notifications?all=true&per_page=100"), headers=AUTH)
    assert first.status_code == 200 and len(first.json()) == 14  # at most 50 a page, and there are 14
    assert first.headers["x-poll-interval"] == "10" and first.headers["last-modified"].endswith("GMT")
    thread = first.json()[0]
    assert {"id", "unread", "reason", "updated_at", "last_read_at", "subject", "repository", "url"} <= set(thread)
    assert {"title", "type", "url", "latest_comment_url"} <= set(thread["subject"])
    again = httpx.get(lab.url("/notifications"), headers={**AUTH, "If-Modified-Since": first.headers["last-modified"]})
    assert again.status_code == 304 and again.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]
    paged = httpx.get(lab.url("/notifications?all=true&per_page=5"), headers=AUTH)
    assert paged.links["next"]["url"].endswith("/notifications?all=true&per_page=5&page=2")
    assert paged.links["last"]["url"].endswith("page=3")


def test_mark_read_changes_last_modified_and_can_be_refused(make_lab):
    lab = make_lab(extra=dict(QUICK))
    listing = httpx.get(lab.url("/notifications"), headers=AUTH)
    thread_id = listing.json()[0]["id"]
    assert httpx.patch(lab.url(f"/notifications/threads/{thread_id}"), headers=AUTH).status_code == 205
    since = listing.headers["last-modified"]
    after = httpx.get(lab.url("/notifications"), headers={**AUTH, "If-Modified-Since": since})
    assert after.status_code == 200 and thread_id not in {t["id"] for t in after.json()}
    refusing = make_lab(extra={**QUICK, "notifications_refuse_read": True})
    answer = httpx.patch(refusing.url(f"/notifications/threads/{thread_id}"), headers=AUTH)
    assert answer.status_code == 403 and "personal access token" in answer.json()["message"]
    assert httpx.patch(lab.url("/notifications/threads/1"), headers=AUTH).status_code == 404


def test_json_prints_threads_with_their_web_page_and_stops_at_count(make_lab):
    lab = make_lab(extra=dict(QUICK))
    result = feedview(
        "notifications", "--all", "--base-url", lab.base_url, "--token", "lab-token", "--json", "--count", "3"
    )
    assert result.returncode == 0, result.stderr
    threads = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(threads) == 3 and all(t["html_url"].startswith("https://github.com/") for t in threads)
    assert result.stderr == ""  # the routine wait between checks is not news


def test_json_final_error_is_one_line(make_lab):
    lab = make_lab(extra={**QUICK, "notifications_forbidden": True})
    result = feedview("notifications", "--base-url", lab.base_url, "--token", "lab-token", "--json")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "classic token" in result.stderr and "lab-token" not in result.stderr


def test_a_lab_left_idle_stamps_what_arrived_when_it_was_due_not_in_the_future():
    import time
    from datetime import datetime

    from feedview.lab import LabConfig
    from feedview.lab.notifications import Inbox

    inbox = Inbox(LabConfig(extra={"notifications_new_every": 20}))
    inbox.started -= 3600  # an hour without a request (its first threads stay where they were)
    inbox.last_change -= 3600
    inbox.arrive()
    stamps = [datetime.fromisoformat(t["updated_at"]).timestamp() for t in inbox.threads]
    assert inbox.arrived == 180 and max(stamps) <= time.time()
    assert len(set(stamps)) == len(stamps)  # each change at its own second, as If-Modified-Since needs
