"""Feed items to stored rows and back, and each kind's identity in the store.

A notification is stored as its event's data exactly as it arrived (ntfy: the message's
JSON object), and read back through the feed's own reader (`notification_items`), so a
stored item is the very item the feed made, with the same validation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec

from ..feeds.eventstream import SseEvent
from ..feeds.github_client import RateLimit
from ..feeds.github_pages import EtagCache, Page
from ..feeds.ntfy import Notification, SeenIds, notification_items
from .history import PanelStore, Row, StoredItem

_encode = msgspec.json.Encoder().encode


def new_items(batch: list[Any], received: float) -> list[Row]:
    """Notifications and SseEvents as the store keeps them (NewItem's fields, "" and 0 for none).
    One flat comprehension over the feed's own fields, making plain tuples: it runs on the event
    loop, for every item of a firehose (a third of the time of a call and a NewItem an item)."""
    return [
        (
            (message := item.ntfy).id,
            received,
            message.time,
            message.priority,
            "" if item.type == "message" else item.type,
            item.last_event_id,
            item.data or _own_payload(item),
        )
        if type(item) is Notification
        else _event(item, received)
        for item in batch
    ]


def _own_payload(item: Notification) -> str:
    """The payload of a notification made in-process (tests, the demo): its raw object."""
    return _encode(dict(item.raw) or {"id": item.id, "topic": item.topic}).decode()


def _event(event: SseEvent, received: float) -> Row:
    kind = "" if event.type == "message" else event.type
    return ("", received, 0, 3, kind, event.last_event_id, event.data)


def items_of(rows: Iterable[StoredItem]) -> list[tuple[Any, float]]:
    """Stored rows as (item, received) pairs, each item read as the feed reads it."""
    rows = list(rows)
    if not rows:
        return []
    events = [SseEvent(row.event, row.payload, row.event_id) for row in rows]
    seen = SeenIds(1)
    items: list[tuple[Any, float]] = []
    for row, event in zip(rows, events, strict=True):
        made = notification_items([event], seen)
        seen.recent.clear()
        items.append((made[0] if made else event, row.received))
    return items


def resume_cursors(item: Any) -> dict[str, str]:
    """Where a stream resumes after this item: its Last-Event-ID, and its ntfy id (since=)."""
    cursors = {}
    if item.last_event_id:  # (a Notification keeps its event's id, as the SseEvent has it)
        cursors["last_event_id"] = item.last_event_id
    if isinstance(item, Notification):
        cursors["ntfy_id"] = item.id
    return cursors


def without_credentials(url: str) -> str:
    """A URL with no user, password or fragment: part of an identity, never a secret."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return url.rpartition("@")[2]
    return urlunsplit((parts.scheme.lower(), host.lower() + port, parts.path, parts.query, ""))


def identity(kind: str, options: Mapping[str, Any], keys: Iterable[str]) -> str:
    """A panel's identity: its kind and the options that say which feed it is (never a token or
    a header), as one canonical JSON text."""
    chosen: dict[str, Any] = {}
    for key in keys:
        value = options.get(key)
        if value in (None, False, "", [], ()):
            continue
        if key in ("url", "base_url"):
            value = without_credentials(str(value))
        elif key == "urls":
            value = sorted(without_credentials(str(u)) for u in value)
        elif key == "checks":  # [[panel.check]] tables: their URLs
            value = sorted(without_credentials(str(table.get("url", ""))) for table in value)
        chosen[key] = value
    return json.dumps([kind, chosen], sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class StoredPages(EtagCache):
    """An EtagCache that starts with the pages the store kept and keeps every new one there:
    a restart asks GitHub If-None-Match for each page and shows the stored page on a 304."""

    def __init__(self, store: PanelStore, max_pages: int = 500) -> None:
        super().__init__(max_pages)
        self._store = store
        for url, etag, payload in store.pages():
            page = _page_of(url, etag, payload)
            if page is not None:
                super().put(page)

    def put(self, page: Page) -> None:
        super().put(page)
        if page.etag:
            kept = {
                "number": page.number,
                "items": list(page.items),
                "has_next": page.has_next,
                "last_page": page.last_page,
                "next_url": page.next_url,
                "data": None if isinstance(page.data, list) else page.data,  # (a list is the items again)
            }
            self._store.put_page(page.url, page.etag, _encode(kept).decode())


def _page_of(url: str, etag: str, payload: str) -> Page | None:
    try:
        kept = msgspec.json.decode(payload)
        items = tuple(kept["items"])
        data = kept["data"] if kept["data"] is not None else list(items)
        return Page(
            number=int(kept["number"]),
            items=items,
            has_next=bool(kept["has_next"]),
            last_page=kept["last_page"],
            rate=RateLimit(),
            url=url,
            etag=etag,
            data=data,
            next_url=kept["next_url"],
        )
    except (msgspec.DecodeError, KeyError, TypeError, ValueError):
        return None  # a page the store cannot read is asked for afresh
