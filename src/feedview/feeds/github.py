"""GitHub repository lists, page by page: a user's, an org's, your own, or a search.

    async with aclosing(repo_pages(owner="octo-org", org=True, token=resolve_token(None))) as pages:
        async for item in pages:      # each page is requested only when asked for
            ...                        # RepoPage; FeedState while waiting/retrying, "error" at a final error

`token` is used as given (None: unauthenticated); `resolve_token()` finds one the way gh does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import httpx

from .github_client import (
    DEFAULT_BASE_URL,
    MAX_COUNT,
    UNAUTHENTICATED_NOTE,
    GitHubClient,
    GitHubError,
    GitHubTuning,
    RateLimit,
    errors_in_band,
    mapping,
    resolve_token,
    token_advice,
)
from .github_pages import EtagCache, Page, follow_pages
from .limits import parse_int
from .state import FeedState

__all__ = [
    "DEFAULT_BASE_URL",
    "SEARCH_CAP",
    "UNAUTHENTICATED_NOTE",
    "EtagCache",
    "GitHubError",
    "RateLimit",
    "Repo",
    "RepoItem",
    "RepoPage",
    "repo_pages",
    "resolve_token",
]

_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,99})\Z")  # GHES allows _ and . from LDAP/SAML
SEARCH_CAP = 1000  # GitHub's search shows at most this many results
LIST_SORTS = ("created", "updated", "pushed", "full_name")
SEARCH_SORTS = ("stars", "forks", "help-wanted-issues", "updated")


@dataclass(frozen=True)
class Repo:
    """A repository with GitHub's field names; `raw` keeps the whole object."""

    id: int
    name: str
    full_name: str
    owner: str  # owner.login
    html_url: str
    description: str | None
    fork: bool
    archived: bool
    language: str | None
    stargazers_count: int
    forks_count: int
    open_issues_count: int
    topics: tuple[str, ...]
    license: str | None  # license.spdx_id (or name)
    visibility: str | None
    created_at: str | None
    updated_at: str | None
    pushed_at: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)  # compare=False: hashable

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Repo:
        owner = mapping(data.get("owner"))
        licence = mapping(data.get("license")) or None
        spdx = licence.get("spdx_id") if licence else None
        topics = data.get("topics")
        topics = topics if isinstance(topics, list) else []
        return cls(
            id=_number(data.get("id")),
            name=str(data.get("name") or ""),
            full_name=str(data.get("full_name") or ""),
            owner=str(owner.get("login") or ""),
            html_url=str(data.get("html_url") or ""),
            description=_text(data.get("description")),
            fork=bool(data.get("fork")),
            archived=bool(data.get("archived")),
            language=_text(data.get("language")),
            stargazers_count=_number(data.get("stargazers_count")),
            forks_count=_number(data.get("forks_count")),
            open_issues_count=_number(data.get("open_issues_count")),
            topics=tuple(str(t) for t in topics),
            license=(spdx if spdx and spdx != "NOASSERTION" else _text(licence.get("name"))) if licence else None,
            visibility=_text(data.get("visibility")) or ("private" if data.get("private") else None),
            created_at=_text(data.get("created_at")),
            updated_at=_text(data.get("updated_at")),
            pushed_at=_text(data.get("pushed_at")),
            raw=data,
        )


@dataclass(frozen=True)
class RepoPage:
    number: int  # 1-based
    repos: tuple[Repo, ...]
    has_next: bool
    last_page: int | None  # from rel="last", when GitHub gives it
    rate: RateLimit
    total_count: int | None = None  # search only
    incomplete_results: bool = False  # search only
    capped: bool = False  # search: GitHub shows at most 1,000 results
    from_cache: bool = False  # a 304 reused the page we had
    notes: tuple[str, ...] = ()  # lines to show as they are: no token (60 an hour), search cap, ...
    url: str = ""  # the URL this page came from
    etag: str | None = None


RepoItem = RepoPage | FeedState


def _number(value: Any) -> int:
    """A count or id as shown and printed: a whole number in [0, MAX_COUNT], 0 when it is none."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return min(max(value, 0), MAX_COUNT)
    if isinstance(value, float):
        return int(min(max(value, 0.0), MAX_COUNT)) if value == value else 0
    return parse_int(value, low=0, high=MAX_COUNT) or 0


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _endpoint(
    owner: str | None,
    org: bool,
    mine: bool,
    search: str | None,
    token: str | None,
    per_page: int,
    sort: str | None,
    direction: str | None,
) -> tuple[str, dict[str, Any]]:
    if not 1 <= per_page <= 100:
        raise GitHubError(f"per_page must be from 1 to 100 (GitHub's maximum), got {per_page}")
    if direction not in (None, "asc", "desc"):
        raise GitHubError(f"direction must be asc or desc, got {direction!r}")
    if search is not None:
        if not search.strip():
            raise GitHubError("the search query is empty")
        if sort not in (None, *SEARCH_SORTS):
            raise GitHubError(f"search sorts by {', '.join(SEARCH_SORTS)}; got {sort!r}")
        query = f"{search.strip()} user:{owner}" if owner else search.strip()
        # search calls the direction `order`
        return "/search/repositories", {"q": query, "sort": sort, "order": direction, "per_page": per_page}
    if sort not in (None, *LIST_SORTS):
        raise GitHubError(f"repository lists sort by {', '.join(LIST_SORTS)}; got {sort!r}")
    params = {"sort": sort, "direction": direction, "per_page": per_page}
    if mine:
        if owner:
            raise GitHubError("give an owner or mine, not both")
        return "/user/repos", params
    if not owner:
        raise GitHubError("give an owner, mine=True or a search query")
    if not _LOGIN.match(owner):
        raise GitHubError(f"not a GitHub user or organisation name: {owner!r}")
    return (f"/orgs/{owner}/repos" if org else f"/users/{owner}/repos"), params


def _repo_page(page: Page, search: bool) -> RepoPage:
    repos = tuple(Repo.from_json(r) for r in page.items if isinstance(r, Mapping))
    total = incomplete = None
    notes = list(page.notes)
    if search and isinstance(page.data, Mapping):
        total = page.data.get("total_count")
        total = _number(total) if isinstance(total, int) and not isinstance(total, bool) else None
        incomplete = bool(page.data.get("incomplete_results"))
        if total is not None and total > SEARCH_CAP:
            notes.append(f"GitHub shows only the first {SEARCH_CAP:,} of {total:,} results")
        if incomplete:
            notes.append("GitHub's search timed out: these results may be incomplete")
    return RepoPage(
        number=page.number,
        repos=repos,
        has_next=page.has_next,
        last_page=page.last_page,
        rate=page.rate,
        total_count=total,
        incomplete_results=bool(incomplete),
        capped=total is not None and total > SEARCH_CAP,
        from_cache=page.from_cache,
        notes=tuple(notes),
        url=page.url,
        etag=page.etag,
    )


async def repo_pages(
    *,
    owner: str | None = None,
    org: bool = False,
    mine: bool = False,
    search: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    token: str | None = None,
    per_page: int = 30,
    sort: str | None = None,
    direction: str | None = None,
    client: httpx.AsyncClient | None = None,
    cache: EtagCache | None = None,
    **tuning: Any,
) -> AsyncGenerator[RepoPage | FeedState]:
    """Pages of repositories, each requested when the consumer asks for it.

    Yields FeedStates while waiting or retrying; a final error (bad options included, before
    any request) is FeedState("error") as the last item, never an exception.
    `tuning`: the fields of github_client.GitHubTuning (retries, waits, timeouts, accept, auth_scheme).
    `cache`: an EtagCache shared between walks makes unchanged pages cost no rate limit.
    """
    pages = _repo_pages(owner, org, mine, search, base_url, token, per_page, sort, direction, client, cache, tuning)
    async with aclosing(errors_in_band(pages, secrets=[token])) as items:
        async for item in items:
            yield item


async def _repo_pages(
    owner: str | None,
    org: bool,
    mine: bool,
    search: str | None,
    base_url: str,
    token: str | None,
    per_page: int,
    sort: str | None,
    direction: str | None,
    client: httpx.AsyncClient | None,
    cache: EtagCache | None,
    tuning: dict[str, Any],
) -> AsyncGenerator[RepoPage | FeedState]:
    if mine and token is None:
        raise GitHubError(f"your own repositories need a token: {token_advice(base_url)}")
    path, params = _endpoint(owner, org, mine, search, token, per_page, sort, direction)
    github = GitHubClient(base_url, token, client, GitHubTuning(**tuning))
    try:
        async with aclosing(follow_pages(github, path, params, cache=cache)) as pages:
            async for item in pages:
                yield item if isinstance(item, FeedState) else _repo_page(item, search is not None)
    finally:
        await github.aclose()
