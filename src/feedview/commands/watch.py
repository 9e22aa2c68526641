"""`feedview watch URL`: one Server-Sent Events stream, as JSON lines or in the app.

With --json, stdout gets one JSON object per event, written and flushed once per
network chunk (a line per event as soon as its chunk arrives, without a system
call per event); connection state goes to stderr, one line each. Both are safe
for a terminal: JSON escapes what a terminal must not see raw (DEL, C1, bidi and
zero-width characters), and state lines are sanitized, with header values and
URL credentials redacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Iterable

from ..feeds.sse import header_secrets, json_lines, sse_batches
from ..feeds.state import FeedState
from ..text import escape_json_bytes, one_line, redact
from . import reader_left


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


def _write(out, lines: list[bytes]) -> None:
    # msgspec writes non-ASCII as UTF-8: DEL, C1 (CSI is one), bidi and zero-width characters
    # go out as \u escapes, like the C0 controls (one check when the block is ASCII)
    out.write(escape_json_bytes(b"\n".join(lines) + b"\n"))
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


async def watch_json(options: dict, count: int | None, out, err) -> int:
    left = count
    secrets = header_secrets(options.get("headers"))
    batches = sse_batches(**options, interpret=json_lines)
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
