"""What `feedview` shows when there is no config yet."""

from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from ...config import EXAMPLE_CONFIG

# Our own example only, so four patterns do: rich.syntax would load pygments (~70 ms) into
# the first frame of `feedview` without a config.
_TOML_STYLES = (
    (re.compile(r"#.*$", re.MULTILINE), "dim italic"),
    (re.compile(r"^\[\[?[\w.]+\]\]?", re.MULTILINE), "bold magenta"),
    (re.compile(r"^[\w-]+(?= *=)", re.MULTILINE), "cyan"),
    (re.compile(r'(?:(?<== )|(?<=\[))"[^"\n]*"'), "green"),  # values, not quotes in comments
)


def highlighted_toml(source: str) -> Text:
    text = Text(source, no_wrap=True)
    for pattern, style in _TOML_STYLES:
        text.highlight_regex(pattern, style)
    return text


class Welcome(VerticalScroll):
    """Where the config goes, an example, and the way to the demo."""

    def __init__(self, config_path: Path) -> None:
        super().__init__(id="welcome")
        self.config_path = config_path

    def compose(self) -> ComposeResult:
        # the way to the demo first: at 80x24 the example below would push it out of sight
        yield Static(
            Text.assemble(
                ("Welcome to feedview", "bold"),
                "\n\nNo dashboard is configured yet. Try everything offline first: the demo runs a feed lab on "
                "this machine.",
            )
        )
        with Horizontal(classes="buttons"):
            yield Button("Open the demo (d)", variant="primary", id="open-demo")
            yield Button("Quit (q)", id="quit")
        yield Static(
            Text.assemble(
                "\nfeedview reads its panels from ",
                (str(self.config_path), "bold underline"),
                " (or the file given with ",
                ("--config PATH", "bold"),
                "). Create it with panels like these; ",
                ("a", "bold"),
                " adds one now, ",
                ("ctrl+p", "bold"),
                " lists every action:",
            )
        )
        yield Static(highlighted_toml(EXAMPLE_CONFIG), classes="example")
