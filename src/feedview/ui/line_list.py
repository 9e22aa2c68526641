"""A Line-API list with a cursor row, for the panels that stream rows (as Toolong's views).

`render_line` renders only the visible rows; what the notifications list and the
GitHub threads list share lives here: the cursor keys, keeping the cursor in view,
the per-pass component styles, and relative times that stay current.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .frames import frames_of
from .panel import PanelView


class LineList(PanelView, ScrollView):
    """Subclasses give `row_count`, `cursor_row` and `select_row(row)`."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor_page(-1)", "Page up", show=False),
        Binding("pagedown", "cursor_page(1)", "Page down", show=False),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._styles: dict[str, Style] = {}
        self._styles_for: tuple | None = None  # the (focus, theme) that _styles were made for
        self._labels: tuple[str, ...] = ()  # the relative times in view at the last second tick

    @property
    def row_count(self) -> int:
        raise NotImplementedError

    @property
    def cursor_row(self) -> int:
        raise NotImplementedError

    def select_row(self, row: int) -> None:
        """Remember the item at `row` (0 <= row < row_count) as the selected one."""
        raise NotImplementedError

    def keep_times_current(self) -> None:
        """Join the app's second tick (once there are rows whose relative times can age)."""
        frames_of(self.app).every_second(self, self.on_second)

    def time_labels(self) -> tuple[str, ...]:
        """The relative times of the rows in view, as they would be drawn now."""
        return ()

    def on_second(self) -> None:
        """Once a second, with every other widget that shows a time: repaint only when a relative
        time in view reads differently ("47s" becomes "48s"; "3h" stays "3h" for an hour)."""
        labels = self.time_labels()
        if labels != self._labels:
            self._labels = labels
            self.refresh()

    def component_styles(self) -> bool:
        """Make `_styles` for this focus and theme, once (rich_style is not cheap).

        False while the widget is not styled (not yet, or no more: being removed).
        """
        look = (self.has_focus, self.app.theme)
        if self._styles_for != look:
            base = self.rich_style
            try:
                self._styles = {name: base + self.get_component_rich_style(name) for name in self.COMPONENT_CLASSES}
            except KeyError:
                return False
            self._styles[""] = base
            self._styles_for = look
        return True

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles_for = None

    def highlighted(self, strip: Strip, component: str) -> Strip:
        """The cursor row: its style laid over the segments' own colours (Strip.apply_style puts a
        style under them, where the cursor would be invisible), as DataTable's cursor row reads."""
        return Strip(Segment.apply_style(strip, post_style=self._styles[component]), strip.cell_length)

    def keep_cursor_in_view(self) -> None:
        row = self.cursor_row
        height = self.scrollable_content_region.height
        if row < self.scroll_y:
            self.set_scroll(None, row)
        elif height and row >= self.scroll_y + height:
            self.set_scroll(None, row - height + 1)

    def move_to_row(self, row: int) -> None:
        if not self.row_count:
            return
        self.select_row(max(0, min(row, self.row_count - 1)))
        self.keep_cursor_in_view()
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        self.move_to_row(self.cursor_row + delta)

    def action_cursor_page(self, direction: int) -> None:
        self.move_to_row(self.cursor_row + direction * max(1, self.scrollable_content_region.height - 1))

    def on_click(self, event: events.Click) -> None:
        self.move_to_row(self.scroll_offset.y + event.y)
