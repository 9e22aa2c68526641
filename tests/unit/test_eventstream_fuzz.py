"""The event-stream decoder against a reference written straight from the WHATWG spec.

The reference (below) reads a whole stream line by line exactly as the HTML standard's
"Event stream interpretation" section says, with no attention to speed. The decoder
must dispatch the same events, end with the same last event ID and reconnection time,
however the stream is cut into network chunks (cuts inside CR LF, inside the BOM and
inside multi-byte characters included), and keep its size limits without losing or
inventing an event.

The differential property runs FEEDVIEW_FUZZ_EXAMPLES cases (default 1000), the two
others half as many each: two thousand cases a run. For a long run:
    FEEDVIEW_FUZZ_EXAMPLES=100000 pytest tests/unit/test_eventstream_fuzz.py
"""

from __future__ import annotations

import itertools
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedview.feeds.eventstream import MAX_RETRY_MS, EventStreamDecoder, EventStreamError

EXAMPLES = int(os.environ.get("FEEDVIEW_FUZZ_EXAMPLES", "1000"))
# A thousand examples take ~15 s on an idle core and five times that on a busy 2-core machine:
# the suite's 60 s per test would cut them short there.
pytestmark = pytest.mark.timeout(max(600, EXAMPLES // 2))
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
fuzz_less = settings(fuzz, max_examples=max(1, EXAMPLES // 2))

BOM = b"\xef\xbb\xbf"


# -- the reference: the spec, read literally ------------------------------------------------


def reference(stream: bytes, last_event_id: str = "") -> tuple[list[tuple[str, str, str]], str, int | None]:
    """(events as (type, data, last event id), the last event ID string, the reconnection time)."""
    text = stream.decode("utf-8", "replace")  # "UTF-8 decode": replacement characters, one BOM dropped
    text = text.removeprefix("\ufeff")
    *lines, _incomplete = re.split("\r\n|\r|\n", text)  # the text after the last line ending is no line
    events: list[tuple[str, str, str]] = []
    data, event_type, id_buffer, last_id, retry = "", "", last_event_id, last_event_id, None
    for line in lines:
        if line == "":  # dispatch the event
            last_id = id_buffer
            if data == "":
                event_type = ""
                continue
            data = data.removesuffix("\n")
            events.append((event_type or "message", data, last_id))
            data, event_type = "", ""
            continue
        if line.startswith(":"):
            continue
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            event_type = value
        elif field == "data":
            data += value + "\n"
        elif field == "id":
            if "\0" not in value:
                id_buffer = value
        elif field == "retry":  # noqa: SIM102 (the spec's steps, as written)
            if value and all(c in "0123456789" for c in value):
                digits = value.lstrip("0") or "0"
                retry = MAX_RETRY_MS if len(digits) > 9 else min(int(digits), MAX_RETRY_MS)
    return events, last_id, retry


def limits_broken(stream: bytes, max_size: int) -> bool:
    """Whether the stream has a line longer than max_size bytes, or an event whose data lines
    (each with its joining newline) add up to more than max_size characters."""
    if stream.startswith(BOM):
        stream = stream[3:]
    if any(len(line) > max_size for line in re.split(rb"\r\n|\r|\n", stream)):
        return True
    *lines, _ = re.split("\r\n|\r|\n", stream.decode("utf-8", "replace"))
    size = 0
    for line in lines:
        if line == "":
            size = 0
        elif line.partition(":")[0] == "data":
            value = line.partition(":")[2]
            size += len(value.removeprefix(" ")) + 1
            if size > max_size:
                return True
    return False


# -- streams ---------------------------------------------------------------------------------

NAMES = st.sampled_from(["data", "data", "data", "event", "id", "retry", "", "dat", "Data", "datum", "foo"])
VALUES = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "  x",
            "a\0b",
            "\0",
            "\ufeff",
            "é€😀",
            "0",
            "12",
            "007",
            "+5",
            "-5",
            " 5",
            "5.0",
            "\uff15",
            "1" * 25,
            "0" * 30 + "42",
            "9" * 400,
        ]
    ),
)
ENDINGS = st.sampled_from(["\n", "\r", "\r\n"])


@st.composite
def lines(draw) -> str:
    kind = draw(st.sampled_from(["field", "field", "field", "blank", "blank", "comment", "bare"]))
    if kind == "blank":
        return draw(ENDINGS)
    if kind == "comment":
        return ":" + draw(VALUES) + draw(ENDINGS)
    if kind == "bare":  # a field name with no colon: its value is ""
        return draw(NAMES) + draw(ENDINGS)
    space = draw(st.sampled_from(["", " ", "  "]))
    return draw(NAMES) + ":" + space + draw(VALUES) + draw(ENDINGS)


@st.composite
def streams(draw) -> bytes:
    """Mostly well-formed lines, sometimes raw bytes between them: stray CRs, BOMs inside the
    stream, NULs, broken and cut multi-byte sequences."""
    start = draw(st.sampled_from([b"", b"", BOM, BOM + BOM, b"\xef\xbb"]))
    pieces = draw(
        st.lists(
            st.one_of(
                lines().map(str.encode),
                lines().map(str.encode),
                st.sampled_from([b"\r", b"\n", b"\xe2\x82", b"\xff", b"\xc3", b"\x00", BOM, b"data", b":", b" "]),
            ),
            max_size=30,
        )
    )
    return start + b"".join(pieces)


@st.composite
def cut(draw, stream: bytes) -> list[bytes]:
    """The stream in chunks, cut anywhere (empty chunks too)."""
    points = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    bounds = [0, *points, len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


def decode(chunks: list[bytes], last_event_id: str = "", max_size: int = 1 << 20):
    decoder = EventStreamDecoder(last_event_id, max_size)
    events = []
    for chunk in chunks:
        events += [tuple(e) for e in decoder.feed(chunk)]
    return events, decoder.last_event_id, decoder.retry


# -- properties --------------------------------------------------------------------------------


@fuzz
@given(data=st.data(), stream=streams(), last_event_id=st.sampled_from(["", "7", "é"]))
def test_the_decoder_agrees_with_the_spec_however_the_stream_is_cut(data, stream, last_event_id):
    chunks = data.draw(cut(stream))
    assert decode(chunks, last_event_id) == reference(stream, last_event_id)


@fuzz_less
@given(stream=streams())
def test_byte_by_byte_and_whole_agree(stream):
    whole = decode([stream])
    assert decode([stream[i : i + 1] for i in range(len(stream))]) == whole == reference(stream)


@fuzz_less
@given(data=st.data(), stream=streams(), max_size=st.integers(3, 40))  # (3: the BOM is held until known)
def test_limits_hold_and_nothing_received_before_them_is_lost(data, stream, max_size):
    decoder = EventStreamDecoder(max_size=max_size)
    delivered: list[tuple[str, str, str]] = []
    broke = False
    for chunk in data.draw(cut(stream)):
        try:
            delivered += [tuple(e) for e in decoder.feed(chunk)]
        except EventStreamError as error:
            delivered += [tuple(e) for e in error.events]
            broke = True
            break
    expected, _, _ = reference(stream)
    assert broke == limits_broken(stream, max_size)
    if broke:
        assert delivered == expected[: len(delivered)]  # each whole event before the limit, in order
    else:
        assert delivered == expected
    assert all(len(e[1]) < max_size for e in delivered)
