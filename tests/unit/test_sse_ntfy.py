"""ntfy messages: one validated reading (NtfyMessage) for the feed, Notification, watch --json and the panel
(tests/functional/feeds/test_sse_feed.py: the feed reads the raw object only when asked)."""

from __future__ import annotations

import gc
import json

from feedview.commands.watch import json_lines
from feedview.feeds.ntfy import NtfyMessage, SeenIds, message_from, notification_items
from feedview.feeds.sse import Notification, SseEvent


def test_a_well_typed_message_and_an_odd_one_read_alike():
    typed = {
        "id": "a",
        "topic": "t",
        "time": 5,
        "title": "T",
        "message": "m",
        "priority": 5,
        "tags": ["x"],
        "click": "https://c/",
    }
    odd = {**typed, "priority": "high", "time": 1.5, "tags": ["x", 7], "click": "", "title": None}
    assert message_from(typed) == NtfyMessage(
        "a", "t", time=5, title="T", message="m", priority=5, tags=("x",), click="https://c/"
    )
    assert message_from(odd) == NtfyMessage("a", "t", message="m", tags=("x",))  # each odd field: its default
    assert message_from({"id": "", "topic": "t"}) is None and message_from({"id": "a"}) is None
    assert message_from({"event": 5, "id": "a", "topic": "t"}) is None and message_from([1]) is None
    assert message_from({"event": "keepalive"}) == NtfyMessage("", "", event="keepalive")  # a control event


def test_control_events_are_dropped_with_or_without_an_id():
    events = [
        SseEvent("keepalive", '{"event":"keepalive","time":1}', ""),
        SseEvent("open", '{"id":"o","event":"open","topic":"t"}', ""),
        SseEvent("message", '{"event":"keepalive"}', ""),  # not ntfy's own framing: shown
        SseEvent("message", '{"id":"m","topic":"t"}', ""),
    ]
    items = notification_items(events, SeenIds(10))
    assert [type(item) for item in items] == [SseEvent, Notification]
    assert [json.loads(line)["event"] for line in json_lines(events, SeenIds(10))] == ["message", "message"]


def test_a_notification_made_by_hand_reads_its_message_as_the_feed_does():
    raw = {"id": "n1", "topic": "ops", "title": "T", "priority": 9, "tags": ["a", 1], "extra": {"k": 1}}
    event = SseEvent("message", json.dumps(raw), "n1")
    by_hand = Notification.of("n1", "ops", event, raw)
    [by_feed] = notification_items([event], SeenIds(10))
    assert by_hand.ntfy == by_feed.ntfy
    assert (by_hand.priority, by_hand.tags, by_hand.click, by_hand.time) == (3, ("a",), None, 0)
    assert by_hand.raw is raw and by_feed.raw == raw  # the whole object, unknown fields too
    pinned = by_feed._replace(raw={**raw, "time": 42})  # as a named tuple did: the message is read again
    assert (pinned.time, pinned.title, pinned.event) == (42, "T", event) and by_feed.time == 0


def test_a_kept_notification_gives_the_garbage_collector_nothing_to_walk():
    """A panel keeps a thousand of them: neither they, their messages nor (once examined) their
    tags are objects a collection must walk (issue 13: collections were the key-to-paint tail)."""
    data = json.dumps({"id": "a", "topic": "t", "message": "m", "tags": ["warning", "disk"]})
    [item] = notification_items([SseEvent("message", data, "7")], SeenIds(10))
    assert isinstance(item, Notification) and item.tags == ("warning", "disk")
    gc.collect()
    assert not any(gc.is_tracked(part) for part in (item, item.ntfy, item.tags))
    assert item.event == SseEvent("message", data, "7") and item.raw["tags"] == ["warning", "disk"]
