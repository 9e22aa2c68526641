"""Containers that keep their own lines between repaints (ui/still.py) still show every change:
a new border title, a restyle, a theme, a resize."""

from __future__ import annotations

from scripted import screen_text
from servers import wait_until
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.geometry import Region
from textual.widgets import Static

from feedview.ui.still import StillLines


class Box(Vertical, StillLines):
    DEFAULT_CSS = """
    Box { border: round #ff0000; height: 5; }
    Box.-green { border: round #00ff00; }
    """


class BoxApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Box(Static("inside"))


def border_colours(box: Box) -> set[str]:
    """The colours of the box's top line, as the compositor would be given them now."""
    top = box.render_lines(box.outer_size.region)[0]
    return {segment.style.color.triplet.hex for segment in top if segment.style and segment.style.color}


async def test_a_still_container_repaints_its_title_its_style_and_the_theme():
    app = BoxApp()
    async with app.run_test(size=(40, 8)) as pilot:
        box = app.query_one(Box)
        box.border_title = "first"
        await wait_until(lambda: "first" in screen_text(app), message="the first title")
        assert "#ff0000" in border_colours(box)
        box.border_title = "second"
        await wait_until(lambda: "second" in screen_text(app), message="a new title")
        assert "first" not in screen_text(app)
        box.add_class("-green")
        await wait_until(lambda: "#00ff00" in border_colours(box), message="the restyled border")
        assert "#ff0000" not in border_colours(box)
        before = app.screen.render_lines(Region(0, 0, 40, 8))[0]
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await wait_until(
            lambda: app.screen.render_lines(Region(0, 0, 40, 8))[0] != before, message="the screen in the new theme"
        )
        await pilot.resize_terminal(60, 10)
        await wait_until(lambda: box.outer_size.width == 60, message="the resize")
        assert box.render_lines(box.outer_size.region)[0].cell_length == 60
