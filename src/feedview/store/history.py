"""The history store: one SQLite file, read from the caller's thread, written by one thread.

All writes go through `Writer`, a thread of its own that takes every job queued since its
last commit and commits them in one transaction (at 10,000 events a second that is a few
transactions a second, each of thousands of rows, never on the event loop; under a firehose a
round gathers for ROUND_GATHER_S). A job's `done` callback runs after its commit: a view shows
what was committed, so "shown" implies "stored" and a process killed at any moment loses
nothing it showed.

The writer shares the GIL with the event loop, and that is what a firehose's intake pays for
the store: every statement, and every wake-up of the loop, hands the GIL over and back (each
time the writer waits for the loop to let it go, and the loop for a core), and a row is bound
holding it. So: a few statements a round whatever its size (multi-row INSERTs), one wake-up of
the loop a round, no None bound, rounds that grow under a firehose, and the search index and
the checkpoints kept out of the rounds.

A write that fails for good (the disk is full, the file went read-only or was damaged)
turns the store off for the rest of the run: `broken` says why, in one line, and every
later job's `done` gets `None` at once, so the views go on in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

from .db import BUSY_TIMEOUT_MS, StoreUnusable, is_busy, is_damage, open_file
from .schema import INDEX_RANGE, ITEM_WORDS

DEFAULT_RETENTION_DAYS = 365.0
DEFAULT_MAX_ITEMS = 200_000  # per panel: a topic of 550 messages a day, for a year; ~100 MB (docs/history.md)
PRUNE_EVERY = 5_000  # items written to a panel between two retention passes (or a tenth of its max_items)
INDEX_SLICE = 500  # items indexed for search in one transaction of a quiet writer (a commit waits for one at most)
INDEX_QUIET_RATE = 5_000  # items a second: a writer taking in fewer is quiet, and the index catches up between rounds
INDEX_QUIET_S = 0.05  # or a writer given no job for this long
RATE_WINDOW_S = 0.1  # the rate items come at is measured over this long
ROUND_GATHER_S = 0.05  # while items come faster than INDEX_QUIET_RATE, a round of fewer than
ROUND_ROWS = 4096  # rows waits this long for more
INDEX_LAG_MAX = 100_000  # more items than this waiting for the index: each write indexes the excess with it
CHECKPOINT_EVERY_S = 0.5  # the log is folded back into the file this often while writes go on (in its own thread)
INSERT_ROWS = 512  # items in one INSERT at most: 14 % less of the writer's CPU a row than 2,048 (in cache)
BUSY_TRIES = 5  # a write still locked after this many busy timeouts gives up (another process hogs the file)
_DAY_S = 86400.0

Done = Callable[[Any], None]  # a job's result after its commit, or None when the store gave up


@dataclass(frozen=True)
class Retention:
    """How much a panel keeps: items newer than `days`, at most `max_items` of them."""

    days: float = DEFAULT_RETENTION_DAYS
    max_items: int = DEFAULT_MAX_ITEMS


class NewItem(NamedTuple):
    """An item as a view hands it to the store: a tuple, bound to the INSERT as it is (a firehose
    makes thousands a second, and the writer adds no Python work per row). "None" may be given
    as "" (or 0 for `sent`), which the INSERT stores as NULL: sqlite3 binds None ten times slower
    than a string (it looks for an adapter first), and a row is bound holding the GIL."""

    key: str | None  # unique within the panel (an ntfy message id); None or "": never deduplicated
    received: float
    sent: int | None  # None or 0: unknown
    priority: int
    event: str | None  # the SSE event type (None, "" or "message": the default)
    event_id: str | None  # the SSE id (Last-Event-ID); None or "": none
    payload: str  # the data as received


# NewItem's fields as a plain tuple, as the views make them (key, received, sent, priority, event,
# event_id, payload)
Row = tuple[str | None, float, int | None, int, str | None, str | None, str]


@dataclass(frozen=True)
class StoredItem:
    id: int
    panel: int
    key: str | None
    received: float
    sent: int | None
    priority: int
    event: str
    event_id: str
    payload: str
    read: bool


ITEM_COLUMNS = (
    "id, panel, key, received, sent, priority, coalesce(event, 'message'), coalesce(event_id, ''), payload, read"
)


def item_from_row(row: Sequence[Any]) -> StoredItem:
    item_id, panel, key, received, sent, priority, event, event_id, payload, read = row
    return StoredItem(item_id, panel, key, received, sent, priority, event, event_id, payload, bool(read))


class Writer:
    """The one thread that writes: jobs in, one transaction per round, `done` after the commit.

    The search index is kept behind the inserts (`lag` items): it catches up a slice at a time
    while the writer is quiet (taking in fewer than INDEX_QUIET_RATE items a second, or given no
    job for INDEX_QUIET_S), so a firehose's commits never wait for it; beyond INDEX_LAG_MAX
    behind, each write indexes the excess with it."""

    def __init__(
        self, conn: sqlite3.Connection, on_broken: Callable[[str], None], checkpointer: Checkpointer | None = None
    ) -> None:
        self._conn = conn
        self._on_broken = on_broken
        self._checkpointer = checkpointer
        self._jobs: list[tuple[Callable[[sqlite3.Connection], Any], Done | None]] = []
        self._cond = threading.Condition()
        self._closing = False
        self.broken: str | None = None
        self.pending_rows = 0  # rows queued and not yet committed (views slow down above a bound)
        self.lag = 1  # items (at most) waiting for the search index: counted when the thread starts
        self._busy = False  # items came at more than INDEX_QUIET_RATE a second, when last measured
        self._arrived = 0  # items queued since `_measured_at`
        self._measured_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="feedview-history", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[sqlite3.Connection], Any], done: Done | None = None, rows: int = 1) -> None:
        with self._cond:
            if self.broken is None and not self._closing:
                self._jobs.append((job, done))
                self.pending_rows += rows
                self._arrived += rows
                self._cond.notify()
                return
        if done is not None:
            done(None)

    def count(self, rows: int) -> None:
        """Rows added to a job already queued (a panel's batches wait as one job)."""
        with self._cond:
            self.pending_rows += rows
            self._arrived += rows

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every job queued so far is committed (tests, shutdown)."""
        flushed = threading.Event()
        self.submit(lambda conn: None, lambda _: flushed.set(), rows=0)
        return flushed.wait(timeout)

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join()
        if self._checkpointer is not None:
            self._checkpointer.close()

    def _run(self) -> None:
        """Jobs first, a round at a time; the search index catches up when the writer is quiet."""
        self.lag = self._counted_lag()
        while True:
            jobs, rows = self._next_round()
            if jobs is None:
                return  # (what the index has not reached yet, it reaches at the next start)
            if not jobs:
                self._index_some()
                continue
            results = self._commit(jobs)
            with self._cond:
                self.pending_rows = max(0, self.pending_rows - rows) if self._jobs else 0
            if self._checkpointer is not None:
                self._checkpointer.wake()
            for (_, done), result in zip(jobs, results, strict=True):
                if done is not None:
                    done(result)

    def _next_round(self) -> tuple[list[tuple[Callable[[sqlite3.Connection], Any], Done | None]] | None, int]:
        """The jobs queued and their rows; no jobs: index a slice now; None: the writer is closing."""
        with self._cond:
            self._measure()
            quiet = not self._busy
            while not self._jobs and not self._closing:
                behind = self.lag > 0 and self.broken is None
                if behind and quiet:
                    break
                quiet = not self._cond.wait(INDEX_QUIET_S if behind else None)  # (False: it timed out)
            if self._closing and not self._jobs:
                return None, 0
            if self._jobs and self._busy and self.pending_rows < ROUND_ROWS:
                self._gather()
            jobs, self._jobs = self._jobs, []
            return jobs, self.pending_rows

    def _gather(self) -> None:
        """Under a firehose, let a round grow for ROUND_GATHER_S: every round costs the event loop
        the same few hand-overs of the GIL (a statement each, and the loop's wake-up), whatever its
        size, and on a busy machine each may wait for a core. (The batches of a panel join its
        queued job without waking the writer.)"""
        deadline = time.monotonic() + ROUND_GATHER_S
        while not self._closing and (left := deadline - time.monotonic()) > 0:
            self._cond.wait(left)

    def _measure(self) -> None:
        """Whether the index would hold up commits: items queued faster than INDEX_QUIET_RATE (the
        rate they come at, not the writer's own pace, which the index slows)."""
        now = time.monotonic()
        elapsed = now - self._measured_at
        if elapsed >= RATE_WINDOW_S:
            self._busy = self._arrived > INDEX_QUIET_RATE * elapsed
            self._arrived, self._measured_at = 0, now

    def _index_some(self) -> None:
        """Index up to INDEX_SLICE items in a transaction of their own; a busy file waits a little."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                done = index_items(self._conn, INDEX_SLICE)
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            if not is_busy(exc):
                self._break(exc)
                return
            with self._cond:
                self._cond.wait(0.1)  # another process writes: try again soon (or as jobs come)
            return
        except Exception as exc:  # noqa: BLE001  (as in _commit: the thread goes on)
            self._break(exc)
            return
        self.lag = self.lag - done if done == INDEX_SLICE else 0

    def _counted_lag(self) -> int:
        try:
            return unindexed(self._conn)
        except sqlite3.Error:
            return self.lag  # (the next write says what is wrong)

    def catch_up(self, conn: sqlite3.Connection, inserted: int) -> None:
        """In a write's transaction: count its new items, and index those beyond INDEX_LAG_MAX."""
        self.lag += inserted
        if self.lag > INDEX_LAG_MAX:  # the writer has not been quiet for a long while
            self.lag -= index_items(conn, self.lag - INDEX_LAG_MAX)

    def _commit(self, jobs: list[tuple[Callable[[sqlite3.Connection], Any], Done | None]]) -> list[Any]:
        """Every job in one transaction; a busy file is retried, anything else breaks the store."""
        for attempt in range(BUSY_TRIES):
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    results = [job(self._conn) for job, _ in jobs]
                    self._conn.execute("COMMIT")
                    return results
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                if is_busy(exc) and attempt < BUSY_TRIES - 1:
                    time.sleep(0.05 * (attempt + 1))
                    self.lag = self._counted_lag()  # (the rolled-back round had counted its items)
                    continue
                self._break(exc)
                return [None] * len(jobs)
            except Exception as exc:  # a bug in a job: the store stops, the thread (and the app) go on  # noqa: BLE001
                self._break(exc)
                return [None] * len(jobs)
        return [None] * len(jobs)  # (not reached: the last try breaks the store)

    def _break(self, exc: Exception) -> None:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, sqlite3.Error) and is_damage(exc):
            why = f"the file is damaged ({reason}); it will be moved aside at the next start"
        elif "full" in reason:
            why = "the disk is full"
        elif "readonly" in reason or "read-only" in reason:
            why = "the file became read-only"
        else:
            why = reason
        with self._cond:
            self.broken = f"history: stopped writing: {why}; this run goes on in memory"
            dropped, self._jobs = self._jobs, []
        for _, done in dropped:
            if done is not None:
                done(None)
        self._on_broken(self.broken)


class Checkpointer:
    """Folds the write-ahead log back into the file, in a thread and a connection of its own, at
    most every CHECKPOINT_EVERY_S while writes go on: the writer's commits never wait for it (a
    checkpoint copies tens of megabytes and syncs the file; in the writer's commit it held up a
    firehose's intake for up to half a second). The writer's own autocheckpoint, at a larger log,
    stays as the backstop."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._wanted = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feedview-checkpoint", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Something was committed: a checkpoint is due soon."""
        self._wanted.set()

    def close(self) -> None:
        self._closing.set()
        self._wanted.set()
        self._thread.join()
        self._conn.close()

    def _run(self) -> None:
        while not self._closing.is_set():
            self._wanted.wait()
            self._wanted.clear()
            if self._closing.is_set():
                return
            with contextlib.suppress(sqlite3.Error):  # (busy, or damaged: the writer says so)
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._closing.wait(CHECKPOINT_EVERY_S)


class HistoryStore:
    """The store of one file: `panel(...)` for a panel's view of it, `query(...)` for the command."""

    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        reader: sqlite3.Connection,
        checkpoints: sqlite3.Connection | None = None,
    ) -> None:
        self.path = path
        self._reader = reader
        self._read_lock = threading.Lock()
        self._listeners: list[Callable[[str], None]] = []
        self.writer = Writer(conn, self._broken, Checkpointer(checkpoints) if checkpoints is not None else None)

    @classmethod
    def open(cls, path: Path) -> tuple[HistoryStore | None, str | None]:
        """The store at `path` and a line to show (a damaged file moved aside), or None and why not."""
        from .db import connect

        try:
            conn, note = open_file(path)
        except StoreUnusable as exc:
            return None, str(exc)
        try:
            reader = connect(path)
        except sqlite3.Error as exc:
            conn.close()
            return None, f"history: cannot read {path} ({exc}): history is off for this run"
        try:
            checkpoints: sqlite3.Connection | None = connect(path)
        except sqlite3.Error:
            checkpoints = None  # (the writer's autocheckpoint does it all)
        return cls(path, conn, reader, checkpoints), note

    def on_broken(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    def _broken(self, why: str) -> None:
        for listener in list(self._listeners):
            listener(why)

    @property
    def broken(self) -> str | None:
        return self.writer.broken

    def read(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Any]:
        """Rows of one query (any thread; one at a time). A damaged file reads as nothing."""
        with self._read_lock:
            try:
                return self._reader.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                if is_damage(exc) or is_busy(exc):
                    return []
                raise

    def panel(self, identity: str, kind: str, name: str, retention: Retention | None = None) -> PanelStore:
        """A panel's part of the store (created on first use); blocking: call it off the event loop."""
        done = threading.Event()
        found: list[int] = []

        def upsert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO panels(identity, kind, name) VALUES (?, ?, ?) "
                "ON CONFLICT(identity) DO UPDATE SET name = excluded.name",
                (identity, kind, name),
            )
            found.append(conn.execute("SELECT id FROM panels WHERE identity = ?", (identity,)).fetchone()[0])

        self.writer.submit(upsert, lambda _: done.set())
        done.wait(BUSY_TIMEOUT_MS / 1000 * BUSY_TRIES + 5)
        return PanelStore(self, found[0] if found else None, retention or Retention())

    def close(self) -> None:
        self.writer.close()
        with self._read_lock:
            self._reader.close()
        self.writer._conn.close()


class PanelStore:
    """One panel's items, cursors, threads, pages and samples. Reads block (call them in a thread);
    writes are queued, and their `done` runs in the writer's thread after the commit."""

    def __init__(self, store: HistoryStore, panel: int | None, retention: Retention) -> None:
        self.store = store
        self.id = panel  # None: the store broke before the panel had its row
        self.retention = retention
        self._written = 0  # items written since the last retention pass (by the writer)
        self._lock = threading.Lock()
        self._queued: _Queued | None = None  # the batches waiting for the writer

    @property
    def usable(self) -> bool:
        return self.id is not None and self.store.broken is None

    # -- items ----------------------------------------------------------------------------

    def recent(self, limit: int) -> list[StoredItem]:
        """The newest `limit` items, oldest first."""
        rows = self.store.read(
            f"SELECT {ITEM_COLUMNS} FROM items WHERE panel = ? ORDER BY id DESC LIMIT ?", (self.id, limit)
        )
        return [item_from_row(row) for row in reversed(rows)]

    def add(
        self,
        items: Sequence[Row],
        done: Done,
        cursors: Mapping[str, str] | None = None,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """Store the items not stored yet (by key) and the cursors, in one commit; `done` gets True
        when every item was new, else a list of booleans (True for each new one), or None when
        the store gave up. It runs in the writer's thread after the commit; given a `loop` (the
        caller's), on that loop, in the caller's context.

        The batches a panel hands in while the writer is busy wait as one job: the writer runs a
        few statements a round, not a few a batch (a firehose's batch is one socket read, some 60
        items, and each statement gives up the GIL and waits to take it back from the UI). Their
        `done`s reach the loop together, at one wake-up (each is a write to the loop's socket,
        and each write, too, gives up the GIL)."""
        with self._lock:
            queued = self._queued
            if queued is not None and not queued.started:
                queued.take(items, done, cursors)
                self.store.writer.count(len(items))
                return
            queued = self._queued = _Queued(self, items, done, cursors, loop)
        self.store.writer.submit(queued.run, queued.finish, rows=len(items))

    def _write(self, conn: sqlite3.Connection, items: Sequence[Row], cursors: Mapping[str, str]) -> list[bool] | bool:
        """The writer's part of `add`, in its transaction."""
        inserted = insert_items(conn, self.id, items)
        new = True if inserted == len(items) else _new_of(conn, items, inserted)
        self.store.writer.catch_up(conn, inserted)
        if cursors:
            _put_cursors(conn, self.id, cursors)
        self._written += len(items)
        if self._written >= max(PRUNE_EVERY, self.retention.max_items // 10):  # (a pass may walk max_items)
            self._written = 0
            prune_panel(conn, self.id, self.retention)
        return new

    def search(self, text: str, limit: int = 200) -> list[StoredItem]:
        """Items whose title, message or tags hold every word of `text`, newest first."""
        return search_items(self.store, text, where="items.panel = ?", params=(self.id,), limit=limit)

    def mark_read(self, keys: Iterable[str], read: bool = True) -> None:
        """Read marks by item key (ntfy message ids)."""
        rows = [(int(read), self.id, key) for key in keys]
        self.store.writer.submit(
            lambda conn: conn.executemany("UPDATE items SET read = ? WHERE panel = ? AND key = ?", rows)
        )

    def mark_all_read(self) -> None:
        self.store.writer.submit(lambda conn: conn.execute("UPDATE items SET read = 1 WHERE panel = ?", (self.id,)))

    # -- cursors --------------------------------------------------------------------------

    def cursors(self) -> dict[str, str]:
        return dict(self.store.read("SELECT name, value FROM cursors WHERE panel = ?", (self.id,)))

    # -- GitHub threads and pages ---------------------------------------------------------

    def threads(self) -> list[tuple[str, str, bool, str]]:
        """(id, updated_at, unread, payload) of every thread kept."""
        rows = self.store.read("SELECT id, updated_at, unread, payload FROM threads WHERE panel = ?", (self.id,))
        return [(row[0], row[1], bool(row[2]), row[3]) for row in rows]

    def put_threads(
        self, threads: Iterable[tuple[str, str, bool, str]], cursors: Mapping[str, str] | None = None
    ) -> None:
        rows = [(self.id, *thread) for thread in threads]
        values = dict(cursors or {})

        def job(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO threads(panel, id, updated_at, unread, payload) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(panel, id) DO UPDATE SET updated_at = excluded.updated_at, "
                "unread = excluded.unread, payload = excluded.payload",
                rows,
            )
            if values:
                _put_cursors(conn, self.id, values)

        self.store.writer.submit(job, rows=len(rows))

    def pages(self) -> list[tuple[str, str, str]]:
        """(url, etag, payload) of every page kept."""
        return [
            tuple(row) for row in self.store.read("SELECT url, etag, payload FROM pages WHERE panel = ?", (self.id,))
        ]

    def put_page(self, url: str, etag: str, payload: str) -> None:
        self.store.writer.submit(
            lambda conn: conn.execute(
                "INSERT INTO pages(panel, url, etag, payload) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(panel, url) DO UPDATE SET etag = excluded.etag, payload = excluded.payload",
                (self.id, url, etag, payload),
            )
        )

    # -- health samples -------------------------------------------------------------------

    def add_samples(self, samples: list[tuple[str, float, int | None, float | None, str, str | None]]) -> None:
        """(url, time, status, latency_ms, verdict, error) rows."""
        rows = [(self.id, *sample) for sample in samples]
        self.store.writer.submit(
            lambda conn: conn.executemany(
                "INSERT INTO samples(panel, url, time, status, latency_ms, verdict, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            ),
            rows=len(rows),
        )

    def sample_counts(self) -> list[tuple[str, int, int]]:
        """(url, passed, total) per check: passed is healthy or degraded, as the feed's `ok`."""
        return [
            tuple(row)
            for row in self.store.read(
                "SELECT url, sum(verdict IN ('healthy', 'degraded')), count(*) FROM samples WHERE panel = ? "
                "GROUP BY url",
                (self.id,),
            )
        ]

    def samples(self, url: str, limit: int) -> list[tuple[float, int | None, float | None, str, str | None]]:
        """The newest `limit` samples of one check, oldest first."""
        rows = self.store.read(
            "SELECT time, status, latency_ms, verdict, error FROM samples WHERE panel = ? AND url = ? "
            "ORDER BY time DESC LIMIT ?",
            (self.id, url, limit),
        )
        return [tuple(row) for row in reversed(rows)]


class _Queued:
    """A panel's batches waiting for the writer, written as one: each batch's `done` gets its
    own part of the answer (on the loop of the first batch, when it had one)."""

    def __init__(
        self,
        panel: PanelStore,
        items: Sequence[Row],
        done: Done,
        cursors: Mapping[str, str] | None,
        loop: asyncio.AbstractEventLoop | None,
    ) -> None:
        self.panel = panel
        self.items = list(items)
        self.parts: list[tuple[int, Done]] = [(len(items), done)]
        self.cursors = dict(cursors or {})
        self.started = False  # the writer has it: later batches wait for the next round
        self.loop = loop
        self.context = contextvars.copy_context() if loop is not None else None  # (the caller's, on its loop)

    def take(self, items: Sequence[Row], done: Done, cursors: Mapping[str, str] | None) -> None:
        self.items += items
        self.parts.append((len(items), done))
        self.cursors.update(cursors or {})  # (the last batch's cursors are where to resume)

    def _start(self) -> None:
        with self.panel._lock:
            self.started = True

    def run(self, conn: sqlite3.Connection) -> list[bool] | bool:
        self._start()
        return self.panel._write(conn, self.items, self.cursors)

    def finish(self, new: list[bool] | bool | None) -> None:
        """After the commit (or when the store gave up, perhaps before `run`)."""
        self._start()
        if self.loop is None:
            self._answer(new)
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is there to show it
            self.loop.call_soon_threadsafe(self._answer, new, context=self.context)

    def _answer(self, new: list[bool] | bool | None) -> None:
        at = 0
        for count, done in self.parts:
            part = new[at : at + count] if isinstance(new, list) else new
            done(True if isinstance(part, list) and all(part) else part)
            at += count


def insert_items(conn: sqlite3.Connection, panel: int | None, items: Sequence[Row]) -> int:
    """Insert the items not stored yet (INSERT OR IGNORE: the unique (panel, key) index drops
    repeats); how many went in. A few multi-row statements a batch: the rows are bound as they
    are (no JSON to parse again per row, 1.7x the rows a second of one statement over
    json_each), and each statement steps once for up to INSERT_ROWS rows, so the writer takes
    the GIL back a few times a batch, not once a row (executemany)."""
    inserted, at, size = 0, 0, INSERT_ROWS
    while at < len(items):
        while size > len(items) - at:
            size //= 2
        values = list(chain.from_iterable(items[at : at + size]))
        inserted += conn.execute(_insert_sql(int(panel or 0), size), values).rowcount
        at += size
    return inserted


@lru_cache(maxsize=64)
def _insert_sql(panel: int, rows: int) -> str:
    """The INSERT of `rows` items (a power of two: a handful of statements, prepared once each)."""
    row = f"({panel}, nullif(?, ''), ?, nullif(?, 0), ?, nullif(?, ''), nullif(?, ''), ?)"  # (the panel: our integer)
    return (
        "INSERT OR IGNORE INTO items(panel, key, received, sent, priority, event, event_id, payload) VALUES "
        + ", ".join([row] * rows)
    )


def _new_of(conn: sqlite3.Connection, items: Sequence[Row], inserted: int) -> list[bool]:
    """For each item of a batch that had repeats, whether it is new: the `inserted` rows are the
    newest of the table (this transaction holds the write lock), the first of the keys they hold."""
    fresh = {
        row[0]
        for row in conn.execute("SELECT key FROM items ORDER BY id DESC LIMIT ?", (inserted,))
        if row[0] is not None
    }
    new = []
    for key, *_ in items:
        if not key:
            new.append(True)
        elif key in fresh:
            fresh.discard(key)  # (a later repeat within the batch was ignored)
            new.append(True)
        else:
            new.append(False)
    return new


def unindexed(conn: sqlite3.Connection) -> int:
    """How many items (at most) wait for the search index."""
    return int(conn.execute("SELECT coalesce(max(id), 0) - (SELECT upto FROM search_index) FROM items").fetchone()[0])


def index_items(conn: sqlite3.Connection, limit: int) -> int:
    """Put the next `limit` items not yet in the search index into it (in the caller's
    transaction); how many went in."""
    upto = conn.execute("SELECT upto FROM search_index").fetchone()[0]
    end, count = conn.execute(
        "SELECT max(id), count(*) FROM (SELECT id FROM items WHERE id > ? ORDER BY id LIMIT ?)", (upto, limit)
    ).fetchone()
    if not count:
        return 0
    conn.execute(INDEX_RANGE, (upto, end))
    conn.execute("UPDATE search_index SET upto = ?", (end,))
    return int(count)


def _put_cursors(conn: sqlite3.Connection, panel: int | None, cursors: Mapping[str, str]) -> None:
    """One statement for them all (executemany steps once a cursor: the writer would take the GIL
    back from the event loop once a cursor, each time waiting for the loop to let it go)."""
    conn.execute(
        "INSERT INTO cursors(panel, name, value) VALUES "
        + ", ".join(["(?, ?, ?)"] * len(cursors))
        + " ON CONFLICT(panel, name) DO UPDATE SET value = excluded.value",
        [value for name, text in cursors.items() for value in (panel, name, text)],
    )


def prune_panel(conn: sqlite3.Connection, panel: int | None, retention: Retention, now: float | None = None) -> int:
    """Drop a panel's items and samples older than the retention, then its oldest items beyond
    max_items; how many items went.

    Items go oldest first (in the order they arrived), and each step reads only what it drops:
    a firehose prunes every PRUNE_EVERY items, and a pass that read the whole panel (there is
    no index on `received`: it would cost every insert) took a quarter of the writer's time at
    100,000 items. (An item received after a newer one, the clock having gone back, goes when
    the items before it have gone.)"""
    cutoff = (now if now is not None else time.time()) - retention.days * _DAY_S
    kept = conn.execute(
        "SELECT id FROM items WHERE panel = ? AND received >= ? ORDER BY id LIMIT 1", (panel, cutoff)
    ).fetchone()
    if kept is None:
        gone = conn.execute("DELETE FROM items WHERE panel = ?", (panel,)).rowcount
    else:
        gone = conn.execute("DELETE FROM items WHERE panel = ? AND id < ?", (panel, kept[0])).rowcount
    conn.execute("DELETE FROM samples WHERE panel = ? AND time < ?", (panel, cutoff))
    return gone + _drop_beyond(conn, panel, retention.max_items)


def _drop_beyond(conn: sqlite3.Connection, panel: int | None, max_items: int) -> int:
    """Drop the panel's oldest items beyond its newest `max_items`. Its ids span no more than
    that (one panel's store, below its bound): it cannot hold more, and nothing is walked."""
    oldest, newest = conn.execute(
        "SELECT (SELECT id FROM items WHERE panel = ? ORDER BY id LIMIT 1), "
        "(SELECT id FROM items WHERE panel = ? ORDER BY id DESC LIMIT 1)",
        (panel, panel),
    ).fetchone()
    if oldest is None or newest - oldest < max_items:
        return 0
    row = conn.execute(
        "SELECT id FROM items WHERE panel = ? ORDER BY id DESC LIMIT 1 OFFSET ?", (panel, max_items)
    ).fetchone()
    if row is None:
        return 0
    return int(conn.execute("DELETE FROM items WHERE panel = ? AND id <= ?", (panel, row[0])).rowcount)


def fts_query(text: str) -> str:
    """Words as an FTS5 query that matches them all, each as a prefix, with no FTS syntax
    (quotes, NEAR, column filters) taken from the user's text."""
    words = ["".join(c for c in word if c.isalnum()) for word in text.split()]
    return " ".join(f'"{word}"*' for word in words if word)


def search_items(
    store: HistoryStore, text: str, *, where: str = "", params: Sequence[Any] = (), limit: int = 200
) -> list[StoredItem]:
    """Items holding every word of `text` (and matching `where`, SQL over `items`, with its
    `params`), newest first: the newest items the index has not reached yet (matched by
    substring), then the index's matches (each word as a prefix)."""
    query = fts_query(text)
    if not query:
        return []
    also = f" AND {where}" if where else ""
    words = [word.strip('"*').casefold() for word in query.split()]  # (letters and digits only)
    like = " AND ".join(f"{ITEM_WORDS} LIKE ?" for _ in words)
    split = store.read("SELECT upto FROM search_index")  # (one split for both queries: the index moves on)
    upto = split[0][0] if split else 0
    tail = store.read(
        f"SELECT {qualified(ITEM_COLUMNS)} FROM items WHERE items.id > ?{also} AND {like} "
        "ORDER BY items.id DESC LIMIT ?",
        (upto, *params, *(f"%{word}%" for word in words), limit),
    )
    # FTS5 walks its matches newest first and stops at the limit: a common word over a million
    # items costs what its first `limit` matches cost
    indexed = store.read(
        f"SELECT {qualified(ITEM_COLUMNS)} FROM items_fts JOIN items ON items.id = items_fts.rowid "
        f"WHERE items_fts MATCH ? AND items_fts.rowid <= ?{also} ORDER BY items_fts.rowid DESC LIMIT ?",
        (query, upto, *params, limit - len(tail)),
    )
    return [item_from_row(row) for row in [*tail, *indexed]]


def qualified(columns: str) -> str:
    return ", ".join(
        f"items.{c.strip()}" if c.strip().isidentifier() else c.strip().replace("(", "(items.", 1)
        for c in columns.split(", ")
    )
