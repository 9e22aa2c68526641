"""The panel kinds: each declared once, with everything the rest of feedview needs of it.

A kind is its options schema (a typed msgspec struct: the `[[panel]]` keys of the
config file, which are the feed's keyword arguments), the feed it opens, the panel
class that shows it, its default title and the add-panel form's one field. Config
validation, the app, the add-panel form and the command palette all read this
registry; adding a kind is a `PanelKind` here plus its panel module (a plugin could
call `register()` from outside the package, e.g. from an entry point).

This module is imported before the first frame (the config is read first): it
imports neither the feeds (httpx) nor Textual. The feed and the panel class load
when a panel opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

# -- option types: each Meta's description is what an error message says was expected ---------

Seconds = Annotated[float, Meta(gt=0, description="a positive number of seconds")]
Fraction = Annotated[float, Meta(ge=0, lt=1, description="a fraction from 0 to below 1")]
AtLeastOne = Annotated[int, Meta(ge=1, description="a whole number of at least 1")]
NotNegative = Annotated[int, Meta(ge=0, description="a whole number of at least 0")]
Headers = Annotated[dict[str, str], Meta(description="a table of strings")]
Strings = Annotated[list[str], Meta(description="a list of strings")]
Url = Annotated[str, Meta(description="an http:// or https:// URL")]
Direction = Annotated[Literal["asc", "desc"], Meta(description='"asc" or "desc"')]


class _Options(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """A panel's options: the config keys besides kind, title and history."""


class SseReconnect(_Options, kw_only=True):
    """The reconnection and decoder knobs of `sse_feed` (feeds/sse.py ReconnectPolicy)."""

    reconnect_s: Seconds = 3.0
    min_reconnect_s: Seconds = 0.25
    backoff_max_s: Seconds = 60.0
    jitter: Fraction = 0.3
    connect_timeout_s: Seconds = 10.0
    max_size: AtLeastOne = 1 << 20
    max_redirects: NotNegative = 10
    remembered_ids: AtLeastOne = 4096


class NotificationsOptions(SseReconnect, kw_only=True):
    url: Url
    headers: Headers = {}
    last_event_id: str = ""
    idle_timeout: Seconds = 60.0
    since: str = ""  # ntfy: cached messages first (10m, a Unix time, a message id or all)
    poll: bool = False  # ntfy: the cached messages only, then the feed ends

    def __post_init__(self) -> None:
        _check_url("url", self.url)


class GitHubPatience(_Options, kw_only=True):
    """How patient the GitHub client is (feeds/github_client.py)."""

    base_url: Url = "https://api.github.com"
    token: str | None = None
    token_env: str | None = None  # the variable to read the token from
    max_retries: NotNegative = 3
    backoff_s: Seconds = 1.0
    max_backoff_s: Seconds = 30.0
    secondary_wait_s: Seconds = 60.0
    secondary_tries: NotNegative = 3
    max_wait_s: Seconds = 3600.0
    reset_slack_s: Annotated[float, Meta(ge=0, description="a number of seconds")] = 1.0
    timeout_s: Seconds = 30.0
    deadline_s: Seconds = 120.0
    min_poll_interval_s: Seconds = 10.0
    accept: str = "application/vnd.github+json"
    auth_scheme: str = "Bearer"

    def __post_init__(self) -> None:
        _check_url("base_url", self.base_url)


class ReposOptions(GitHubPatience, kw_only=True):
    owner: str | None = None
    org: bool = False
    mine: bool = False
    search: str | None = None
    per_page: Annotated[int, Meta(ge=1, le=100, description="1 to 100")] = 30
    sort: str | None = None
    direction: Direction | None = None


class GitHubNotificationsOptions(GitHubPatience, kw_only=True):
    all: bool = False
    participating: bool = False
    repo: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="OWNER/REPO")] | None = None
    per_page: Annotated[int, Meta(ge=1, le=50, description="1 to 50")] = 50


class CheckTuning(_Options, kw_only=True):
    """What each health check may set (feeds/health.py HealthCheck), besides its URL."""

    method: Annotated[Literal["GET", "HEAD", "get", "head"], Meta(description='"GET" or "HEAD"')] = "GET"
    headers: Headers = {}
    interval: Seconds | None = None
    timeout: Seconds | None = None
    conditions: Strings = []
    failures_to_trip: AtLeastOne = 1
    successes_to_recover: AtLeastOne = 1
    max_interval: Seconds | None = None
    multiplier: Annotated[float, Meta(ge=1, description="a number of at least 1")] = 1.5
    jitter: Fraction = 0.1
    stats_window: AtLeastOne = 100


class HealthCheckOptions(CheckTuning, kw_only=True):
    """One `[[panel.check]]` table."""

    url: Url
    name: str | None = None

    def __post_init__(self) -> None:
        _check_url("url", self.url)


class HealthOptions(CheckTuning, kw_only=True):
    urls: Annotated[list[str], Meta(description="a list of http:// or https:// URLs")] = []
    check: Annotated[list[HealthCheckOptions], Meta(description="a list of [[panel.check]] tables")] = []

    def __post_init__(self) -> None:
        for url in self.urls:
            _check_url("urls", url)


def _check_url(key: str, url: str) -> None:
    """A URL option must be usable: a ValueError (msgspec makes it a ValidationError) says why."""
    from .urls import http_url_problem

    if problem := http_url_problem(url):
        raise ValueError(f"key '{key}': {problem}")


# -- the kinds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelKind:
    name: str  # the config's `kind`
    options: type[_Options]  # the schema of its keys
    panel: str  # "module:Class" of its FeedPanel, imported when a panel opens
    open_feed: Callable[[dict[str, Any], bool], AsyncIterator[Any]]  # (options, batches)
    default_title: Callable[[Mapping[str, Any]], str]
    form_label: str  # the add-panel form: what the one field asks for
    form_placeholder: str
    from_form: Callable[[str], dict[str, Any]]  # that field's text -> the panel's keys
    check: Callable[[Mapping[str, Any]], str | None] = lambda options: None  # problems the schema cannot say
    can_pause: bool = False
    # the options that say which feed a panel is: its identity in the history store (never a token)
    identity_keys: tuple[str, ...] = ()

    def panel_class(self) -> type:
        from importlib import import_module

        module, _, name = self.panel.partition(":")
        return getattr(import_module(module), name)


KINDS: dict[str, PanelKind] = {}


def register(kind: PanelKind) -> PanelKind:
    """Add a kind (a plugin may add its own; a name already taken is an error)."""
    if kind.name in KINDS:
        raise ValueError(f"panel kind {kind.name!r} is already registered")
    KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> PanelKind:
    return KINDS[name]


# notifications -----------------------------------------------------------------------------


def _open_notifications(options: dict[str, Any], batches: bool) -> AsyncIterator[Any]:
    from .feeds.sse import sse_batches, sse_feed

    return (sse_batches if batches else sse_feed)(**options)


def _stream_name(options: Mapping[str, Any]) -> str:
    """A stream's name from its URL: the ntfy topic (`.../mytopic/sse?since=all` -> `mytopic`),
    else the last part of its path, else its host."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(str(options.get("url", "")))
    except ValueError:
        return "events"
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[-1] in ("sse", "json", "raw", "ws"):  # ntfy's subscribe endpoints
        segments.pop()
    return segments[-1] if segments else (parts.hostname or "events")


register(
    PanelKind(
        name="notifications",
        options=NotificationsOptions,
        panel="feedview.ui.notifications:NotificationsPanel",
        open_feed=_open_notifications,
        default_title=_stream_name,
        form_label="Notifications (SSE stream URL)",
        form_placeholder="https://ntfy.sh/mytopic/sse",
        from_form=lambda target: {"url": target},
        can_pause=True,
        identity_keys=("url",),
    )
)


# repos ---------------------------------------------------------------------------------------


async def _github_options(options: dict[str, Any]) -> dict[str, Any]:
    """A GitHub panel's options for its feed: the token resolved (token, else the variable
    token_env names, else gh's own lookup for the base URL's host; `gh auth token` is a
    process, so in a thread) and the unset ones left out."""
    from .feeds.github import DEFAULT_BASE_URL, resolve_token

    options = {k: v for k, v in options.items() if v is not None}
    env_name = options.pop("token_env", None)
    token = options.get("token") or (os.environ.get(env_name) if env_name else None) or None
    base_url = options.get("base_url") or DEFAULT_BASE_URL
    options["token"] = await asyncio.to_thread(resolve_token, token, base_url)
    return options


async def _open_repos(options: dict[str, Any], batches: bool) -> AsyncIterator[Any]:
    from .feeds.github import repo_pages

    async with contextlib.aclosing(repo_pages(**await _github_options(options))) as pages:
        async for item in pages:
            yield item


def _repos_title(options: Mapping[str, Any]) -> str:
    if options.get("search"):
        return f"search: {options['search']}"
    if options.get("mine"):
        return "my repos"
    return str(options.get("owner") or "repos")


def _repos_from_form(target: str) -> dict[str, Any]:
    if target == "mine":
        return {"mine": True}
    if target.startswith("org:"):
        return {"owner": target[4:].strip(), "org": True}
    if target.startswith("search:"):
        return {"search": target[7:].strip()}
    return {"owner": target}


def _repos_check(options: Mapping[str, Any]) -> str | None:
    if not any(options.get(k) for k in ("owner", "mine", "search")):
        return "give one of the keys 'owner', 'mine = true' or 'search'"
    return None


register(
    PanelKind(
        name="repos",
        options=ReposOptions,
        panel="feedview.ui.repos:ReposPanel",
        open_feed=_open_repos,
        default_title=_repos_title,
        form_label="Repos (GitHub owner)",
        form_placeholder="textualize   (or org:NAME, search:QUERY, mine)",
        from_form=_repos_from_form,
        check=_repos_check,
        identity_keys=("base_url", "owner", "org", "mine", "search", "per_page"),
    )
)


# health --------------------------------------------------------------------------------------


def _open_health(options: dict[str, Any], batches: bool) -> AsyncIterator[Any]:
    from .feeds.health import HealthCheck, health_feed

    options = dict(options)
    checks: list[Any] = [HealthCheck(**table) for table in options.pop("checks", [])]
    checks += options.pop("urls", [])
    return health_feed(checks, **options)


def _health_title(options: Mapping[str, Any]) -> str:
    count = len(options.get("urls") or []) + len(options.get("checks") or [])
    return f"health ({count})"


def _health_check(options: Mapping[str, Any]) -> str | None:
    from .feeds.conditions import ConditionError, parse_condition

    if not options.get("urls") and not options.get("checks"):
        return "missing key 'urls' (or [[panel.check]] tables)"
    tables = [("", options)] + [(f"check {n}: ", c) for n, c in enumerate(options.get("checks", []), 1)]
    for where, table in tables:
        for text in table.get("conditions", []):
            try:
                parse_condition(text)
            except ConditionError as exc:
                return f"{where}{exc}"
    return None


register(
    PanelKind(
        name="health",
        options=HealthOptions,
        panel="feedview.ui.health:HealthPanel",
        open_feed=_open_health,
        default_title=_health_title,
        form_label="Health (URLs, space-separated)",
        form_placeholder="https://api.example.com/health https://example.com/",
        from_form=lambda target: {"urls": target.split()},
        check=_health_check,
        identity_keys=("urls", "checks"),
    )
)


# GitHub notifications ------------------------------------------------------------------------


async def _open_github_notifications(options: dict[str, Any], batches: bool) -> AsyncIterator[Any]:
    from .feeds.github_notifications import notification_threads

    async with contextlib.aclosing(notification_threads(**await _github_options(options))) as threads:
        async for item in threads:
            yield item


def _github_notifications_from_form(target: str) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for word in target.split():
        if word in ("participating", "all"):
            table[word] = True
        else:
            table["repo"] = word
    return table


register(
    PanelKind(
        name="github-notifications",
        options=GitHubNotificationsOptions,
        panel="feedview.ui.github_notifications:GitHubNotificationsPanel",
        open_feed=_open_github_notifications,
        default_title=lambda o: f"notifications: {o['repo']}" if o.get("repo") else "GitHub notifications",
        form_label="GitHub notifications (optional OWNER/REPO, participating, all)",
        form_placeholder="octo-org/app participating   (all optional; empty: all your unread threads)",
        from_form=_github_notifications_from_form,
        identity_keys=("base_url", "all", "participating", "repo"),
    )
)


async def github_request_options(options: dict[str, Any]) -> dict[str, Any]:
    """A GitHub panel's options ready for a one-off request (mark read): token resolved."""
    return await _github_options(options)
