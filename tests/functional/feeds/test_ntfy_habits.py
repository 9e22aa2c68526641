"""What ntfy's users expect of a subscriber, as `ntfy subscribe` does it: a topic's own URL,
--since and --poll. Against the lab's ntfy-compatible topics, over loopback."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import httpx
import pytest

from feedview.feeds.sse import sse_feed
from feedview.feeds.state import FeedState

FAST = {"reconnect_s": 0.01, "min_reconnect_s": 0.01, "backoff_max_s": 0.02}


def publish(lab, topic: str, *messages: str) -> None:
    for message in messages:
        httpx.post(lab.url(f"/ntfy/{topic}"), content=message.encode())


def watch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "feedview.cli", "watch", *args], capture_output=True, text=True, timeout=30
    )


async def items_until_closed(url: str, **options) -> list:
    got = []
    async with contextlib.aclosing(sse_feed(url, **{**FAST, **options})) as feed:
        async for item in feed:
            got.append(item)
            if isinstance(item, FeedState) and item.final:
                return got
    return got


async def test_a_topic_url_without_its_endpoint_is_followed_to_its_stream(lab):
    publish(lab, "deploys", "one", "two")
    got = await items_until_closed(lab.url("/ntfy/deploys"), since="all", poll=True)
    assert [i.message for i in got if hasattr(i, "message")] == ["one", "two"]
    assert got[-1].phase == "closed"
    paths = [r.path for r in lab.state.requests if r.method == "GET" and r.path.startswith("/ntfy/deploys")]
    assert paths == ["/ntfy/deploys", "/ntfy/deploys/sse"]  # the page once, then its stream


async def test_any_other_page_is_still_an_error(lab):
    got = await items_until_closed(lab.url("/ntfy/deploys/sse/extra"))
    assert got[-1].phase == "error"


def test_poll_prints_what_is_cached_and_exits(lab):
    publish(lab, "alerts", "disk full", "disk fine")
    result = watch(lab.url("/ntfy/alerts"), "--json", "--poll", "--since", "all")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["message"] for line in result.stdout.splitlines()] == ["disk full", "disk fine"]


def test_since_a_message_id_gives_what_came_after_it(lab):
    publish(lab, "builds", "first", "second", "third")
    everything = watch(lab.url("/ntfy/builds"), "--json", "--poll", "--since", "all")
    first_id = json.loads(everything.stdout.splitlines()[0])["notification_id"]
    after = watch(lab.url("/ntfy/builds/sse"), "--json", "--poll", "--since", first_id)
    assert [json.loads(line)["message"] for line in after.stdout.splitlines()] == ["second", "third"]
    sent = [r.query for r in lab.state.requests if r.path == "/ntfy/builds/sse"]
    assert f"since={first_id}" in sent[-1] and "poll=1" in sent[-1]


@pytest.mark.parametrize("since", ["10 m", "-5", "a;b", ""])
def test_a_bad_since_is_a_usage_error(since):
    result = watch("http://127.0.0.1:9/ntfy/x", "--since", since)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "--since" in result.stderr
