"""`feedview watch URL --json`, as a user runs it, against the lab."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
from servers import feedview, start_feedview

from feedview.commands.watch import json_lines, state_line
from feedview.feeds.ntfy import SeenIds, notification_items
from feedview.feeds.sse import SseEvent
from feedview.feeds.state import FeedState


def test_json_lines_and_count(lab):
    result = feedview("watch", lab.url("/events?interval=0"), "--json", "--count", "3", "--last-event-id", "0")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["1", "2", "3"]
    first = lines[0]
    assert first["event"] in {"deploy", "alert", "ci", "backup", "security"}
    assert json.loads(first["data"])["id"] == first["notification_id"]
    assert {"time", "topic", "title", "message", "priority", "tags", "click"} <= set(first)
    assert "feedview watch: open" in result.stderr.splitlines()
    assert lab.state.wait_for(lambda s: s.open_streams == 0)  # closed, not abandoned


def test_204_exits_0(lab):
    result = feedview(
        "watch", lab.url("/events?interval=0&cut_after=5&gone_after=1&retry=0"), "--json", "--last-event-id", "0"
    )
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 5
    assert result.stderr.splitlines()[-1].startswith("feedview watch: closed")


def test_final_error_is_one_line_and_exit_1(lab):
    result = feedview("watch", lab.url("/no/such/stream"), "--json")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == ["feedview watch: error: HTTP 404 Not Found"]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_headers_reach_the_stream(lab):
    feedview(
        "watch",
        lab.url("/firehose?count=1"),
        "--json",
        "--count",
        "1",
        "-H",
        "Authorization: Bearer t0ken",
        "-H",
        "X-Extra: 1",
    )
    seen = lab.state.requests_to("/firehose")[0].headers
    assert seen["authorization"] == "Bearer t0ken" and seen["x-extra"] == "1"


def test_ctrl_c_exits_130_quietly(lab):
    proc = start_feedview("watch", lab.url("/events?interval=0.05"), "--json")
    try:
        assert json.loads(proc.stdout.readline())["id"]  # streaming
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def test_control_characters_never_reach_the_terminal_raw(lab):
    text = "\x1b[2J\x9b31m\x7f ok \u00e9"
    httpx.post(lab.url("/ntfy/ctl"), content=text.encode())
    result = feedview("watch", lab.url("/ntfy/ctl/sse?since=all"), "--json", "--count", "1")
    line = result.stdout.splitlines()[0]
    assert "\x1b" not in line and "\x9b" not in line and "\x7f" not in line
    assert json.loads(line)["message"] == text


def test_json_lines_read_messages_as_the_feed_does():
    datas = [
        '{"id":"a","time":1,"event":"message","topic":"t","title":"T","message":"m","priority":4,'
        '"tags":["x",1],"click":"https://c/"}',
        '{"id":"b","topic":"t","priority":"high","tags":"x","click":"","title":5,"time":1.5}',
        '{"id":"","topic":"t"}',
        '{"id":"c","event":"keepalive","topic":"t"}',
        "[1]",
        "plain",
        "{bad",
        # well typed (the struct fast path), then each field just off its type or range
        '{"id":"h","time":2,"topic":"t","title":"T","message":"M","priority":5,"tags":["a"],"click":"https://x/"}',
        '{"id":"d","topic":"t","priority":true,"time":false}',
        '{"id":"e","topic":"t","priority":9,"time":-5}',
        '{"id":"f","topic":"t","tags":null,"click":null,"title":null}',
        '{"id":"g","topic":"t","priority":0}',
        '{"id":"i","topic":"t","time":123456789012345678901234567890,"id":"j"}',
        '{"id":"k","topic":7}',
    ]
    events = [SseEvent("message", data, str(n)) for n, data in enumerate(datas)]
    events.append(SseEvent("keepalive", datas[3], "99"))
    lines = [json.loads(line) for line in json_lines(events, SeenIds(10))]
    items = notification_items(events, SeenIds(10))
    assert len(lines) == len(items) == 14  # the keepalive is dropped by both
    assert [item.id for item in items if not isinstance(item, SseEvent)] == list("abhdefgj")
    for line, item in zip(lines, items, strict=True):
        if isinstance(item, SseEvent):
            assert line == {"event": item.type, "data": item.data, "id": item.last_event_id}
        else:
            assert line["notification_id"] == item.id
            fields = ("time", "topic", "title", "message", "priority", "tags", "click")
            assert [line[f] for f in fields] == [getattr(item, f) if f != "tags" else list(item.tags) for f in fields]

    replay = SeenIds(10)
    replay.recent.extend(["a", "h"])  # seen before a reconnection: dropped whichever path reads them
    replay.resume()
    again = [json.loads(line).get("notification_id") for line in json_lines(events, replay)]
    assert [n for n in again if n] == list("bdefgj")


def test_hostile_json_is_a_plain_event_or_a_time_of_0():
    deep = '{"id":"d","topic":"t","x":' + "[" * 5000 + "]" * 5000 + "}"  # the decoder's recursion limit
    huge = '{"id":"h","topic":"t","time":' + "1" * 400 + "}"  # an int no clock can show
    events = [
        SseEvent("message", deep, "1"),
        SseEvent("message", huge, "2"),
        SseEvent("message", '{"id":"n","topic":"t","time":-5}', "3"),
    ]
    items = notification_items(events, SeenIds(10))
    lines = [json.loads(line) for line in json_lines(events, SeenIds(10))]
    assert items[0] is events[0] and lines[0] == {"event": "message", "data": deep, "id": "1"}
    assert [item.time for item in items[1:]] == [line["time"] for line in lines[1:]] == [0, 0]


def test_state_lines():
    assert state_line(FeedState("connecting")) == "feedview watch: connecting"
    assert state_line(FeedState("retrying", "HTTP 503 Service Unavailable", resume_at=0, attempt=2)) == (
        "feedview watch: retrying in 0.0s (attempt 2): HTTP 503 Service Unavailable"
    )
    assert state_line(FeedState("closed", "done")) == "feedview watch: closed: done"


def test_a_reader_that_stops_early_is_not_an_error(lab):
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedview.cli", "watch", lab.url("/events?interval=0.01"), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert json.loads(proc.stdout.readline())["event"]
        proc.stdout.close()  # like `| head -1`
        assert proc.wait(timeout=10) == 0
        assert b"Traceback" not in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
