"""`feedview watch URL`: one Server-Sent Events stream, as JSON lines or in the app.

With --json, stdout gets one JSON object per event, written and flushed once per
network chunk (a line per event as soon as its chunk arrives, without a system
call per event); connection state goes to stderr, one line each.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import time

from . import reader_left
from ..feeds.sse import json_lines, sse_batches
from ..feeds.state import FeedState


def feed_options(args) -> dict:
    return {
        "url": args.url,
        "headers": dict(args.header),
        "last_event_id": args.last_event_id,
        "idle_timeout": args.idle_timeout,
    }


def run(args) -> int:
    if not args.json:
        from ..config import PanelConfig
        from ..ui.app import run_panels

        return run_panels([PanelConfig(kind="notifications", title=args.url, options=feed_options(args))])
    try:
        return asyncio.run(watch_json(feed_options(args), args.count, sys.stdout.buffer, sys.stderr))
    except BrokenPipeError:
        return reader_left()


# msgspec writes non-ASCII as UTF-8; DEL and the C1 controls (one of them is CSI) must
# not reach a terminal raw, so they go out as \u escapes like the C0 ones.
_RAW_CONTROLS = re.compile(rb"\x7f|\xc2[\x80-\x9f]")


def _escape(found: re.Match) -> bytes:
    return b"\\u%04x" % ord(found.group().decode())


def _write(out, lines: list[bytes]) -> None:
    block = b"\n".join(lines) + b"\n"
    if b"\x7f" in block or b"\xc2" in block:
        block = _RAW_CONTROLS.sub(_escape, block)
    out.write(block)
    out.flush()


def state_line(state: FeedState) -> str:
    if state.phase == "retrying":
        return f"feedview watch: retrying in {_wait(state)} (attempt {state.attempt}): {state.reason}"
    if state.phase == "connecting":
        return "feedview watch: connecting" + (f" (attempt {state.attempt + 1})" if state.attempt else "")
    return f"feedview watch: {state.phase}" + (f": {state.reason}" if state.reason else "")


def _wait(state: FeedState) -> str:
    seconds = max(0.0, (state.resume_at or time.time()) - time.time())
    return f"{seconds:.1f}s"


async def watch_json(options: dict, count: int | None, out, err) -> int:
    left = count
    batches = sse_batches(**options, interpret=json_lines)
    async with contextlib.aclosing(batches):
        async for batch in batches:
            state = batch[0]
            if type(state) is FeedState:  # states come alone, lines in batches of their own
                if state.phase == "error":
                    print(f"feedview watch: error: {state.reason}", file=err, flush=True)
                    return 1
                print(state_line(state), file=err, flush=True)
                continue
            if left is not None and len(batch) >= left:
                _write(out, batch[:left])
                return 0
            _write(out, batch)
            if left is not None:
                left -= len(batch)
    return 0
