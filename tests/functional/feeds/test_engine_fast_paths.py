"""The engine's fast paths (issue 14) read exactly as their plain forms: `watch --json` encodes a
batch's lines in one call, and a check's latency percentiles come from a window kept sorted."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from feedview.commands.watch import _write, json_lines, line_objects
from feedview.feeds.check_history import CheckHistory
from feedview.feeds.eventstream import SseEvent
from feedview.feeds.ntfy import SeenIds
from feedview.text import escape_json_bytes


class Sink:
    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    def flush(self) -> None:
        pass


def test_a_batch_is_written_as_its_json_lines_one_by_one():
    message = {"id": "m1", "topic": "t", "event": "message", "title": "T\u202e", "priority": 5, "tags": ["a"]}
    events = [
        SseEvent("message", json.dumps(message), "1"),
        SseEvent("message", "plain text \x7f", "2"),
        SseEvent("open", '{"id": "o", "topic": "t", "event": "open"}', "3"),  # dropped, as the feed drops it
        SseEvent("message", '{"id": "m2", "topic": "t", "priority": 9}', "4"),  # out of range: the default
    ]
    sink = Sink()
    _write(sink, line_objects(events, SeenIds(10)))
    one_by_one = json_lines(events, SeenIds(10))
    assert sink.written.split(b"\n")[:-1] == [escape_json_bytes(line) for line in one_by_one]
    assert sink.written.endswith(b"\n") and sink.written.isascii()  # DEL and bidi escaped, the block ASCII
    lines = [json.loads(line) for line in sink.written.splitlines()]
    assert [line.get("notification_id") for line in lines] == ["m1", None, "m2"]
    assert lines[0]["title"] == "T\u202e" and lines[2]["priority"] == 3


@given(st.lists(st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False)), max_size=60), st.integers(1, 10))
def test_percentiles_of_the_window_kept_sorted_are_its_nearest_ranks(latencies, window):
    history = CheckHistory(1, 1, window)
    for latency in latencies:
        history.record(0.0, latency is not None, latency, None)
    kept = sorted(v for v in latencies[-window:] if v is not None)  # the window's, nearest rank
    qs = (0.5, 0.95, 0.0, 1.0)
    expected = tuple(kept[max(0, math.ceil(q * len(kept)) - 1)] if kept else None for q in qs)
    assert history.latency_percentiles(*qs) == expected
    assert tuple(history.latency_percentile(q) for q in qs) == expected
