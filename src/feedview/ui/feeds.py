"""From a PanelConfig to the async generator that feeds its panel.

The feed modules (and httpx) are imported here, when a panel opens its feed,
not when the app starts: the first frame does not need them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import PanelConfig


def open_feed(config: PanelConfig, *, batches: bool = False, **overrides: Any) -> AsyncIterator[Any]:
    """A fresh generator for the panel's feed; `overrides` replace options (e.g. sort).
    `batches`: where the feed can, yield lists of items (one per network read)."""
    options = {**config.options, **overrides}
    if config.kind == "notifications":
        from ..feeds.sse import sse_batches, sse_feed

        return (sse_batches if batches else sse_feed)(**options)
    if config.kind == "repos":
        return _repo_pages(options)
    if config.kind == "health":
        from ..feeds.health import health_feed

        checks = options.pop("checks", None)
        urls = options.pop("urls", None) or []
        return health_feed(_health_checks(checks) + list(urls) if checks else urls, **options)
    if config.kind == "github-notifications":
        return _notification_threads(options)
    raise ValueError(f"no feed for panel kind {config.kind!r}")


async def _repo_pages(options: dict[str, Any]) -> AsyncIterator[Any]:
    """repo_pages with its token resolved off the event loop (`gh auth token` is a process)."""
    import asyncio

    from ..feeds.github import repo_pages

    options["token"] = await asyncio.to_thread(_github_token, options)
    async with contextlib.aclosing(repo_pages(**{k: v for k, v in options.items() if v is not None})) as pages:
        async for item in pages:
            yield item


async def _notification_threads(options: dict[str, Any]) -> AsyncIterator[Any]:
    """notification_threads with its token resolved off the event loop."""
    from ..feeds.github_notifications import notification_threads

    async with contextlib.aclosing(notification_threads(**await github_request_options(options))) as threads:
        async for item in threads:
            yield item


async def github_request_options(options: dict[str, Any]) -> dict[str, Any]:
    """A GitHub panel's options with its token resolved (`gh auth token` is a process: in a
    thread) and the unset ones left out, ready for the feed or a one-off request."""
    import asyncio

    options = {k: v for k, v in options.items() if v is not None}
    options["token"] = await asyncio.to_thread(_github_token, options)
    return options


def _github_token(options: dict[str, Any]) -> str | None:
    """token, else the variable named by token_env, else gh's own lookup for the base
    URL's host (GH_TOKEN for github.com only, GH_ENTERPRISE_TOKEN elsewhere, `gh auth token`)."""
    from ..feeds.github import DEFAULT_BASE_URL, resolve_token

    token = options.get("token")
    env_name = options.pop("token_env", None)
    if not token and env_name:
        token = os.environ.get(env_name) or None
    return resolve_token(token, options.get("base_url") or DEFAULT_BASE_URL)


def _stream_name(url: str) -> str:
    """A stream's name from its URL: the ntfy topic (`.../mytopic/sse?since=all` -> `mytopic`),
    else the last part of its path, else its host."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "events"
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[-1] in ("sse", "json", "raw", "ws"):  # ntfy's subscribe endpoints
        segments.pop()
    return segments[-1] if segments else (parts.hostname or "events")


def _health_checks(tables: list[dict[str, Any]]) -> list[Any]:
    from ..feeds.health import HealthCheck

    return [HealthCheck(**table) for table in tables]


def describe(config: PanelConfig) -> str:
    """A short default title for a panel without one."""
    options = config.options
    if config.kind == "notifications":
        return _stream_name(str(options.get("url", "")))
    if config.kind == "repos":
        if options.get("search"):
            return f"search: {options['search']}"
        if options.get("mine"):
            return "my repos"
        return str(options.get("owner", "repos"))
    if config.kind == "health":
        count = len(options.get("urls") or []) + len(options.get("checks") or [])
        return f"health ({count})"
    if config.kind == "github-notifications":
        return f"notifications: {options['repo']}" if options.get("repo") else "GitHub notifications"
    return config.kind
