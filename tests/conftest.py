"""Shared fixtures: a real lab on a loopback port, fresh for each test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest

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


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, message: str = "") -> None:
    """Wait on a condition with a deadline (never a bare sleep as synchronisation)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {message or predicate}")
        await asyncio.sleep(0.01)
