"""The SSE feed's connection behaviour: reconnection, backoff, final errors, resume, closing, headers."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time

import aiohttp
import httpx
import pytest
import trustme
from servers import FAST, HOLD, Gate, ScriptedServer, collect, take, wait_until

from feedview.feeds.limits import MIN_RECONNECT_S
from feedview.feeds.sse import Notification, ReconnectPolicy, SseEvent, _reconnect_delay, sse_batches, sse_feed
from feedview.feeds.state import FeedState


def retrying(items) -> bool:
    return isinstance(items[-1], FeedState) and items[-1].phase == "retrying"


def events(items) -> list:
    return [i for i in items if not isinstance(i, FeedState)]


def states(items) -> list[FeedState]:
    return [i for i in items if isinstance(i, FeedState)]


# -- states and reconnection ------------------------------------------------------------


async def test_states_are_in_band(raw):
    raw.reply(b"data: a\n\n")
    raw.reply(b"data: b\n\n", HOLD)
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        items = await collect(feed, lambda got: len(events(got)) == 2)
    phases = [s.phase for s in states(items)]
    assert phases == ["connecting", "open", "retrying", "connecting", "open"]
    retry = states(items)[2]
    assert retry.reason == "the server ended the stream" and retry.attempt == 1
    assert retry.resume_at is not None


async def test_204_stops_for_good(raw):
    raw.reply(b"data: a\n\n")  # then 204: the scripts have run out
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        items = [item async for item in feed]
    assert [e.data for e in events(items)] == ["a"]
    assert items[-1].phase == "closed" and "204" in items[-1].reason
    assert len(raw.requests) == 2


@pytest.mark.parametrize("status", ["503 Service Unavailable", "500 Internal Server Error", "429 Too Many Requests"])
async def test_5xx_and_429_are_retried(raw, status):
    raw.reply(status=status, headers=[("Content-Type", "text/plain")])
    raw.reply(status=status, headers=[("Content-Type", "text/plain")])
    raw.reply(b"data: back\n\n", HOLD)
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        items = await collect(feed, lambda got: len(events(got)) == 1)
    retries = [s for s in states(items) if s.phase == "retrying"]
    assert [s.attempt for s in retries] == [1, 2]
    assert retries[0].reason.startswith(f"HTTP {status.split()[0]}")
    assert events(items)[0].data == "back"


async def test_retry_after_is_honoured(raw):
    raw.reply(status="429 Too Many Requests", headers=[("Retry-After", "120")])
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        items = await collect(feed, retrying)
        seen_at = time.time()
    assert items[-1].resume_at >= seen_at + 110


async def test_retry_after_as_a_date(raw):
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 300))
    raw.reply(status="503 Service Unavailable", headers=[("Retry-After", when)])
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        items = await collect(feed, retrying)
    assert items[-1].resume_at >= time.time() + 250


@pytest.mark.parametrize(
    ("status", "headers", "words"),
    [
        ("404 Not Found", [("Content-Type", "text/event-stream")], "HTTP 404 Not Found"),
        ("401 Unauthorized", [], "HTTP 401 Unauthorized"),
        ("200 OK", [("Content-Type", "text/html; charset=utf-8")], "not an event stream (content type: text/html"),
        ("200 OK", [], "content type: none"),
    ],
)
async def test_other_answers_are_final_errors(raw, status, headers, words):
    raw.reply(b"<html>", status=status, headers=headers)
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        items = [item async for item in feed]
    assert items[-1].phase == "error" and words in items[-1].reason
    assert len(raw.requests) == 1  # no retry loop


async def test_content_type_is_matched_without_case_or_parameters(raw):
    raw.reply(b"data: ok\n\n", HOLD, headers=[("Content-Type", "Text/Event-Stream ; charset=utf-8")])
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        assert [e.data for e in await take(feed, 1)] == ["ok"]


async def test_unreachable_server_is_retried():
    async with ScriptedServer() as gone:
        url = gone.url
    async with contextlib.aclosing(sse_feed(url, **FAST)) as feed:
        items = await collect(feed, lambda got: retrying(got) and got[-1].attempt == 2)
    assert items[-1].reason == "connection refused"  # the words every feed uses


async def test_a_silent_connection_counts_as_dropped(raw):
    raw.reply(HOLD)  # headers, then not one byte
    raw.reply(b"data: again\n\n", HOLD)
    async with contextlib.aclosing(sse_feed(raw.url, idle_timeout=0.2, **FAST)) as feed:
        items = await collect(feed, lambda got: len(events(got)) == 1)
    retry = next(s for s in states(items) if s.phase == "retrying")
    assert retry.reason == "no data for 0.2s"
    assert events(items)[0].data == "again"


def test_backoff_grows_with_jitter_and_is_capped():
    opts = ReconnectPolicy(backoff_max_s=10, jitter=0.5)
    assert _reconnect_delay(3, 1, opts) == 3  # the first reconnection: exactly the retry time
    for failures, full in ((2, 6), (3, 10), (8, 10), (1_025, 10), (10**9, 10)):
        delays = [_reconnect_delay(3, failures, opts) for _ in range(50)]
        assert all(full * 0.5 <= d <= full for d in delays)
        assert len(set(delays)) > 1


def test_backoff_has_a_floor_whatever_the_retry_time():
    opts = ReconnectPolicy(jitter=0.9)
    for failures in (1, 2, 1_024, 1_025, 10**6):
        assert all(_reconnect_delay(0, failures, opts) >= MIN_RECONNECT_S for _ in range(50))


async def test_backoff_resets_after_events(raw):
    raw.reply(status="500 Internal Server Error")
    raw.reply(b"data: a\n\n")
    raw.reply(b"data: b\n\n", HOLD)
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        items = await collect(feed, lambda got: len(events(got)) == 2)
    assert [s.attempt for s in states(items) if s.phase == "retrying"] == [1, 1]


async def test_server_retry_sets_the_reconnection_time(raw):
    raw.reply(b"retry: 90000\n\ndata: a\n\n")
    async with contextlib.aclosing(sse_feed(raw.url, reconnect_s=0.01)) as feed:
        items = await collect(feed, retrying)
        seen_at = time.time()
    assert items[-1].resume_at >= seen_at + 80


# -- nothing lost, nothing doubled ----------------------------------------------------------


async def test_cuts_mid_event_lose_and_double_nothing(make_lab):
    lab = make_lab(sse_retry_ms=0)
    url = lab.url("/events?interval=0&cut_after=3&cut_mid=1")
    async with contextlib.aclosing(sse_feed(url, last_event_id="0", **FAST)) as feed:
        items = await collect(feed, lambda got: len(events(got)) == 10)
    got = events(items)
    assert [n.event.last_event_id for n in got] == [str(i) for i in range(1, 11)]
    assert all(isinstance(n, Notification) for n in got)
    sent = [r.headers.get("last-event-id") for r in lab.state.requests_to("/events")]
    assert sent[:4] == ["0", "3", "6", "9"]


async def test_ntfy_resumes_with_since_and_drops_repeats(lab):
    for text in ("one", "two", "three"):
        httpx.post(lab.url("/ntfy/alerts"), content=text)
    # every connection stops after 2 messages, and re-sends the one before `since`
    url = lab.url("/ntfy/alerts/sse?since=all&cut_after=2&resend=1")
    async with contextlib.aclosing(sse_feed(url, **FAST)) as feed:
        items = await collect(feed, lambda got: len(events(got)) == 3)
        httpx.post(lab.url("/ntfy/alerts"), content="four")
        items += await collect(feed, lambda got: len(events(got)) == 1)
    assert [n.message for n in events(items)] == ["one", "two", "three", "four"]
    queries = [r.query for r in lab.state.requests_to("/ntfy/alerts/sse")]
    second_id = events(items)[1].id
    assert f"since={second_id}" in queries[1]


async def test_ntfy_open_and_keepalive_are_not_events(make_lab):
    lab = make_lab(keepalive_s=0.05)
    async with contextlib.aclosing(sse_feed(lab.url("/ntfy/quiet/sse"), **FAST)) as feed:

        async def publish_after_keepalives():
            await wait_until(lambda: lab.state.open_streams == 1)
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: httpx.post(lab.url("/ntfy/quiet"), content="hello", headers={"Title": "Hi"})
            )

        publisher = asyncio.ensure_future(publish_after_keepalives())
        got = await take(feed, 1)
        await publisher
    assert isinstance(got[0], Notification) and (got[0].title, got[0].message) == ("Hi", "hello")


# -- closing ----------------------------------------------------------------------------------


async def test_aclose_closes_the_connection(lab):
    feed = sse_feed(lab.url("/events?interval=0.01"), **FAST)
    await take(feed, 2)
    assert lab.state.open_streams == 1
    await feed.aclose()
    await wait_until(
        lambda: lab.state.open_streams == 0 and lab.state.disconnects == 1, message="the lab to see the disconnect"
    )


async def test_cancelling_the_consumer_closes_the_connection(lab):
    received = asyncio.Event()

    async def consume() -> None:
        async with contextlib.aclosing(sse_feed(lab.url("/events?interval=0.01"), **FAST)) as feed:
            async for item in feed:
                if isinstance(item, Notification):
                    received.set()

    task = asyncio.ensure_future(consume())
    await asyncio.wait_for(received.wait(), 5)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await wait_until(
        lambda: lab.state.open_streams == 0 and lab.state.disconnects == 1, message="the lab to see the disconnect"
    )


async def test_a_callers_client_stays_open_and_an_own_one_is_closed(raw):
    raw.reply(b"data: a\n\n", HOLD)
    raw.reply(b"data: b\n\n", HOLD)
    async with aiohttp.ClientSession() as client:  # the feed's client is an aiohttp session
        async with contextlib.aclosing(sse_feed(raw.url, client=client, **FAST)) as feed:
            [event] = await take(feed, 1)
        assert event.data == "a" and not client.closed
        await wait_until(lambda: raw.disconnects == 1)  # the stream's response is closed, the session is not
        async with contextlib.aclosing(sse_feed(raw.url, client=client, **FAST)) as feed:
            [event] = await take(feed, 1)
        assert event.data == "b"
    await wait_until(lambda: raw.disconnects == 2)


# -- headers and origins -------------------------------------------------------------------------


async def test_headers_go_to_the_stream(raw):
    raw.reply(b"data: a\n\n", HOLD)
    async with contextlib.aclosing(sse_feed(raw.url, headers={"Authorization": "Bearer s3cret"}, **FAST)) as feed:
        await take(feed, 1)
    seen = raw.requests[0].headers
    assert seen["authorization"] == "Bearer s3cret"
    assert seen["accept"] == "text/event-stream" and seen["cache-control"] == "no-cache"
    assert seen["accept-encoding"] == "identity"


async def test_headers_follow_a_redirect_on_the_same_origin_only(raw):
    async with ScriptedServer() as other:
        other.reply(b"data: elsewhere\n\n")
        raw.reply(status="307 Temporary Redirect", headers=[("Location", "/moved")])
        raw.reply(b"data: here\n\n")
        raw.reply(status="302 Found", headers=[("Location", other.url + "/stream")])
        raw.reply(b"data: back\n\n", HOLD)
        headers = {"Authorization": "Bearer s3cret", "X-Api-Key": "k"}
        async with contextlib.aclosing(sse_feed(raw.url + "/events", headers=headers, **FAST)) as feed:
            got = await take(feed, 3)
        assert [e.data for e in got] == ["here", "elsewhere", "back"]
        assert [r.target for r in raw.requests] == ["/events", "/moved", "/events", "/events"]
        assert raw.requests[1].headers["authorization"] == "Bearer s3cret"
        assert raw.requests[3].headers["x-api-key"] == "k"  # reconnections go to the original URL
        leaked = other.requests[0].headers
        assert "authorization" not in leaked and "x-api-key" not in leaked


@pytest.fixture(scope="module")
def untrusted_tls() -> ssl.SSLContext:
    """A server certificate for 127.0.0.1 from a CA that no client trusts."""
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(server)
    return server


@pytest.mark.parametrize("via_redirect", [False, True])
async def test_https_is_verified_even_after_a_redirect_from_http(raw, untrusted_tls, via_redirect):
    async with ScriptedServer(tls=untrusted_tls) as secure:
        secure.reply(b"data: never\n\n")
        raw.reply(status="302 Found", headers=[("Location", secure.url + "/stream")])
        url = raw.url if via_redirect else secure.url
        async with contextlib.aclosing(sse_feed(url, **FAST)) as feed:
            items = await collect(feed, retrying)
        assert not events(items) and not secure.requests  # the handshake failed: no request went out
        assert items[-1].reason == "TLS: unable to get local issuer certificate"  # the CA is not trusted


async def test_proxies_from_the_environment_are_used(raw, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", raw.url)  # the raw server plays the proxy
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    raw.reply(b"data: via the proxy\n\n", HOLD)
    async with contextlib.aclosing(sse_feed("http://feeds.example.invalid/stream", **FAST)) as feed:
        [event] = await take(feed, 1)
    assert event.data == "via the proxy"
    assert raw.requests[0].target == "http://feeds.example.invalid/stream"  # a proxy's absolute form


async def test_too_many_redirects_is_final(raw):
    for _ in range(4):
        raw.reply(status="302 Found", headers=[("Location", "/again")])
    async with contextlib.aclosing(sse_feed(raw.url, max_redirects=3, **FAST)) as feed:
        items = [item async for item in feed]
    assert items[-1].phase == "error" and "more than 3 redirects" in items[-1].reason


async def test_reasons_are_one_clean_line(raw):
    raw.reply(b"x", headers=[("Content-Type", "text/\x1b[31mhtml")])
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        items = [item async for item in feed]
    assert "\x1b" not in items[-1].reason and items[-1].phase == "error"


async def test_plain_events_keep_their_type_and_data(lab):
    url = lab.url("/events?interval=0&bad_json=1")
    async with contextlib.aclosing(sse_feed(url, last_event_id="0", **FAST)) as feed:
        got = await take(feed, 4)
    kinds = [type(item) for item in got]
    assert kinds == [SseEvent, Notification, SseEvent, Notification]
    assert got[0].last_event_id == "1" and got[0].data.startswith('{"id":')


async def test_an_invalid_url_is_a_final_error():
    async with contextlib.aclosing(sse_feed("http://[::1", **FAST)) as feed:
        items = [item async for item in feed]
    assert [s.phase for s in items] == ["error"] and items[0].reason.startswith("not a valid URL")


# -- ntfy: the message's raw JSON object is read only when asked for -----------------------------


async def test_the_feed_parses_raw_only_when_asked(raw):
    raw.reply(b'data: {"id":"m1","topic":"t","priority":4,"actions":[{"action":"view"}]}\n\n', HOLD)
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        [note] = await take(feed, 1)
    assert note._raw is None
    assert note.priority == 4 and note.raw["actions"] == [{"action": "view"}]


async def test_a_gathering_reader_loses_nothing_and_keeps_the_order(raw):
    gates = [Gate() for _ in range(3)]
    raw.reply(b"data: 1\n\n", gates[0], b"data: 2\n\n", gates[1], b"data: 3\n\n", b"data: 4\n\n", gates[2], HOLD)
    seen: list[str] = []
    batches = sse_batches(raw.url, gather_s=0.05, **FAST)
    async with contextlib.aclosing(batches):
        async for batch in batches:
            if not isinstance(batch[0], FeedState):
                seen.extend(event.data for event in batch)
                gates[min(len(seen), 3) - 1].open()  # the server goes on once the reader has what it sent
            if seen == ["1", "2", "3", "4"]:
                break
    assert seen == ["1", "2", "3", "4"]
