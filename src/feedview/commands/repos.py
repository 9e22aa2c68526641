"""`feedview repos`: a user's, an org's or your own repositories, or a search, page by page."""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import aclosing
from typing import Any

from . import reader_left

PROG = "feedview repos"


def run(args) -> int:
    from ..feeds.github import DEFAULT_BASE_URL, resolve_token

    if args.per_page > 100:
        print(f"{PROG}: error: --per-page is at most 100 (GitHub's maximum), got {args.per_page}", file=sys.stderr)
        return 2
    base_url = args.base_url or DEFAULT_BASE_URL
    per_page = min(args.per_page, args.limit) if args.limit else args.per_page
    options: dict[str, Any] = {
        "owner": args.owner, "org": args.org, "mine": args.mine, "search": args.search,
        "base_url": base_url, "token": resolve_token(args.token, base_url), "per_page": per_page,
        "sort": args.sort, "direction": args.direction,
    }
    if not args.json:
        from ..config import PanelConfig
        from ..ui.app import run_panels

        return run_panels([PanelConfig(kind="repos", title=_title(args), options=options)])
    return asyncio.run(_print_json(options, args.limit))


def _title(args) -> str:
    if args.search:
        return f"search: {args.search}" + (f" (user:{args.owner})" if args.owner else "")
    if args.mine:
        return "my repositories"
    return f"{args.owner} repositories"


async def _print_json(options: dict[str, Any], limit: int | None) -> int:
    from ..feeds.github import GitHubError, repo_pages
    from ..feeds.state import FeedState

    printed = 0
    try:
        async with aclosing(repo_pages(**options)) as pages:
            async for item in pages:
                if isinstance(item, FeedState):
                    print(f"{PROG}: {item.phase}: {item.reason}", file=sys.stderr, flush=True)
                    continue
                for note in item.notes if item.number == 1 else ():
                    print(f"{PROG}: note: {note}", file=sys.stderr, flush=True)
                repos = item.repos if limit is None else item.repos[: limit - printed]
                sys.stdout.write("".join(json.dumps(dict(repo.raw)) + "\n" for repo in repos))
                sys.stdout.flush()
                printed += len(repos)
                if limit is not None and printed >= limit:
                    break
    except GitHubError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return reader_left()
    return 0
