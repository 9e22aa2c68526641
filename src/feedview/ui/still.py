"""Containers that repaint their own lines only when they change.

Textual's compositor renders every widget whose clip overlaps what changed, and a grid
cell's clip is the whole grid: each frame that shows one busy panel renders all sixteen
panels' borders and backgrounds again, and the screen's, through the styles cache (its
lines are cached, but looking them up, computing the background through every ancestor and
filtering each line cost ~4 ms a frame: benchmarks/ui_firehose.py case 7). A container's
own lines (background, border, border title) change only when it is marked dirty or
restyled; until then, the lines it rendered last time for the same crop are the answer.
Its children are separate widgets, rendered on their own.
"""

from __future__ import annotations

from typing import Any

from textual.geometry import Region, Size
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Footer


class StillLines(Widget):
    """Mix in after the widget class, `class Panel(Vertical, StillLines)`: Textual takes a widget's
    CSS (its type names, its DEFAULT_CSS) from its first base, which must be the widget's own."""

    _still: tuple[Region, Size, str, list[Strip]] | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        still = self._still
        size, theme = self.size, self.app.theme
        if still is not None and still[0] == crop and still[1] == size and still[2] == theme:
            return still[3]
        lines = super().render_lines(crop)
        self._still = (crop, size, theme, lines)
        return lines

    # Every repaint of a widget (a refresh, a resize, a scroll, a reset of its styles, a
    # background screen uncovered) goes through _set_dirty (textual==8.2.8, pinned); a
    # restyle (focus-within, hover, a class, an ancestor's change) through notify_style_update.
    def _set_dirty(self, *regions: Region) -> None:
        self._still = None
        super()._set_dirty(*regions)

    def notify_style_update(self) -> None:
        self._still = None
        super().notify_style_update()


class StillScreen(Screen[Any], StillLines):
    """The dashboard's screen: its background is drawn again only when it changes."""


class StillFooter(Footer, StillLines):
    """The key bar: its own lines (its keys are widgets of their own) drawn again only when they change."""
