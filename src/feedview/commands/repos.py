"""`feedview repos`: a user's, an org's or your own repositories, or a search, page by page."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import aclosing
from typing import Any

from . import reader_left

PROG = "feedview repos"


def run(args: argparse.Namespace) -> int:
    from ..feeds.github import DEFAULT_BASE_URL, resolve_token
    from ..feeds.github_client import base_url_problem

    if args.per_page > 100:
        print(f"{PROG}: error: --per-page is at most 100 (GitHub's maximum), got {args.per_page}", file=sys.stderr)
        return 2
    base_url = args.base_url or DEFAULT_BASE_URL
    problem = base_url_problem(base_url)
    if problem is not None:
        print(f"{PROG}: error: --base-url: {problem}", file=sys.stderr)
        return 2
    per_page = min(args.per_page, args.limit) if args.limit else args.per_page
    options: dict[str, Any] = {
        "owner": args.owner,
        "org": args.org,
        "mine": args.mine,
        "search": args.search,
        "base_url": base_url,
        "token": resolve_token(args.token, base_url),
        "per_page": per_page,
        "sort": args.sort,
        "direction": args.direction,
    }
    if not args.json:
        from ..config import PanelConfig
        from ..ui.app import run_panels

        return run_panels([PanelConfig(kind="repos", title=_title(args), options=options)])
    return asyncio.run(_print_json(options, args.limit))


def _title(args: argparse.Namespace) -> str:
    if args.search:
        return f"search: {args.search}" + (f" (user:{args.owner})" if args.owner else "")
    if args.mine:
        return "my repositories"
    return f"{args.owner} repositories"


def json_line(value: Any) -> str:
    """One line of JSON a terminal can show: ASCII only (bidi and zero-width characters as \\u
    escapes, DEL too), and never NaN or Infinity, which are not JSON."""
    from ..text import escape_json_bytes

    return escape_json_bytes(json.dumps(value, allow_nan=False).encode("ascii")).decode("ascii") + "\n"


def say(prog: str, line: str, token: str | None) -> None:
    """One line on stderr, sanitized and with the token and URL credentials redacted."""
    from ..text import one_line, redact

    print(f"{prog}: {one_line(redact(line, [token]), 500)}", file=sys.stderr, flush=True)


async def _print_json(options: dict[str, Any], limit: int | None) -> int:
    """Repos as JSON lines until the walk ends or `limit`; 1 after a final error (one line on stderr)."""
    from ..feeds.github import repo_pages
    from ..feeds.state import FeedState

    printed = 0
    token = options["token"]
    try:
        async with aclosing(repo_pages(**options)) as pages:
            async for item in pages:
                if isinstance(item, FeedState):
                    say(PROG, f"{item.phase}: {item.reason}", token)
                    if item.phase == "error":
                        return 1
                    continue
                for note in item.notes if item.number == 1 else ():
                    say(PROG, f"note: {note}", token)
                repos = item.repos if limit is None else item.repos[: limit - printed]
                sys.stdout.write("".join(json_line(dict(repo.raw)) for repo in repos))
                sys.stdout.flush()
                printed += len(repos)
                if limit is not None and printed >= limit:
                    break
    except BrokenPipeError:
        return reader_left()
    return 0
