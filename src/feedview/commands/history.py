"""`feedview history`: what the panels kept, printed (or as JSON lines), searched, pruned.

Text lines and JSON alike are safe for a terminal: every stored text is network text, cleaned
(text.clean_line) or JSON-escaped (text.escape_json_bytes) before it is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import msgspec

from ..text import clean_line, escape_json_bytes, one_line
from . import reader_left

PRIORITY_MARKS = {5: "‼", 4: "!", 3: "•", 2: "↓", 1: "·"}
_encode = msgspec.json.Encoder().encode


def run(args: argparse.Namespace) -> int:
    from ..store.paths import HISTORY_ENV, store_path

    path = store_path()
    if args.path:
        print(path if path is not None else f"history is off (${HISTORY_ENV} is off)")
        return 0
    if path is None:
        print(f"feedview history: error: history is off (${HISTORY_ENV} or --no-history)", file=sys.stderr)
        return 1
    if not path.exists():
        print(f"feedview history: no history yet at {path}", file=sys.stderr)
        return 0
    try:
        if args.prune:
            return _prune(path, args.config)
        return _print(path, args)
    except BrokenPipeError:
        return reader_left()


def _open(path: Path) -> Any:
    from ..store.history import HistoryStore

    store, note = HistoryStore.open(path)
    if note:
        print(f"feedview {one_line(note)}", file=sys.stderr)
    return store


def _print(path: Path, args: argparse.Namespace) -> int:
    from ..store.query import BadFilter, Filters, panel_names, parse_priority, parse_since, select_items

    try:
        filters = Filters(
            panels=args.panel or (),
            since=parse_since(args.since) if args.since else None,
            search=args.search or "",
            priority=parse_priority(args.priority) if args.priority else None,
            tags=args.tag or (),
            limit=args.limit,
        )
    except BadFilter as exc:
        print(f"feedview history: error: {exc}", file=sys.stderr)
        return 2
    store = _open(path)
    if store is None:
        return 1
    try:
        names = panel_names(store)
        if args.panel and not any(n.casefold() in {p.casefold() for p in args.panel} for n, _ in names.values()):
            known = ", ".join(sorted({clean_line(name) for name, _ in names.values()})) or "none yet"
            print(
                f"feedview history: error: no panel named {one_line(args.panel[0], 60)!r} (panels: {known})",
                file=sys.stderr,
            )
            return 1
        rows = select_items(store, filters)
    except BadFilter as exc:
        print(f"feedview history: error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    out = sys.stdout
    if args.json:
        _write_json(rows, names, out.buffer)
    else:
        _write_text(rows, names, out)
    out.flush()
    return 0


def _fields(rows: list[Any]) -> list[tuple[Any, Any]]:
    from ..store.items import items_of

    return [(row, item) for row, (item, _) in zip(rows, items_of(rows), strict=True)]


def _write_text(rows: list[Any], names: dict[int, tuple[str, str]], out: TextIO) -> None:
    for row, item in _fields(rows):
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row.sent or row.received))
        panel = clean_line(names.get(row.panel, ("?", ""))[0])
        mark = PRIORITY_MARKS.get(row.priority, "•")
        if hasattr(item, "message"):
            tags = " ".join("#" + t for t in item.tags)
            parts = [one_line(item.title, 200), one_line(item.message, 400), one_line(tags, 200)]
        else:
            parts = [one_line(item.type, 60), one_line(item.data, 400)]
        text = "  ".join(part for part in parts if part)
        out.write(f"{when}  {panel}  {mark} {text}\n")


def _write_json(rows: list[Any], names: dict[int, tuple[str, str]], out: Any) -> None:
    lines = []
    for row, item in _fields(rows):
        line: dict[str, Any] = {
            "panel": names.get(row.panel, ("", ""))[0],
            "received": row.received,
            "event": row.event,
            "data": row.payload,
            "id": row.event_id,
            "read": row.read,
        }
        if hasattr(item, "message"):
            line.update(
                notification_id=item.id,
                time=item.time,
                topic=item.topic,
                title=item.title,
                message=item.message,
                priority=item.priority,
                tags=list(item.tags),
                click=item.click,
            )
        lines.append(escape_json_bytes(_encode(line)) + b"\n")
    out.write(b"".join(lines))


def _prune(path: Path, config_path: str | None) -> int:
    """Apply each panel's retention (its config's, else the defaults), then give the space back."""
    from ..store.history import Retention, prune_panel
    from ..store.items import identity

    retention: dict[str, Retention] = {}
    try:
        from ..config import load_config
        from ..kinds import kind_of

        config = load_config(config_path)
        for panel in config.panels if config else []:
            key = identity(panel.kind, panel.options, kind_of(panel.kind).identity_keys)
            retention[key] = Retention(panel.retention_days, panel.max_items)
    except Exception as exc:  # a broken config still lets the defaults prune  # noqa: BLE001
        print(f"feedview history: {one_line(str(exc))}; pruning with the defaults", file=sys.stderr)
    store = _open(path)
    if store is None:
        return 1
    before = path.stat().st_size
    gone = 0
    try:
        panels = store.read("SELECT id, identity FROM panels")
        done: list[int] = []

        def job(conn: Any) -> None:
            done.append(sum(prune_panel(conn, pid, retention.get(key, Retention())) for pid, key in panels))

        store.writer.submit(job)
        flushed = store.writer.flush(timeout=3600.0)  # (a year of a busy topic takes a while)
        failed = store.writer.broken or (None if flushed and done else "history: the prune did not finish")
        gone = sum(done)
    finally:
        store.close()
    if failed:
        print(f"feedview history: {one_line(failed)}", file=sys.stderr)
        return 1
    _vacuum(path)
    after = path.stat().st_size
    print(f"pruned {gone:,} items; {path} is {after / 1e6:,.1f} MB (was {before / 1e6:,.1f} MB)")
    return 0


def _vacuum(path: Path) -> None:
    import sqlite3

    from ..store.db import connect

    try:
        conn = connect(path)  # (WAL mode, set on connecting, may be busy too)
    except sqlite3.OperationalError as exc:
        print(f"feedview history: the file was not compacted ({one_line(str(exc))})", file=sys.stderr)
        return
    try:
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError as exc:  # another feedview is writing: the space comes back later
        print(f"feedview history: the file was not compacted ({one_line(str(exc))})", file=sys.stderr)
    finally:
        conn.close()
