"""Hostile bodies for the lab's fault knobs (faults.py): pure functions from knob values to bytes.

Decompression bombs, nesting bombs, JSON numbers no parser should accept, and text
that would take over a terminal. The lab serves them on request so that the client's
defences can be tested over real HTTP; nothing here is used by the client.
"""

from __future__ import annotations

import contextlib
import json
import re
import zlib
from functools import lru_cache
from typing import Any

MIB = 1 << 20
BOMB_ENCODINGS = {"gzip": "gzip", "gzip2": "gzip, gzip", "deflate": "deflate"}  # knob -> Content-Encoding
JSON_FILLS = ("array", "space")  # what a JSON endpoint's bomb expands to
STREAM_FILLS = ("data", "blank", "line")  # what an event stream's bomb expands to
MAX_BOMB_MB = 4096
MAX_NESTED = 10_000_000

# json_number=NAME -> the token written in place of every number under NUMBER_KEYS
NUMBER_TOKENS = {"1e400": "1e400", "nan": "NaN", "inf": "Infinity", "-inf": "-Infinity", "bigint": "9" * 5000}
_LITERAL_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
NUMBER_KEYS = (
    "id",
    "stargazers_count",
    "watchers_count",
    "forks_count",
    "forks",
    "watchers",
    "open_issues_count",
    "open_issues",
    "size",
    "total_count",
    "observedValue",
    "priority",
    "time",
    "expires",
)
_NUMBER_FIELD = re.compile(
    rb'(?<!\\)"(' + b"|".join(k.encode() for k in NUMBER_KEYS) + rb')"(\s*:\s*)-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?'
)

# hostile_text=1: what is wrapped around every TEXT_KEYS string and put into every URL_KEYS URL
CREDENTIALS = "admin:hunter2"  # a password a client must never show
HOSTILE_PREFIX = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: the rest of the line reads backwards
HOSTILE_SUFFIX = (
    " \x1b]0;pwned\x07"  # OSC: sets the terminal's title
    "\x1b[2J\x1b[31m[bold red]alert[/bold red]\x1b[0m"  # clears the screen, colours; Rich markup
    " \x9b31m"  # C1 CSI: an escape sequence without ESC
    " \u2066\u200bzero\u200dwidth\u2069"  # bidi isolates around zero-width characters
    " \x00\x7f"  # NUL and DEL
    f" http://{CREDENTIALS}@lab.invalid/"  # a URL with credentials
)
TEXT_KEYS = frozenset({"title", "message", "description", "name", "full_name", "reason", "output", "serviceId", "tags"})
URL_KEYS = frozenset({"html_url", "click", "homepage"})

# location=NAME -> the Location header (h11 refuses NUL, CR, LF and spaces, and sends any other byte)
LOCATIONS = {
    "bad": b"http://[bad",
    "ctrl": b"/next\x1b]0;pwned\x07\x1b[2J\xc2\x9b31m\xe2\x80\xae",
    "scheme": b"javascript:alert(1)",
    "empty": b"",
    "creds": b"http://" + CREDENTIALS.encode() + b"@127.0.0.1:9/",
    "port": b"http://127.0.0.1:99999/",
    "huge": b"/" + b"a" * 65536,
}


class BadKnob(ValueError):
    """A knob value the lab does not understand: answered with 400 and this message."""


# -- decompression bombs ------------------------------------------------------------------


def _fill_block(fill: str) -> bytes:
    """One MiB of the repeated part of a bomb."""
    if fill == "data":
        return (b"data: " + b"0" * 57 + b"\n") * (MIB // 64)
    if fill == "blank":
        return b"\n" * MIB
    if fill == "space":
        return b" " * MIB
    if fill == "array":
        return b"0," * (MIB // 2)
    return b"0" * MIB  # line: one endless `data:` line


def _fill_ends(fill: str) -> tuple[bytes, bytes]:
    """What comes before and after the repeated blocks, so that the whole is what it claims to be."""
    return {
        "array": (b"[", b"0]"),
        "space": (b"", b"[]"),
        "line": (b"data: ", b""),
        "data": (b"", b"\n"),
        "blank": (b"", b""),
    }[fill]


def _deflate_repeated(head: bytes, block: bytes, times: int, tail: bytes) -> tuple[bytes, int, int, int]:
    """Raw deflate of head + block * times + tail, and its crc32, adler32 and length.

    A full flush resets the compressor, so every block compresses to the same bytes:
    one block is compressed and its bytes repeated, which takes milliseconds for any size.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    piece = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.compress(tail) + compressor.flush()
    crc, adler = zlib.crc32(head), zlib.adler32(head)
    for _ in range(times):
        crc, adler = zlib.crc32(block, crc), zlib.adler32(block, adler)
    crc, adler = zlib.crc32(tail, crc), zlib.adler32(tail, adler)
    return start + piece * times + end, crc, adler, len(head) + len(block) * times + len(tail)


@lru_cache(maxsize=32)
def bomb(encoding: str, mebibytes: int, fill: str) -> bytes:
    """A body that `encoding` (a BOMB_ENCODINGS knob) expands to about `mebibytes` MiB of `fill`."""
    head, tail = _fill_ends(fill)
    deflated, crc, adler, size = _deflate_repeated(head, _fill_block(fill), mebibytes, tail)
    if encoding == "deflate":  # HTTP's deflate is the zlib format (RFC 1950)
        return b"\x78\xda" + deflated + adler.to_bytes(4, "big")
    gzipped = (
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
        + deflated
        + crc.to_bytes(4, "little")
        + (size & 0xFFFFFFFF).to_bytes(4, "little")
    )
    if encoding == "gzip2":  # gzip of gzip: `Content-Encoding: gzip, gzip`
        return gzip_bytes(gzipped)
    return gzipped


def gzip_bytes(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def bomb_knobs(knobs: dict[str, str], stream: bool) -> tuple[str, int, str]:
    """(encoding, MiB, fill) from bomb=, bomb_mb= and bomb_fill=, or BadKnob."""
    encoding = knobs["bomb"]
    if encoding not in BOMB_ENCODINGS:
        raise BadKnob(f"bomb is one of {', '.join(BOMB_ENCODINGS)}")
    mebibytes = whole(knobs.get("bomb_mb", "64"), "bomb_mb", 1, MAX_BOMB_MB)
    fills = STREAM_FILLS if stream else JSON_FILLS
    fill = knobs.get("bomb_fill", fills[0])
    if fill not in fills:
        raise BadKnob(f"bomb_fill on this endpoint is one of {', '.join(fills)}")
    return encoding, mebibytes, fill


def whole(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadKnob(f"{name} takes a whole number") from None
    if not low <= value <= high:
        raise BadKnob(f"{name} is from {low} to {high}")
    return value


# -- nesting bombs ----------------------------------------------------------------------


@lru_cache(maxsize=8)
def nested(depth: int, kind: str) -> bytes:
    """JSON nested `depth` deep: [[[...]]] or {"a":{"a":...{}}}."""
    if kind == "object":
        return b'{"a":' * depth + b"{}" + b"}" * depth
    return b"[" * depth + b"]" * depth


def nested_knobs(knobs: dict[str, str]) -> tuple[int, str]:
    kind = knobs.get("nested_kind", "array")
    if kind not in ("array", "object"):
        raise BadKnob("nested_kind is array or object")
    return whole(knobs["nested"], "nested", 1, MAX_NESTED), kind


# -- hostile numbers and text -------------------------------------------------------------


def number_token(value: str) -> bytes:
    """json_number=VALUE as written in the body: a NUMBER_TOKENS name or a literal JSON number."""
    if value in NUMBER_TOKENS:
        return NUMBER_TOKENS[value].encode()
    if _LITERAL_NUMBER.fullmatch(value):
        return value.encode()
    raise BadKnob(f"json_number is one of {', '.join(NUMBER_TOKENS)} or a JSON number")


def spoil_numbers(body: bytes, token: bytes) -> bytes:
    """Every number under NUMBER_KEYS in a JSON text replaced by `token`, written bare."""
    return _NUMBER_FIELD.sub(lambda m: b'"' + m.group(1) + b'"' + m.group(2) + token, body)


def hostile(text: str) -> str:
    return HOSTILE_PREFIX + text + HOSTILE_SUFFIX


def with_credentials(url: str) -> str:
    """The URL with user:password in it and an OSC 8 hyperlink escape after it."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    return f"{scheme}://{CREDENTIALS}@{rest}\x1b]8;;https://evil.example/\x07"


def spoil_text(value: Any, key: str | None = None) -> Any:
    """A JSON value with every TEXT_KEYS string made hostile and every URL_KEYS URL given credentials."""
    if isinstance(value, dict):
        return {k: spoil_text(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [spoil_text(v, key) for v in value]
    if isinstance(value, str) and key in TEXT_KEYS:
        return hostile(value)
    if isinstance(value, str) and key in URL_KEYS:
        return with_credentials(value)
    return value


def spoil_json(body: bytes, token: bytes | None, text: bool) -> bytes:
    """A JSON body with hostile numbers (token) and/or text; a body that is not JSON is left alone."""
    if text:
        with contextlib.suppress(ValueError):  # not JSON: left as it is
            body = json.dumps(spoil_text(json.loads(body)), ensure_ascii=False, separators=(",", ":")).encode()
    return spoil_numbers(body, token) if token is not None else body


def spoil_stream(chunk: bytes, token: bytes | None, text: bool) -> bytes:
    """An event-stream chunk (whole lines, as the lab writes them) with its `data:` JSON spoiled as in
    spoil_json; with text, `event:` types and data that is not JSON get the hostile suffix too."""
    lines = chunk.split(b"\n")
    for index, line in enumerate(lines):
        ending = b"\r" if line.endswith(b"\r") else b""
        content = line[: len(line) - len(ending)]
        if content.startswith(b"data:"):
            data = content[5:].removeprefix(b" ")
            spoiled = spoil_json(data, token, text)
            if text and spoiled == data and data:
                spoiled = data + _sse_safe(HOSTILE_SUFFIX)
            lines[index] = b"data: " + spoiled + ending
        elif text and content.startswith(b"event:"):
            lines[index] = content + _sse_safe(HOSTILE_SUFFIX) + ending
    return b"\n".join(lines)


def _sse_safe(text: str) -> bytes:
    """Text for a raw event-stream line: no NUL (ignored by parsers), CR or LF (they end lines)."""
    return text.replace("\x00", "").encode()


# -- redirects ------------------------------------------------------------------------------


def location(value: str, own_url: bytes) -> bytes:
    """location=VALUE: a LOCATIONS name, `loop` (this very URL), or any other value sent as it is."""
    if value == "loop":
        return own_url
    return LOCATIONS.get(value, value.encode())


# A Link header path segment the lab ignores but a client may show: ESC ] 0 ; pwned BEL, RLO, ZWSP
ESCAPE_SEGMENT = "note=%1B]0;pwned%07%E2%80%AE%E2%80%8B"
