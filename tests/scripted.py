"""A scripted in-test feed for UI tests that are about keys and screens, not the network.

The app takes `feeds=`: a callable (config, **overrides) -> async iterator. Script is one:
it yields "open", then whatever the test puts, when it puts it; so a test drives the panel
item by item with no live stream repainting under its keys.
"""

from __future__ import annotations

import asyncio

from feedview.config import PanelConfig
from feedview.feeds.ntfy import Notification
from feedview.feeds.sse import SseEvent
from feedview.feeds.state import FeedState
from feedview.ui.app import FeedviewApp

NOW = 1_767_225_600.0  # 2026-01-01 00:00 UTC: the clock the scripted apps run on


def note(
    i: int, *, priority: int = 3, title: str = "", message: str = "", tags: tuple[str, ...] = (), time: float = NOW
) -> Notification:
    raw = {
        "id": f"n{i}",
        "time": int(time),
        "event": "message",
        "topic": "alerts",
        "title": title,
        "message": message or f"message {i}",
        "priority": priority,
        "tags": list(tags),
    }
    return Notification(f"n{i}", "alerts", SseEvent("message", "", ""), raw)


class Script:
    """An in-test feed: yields "open", then what the test queues."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()

    def put(self, *items) -> None:
        for item in items:
            self.queue.put_nowait(item)

    def __call__(self, config, **overrides):
        return self.feed()

    async def feed(self):
        yield FeedState("open")
        while True:
            yield await self.queue.get()


def scripted_app(script: Script | list[Script], *, panels: int = 1, layout: str = "tabs") -> FeedviewApp:
    """Notifications panels "Deploys 1", "Deploys 2"... on the script (a list: one script each)."""
    scripts = script if isinstance(script, list) else [script] * panels
    configs = [
        PanelConfig("notifications", f"Deploys {n + 1}", {"url": f"http://127.0.0.1:9/{n}"})
        for n in range(len(scripts))
    ]
    by_url = {config.options["url"]: each for config, each in zip(configs, scripts, strict=True)}
    return FeedviewApp(
        configs, feeds=lambda config, **_: by_url[config.options["url"]](config), clock=lambda: NOW, layout=layout
    )
