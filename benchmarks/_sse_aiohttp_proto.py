"""Research prototype (not for landing): sse_batches' happy path with the body read by aiohttp.

What it keeps of feeds/sse.py, so that the figures say what a real aiohttp transport could reach:
the same GET (Accept: text/event-stream, Accept-Encoding: identity, Cache-Control: no-cache), the
200 + content-type rule, the same bounded decoding (transport.decoded: one gzip/deflate undone, in
pieces of at most BATCH_BYTES), the same EventStreamDecoder and notification_items with SeenIds,
the per-read idle timeout (aiohttp's sock_read, re-armed on every read), the 5 ms loop pause and a
list per bite. The session is health.py's: no decompression by aiohttp, no cookies, no trust_env,
the project's verifying TLS context.

What it leaves out (the real transport would need them; none is on the per-chunk path): redirects
by hand, proxies from the environment, Retry-After and the other statuses, reconnection with
Last-Event-ID / ntfy's since=, gather_s, aiohttp's exceptions mapped to the feeds' phrases.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator

import aiohttp

from feedview.feeds.eventstream import EventStreamDecoder, EventStreamError
from feedview.feeds.ntfy import SeenIds, notification_items
from feedview.feeds.sse import BATCH_BYTES, PAUSE_EVERY_S, ReconnectPolicy
from feedview.feeds.transport import codings_of, decoded, tls_context

READERS = ("iter_any", "iter_chunked", "readany")


def new_session(idle_timeout: float, connect_timeout: float, read_bufsize: int) -> aiohttp.ClientSession:
    """health.py's session settings, with the stream's timeouts (idle = no byte for this long).
    read_bufsize: aiohttp's default (256 KiB) lets iter_any hand over ~245 KiB per read on the
    firehose; 64 KiB keeps each raw read within 64 KiB, as httpx's are."""
    return aiohttp.ClientSession(
        read_bufsize=read_bufsize,
        connector=aiohttp.TCPConnector(limit=0, ssl=tls_context()),
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout, sock_read=idle_timeout),
    )


def raw_chunks(response: aiohttp.ClientResponse, reader: str) -> AsyncIterator[bytes]:
    """The body as aiohttp hands it over: whatever is buffered (iter_any), 64 KiB pieces
    (iter_chunked), or one buffered piece per call (readany)."""
    if reader == "iter_any":
        return response.content.iter_any()
    if reader == "iter_chunked":
        return response.content.iter_chunked(65536)
    return _readany(response.content)


async def _readany(content: aiohttp.StreamReader) -> AsyncGenerator[bytes, None]:
    while True:
        data = await content.readany()
        if not data:
            return
        yield data


async def sse_batches_aiohttp(
    url: str,
    *,
    idle_timeout: float = 60.0,
    reader: str = "iter_any",
    last_event_id: str = "",
    read_bufsize: int = 2**18,
) -> AsyncGenerator[list, None]:
    """One connection of sse_batches over aiohttp: a list of items per bite of the body."""
    opts = ReconnectPolicy()
    seen = SeenIds(opts.remembered_ids)
    seen.resume()
    headers = {"Accept": "text/event-stream", "Accept-Encoding": "identity", "Cache-Control": "no-cache"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    async with (
        new_session(idle_timeout, opts.connect_timeout_s, read_bufsize) as session,
        session.get(url, headers=headers, allow_redirects=False) as response,
    ):
        ctype = response.headers.get("Content-Type", "")
        if response.status != 200 or ctype.partition(";")[0].strip().lower() != "text/event-stream":
            raise RuntimeError(f"not an event stream: HTTP {response.status}, {ctype[:60]}")
        codings = codings_of(response.headers.getall("Content-Encoding", []))
        decoder = EventStreamDecoder(last_event_id, opts.max_size)
        pause_at = time.monotonic() + PAUSE_EVERY_S
        async for chunk in decoded(codings, raw_chunks(response, reader), max_chunk=BATCH_BYTES):
            try:
                events = decoder.feed(chunk)
            except EventStreamError as exc:  # (the real feed yields these, then a final error)
                raise RuntimeError(f"the stream is malformed: {exc}") from None
            if events:
                items = notification_items(events, seen)
                if items:
                    yield items
            if time.monotonic() >= pause_at:
                await asyncio.sleep(0)
                pause_at = time.monotonic() + PAUSE_EVERY_S


async def sse_feed_aiohttp(
    url: str, *, reader: str = "iter_any", read_bufsize: int = 2**18
) -> AsyncGenerator[object, None]:
    """sse_feed's shape over the prototype: one item per event (a generator around the batches)."""
    batches = sse_batches_aiohttp(url, reader=reader, read_bufsize=read_bufsize)
    try:
        async for batch in batches:
            for item in batch:
                yield item
    finally:
        await batches.aclose()
