"""GitHub notification threads as a live feed, polled exactly as GitHub's API asks.

Each poll sends If-Modified-Since with the last Last-Modified; a 304 means nothing
new and costs no rate limit. Polls are never closer together than X-Poll-Interval
says (it grows when GitHub is busy), within [min_poll_interval_s, MAX_POLL_INTERVAL_S]
whatever a server sends. A thread is yielded once, and again only when its
updated_at moves. These endpoints need a classic token with the notifications or
repo scope; fine-grained tokens are refused, and the error says so.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..text import one_line
from .github_client import (
    DEFAULT_BASE_URL,
    GitHubClient,
    GitHubError,
    GitHubResponse,
    GitHubTuning,
    echoable,
    errors_in_band,
    mapping,
    token_advice,
)
from .github_pages import Page, canonical_url, follow_pages, next_link
from .limits import MIN_RECONNECT_S, clamp, parse_seconds
from .state import FeedState

MAX_PAGES_PER_POLL = 10  # 500 threads, newest first: a server with endless pages cannot hold a poll
PAGE_PAUSE_S = 1.2 * MIN_RECONNECT_S  # between a poll's pages: fewer than 4 requests a second
DEFAULT_POLL_INTERVAL_S = 60.0  # GitHub's usual X-Poll-Interval, when a response lacks it (or it is no number)
# X-Poll-Interval is obeyed up to an hour (and from GitHubTuning.min_poll_interval_s, 10 s): at least
# one poll an hour, however busy a server says it is.
MAX_POLL_INTERVAL_S = 3600.0
MAX_PER_PAGE = 50
SCOPE_HINT = (
    "notifications need a classic token (or gh's login) with the notifications or repo scope; "
    "fine-grained tokens cannot read them"
)
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+\Z")
# API subject path -> web path: issues/1 stays, pulls/2 -> pull/2, commits/SHA -> commit/SHA
_WEB_PATHS = (("issues/", "issues/"), ("pulls/", "pull/"), ("commits/", "commit/"), ("releases/", "releases"))


@dataclass(frozen=True)
class NotificationThread:
    """One notification thread with GitHub's field names; `raw` keeps the whole object."""

    id: str
    unread: bool
    reason: str  # mention, review_requested, assign, author, comment, subscribed, ...
    updated_at: str
    subject_title: str
    subject_type: str  # Issue, PullRequest, Release, Commit, Discussion, CheckSuite, ...
    subject_url: str | None  # the API URL
    html_url: str | None  # the web page to open
    repository: str  # repository.full_name
    last_read_at: str | None = None
    url: str = ""  # the thread's API URL (PATCH it to mark read)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NotificationThread:
        subject = mapping(data.get("subject"))
        repo = mapping(data.get("repository"))
        return cls(
            id=str(data.get("id") or ""),
            unread=bool(data.get("unread")),
            reason=str(data.get("reason") or ""),
            updated_at=str(data.get("updated_at") or ""),
            subject_title=str(subject.get("title") or ""),
            subject_type=str(subject.get("type") or ""),
            subject_url=_str(subject.get("url")),
            html_url=html_url(subject, repo),
            repository=str(repo.get("full_name") or ""),
            last_read_at=_str(data.get("last_read_at")),
            url=str(data.get("url") or ""),
            raw=data,
        )


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def html_url(subject: Mapping[str, Any], repository: Mapping[str, Any]) -> str | None:
    """The web page of a thread's subject, from its API URL and the repository's web URL.

    Works for github.com, Enterprise Server and the lab alike, since the web root comes from
    the repository. Subjects without a page of their own (check suites, discussions) open the
    repository's matching tab; a latest comment on an issue or pull request gets its anchor.
    """
    repo_html = _str(repository.get("html_url"))
    repo_api = _str(repository.get("url"))
    if repo_html is None:
        return None
    kind = subject.get("type")
    if kind == "CheckSuite":
        return f"{repo_html}/actions"
    if kind == "Discussion":
        return f"{repo_html}/discussions"
    api = _str(subject.get("url"))
    if api is None or repo_api is None or not api.startswith(repo_api + "/"):
        return repo_html
    rest = api[len(repo_api) + 1 :]
    for api_prefix, web_prefix in _WEB_PATHS:
        if rest.startswith(api_prefix):
            web = f"{repo_html}/{web_prefix}{rest[len(api_prefix) :] if web_prefix.endswith('/') else ''}"
            comment = _str(subject.get("latest_comment_url")) or ""
            match = re.search(r"/issues/comments/(\d+)\Z", comment)
            if match and kind in ("Issue", "PullRequest"):
                web += f"#issuecomment-{match.group(1)}"
            return web
    return repo_html


@dataclass
class PollCursor:
    """Where polling resumes (a restart's If-Modified-Since, and the threads not to yield again):
    given to `notification_threads(cursor=...)`, which starts from it and keeps it current.
    `last_modified` moves only once a poll's threads have all been yielded."""

    last_modified: str | None = None
    seen: dict[str, str] = field(default_factory=dict)  # thread id -> the updated_at last yielded


def _endpoint(repo: str | None) -> str:
    if repo is None:
        return "/notifications"
    if not _REPO.match(repo):
        raise GitHubError(f"expected OWNER/REPO, got {repo!r}")
    return f"/repos/{repo}/notifications"


def _explain(exc: GitHubError) -> str:
    if exc.status in (403, 404):
        return f"{exc}; {SCOPE_HINT}"
    return str(exc)


def _poll_interval(response: GitHubResponse, floor: float) -> tuple[float, str]:
    """The seconds until the next poll, and why: X-Poll-Interval within [floor, MAX_POLL_INTERVAL_S]."""
    asked = response.headers.get("x-poll-interval")
    seconds = parse_seconds(asked, low=floor, high=MAX_POLL_INTERVAL_S)
    if seconds is None:
        seconds = clamp(DEFAULT_POLL_INTERVAL_S, floor, MAX_POLL_INTERVAL_S)
        return seconds, f"every {seconds:g} s"
    if parse_seconds(asked) != seconds:
        return seconds, f"every {seconds:g} s: GitHub asked for {one_line(asked, 24)} s"
    return seconds, f"GitHub asks for {seconds:g} s between checks"


async def notification_threads(
    *,
    base_url: str = DEFAULT_BASE_URL,
    token: str | None = None,
    all: bool = False,
    participating: bool = False,
    repo: str | None = None,
    per_page: int = MAX_PER_PAGE,
    client: httpx.AsyncClient | None = None,
    cursor: PollCursor | None = None,
    **tuning: Any,
) -> AsyncGenerator[NotificationThread | FeedState]:
    """Threads as they arrive or change, forever (until closed), with FeedState("idle") between polls.

    `cursor`: resume from a Last-Modified and the threads already seen (a restart, from the
    history store); the feed updates it as it polls.

    `all`: read threads too (GitHub's default is unread only); `participating`: only threads you take
    part in; `repo`: "OWNER/REPO". Between polls the feed is "idle" (up to date, the next check at
    resume_at); rate-limit waits are "waiting" and retries "retrying" (attempt >= 1). A final
    error (bad options included) is FeedState("error") as the last item, never an exception.
    `tuning`: the fields of github_client.GitHubTuning; its min_poll_interval_s is the shortest pause
    between polls, whatever X-Poll-Interval says.
    """
    polls = _poll(base_url, token, all, participating, repo, per_page, client, cursor or PollCursor(), tuning)
    async with aclosing(errors_in_band(polls, secrets=[token], explain=_explain)) as items:
        async for item in items:
            yield item


async def _poll(
    base_url: str,
    token: str | None,
    all: bool,
    participating: bool,
    repo: str | None,
    per_page: int,
    client: httpx.AsyncClient | None,
    cursor: PollCursor,
    tuning: dict[str, Any],
) -> AsyncGenerator[NotificationThread | FeedState]:
    path = _endpoint(repo)
    if token is None:
        raise GitHubError(f"notifications need a token: {token_advice(base_url)}; {SCOPE_HINT}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise GitHubError(f"per_page must be from 1 to {MAX_PER_PAGE} for notifications, got {per_page}")
    params = {"all": "true" if all else None, "participating": "true" if participating else None, "per_page": per_page}
    github = GitHubClient(base_url, token, client, GitHubTuning(**tuning))
    seen = cursor.seen  # thread id -> the updated_at last yielded
    last_modified = cursor.last_modified
    try:
        while True:
            first = github.url(path, params)
            response = None
            conditional = {"If-Modified-Since": last_modified} if last_modified else None
            async with aclosing(github.send("GET", first, headers=conditional)) as sending:
                async for item in sending:
                    if isinstance(item, FeedState):
                        yield item
                    else:
                        response = item
            assert response is not None
            interval, why = _poll_interval(response, github.tuning.min_poll_interval_s)
            if response.status != 304:
                last_modified = echoable(response.headers.get("last-modified")) or last_modified
                async with aclosing(_threads_of(github, response, seen)) as fresh:
                    async for thread in fresh:
                        yield thread
                cursor.last_modified = last_modified
            resume_at = time.time() + interval
            yield FeedState(
                "idle",
                f"up to date; next check at {time.strftime('%H:%M:%S', time.localtime(resume_at))} ({why})",
                resume_at=resume_at,
            )
            await asyncio.sleep(interval)
    finally:
        await github.aclose()


async def _threads_of(
    github: GitHubClient, response: GitHubResponse, seen: dict[str, str]
) -> AsyncGenerator[NotificationThread | FeedState]:
    """The new and changed threads of one poll: its first page, then the Link pages after it."""
    items = response.data if isinstance(response.data, list) else []
    for thread in _fresh(items, seen):
        yield thread
    next_url, _, _ = next_link(response.headers.get("link"), response.url, {canonical_url(response.url)})
    if next_url is None:
        return
    pages_read = 1
    await asyncio.sleep(PAGE_PAUSE_S)  # a background poll: no one waits on its pages
    async with aclosing(follow_pages(github, next_url)) as pages:
        async for page in pages:
            if isinstance(page, Page):
                for thread in _fresh(page.items, seen):
                    yield thread
                pages_read += 1
                if pages_read >= MAX_PAGES_PER_POLL:
                    return  # the newest threads come first: older pages wait for a quieter inbox
                await asyncio.sleep(PAGE_PAUSE_S)
            elif not page.final:  # a Link header that ends the walk early ends this poll's pages
                yield page


def _fresh(items: Any, seen: dict[str, str]) -> list[NotificationThread]:
    fresh = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        thread = NotificationThread.from_json(item)
        if seen.get(thread.id) != thread.updated_at:
            seen[thread.id] = thread.updated_at
            fresh.append(thread)
    return fresh


async def mark_thread_read(
    thread_id: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    token: str | None = None,
    client: httpx.AsyncClient | None = None,
    **tuning: Any,
) -> None:
    """PATCH /notifications/threads/{id}; raises GitHubError (saying why) when GitHub refuses."""
    if token is None:
        raise GitHubError(f"marking a thread read needs a token; {SCOPE_HINT}")
    if not (thread_id.isascii() and thread_id.isdigit()):
        raise GitHubError(f"not a notification thread id: {thread_id!r}")
    github = GitHubClient(base_url, token, client, GitHubTuning(**tuning))
    try:
        async with aclosing(github.send("PATCH", github.url(f"/notifications/threads/{thread_id}"))) as sending:
            async for _ in sending:
                pass  # the request waits out rate limits and retries by itself
    except GitHubError as exc:
        raise GitHubError(_explain(exc), exc.status) from None
    finally:
        await github.aclose()
