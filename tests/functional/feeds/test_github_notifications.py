"""The GitHub notifications feed against the lab: 304s, X-Poll-Interval, new and updated threads, mark-read."""

from __future__ import annotations

import asyncio
import itertools
import re
from contextlib import aclosing
from urllib.parse import parse_qs

import httpx
import pytest

from feedview.feeds.github_client import GitHubError
from feedview.feeds.github_notifications import NotificationThread, html_url, mark_thread_read, notification_threads
from feedview.feeds.state import FeedState
from feedview.lab.notifications import PARTICIPATING

TOKEN = "lab-token"
QUICK = {"notifications_poll_interval": 0.05, "notifications_new_every": 0}
FLOOR = {"min_poll_interval_s": 0.01}  # the lab asks for 0.05 s between polls; GitHub for 60


@pytest.fixture
def inbox(make_lab):
    return make_lab(extra=dict(QUICK))


async def one_poll(threads) -> tuple[list[NotificationThread], FeedState]:
    """The threads of the next poll, and the idle pause that follows it."""
    found = []
    async with asyncio.timeout(10):
        while True:
            item = await anext(threads)
            if isinstance(item, NotificationThread):
                found.append(item)
            elif item.phase == "idle":
                return found, item
            else:
                assert not item.final, item


async def final_state(threads) -> FeedState:
    """The feed's last item, which must be a final error state."""
    items = [item async for item in threads]
    assert items and items[-1].phase == "error" and not any(getattr(i, "final", False) for i in items[:-1]), items
    return items[-1]


def polls(lab) -> list:
    return [r for r in lab.state.requests if r.path == "/notifications" and "page" not in parse_qs(r.query)]


async def test_first_poll_yields_unread_threads_then_a_304_yields_nothing(inbox):
    async with aclosing(notification_threads(base_url=inbox.base_url, token=TOKEN, **FLOOR)) as threads:
        first, wait = await one_poll(threads)
        assert len(first) == 10 and all(t.unread for t in first)
        assert "GitHub asks for 0.05 s between checks" in wait.reason and wait.resume_at
        second, _ = await one_poll(threads)
    assert second == []
    requests = polls(inbox)
    assert "if-modified-since" not in requests[0].headers
    assert requests[1].headers["if-modified-since"]  # the Last-Modified the first poll got
    thread = first[0]
    assert thread.id and thread.reason and thread.subject_title and thread.subject_type and thread.repository
    assert thread.updated_at.endswith("Z") and thread.raw["subject"]["title"] == thread.subject_title


async def test_new_and_updated_threads_come_once_each(inbox):
    async with aclosing(notification_threads(base_url=inbox.base_url, token=TOKEN, all=True, **FLOOR)) as threads:
        first, _ = await one_poll(threads)
        assert len(first) == 14 and len({t.id for t in first}) == 14
        added = httpx.post(
            inbox.url("/_lab/notifications/threads"),
            json={
                "reason": "mention",
                "title": "@mona have a look",
                "type": "PullRequest",
                "repo": first[0].repository,
            },
        ).json()
        touched = httpx.post(inbox.url(f"/_lab/notifications/threads/{first[5].id}/touch")).json()
        fresh = []
        while len(fresh) < 2:
            fresh += (await one_poll(threads))[0]
        assert {t.id for t in fresh} == {added["id"], first[5].id}
        assert next(t for t in fresh if t.id == first[5].id).updated_at == touched["updated_at"] != first[5].updated_at
        mention = next(t for t in fresh if t.id == added["id"])
        assert mention.reason == "mention" and mention.subject_title == "@mona have a look"
        assert mention.html_url.startswith(f"https://github.com/{first[0].repository}/pull/")
        assert (await one_poll(threads))[0] == []


async def test_polls_never_come_faster_than_a_growing_poll_interval(make_lab):
    lab = make_lab(extra={**QUICK, "notifications_poll_growth": 0.1})
    reasons = []
    async with aclosing(notification_threads(base_url=lab.base_url, token=TOKEN, **FLOOR)) as threads:
        for _ in range(4):
            reasons.append((await one_poll(threads))[1].reason)
    assert [r.split("asks for ")[1].split(" s")[0] for r in reasons] == ["0.05", "0.15", "0.25", "0.35"]
    times = [r.time for r in polls(lab)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= 0.05 + 0.1 * i for i, gap in enumerate(gaps))


async def test_filters_and_repo_endpoint(inbox):
    async with aclosing(
        notification_threads(base_url=inbox.base_url, token=TOKEN, all=True, participating=True, **FLOOR)
    ) as threads:
        mine, _ = await one_poll(threads)
    assert mine and all(t.reason in PARTICIPATING for t in mine)
    assert "all=true" in polls(inbox)[0].query and "participating=true" in polls(inbox)[0].query
    repo = mine[0].repository
    async with aclosing(
        notification_threads(base_url=inbox.base_url, token=TOKEN, all=True, repo=repo, **FLOOR)
    ) as threads:
        only, _ = await one_poll(threads)
    assert only and {t.repository for t in only} == {repo}
    assert inbox.state.requests_to(f"/repos/{repo}/notifications")


async def test_pages_are_followed_through_the_link_header(inbox):
    async with aclosing(
        notification_threads(base_url=inbox.base_url, token=TOKEN, all=True, per_page=4, **FLOOR)
    ) as threads:
        first, _ = await one_poll(threads)
    assert len(first) == 14 and len({t.id for t in first}) == 14
    pages = [parse_qs(r.query).get("page", ["1"])[0] for r in inbox.state.requests_to("/notifications")]
    assert pages == ["1", "2", "3", "4"]


async def test_threads_arrive_over_time(make_lab):
    lab = make_lab(extra={**QUICK, "notifications_new_every": 0.2})
    async with aclosing(notification_threads(base_url=lab.base_url, token=TOKEN, **FLOOR)) as threads:
        first, _ = await one_poll(threads)
        later: list[NotificationThread] = []
        while not later:
            later = (await one_poll(threads))[0]
    assert {t.id for t in later}.isdisjoint(t.id for t in first) and all(t.unread for t in later)


async def test_mark_read_and_its_refusal(make_lab):
    lab = make_lab(extra=dict(QUICK))
    async with aclosing(notification_threads(base_url=lab.base_url, token=TOKEN, **FLOOR)) as threads:
        first, _ = await one_poll(threads)
        await mark_thread_read(first[0].id, base_url=lab.base_url, token=TOKEN)
        assert lab.state.counters["notifications:marked_read"] == 1
        assert (await one_poll(threads))[0] == []  # read, but not updated: not yielded again
    single = httpx.get(
        lab.url(f"/notifications/threads/{first[0].id}"), headers={"Authorization": f"Bearer {TOKEN}"}
    ).json()
    assert single["unread"] is False and single["last_read_at"]

    refusing = make_lab(extra={**QUICK, "notifications_refuse_read": True})
    with pytest.raises(GitHubError, match="classic token") as caught:
        await mark_thread_read(first[1].id, base_url=refusing.base_url, token=TOKEN)
    assert caught.value.status == 403 and TOKEN not in str(caught.value)


async def test_a_fine_grained_token_is_told_what_it_needs(make_lab):
    lab = make_lab(extra={**QUICK, "notifications_forbidden": True})
    async with aclosing(notification_threads(base_url=lab.base_url, token=TOKEN, **FLOOR)) as threads:
        reason = (await final_state(threads)).reason
    assert re.search("classic token .* notifications or repo scope", reason)
    assert "403" in reason and "\n" not in reason and TOKEN not in reason


async def test_no_token_bad_repo_and_bad_page_size_are_refused_at_once(inbox):
    for options, message in (
        ({}, "need a token"),
        ({"token": TOKEN, "repo": "nope"}, "OWNER/REPO"),
        ({"token": TOKEN, "per_page": 51}, "from 1 to 50"),
    ):
        async with aclosing(notification_threads(base_url=inbox.base_url, **options)) as threads:
            assert message in (await final_state(threads)).reason
    assert inbox.state.requests_to("/notifications") == []
    async with aclosing(
        notification_threads(base_url=inbox.base_url, token=TOKEN, repo="octo-org/nope", **FLOOR)
    ) as threads:
        assert re.search(r"not found \(404\).*classic token", (await final_state(threads)).reason)


def test_subject_api_urls_map_to_web_pages():
    repo = {"html_url": "https://ghe.example.com/octo/app", "url": "https://ghe.example.com/api/v3/repos/octo/app"}
    api = repo["url"]
    assert html_url({"type": "PullRequest", "url": f"{api}/pulls/7"}, repo) == f"{repo['html_url']}/pull/7"
    assert (
        html_url({"type": "Issue", "url": f"{api}/issues/3", "latest_comment_url": f"{api}/issues/comments/99"}, repo)
        == f"{repo['html_url']}/issues/3#issuecomment-99"
    )
    assert html_url({"type": "Commit", "url": f"{api}/commits/abc123"}, repo) == f"{repo['html_url']}/commit/abc123"
    assert html_url({"type": "Release", "url": f"{api}/releases/5"}, repo) == f"{repo['html_url']}/releases"
    assert html_url({"type": "CheckSuite", "url": None}, repo) == f"{repo['html_url']}/actions"
    assert html_url({"type": "Issue", "url": "https://evil.example/repos/x/y/issues/1"}, repo) == repo["html_url"]
    assert html_url({"type": "Issue", "url": None}, {}) is None
