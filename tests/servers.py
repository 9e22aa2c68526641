"""Loopback servers and helpers the tests share (a helper module, not a test module).

ScriptedServer writes exactly the bytes a test scripts (event streams, cut connections,
hostile bodies); RouteServer answers `path?query` from a table, JSON or raw bytes.
conftest.py offers them as fixtures (`raw`, `wait_until`); tests that need the classes
themselves (HOLD, Gate, a TLS server) import them from here, as they do the helpers that
read feeds with a deadline (`collect`, `take`, `take_samples`, `samples_of`) and the ones
that run `feedview` as a user does, in a process of its own (`feedview`, `start_feedview`,
`feedview_process`). tests/scripted.py has the dashboard's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from feedview.feeds.state import FeedState

SSE = [("Content-Type", "text/event-stream")]
FAST = {"reconnect_s": 0.01, "backoff_max_s": 0.02, "min_reconnect_s": 0.01}  # SSE waits, floor included


class Gate:
    """A point in a script where the server waits until the test opens it."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def open(self) -> None:
        self.event.set()


HOLD = object()  # keep the connection open until the client leaves


@dataclass
class Reply:
    status: str = "200 OK"
    headers: list[tuple[str, str]] = field(default_factory=lambda: list(SSE))
    steps: tuple = ()


@dataclass
class Seen:
    target: str
    headers: dict[str, str]


class ScriptedServer:
    """An HTTP/1.1 server that writes exactly the bytes a test scripts.

    Bodies are delimited by closing the connection, so nothing (no chunked
    framing) stands between the script and the client's parser. Once the scripts
    run out, each connection is answered 204.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls  # serve https with this context
        self.replies: deque[Reply] = deque()
        self.requests: list[Seen] = []
        self.disconnects = 0
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def reply(self, *steps, status: str = "200 OK", headers: list[tuple[str, str]] | None = None) -> None:
        self.replies.append(Reply(status, list(SSE) if headers is None else headers, steps))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            self.requests.append(Seen(request_line.split()[1], headers))
            reply = self.replies.popleft() if self.replies else Reply("204 No Content", [], ())
            extra = "".join(f"{k}: {v}\r\n" for k, v in reply.headers)
            writer.write(f"HTTP/1.1 {reply.status}\r\n{extra}Connection: close\r\n\r\n".encode("latin-1"))
            for step in reply.steps:
                if isinstance(step, bytes):
                    writer.write(step)
                    await writer.drain()
                elif isinstance(step, Gate):
                    await step.event.wait()
                elif step is HOLD:
                    await reader.read()  # b"" once the client has closed its end
            writer.close()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.disconnects += 1

    async def __aenter__(self) -> ScriptedServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.server.wait_closed(), 2)


Route = tuple[int, dict[str, str], object]  # or a callable returning one, asked per request


class RouteServer:
    """Answers each `path?query` from a table, exactly as written; records what it was asked."""

    def __init__(self, routes: dict[str, object]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aenter__(self) -> RouteServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        target = head[0].split(" ")[1]
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        self.requests.append((target, headers))
        route = self.routes.get(target, (404, {}, {"message": "Not Found"}))
        status, extra, body = route() if callable(route) else route
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()  # bytes: as they are
        lines = [
            f"HTTP/1.1 {status} X",
            f"Content-Length: {len(payload)}",
            "Content-Type: application/json",
            "Connection: close",
            *(f"{k}: {v}" for k, v in extra.items()),
        ]
        if head[0].startswith("HEAD "):
            payload = b""  # a HEAD response has headers only (Content-Length says what a GET would get)
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
        await writer.drain()
        writer.close()


async def collect(feed, until: Callable[[list], bool], timeout: float = 10.0) -> list:
    """Every item (states too) until until(items) holds or a final state, with a deadline."""
    items: list = []

    async def run() -> None:
        async for item in feed:
            items.append(item)
            if until(items) or (isinstance(item, FeedState) and item.final):
                return

    await asyncio.wait_for(run(), timeout)
    return items


async def take(feed, count: int, timeout: float = 5.0) -> list:
    """The next `count` items (not states) from feed, with a deadline; fewer if it ends."""
    got: list = []

    async def run() -> None:
        async for item in feed:
            if not isinstance(item, FeedState):
                got.append(item)
                if len(got) == count:
                    return
            elif item.final:
                return

    await asyncio.wait_for(run(), timeout)
    return got


async def take_samples(feed, n: int, keep: Callable[[Any], bool] = lambda sample: True, timeout: float = 15.0) -> list:
    """The first n items of a health feed that `keep` accepts, with a deadline."""
    taken: list = []
    async with asyncio.timeout(timeout):
        async for sample in feed:
            if keep(sample):
                taken.append(sample)
                if len(taken) == n:
                    return taken
    raise AssertionError("the feed ended early")


async def samples_of(checks, n: int, **options) -> list:
    """The first n samples of a health feed on these checks (URLs or HealthChecks)."""
    from feedview.feeds.health import health_feed

    async with contextlib.aclosing(health_feed(checks, **options)) as feed:
        return await take_samples(feed, n)


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, message: str = "") -> None:
    """Wait on a condition with a deadline (never a bare sleep as synchronisation)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {message or predicate}")
        await asyncio.sleep(0.01)


def free_port() -> int:
    """A loopback port nothing listens on (as far as anyone can know: a refused connection)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- feedview as a user runs it: a process of its own ---------------------------------------------

TOKEN_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")
FEEDVIEW = (sys.executable, "-m", "feedview.cli")


def cli_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without the GitHub tokens feedview would pick up, plus `extra`."""
    return {**{k: v for k, v in os.environ.items() if k not in TOKEN_VARIABLES}, **(extra or {})}


def feedview(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """`feedview ARGS` to its end: exit code, stdout and stderr as text."""
    return subprocess.run([*FEEDVIEW, *args], capture_output=True, text=True, timeout=timeout, env=cli_environment(env))


def start_feedview(*args: str) -> subprocess.Popen:
    """`feedview ARGS` running, its output in text pipes (for interrupts and early readers)."""
    return subprocess.Popen(
        [*FEEDVIEW, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_environment()
    )


async def feedview_process(*args: str) -> asyncio.subprocess.Process:
    """`feedview ARGS` as an asyncio child, for tests whose server runs on the test's own loop."""
    return await asyncio.create_subprocess_exec(
        *FEEDVIEW, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=cli_environment()
    )
