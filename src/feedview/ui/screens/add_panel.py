"""The add-panel form: kind, what to watch, and a title."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from ...config import ConfigError, PanelConfig, panel_from_table
from ...kinds import KINDS, kind_of


def panel_from_form(kind: str, target: str, title: str) -> PanelConfig:
    """The form's fields as a config panel, validated like the config file."""
    table = {"kind": kind, **kind_of(kind).from_form(target.strip())}
    if title.strip():
        table["title"] = title.strip()
    return panel_from_table(table, "new panel")


def form_words(error: str) -> str:
    """A config error in the form's own words: "key 'url': ..." is the "watch" field here."""
    message = error.removeprefix("new panel").lstrip(" :(").split("): ", 1)[-1]
    for key in ("url", "urls", "owner", "search", "repo"):
        message = message.replace(f"key '{key}': ", "")
    if message.endswith("got ''"):
        return "fill in what to watch"
    return message.replace(
        "give one of the keys 'owner', 'mine = true' or 'search'", "give an owner, org:NAME, search:QUERY or mine"
    )


class AddPanelScreen(ModalScreen[PanelConfig | None]):
    CSS_PATH = "screens.tcss"
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="form") as form:
            form.border_title = "add a panel"
            yield Label("kind")
            yield Select(
                [(kind.form_label, name) for name, kind in KINDS.items()],
                value="notifications",
                allow_blank=False,
                id="kind",
            )
            yield Label("watch")
            yield Input(placeholder=kind_of("notifications").form_placeholder, id="target")
            yield Label("title (optional)")
            yield Input(id="title")
            yield Static(id="error", classes="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Add", variant="primary", id="add")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#target", Input).focus()

    @on(Select.Changed, "#kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        self.query_one("#target", Input).placeholder = kind_of(str(event.value)).form_placeholder

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#add")
    @on(Input.Submitted)
    def _submit(self) -> None:
        kind = str(self.query_one("#kind", Select).value)
        try:
            panel = panel_from_form(kind, self.query_one("#target", Input).value, self.query_one("#title", Input).value)
        except ConfigError as exc:
            self.query_one("#error", Static).update(form_words(str(exc)))
            return
        self.dismiss(panel)
