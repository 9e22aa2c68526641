"""ntfy (https://ntfy.sh) messages carried by an event stream, read one way everywhere.

ntfy's SSE subscription sends each message as an event whose data is a JSON object:
{"id", "time", "event": "message", "topic", "title", "message", "priority", "tags",
"click", ...}; its control events ("open", "keepalive", "poll_request") only say the
stream is alive. It sends no `id:` lines: a feed resumes with `since=<message id>` and
drops the messages the server sends again.

NtfyMessage is the one validated reading of that JSON: the feed's Notification, the
lines of `feedview watch --json` and the panel's priority all take their fields from
it, checked by the same rules (its annotations). A well-typed message is decoded
straight into it in C; anything else is read field by field with those same types
(`message_from`): a field of the wrong type or out of range takes its default.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from typing import Annotated, Any

import httpx
import msgspec

from .eventstream import SseEvent

MAX_EPOCH = 253_402_300_799  # 9999-12-31 23:59:59 UTC: a larger "time" is not a time
NTFY_CONTROL = frozenset({"open", "keepalive", "poll_request"})  # the stream is alive, nothing to show
# What a JSON decoder can raise on hostile data: msgspec raises RecursionError (not a
# DecodeError) for nesting about a thousand levels deep; ValidationError is a DecodeError.
UNDECODABLE = (msgspec.DecodeError, RecursionError)


class NtfyMessage(msgspec.Struct, frozen=True, gc=False):
    """An ntfy message (or control event), every field of its type and in its range."""

    id: Annotated[str, msgspec.Meta(min_length=1)]
    topic: str
    event: str = "message"  # "message", or one of NTFY_CONTROL
    time: Annotated[int, msgspec.Meta(ge=0, le=MAX_EPOCH)] = 0  # epoch seconds; 0: unknown
    title: str = ""
    message: str = ""
    priority: Annotated[int, msgspec.Meta(ge=1, le=5)] = 3  # 1 (min) .. 5 (max)
    tags: tuple[str, ...] = ()  # (a tuple: the garbage collector stops tracking it, never a list)
    click: Annotated[str, msgspec.Meta(min_length=1)] | None = None  # a URL to open


decode_message = msgspec.json.Decoder(NtfyMessage).decode  # strict: raises for anything else
_decode_any = msgspec.json.Decoder().decode
_FIELDS = msgspec.structs.fields(NtfyMessage)
_IDENTITY = ("id", "topic")  # without these, an object is no message


def read_message(data: str) -> NtfyMessage | None:
    """Event data that decode_message refused, read leniently (see message_from)."""
    try:
        return message_from(_decode_any(data))
    except UNDECODABLE:
        return None


def message_from(obj: Any) -> NtfyMessage | None:
    """A parsed JSON object as an ntfy message, each field checked by NtfyMessage's own type:
    one of the wrong type or out of range takes its default (a tags list keeps its strings).
    None when it is no ntfy object: not an object, an "event" that is not a string, or a
    message whose id is not a non-empty string or whose topic is not a string (a control
    event is one without them)."""
    if not isinstance(obj, Mapping) or type(obj.get("event", "")) is not str:
        return None
    found: dict[str, Any] = {}
    for field in _FIELDS:
        if field.encode_name not in obj:
            continue
        value = obj[field.encode_name]
        try:
            found[field.name] = msgspec.convert(value, field.type)
        except msgspec.ValidationError:
            if field.name == "tags" and type(value) is list:
                found["tags"] = tuple(tag for tag in value if type(tag) is str)
    kind = found.get("event", "message")
    if kind == "message" and not all(name in found for name in _IDENTITY):
        return None
    return NtfyMessage(**{"id": "", "topic": "", **found})


class Notification(msgspec.Struct, gc=False):
    """An SSE event whose data is an ntfy message.

    Its fields (id, topic, time, title, message, priority, tags, click) are those of
    `ntfy`, the message as NtfyMessage reads it; `event` is the SseEvent it came in
    (kept as its three strings), and `raw` the message's whole JSON object (parsed when
    first asked: only a detail view wants it).

    The feed makes thousands a second and a panel keeps a thousand: a struct the garbage
    collector never tracks (nor its message, nor its tags), so a dashboard of sixteen
    busy panels gives each collection nothing of theirs to walk (a slotted class, its
    event tuple and its tags list made ~50k objects, and collections of 40-110 ms the
    tail of key-to-paint: benchmarks/ui_firehose.py case 7). It holds only strings, the
    message and the parsed JSON, so it can be in no reference cycle.
    """

    ntfy: NtfyMessage
    type: str  # the SSE event's type, data and id: see `event`
    data: str
    last_event_id: str
    _raw: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, id: str, topic: str, event: SseEvent, raw: Mapping[str, Any]) -> Notification:
        """From a message parsed elsewhere (a test's, another producer's), read as the feed reads it."""
        message = message_from(raw) or NtfyMessage(id=id, topic=topic)
        message = msgspec.structs.replace(message, id=id, topic=topic)
        return cls(message, event.type, event.data, event.last_event_id, raw)

    @property
    def event(self) -> SseEvent:
        return SseEvent(self.type, self.data, self.last_event_id)

    @property
    def id(self) -> str:
        return self.ntfy.id

    @property
    def topic(self) -> str:
        return self.ntfy.topic

    @property
    def time(self) -> int:  # epoch seconds; 0 when absent or not a time
        return self.ntfy.time

    @property
    def title(self) -> str:
        return self.ntfy.title

    @property
    def message(self) -> str:
        return self.ntfy.message

    @property
    def priority(self) -> int:  # 1 (min) .. 5 (max); 3 when absent or not a priority
        return self.ntfy.priority

    @property
    def tags(self) -> tuple[str, ...]:
        return self.ntfy.tags

    @property
    def click(self) -> str | None:
        return self.ntfy.click

    @property
    def raw(self) -> Mapping[str, Any]:
        if self._raw is None:
            try:
                parsed = _decode_any(self.data)
            except UNDECODABLE:  # (it was decoded once: only an odd limit could refuse it now)
                parsed = None
            self._raw = parsed if isinstance(parsed, dict) else {}
        return self._raw

    def _replace(self, **changes: Any) -> Notification:
        """A copy with some of id, topic, event and raw changed, its message read again from
        raw: what Notification's named-tuple form offered (a test pins "time" in raw this way)."""
        fields = {"id": self.id, "topic": self.topic, "event": self.event, "raw": self.raw, **changes}
        return Notification.of(**fields)

    def __repr__(self) -> str:
        return f"Notification({self.ntfy!r}, {self.event!r})"


class SeenIds:
    """Notification ids, to drop the ones a resumed stream sends again.

    Every id is remembered (cheaply, in order); on reconnecting, the ones seen so
    far become the set a replay is checked against.
    """

    __slots__ = ("before_resume", "recent")

    def __init__(self, limit: int) -> None:
        self.recent: deque[str] = deque(maxlen=limit)
        self.before_resume: set[str] = set()

    @property
    def last(self) -> str:
        return self.recent[-1] if self.recent else ""

    def resume(self) -> None:
        self.before_resume = set(self.recent)


def resume_url(url: httpx.URL, seen: SeenIds, since: str = "") -> httpx.URL:
    """Where to (re)connect: after the last message seen (ntfy's `since=`), else from `since`
    (a duration like 10m, a Unix time, a message id or `all`), else as given."""
    if seen.last:
        return url.copy_set_param("since", seen.last)
    return url.copy_set_param("since", since) if since else url


_TOPICS = re.compile(r".*/[-_A-Za-z0-9]{1,64}(?:,[-_A-Za-z0-9]{1,64})*/?")  # ends in a topic (or a list)


def topic_stream_url(url: httpx.URL) -> httpx.URL | None:
    """ntfy's stream of a topic URL given without its endpoint (`https://ntfy.sh/mytopic` ->
    `.../mytopic/sse`), as `ntfy subscribe` takes it; None for a URL that cannot be one."""
    path = url.path
    if not _TOPICS.fullmatch(path) or path.rstrip("/").endswith(("/sse", "/json", "/raw", "/ws")):
        return None
    return url.copy_with(path=path.rstrip("/") + "/sse", query=url.query or None)


def notification_items(events: list[SseEvent], seen: SeenIds) -> list[SseEvent | Notification]:
    """Each event as a Notification when its data is an ntfy message, else as itself
    (ntfy's control events and replayed messages are dropped).

    One flat loop, a C decode into NtfyMessage and a struct per notification:
    it runs per event at firehose rates, where a helper call per event costs more than
    parsing the message (watch's json_lines reads messages the same way).
    """
    items: list[SseEvent | Notification] = []
    append = items.append
    notification = Notification
    decode = decode_message
    remember = seen.recent.append
    replayed = seen.before_resume
    for event in events:
        data = event[1]
        if data[:1] != "{":
            append(event)
            continue
        message: NtfyMessage | None
        try:
            message = decode(data)
        except UNDECODABLE:
            message = read_message(data)
            if message is None:
                append(event)
                continue
        kind = message.event
        if kind != "message":
            if kind not in NTFY_CONTROL or event[0] != kind:
                append(event)
            continue
        if message.id in replayed:
            continue
        remember(message.id)
        append(notification(message, event[0], data, event[2]))
    return items
