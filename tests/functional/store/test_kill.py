"""kill -9 in the middle of a firehose: on restart nothing that was shown is missing, nothing
is doubled, the file is not damaged, and the stream resumes after the last stored event."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from scripted import RecordingApp
from servers import wait_until

from feedview.config import PanelConfig

COUNT = 30_000

CHILD = """
import sys
from pathlib import Path
from feedview.config import PanelConfig
from feedview.ui.app import FeedviewApp
from feedview.ui.notifications import NotificationView

flush = NotificationView.flush_frame

def flush_and_tell(self):
    flush(self)
    if self.entries:  # what the view shows now, newest first: its event id
        print("shown", self.entries[-1][0].event.last_event_id, flush=True)

NotificationView.flush_frame = flush_and_tell
app = FeedviewApp([PanelConfig("notifications", "firehose", {"url": sys.argv[1]})], history=Path(sys.argv[2]))
app.run(headless=True)
"""


def event_ids(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [int(row[0]) for row in conn.execute("SELECT event_id FROM items ORDER BY id")]


def stream_then_kill(url: str, store: Path) -> int:
    """The app in a child process on the firehose, killed with SIGKILL once it has shown 3,000
    events; the newest event id it showed."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[3] / "src")}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(store)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    shown = 0
    try:
        assert child.stdout is not None
        for line in child.stdout:  # (the child flushes each line; the deadline is pytest's timeout)
            shown = int(line.split()[1])
            if shown >= 3000:
                break
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    return shown


async def test_kill_9_while_streaming_loses_nothing_shown_and_doubles_nothing(lab, tmp_path):
    store = tmp_path / "history.sqlite3"
    url = lab.url(f"/firehose?count={COUNT}&size=200")
    shown = stream_then_kill(url, store)
    assert 3000 <= shown < COUNT, "killed mid-stream"
    ids = event_ids(store)
    assert ids == list(range(1, len(ids) + 1)) and len(ids) >= shown  # all that was shown, each once

    before = len([r for r in lab.state.requests if r.path == "/firehose"])
    panel = PanelConfig("notifications", "firehose", {"url": url})
    app = RecordingApp([panel], history=store)
    async with app.run_test(size=(100, 20)):
        view = app.panels[0].view
        await wait_until(lambda: view.entries and view.entries[-1][0].event.last_event_id == str(COUNT), timeout=60)
        resumed = [r for r in lab.state.requests if r.path == "/firehose"][before]
        assert resumed.headers.get("last-event-id") == str(ids[-1])
    assert event_ids(store) == list(range(1, COUNT + 1))
