"""SVG snapshots of each panel, on the lab through the real feeds.

What the lab sends is deterministic for its seed; what varies from run to run
(wall-clock times, measured latencies, how many items arrive before the
picture) is pinned here: the app's clock is fixed, each feed is cut after a set
number of items, and times and latencies in those items are set to fixed values.
Update with: pytest tests/functional/ui/test_ui_snapshots.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC
from typing import Any

import pytest
from scripted import RecordingApp, screen_text
from servers import wait_until

from feedview.config import PanelConfig
from feedview.feeds.state import FeedState
from feedview.kinds import kind_of

NOW = 1_767_225_600.0  # 2026-01-01 00:00 UTC
SIZE = (120, 32)


def pinned_feeds(
    limit: int, pin: Callable[[Any, int], Any], pin_state: Callable[[FeedState], FeedState | None] | None = None
) -> Callable[..., AsyncIterator[Any]]:
    """The real feed for each panel, cut after `limit` data items, each item passed through
    `pin(item, index)`; an item that `pin` turns into None is left out. States: "open" ones
    pass, the others only as `pin_state` makes them (their times vary from run to run).
    A view that takes batches gets the cut's items in one batch: how fast they came would
    show (the notifications panel's rate). At the cut the real feed is closed (the lab stops
    sending: a busy server would keep the process from the idle that the screenshot waits
    for) and the panel's stays open."""

    def feeds(config: PanelConfig, *, batches: bool = False, **overrides: Any) -> AsyncIterator[Any]:
        async def cut() -> AsyncIterator[Any]:
            held: list[Any] = []
            async for item in pinned(kind_of(config.kind).open_feed({**config.options, **overrides}, batches)):
                if batches and not isinstance(item, FeedState):
                    held.append(item)
                else:
                    yield item
            if held:
                yield held
            await asyncio.Event().wait()

        async def pinned(real: AsyncIterator[Any]) -> AsyncIterator[Any]:
            taken = 0
            async with contextlib.aclosing(real) as feed:
                async for chunk in feed:
                    for item in chunk if isinstance(chunk, list) else [chunk]:  # batches or items
                        if isinstance(item, FeedState):
                            state = item if item.phase == "open" else pin_state and pin_state(item)
                            if state is not None:
                                yield state
                            continue
                        pinned_item = pin(item, taken)
                        if pinned_item is None:
                            continue
                        yield pinned_item
                        taken += 1
                        if taken == limit:
                            return

        return cut()

    return feeds


def replace(item: Any, **changes: Any) -> Any:
    """A copy with some fields changed, for the feeds' dataclasses and named tuples alike."""
    return item._replace(**changes) if hasattr(item, "_replace") else dataclasses.replace(item, **changes)


def at(item, when: float):
    """A notification as if sent at `when` (its raw JSON too)."""
    return replace(item, raw={**item.raw, "time": int(when)})


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """Absolute times render in local time: pin the zone so the pictures match anywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_notifications_panel(snap_compare, lab):
    def pin(item, index):
        return at(item, NOW - 47 * index)

    config = PanelConfig(
        "notifications", "Notifications", {"url": lab.url("/events?interval=0.01"), "last_event_id": "0"}
    )
    # no toasts in the picture: when one lands is up to Textual's toast rack, not to us
    # (toasts and the bell are tested in test_ui_notifications.py)
    app = RecordingApp([config], feeds=pinned_feeds(14, pin), clock=lambda: NOW, show_toasts=False)

    async def ready(pilot):
        await wait_until(lambda: "14 received" in screen_text(app))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_notification_detail(snap_compare, lab):
    config = PanelConfig(
        "notifications", "Notifications", {"url": lab.url("/events?interval=0.01"), "last_event_id": "0"}
    )
    app = RecordingApp(
        [config], feeds=pinned_feeds(3, lambda item, i: at(item, NOW - 90)), clock=lambda: NOW, show_toasts=False
    )

    async def ready(pilot):
        await wait_until(lambda: "3 received" in screen_text(app))
        await pilot.press("down", "enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_repos_panel(snap_compare, lab):
    def pin(page, index):
        return replace(page, rate=replace(page.rate, reset=int(NOW) + 3600))

    config = PanelConfig(
        "repos", "octo-org", {"owner": "octo-org", "org": True, "base_url": lab.base_url, "token": lab.config.token}
    )
    app = RecordingApp([config], feeds=pinned_feeds(2, pin), clock=lambda: NOW)

    async def ready(pilot):
        await wait_until(lambda: app.panels and len(app.panels[0].view.pages) == 2)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_health_panel(snap_compare, lab):
    latencies = [12.0, 18.0, 9.0]
    per_check = 3
    seen: dict[int, int] = {}

    def pin(sample, index):
        count = seen.get(sample.check_id, 0)
        if count == per_check:
            return None  # this check is done; the others catch up
        seen[sample.check_id] = count + 1
        latency = None if sample.latency_ms is None else latencies[count] * (1 + sample.check_id)
        stats = sample.stats and replace(sample.stats, last_change=NOW - 60)
        return replace(sample, time=NOW - 1, next_at=NOW + 4, latency_ms=latency, stats=stats)

    checks = [{"url": lab.url(f"/health/{name}"), "name": name} for name in ("api", "payments", "legacy")]
    checks.append({"url": lab.url("/health/cache?pattern=ppw"), "name": "cache"})
    config = PanelConfig("health", "Services", {"checks": checks, "interval": 0.05, "jitter": 0.0})
    app = RecordingApp([config], feeds=pinned_feeds(len(checks) * per_check, pin), clock=lambda: NOW)

    async def ready(pilot):
        def shown() -> bool:  # every check's row on the table, with its three latencies
            table = app.panels[0].view if app.panels else None
            return (
                table is not None
                and table.row_count == len(checks)
                and all(len(table.get_row_at(row)[4].plain) == per_check for row in range(len(checks)))
            )

        await wait_until(shown, message="every check's row with its three latencies")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_github_notifications_panel(snap_compare, make_lab):
    from datetime import datetime

    lab = make_lab(extra={"notifications_poll_interval": 0.05, "notifications_new_every": 0})

    def pin(thread, index):
        stamp = datetime.fromtimestamp(NOW - 300 * (index + 1), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return replace(thread, updated_at=stamp)

    config = PanelConfig("github-notifications", "Inbox", {"base_url": lab.base_url, "token": lab.config.token})

    def pin_state(state):  # the routine wait between polls, as if the next were 42 s away
        return dataclasses.replace(state, resume_at=NOW + 42) if state.phase == "idle" else None

    app = RecordingApp([config], feeds=pinned_feeds(100, pin, pin_state), clock=lambda: NOW)  # 10 unread in all

    async def ready(pilot):
        await wait_until(
            lambda: app.panels and len(app.panels[0].view.order) == 10 and app.panels[0].state.resume_at == NOW + 42
        )
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)
