"""Shared fixtures: a real lab on a loopback port, fresh for each test."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

import pytest
from servers import ScriptedServer
from servers import wait_until as _wait_until

from feedview.lab import Lab, LabConfig, start_lab


def pytest_configure(config) -> None:
    """Children started by a run in the background (`pytest &`, some CI runners) would inherit
    an ignored SIGINT, and the ctrl+c tests would wait for an interrupt that never lands:
    a handler of our own makes the children start with the default one."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # The app and its commands keep history in the user's state directory: tests (and the
    # feedview processes they start) keep none, unless a test points FEEDVIEW_HISTORY at a file.
    os.environ.setdefault("FEEDVIEW_HISTORY", "off")


@pytest.fixture(scope="session")
def _stopping_labs() -> Iterator[list[threading.Thread]]:
    """Labs being stopped in the background; all of them have stopped when the session ends."""
    stopping: list[threading.Thread] = []
    yield stopping
    for thread in stopping:
        thread.join(timeout=10)
    assert not [thread for thread in stopping if thread.is_alive()], "a lab did not stop"


@contextlib.contextmanager
def _labs(stopping: list[threading.Thread]) -> Iterator[contextlib.ExitStack]:
    """Labs entered on the stack are stopped in a thread of their own after the test: uvicorn's
    shutdown sleeps 0.1 to 0.3 s, and a fresh lab per test would otherwise add that to each."""
    stack = contextlib.ExitStack()
    try:
        yield stack
    finally:
        thread = threading.Thread(target=stack.close, name="lab-stop", daemon=True)
        thread.start()
        stopping.append(thread)


@pytest.fixture
def lab(_stopping_labs) -> Iterator[Lab]:
    """A lab with default knobs on 127.0.0.1:<free port>."""
    with _labs(_stopping_labs) as stack:
        yield stack.enter_context(start_lab(LabConfig()))


@pytest.fixture
def make_lab(_stopping_labs):
    """Start labs with custom knobs: `lab = make_lab(latency_ms=50)`; all stopped after the test."""
    with _labs(_stopping_labs) as stack:
        yield lambda **knobs: stack.enter_context(start_lab(LabConfig(**knobs)))


@pytest.fixture
async def raw():
    """A ScriptedServer (tests/servers.py) on a free loopback port: `raw.reply(b"data: a\\n\\n", HOLD)`."""
    async with ScriptedServer() as server:
        yield server


@pytest.fixture
def wait_until():
    """`await wait_until(predicate, timeout, message)`: a condition with a deadline, never a bare sleep."""
    return _wait_until


class Browser:
    """A real browser command for $BROWSER that writes down each URL it is asked to open."""

    def __init__(self, folder) -> None:
        self.log = folder / "opened.txt"
        self.command = folder / "browser"
        self.command.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{self.log}"\n')
        self.command.chmod(0o755)

    def opened(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def browser(tmp_path, monkeypatch) -> Browser:
    """$BROWSER set to a recording command (started in the background, as graphical browsers are)."""
    recorder = Browser(tmp_path)
    monkeypatch.setenv("BROWSER", f"{recorder.command} %s &")
    return recorder


@pytest.fixture
def no_browser(tmp_path, monkeypatch) -> None:
    """A machine without a graphical browser (as over SSH): $BROWSER names a console one."""
    monkeypatch.setenv("BROWSER", "lynx-that-is-not-here %s")
