"""The one place where text from the network becomes something we may render.

Textual parses markup in plain strings and passes ESC straight to the terminal,
so feed text is (1) stripped of C0 controls except newline and tab, DEL and C1
controls, and (2) only ever wrapped in `rich.text.Text`, never in a markup string.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

_CONTROLS = {c: None for c in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if c not in (0x09, 0x0A)}
_CONTROLS_ONE_LINE = {**_CONTROLS, 0x09: " ", 0x0A: " ", 0x0D: " "}


def clean(value: object) -> str:
    """The text with every control character that could drive the terminal removed."""
    return str(value).translate(_CONTROLS)


def clean_line(value: object) -> str:
    """As `clean`, and on one line (newlines and tabs become spaces)."""
    return str(value).translate(_CONTROLS_ONE_LINE)


def safe_text(value: object, style: str | Style = "", *, one_line: bool = False) -> Text:
    """Feed text as a renderable that is shown literally: markup stays text."""
    return Text(clean_line(value) if one_line else clean(value), style=style, no_wrap=one_line)
