"""Server-Sent Events: a spec-exact, resumable feed. (Contract; filled in by its issue.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .state import FeedState


@dataclass(frozen=True)
class SseEvent:
    """One dispatched event, as the WHATWG event-stream rules define it."""

    type: str  # the event type ("message" when no `event:` field)
    data: str
    last_event_id: str


@dataclass(frozen=True)
class Notification:
    """An event whose data is an ntfy-shaped message."""

    id: str
    time: int  # epoch seconds
    topic: str
    title: str
    message: str
    priority: int  # 1 (min) .. 5 (max); 3 when absent
    tags: tuple[str, ...]
    click: str | None
    event: SseEvent = field(repr=False)  # the raw event it came from
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


SseItem = SseEvent | Notification | FeedState


def sse_feed(url: str, **options: Any) -> AsyncIterator[SseItem]:
    raise NotImplementedError
