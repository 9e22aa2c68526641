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
from typing import NoReturn

import pytest
from served import CHROMIUM, CHROMIUM_ARGS, CLI, Served, is_running, start_serve

NO_BROWSER = "NO BROWSER: the web tests did not run"


def browser_missing() -> str | None:
    """Why no browser can be driven here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"{CHROMIUM} not found (apt-get install -y chromium)"
    return None


def _no_browser(reason: str) -> NoReturn:
    line = f"{NO_BROWSER}: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{line} (CI=true: a skip here is a failure)", pytrace=False)
    pytest.skip(line)


def pytest_configure(config: pytest.Config) -> None:
    """Without a browser (and not in CI), one line says so at the end, not one per test."""
    if browser_missing() is not None and os.environ.get("CI") != "true":
        config.option.reportchars = config.option.reportchars.replace("a", "fE").replace("s", "")


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if NO_BROWSER in str(r.longrepr)]
    if skipped:
        reason = str(skipped[0].longrepr[-1]).removeprefix("Skipped: ")
        terminalreporter.write_line(f"{reason} ({len(skipped)} skipped)", red=True, bold=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the run, with a fresh profile."""
    missing = browser_missing()
    if missing is not None:
        _no_browser(missing)
    from playwright.sync_api import Error, sync_playwright

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

    def start(*args: str, env: dict[str, str] | None = None, cli: list[str] = CLI) -> Served:
        served = start_serve(list(args), env, cli)
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
