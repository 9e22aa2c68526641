"""The history store's costs (issue 15): `python benchmarks/history.py`.

Run from the repository root with the source on the path (`PYTHONPATH=src`). It prints,
each against its baseline in the same run, paired cases interleaved round after round,
medians with their spread (min-max):

  1. UI intake on the lab's /firehose with the store on (every batch committed before it
     is shown) against the store off: goal >= 0.8x;
  2. the first frame of `feedview watch` (in a pty) with 1,000,000 stored items against an
     empty store: goal within 20 ms; and, with 1,000,000, how long until the stored
     history is on screen;
  3. search over 1,000,000 stored items (the panel's `/`, `feedview history --search`):
     p50/p95 per kind of query: goal p95 < 50 ms;
  4. the store's size per 1,000,000 ntfy messages, and the write rate that built it.

The lab runs in a subprocess, so the UI's process does only UI work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import feedview.ui  # noqa: F401  (first: it sets Textual's frame rate, as `feedview` does)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ui_firehose import first_frame, spread, until

ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    "deploy",
    "build",
    "backup",
    "disk",
    "alert",
    "login",
    "payment",
    "cache",
    "queue",
    "invoice",
    "report",
    "latency",
    "timeout",
    "certificate",
    "release",
    "rollback",
    "migration",
    "replica",
    "shard",
    "index",
    "vacuum",
    "cron",
    "webhook",
    "token",
    "quota",
    "billing",
    "search",
    "gateway",
]
HOSTS = [f"host-{n}" for n in range(200)]


def start_lab() -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "feedview.cli", "lab", "--port", "0"], stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    return process, first.split(" on ", 1)[1].split()[0]


# -- 1. intake ----------------------------------------------------------------------------------


async def ui_rate(url: str, count: int, store: Path | None) -> float:
    from feedview.config import PanelConfig
    from feedview.ui.app import FeedviewApp

    app = FeedviewApp([PanelConfig("notifications", "firehose", {"url": url})], history=store)
    async with app.run_test(size=(160, 45), notifications=True):
        view = app.panels[0].view
        await until(lambda: view.received >= 1, 30, "the first event")
        started, first = time.perf_counter(), view.received
        await until(lambda: view.received >= count, 300, f"{count:,} events")
        return (view.received - first) / (time.perf_counter() - started)


async def intake(base: str, count: int, rounds: int, folder: Path) -> tuple[list[float], list[float]]:
    off: list[float] = []
    on: list[float] = []
    for index in range(rounds):
        url = f"{base}/firehose?count={count}&size=200"
        cases = [(off, None), (on, folder / f"intake-{index}.sqlite3")]
        for figures, store in cases[index % 2 :] + cases[: index % 2]:
            figures.append(await ui_rate(url, count, store))
    return off, on


# -- the million ----------------------------------------------------------------------------------


def ntfy_message(n: int, rng: random.Random, newest: int) -> dict:
    words = rng.sample(WORDS, 3)
    message = {
        "id": f"{n:012x}",
        "time": 1_767_225_600 + n,
        "event": "message",
        "topic": "bench",
        "title": f"{words[0]} on {rng.choice(HOSTS)}",
        "message": f"{words[1]} {words[2]} finished in {rng.randint(1, 999)} ms (run {n})",
        "priority": rng.choice((1, 2, 3, 3, 3, 4, 5)),
        "tags": rng.sample(("warning", "rocket", "lock", "white_check_mark", "skull"), rng.randint(0, 2)),
    }
    if n == newest:
        message["title"] = "stored newest"  # the marker of "the stored history is on screen"
    return message


def build_store(path: Path, url: str, count: int) -> tuple[float, float]:
    """`count` ntfy messages through the store's own writer; (seconds, items/s)."""
    from feedview.kinds import kind_of
    from feedview.store.history import HistoryStore, NewItem, Retention, index_items
    from feedview.store.items import identity

    store, note = HistoryStore.open(path)
    assert store is not None, note
    key = identity("notifications", {"url": url}, kind_of("notifications").identity_keys)
    panel = store.panel(key, "notifications", "bench", Retention(max_items=max(count, 1)))  # (all of them kept)
    rng = random.Random(15)
    started = time.perf_counter()
    batch = 5000
    for start in range(0, count, batch):
        items = []
        for n in range(start, min(count, start + batch)):
            message = ntfy_message(n, rng, count - 1)
            data = json.dumps(message, separators=(",", ":"))
            items.append(NewItem(message["id"], time.time(), message["time"], message["priority"], None, None, data))
        done = threading.Event()
        panel.add(items, lambda _, done=done: done.set())
        if store.writer.pending_rows > 4 * batch:
            done.wait()
    store.writer.submit(lambda conn: index_items(conn, count))  # searched below: all in the index
    store.writer.flush(600)
    if store.broken:
        raise SystemExit(f"history: the store broke while building it: {store.broken}")
    seconds = time.perf_counter() - started
    store.read("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return seconds, count / seconds


def searches(path: Path, repeats: int, count: int) -> dict[str, list[float]]:
    """Milliseconds per query, by kind, through the panel's own search (newest 500 matches)."""
    from feedview.store.history import HistoryStore

    store, _ = HistoryStore.open(path)
    assert store is not None
    panel_id = store.read("SELECT id FROM panels LIMIT 1")[0][0]
    from feedview.store.history import PanelStore, Retention

    panel = PanelStore(store, panel_id, Retention())
    queries = {
        "common word (1 in 10)": "deploy",
        "two words": "backup host-7",
        "prefix": "certif",
        "rare (one item)": str(count - 1),
        "no match": "zebra",
    }
    timings: dict[str, list[float]] = {kind: [] for kind in queries}
    for _ in range(repeats):
        for kind, text in queries.items():
            started = time.perf_counter()
            found = panel.search(text, limit=500)
            timings[kind].append((time.perf_counter() - started) * 1000)
            assert kind != "rare (one item)" or len(found) == 1
    store.close()
    return timings


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def first_frames(url: str, empty: Path, full: Path, rounds: int) -> tuple[list[float], list[float], list[float]]:
    """Milliseconds to `watch`'s first frame (empty store, 1M store) and to the stored history (1M)."""
    command = [sys.executable, "-m", "feedview.cli", "watch", url]
    os.environ["PYTHONPATH"] = str(ROOT / "src")
    with_empty: list[float] = []
    with_full: list[float] = []
    shown: list[float] = []
    for index in range(rounds):
        cases = [(with_empty, empty), (with_full, full)]
        for figures, store in cases[index % 2 :] + cases[: index % 2]:
            os.environ["FEEDVIEW_HISTORY"] = str(store)
            figures += first_frame(command, b"Opening panels", 1)
        os.environ["FEEDVIEW_HISTORY"] = str(full)
        shown += first_frame(command, b"stored newest", 1)
    return with_empty, with_full, shown


def report(line: str) -> None:
    print(line, flush=True)


def stored_cases(base: str, where: Path, items: int, rounds: int) -> None:
    """Cases 2-4, over a store of `items` ntfy messages."""
    url = f"{base}/ntfy/bench/sse"
    full, empty = where / "million.sqlite3", where / "empty.sqlite3"
    seconds, rate = build_store(full, url, items)
    build_store(empty, url, 0)
    size = full.stat().st_size
    report(
        f"4. store size: {size / 1e6:,.1f} MB for {items:,} ntfy messages "
        f"({size / items:,.0f} bytes each; {size / items * 1e6 / 1e6:,.0f} MB per 1,000,000); "
        f"written in {seconds:,.1f} s ({rate:,.0f} items/s)"
    )
    timings = searches(full, 30, items)
    report(f"3. search over {items:,} items, ms (30 runs each; goal p95 < 50):")
    for kind, values in timings.items():
        report(f"   {kind:<24} p50 {pct(values, 0.5):6.1f}   p95 {pct(values, 0.95):6.1f}")
    with_empty, with_full, shown = first_frames(url, empty, full, rounds)
    delta = statistics.median(with_full) - statistics.median(with_empty)
    report(f"2. first frame, empty store: {spread(with_empty, ' ms')}")
    report(
        f"   first frame, {items:,} stored: {spread(with_full, ' ms')}   difference {delta:+.1f} ms (goal within 20 ms)"
    )
    report(f"   stored history on screen ({items:,} stored): {spread(shown, ' ms')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000, help="stored items for 2-4 (default 1,000,000)")
    parser.add_argument("--intake", type=int, default=100_000, help="events per intake run (default 100,000)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--intake-only", action="store_true", help="case 1 only")
    args = parser.parse_args()
    report(f"load average at the start: {Path('/proc/loadavg').read_text().strip()}")
    lab, base = start_lab()
    try:
        with tempfile.TemporaryDirectory(prefix="feedview-history-") as folder:
            where = Path(folder)
            os.environ["FEEDVIEW_HISTORY"] = "off"
            off, on = asyncio.run(intake(base, args.intake, args.rounds, where))
            ratio = statistics.median(on) / statistics.median(off)
            report(f"1. intake, store off: {spread(off, ' ev/s', 0)}")
            report(f"   intake, store on:  {spread(on, ' ev/s', 0)}   on/off = {ratio:.2f}x (goal >= 0.8x)")
            if not args.intake_only:
                stored_cases(base, where, args.items, args.rounds)
    finally:
        lab.terminate()
        lab.wait()
    report(f"load average at the end: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
