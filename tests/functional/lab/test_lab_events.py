"""The lab's SSE endpoints and their knobs, over real loopback HTTP."""

from __future__ import annotations

import json

import httpx
import pytest

from feedview.feeds.eventstream import EventStreamDecoder
from feedview.feeds.sse import SseEvent


def read_stream(
    url: str, *, headers=None, until: bytes | None = None, limit: int = 1 << 20, timeout: float = 5.0
) -> tuple[httpx.Response, bytes]:
    """GET url; the body until `until` appears (or the stream ends), with a deadline."""
    body = b""
    with httpx.stream("GET", url, headers=headers, timeout=timeout) as response:
        for chunk in response.iter_raw():
            body += chunk
            if (until is not None and until in body) or len(body) > limit:
                break
    return response, body


def decode(body: bytes) -> list[SseEvent]:
    return [SseEvent(*event) for event in EventStreamDecoder().feed(body)]


# -- /events --------------------------------------------------------------------------


def test_events_are_ntfy_shaped_with_ids_types_and_retry(lab):
    response, body = read_stream(lab.url("/events?interval=0&cut_after=20"), headers={"Last-Event-ID": "0"})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert body.startswith(b"retry: 3000\n\n")
    events = decode(body)
    assert [e.last_event_id for e in events] == [str(n) for n in range(1, 21)]
    kinds = {e.type for e in events}
    assert kinds <= {"deploy", "alert", "ci", "backup", "security"} and len(kinds) >= 3
    for event in events:
        message = json.loads(event.data)
        assert {"id", "time", "event", "topic", "title", "message", "priority", "tags"} <= set(message)
        assert message["event"] == "message" and 1 <= message["priority"] <= 5
    assert any(json.loads(e.data)["priority"] >= 4 for e in events)


def test_events_are_deterministic_by_seed(make_lab):
    def titles(lab):
        _, body = read_stream(lab.url("/events?interval=0&cut_after=5"), headers={"Last-Event-ID": "0"})
        return [(json.loads(e.data)["id"], json.loads(e.data)["title"]) for e in decode(body)]

    assert titles(make_lab(seed=1)) == titles(make_lab(seed=1)) != titles(make_lab(seed=2))


def test_replay_from_last_event_id_and_its_bound(make_lab):
    lab = make_lab(sse_history=5)
    read_stream(lab.url("/events?interval=0&cut_after=12"), headers={"Last-Event-ID": "0"})
    _, body = read_stream(lab.url("/events?interval=0&cut_after=3"), headers={"Last-Event-ID": "9"})
    assert [e.last_event_id for e in decode(body)] == ["10", "11", "12"]
    _, body = read_stream(lab.url("/events?interval=0&cut_after=2"), headers={"Last-Event-ID": "1"})
    assert [e.last_event_id for e in decode(body)] == ["8", "9"]  # only the last 5 are kept


def test_a_new_subscriber_starts_live(lab):
    read_stream(lab.url("/events?interval=0&cut_after=4"), headers={"Last-Event-ID": "0"})
    _, body = read_stream(lab.url("/events?interval=0&cut_after=1"))
    assert decode(body)[0].last_event_id == "5"


def test_keepalive_comments_and_retry_knob(make_lab):
    lab = make_lab(keepalive_s=0.05)
    _, body = read_stream(lab.url("/events?interval=30&retry=250"), until=b": keepalive\n\n")
    assert body.startswith(b"retry: 250\n\n") and b": keepalive\n\n" in body


def test_cut_after_ends_the_stream_between_events(lab):
    _, body = read_stream(lab.url("/events?interval=0&cut_after=2"), headers={"Last-Event-ID": "0"})
    assert body.endswith(b"\n\n") and len(decode(body)) == 2


def test_cut_mid_ends_inside_the_next_event(lab):
    _, body = read_stream(lab.url("/events?interval=0&cut_after=2&cut_mid=1"), headers={"Last-Event-ID": "0"})
    assert not body.endswith(b"\n\n") and b"id: 3\n" in body
    assert [e.last_event_id for e in decode(body)] == ["1", "2"]


def test_stall_stream_sends_headers_then_nothing(lab):
    with httpx.stream("GET", lab.url("/events?stall_stream=1"), timeout=0.3) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            next(response.iter_raw())
    assert lab.state.wait_for(lambda s: s.disconnects == 1)


def test_malformed_stream_carries_the_same_events(lab):
    _, clean = read_stream(lab.url("/events?interval=0&cut_after=3"), headers={"Last-Event-ID": "0"})
    _, messy = read_stream(lab.url("/events?interval=0&cut_after=3&malformed=1"), headers={"Last-Event-ID": "0"})
    assert b"\r" in messy and b"bad\x00id" in messy
    key = [(e.type, e.data, e.last_event_id) for e in decode(clean)]
    assert [(e.type, e.data, e.last_event_id) for e in decode(messy)] == key


def test_bad_json_knob(lab):
    _, body = read_stream(lab.url("/events?interval=0&cut_after=2&bad_json=1"), headers={"Last-Event-ID": "0"})
    first, second = decode(body)
    with pytest.raises(json.JSONDecodeError):
        json.loads(first.data)
    json.loads(second.data)


def test_gone_after_answers_204(lab):
    url = lab.url("/events?interval=0&cut_after=1&gone_after=2")
    assert [httpx.get(url, headers={"Last-Event-ID": "0"}).status_code for _ in range(3)] == [200, 200, 204]
    assert httpx.get(url).content == b""


def test_streams_are_counted(lab):
    read_stream(lab.url("/events?interval=0&cut_after=1"))
    assert lab.state.wait_for(lambda s: s.open_streams == 0 and s.disconnects == 1)


# -- /firehose ---------------------------------------------------------------------------


def test_firehose_count_size_and_resume(lab):
    response = httpx.get(lab.url("/firehose?count=50&size=200"))
    events = decode(response.content)
    assert [e.last_event_id for e in events] == [str(n) for n in range(1, 51)]
    assert all(len(e.data) == 200 and json.loads(e.data)["event"] == "message" for e in events)
    rest = decode(httpx.get(lab.url("/firehose?count=50&size=200"), headers={"Last-Event-ID": "47"}).content)
    assert [e.last_event_id for e in rest] == ["48", "49", "50"]
    done = httpx.get(lab.url("/firehose?count=50&size=200"), headers={"Last-Event-ID": "50"})
    assert done.status_code == 204


def test_firehose_rejects_absurd_sizes(lab):
    assert httpx.get(lab.url("/firehose?count=99999999")).status_code == 400


# -- ntfy --------------------------------------------------------------------------------


def test_ntfy_publish_reads_its_headers(lab):
    response = httpx.post(
        lab.url("/ntfy/deploys"),
        content="Shipped v2",
        headers={"Title": "Deploy", "Priority": "urgent", "Tags": "rocket, tada", "Click": "https://example.com/v2"},
    )
    message = response.json()
    assert response.status_code == 200
    assert (
        message["topic"],
        message["title"],
        message["message"],
        message["priority"],
        message["tags"],
        message["click"],
        message["event"],
    ) == ("deploys", "Deploy", "Shipped v2", 5, ["rocket", "tada"], "https://example.com/v2", "message")
    plain = httpx.post(lab.url("/ntfy/deploys"), content="hi", headers={"X-Priority": "3"}).json()
    assert "priority" not in plain and "title" not in plain  # omitted like ntfy does
    assert httpx.post(lab.url("/ntfy/deploys"), content="x", headers={"Priority": "9"}).status_code == 400
    assert httpx.post(lab.url("/ntfy/bad%20topic"), content="x").status_code == 400


def test_ntfy_sse_wire_format(lab):
    first = httpx.post(lab.url("/ntfy/t"), content="one").json()
    httpx.post(lab.url("/ntfy/t"), content="two")
    _, body = read_stream(lab.url("/ntfy/t/sse?since=all&cut_after=2"))
    assert b"\nid:" not in body and not body.startswith(b"id:")
    assert body.startswith(b'event: open\ndata: {"id":')
    events = decode(body)
    assert [e.type for e in events] == ["open", "message", "message"]
    assert [json.loads(e.data)["message"] for e in events[1:]] == ["one", "two"]
    _, since = read_stream(lab.url(f"/ntfy/t/sse?since={first['id']}&cut_after=1"))
    assert [json.loads(e.data)["message"] for e in decode(since)[1:]] == ["two"]
    _, by_time = read_stream(lab.url(f"/ntfy/t/sse?since={first['time']}&cut_after=2"))
    assert len(decode(by_time)) == 3


def test_ntfy_delivers_live_messages_and_keepalives(make_lab):
    lab = make_lab(keepalive_s=0.05)
    with httpx.stream("GET", lab.url("/ntfy/live/sse"), timeout=5) as response:
        body = b""
        chunks = response.iter_raw()
        while b"event: keepalive" not in body:
            body += next(chunks)
        httpx.post(lab.url("/ntfy/live"), content="fresh")
        while b"fresh" not in body:
            body += next(chunks)
    kinds = [e.type for e in decode(body)]
    assert kinds[0] == "open" and "keepalive" in kinds and kinds[-1] == "message"


def test_endpoints_are_listed(lab):
    paths = [e["path"] for e in httpx.get(lab.url("/")).json()["endpoints"]]
    assert "/events" in paths and "/ntfy/{topic}/sse" in paths


def test_backlog_is_published_in_the_past_and_replayable(make_lab):
    import time as _time

    lab = make_lab(sse_backlog=5, sse_interval_s=60)
    frames = []
    with httpx.stream("GET", lab.url("/events?cut_after=5"), headers={"Last-Event-ID": "0"}) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                frames.append(json.loads(line[6:]))
    assert len(frames) == 5
    times = [frame["time"] for frame in frames]
    assert times == sorted(times) and times[-1] <= _time.time() - 59


async def test_a_stopping_lab_ends_its_streams_cleanly(caplog):
    import asyncio
    import contextlib
    import logging

    from feedview.lab import LabConfig, start_lab

    caplog.set_level(logging.WARNING)
    stack = contextlib.ExitStack()
    lab = stack.enter_context(start_lab(LabConfig(sse_interval_s=0.05)))
    async with httpx.AsyncClient(timeout=10) as client, client.stream("GET", lab.url("/events")) as response:
        chunks = response.aiter_bytes()
        assert await anext(chunks)  # streaming
        stopping = asyncio.ensure_future(asyncio.to_thread(stack.close))
        async for _ in chunks:  # ends, without an error, when the lab stops
            pass
        await stopping
    assert lab.state.open_streams == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
