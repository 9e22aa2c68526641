"""Lab endpoints: Server-Sent Events.

  GET  /events             generated notifications (deploys, alerts, CI, ...) with `id:`,
                           `event:`, ntfy-shaped JSON data, `retry:`, keepalive comments and
                           replay from Last-Event-ID out of a bounded history
  GET  /firehose           pre-rendered events written in large chunks, for benchmarks
  GET  /ntfy/{topic}/sse   ntfy's SSE subscription (no `id:` lines; `open`/`keepalive` events)
  POST /ntfy/{topic}       publish to it, as ntfy does (body = message; Title, Priority, Tags, Click)

The streams are plain ASGI so that bytes go out exactly as written. Every stream
calls LabState.stream_opened()/stream_closed() so tests can see connects and
disconnects. Knobs (query parameters) are listed in ENDPOINTS; the hostile ones that
/events and /ntfy/{topic}/sse share open the stream, in this order:

  retry=VALUE       `retry: VALUE` as given (/events sends `retry: 3000` unless told)
  retry_digits=N    `retry: 999...` with N digits (at most 1,000,000) instead
  data_lines=N      N empty `data:` lines, then the blank line that dispatches them
  blank_lines=N     N blank lines (at most 100,000,000 of either, written 64 KiB at a time)
  close_after=N     end the stream after N events; 0 ends it after the opening (with
                    retry=0: a reconnect storm)

Knobs reach the endpoints through faults.knobs(), so /_knobs/ prefixes and cycle= apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import string
import time
from bisect import bisect_left
from collections import OrderedDict, deque
from collections.abc import Iterator

from starlette.routing import Route

from .faults import knobs
from .state import LabConfig, LabState

# (path, what it is) for `feedview lab` and the index page
ENDPOINTS: list[tuple[str, str]] = [
    (
        "/events",
        "SSE notifications; knobs: interval=S retry=MS cut_after=N cut_mid=1 "
        "stall_stream=1 malformed=1 bad_json=1 gone_after=N retry_digits=N close_after=N "
        "data_lines=N blank_lines=N",
    ),
    (
        "/firehose?count=200000&size=200",
        "SSE firehose from pre-rendered bytes (resumes by Last-Event-ID); priority=P: every event P "
        "(default: 1..5 in turn)",
    ),
    (
        "/ntfy/{topic}/sse",
        "ntfy-compatible SSE subscription; since=ID|all|UNIXTIME|10m; poll=1 (cached only, then the end); "
        "cut_after=N resend=N "
        "retry=V retry_digits=N close_after=N data_lines=N blank_lines=N",
    ),
    (
        "/ntfy/{topic}",
        "POST: publish to an ntfy topic (body = message; Title/Priority/Tags/Click headers); "
        "GET: the topic's web page, as ntfy answers (not a stream)",
    ),
]

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
]
FIREHOSE_WRITE = 256 * 1024
OPENING_WRITE = 64 * 1024
MAX_OPENING_LINES = 100_000_000
MAX_RETRY_DIGITS = 1_000_000
NTFY_PRIORITIES = {"min": 1, "low": 2, "default": 3, "high": 4, "max": 5, "urgent": 5}
ID_ALPHABET = string.ascii_letters + string.digits

# (event type, topic, priorities, tags, title, message, click) for /events
STORIES = [
    (
        "deploy",
        "deploys",
        (3, 3, 4),
        ("rocket",),
        "Deployed {service} {version} to {env}",
        "{user} shipped {service} {version} ({commits} commits) to {env}.",
        "https://deploy.example.com/{service}/{version}",
    ),
    (
        "deploy",
        "deploys",
        (4, 5),
        ("rewind", "warning"),
        "Rollback: {service} on {env}",
        "Health checks failed after {version}; rolled back to the previous release.",
        "https://deploy.example.com/{service}",
    ),
    (
        "alert",
        "alerts",
        (5,),
        ("rotating_light",),
        "{service}: error rate {pct}%",
        "5xx responses above threshold on {env} for {minutes} minutes.",
        "https://grafana.example.com/d/{service}",
    ),
    (
        "alert",
        "alerts",
        (4,),
        ("warning",),
        "Disk {pct}% full on {host}",
        "/var is filling up on {host}: {free} GB left.",
        None,
    ),
    (
        "alert",
        "alerts",
        (2, 3),
        ("white_check_mark",),
        "Resolved: {service} latency",
        "p99 latency on {env} is back under 300 ms.",
        "https://grafana.example.com/d/{service}",
    ),
    (
        "ci",
        "ci",
        (2, 3),
        ("white_check_mark",),
        "CI passed: {repo}#{pr}",
        "{checks} checks passed on '{branch}' in {minutes}m.",
        "https://github.com/acme/{repo}/pull/{pr}",
    ),
    (
        "ci",
        "ci",
        (4,),
        ("x",),
        "CI failed: {repo}#{pr}",
        "{job} failed on '{branch}' after {minutes}m.",
        "https://github.com/acme/{repo}/actions",
    ),
    (
        "backup",
        "ops",
        (1, 2),
        ("floppy_disk",),
        "Nightly backup finished",
        "{free} GB copied from {host} in {minutes}m.",
        None,
    ),
    (
        "security",
        "security",
        (5,),
        ("lock", "warning"),
        "New admin login on {host}",
        "{user} signed in from a new device; check it was them.",
        "https://auth.example.com/audit",
    ),
]
WORDS = {
    "service": ("checkout", "search", "billing", "auth", "gateway", "notifier", "catalog"),
    "env": ("production", "staging", "eu-west", "us-east"),
    "user": ("alice", "bob", "chen", "dana", "emeka", "farah"),
    "host": ("db-1", "db-2", "web-3", "worker-7", "cache-2"),
    "repo": ("feedview", "api", "web", "infra", "mobile"),
    "branch": ("main", "release/2.4", "fix/login-loop", "feat/dark-mode"),
    "job": ("unit tests", "lint", "e2e (chromium)", "build (arm64)"),
}


def routes(config: LabConfig, state: LabState) -> list[Route]:
    topic = _Generated(config)
    ntfy = _Ntfy(config)
    return [
        Route("/events", _Events(config, state, topic)),
        Route("/firehose", _Firehose(config, state)),
        Route("/ntfy/{topic:str}/sse", _NtfySubscribe(config, state, ntfy)),
        Route("/ntfy/{topic:str}", _NtfyPublish(ntfy), methods=["POST", "PUT"]),
        Route("/ntfy/{topic:str}", _NtfyPage(), methods=["GET", "HEAD"]),
    ]


def _header(scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("utf-8", "replace")
    return None


def _number(params: dict[str, str], key: str, default: float, low: float = 0.0) -> float:
    try:
        value = float(params[key])
    except (KeyError, ValueError):
        return default
    return value if value >= low and value == value and value != float("inf") else default


async def _plain(send, status: int, body: bytes = b"", ctype: bytes = b"application/json") -> None:
    headers = [] if status == 204 else [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if status == 204 else body})


def _opening(params: dict[str, str], retry) -> Iterator[bytes]:
    """What a stream sends before its events: `retry:` and the lines data_lines= and
    blank_lines= ask for, in pieces of at most OPENING_WRITE bytes."""
    if "retry_digits" in params:
        retry = "9" * int(min(_number(params, "retry_digits", 1, low=1), MAX_RETRY_DIGITS))
    if retry is not None:
        yield f"retry: {retry}\n\n".encode()
    for key, line, end in (("data_lines", b"data:\n", b"\n"), ("blank_lines", b"\n", b"")):
        count = int(min(_number(params, key, 0), MAX_OPENING_LINES))
        if count:
            per_piece = OPENING_WRITE // len(line)
            piece = line * per_piece
            for _ in range(count // per_piece):
                yield piece
            yield line * (count % per_piece) + end


def _limit(params: dict[str, str], cut_after: int) -> int | None:
    """Events to send before ending: close_after= (0 allowed), else cut_after= (0: no end)."""
    close_after = _number(params, "close_after", -1)
    return int(close_after) if close_after >= 0 else (cut_after or None)


async def _stream(state: LabState, receive, send, body) -> None:
    """Send a 200 event stream written by body(write) until it returns, the client leaves
    or the lab shuts down (then the stream ends cleanly, as on a server restart)."""
    state.stream_opened()
    try:
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})

        async def write(data: bytes) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": True})

        async def writer() -> None:
            await body(write)

        async def left() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        async def stopped() -> None:
            while not state.stopping():  # noqa: ASYNC110 - uvicorn's should_exit is a flag, not an event
                await asyncio.sleep(0.05)

        tasks = [asyncio.ensure_future(writer()), asyncio.ensure_future(left()), asyncio.ensure_future(stopped())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if tasks[1].cancelled():  # the client is still there: end the body
            with contextlib.suppress(OSError):
                await send({"type": "http.response.body", "body": b""})
    finally:
        state.stream_closed()


def _ntfy_id(rng: random.Random) -> str:
    return "".join(rng.choice(ID_ALPHABET) for _ in range(12))


class _Generated:
    """The /events topic: event n is a pure function of (seed, n); the clock publishes.

    Events are published one every sse_interval_s seconds whether anyone listens or
    not (so a client that comes back has missed some), and a faster subscriber
    (`interval=`) publishes ahead. The last sse_history events can be replayed.
    """

    def __init__(self, config: LabConfig) -> None:
        self.config = config
        self.history: OrderedDict[int, float] = OrderedDict()  # event number -> publication time
        now = time.time()
        backlog = min(config.sse_backlog, config.sse_history)
        pace = config.sse_interval_s or 1.0
        for n in range(1, backlog + 1):
            self.history[n] = now - (backlog - n + 1) * pace
        self.published = backlog
        self.started = now - backlog * pace

    def latest(self) -> int:
        if self.config.sse_interval_s > 0:
            by_clock = int((time.time() - self.started) / self.config.sse_interval_s)
            self.published = max(self.published, by_clock - self.config.sse_history)
            self._publish_up_to(by_clock)
        return self.published

    def oldest(self) -> int:
        return max(1, self.latest() - self.config.sse_history + 1)

    def get(self, n: int) -> tuple[str, dict]:
        """(event type, ntfy-shaped message) of event n, publishing it if it is new."""
        self._publish_up_to(max(n, self.latest()))
        return self._render(n, self.history.get(n, time.time()))

    def _publish_up_to(self, n: int) -> None:
        now = time.time()
        while self.published < n:
            self.published += 1
            self.history[self.published] = now
            if len(self.history) > self.config.sse_history:
                self.history.popitem(last=False)

    def _render(self, n: int, when: float) -> tuple[str, dict]:
        rng = random.Random(f"{self.config.seed}:{n}")
        kind, topic, priorities, tags, title, message, click = rng.choice(STORIES)
        words: dict[str, object] = {key: rng.choice(options) for key, options in WORDS.items()}
        words.update(
            version=f"v{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
            commits=rng.randint(1, 40),
            pct=rng.randint(5, 99),
            minutes=rng.randint(1, 45),
            free=rng.randint(2, 80),
            pr=rng.randint(100, 2400),
            checks=rng.randint(4, 30),
        )
        body = {
            "id": _ntfy_id(rng),
            "time": int(when),
            "event": "message",
            "topic": topic,
            "title": title.format(**words),
            "message": message.format(**words),
            "priority": rng.choice(priorities),
            "tags": list(tags),
        }
        if click:
            body["click"] = click.format(**words)
        return kind, body


class _Events:
    def __init__(self, config: LabConfig, state: LabState, topic: _Generated) -> None:
        self.config, self.state, self.topic = config, state, topic

    async def __call__(self, scope, receive, send) -> None:
        params = knobs(scope)
        if "gone_after" in params:
            seen = self.state.bump(f"gone_after:{scope['query_string']!r}")
            if seen > _number(params, "gone_after", 0):
                await _plain(send, 204)
                return
        interval = _number(params, "interval", self.config.sse_interval_s)
        last = _header(scope, b"last-event-id") or ""
        start = int(last) + 1 if last.isascii() and last.isdigit() else self.topic.latest() + 1
        start = max(start, self.topic.oldest())
        retry = params.get("retry", self.config.sse_retry_ms)
        limit = _limit(params, int(_number(params, "cut_after", 0)))

        async def body(write) -> None:
            if params.get("stall_stream"):
                await asyncio.Event().wait()  # headers sent; not one byte more
            for piece in _opening(params, retry):
                await write(piece)
            if params.get("malformed"):
                await write(MALFORMED)
            backlog_end = self.topic.latest()  # replayed at once; later events are paced
            n, sent = start, 0
            last_write = due = time.monotonic()
            due += interval
            while True:
                if limit is not None and sent == limit:
                    if params.get("cut_mid"):
                        frame = self._frame(n, params)
                        await write(frame[: len(frame) // 2])
                    return
                if n > backlog_end:
                    now = time.monotonic()
                    if now < due:
                        keepalive_at = last_write + self.config.keepalive_s
                        await asyncio.sleep(min(due, keepalive_at) - now)
                        if time.monotonic() >= keepalive_at:
                            await write(b": keepalive\n\n")
                            last_write = time.monotonic()
                        continue
                    due = now + interval
                await write(self._frame(n, params))
                last_write = time.monotonic()
                n += 1
                sent += 1
                if interval == 0:
                    await asyncio.sleep(0)  # let the disconnect be noticed

        await _stream(self.state, receive, send, body)

    def _frame(self, n: int, params: dict[str, str]) -> bytes:
        kind, message = self.topic.get(n)
        data = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        if params.get("bad_json") and n % 2:
            data = data[: len(data) // 2]
        text = f"id: {n}\nevent: {kind}\ndata: {data}\n\n"
        if params.get("malformed"):
            # the same event with other line endings, an ignored field and a comment inside
            text = f"id: {n}\r\nevent: {kind}\r: in between\rignored: x\ndata: {data}\r\n\r\n"
        return text.encode()


# Lines a client must read and ignore: none of them dispatches or changes an ID.
MALFORMED = (
    b"\xef\xbb\xbfretry: soon\n"  # a BOM in the middle of a stream is not a BOM (unknown field)
    b"retry: -5\nretry: 1.5\nid: bad\x00id\nevent\nnonsense\n:comment\n\n"
    b"event: no-data\n\n"
)


class _Firehose:
    """GET /firehose?count=N&size=B[&priority=P]: N events with B bytes of ntfy-shaped JSON data
    each, their priorities cycling 1..5 (so two in five are urgent), or all P.

    Rendered once per (count, size) and sent in FIREHOSE_WRITE slices, so the lab
    writes far faster than any client parses. Last-Event-ID k resumes at k+1;
    once every event has been delivered it answers 204 (stop reconnecting).
    """

    def __init__(self, config: LabConfig, state: LabState) -> None:
        self.config, self.state = config, state
        self.rendered: tuple[tuple[int, int, int], bytes, list[int]] | None = None

    def render(self, count: int, size: int, priority: int = 0) -> tuple[bytes, list[int]]:
        if self.rendered is None or self.rendered[0] != (count, size, priority):
            now = int(time.time())
            empty = (
                f'{{"id":"fh{0:010d}","time":{now},"event":"message","topic":"firehose",'
                f'"title":"Event {0:07d}","message":"","priority":3,"tags":["zap"]}}'
            )
            pad = "x" * max(0, size - len(empty))
            frames = [
                f'id: {n}\ndata: {{"id":"fh{n:010d}","time":{now},"event":"message","topic":"firehose",'
                f'"title":"Event {n:07d}","message":"{pad}","priority":{priority or 1 + n % 5},"tags":["zap"]}}\n\n'
                for n in range(1, count + 1)
            ]
            offsets = [0]
            for frame in frames:
                offsets.append(offsets[-1] + len(frame))
            self.rendered = ((count, size, priority), "".join(frames).encode(), offsets)
        return self.rendered[1], self.rendered[2]

    async def __call__(self, scope, receive, send) -> None:
        params = knobs(scope)
        count = int(_number(params, "count", 10_000, low=1))
        size = int(_number(params, "size", 200, low=1))
        priority = int(_number(params, "priority", 0, low=0))
        if count > 5_000_000 or size > 65_536 or priority > 5:
            await _plain(send, 400, b'{"message":"count is at most 5000000 and size at most 65536"}')
            return
        last = _header(scope, b"last-event-id") or ""
        done = int(last) if last.isascii() and last.isdigit() else 0
        if done >= count:
            await _plain(send, 204)
            return
        blob, offsets = await asyncio.get_running_loop().run_in_executor(None, self.render, count, size, priority)
        view = memoryview(blob)

        async def body(write) -> None:
            for at in range(offsets[done], len(blob), FIREHOSE_WRITE):
                await write(bytes(view[at : at + FIREHOSE_WRITE]))

        await _stream(self.state, receive, send, body)


class _NtfyTopic:
    def __init__(self, keep: int) -> None:
        self.messages: deque[dict] = deque(maxlen=keep)
        self.changed = asyncio.Event()

    def publish(self, message: dict) -> None:
        self.messages.append(message)
        self.changed.set()
        self.changed = asyncio.Event()


class _Ntfy:
    def __init__(self, config: LabConfig) -> None:
        self.config = config
        self.topics: dict[str, _NtfyTopic] = {}
        self.rng = random.Random(config.seed)

    def topic(self, name: str) -> _NtfyTopic:
        if name not in self.topics:
            self.topics[name] = _NtfyTopic(self.config.sse_history)
        return self.topics[name]

    def control(self, topic: str, event: str) -> bytes:
        body = {"id": _ntfy_id(self.rng), "time": int(time.time()), "event": event, "topic": topic}
        return f"event: {event}\ndata: {json.dumps(body, separators=(',', ':'))}\n\n".encode()


def _valid_topic(name: str) -> bool:
    return 0 < len(name) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in name)


def _since(messages: list[dict], since: str | None, resend: int) -> list[dict]:
    """ntfy's since=: a message id (the ones after it), all, a unix time, or a duration."""
    if not since:
        return []
    if since == "all":
        return messages
    index = next((i for i, m in enumerate(messages) if m["id"] == since), None)
    if index is not None:
        return messages[max(0, index + 1 - resend) :]
    if since.isdigit():
        return messages[bisect_left([m["time"] for m in messages], int(since)) :]
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(since[-1:])
    if unit and since[:-1].isdigit():
        cutoff = time.time() - int(since[:-1]) * unit
        return [m for m in messages if m["time"] >= cutoff]
    return messages  # an id the server no longer has: everything it kept, as ntfy does


def _after(messages: deque[dict], last: dict | None) -> list[dict]:
    """The messages published after `last` (all that are kept if it is gone or None)."""
    kept = list(messages)
    return kept[next((i + 1 for i, m in enumerate(kept) if m is last), 0) :]


class _NtfySubscribe:
    def __init__(self, config: LabConfig, state: LabState, ntfy: _Ntfy) -> None:
        self.config, self.state, self.ntfy = config, state, ntfy

    async def __call__(self, scope, receive, send) -> None:
        name = scope["path_params"]["topic"]
        if not _valid_topic(name):
            await _plain(send, 400, b'{"code":40009,"http":400,"error":"invalid topic"}')
            return
        params = knobs(scope)
        topic = self.ntfy.topic(name)
        limit = _limit(params, int(_number(params, "cut_after", 0)))
        backlog = _since(list(topic.messages), params.get("since"), int(_number(params, "resend", 0)))
        newest = topic.messages[-1] if topic.messages else None

        async def body(write) -> None:
            for piece in _opening(params, params.get("retry")):  # ntfy sends no retry: unless asked
                await write(piece)
            await write(self.ntfy.control(name, "open"))
            if limit == 0:
                return
            sent = 0
            queue = backlog
            last = newest  # the newest message this subscriber has (or skipped, without since=)
            while True:
                for message in queue:
                    await write(f"data: {json.dumps(message, separators=(',', ':'))}\n\n".encode())
                    last = message
                    sent += 1
                    if sent == limit:
                        return
                if params.get("poll") in ("1", "true", "yes"):
                    return  # ntfy's poll=1: what is cached, then the end of the stream
                changed = topic.changed
                queue = _after(topic.messages, last)  # published while we were writing
                if queue:
                    continue
                try:
                    await asyncio.wait_for(changed.wait(), self.config.keepalive_s)
                except TimeoutError:
                    await write(self.ntfy.control(name, "keepalive"))
                queue = _after(topic.messages, last)

        await _stream(self.state, receive, send, body)


class _NtfyPage:
    """GET on a topic's own URL: ntfy answers with its web app (a page, not a stream)."""

    async def __call__(self, scope, receive, send) -> None:
        name = scope["path_params"]["topic"]
        page = f"<!doctype html><title>{name if _valid_topic(name) else 'ntfy'} - ntfy (lab)</title>".encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(page)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": page})


class _NtfyPublish:
    def __init__(self, ntfy: _Ntfy) -> None:
        self.ntfy = ntfy

    async def __call__(self, scope, receive, send) -> None:
        name = scope["path_params"]["topic"]
        if not _valid_topic(name):
            await _plain(send, 400, b'{"code":40009,"http":400,"error":"invalid topic"}')
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body") or len(body) > 4096:
                break
        params = knobs(scope)

        def field(*names: str) -> str:
            for key in names:
                value = _header(scope, key.lower().encode()) or params.get(key.lower())
                if value:
                    return value.strip()
            return ""

        priority_text = field("X-Priority", "Priority", "prio", "p").lower()
        priority = NTFY_PRIORITIES.get(priority_text) or (
            int(priority_text) if priority_text in ("1", "2", "3", "4", "5") else None
        )
        if priority_text and priority is None:
            await _plain(send, 400, b'{"code":40007,"http":400,"error":"invalid priority"}')
            return
        now = int(time.time())
        message = {
            "id": _ntfy_id(self.ntfy.rng),
            "time": now,
            "expires": now + 43200,
            "event": "message",
            "topic": name,
        }
        title = field("X-Title", "Title", "ti", "t")
        if title:
            message["title"] = title
        message["message"] = body[:4096].decode("utf-8", "replace") or "triggered"
        if priority and priority != 3:
            message["priority"] = priority
        tags = [t.strip() for t in field("X-Tags", "Tags", "tag", "ta").split(",") if t.strip()]
        if tags:
            message["tags"] = tags
        click = field("X-Click", "Click")
        if click:
            message["click"] = click
        self.ntfy.topic(name).publish(message)
        await _plain(send, 200, json.dumps(message, separators=(",", ":")).encode() + b"\n")
