"""Untrusted text made safe to show: the one sanitizer for everything from the network.

Whatever a server sends (a title, an error body, a header, a URL) reaches a
terminal, a toast, a window title, stderr or a `--json` line only through here:

- C0 and C1 controls (ESC, BEL, CSI ...) and DEL never reach the terminal: they
  could move the cursor, retitle the window or rewrite the screen;
- bidi controls (U+202A-202E, U+2066-2069, U+200E/F, U+061C) and the other
  invisible format characters (zero-width space and joiners, BOM, soft hyphen,
  tag characters) are dropped: they can reorder or hide what a user reads, and a
  terminal counts their width differently from Textual;
- lone surrogates (a JSON "\\ud800") are dropped: a terminal cannot encode them;
- credentials in URLs (`http://user:password@host/`) become `***`, in any text.

Pure Python, no Textual or Rich: feeds, commands and the UI all use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Every character that must not reach a terminal as it is: the Cc and Cf categories
# (controls and invisible format characters, bidi included) and surrogates. U+2028/9
# and U+0085 are line breaks: a space on one line, a newline in a block.
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f\ud800-\udfff"
)
_UNSAFE_IN_BLOCK = re.compile(f"\r\n?|[\u2028\u2029\x85]|[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f{_FORMAT}]")
_UNSAFE_IN_LINE = re.compile(f"[\t\n\x0b\x0c\r\u2028\u2029\x85]|[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f{_FORMAT}]")
_SPACES = re.compile(r"\s{2,}")
# scheme://userinfo@ up to the authority's last @ (a raw @ inside the userinfo hides nothing)
_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#\s]*@")


def _in_block(found: re.Match[str]) -> str:
    return "\n" if found.group()[0] in "\r\u2028\u2029\x85" else ""


def _in_line(found: re.Match[str]) -> str:
    return " " if found.group() in "\t\n\x0b\x0c\r\u2028\u2029\x85" else ""


def clean(value: object) -> str:
    """The text with nothing that could drive or confuse a terminal and no URL credentials;
    newlines and tabs kept (CR LF, CR and the Unicode line breaks become newlines)."""
    text = value if type(value) is str else str(value)
    if not text.isprintable():
        text = _UNSAFE_IN_BLOCK.sub(_in_block, text)
    return _CREDENTIALS.sub(r"\1***@", text) if "@" in text else text


def clean_line(value: object) -> str:
    """As `clean`, on one line: line breaks and tabs become spaces."""
    text = value if type(value) is str else str(value)
    if not text.isprintable():
        text = _UNSAFE_IN_LINE.sub(_in_line, text)
    return _CREDENTIALS.sub(r"\1***@", text) if "@" in text else text


def one_line(value: object, limit: int = 200) -> str:
    """A short human line of untrusted text: cleaned, runs of spaces squeezed, at most
    `limit` characters (an ellipsis marks the cut)."""
    text = _SPACES.sub(" ", clean_line(value)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def redact_url(url: object) -> str:
    """A URL to show: `http://user:password@host/` -> `http://***@host/`, on one line (what
    `clean_line` does to any text; the name says why it is called)."""
    return clean_line(url)


def redact(text: object, secrets: Iterable[str | None] = ()) -> str:
    """Text to show that may quote URLs and secrets: URL credentials and each secret
    become `***`. A secret is replaced only where it stands alone, never inside a longer
    word or a host name (a token `t` leaves "not found" and "t.example.com" as they are)."""
    text = _CREDENTIALS.sub(r"\1***@", str(text))
    for secret in secrets:
        if secret:
            text = re.sub(rf"(?<![\w.-]){re.escape(secret)}(?![\w-]|\.\w)", "***", text)
    return text


# In JSON output (UTF-8, one object a line): what msgspec and json.dumps(ensure_ascii=False)
# leave raw but a terminal must not get raw: DEL, C1, U+00AD, U+061C, U+180E, U+200B-200F,
# U+2028-202E, U+2060-206F, U+FEFF (C0 controls are always escaped by JSON encoders).
_RAW_IN_JSON = re.compile(
    rb"\x7f|\xc2[\x80-\x9f\xad]|\xd8\x9c|\xe1\xa0\x8e|\xe2\x80[\x8b-\x8f\xa8-\xae]|\xe2\x81[\xa0-\xaf]|\xef\xbb\xbf"
)


def _json_escape(found: re.Match[bytes]) -> bytes:
    return b"\\u%04x" % ord(found.group().decode())


def escape_json_bytes(block: bytes) -> bytes:
    """UTF-8 JSON text with the characters a terminal must not see raw written as \\u
    escapes (still the same JSON value). ASCII-only text, the usual case, costs one check."""
    if block.isascii() and b"\x7f" not in block:
        return block
    return _RAW_IN_JSON.sub(_json_escape, block)
