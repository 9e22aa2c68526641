"""Shared fixtures: a real lab on a loopback port, fresh for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers import ScriptedServer
from servers import wait_until as _wait_until

from feedview.lab import Lab, LabConfig, start_lab


@pytest.fixture
def lab() -> Iterator[Lab]:
    """A lab with default knobs on 127.0.0.1:<free port>."""
    with start_lab(LabConfig()) as running:
        yield running


@pytest.fixture
def make_lab():
    """Start labs with custom knobs: `lab = make_lab(latency_ms=50)`; all stopped after the test."""
    import contextlib

    with contextlib.ExitStack() as stack:

        def factory(**knobs) -> Lab:
            return stack.enter_context(start_lab(LabConfig(**knobs)))

        yield factory


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
