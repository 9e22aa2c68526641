"""The store file under trouble, on real files: damaged, truncated, from a newer feedview,
read-only, a full disk, two processes at once. One clear line each, the file moved aside
(never deleted) where that is the fix, and never an exception out of the store."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedview.store import history
from feedview.store.history import HistoryStore, NewItem
from feedview.store.schema import SCHEMA_VERSION


def note_item(i: int, *, size: int = 0, topic: str = "alerts") -> NewItem:
    raw = {"id": f"n{i}", "topic": topic, "time": 1_767_225_600 + i, "message": f"message {i}" + "x" * size}
    return NewItem(f"n{i}", time.time(), raw["time"], 3, None, None, json.dumps(raw))


def write(store: HistoryStore, items: list[NewItem], panel: str = "p") -> list[bool] | None:
    """Store the items and wait for the writer's answer."""
    part = store.panel(panel, "notifications", panel)
    answered = threading.Event()
    result: list = []
    part.add(items, lambda fresh: (result.append(fresh), answered.set()))
    assert answered.wait(10)
    return [True] * len(items) if result[0] is True else result[0]  # (True: every one was new)


def make_store(path: Path, count: int = 3) -> None:
    store, note = HistoryStore.open(path)
    assert store is not None and note is None
    assert write(store, [note_item(i) for i in range(count)]) == [True] * count
    store.close()


def test_a_new_store_is_wal_at_the_current_schema_and_keeps_items_once(tmp_path):
    path = tmp_path / "deep" / "er" / "history.sqlite3"
    store, note = HistoryStore.open(path)
    assert store is not None and note is None
    assert write(store, [note_item(1), note_item(2), note_item(1)]) == [True, True, False]
    assert write(store, [note_item(2), note_item(3)]) == [False, True]
    assert [row.key for row in store.panel("p", "notifications", "p").recent(10)] == ["n1", "n2", "n3"]
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda path: path.write_bytes(b"this is not a database, it is a shopping list\n" * 100), "not a database"),
        (lambda path: path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2]), "truncated"),
        (lambda path: path.write_bytes(path.read_bytes()[:50]), "shorter than a database header"),
    ],
)
def test_a_damaged_store_is_moved_aside_and_a_new_one_started(tmp_path, damage, reason):
    path = tmp_path / "history.sqlite3"
    make_store(path, count=2000)
    damage(path)
    damaged = path.read_bytes()
    store, note = HistoryStore.open(path)
    assert store is not None
    assert (
        note is not None and "\n" not in note and reason in note and "moved aside to history.sqlite3.damaged-" in note
    )
    asides = list(tmp_path.glob("history.sqlite3.damaged-*"))
    assert [p.read_bytes() for p in asides if not p.name.endswith(("-wal", "-shm"))] == [damaged]  # kept as it was
    assert write(store, [note_item(1)]) == [True]  # and the new one works
    store.close()


def test_a_store_from_a_newer_feedview_is_left_alone_and_history_is_off(tmp_path):
    path = tmp_path / "history.sqlite3"
    make_store(path)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    store, note = HistoryStore.open(path)
    assert store is None
    assert note is not None and "newer feedview" in note and "left as it is" in note and "\n" not in note
    assert path.read_bytes() == before and not list(tmp_path.glob("*.damaged-*"))


def test_a_store_that_cannot_be_created_turns_history_off_with_one_line(tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    store, note = HistoryStore.open(tmp_path / "afile" / "history.sqlite3")
    assert store is None and note is not None and "history is off for this run" in note and "\n" not in note


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_a_read_only_store_is_left_as_it_is(tmp_path):
    path = tmp_path / "history.sqlite3"
    make_store(path)
    path.chmod(0o444)
    store, note = HistoryStore.open(path)
    assert store is None and note is not None and "read-only" in note


def test_a_full_disk_stops_the_writes_with_one_line_and_every_later_write_answers_at_once(tmp_path):
    path = tmp_path / "history.sqlite3"
    store, _ = HistoryStore.open(path)
    assert store is not None
    heard: list[str] = []
    store.on_broken(heard.append)
    assert write(store, [note_item(0)]) == [True]
    store.writer.submit(lambda conn: conn.execute("PRAGMA max_page_count = 40"))  # a disk of 160 KiB
    assert write(store, [note_item(i, size=4000) for i in range(1, 200)]) is None
    assert heard == [store.broken] and "the disk is full" in heard[0] and "in memory" in heard[0]
    assert write(store, [note_item(500)]) is None
    store.close()
    store, note = HistoryStore.open(path)  # the file itself is fine: what was committed is there
    assert store is not None and note is None
    assert [row.key for row in store.panel("p", "notifications", "p").recent(10)] == ["n0"]
    store.close()


WRITER = """
import json, sys, threading, time
from pathlib import Path
from feedview.store.history import HistoryStore, NewItem
store, note = HistoryStore.open(Path(sys.argv[1]))
assert store is not None, note
part = store.panel("shared", "notifications", "shared")
who = sys.argv[2]
for batch in range(40):
    items = [NewItem(f"{who}-{batch}-{i}", time.time(), None, 3, None, None, json.dumps({"n": i}))
             for i in range(250)]
    done = threading.Event()
    part.add(items, lambda fresh: done.set())
    done.wait(60)
assert store.broken is None, store.broken
store.close()
print("ok")
"""


def test_two_processes_write_one_store_at_once_without_loss_or_damage(tmp_path):
    path = tmp_path / "history.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[3] / "src")}
    children = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), who], env=env, stdout=subprocess.PIPE, text=True)
        for who in ("a", "b")
    ]
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0] and outputs == ["ok\n", "ok\n"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*), count(DISTINCT key) FROM items").fetchone() == (20_000, 20_000)
        assert conn.execute("SELECT count(*) FROM panels").fetchone()[0] == 1


def test_a_job_that_fails_stops_the_store_but_never_its_thread_or_the_caller(tmp_path):
    store, _ = HistoryStore.open(tmp_path / "history.sqlite3")
    assert store is not None
    unencodable = NewItem("n1", time.time(), None, 3, None, None, "lone \ud800 surrogate")
    assert write(store, [unencodable]) is None
    assert (
        store.broken is not None and store.broken.startswith("history: stopped writing:") and "\n" not in store.broken
    )
    assert write(store, [note_item(2)]) is None  # answered at once
    store.close()


@contextlib.contextmanager
def unindexed(path: Path) -> Iterator[history.PanelStore]:
    """The store at `path` opened with none of its items in the search index yet, and another
    feedview writing (so this one's writer cannot catch the index up): its panel's part."""
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO items_fts(items_fts) VALUES ('delete-all')")
        conn.execute("UPDATE search_index SET upto = 0")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    store = None
    try:
        store, _ = HistoryStore.open(path)
        assert store is not None
        yield history.PanelStore(store, store.read("SELECT id FROM panels")[0][0], history.Retention())
    finally:
        other.execute("ROLLBACK")
        other.close()
        if store is not None:
            store.close()


def test_search_finds_the_newest_items_before_the_index_reaches_them(tmp_path):
    path = tmp_path / "history.sqlite3"
    make_store(path, count=10)
    with unindexed(path) as part:
        assert [row.key for row in part.search("message 7")] == ["n7"]
        assert [row.key for row in part.search("MESS")][:2] == ["n9", "n8"]


def test_search_before_the_index_folds_case_beyond_ascii(tmp_path):
    path = tmp_path / "history.sqlite3"
    store, _ = HistoryStore.open(path)
    assert store is not None
    raw = {"id": "u1", "topic": "alerts", "time": 1_767_225_600, "title": "Ärger im Büro", "message": "Straße zu"}
    write(store, [NewItem("u1", time.time(), raw["time"], 3, None, None, json.dumps(raw))])
    store.close()
    with unindexed(path) as part:
        for words in ("ärger", "ÄRGER", "straße", "STRASSE"):
            assert [row.key for row in part.search(words)] == ["u1"], words


def test_the_writer_indexes_what_it_wrote_once_idle(tmp_path):
    from feedview.store.history import unindexed

    path = tmp_path / "history.sqlite3"
    store, _ = HistoryStore.open(path)
    assert store is not None
    write(store, [note_item(i) for i in range(12_000)])
    deadline = time.monotonic() + 30
    while (
        store.read("SELECT max(id) - (SELECT upto FROM search_index) FROM items")[0][0] and time.monotonic() < deadline
    ):
        store.writer.flush()  # (a round; the index catches up between rounds)
    assert store.read("SELECT max(id) - (SELECT upto FROM search_index) FROM items")[0][0] == 0
    store.close()
    with sqlite3.connect(path) as conn:
        assert unindexed(conn) == 0
        conn.execute("INSERT INTO items_fts(items_fts) VALUES ('integrity-check')")


def test_a_version_1_store_is_migrated_its_items_searched_then_indexed_again(tmp_path):
    from feedview.store.history import PanelStore, Retention, index_items, prune_panel
    from feedview.store.schema import MIGRATIONS, _statements

    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path, isolation_level=None) as conn:  # a file as version 1 wrote it, indexed
        for statement in _statements(MIGRATIONS[0]):
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.execute("INSERT INTO panels(identity, kind, name) VALUES ('p', 'notifications', 'p')")
        conn.executemany(
            "INSERT INTO items(panel, key, received, sent, priority, payload) VALUES (1, ?, ?, ?, 3, ?)",
            [(item.key, item.received, item.sent, item.payload) for item in map(note_item, range(50))],
        )
        index_items(conn, 50)
    store, note = HistoryStore.open(path)
    assert store is not None and note is None
    part = PanelStore(store, 1, Retention(max_items=40))
    assert [row.key for row in part.search("message 47")] == ["n47"]  # (read by substring until indexed)
    deadline = time.monotonic() + 30
    while store.read("SELECT upto FROM search_index")[0][0] < 50 and time.monotonic() < deadline:
        store.writer.flush()
    assert [row.key for row in part.search("message 47")] == ["n47"]
    store.writer.submit(lambda conn: prune_panel(conn, 1, part.retention))  # deletes leave the new index
    store.writer.flush()
    assert [row.key for row in part.search("message")][-1] == "n10"
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert "columnsize=0" in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'items_fts'").fetchone()[0]
        conn.execute("INSERT INTO items_fts(items_fts) VALUES ('integrity-check')")


def test_prune_drops_the_expired_then_the_oldest_beyond_max_items_of_that_panel_only(tmp_path):
    from feedview.store.history import Retention, prune_panel

    store, _ = HistoryStore.open(tmp_path / "history.sqlite3")
    assert store is not None
    now = time.time()
    old = [item._replace(received=now - 10 * 86400) for item in map(note_item, range(5))]
    mine = [note_item(i) for i in range(5, 30)]
    theirs = [note_item(i) for i in range(100, 125)]
    write(store, old)
    for start in range(0, 25, 5):  # two panels' items interleaved
        write(store, mine[start : start + 5])
        write(store, theirs[start : start + 5], panel="q")
    panel = store.read("SELECT id FROM panels WHERE identity = 'p'")[0][0]
    gone: list[int] = []
    store.writer.submit(lambda conn: gone.append(prune_panel(conn, panel, Retention(days=7, max_items=20), now)))
    store.writer.flush()
    assert gone == [10]  # the 5 expired, then the 5 oldest beyond 20
    assert [row.key for row in store.panel("p", "notifications", "p").recent(100)] == [f"n{i}" for i in range(10, 30)]
    assert len(store.panel("q", "notifications", "q").recent(100)) == 25
    store.writer.submit(lambda conn: gone.append(prune_panel(conn, panel, Retention(days=7, max_items=20), now)))
    store.writer.flush()
    assert gone == [10, 0]
    store.close()


def test_batches_handed_in_while_the_writer_is_busy_are_written_together_each_with_its_own_answer(tmp_path):
    store, _ = HistoryStore.open(tmp_path / "history.sqlite3")
    assert store is not None
    part = store.panel("p", "notifications", "p")
    held, answers = threading.Event(), {}
    store.writer.submit(lambda conn: held.wait(10))  # the writer is busy with another job
    for name, keys in {"a": [1, 2], "b": [2, 3, 3], "c": [4], "d": [1]}.items():
        part.add([note_item(i) for i in keys], lambda fresh, name=name: answers.setdefault(name, fresh))
    assert store.writer.pending_rows == 8
    held.set()
    store.writer.flush()
    assert answers == {"a": True, "b": [False, True, False], "c": True, "d": [False]}
    assert [row.key for row in part.recent(10)] == ["n1", "n2", "n3", "n4"]
    store.close()


# -- the writer under a firehose: the index out of its way, checkpoints beside it, answers on the loop --


def behind(store: HistoryStore) -> int:
    """Items not in the search index yet."""
    return store.read("SELECT coalesce(max(id), 0) - (SELECT upto FROM search_index) FROM items")[0][0]


def test_a_busy_writer_leaves_the_index_behind_by_at_most_index_lag_max_and_search_still_finds_all(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(history, "INDEX_QUIET_RATE", -1)  # items always come too fast to index between rounds
    monkeypatch.setattr(history, "RATE_WINDOW_S", 0.0)
    monkeypatch.setattr(history, "INDEX_QUIET_S", 3600.0)  # and the next job is never far
    monkeypatch.setattr(history, "INDEX_LAG_MAX", 300)
    path = tmp_path / "history.sqlite3"
    store, _ = HistoryStore.open(path)
    assert store is not None
    write(store, [note_item(i) for i in range(200)])
    assert behind(store) == 200  # nothing indexed while busy
    part = store.panel("p", "notifications", "p")
    assert [row.key for row in part.search("message 150")] == ["n150"]  # (the newest by substring)
    for start in range(200, 1000, 200):
        write(store, [note_item(i) for i in range(start, start + 200)])
        assert behind(store) == 300  # each write indexed the excess, in its own transaction
    assert "n10" in {row.key for row in part.search("message 10")}  # from the index
    assert "n950" in {row.key for row in part.search("message 950")}  # not in it yet
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO items_fts(items_fts) VALUES ('integrity-check')")


def test_a_quiet_writer_catches_the_index_up_a_slice_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setattr(history, "INDEX_SLICE", 100)
    slices: list[int] = []
    index_items = history.index_items
    monkeypatch.setattr(
        history, "index_items", lambda conn, limit: slices.append(index_items(conn, limit)) or slices[-1]
    )
    path = tmp_path / "history.sqlite3"
    store, _ = HistoryStore.open(path)
    assert store is not None
    write(store, [note_item(i) for i in range(1050)])
    for _ in range(40):  # (rounds of nothing: the writer is quiet between them)
        if not behind(store):
            break
        store.writer.flush()
    assert behind(store) == 0
    assert max(slices) == 100 and sum(slices) == 1050
    store.close()


async def test_the_log_is_folded_back_into_the_file_while_the_store_is_open(tmp_path, wait_until):
    path = tmp_path / "history.sqlite3"
    store, _ = HistoryStore.open(path)
    assert store is not None
    before = path.stat().st_size
    # about 1 MB: far below the writer's own autocheckpoint (db.WAL_CHECKPOINT_PAGES)
    await asyncio.to_thread(write, store, [note_item(i, size=2000) for i in range(500)])
    await wait_until(lambda: path.stat().st_size > before + 1_000_000, 10, "the checkpoint thread")
    await asyncio.to_thread(store.close)


async def test_answers_given_a_loop_come_on_it_in_the_callers_context_each_batch_its_own(tmp_path, wait_until):
    who = contextvars.ContextVar("who", default="nobody")
    who.set("the view")
    store, _ = HistoryStore.open(tmp_path / "history.sqlite3")
    assert store is not None
    part = await asyncio.to_thread(store.panel, "p", "notifications", "p")
    held = threading.Event()
    store.writer.submit(lambda conn: held.wait(10))  # the batches below wait as one job
    answers: list[tuple[str, object, int, str]] = []
    loop = asyncio.get_running_loop()
    for name, keys in {"a": [1, 2], "b": [2, 3], "c": [4]}.items():
        part.add(
            [note_item(i) for i in keys],
            lambda fresh, name=name: answers.append((name, fresh, threading.get_ident(), who.get())),
            loop=loop,
        )
    held.set()
    await wait_until(lambda: len(answers) == 3, 10, "three answers")
    here = threading.get_ident()
    assert answers == [
        ("a", True, here, "the view"),
        ("b", [False, True], here, "the view"),
        ("c", True, here, "the view"),
    ]
    store.close()


def test_a_feeds_items_keep_none_as_null_and_read_back_as_the_feed_made_them(tmp_path):
    from feedview.feeds.eventstream import SseEvent
    from feedview.feeds.ntfy import SeenIds, notification_items
    from feedview.store.items import items_of, new_items

    ntfy = json.dumps({"id": "m1", "topic": "t", "message": "hello", "priority": 4})
    made = notification_items(
        [SseEvent("message", "plain text", ""), SseEvent("ping", "x", "7"), SseEvent("message", ntfy, "")], SeenIds(8)
    )
    store, _ = HistoryStore.open(tmp_path / "history.sqlite3")
    assert store is not None
    assert write(store, new_items(made, 1.5)) == [True, True, True]
    assert store.read("SELECT key, received, sent, priority, event, event_id FROM items ORDER BY id") == [
        (None, 1.5, None, 3, None, None),
        (None, 1.5, None, 3, "ping", "7"),
        ("m1", 1.5, None, 4, None, None),
    ]
    part = store.panel("p", "notifications", "p")
    assert [repr(item) for item, _ in items_of(part.recent(10))] == [repr(item) for item in made]  # (no __eq__)
    assert write(store, new_items(made, 2.0)) == [True, True, False]  # (only the ntfy message has a key)
    store.close()
