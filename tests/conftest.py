"""Shared fixtures: a real lab on a loopback port, fresh for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from feedview.lab import Lab, LabConfig, start_lab
from servers import ScriptedServer
from servers import wait_until as _wait_until


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
