"""`feedview history`: print, filter, search and prune a real store file, as a script would."""

from __future__ import annotations

import json
import threading
import time

import pytest
from servers import feedview

from feedview.store.history import HistoryStore, NewItem

NOW = time.time()


def fill(path, messages: list[dict], panel: str = "alerts", received: float = NOW) -> None:
    store, _ = HistoryStore.open(path)
    assert store is not None
    part = store.panel(json.dumps(["notifications", panel]), "notifications", panel)
    items = [
        NewItem(m["id"], received, m.get("time"), m.get("priority", 3), None, None, json.dumps(m)) for m in messages
    ]
    done = threading.Event()
    part.add(items, lambda _: done.set())
    assert done.wait(10)
    store.close()


def message(i: int, **fields) -> dict:
    return {"id": f"m{i}", "topic": "alerts", "time": int(NOW) - 100 + i, "message": f"message {i}", **fields}


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "history.sqlite3"
    fill(
        path,
        [
            message(1, title="Disk full", priority=5, tags=["warning", "db"]),
            message(2, title="Deploy done", tags=["rocket"]),
            message(3, title="Disk\x1b[2J cleaned\u202e", priority=4, message="db-1 back to 40%"),
        ],
    )
    fill(path, [message(9, topic="ci", title="Build failed", priority=4)], panel="ci")
    return path


def history(path, *args: str):
    return feedview("history", *args, env={"FEEDVIEW_HISTORY": str(path)})


def test_it_prints_every_panels_items_oldest_first_as_safe_lines(store):
    result = history(store)
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert [line.split("  ", 2)[1] for line in lines] == ["alerts", "alerts", "alerts", "ci"]
    assert "‼ Disk full  message 1  #warning #db" in lines[0]
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout


def test_filters_combine_search_priority_tag_panel_and_since(store):
    assert [
        json.loads(line)["notification_id"] for line in history(store, "--search", "disk", "--json").stdout.splitlines()
    ] == ["m1", "m3"]
    high = history(store, "--priority", ">=4", "--panel", "ALERTS", "--json").stdout.splitlines()
    assert [json.loads(line)["notification_id"] for line in high] == ["m1", "m3"]
    tagged = history(store, "--tag", "db", "--json").stdout.splitlines()
    assert [json.loads(line)["title"] for line in tagged] == ["Disk full"]
    after = history(store, "--since", "m2", "--json").stdout.splitlines()
    assert [json.loads(line)["notification_id"] for line in after] == ["m3", "m9"]
    assert history(store, "--since", "1h", "--limit", "2", "--json").stdout.count("\n") == 2


def test_json_lines_escape_what_a_terminal_must_not_see(store):
    line = history(store, "--search", "cleaned", "--json").stdout
    assert "\u202e" not in line and "\\u202e" in line and "\x1b" not in line
    assert json.loads(line)["title"] == "Disk\x1b[2J cleaned\u202e"  # the data itself is kept as it came


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--priority", "9"), "--priority: expected a priority from 1 to 5"),
        (("--since", "2026-13-45"), "--since: '2026-13-45' is not a date"),
        (("--search", '"*'), "--search: no word to look for"),
        (("--panel", "nope"), "no panel named 'nope' (panels: alerts, ci)"),
    ],
)
def test_a_bad_filter_is_one_line(store, args, message):
    result = history(store, *args)
    assert result.returncode in (1, 2) and result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_path_says_where_the_store_is_and_no_history_turns_it_off(store, tmp_path):
    assert history(store, "--path").stdout == f"{store}\n"
    off = feedview("--no-history", "history", "--path", env={"FEEDVIEW_HISTORY": str(store)})
    assert off.returncode == 0 and "history is off" in off.stdout
    missing = history(tmp_path / "none.sqlite3")
    assert missing.returncode == 0 and "no history yet" in missing.stderr and not (tmp_path / "none.sqlite3").exists()


def test_prune_applies_each_panels_retention_from_the_config(tmp_path):
    path = tmp_path / "history.sqlite3"
    fill(path, [message(i) for i in range(50)], received=NOW - 40 * 86400)  # 40 days old
    fill(path, [message(i) for i in range(100, 130)])
    config = tmp_path / "config.toml"
    config.write_text('[[panel]]\nkind = "notifications"\nurl = "https://x/sse"\nmax_items = 20\n')
    result = feedview("--config", str(config), "history", "--prune", env={"FEEDVIEW_HISTORY": str(path)})
    # the config's panel is another feed: this one prunes with the defaults (365 days, 200,000 items)
    assert result.returncode == 0 and result.stdout.startswith("pruned 0 items")
    config.write_text('[[panel]]\nkind = "notifications"\nurl = "https://x/sse"\n')
    assert history(path, "--json", "--limit", "1000").stdout.count("\n") == 80
