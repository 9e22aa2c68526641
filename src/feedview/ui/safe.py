"""Network text as something the UI may render: cleaned, then only ever `rich.text.Text`.

Textual parses markup in plain strings and passes ESC straight to the terminal, so
feed text goes through `feedview.text` (the one sanitizer: controls, bidi and
zero-width characters out) and is wrapped in `Text`, never in a markup string.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from ..text import clean, clean_line, redact_url

__all__ = ["clean", "clean_line", "redact_url", "safe_text"]


def safe_text(value: object, style: str | Style = "", *, one_line: bool = False) -> Text:
    """Feed text as a renderable that is shown literally: markup stays text."""
    return Text(clean_line(value) if one_line else clean(value), style=style, no_wrap=one_line)
