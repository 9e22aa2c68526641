"""The TOML config: the dashboard's panels, each a feed and its options.

A panel's keys are the keyword arguments of its feed function (sse_feed,
repo_pages, health_feed, notification_threads) and their tuning knobs; each kind's
schema, a typed struct, is declared once in `feedview.kinds` (a test keeps it in
step with the feeds' signatures). A bad file is one line naming the file, the panel
and the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec

from .kinds import KINDS, kind_of

Layout = Literal["tabs", "grid"]

DEFAULT_ROWS = 1000
DEFAULT_RETENTION_DAYS = 365.0  # (feedview.store's defaults: kept here so the config needs no store import)
DEFAULT_MAX_ITEMS = 200_000


@dataclass
class PanelConfig:
    """One dashboard panel.

    `options` holds the feed's keyword arguments, named exactly as the feed function
    names them (e.g. url/headers/last_event_id for notifications; owner/org/mine/search/
    base_url/token/per_page/sort/direction for repos; urls/interval/timeout for health).
    `rows` is how many entries a live panel keeps in memory (a ring buffer); `history` whether
    it keeps what it receives in the history store, `retention_days` and `max_items` how much.
    (Before issue 15, `history = N` was the ring buffer's size: that key now takes true or false,
    and a number is refused with a line that says to write `rows = N`.)
    """

    kind: str  # a name in feedview.kinds.KINDS
    title: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    rows: int = DEFAULT_ROWS
    history: bool = True
    retention_days: float = DEFAULT_RETENTION_DAYS
    max_items: int = DEFAULT_MAX_ITEMS


@dataclass
class DashboardConfig:
    panels: list[PanelConfig]
    theme: str | None = None
    layout: Layout = "tabs"
    path: Path | None = None


class ConfigError(Exception):
    """A config that cannot be used; str() is one line naming the file, panel and key."""


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("feedview", appauthor=False) / "config.toml"


EXAMPLE_CONFIG = """\
# feedview dashboard: one [[panel]] table per panel, shown in this order.
theme = "textual-dark"     # any Textual theme (ctrl+p > Theme to try them)
layout = "tabs"            # or "grid": every panel at once

[[panel]]
kind = "notifications"     # a Server-Sent Events stream (ntfy-aware)
title = "Deploys"
url = "https://ntfy.sh/mytopic/sse"

[[panel]]
kind = "repos"             # GitHub repositories, page by page
owner = "textualize"

[[panel]]
kind = "health"            # HTTP health checks
title = "API"
urls = ["https://api.example.com/health"]
interval = 5
"""

_PANEL_KEYS = ("kind", "title", "rows", "history", "retention_days", "max_items")  # the rest: the feed's options
# msgspec's type names, as the error line says them
_TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "object": "a table",
    "array": "a list",
}


def panel_from_table(table: dict[str, Any], where: str = "panel") -> PanelConfig:
    """Validate one [[panel]] table; raise ConfigError naming `where` and the key."""
    name = table.get("kind")
    known_kinds = ", ".join(KINDS)
    if name is None:
        raise ConfigError(f"{where}: missing key 'kind' (one of: {known_kinds})")
    if name not in KINDS:
        raise ConfigError(f"{where}: key 'kind': unknown panel kind {name!r} (one of: {known_kinds})")
    kind = kind_of(name)
    title = table.get("title")
    where = f"{where} ({name} {title!r})" if isinstance(title, str) else f"{where} ({name})"
    if title is not None and not isinstance(title, str):
        raise ConfigError(f"{where}: key 'title': expected a string, got {title!r}")
    rows = table.get("rows", DEFAULT_ROWS)
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ConfigError(f"{where}: key 'rows': expected a whole number of at least 1, got {rows!r}")
    history = table.get("history", True)
    if not isinstance(history, bool):
        if isinstance(history, int):
            raise ConfigError(
                f"{where}: key 'history': now true or false (keep this panel's history on disk); "
                f"the number of rows a panel keeps is 'rows': write rows = {history}"
            )
        raise ConfigError(f"{where}: key 'history': expected true or false, got {history!r}")
    retention_days = table.get("retention_days", DEFAULT_RETENTION_DAYS)
    if isinstance(retention_days, bool) or not isinstance(retention_days, (int, float)) or not retention_days > 0:
        raise ConfigError(f"{where}: key 'retention_days': expected a positive number of days, got {retention_days!r}")
    max_items = table.get("max_items", DEFAULT_MAX_ITEMS)
    if isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1:
        raise ConfigError(f"{where}: key 'max_items': expected a whole number of at least 1, got {max_items!r}")
    options = {k: v for k, v in table.items() if k not in _PANEL_KEYS}
    try:
        msgspec.convert(options, kind.options, strict=True)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{where}: {_explain(exc, options, kind.options)}") from None
    if "check" in options:  # [[panel.check]] tables: the feed's `checks`
        options["checks"] = options.pop("check")
    problem = kind.check(options)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    return PanelConfig(
        kind=name,
        title=title,
        options=options,
        rows=rows,
        history=history,
        retention_days=float(retention_days),
        max_items=max_items,
    )


def _explain(error: msgspec.ValidationError, options: dict[str, Any], schema: type) -> str:
    """msgspec's message in the config file's words: which key, what was expected, what it got."""
    message, _, at = str(error).partition(" - at `$")
    path = [p for p in at.rstrip("`").replace("[...]", "").replace("[", ".[").split(".") if p]
    prefix, key, owner = "", None, schema  # owner: the struct whose field `key` is
    value: Any = options
    for part in path:
        if part.startswith("[") and part.strip("[]").isdigit() and isinstance(value, list):
            index = int(part.strip("[]"))
            prefix, value, owner = f"check {index + 1}: ", value[index], _item_type(_field_type(owner, key))
            key = None
        elif not part.startswith("["):
            key, value = part, value.get(part) if isinstance(value, dict) else None
    if message.startswith("Object contains unknown field"):
        unknown = message.split("`")[1]
        known = sorted({*_fields(owner), *(() if prefix else _PANEL_KEYS)})
        return f"{prefix}unknown key '{unknown}' (known keys: {', '.join(known)})"
    if message.startswith("Object missing required field"):
        return f"{prefix}missing key '{message.split('`')[1]}'"
    if key is None or not message.startswith(("Expected", "Invalid")):
        return f"{prefix}{message}"  # our own words (a struct's __post_init__)
    expected = _description(owner, key)
    if expected is None:
        words = [w for name in message.split("`")[1::2][:1] for w in name.split(" | ") if w != "null"]
        expected = " or ".join(_TYPE_WORDS.get(w, w) for w in words) if words else message.lower()
    return f"{prefix}key '{key}': expected {expected}, got {value!r}"


def _fields(schema: Any) -> dict[str, Any]:
    return {f.encode_name: f for f in msgspec.structs.fields(schema)} if isinstance(schema, type) else {}


def _field_type(schema: Any, key: str | None) -> Any:
    field = _fields(schema).get(key) if key else None
    return field.type if field is not None else None


def _item_type(list_type: Any) -> Any:
    import typing

    for arg in typing.get_args(list_type):
        for inner in typing.get_args(arg) or (arg,):
            if isinstance(inner, type) and issubclass(inner, msgspec.Struct):
                return inner
    return None


def _description(schema: Any, key: str | None) -> str | None:
    """The `Meta(description=...)` of a field's type, if it has one."""
    import typing

    field_type = _field_type(schema, key) if key else None
    for candidate in (field_type, *typing.get_args(field_type)):
        for extra in getattr(candidate, "__metadata__", ()):
            if isinstance(extra, msgspec.Meta) and extra.description:
                return extra.description
    return None


def parse_config(text: str, path: Path) -> DashboardConfig:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    known = {"panel", "theme", "layout"}
    for key in data:
        if key not in known:
            raise ConfigError(f"{path}: unknown top-level key '{key}' (known keys: layout, panel, theme)")
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        raise ConfigError(f"{path}: key 'theme': expected a theme name, got {theme!r}")
    layout = data.get("layout", "tabs")
    if layout not in ("tabs", "grid"):
        raise ConfigError(f'{path}: key \'layout\': expected "tabs" or "grid", got {layout!r}')
    tables = data.get("panel", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{path}: key 'panel': write each panel as a [[panel]] table")
    if not tables:
        raise ConfigError(f"{path}: no panels: add at least one [[panel]] table")
    panels = [panel_from_table(t, f"{path}: panel {i + 1}") for i, t in enumerate(tables)]
    return DashboardConfig(panels=panels, theme=theme, layout=layout, path=path)


def load_config(path: str | os.PathLike[str] | None = None) -> DashboardConfig | None:
    """The dashboard config from `path` (or the default place); None when the default file
    does not exist. A file given explicitly must exist."""
    explicit = path is not None
    config_path = Path(path) if path is not None else default_config_path()
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{config_path}: no such file") from None
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: cannot read it: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_config(text, config_path)
