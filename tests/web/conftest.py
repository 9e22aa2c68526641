"""`feedview serve` in a real browser: Debian's Chromium, headless, driven by Playwright.

These tests run in their own pytest invocation (`pytest tests/web -p no:asyncio`): Playwright's
sync API runs an event loop of its own, which pytest-asyncio's does not share
(microsoft/playwright-pytest#167); the main run leaves tests/web out (pyproject's testpaths).
Where no browser can be had they are skipped with one line saying so, except under CI=true,
where that is a failure: CI installs Chromium (the README's test command).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator

import pytest
from served import CHROMIUM, CHROMIUM_ARGS, Served, is_running, start_serve


def _no_browser(reason: str) -> None:
    line = f"NO BROWSER: the web tests did not run: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{line} (CI=true: a skip here is a failure)", pytrace=False)
    pytest.skip(line)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the run, with a fresh profile."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _no_browser("the playwright package is not installed (pip install -e '.[test]')")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _no_browser(f"{CHROMIUM} not found (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="feedview-chromium-") as profile, sync_playwright() as playwright:
        try:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except Error as exc:
            _no_browser(f"{CHROMIUM} did not start: {str(exc).splitlines()[0]}")
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser):
    """A fresh tab; closed after the test."""
    tab = browser.new_page()
    yield tab
    if not tab.is_closed():
        tab.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    """Start `feedview serve` (stopped with SIGINT after the test, if still running)."""
    started: list[Served] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Served:
        served = start_serve(list(args), env)
        started.append(served)
        return served

    yield start
    for served in started:
        children = served.sessions()
        if served.process.poll() is None:
            served.stop()
        for pid in children:
            if is_running(pid):
                os.kill(pid, signal.SIGKILL)
