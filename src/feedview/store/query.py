"""`feedview history`'s questions to the store: which items, from which panels, since when.

Every filter is a bound parameter (never text pasted into SQL); a search is an FTS5 query
made of the user's words only (history.fts_query), so no input can be SQL or FTS syntax.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .history import ITEM_COLUMNS, HistoryStore, StoredItem, fts_query, item_from_row, qualified, search_items

_DURATION = re.compile(r"(\d{1,9})([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PRIORITY = re.compile(r"(>=|<=|>|<|=|==)?\s*([1-5])")
_SQL_OPERATORS = {">=": ">=", "<=": "<=", ">": ">", "<": "<", "=": "=", "==": "=", "": "="}


class BadFilter(ValueError):
    """A filter the user wrote that means nothing; str() says what was expected."""


@dataclass(frozen=True)
class Since:
    """--since: a time (epoch seconds) or an item's id (the items after it)."""

    time: float | None = None
    after_key: str | None = None


def parse_since(text: str, now: float | None = None) -> Since:
    """`1h`, `30m`, `2d` (that long ago), `2026-11-29` or `2026-11-29T08:00` (local time unless
    it says its zone), a Unix time, or an item's id."""
    text = text.strip()
    now = time.time() if now is None else now
    if match := _DURATION.fullmatch(text):
        return Since(time=now - int(match[1]) * _UNITS[match[2]])
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][0-9:.]+([+-]\d{2}:?\d{2}|Z)?)?", text):
        try:
            return Since(time=datetime.fromisoformat(text).timestamp())
        except (ValueError, OverflowError, OSError):
            raise BadFilter(f"--since: {text!r} is not a date") from None
    if re.fullmatch(r"\d{9,11}", text):
        return Since(time=float(text))
    if not text or len(text) > 200:
        raise BadFilter("--since: expected a duration (1h), a date (2026-11-29), a Unix time or an item id")
    return Since(after_key=text)


def parse_priority(text: str) -> tuple[str, int]:
    """`>=4`, `5`, `<3`: (operator, priority)."""
    match = _PRIORITY.fullmatch(text.strip())
    if match is None:
        raise BadFilter(f"--priority: expected a priority from 1 to 5 with an optional >=, <=, > or <, got {text!r}")
    return match[1] or "", int(match[2])


@dataclass(frozen=True)
class Filters:
    panels: Sequence[str] = ()  # names (titles), case-insensitive; empty: every panel
    since: Since | None = None
    search: str = ""
    priority: tuple[str, int] | None = None
    tags: Sequence[str] = field(default_factory=tuple)
    limit: int = 100


def panel_names(store: HistoryStore) -> dict[int, tuple[str, str]]:
    """panel id -> (name, kind)."""
    return {row[0]: (row[1], row[2]) for row in store.read("SELECT id, name, kind FROM panels ORDER BY id")}


def select_items(store: HistoryStore, filters: Filters) -> list[StoredItem]:
    """The newest `limit` items that pass every filter, oldest first."""
    where: list[str] = []
    params: list[object] = []
    if filters.panels:
        wanted = {name.casefold() for name in filters.panels}
        ids = [pid for pid, (name, _) in panel_names(store).items() if name.casefold() in wanted]
        if not ids:
            return []
        where.append(f"items.panel IN ({','.join('?' * len(ids))})")
        params += ids
    if filters.since is not None:
        if filters.since.time is not None:
            where.append("coalesce(items.sent, items.received) >= ?")
            params.append(filters.since.time)
        else:
            where.append("items.id > coalesce((SELECT max(id) FROM items WHERE key = ? OR event_id = ?), 0)")
            params += [filters.since.after_key, filters.since.after_key]
    if filters.priority is not None:
        op, value = filters.priority
        where.append(f"items.priority {_SQL_OPERATORS[op]} ?")
        params.append(value)
    for tag in filters.tags:
        where.append(
            "json_valid(items.payload) AND json_type(items.payload, '$.tags') = 'array' AND "
            "EXISTS (SELECT 1 FROM json_each(items.payload, '$.tags') WHERE value = ?)"
        )
        params.append(tag)
    if filters.search:
        if not fts_query(filters.search):
            raise BadFilter("--search: no word to look for")
        found = search_items(store, filters.search, where=" AND ".join(where), params=params, limit=filters.limit)
        return list(reversed(found))
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = store.read(
        f"SELECT {qualified(ITEM_COLUMNS)} FROM items{clause} ORDER BY items.id DESC LIMIT ?",
        (*params, filters.limit),
    )
    return [item_from_row(row) for row in reversed(rows)]
