"""The TOML config: the dashboard's panels, each a feed and its options.

A panel's keys are the keyword arguments of its feed function (sse_feed,
repo_pages, health_feed), so every feed option has a config key; the schema
below names them with their types, and any keyword a feed adds later is accepted
too (read from the function's signature when the config is loaded).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

PanelKind = Literal["notifications", "repos", "health", "github-notifications"]
Layout = Literal["tabs", "grid"]

DEFAULT_HISTORY = 1000


@dataclass
class PanelConfig:
    """One dashboard panel.

    `options` holds the feed's keyword arguments, named exactly as the feed function
    names them (e.g. url/headers/last_event_id for notifications; owner/org/mine/search/
    base_url/token/per_page/sort/direction for repos; urls/interval/timeout for health).
    `history` is how many entries a live panel keeps (a ring buffer).
    """

    kind: PanelKind
    title: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    history: int = DEFAULT_HISTORY


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

# key -> (accepted Python types, what to say when the type is wrong)
_Schema = dict[str, tuple[tuple[type, ...], str]]
_STR = ((str,), "a string")
_BOOL = ((bool,), "true or false")
_INT = ((int,), "a whole number")
_SECONDS = ((int, float), "a number of seconds")
_TABLE = ((dict,), "a table of strings")
_STR_LIST = ((list,), "a list of strings")

_COMMON: _Schema = {"kind": _STR, "title": _STR}
_SCHEMAS: dict[str, _Schema] = {
    "notifications": {
        "url": _STR, "headers": _TABLE, "last_event_id": _STR, "idle_timeout": _SECONDS,
        "history": _INT,
    },
    "repos": {
        "owner": _STR, "org": _BOOL, "mine": _BOOL, "search": _STR, "base_url": _STR,
        "token": _STR, "token_env": _STR, "per_page": _INT, "sort": _STR, "direction": _STR,
    },
    "health": {
        "urls": _STR_LIST, "check": ((list,), "a list of [[panel.check]] tables"),
        "interval": _SECONDS, "timeout": _SECONDS, "history": _INT,
    },
    "github-notifications": {
        "all": _BOOL, "participating": _BOOL, "repo": _STR, "base_url": _STR, "token": _STR,
        "token_env": _STR, "per_page": _INT, "history": _INT,
    },
}
_CHECK_SCHEMA: _Schema = {
    "url": _STR, "name": _STR, "method": _STR, "headers": _TABLE, "interval": _SECONDS,
    "timeout": _SECONDS, "conditions": _STR_LIST,
}
# Keys that shape the panel rather than being passed to the feed as they are
# (token_env stays in options: the UI resolves it when it opens the feed).
_PANEL_KEYS = {"kind", "title", "history", "check"}


def _feed_keywords(kind: str) -> dict[str, Any]:
    """Options a feed declares beyond the schema: its keyword arguments and its tuning
    knobs (new feed knobs get a config key without a change here), with their defaults."""
    import dataclasses
    import inspect

    try:
        if kind == "notifications":
            from .feeds.sse import ReconnectPolicy as Tuning, sse_feed as feed

            tuning = {f.name: f.default for f in dataclasses.fields(Tuning)}
        elif kind == "repos":
            from .feeds.github import repo_pages as feed
            from .feeds.github_client import Tuning

            tuning = {f.name: f.default for f in dataclasses.fields(Tuning)}
        elif kind == "github-notifications":
            from .feeds.github_client import Tuning
            from .feeds.github_notifications import notification_threads as feed

            tuning = {f.name: f.default for f in dataclasses.fields(Tuning)}
        elif kind == "health":
            from .feeds.health import TUNING_OPTIONS, HealthCheck, health_feed as feed

            tuning = {f.name: f.default for f in dataclasses.fields(HealthCheck) if f.name in TUNING_OPTIONS}
        else:
            return {}
        params = inspect.signature(feed).parameters.values()
    except (ImportError, ValueError, TypeError):
        return {}
    keywords = {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY and p.name not in ("client", "cache")}
    return {**tuning, **keywords}


_TYPE_WORDS = {(bool,): "true or false", (int,): "a whole number", (int, float): "a number",
               (str,): "a string", (list,): "a list", (dict,): "a table"}


def _type_like(default: Any) -> tuple[type, ...] | None:
    """The TOML types that can stand for a keyword's default (None: anything)."""
    if isinstance(default, bool):
        return (bool,)
    if isinstance(default, int):
        return (int,)
    if isinstance(default, float):
        return (int, float)
    if isinstance(default, str):
        return (str,)
    if isinstance(default, (list, tuple)):
        return (list,)
    if isinstance(default, dict):
        return (dict,)
    return None


def _check_type(value: Any, expected: tuple[tuple[type, ...], str]) -> str | None:
    types, description = expected
    if isinstance(value, bool) and bool not in types:
        return description
    if not isinstance(value, types):
        return description
    if types == (dict,) and description == "a table of strings":
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return description
    if description == "a list of strings" and not all(isinstance(v, str) for v in value):
        return description
    return None


def _is_http_url(value: str) -> bool:
    scheme, sep, rest = value.partition("://")
    return bool(sep) and scheme in ("http", "https") and bool(rest)


def _is_repo_name(value: str) -> bool:
    import re

    return re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", value) is not None


def panel_from_table(table: dict[str, Any], where: str = "panel") -> PanelConfig:
    """Validate one [[panel]] table; raise ConfigError naming `where` and the key."""
    kind = table.get("kind")
    if kind is None:
        raise ConfigError(f"{where}: missing key 'kind' (one of: {', '.join(_SCHEMAS)})")
    if kind not in _SCHEMAS:
        raise ConfigError(f"{where}: key 'kind': unknown panel kind {kind!r} (one of: {', '.join(_SCHEMAS)})")
    schema = {**_COMMON, **_SCHEMAS[kind]}
    extra = {k: d for k, d in _feed_keywords(kind).items() if k not in schema}
    if isinstance(table.get("title"), str):
        where = f"{where} ({kind} {table['title']!r})"
    else:
        where = f"{where} ({kind})"
    for key, value in table.items():
        if key in schema:
            problem = _check_type(value, schema[key])
            if problem:
                raise ConfigError(f"{where}: key '{key}': expected {problem}, got {value!r}")
        elif key in extra:
            expected = _type_like(extra[key])
            if expected is not None and (not isinstance(value, expected) or isinstance(value, bool) is not (bool in expected)):
                raise ConfigError(f"{where}: key '{key}': expected {_TYPE_WORDS[expected]}, got {value!r}")
        else:
            known = sorted({*schema, *extra})
            raise ConfigError(f"{where}: unknown key '{key}' (known keys: {', '.join(known)})")

    options = {k: v for k, v in table.items() if k not in _PANEL_KEYS}
    history = table.get("history", DEFAULT_HISTORY)
    if history < 1:
        raise ConfigError(f"{where}: key 'history': expected at least 1, got {history}")
    for key in ("interval", "timeout", "idle_timeout"):
        if key in options and not options[key] > 0:
            raise ConfigError(f"{where}: key '{key}': expected a positive number of seconds, got {options[key]!r}")
    most = 50 if kind == "github-notifications" else 100  # GitHub's page limits
    if "per_page" in options and not 1 <= options["per_page"] <= most:
        raise ConfigError(f"{where}: key 'per_page': expected 1 to {most}, got {options['per_page']}")
    if options.get("direction") not in (None, "asc", "desc"):
        raise ConfigError(f"{where}: key 'direction': expected \"asc\" or \"desc\", got {options['direction']!r}")

    if kind == "notifications":
        url = options.get("url")
        if url is None:
            raise ConfigError(f"{where}: missing key 'url' (the SSE stream's http(s) URL)")
        if not _is_http_url(url):
            raise ConfigError(f"{where}: key 'url': expected an http:// or https:// URL, got {url!r}")
    elif kind == "repos":
        if not any(options.get(k) for k in ("owner", "mine", "search")):
            raise ConfigError(f"{where}: give one of the keys 'owner', 'mine = true' or 'search'")
        if "base_url" in options and not _is_http_url(options["base_url"]):
            raise ConfigError(f"{where}: key 'base_url': expected an http:// or https:// URL")
    elif kind == "github-notifications":
        repo = options.get("repo")
        if repo is not None and not _is_repo_name(repo):
            raise ConfigError(f"{where}: key 'repo': expected OWNER/REPO, got {repo!r}")
        if "base_url" in options and not _is_http_url(options["base_url"]):
            raise ConfigError(f"{where}: key 'base_url': expected an http:// or https:// URL")
    elif kind == "health":
        checks = [_check_from_table(c, f"{where}: check {i + 1}") for i, c in enumerate(table.get("check", []))]
        for url in options.get("urls", []):
            if not _is_http_url(url):
                raise ConfigError(f"{where}: key 'urls': expected http:// or https:// URLs, got {url!r}")
        if not checks and not options.get("urls"):
            raise ConfigError(f"{where}: missing key 'urls' (or [[panel.check]] tables)")
        if options.get("urls"):
            from .feeds.health import resolve_checks

            knobs = {k: v for k, v in options.items() if k != "urls"}
            try:  # the feed's own validation, now rather than when the panel opens
                resolve_checks(options["urls"], **{"interval": 10.0, "timeout": 5.0, **knobs})
            except (ValueError, TypeError) as exc:
                raise ConfigError(f"{where}: {exc}") from None
        if checks:
            options["checks"] = checks
    title = table.get("title")
    return PanelConfig(kind=kind, title=title, options=options, history=history)


def _check_from_table(table: Any, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a [[panel.check]] table")
    import dataclasses

    from .feeds.health import HealthCheck

    known = {f.name for f in dataclasses.fields(HealthCheck)}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown key '{key}' (known keys: {', '.join(sorted(known))})")
        if key in _CHECK_SCHEMA:
            problem = _check_type(value, _CHECK_SCHEMA[key])
            if problem:
                raise ConfigError(f"{where}: key '{key}': expected {problem}, got {value!r}")
    if "url" not in table:
        raise ConfigError(f"{where}: missing key 'url'")
    try:
        HealthCheck(**table)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return dict(table)


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
        raise ConfigError(f"{path}: key 'layout': expected \"tabs\" or \"grid\", got {layout!r}")
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
    config_path = Path(path) if explicit else default_config_path()
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{config_path}: no such file") from None
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: cannot read it: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_config(text, config_path)
