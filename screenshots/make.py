"""Make the README's screenshots from the real app: `python screenshots/make.py`.

Runs `feedview demo` headless (the lab in-process, every panel on its real feed),
waits for each panel to have something to show, and saves SVGs next to this file.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

from feedview.ui.app import FeedviewApp

HERE = Path(__file__).resolve().parent
SIZE = (150, 42)


async def until(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: gave up waiting for {what}")
        await asyncio.sleep(0.05)


def quiet_toasts(app: FeedviewApp) -> None:
    """No toast in a picture: they come and go with the demo's urgent notifications."""
    app.clear_notifications()
    app.screen_stack[0].query("#alerts").remove()


async def make() -> list[Path]:
    app = FeedviewApp(demo=True)
    saved: list[Path] = []

    def save(name: str) -> None:
        path = HERE / f"{name}.svg"
        path.write_text(app.export_screenshot(title=f"feedview demo: {name.replace('-', ' ')}"), encoding="utf-8")
        saved.append(path)

    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(lambda: len(app.panels) == 4, "the demo's panels")
            notifications, repos, health, inbox = app.panels
            await until(lambda: notifications.view.received >= 6, "six notifications")
            await until(lambda: len(repos.view.pages) >= 2, "two pages of repos")
            await until(
                lambda: (
                    all(len(r.latencies) >= 4 for r in health.view.checks.values()) and len(health.view.checks) == 4
                ),
                "four health samples per check",
            )
            await until(lambda: len(inbox.view.order) >= 5, "the GitHub inbox")
            quiet_toasts(app)
            await pilot.press("g")
            await pilot.pause(0.2)
            save("dashboard")
            await pilot.press("g", "2", "n")
            await until(lambda: len(repos.view.pages) >= 3, "the page after the next")
            await pilot.press("down", "down", "down")
            await pilot.pause(0.2)
            save("repos")
            await pilot.press("3")
            await pilot.pause(0.2)
            save("health")
            await pilot.press("4", "down")
            await pilot.pause(0.2)
            save("github-inbox")
            await pilot.press("1")
            await until(
                lambda: any(getattr(item, "click", None) for item, _ in notifications.view.entries),
                "a notification with a link",
            )
            quiet_toasts(app)
            entries = list(notifications.view.entries)
            row = next(i for i, (item, _) in enumerate(reversed(entries)) if getattr(item, "click", None))
            notifications.view.action_cursor_newest()
            await pilot.press(*(["down"] * row), "enter")
            await pilot.pause(0.3)
            save("notification-detail")
    finally:
        app.resources.close()
    return saved


if __name__ == "__main__":
    for path in asyncio.run(make()):
        print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
    sys.exit(0)
