"""The event stream's HTTP, read through aiohttp: what it sends, byte for byte, and how its
failures read (feeds/sse_transport.py). The feed's behaviour is in test_sse_feed.py and
test_sse_hostile.py; these are the cases where aiohttp and httpx would differ if we let them."""

from __future__ import annotations

import asyncio
import base64
import contextlib

import pytest
from servers import FAST, HOLD, SSE, ScriptedServer, collect, take

from feedview.feeds.sse import sse_feed
from feedview.feeds.state import FeedState


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def test_the_path_and_query_go_out_as_written(raw):
    raw.reply(b"data: a\n\n", HOLD)
    target = "/a%2Fb%20c/%E2%82%AC/sse?since=x%3Dy&poll=&z=%2B1"
    async with contextlib.aclosing(sse_feed(raw.url + target, **FAST)) as feed:
        await take(feed, 1)
    assert raw.requests[0].target == target  # (aiohttp would otherwise re-quote or decode parts of it)


async def test_unquoted_characters_are_quoted_as_httpx_quotes_them(raw):
    raw.reply(b"data: a\n\n", HOLD)
    async with contextlib.aclosing(sse_feed(raw.url + "/a b/é?q=1 2", **FAST)) as feed:
        await take(feed, 1)
    assert raw.requests[0].target == "/a%20b/%C3%A9?q=1%202"


async def test_url_credentials_go_as_basic_auth_to_their_origin_only(raw):
    async with ScriptedServer() as other:
        other.reply(b"data: elsewhere\n\n", HOLD)
        raw.reply(status="302 Found", headers=[("Location", other.url + "/stream")])
        host = raw.url.split("//")[1]
        headers = {"Authorization": "Bearer theirs"}  # (the URL's credentials win, as in httpx)
        async with contextlib.aclosing(sse_feed(f"http://us%40er:p%3Ass@{host}/", headers=headers, **FAST)) as feed:
            [event] = await take(feed, 1)
        assert event.data == "elsewhere"
        assert raw.requests[0].headers["authorization"] == basic("us@er", "p:ss")
        assert "authorization" not in other.requests[0].headers


@pytest.mark.parametrize(
    "headers",
    [{"X-Token": "a\rb"}, {"X-Token": "a\x00b"}, {"X Token": "v"}, {"X-Token:": "v"}, {"": "v"}],
)
async def test_a_header_http_refuses_is_final_before_anything_is_sent(raw, headers):
    async with contextlib.aclosing(sse_feed(raw.url, headers=headers, **FAST)) as feed:
        items = [item async for item in feed]
    assert [s.phase for s in items] == ["connecting", "error"]
    assert "not valid HTTP" in items[-1].reason
    assert not raw.requests


async def test_a_chunked_body_cut_short_is_retried_and_what_came_is_kept(raw):
    chunked = [*SSE, ("Transfer-Encoding", "chunked")]
    raw.reply(b"9\r\ndata: a\n\n\r\n", b"20\r\ndata: cut", headers=chunked)  # the connection closes mid-chunk
    raw.reply(b"data: b\n\n", HOLD)
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        items = await collect(feed, lambda got: [i.data for i in got if not isinstance(i, FeedState)] == ["a", "b"])
    retry = next(item for item in items if isinstance(item, FeedState) and item.phase == "retrying")
    assert retry.reason.startswith("bad response: ") and "\n" not in retry.reason


async def test_a_malformed_status_line_is_retried_as_a_bad_response():
    async with ScriptedServer() as server:
        server.reply(b"", status="2OO OK")
        server.reply(b"data: b\n\n", HOLD)
        async with contextlib.aclosing(sse_feed(server.url, **FAST)) as feed:
            items = await collect(feed, lambda got: any(not isinstance(i, FeedState) for i in got))
    retry = next(item for item in items if isinstance(item, FeedState) and item.phase == "retrying")
    assert retry.reason.startswith("bad response: ")
    assert items[-1].data == "b"


async def test_a_server_that_closes_before_answering_is_retried_in_the_feeds_words():
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with contextlib.aclosing(sse_feed(f"http://127.0.0.1:{port}/", **FAST)) as feed:
            items = await collect(feed, lambda got: got[-1].phase == "retrying")
    finally:
        server.close()
    assert items[-1].reason == "connection lost: the server closed the connection"


async def test_control_characters_in_resume_values_never_reach_the_request_head(raw):
    raw.reply(b"data: a\n\n", HOLD)
    feed = sse_feed(raw.url + "/sse", last_event_id="7\r\nX-Evil: 1", **FAST)
    async with contextlib.aclosing(feed):
        await take(feed, 1)
    raw.reply(b"data: b\n\n", HOLD)
    async with contextlib.aclosing(sse_feed(raw.url + "/sse", since="1\r\nX-Evil: 1", **FAST)) as feed:
        await take(feed, 1)
    first, second = raw.requests
    assert "last-event-id" not in first.headers and "x-evil" not in first.headers  # (EventSource's rule)
    assert second.target == "/sse?since=1%0D%0AX-Evil%3A+1" and "x-evil" not in second.headers
