"""`feedview notifications`: your GitHub notification threads, polled the way GitHub asks."""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import aclosing
from typing import Any

from . import reader_left

PROG = "feedview notifications"


def run(args) -> int:
    from ..feeds.github import DEFAULT_BASE_URL, resolve_token

    base_url = args.base_url or DEFAULT_BASE_URL
    options: dict[str, Any] = {
        "base_url": base_url, "token": resolve_token(args.token, base_url),
        "all": args.all, "participating": args.participating, "repo": args.repo,
    }
    if not args.json:
        from ..config import PanelConfig
        from ..ui.app import run_panels

        title = f"notifications: {args.repo}" if args.repo else "GitHub notifications"
        return run_panels([PanelConfig(kind="github-notifications", title=title, options=options)])
    return asyncio.run(_print_json(options, args.count))


async def _print_json(options: dict[str, Any], count: int | None) -> int:
    from ..feeds.github_client import GitHubError
    from ..feeds.github_notifications import NotificationThread, notification_threads

    printed = 0
    try:
        async with aclosing(notification_threads(**options)) as threads:
            async for item in threads:
                if not isinstance(item, NotificationThread):
                    if item.attempt:  # rate limits and retries; the wait between checks is routine
                        print(f"{PROG}: {item.phase}: {item.reason}", file=sys.stderr, flush=True)
                    continue
                # GitHub's thread object, plus the web page its subject URL maps to
                print(json.dumps({**item.raw, "html_url": item.html_url}), flush=True)
                printed += 1
                if count is not None and printed >= count:
                    break
    except GitHubError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return reader_left()
    return 0
