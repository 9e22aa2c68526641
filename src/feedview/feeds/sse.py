"""Server-Sent Events: a spec-exact, resumable feed, ntfy-aware.

`sse_feed(url)` yields the events of one stream for as long as the consumer
wants them, with the connection's state in-band. It reconnects like the browser's
EventSource (after the server's `retry` time, sending `Last-Event-ID`), with two
deliberate differences: 5xx and 429 are retried with exponential backoff (and
`Retry-After`) instead of being final, and a connection that stays silent for
`idle_timeout` seconds counts as dropped. ntfy streams carry no `id:` lines; for
those the feed resumes with `since=<last message id>` and drops repeats by id.

The feed is total: whatever a server sends (a `retry: 0` and an instant close,
retry values of any length, compressed bombs, odd statuses or Location headers)
and however long it is down, the feed keeps its bounds: it never reconnects
sooner than `min_reconnect_s`, never waits longer than a day, never decodes a body
in more than 16 KiB pieces, lets the event loop run every few milliseconds, and
turns every failure into a FeedState (retrying, or a final error) with one clean
line that shows no header value and no URL credentials. Only cancellation escapes.

The parts, as httpx-sse splits them: eventstream.py decodes, sse_transport.py opens
a stream over HTTP, ntfy.py reads ntfy's messages; this module reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from ..text import one_line, redact
from .eventstream import DEFAULT_MAX_SIZE, Event, EventStreamDecoder, EventStreamError, SseEvent
from .limits import MAX_WAIT_S, MIN_RECONNECT_S, backoff, clamp
from .ntfy import Notification, SeenIds, notification_items, resume_url, topic_stream_url
from .sse_transport import (
    Final,
    NotAStream,
    Retryable,
    StreamPlan,
    describe,
    header_secrets,
    is_transient,
    new_session,
    open_stream,
    stream_timeout,
    stream_url,
)
from .state import FeedState
from .transport import BodyError, codings_of, decoded

__all__ = ["Notification", "ReconnectPolicy", "SseEvent", "SseItem", "sse_batches", "sse_feed"]

SseItem = SseEvent | Notification | FeedState

# The decoder's bite: the most body bytes decoded between two checks. In slices this small:
# all of a batch's objects outlive the young-generation GC passes made while it is built,
# and smaller batches were measured faster.
BATCH_BYTES = 16 * 1024
PAUSE_EVERY_S = 0.005  # the event loop runs at least this often (plus one bite) however costly the bytes
GATHER_AFTER_WAIT_S = 0.002  # (gather_s) a read that waited longer than this found the socket empty


@dataclass(frozen=True)
class ReconnectPolicy:
    """How the feed connects and reconnects, and the bounds it keeps (all overridable:
    the panel's config keys, or sse_feed's keyword arguments)."""

    reconnect_s: float = 3.0  # the reconnection time until the server sends `retry:`
    backoff_max_s: float = 60.0  # repeated failures back off up to this (or the server's retry)
    jitter: float = 0.3  # repeated failures wait up to this fraction less, so clients spread out
    min_reconnect_s: float = MIN_RECONNECT_S  # no reconnection sooner, whatever `retry:` says (tests lower it)
    connect_timeout_s: float = 10.0
    max_size: int = DEFAULT_MAX_SIZE  # longest line, and most data in one event
    max_redirects: int = 10
    remembered_ids: int = 4096  # notification ids kept to drop repeats


async def sse_feed(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    last_event_id: str = "",
    idle_timeout: float = 60.0,
    since: str = "",
    poll: bool = False,
    client: aiohttp.ClientSession | None = None,
    **tuning: Any,
) -> AsyncGenerator[SseItem, None]:
    """Yield FeedState items and, for each event, a Notification or an SseEvent.

    `headers` go only to the stream's own origin (never across a redirect to
    another one). ntfy: `since` (a duration like 10m, a Unix time, a message id or
    `all`) asks for cached messages first; `poll` for the cached ones only, after which
    the feed ends ("closed") instead of reconnecting. A topic URL given without its
    endpoint (`https://ntfy.sh/mytopic`) is followed to its `/sse` stream. A caller's
    `client` (an aiohttp.ClientSession: the stream is read through aiohttp, see
    sse_transport.py) is left open; one the feed creates is closed. `tuning`: the fields of
    `ReconnectPolicy` (e.g. reconnect_s=0.01 in tests).
    """
    batches = sse_batches(
        url,
        headers=headers,
        last_event_id=last_event_id,
        idle_timeout=idle_timeout,
        since=since,
        poll=poll,
        client=client,
        **tuning,
    )
    async with contextlib.aclosing(batches):
        async for batch in batches:
            for item in batch:
                yield item


async def sse_batches(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    last_event_id: str = "",
    idle_timeout: float = 60.0,
    since: str = "",
    poll: bool = False,
    client: aiohttp.ClientSession | None = None,
    interpret: Callable[[list[Event], SeenIds], list] | None = None,
    gather_s: float = 0.0,
    **tuning: Any,
) -> AsyncGenerator[list, None]:
    """`sse_feed`, one list per batch of bytes received: for consumers that write in batches.

    gather_s: when a read had to wait for the network, or came after such a pause, and
    brought less than a bite (the stream trickles), wait this long before the next one, so
    that what comes meanwhile arrives in one read, not a read per packet (nor two: one for
    what gathered, one waiting for the next packet). A dashboard shows what arrived once a
    frame; sixteen panels at 625 events/s each otherwise read 3,200 times a second
    (benchmarks/ui_firehose.py case 7: 88 % of a core -> 65 %). A stream faster than its
    reader never waits for a read, so it is never held back.

    interpret turns each batch of events into items (default: ntfy's
    notification_items, a Notification or the SseEvent itself; `feedview watch
    --json` makes its JSON lines directly). Each FeedState comes alone, in a list
    of its own.
    """
    interpret = interpret or notification_items
    secrets = header_secrets(headers)
    own_client = client is None
    try:
        opts = ReconnectPolicy(**tuning)
        origin = stream_url(url)
        plan = StreamPlan(origin, headers, stream_timeout(opts.connect_timeout_s, idle_timeout), opts.max_redirects)
        if client is None:
            client = new_session()
    except Final as final:
        yield [_state("error", final.reason, secrets)]
        return
    except Exception as exc:  # an unknown option, a bug in setting up...  # noqa: BLE001
        yield [_state("error", f"cannot start: {describe(exc)}", secrets)]
        return
    seen = SeenIds(opts.remembered_ids)
    retry_ms: int | None = None
    failures = 0
    opened = False  # a stream has opened: an ntfy topic's page is no longer worth a second look
    page = ""  # the URL given answered with a page: why, while its /sse is tried
    try:
        while True:
            yield [FeedState("connecting", attempt=failures)]
            seen.resume()
            response = None
            try:
                try:
                    target = origin if last_event_id else resume_url(origin, seen, since)
                    if poll:
                        target = target.copy_set_param("poll", "1")
                    response = await open_stream(client, plan, target, last_event_id)
                    opened = True
                    yield [FeedState("open")]
                    decoder = EventStreamDecoder(last_event_id, opts.max_size)
                    malformed: EventStreamError | None = None
                    asked = time.monotonic()
                    pause_at = asked + PAUSE_EVERY_S
                    gathered = False  # the last chunk came after a gathering pause
                    codings = codings_of(response.headers.getall("Content-Encoding", ()))
                    async for chunk in decoded(codings, response.content.iter_any(), max_chunk=BATCH_BYTES):
                        waited = time.monotonic() - asked if gather_s else 0.0  # the network was slower than we
                        try:
                            events = decoder.feed(chunk)
                        except EventStreamError as exc:  # what came before the broken limit still goes out
                            events, malformed = exc.events, exc
                        last_event_id = decoder.last_event_id
                        if decoder.retry is not None:
                            retry_ms = decoder.retry
                        if events:
                            items = interpret(events, seen)
                            if items:
                                failures = 0
                                yield items
                        if malformed is not None:
                            raise Final("error", f"the stream is malformed: {malformed}")
                        if gather_s and len(chunk) < BATCH_BYTES and (gathered or waited > GATHER_AFTER_WAIT_S):
                            # the socket had no more than this (the read waited for it, or it is what
                            # came in a gathering): let a trickle gather, rather than read each packet
                            await asyncio.sleep(gather_s)
                            gathered = True
                            pause_at = time.monotonic() + PAUSE_EVERY_S
                            asked = time.monotonic()
                            continue
                        gathered = False
                        if time.monotonic() >= pause_at:
                            # a chunk that dispatches nothing (blank lines, comments) awaits nothing:
                            # without this, a compressed stream of them would hold the loop for minutes
                            await asyncio.sleep(0)
                            pause_at = time.monotonic() + PAUSE_EVERY_S
                        if gather_s:
                            asked = time.monotonic()
                    if poll:
                        yield [FeedState("closed", "the server sent what it had cached")]
                        return
                    reason, not_before = "the server ended the stream", 0.0
                finally:
                    if response is not None:
                        response.close()
            except NotAStream as not_a_stream:
                topic = None if opened or page else topic_stream_url(origin)
                if topic is None:
                    yield [_state("error", page or not_a_stream.reason, secrets)]
                    return
                # an ntfy topic's own URL answers with its web page; its stream is at /sse
                page, origin = f"{not_a_stream.reason}, nor is {topic.path}", topic
                plan = dataclasses.replace(plan, origin=topic)
                continue
            except Final as final:
                reason = f"{page}: {final.reason}" if page and not opened else final.reason
                yield [_state(final.phase, reason, secrets)]
                return
            except BodyError as exc:
                yield [_state("error", f"cannot read the stream: {exc}", secrets)]
                return
            except Retryable as retry:
                reason, not_before = retry.reason, retry.not_before
            except aiohttp.SocketTimeoutError:
                reason, not_before = f"no data for {idle_timeout:g}s", 0.0
            except Exception as exc:  # the network's failures are retried; anything else (a bug) is final  # noqa: BLE001
                if not is_transient(exc):
                    yield [_state("error", f"unexpected error: {describe(exc)}", secrets)]
                    return
                reason, not_before = describe(exc, origin.host), 0.0
            failures += 1
            base = retry_ms / 1000 if retry_ms is not None else opts.reconnect_s
            delay = clamp(max(_reconnect_delay(base, failures, opts), not_before), 0.0, MAX_WAIT_S)
            yield [_state("retrying", reason, secrets, resume_at=time.time() + delay, attempt=failures)]
            await asyncio.sleep(delay)
    finally:
        if own_client and client is not None:
            await client.close()


def _state(phase: Any, reason: str, secrets: list[str], **fields: Any) -> FeedState:
    """A FeedState whose reason is one clean line showing no header value and no URL credentials."""
    return FeedState(phase, one_line(redact(reason, secrets)), **fields)


def _reconnect_delay(base: float, failures: int, opts: ReconnectPolicy) -> float:
    """The first reconnection waits exactly the retry time; repeated failures double it (less
    some jitter) up to backoff_max_s, or the retry time when that is longer. Never less than
    min_reconnect_s: a `retry: 0` and an instant close make no storm. Any failure count is safe."""
    jitter = opts.jitter if failures > 1 else 0.0
    return backoff(base, failures, opts.backoff_max_s, jitter=jitter, floor=opts.min_reconnect_s)
