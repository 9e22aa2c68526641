"""The dashboard under test: in-test feeds, an app that records what it shows, and the
screen read through Textual's public API (a helper module, not a test module).

Key tests drive the app with `Scripts` (feeds that yield what the test queues) rather
than a live stream: `pilot.press` waits until the process spends no CPU for a moment (the
lab's thread counts too), and a live stream keeps it busy up to its one-second cap, twice
a key. Tests that are about the network (a dismissed panel closes its connection and the
server sees it) keep the lab and send keys with `send_key`, then wait on what the server saw.

`scripted_app(script)` is a dashboard of notifications panels on scripts, `note(i)` an ntfy
notification for them; `Scripts` gives each panel of any app its own script, by title.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from textual import events
from textual.message import Message

from feedview.config import PanelConfig
from feedview.feeds.ntfy import Notification
from feedview.feeds.sse import SseEvent
from feedview.feeds.state import FeedState
from feedview.ui.app import FeedviewApp

NOW = 1_767_225_600.0  # 2026-01-01 00:00 UTC: the clock the scripted apps run on


def note(
    i: int, *, priority: int = 3, title: str = "", message: str = "", tags: tuple[str, ...] = (), time: float = NOW
) -> Notification:
    """An ntfy notification numbered i ("n{i}") on the topic "alerts"."""
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
    return Notification.of(f"n{i}", "alerts", SseEvent("message", "", ""), raw)


class Script:
    """One in-test feed: opens, then yields what the test queues; counts what was pulled."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        self.pulled = 0
        self.opened = 0
        self.closed = 0  # feeds closed (aclosing ran the generator's finally)

    def put(self, *items: Any) -> None:
        for item in items:
            self.queue.put_nowait(item)

    def __call__(self, config: PanelConfig, *, batches: bool = False, **overrides: Any) -> AsyncIterator[Any]:
        return self.feed()

    @property
    def open(self) -> bool:
        return self.opened > self.closed

    async def feed(self) -> AsyncIterator[Any]:
        self.opened += 1
        try:
            yield FeedState("open")
            while True:
                item = await self.queue.get()
                self.pulled += 1
                yield item
        finally:
            self.closed += 1


class Scripts:
    """The app's `feeds=`: a Script per panel title, made when the panel first opens its feed."""

    def __init__(self) -> None:
        self.by_title: dict[str, Script] = {}
        self.configs: list[PanelConfig] = []  # every config a feed was opened for, in order

    def __getitem__(self, title: str) -> Script:
        return self.by_title.setdefault(title, Script())

    def __call__(self, config: PanelConfig, *, batches: bool = False, **overrides: Any) -> AsyncIterator[Any]:
        self.configs.append(config)
        return self[config.title or ""](config, batches=batches, **overrides)


def scripted_app(script: Script | list[Script], *, panels: int = 1, layout: str = "tabs") -> RecordingApp:
    """Notifications panels "Deploys 1", "Deploys 2"... on the script (a list: one script each)."""
    scripts = script if isinstance(script, list) else [script] * panels
    configs = [
        PanelConfig("notifications", f"Deploys {n + 1}", {"url": f"http://127.0.0.1:9/{n}"})
        for n in range(len(scripts))
    ]
    by_url = {config.options["url"]: each for config, each in zip(configs, scripts, strict=True)}
    return RecordingApp(
        configs, feeds=lambda config, **_: by_url[config.options["url"]](config), clock=lambda: NOW, layout=layout
    )


@dataclass(frozen=True)
class Toast:
    message: str
    title: str
    severity: str
    markup: bool


class RecordingApp(FeedviewApp):
    """FeedviewApp that writes down each toast and bell (through their public methods), with
    animations off: `pilot.press` waits for every animation to end, and the tab bar's
    underline slides for a third of a second at each change of tab.

    `show_toasts=False` keeps toasts out of the picture (snapshots): when Textual's toast
    rack shows one is its business, not ours."""

    # Textual reads CSS_PATH next to the module that defines the class: point it back at the app's
    CSS_PATH = str(Path(sys.modules[FeedviewApp.__module__].__file__).with_name(str(FeedviewApp.CSS_PATH)))

    def __init__(self, *args: Any, show_toasts: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.animation_level = "none"
        self.show_toasts = show_toasts
        self.toasts: list[Toast] = []
        self.bells = 0

    def notify(self, message: str, *, title: str = "", severity: str = "information", markup: bool = True, **kw: Any):
        self.toasts.append(Toast(message, title, severity, markup))
        if self.show_toasts:
            super().notify(message, title=title, severity=severity, markup=markup, **kw)

    def bell(self) -> None:
        self.bells += 1
        super().bell()


class Messages:
    """A `run_test(message_hook=...)` that keeps the messages of the given kinds, each once, in
    the order they were first handled (a message that bubbles is handled on each widget up)."""

    def __init__(self, *kinds: type[Message]) -> None:
        self.kinds = kinds
        self.kept: dict[int, Message] = {}  # by id: each message object once

    def __call__(self, message: Message) -> None:
        if isinstance(message, self.kinds):
            self.kept.setdefault(id(message), message)

    def __iter__(self) -> Iterator[Message]:
        return iter(list(self.kept.values()))


def send_key(app: FeedviewApp, key: str) -> None:
    """A key as the terminal driver sends it, without `pilot.press`'s wait for every widget
    to settle (a key that removes a widget, as ctrl+w does, leaves that wait hanging):
    wait on its effect afterwards."""
    app.post_message(events.Key(key, key if len(key) == 1 else None))


_TEXT = re.compile(r'<text [^>]*?x="([0-9.e+]+)"[^>]*?textLength="([0-9.e+]+)"[^>]*?-line-(\d+)\)">(.*?)</text>')


def screen_lines(app: FeedviewApp) -> list[str]:
    """The screen as lines of text, read from `export_screenshot` (Textual's public way to the
    whole picture). Every character is kept as sent, controls included."""
    lines: dict[int, str] = {}
    for x, length, line, escaped in _TEXT.findall(app.export_screenshot()):
        text = html.unescape(escaped.replace("&#160;", " "))  # the SVG writes spaces as nbsp
        column = round(float(x) / (float(length) / len(text)))
        before = lines.get(int(line), "")
        lines[int(line)] = before + " " * (column - cell_len(before)) + text
    return [lines.get(y, "") for y in range(app.size.height)]


def screen_text(app: FeedviewApp) -> str:
    return "\n".join(screen_lines(app))
