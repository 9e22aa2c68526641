"""`feedview watch URL`: one Server-Sent Events stream, as JSON lines or in the app.

With --json, stdout gets one JSON object per event, written and flushed once per
network chunk (a line per event as soon as its chunk arrives, without a system
call per event); connection state goes to stderr, one line each. Both are safe
for a terminal: JSON escapes what a terminal must not see raw (DEL, C1, bidi and
zero-width characters), and state lines are sanitized, with header values and
URL credentials redacted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Iterable
from typing import BinaryIO, TextIO

import msgspec

from ..feeds.eventstream import SseEvent
from ..feeds.ntfy import NTFY_CONTROL, UNDECODABLE, NtfyMessage, SeenIds, decode_message, read_message
from ..feeds.sse import sse_batches
from ..feeds.sse_transport import header_secrets
from ..feeds.state import FeedState
from ..text import escape_json_bytes, one_line, redact, redact_url
from . import reader_left


def feed_options(args: argparse.Namespace) -> dict:
    return {
        "url": args.url,
        "headers": dict(args.header),
        "last_event_id": args.last_event_id,
        "idle_timeout": args.idle_timeout,
        "since": args.since or "",
        "poll": args.poll,
    }


def run(args: argparse.Namespace) -> int:
    if not args.json:
        from ..config import PanelConfig
        from ..ui.app import run_panels

        title = redact_url(args.url)  # the tab shows it: never the URL's credentials
        return run_panels([PanelConfig(kind="notifications", title=title, options=feed_options(args))])
    try:
        return asyncio.run(watch_json(feed_options(args), args.count, sys.stdout.buffer, sys.stderr))
    except BrokenPipeError:
        return reader_left()


class _WatchLine(msgspec.Struct, gc=False):
    """One line of `feedview watch --json` for a notification (fields in output order)."""

    event: str
    data: str
    id: str
    notification_id: str
    time: int
    topic: str
    title: str
    message: str
    priority: int
    tags: tuple[str, ...]
    click: str | None


_encoder = msgspec.json.Encoder()
_encode = _encoder.encode
_encode_lines = _encoder.encode_lines  # each object and its newline, in one bytes


def json_lines(events: list[SseEvent], seen: SeenIds) -> list[bytes]:
    """The feed's items for these events, as the JSON lines of `--json` (see line_objects)."""
    return [_encode(line) for line in line_objects(events, seen)]


def line_objects(events: list[SseEvent], seen: SeenIds) -> list[_WatchLine | dict[str, str]]:
    """The feed's items for these events, as the objects of `--json`'s lines.

    {"event", "data", "id"} for every event (ntfy's control events and replayed
    messages are dropped, as the feed drops them), plus for an ntfy message its
    fields as NtfyMessage reads them (its id as "notification_id"). The sse_batches
    hook: one flat loop, no Notification made, for speed; a batch's objects are
    encoded by one C call (_write), not one call and one bytes object a line.
    """
    lines: list[_WatchLine | dict[str, str]] = []
    append = lines.append
    decode = decode_message
    remember = seen.recent.append
    replayed = seen.before_resume
    for event in events:
        data = event[1]
        if data[:1] != "{":
            append({"event": event[0], "data": data, "id": event[2]})
            continue
        message: NtfyMessage | None
        try:
            message = decode(data)
        except UNDECODABLE:
            message = read_message(data)
            if message is None:
                append({"event": event[0], "data": data, "id": event[2]})
                continue
        kind = message.event
        if kind != "message":
            if kind not in NTFY_CONTROL or event[0] != kind:
                append({"event": event[0], "data": data, "id": event[2]})
            continue
        if message.id in replayed:
            continue
        remember(message.id)
        append(
            _WatchLine(
                event[0],
                data,
                event[2],
                message.id,
                message.time,
                message.topic,
                message.title,
                message.message,
                message.priority,
                message.tags,
                message.click,
            )
        )
    return lines


def _write(out: BinaryIO, lines: list[_WatchLine | dict[str, str]]) -> None:
    # msgspec writes non-ASCII as UTF-8: DEL, C1 (CSI is one), bidi and zero-width characters
    # go out as \u escapes, like the C0 controls (one check when the block is ASCII)
    out.write(escape_json_bytes(_encode_lines(lines)))
    out.flush()


def state_line(state: FeedState, secrets: Iterable[str] = ()) -> str:
    """The stderr line for a state: one clean line, no secret, no URL credentials."""
    reason = one_line(redact(state.reason, secrets))
    if state.phase == "retrying":
        return f"feedview watch: retrying in {_wait(state)} (attempt {state.attempt}): {reason}"
    if state.phase == "connecting":
        return "feedview watch: connecting" + (f" (attempt {state.attempt + 1})" if state.attempt else "")
    return f"feedview watch: {state.phase}" + (f": {reason}" if reason else "")


def _wait(state: FeedState) -> str:
    seconds = max(0.0, (state.resume_at or time.time()) - time.time())
    return f"{seconds:.1f}s"


async def watch_json(options: dict, count: int | None, out: BinaryIO, err: TextIO) -> int:
    left = count
    secrets = header_secrets(options.get("headers"))
    batches = sse_batches(**options, interpret=line_objects)
    async with contextlib.aclosing(batches):
        async for batch in batches:
            state = batch[0]
            if type(state) is FeedState:  # states come alone, lines in batches of their own
                print(state_line(state, secrets), file=err, flush=True)
                if state.phase == "error":
                    return 1
                continue
            if left is not None and len(batch) >= left:
                _write(out, batch[:left])
                return 0
            _write(out, batch)
            if left is not None:
                left -= len(batch)
    return 0
