"""`feedview notifications`: your GitHub notification threads, polled the way GitHub asks."""

from __future__ import annotations

import argparse
import asyncio
import sys
from contextlib import aclosing
from typing import Any

from . import reader_left
from .repos import json_line, say

PROG = "feedview notifications"


def run(args: argparse.Namespace) -> int:
    from ..feeds.github import DEFAULT_BASE_URL, resolve_token
    from ..feeds.github_client import base_url_problem

    base_url = args.base_url or DEFAULT_BASE_URL
    problem = base_url_problem(base_url)
    if problem is not None:
        print(f"{PROG}: error: --base-url: {problem}", file=sys.stderr)
        return 2
    options: dict[str, Any] = {
        "base_url": base_url,
        "token": resolve_token(args.token, base_url),
        "all": args.all,
        "participating": args.participating,
        "repo": args.repo,
    }
    if not args.json:
        from ..config import PanelConfig
        from ..ui.app import run_panels

        title = f"notifications: {args.repo}" if args.repo else "GitHub notifications"
        return run_panels([PanelConfig(kind="github-notifications", title=title, options=options)])
    return asyncio.run(_print_json(options, args.count))


async def _print_json(options: dict[str, Any], count: int | None) -> int:
    """Threads as JSON lines as they come, until `count`; 1 after a final error (one line on stderr)."""
    from ..feeds.github_notifications import NotificationThread, notification_threads

    printed = 0
    token = options["token"]
    try:
        async with aclosing(notification_threads(**options)) as threads:
            async for item in threads:
                if not isinstance(item, NotificationThread):
                    if item.phase != "idle":  # rate limits, retries and errors; the pause between checks is routine
                        say(PROG, f"{item.phase}: {item.reason}", token)
                    if item.phase == "error":
                        return 1
                    continue
                # GitHub's thread object, plus the web page its subject URL maps to
                sys.stdout.write(json_line({**item.raw, "html_url": item.html_url}))
                sys.stdout.flush()
                printed += 1
                if count is not None and printed >= count:
                    break
    except BrokenPipeError:
        return reader_left()
    return 0
