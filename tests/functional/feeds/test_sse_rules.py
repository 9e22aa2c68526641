"""The WHATWG event-stream rules, byte for byte, against a raw asyncio server.

Each test scripts what the server writes (with gates where the test decides when
the next bytes go out, so a split between network chunks is certain) and reads
what the feed yields. RawServer is shared with test_sse_feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from servers import FAST, HOLD, Gate, take

from feedview.feeds.eventstream import EventStreamDecoder, EventStreamError
from feedview.feeds.sse import Notification, SseEvent, sse_feed
from feedview.feeds.state import FeedState


async def events_of(url: str, count: int, **options) -> list[SseEvent]:
    async with contextlib.aclosing(sse_feed(url, **{**FAST, **options})) as feed:
        return await take(feed, count)


def simple(events) -> list[tuple[str, str, str]]:
    return [e if isinstance(e, tuple) else (e.type, e.data, e.last_event_id) for e in events]


# -- line endings -------------------------------------------------------------


async def test_lf_cr_and_crlf_end_lines_alike(raw):
    raw.reply(b"data: lf\n\ndata: cr\r\rdata: crlf\r\n\r\ndata: a\rdata: b\r\ndata: c\n\n", HOLD)
    assert [e.data for e in await events_of(raw.url, 4)] == ["lf", "cr", "crlf", "a\nb\nc"]


async def test_crlf_split_across_chunks_is_one_line_ending(raw):
    gate = Gate()
    raw.reply(b"data: 1\n\ndata: a\r", gate, b"\ndata: b\r\n\r\n", HOLD)
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        assert [e.data for e in await take(feed, 1)] == ["1"]  # the first chunk has been read
        gate.open()
        assert [e.data for e in await take(feed, 1)] == ["a\nb"]


async def test_cr_at_chunk_end_then_other_bytes(raw):
    gate = Gate()
    raw.reply(b"data: 1\n\ndata: a\r", gate, b"data: b\r\r", HOLD)
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        await take(feed, 1)
        gate.open()
        assert [e.data for e in await take(feed, 1)] == ["a\nb"]


async def test_event_ended_by_cr_cr_is_delivered_at_once(raw):
    # the server then sends nothing more and keeps the connection open:
    # a decoder holding back a trailing CR would never deliver this event
    raw.reply(b"data: now\r\r", HOLD)
    assert [e.data for e in await events_of(raw.url, 1)] == ["now"]


# -- byte order mark, decoding ------------------------------------------------------


async def test_one_leading_bom_is_skipped(raw):
    raw.reply(b"\xef\xbb\xbfdata: first\n\n", HOLD)
    assert [e.data for e in await events_of(raw.url, 1)] == ["first"]


async def test_a_second_bom_is_part_of_the_field_name(raw):
    raw.reply(b"\xef\xbb\xbf\xef\xbb\xbfdata: lost\n\ndata: kept\n\n", HOLD)
    assert [e.data for e in await events_of(raw.url, 1)] == ["kept"]


def test_bom_split_across_chunks():
    decoder = EventStreamDecoder()
    assert decoder.feed(b"\xef") == [] and decoder.feed(b"\xbb") == []
    assert simple(decoder.feed(b"\xbfdata: x\n\n")) == [("message", "x", "")]


async def test_always_utf8_whatever_the_charset_says(raw):
    raw.reply(b"data: caf\xc3\xa9\n\n", HOLD, headers=[("Content-Type", "text/event-stream; charset=iso-8859-1")])
    assert [e.data for e in await events_of(raw.url, 1)] == ["café"]


async def test_invalid_utf8_is_replaced(raw):
    raw.reply(b"data: a\xffb\xe2\x82c\n\n", HOLD)
    assert [e.data for e in await events_of(raw.url, 1)] == ["a\ufffdb\ufffdc"]


async def test_character_split_across_chunks(raw):
    gate = Gate()
    raw.reply(b"data: 1\n\ndata: \xe2\x82", gate, b"\xac\n\n", HOLD)
    async with contextlib.aclosing(sse_feed(raw.url, **FAST)) as feed:
        await take(feed, 1)
        gate.open()
        assert [e.data for e in await take(feed, 1)] == ["\u20ac"]


# -- fields -------------------------------------------------------------------------


async def test_comments_are_ignored_and_do_not_dispatch(raw):
    raw.reply(b": hello\n:\n\n: between\ndata: x\n: inside\n\n", HOLD)
    assert simple(await events_of(raw.url, 1)) == [("message", "x", "")]


async def test_data_lines_join_with_lf_and_lose_one_space(raw):
    raw.reply(b"data: a\ndata\ndata:  two spaces\ndata:no space\n\ndata:\n\n", HOLD)
    assert [e.data for e in await events_of(raw.url, 2)] == ["a\n\n two spaces\nno space", ""]


async def test_event_type_and_its_reset(raw):
    raw.reply(b"event: deploy\ndata: a\n\ndata: b\n\nevent\ndata: c\n\nevent: x\n\ndata: d\n\n", HOLD)
    assert [(e.type, e.data) for e in await events_of(raw.url, 4)] == [
        ("deploy", "a"),
        ("message", "b"),
        ("message", "c"),
        ("message", "d"),
    ]


async def test_unknown_fields_and_colonless_lines_are_ignored(raw):
    raw.reply(b"foo: bar\nDATA: no\nData: no\nnonsense\ndata: yes\n\n", HOLD)
    assert [e.data for e in await events_of(raw.url, 1)] == ["yes"]


async def test_last_event_id_buffer(raw):
    raw.reply(b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 2\n\ndata: d\n\nid: x\x00y\ndata: e\n\n", HOLD)
    assert [(e.data, e.last_event_id) for e in await events_of(raw.url, 5)] == [
        ("a", "1"),
        ("b", "1"),
        ("c", ""),
        ("d", "2"),
        ("e", "2"),
    ]


async def test_which_blocks_dispatch(raw):
    raw.reply(b"event: only\n\nid: 9\n\nretry: 10\n\n\n\n\ndata\n\n", HOLD)
    assert simple(await events_of(raw.url, 1)) == [("message", "", "9")]


def test_retry_accepts_only_ascii_digits():
    decoder = EventStreamDecoder()
    for value in (b"+5", b"-5", b" 5", b"5.0", b"5_000", b"\xef\xbc\x95", b"5x", b""):
        decoder.feed(b"retry: " + value + b"\n")
        assert decoder.retry is None, value
    decoder.feed(b"retry: 0012\n")  # takes effect at once, without a dispatch
    assert decoder.retry == 12


async def test_invalid_retry_values_leave_the_reconnection_time_alone(raw):
    raw.reply(b"retry: 0\ndata: a\n\nretry: +9000\nretry: 9000.0\nretry:  9000\nretry: 9_000\nretry: \xef\xbc\x99\n\n")
    raw.reply(b"data: b\n\n", HOLD)
    states = []
    async with contextlib.aclosing(sse_feed(raw.url, reconnect_s=30)) as feed:

        async def run():
            async for item in feed:
                if isinstance(item, FeedState):
                    states.append((item, time.time()))
                elif item.data == "b":
                    return

        await asyncio.wait_for(run(), 5)
    retrying, seen_at = next((s, t) for s, t in states if s.phase == "retrying")
    assert retrying.resume_at - seen_at < 1  # retry: 0 held, none of the 9000s


# -- end of stream --------------------------------------------------------------------


async def test_incomplete_event_at_end_of_stream_is_discarded(raw):
    raw.reply(b"id: 1\ndata: whole\n\nid: 2\ndata: cut off")
    raw.reply(b"data: next\n\n", HOLD)
    got = await events_of(raw.url, 2)
    assert simple(got) == [("message", "whole", "1"), ("message", "next", "1")]
    assert raw.requests[1].headers["last-event-id"] == "1"  # the cut block's id never counted


async def test_last_event_id_persists_across_reconnections(raw):
    raw.reply(b"id: 7\ndata: a\n\n")
    raw.reply(b"data: b\n\n")
    raw.reply(b"id\ndata: c\n\n")
    raw.reply(b"data: d\n\n", HOLD)
    got = await events_of(raw.url, 4)
    assert simple(got) == [("message", "a", "7"), ("message", "b", "7"), ("message", "c", ""), ("message", "d", "")]
    assert "last-event-id" not in raw.requests[0].headers
    assert [r.headers.get("last-event-id") for r in raw.requests[1:]] == ["7", "7", None]


async def test_initial_last_event_id_is_sent(raw):
    raw.reply(b"data: x\n\n", HOLD)
    got = await events_of(raw.url, 1, last_event_id="41")
    assert raw.requests[0].headers["last-event-id"] == "41"
    assert got[0].last_event_id == "41"


# -- limits ---------------------------------------------------------------------------


async def test_a_line_too_long_is_a_clear_final_error(raw):
    raw.reply(b"data: " + b"x" * 500, HOLD)
    async with contextlib.aclosing(sse_feed(raw.url, max_size=64, **FAST)) as feed:
        states = [item async for item in feed if isinstance(item, FeedState)]
    assert states[-1].phase == "error"
    assert "longer than 64 bytes" in states[-1].reason
    assert len(raw.requests) == 1


def test_the_limit_holds_for_complete_lines_and_for_event_data():
    with pytest.raises(EventStreamError):
        EventStreamDecoder(max_size=10).feed(b"data: 0123456789\n\n")
    decoder = EventStreamDecoder(max_size=10)
    for _ in range(2):
        decoder.feed(b"data: 1234\n")  # 4 + 1, then 10 characters: at the cap, not past it
    with pytest.raises(EventStreamError):
        decoder.feed(b"data: 1234\n")


def test_fast_path_and_line_rules_agree():
    stream = (
        b"id: 1\nevent: a\ndata: x\n\n: c\ndata: y\n\nid: 2\x00\ndata: z\n\nid: 3\ndata: w\n\n"
        b"event: b\nid: 4\ndata: v\n\nretry: 5\ndata: u\n\n"
    )
    whole = simple(EventStreamDecoder().feed(stream))
    byte_by_byte = EventStreamDecoder()
    pieces = [e for i in range(len(stream)) for e in byte_by_byte.feed(stream[i : i + 1])]
    assert (
        whole
        == simple(pieces)
        == [
            ("a", "x", "1"),
            ("message", "y", "1"),
            ("message", "z", "1"),
            ("message", "w", "3"),
            ("b", "v", "4"),
            ("message", "u", "4"),
        ]
    )


async def test_ntfy_messages_become_notifications(raw):
    raw.reply(
        b'event: open\ndata: {"id":"o1","time":1,"event":"open","topic":"t"}\n\n'
        b'data: {"id":"m1","time":5,"event":"message","topic":"t","title":"Hi","message":"there",'
        b'"priority":5,"tags":["warning",7],"click":"https://x.test/"}\n\n'
        b'data: {"id":"m2","time":6,"event":"message","topic":"t","message":"plain","priority":9}\n\n'
        b'data: {"not":"ntfy"}\n\n'
        b"data: {broken\n\n",
        HOLD,
    )
    first, second, other, broken = await events_of(raw.url, 4)
    assert isinstance(first, Notification) and isinstance(second, Notification)
    assert (first.id, first.time, first.topic, first.title, first.message, first.priority, first.tags, first.click) == (
        "m1",
        5,
        "t",
        "Hi",
        "there",
        5,
        ("warning",),
        "https://x.test/",
    )
    assert first.event.type == "message" and first.raw["id"] == "m1"
    assert (second.title, second.priority, second.tags, second.click) == ("", 3, (), None)
    assert isinstance(other, SseEvent) and isinstance(broken, SseEvent)
