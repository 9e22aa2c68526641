"""GitHub list endpoints, page by page. (Contract; filled in by its issue.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .state import FeedState

DEFAULT_BASE_URL = "https://api.github.com"


@dataclass(frozen=True)
class RateLimit:
    limit: int | None = None
    remaining: int | None = None
    used: int | None = None
    reset: int | None = None  # epoch seconds
    resource: str | None = None


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
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


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


RepoItem = RepoPage | FeedState
