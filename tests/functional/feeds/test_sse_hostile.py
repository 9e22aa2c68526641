"""The SSE feed against servers that try to kill, freeze or bloat it (issue 11).

Each test reproduces one failure against a real loopback server (the raw scripted
server, or `feedview watch` as a user runs it): overflowing backoff, reconnection
storms, absurd `retry:` values, decompression bombs, endless empty `data:` lines,
odd statuses and Location headers, unexpected exceptions, and text that would
leak a secret or drive the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gzip
import json
import math
import signal
import time
import zlib

import pytest
from servers import FAST, HOLD, SSE, collect, feedview_process, take

from feedview.commands.watch import state_line
from feedview.feeds.eventstream import DEFAULT_MAX_SIZE, MAX_RETRY_MS, EventStreamDecoder, EventStreamError
from feedview.feeds.limits import MAX_WAIT_S, MIN_RECONNECT_S
from feedview.feeds.sse import sse_batches, sse_feed
from feedview.feeds.state import FeedState

# The outage test's knobs: 1,100 failures in seconds, not the ~5 minutes the real floor takes.
TINY_WAITS = {"reconnect_s": 0.001, "backoff_max_s": 0.002, "min_reconnect_s": 0.001}


async def final_state(url: str, **options) -> FeedState:
    async with contextlib.aclosing(sse_feed(url, **{**FAST, **options})) as feed:
        items = await collect(feed, lambda got: False)
    assert items[-1].final, items
    return items[-1]


def data_of(items) -> list[str]:
    return [item.data for item in items if not isinstance(item, FeedState)]


def sane(resume_at: float, now: float) -> bool:
    """A time a panel can show: finite, not in the past by much, at most MAX_WAIT_S ahead."""
    datetime.datetime.fromtimestamp(resume_at)  # raises on the absurd
    return math.isfinite(resume_at) and now - 60 <= resume_at <= now + MAX_WAIT_S + 60


async def finished(proc: asyncio.subprocess.Process, timeout: float = 30) -> tuple[str, str]:
    """stdout and stderr of a process that must end (the deadline only catches a hang)."""
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return out.decode(), err.decode()


# -- 1. reconnection: an overnight outage, retry: 0 storms --------------------------------------


async def test_an_overnight_outage_never_overflows_the_backoff(raw):
    # 2 ** (failures - 1) overflowed a float at failure 1,025 and killed the panel
    for _ in range(1_100):
        raw.reply()  # 200, then an instant close: a failure every time
    raw.reply(b"data: back\n\n", HOLD)
    retries: list[FeedState] = []
    async with contextlib.aclosing(sse_feed(raw.url, **TINY_WAITS)) as feed:
        async for item in feed:
            if isinstance(item, FeedState):
                assert not item.final, item
                if item.phase == "retrying":
                    retries.append(item)
                    assert sane(item.resume_at, time.time())
            else:
                assert item.data == "back"
                break
    assert [s.attempt for s in retries] == list(range(1, 1_101))
    assert all(s.reason == "the server ended the stream" for s in retries)


@pytest.mark.parametrize(
    "script",
    [
        [b"retry: 0\n\ndata: x\n\n"],  # an event, then a close: the backoff resets every time
        [b"retry: 0\n\n"],  # an instant close
    ],
    ids=["event-then-close", "instant-close"],
)
async def test_a_retry_0_storm_is_bounded_by_the_floor(raw, script):
    for _ in range(8):
        raw.reply(*script)
    started = time.monotonic()
    announced: list[float] = []  # each retry's wait, as announced, measured from before it was made
    # the real floor (no test knob); a low cap, so that the instant closes back off quickly to it
    async with contextlib.aclosing(sse_feed(raw.url, backoff_max_s=0.5)) as feed:
        before = time.time()
        async for item in feed:
            if isinstance(item, FeedState) and item.phase == "retrying":
                announced.append(item.resume_at - before)
                if len(announced) == 8:
                    break
            before = time.time()
    elapsed = time.monotonic() - started
    assert len(announced) == 8 and min(announced) >= MIN_RECONNECT_S
    assert len(raw.requests) <= 1 + elapsed / MIN_RECONNECT_S  # never more than the floor allows


# -- 2. retry: values of any length --------------------------------------------------------------


@pytest.mark.parametrize("digits", [20, 400, 5_000])
async def test_retry_with_any_number_of_digits_is_clamped(raw, digits):
    raw.reply(b"retry: " + b"9" * digits + b"\n\ndata: a\n\n")
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        items = await collect(feed, lambda got: isinstance(got[-1], FeedState) and got[-1].phase == "retrying")
    retry = items[-1]
    assert data_of(items) == ["a"] and retry.phase == "retrying"
    assert sane(retry.resume_at, time.time())
    assert retry.resume_at > time.time() + MAX_WAIT_S - 3600  # the clamp: a day, not 0
    assert "retrying in" in state_line(retry)


def test_the_decoder_clamps_retry_and_reads_leading_zeros():
    decoder = EventStreamDecoder()
    decoder.feed(b"retry: " + b"9" * 5_000 + b"\n")  # int() refuses over 4,300 digits
    assert decoder.retry == MAX_RETRY_MS == MAX_WAIT_S * 1000
    decoder.feed(b"retry: " + b"0" * 30 + b"7\n")
    assert decoder.retry == 7


# -- 3. compressed bodies -----------------------------------------------------------------------


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=1)


@pytest.fixture(scope="module")
def costly_body() -> bytes:
    """1 GiB of comment lines, gzipped to 1 MB: no event in it, and minutes of decoding.
    (Blank lines used to be the costliest; the decoder now skips their runs.) Made from one
    compressed MiB repeated: after a full flush, a deflate block needs nothing before it.
    There is no gzip trailer: no test reads that far."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b":\n" * (1 << 19)
    first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)  # with the gzip header
    again = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    return first + again * 1023


async def test_the_stream_is_asked_for_without_compression(raw):
    raw.reply(b"data: a\n\n", HOLD)
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        await take(feed, 1)
    assert raw.requests[0].headers["accept-encoding"] == "identity"


async def test_a_gzip_body_is_still_read(raw):
    raw.reply(gzipped(b"data: packed\n\n" * 3), headers=[*SSE, ("Content-Encoding", "gzip")])
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        got = await take(feed, 3)
    assert [e.data for e in got] == ["packed"] * 3


@pytest.mark.parametrize(
    ("encoding", "words"),
    [
        ("gzip, gzip", "stacked content encodings (gzip, gzip)"),
        ("br", "an encoding that was not asked for (br)"),
    ],
)
async def test_stacked_or_unknown_encodings_are_a_final_error(raw, encoding, words):
    body = gzipped(gzipped(b"data: " + b"x" * 1000 + b"\n\n") * 100)  # a bomb, were it decoded
    raw.reply(body, headers=[*SSE, ("Content-Encoding", encoding)])
    state = await final_state(raw.url)
    assert state.phase == "error" and words in state.reason
    assert len(raw.requests) == 1


async def test_costly_bytes_do_not_hold_the_event_loop(raw, costly_body, wait_until):
    raw.reply(costly_body, headers=[*SSE, ("Content-Encoding", "gzip")])  # then the server closes
    states: list[str] = []

    async def consume() -> None:
        async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
            async for item in feed:
                states.append(item.phase)

    consumer = asyncio.ensure_future(consume())
    try:
        await wait_until(lambda: "open" in states, 10, "the stream to open")
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        ticker = asyncio.ensure_future(tick())
        await wait_until(lambda: ticks >= 200, 30, "the loop to run")
        ticker.cancel()
        assert states == ["connecting", "open"]  # the loop ran while the body was still being decoded
    finally:
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(consumer, 30)  # and a cancellation got in (the deadline only catches a hang)
    assert consumer.cancelled()


async def test_watch_exits_on_ctrl_c_while_decoding_a_costly_body(raw, costly_body):
    raw.reply(costly_body, headers=[*SSE, ("Content-Encoding", "gzip")])
    proc = await feedview_process("watch", raw.url, "--json")
    try:
        while b"feedview watch: open" not in await asyncio.wait_for(proc.stderr.readline(), 30):
            pass
        proc.send_signal(signal.SIGINT)
        out, err = await finished(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 130
    assert out == "" and "Traceback" not in err


async def test_watch_refuses_a_stacked_encoding_in_one_line(raw):
    raw.reply(gzipped(gzipped(b"data: x\n\n" * 100_000)), headers=[*SSE, ("Content-Encoding", "gzip, gzip")])
    proc = await feedview_process("watch", raw.url, "--json")
    out, err = await finished(proc)
    assert proc.returncode == 1 and out == ""
    assert err.splitlines()[-1].startswith("feedview watch: error: cannot read the stream: the server stacked")
    assert "Traceback" not in err


# -- 4. the event size cap, for any shape ----------------------------------------------------------


async def test_empty_data_lines_cannot_grow_an_event_past_the_cap(raw):
    lines = DEFAULT_MAX_SIZE + 1000  # 6 MB of "data:\n": each adds a newline to the event
    raw.reply(b"data: first\n\n" + b"data:\n" * lines + b"\n")
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        items = await collect(feed, lambda got: False, timeout=60)
    assert data_of(items) == ["first"]  # what came before is delivered, nothing past the cap
    assert items[-1].phase == "error" and f"more than {DEFAULT_MAX_SIZE} characters" in items[-1].reason


def test_the_cap_counts_each_data_line_and_its_newline():
    decoder = EventStreamDecoder(max_size=10)
    assert [e.data for e in decoder.feed(b"data:\n" * 10 + b"\n")] == ["\n" * 9]  # 10 lines: 9 + 1 newlines
    with pytest.raises(EventStreamError) as broken:
        decoder.feed(b"data: ok\n\n" + b"data:\n" * 11)
    assert [e.data for e in broken.value.events] == ["ok"]  # the event before the limit is kept


# -- 5. statuses -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["205 Reset Content", "210 Whatever", "299 Odd"])
async def test_only_200_opens_a_stream(raw, status):
    raw.reply(b"data: never\n\n", status=status)
    state = await final_state(raw.url)
    code = status.split()[0]
    assert state.phase == "error" and state.reason.startswith(f"HTTP {code}")
    assert "200 OK" in state.reason
    assert len(raw.requests) == 1  # no reconnection loop


# -- 6. URLs and Location headers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "http://[::1",
        "http://ex\x7fample/",
        "http://a\tb/",
        "http://[v1.x]/",
        "http://xn--/",
        "http://[::1]:999999/",
        "http://exa mple/",
        "http://%zz/",
    ],
)
async def test_an_invalid_location_is_a_final_error(raw, location):
    raw.reply(status="302 Found", headers=[("Location", location)])
    raw.reply(status="302 Found", headers=[("Location", location)])
    state = await final_state(raw.url)
    assert state.phase == "error" and "redirected to an invalid URL" in state.reason
    assert len(raw.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]:999999/",
        "http://xn--/",
        "ftp://example.com/",
        "http:///x",
        "http://exa mple/",
        "http://%zz/",
        "http://ex\x7fample/",
        "//example.com/",
        "",
    ],
)
async def test_a_malformed_url_is_a_final_error(url):
    async with contextlib.aclosing(sse_feed(url, **FAST)) as feed:
        items = [item async for item in feed]
    assert [s.phase for s in items] == ["error"] and items[0].reason.startswith("not a valid URL")


# -- 7. nothing but cancellation escapes ----------------------------------------------------------


async def test_a_bug_is_a_final_error_not_a_crash(raw):
    raw.reply(b"data: a\n\n", HOLD)

    def broken(events, seen):
        raise RuntimeError("boom\x1b[2J")

    batches = sse_batches(raw.url, interpret=broken, **FAST)
    async with contextlib.aclosing(batches):
        states = [batch[0] async for batch in batches]
    assert [s.phase for s in states] == ["connecting", "open", "error"]
    assert states[-1].reason == "unexpected error: RuntimeError: boom[2J"


async def test_an_odd_transient_failure_is_retried(raw):
    raw.reply(b"data: a\n\n", HOLD)
    raw.reply(b"data: b\n\n", HOLD)
    failed = []

    def flaky(events, seen):
        if not failed:
            failed.append(True)
            raise ConnectionResetError("reset by a middlebox")
        return events

    batches = sse_batches(raw.url, interpret=flaky, **FAST)
    async with contextlib.aclosing(batches):
        items = await collect(batches, lambda got: not isinstance(got[-1][0], FeedState))
    retry = next(batch[0] for batch in items if batch[0].phase == "retrying")
    assert retry.reason == "connection lost: reset by a middlebox"
    assert [e.data for e in items[-1]] == ["b"]


async def test_an_unknown_option_is_a_final_error():
    async with contextlib.aclosing(sse_feed("http://127.0.0.1:9/", no_such_knob=1)) as feed:
        items = [item async for item in feed]
    assert [s.phase for s in items] == ["error"] and "no_such_knob" in items[0].reason


# -- 8. text: one clean line, no secret, no credentials ----------------------------------------------


async def test_reasons_show_no_url_credentials_and_no_header_value(raw):
    raw.reply(headers=[("Content-Type", "text/html; see=http://admin:hunter2@evil.example/ t0ken")])
    state = await final_state(raw.url, headers={"Authorization": "Bearer t0ken"})
    assert state.phase == "error" and "http://***@evil.example/" in state.reason
    assert "hunter2" not in state.reason and "t0ken" not in state.reason


async def test_a_header_httpx_refuses_is_a_final_error_that_does_not_quote_it(raw):
    state = await final_state(raw.url, headers={"Authorization": "Bearer s3cret\n"})
    assert state.phase == "error" and "not valid HTTP" in state.reason and "s3cret" not in state.reason
    assert not raw.requests


async def test_watch_stderr_hides_credentials_and_tokens(raw):
    raw.reply(headers=[("Content-Type", "text/\x1b[31mhtml; see=http://admin:hunter2@evil.example/ t0ken")])
    host = raw.url.split("//")[1]
    proc = await feedview_process("watch", f"http://admin:hunter2@{host}/", "--json", "-H", "X-Token: t0ken")
    _, err = await finished(proc)
    assert proc.returncode == 1
    assert "http://***@evil.example/" in err
    assert "hunter2" not in err and "t0ken" not in err and "\x1b" not in err
    assert raw.requests[0].headers["x-token"] == "t0ken"  # it did go to the stream


def test_the_watch_panel_title_hides_url_credentials(monkeypatch):
    import feedview.ui.app
    from feedview.cli import build_parser
    from feedview.commands import watch

    opened = []
    monkeypatch.setattr(feedview.ui.app, "run_panels", lambda panels: opened.extend(panels) or 0)
    watch.run(build_parser("watch").parse_args(["watch", "http://admin:hunter2@feeds.example/stream"]))
    assert [panel.title for panel in opened] == ["http://***@feeds.example/stream"]
    assert opened[0].options["url"] == "http://admin:hunter2@feeds.example/stream"  # the feed still gets them


async def test_watch_json_escapes_what_a_terminal_must_not_see(raw):
    text = "rtl\u202eevil zw\u200bsp nel\u0085 del\x7f bom\ufeff ok é"
    raw.reply(b"data: " + text.encode() + b"\n\n", HOLD)
    proc = await feedview_process("watch", raw.url, "--json", "--count", "1")
    out, _ = await finished(proc)
    assert proc.returncode == 0
    for raw_char in ("\u202e", "\u200b", "\u0085", "\x7f", "\ufeff"):
        assert raw_char not in out
    assert "é" in out and json.loads(out)["data"] == text
