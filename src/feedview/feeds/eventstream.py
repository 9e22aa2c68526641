"""The WHATWG "text/event-stream" format, decoded from whole network chunks.

Follows the HTML standard's "Server-sent events" section: parsing an event
stream, interpreting it, and dispatching. Where httpx-sse 0.4.3 differs (and
why this module exists instead of it):

- it decodes with the charset the Content-Type claims; the stream is always UTF-8;
- it keeps the byte order mark, so a stream's first field is silently lost;
- it holds back a line ended by CR until the next chunk arrives, so an event
  ended by CR CR is not delivered until the server sends something else;
- it dispatches blocks that carry no data (only `event:`, `id:` or `retry:`);
- it accepts `retry` values that are not only ASCII digits (" 5", "+5", "-5", "1_0");
- `retry` rides on the next dispatched event instead of taking effect at once;
- its last-event-ID buffer starts empty on every connection;
- it buffers an unterminated line without bound, and an event's data too (a
  million empty `data:` lines make a million-character event);
- it never looks at the status, and its content-type test is a case-sensitive
  substring match (feeds/sse_transport.py checks both); reconnection and
  Last-Event-ID are left to the caller (feeds/sse.py does those).

Splitting is done on bytes and the UTF-8 decoding once per chunk on its complete
lines: CR and LF never occur inside a multi-byte sequence, so a complete line is
always whole characters and decoding it alone equals decoding the stream.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .limits import MAX_WAIT_S, parse_int

BOM = b"\xef\xbb\xbf"
DEFAULT_MAX_SIZE = 1 << 20
MAX_RETRY_MS = int(MAX_WAIT_S * 1000)  # a `retry:` beyond a day is clamped to a day


class SseEvent(NamedTuple):
    """One dispatched event, as the WHATWG event-stream rules define it.

    A NamedTuple, not a dataclass: the decoder makes one per event at firehose
    rates, and a tuple is the cheapest typed object CPython builds.
    """

    type: str  # the event type ("message" when no `event:` field)
    data: str
    last_event_id: str


Event = SseEvent  # what the decoder dispatches
_event = tuple.__new__


class EventStreamError(ValueError):
    """The stream broke a limit the decoder keeps to bound its memory.

    `events` are those the same chunk completed before the broken limit: they were
    received whole, and a consumer delivers them before reporting the error.
    """

    def __init__(self, message: str, events: list[Event] | None = None) -> None:
        super().__init__(message)
        self.events = events or []


class EventStreamDecoder:
    """Turns the bytes of one connection into dispatched events.

    Each dispatched event is an SseEvent (type, data, last_event_id). `last_event_id` is
    the event source's last event ID string: it starts from the previous
    connection's and changes only when a block is dispatched (an `id:` in a block
    cut off by the end of the stream never counts). `retry` is the latest valid
    reconnection time in milliseconds (clamped to 0..MAX_RETRY_MS), or None if the
    stream sent none.

    Memory is bounded by `max_size`: no line, and no event's data, may be longer
    (each data line counts its length plus one for the newline that joins it, so
    the cap holds for an event of a million empty `data:` lines too).
    """

    __slots__ = ("_at_start", "_data", "_id", "_max", "_size", "_skip_lf", "_tail", "_type", "last_event_id", "retry")

    def __init__(self, last_event_id: str = "", max_size: int = DEFAULT_MAX_SIZE) -> None:
        self._max = max_size
        self.last_event_id = last_event_id
        self.retry: int | None = None
        self._id = last_event_id
        self._type = ""
        self._data: list[str] = []
        self._size = 0  # of the data lines pending in _data, each counted with its joining newline
        self._tail = b""
        self._skip_lf = False
        self._at_start = True

    def feed(self, chunk: bytes) -> list[Event]:
        """Decode one network chunk; return the events it completes, in order."""
        if self._at_start:
            chunk = self._tail + chunk
            self._tail = b""
            if len(chunk) < 3 and BOM.startswith(chunk):
                self._tail = chunk  # too short to know whether it is the BOM
                return []
            self._at_start = False
            if chunk.startswith(BOM):
                chunk = chunk[3:]
        if self._skip_lf:
            # the previous chunk ended with CR: an LF opening this one is the same line ending
            if not chunk:
                return []
            self._skip_lf = False
            if chunk[0] == 10:
                chunk = chunk[1:]
        cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        if cut < 0:
            self._tail += chunk
            if len(self._tail) > self._max:
                raise EventStreamError(f"a line longer than {self._max} bytes")
            return []
        head = self._tail + chunk[: cut + 1] if self._tail else chunk[: cut + 1]
        self._tail = chunk[cut + 1 :]
        self._skip_lf = cut == len(chunk) - 1 and chunk[cut] == 13
        if len(head) > self._max:
            too_long = _long_line_at(head, self._max)
            if too_long >= 0:
                complete = self._interpret(_lines_of(head[:too_long]))
                raise EventStreamError(f"a line longer than {self._max} bytes", complete)
        events = self._interpret(_lines_of(head))
        if len(self._tail) > self._max:
            raise EventStreamError(f"a line longer than {self._max} bytes", events)
        return events

    def _interpret(self, text: str) -> list[Event]:
        events: list[Event] = []
        pos = 0
        if self._data or self._type:
            pos = self._lines(text, 0, events, until_dispatch=True)
        boundary = text.rfind("\n\n", pos) + 2
        if boundary > pos + 2:
            # fast path: a run of whole "[id]\n[event]\ndata\n\n" blocks, split in one C call;
            # anything else between them (a comment, a retry, CR...) leaves a gap: read by lines
            pieces = _BLOCK.split(text[pos:boundary])
            if not any(pieces[0::4]):
                append = events.append
                current = self._id
                for event_id, event_type, data in zip(pieces[1::4], pieces[2::4], pieces[3::4], strict=True):
                    if event_id is not None:
                        current = event_id
                    append(_event(SseEvent, (event_type or "message", data, current)))
                self._id = self.last_event_id = current
                pos = boundary
        self._lines(text, pos, events, until_dispatch=False)
        return events

    def _lines(self, text: str, pos: int, events: list[Event], until_dispatch: bool) -> int:
        """The line-by-line rules, from pos; returns where it stopped."""
        data = self._data
        size = self._size
        end = len(text)
        while pos < end:
            stop = text.index("\n", pos)
            line = text[pos:stop]
            pos = stop + 1
            if not line:
                # dispatch: the source's last event ID changes even when nothing is dispatched
                self.last_event_id = self._id
                if data:
                    events.append(_event(SseEvent, (self._type or "message", "\n".join(data), self._id)))
                    data = self._data = []
                    size = 0
                self._type = ""
                if until_dispatch:
                    break
                if text.startswith("\n", pos):
                    # a run of empty lines: after the first they change nothing, and a stream of
                    # nothing else would cost a turn of this loop per byte
                    run_end = _NOT_LF.search(text, pos)
                    pos = run_end.start() if run_end else end
                continue
            if line[0] == ":":
                continue
            name, _, value = line.partition(":")
            if value[:1] == " ":
                value = value[1:]
            if name == "data":
                size += len(value) + 1
                if size > self._max:
                    raise EventStreamError(f"an event with more than {self._max} characters of data", events)
                data.append(value)
            elif name == "event":
                self._type = value
            elif name == "id":
                if "\0" not in value:
                    self._id = value
            elif name == "retry" and value.isascii() and value.isdigit():  # the spec: ASCII digits only
                # (without its leading zeros: parse_int reads a run of over 18 digits as "too large")
                self.retry = parse_int(value.lstrip("0") or "0", low=0, high=MAX_RETRY_MS)
        self._size = size
        return pos


# One complete block of the common shape, read exactly as the line rules read it: each
# value loses one leading space; an id with NUL does not match (the rules ignore that line).
_BLOCK = re.compile(r"(?:id: ?([^\n\0]*)\n)?(?:event: ?([^\n]*)\n)?data: ?([^\n]*)\n\n")


_LINE = re.compile(rb"[^\r\n]*")
_NOT_LF = re.compile("[^\n]")


def _long_line_at(head: bytes, limit: int) -> int:
    """Where the first line longer than `limit` bytes starts in head, or -1."""
    for line in _LINE.finditer(head):
        if line.end() - line.start() > limit:
            return line.start()
    return -1


def _lines_of(head: bytes) -> str:
    """Complete lines as text, each ended by LF."""
    text = head.decode("utf-8", "replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
