"""One tab's app: a child process that speaks Textual's web-driver protocol on its stdin and stdout.

Packets both ways are one type byte, a 4-byte big-endian length and the payload: to the app
"D" (keys, as a terminal would send them) and "M" (JSON: resize, focus, blur, quit); from the
app "D" (screen updates, for xterm.js), "M" (JSON: open_url, exit) and "P" (file delivery,
which feedview does not use). Every session ends within END_S of being asked (quit, then
SIGTERM, then SIGKILL): its app closes its feeds as it exits, and a killed one's sockets
close with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..text import one_line
from ..urls import http_url_problem
from .child import DRIVER, SPEC_ENV

PRELUDE = b"__GANGLION__\n"  # the web driver's first line: the app is up and speaks the protocol
MAX_PRELUDE = 64 * 1024  # before it: a warning or two on stdout, no more
MAX_PACKET = 32 * 1024 * 1024  # a full-screen frame in true colour is well under 1 MiB
QUIT_GRACE_S = 1.2  # the app's own exit (it closes its feeds) ...
TERM_GRACE_S = 0.4  # ... then SIGTERM (the driver exits the app on it too) ...
KILL_WAIT_S = 0.3  # ... then SIGKILL: END_S = 1.9 s at most, within the 2 s the issue asks
STDERR_WAIT_S = 0.1  # after its exit, the app's last words on stderr (why it failed) have this long
MAX_UNSENT = 1024 * 1024  # keys the app has not read yet: past this it is stuck, and the session ends
STDERR_TAIL = 8 * 1024
# The server's own variables, which an app has no business seeing (the token above all).
PRIVATE_ENV = ("FEEDVIEW_SERVE_TOKEN",)


class SessionError(Exception):
    """The app did not start; str() is one line."""


class InputBacklog(Exception):
    """The app has left more than MAX_UNSENT bytes of input unread: it is stuck, or slower
    than its page can type; the session ends rather than hold ever more of it."""


@dataclass
class Browser:
    """Where a session's output goes: the tab's websocket."""

    screen: Callable[[bytes], Awaitable[None]]  # xterm.js's bytes
    message: Callable[[str], Awaitable[None]]  # a JSON message for the page (open_url)
    close: Callable[[], Awaitable[object]]


def child_environment(spec: str, width: int, height: int) -> dict[str, str]:
    """The server's environment for the app, with the web driver and the tab's size.

    TEXTUAL_FPS is left alone: the user's, else feedview's own (feedview.ui sets it);
    textual-serve forced 60."""
    environment = {k: v for k, v in os.environ.items() if k not in PRIVATE_ENV}
    environment.update(
        TEXTUAL_DRIVER=DRIVER,
        TEXTUAL_COLOR_SYSTEM="truecolor",  # xterm.js
        TERM_PROGRAM="textual",  # (textual-serve's: Textual's features for its own front end)
        COLUMNS=str(width),
        ROWS=str(height),
        PYTHONUNBUFFERED="1",
    )
    environment[SPEC_ENV] = spec
    return environment


def packet(kind: bytes, payload: bytes) -> bytes:
    """One packet of the web driver's protocol: a type byte, the payload's length, the payload."""
    return kind + len(payload).to_bytes(4, "big") + payload


class Session:
    """One tab's app process and the pump that carries its screen to the tab."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._stderr: deque[bytes] = deque()
        self._stderr_size = 0
        self._ended_by_us = False
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def start(cls, spec: str, width: int, height: int) -> Session:
        """Start the app; SessionError (one line) if it cannot be started."""
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "feedview.web.child",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=child_environment(spec, width, height),
                # ctrl+c in the server's terminal goes to the server alone, which ends its
                # sessions in order; not straight to every app at once
                start_new_session=True,
            )
        except OSError as exc:
            raise SessionError(f"cannot start the dashboard: {exc.strerror or exc}") from None
        return cls(process)

    def run(self, browser: Browser) -> asyncio.Task[None]:
        """Carry the app's screen to the browser until the app ends; the task ends then."""
        assert self.process.stderr is not None
        self._tasks.append(asyncio.create_task(self._keep_stderr(self.process.stderr)))
        pump = asyncio.create_task(self._pump(browser))
        self._tasks.append(pump)
        return pump

    # -- to the app ----------------------------------------------------------------------

    def _send(self, kind: bytes, payload: bytes) -> None:
        """Queue a packet for the app without waiting for it to be read: a stuck app must not
        hold up the page's messages (a closed tab would go unnoticed) nor the session's end.
        InputBacklog once more than MAX_UNSENT bytes wait."""
        stdin = self.process.stdin
        if stdin is None or stdin.is_closing():
            return
        try:
            stdin.write(packet(kind, payload))
        except (ConnectionError, RuntimeError):
            return  # the app has gone: its pump ends the session
        if stdin.transport.get_write_buffer_size() > MAX_UNSENT:
            raise InputBacklog(f"the dashboard left over {MAX_UNSENT // 1024} KiB of input unread")

    def keys(self, text: str) -> None:
        """Keys from the page, as a terminal sends them (InputBacklog if the app is stuck)."""
        self._send(b"D", text.encode("utf-8", "replace"))

    def meta(self, **data: object) -> None:
        """A message for the app's driver: resize, focus, blur, quit (InputBacklog if stuck)."""
        self._send(b"M", json.dumps(data).encode())

    # -- from the app --------------------------------------------------------------------

    async def _pump(self, browser: Browser) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            await self._read_prelude(stdout)
            while True:
                head = await stdout.readexactly(5)
                size = int.from_bytes(head[1:], "big")
                if size > MAX_PACKET:
                    return
                payload = await stdout.readexactly(size)
                if head[:1] == b"D":
                    await browser.screen(payload)
                elif head[:1] == b"M":
                    await self._on_meta(payload, browser)
        except (asyncio.IncompleteReadError, ConnectionError, SessionError):
            return  # the app has exited (or never started): the session is over
        finally:
            await browser.close()

    @staticmethod
    async def _read_prelude(stdout: asyncio.StreamReader) -> None:
        seen = 0
        while seen < MAX_PRELUDE:
            line = await stdout.readline()
            if not line:
                raise SessionError("the dashboard exited before its first frame")
            if line == PRELUDE:
                return
            seen += len(line)
        raise SessionError("the dashboard does not speak the web driver's protocol")

    async def _on_meta(self, payload: bytes, browser: Browser) -> None:
        try:
            meta = json.loads(payload)
        except ValueError:
            return
        if not isinstance(meta, dict):
            return
        if meta.get("type") == "exit":
            await browser.close()
        elif meta.get("type") == "open_url":
            url = meta.get("url")
            if isinstance(url, str) and http_url_problem(url) is None:  # only http(s), as in the terminal
                await browser.message(json.dumps(["open_url", {"url": url, "new_tab": True}]))

    async def _keep_stderr(self, stderr: asyncio.StreamReader) -> None:
        """The app's stderr (a traceback, if it failed), its last STDERR_TAIL bytes only."""
        while chunk := await stderr.read(4096):
            self._stderr.append(chunk)
            self._stderr_size += len(chunk)
            while self._stderr_size - len(self._stderr[0]) >= STDERR_TAIL:
                self._stderr_size -= len(self._stderr.popleft())

    def failure(self) -> str | None:
        """One line on why the app ended, if it ended with an error of its own (not by our
        SIGTERM or SIGKILL)."""
        status = self.process.returncode
        if status in (None, 0) or self._ended_by_us:
            return None
        lines = b"".join(self._stderr).decode("utf-8", "replace").strip().splitlines()
        return one_line(f"the dashboard exited with status {status}" + (f": {lines[-1]}" if lines else ""))

    # -- the end -------------------------------------------------------------------------

    async def end(self) -> None:
        """End the app: ask it to quit (it closes its feeds), then SIGTERM, then SIGKILL.
        Returns once it has exited, within QUIT_GRACE_S + TERM_GRACE_S + KILL_WAIT_S (plus
        STDERR_WAIT_S), however much input it left unread: the quit is queued, not awaited."""
        process = self.process
        if process.returncode is None:
            with contextlib.suppress(InputBacklog):
                self.meta(type="quit")
            for stop, grace in ((None, QUIT_GRACE_S), (process.terminate, TERM_GRACE_S), (process.kill, KILL_WAIT_S)):
                if stop is not None:
                    with contextlib.suppress(ProcessLookupError):
                        stop()
                        # only a signal is ours: an app that exits with an error of its own
                        # (a crash at start racing the tab's close) still says why
                        self._ended_by_us = True
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(process.wait(), grace)
                    break
        if process.stdin is not None:
            process.stdin.close()
        if self._tasks:  # its stderr, to its end of file (the first task: see run)
            await asyncio.wait(self._tasks[:1], timeout=STDERR_WAIT_S)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
