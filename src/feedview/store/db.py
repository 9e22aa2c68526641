"""Opening the store file: WAL, a busy timeout, the schema migrated, and every way a file can
be unusable turned into one clear line.

A damaged file (not a database, truncated, malformed) is moved aside, never deleted, and a
new one started. A file from a newer feedview, a read-only file or folder, and a full disk
leave the file as it is: the caller runs without history (in memory) and says why.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

from .schema import NewerStore, migrate

WAL_CHECKPOINT_PAGES = 10_000
BUSY_TIMEOUT_MS = 5000  # another feedview writing: wait this long for the lock before retrying
OPEN_RETRY_S = 0.05  # opening a file another feedview is opening too: try again this soon
_SIDE_FILES = ("-wal", "-shm")


class StoreUnusable(Exception):
    """The store cannot be used for this run; str() is the one line to show."""


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), usable from any one thread
    at a time, WAL (a process killed mid-write loses nothing committed), synchronous=NORMAL
    (durable across a crash of the process; a power cut may lose the last commits)."""
    uri = f"{path.as_uri()}?mode=ro" if readonly else path.as_uri()
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.create_function("casefold", 1, str.casefold, deterministic=True)  # (schema.ITEM_WORDS)
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            # the writer's own checkpoint (and its fsync) at 40 MB of log, not 4 MB: a backstop, as
            # history.Checkpointer folds the log back in beside the writer; and when the store closes
            conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
    except BaseException:
        conn.close()
        raise
    return conn


def open_file(path: Path) -> tuple[sqlite3.Connection, str | None]:
    """The store's connection, migrated, and a line to show if a damaged file was moved aside.
    Raises StoreUnusable when there is no store for this run."""
    try:
        return _open_checked(path), None
    except _Damaged as damaged:
        try:
            aside = move_aside(path)
        except OSError as exc:  # (a damaged file in a folder it cannot leave)
            raise StoreUnusable(
                f"history: {path} is damaged ({damaged}) and cannot be moved aside ({exc.strerror or exc}): "
                "history is off for this run"
            ) from None
        note = f"history: {path} was damaged ({damaged}): moved aside to {aside.name}; starting a new one"
        try:
            return _open_checked(path), note
        except (_Damaged, sqlite3.Error) as exc:
            raise StoreUnusable(f"{note}, but that failed too ({_reason(exc)}): history is off for this run") from None


class _Damaged(Exception):
    """The file is not a usable database (its reason, one line)."""


def _open_checked(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnusable(
            f"history: cannot create {path.parent} ({exc.strerror or exc}): history is off for this run"
        ) from None
    if path.exists() and not os.access(path, os.W_OK):
        raise StoreUnusable(f"history: {path} is read-only: history is off for this run (the file is left as it is)")
    truncated = _truncated(path)
    if truncated:
        raise _Damaged(truncated)
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return _connect_migrated(path)
        except sqlite3.DatabaseError as exc:
            # Another feedview opening the same file at the same moment: SQLite answers "locked"
            # at once, without its busy handler, while a journal-mode switch or a recovery of the
            # log is under way (seen: two processes starting on a new file). Open again shortly.
            if not is_busy(exc) or time.monotonic() > deadline:
                _raise_for(path, exc)
            time.sleep(OPEN_RETRY_S)


def _connect_migrated(path: Path) -> sqlite3.Connection:
    conn = connect(path)
    try:
        migrate(conn)
        conn.execute("SELECT count(*) FROM panels").fetchone()
    except NewerStore as exc:
        conn.close()
        raise StoreUnusable(
            f"history: {path} was written by a newer feedview ({exc}): history is off for this run "
            "(the file is left as it is)"
        ) from None
    except BaseException:
        conn.close()
        raise
    return conn


def _raise_for(path: Path, exc: sqlite3.DatabaseError) -> None:
    """The right exception for an error met while opening: damage, or a file we may not change."""
    if is_damage(exc):
        raise _Damaged(_reason(exc)) from None
    raise StoreUnusable(f"history: cannot use {path} ({_reason(exc)}): history is off for this run") from None


def is_damage(exc: sqlite3.Error) -> bool:
    """Errors that moving the file aside fixes (not a lock, a full disk or a read-only file)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in str(exc)


def is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc)


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _truncated(path: Path) -> str | None:
    """A file shorter than its header says (and no write-ahead log that could hold the rest)."""
    try:
        size = path.stat().st_size
        wal = path.with_name(path.name + "-wal")
        if size == 0 or (wal.exists() and wal.stat().st_size > 0):
            return None
        with path.open("rb") as file:
            header = file.read(100)
    except OSError:
        return None
    if len(header) < 100:
        return "shorter than a database header"
    if not header.startswith(b"SQLite format 3\x00"):
        return None  # sqlite says "file is not a database"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if pages and size < pages * page_size:
        return f"truncated: {size:,} of {pages * page_size:,} bytes"
    return None


def move_aside(path: Path) -> Path:
    """Rename the file (and its WAL and shared-memory files) to `<name>.damaged-<time>`: kept, never deleted."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    path.replace(aside)
    for suffix in _SIDE_FILES:
        side = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            side.replace(aside.with_name(aside.name + suffix))
    return aside
