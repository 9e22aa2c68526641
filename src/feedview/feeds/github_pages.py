"""The generic GitHub page walker: any list endpoint, one page per request, on demand.

It follows the Link header's rel="next" exactly as given (GitHub's next link may
point at another path, or paginate by cursor), and never builds ?page=N itself.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from ..text import one_line
from .github_client import (
    UNAUTHENTICATED_NOTE,
    GitHubClient,
    GitHubError,
    RateLimit,
    echoable,
    errors_in_band,
    parsed_url,
    shown_path,
    wait_out,
)
from .limits import parse_int
from .state import FeedState

MAX_PAGE = 10**9  # a page number beyond any list GitHub serves

_LINK_VALUE = re.compile(r'\s*<([^<>]*)>((?:\s*;\s*[^\s;,=]+(?:\s*=\s*(?:"[^"]*"|[^\s;,]*))?)*)\s*(?:,|$)')
_LINK_PARAM = re.compile(r';\s*([^\s;,=]+)(?:\s*=\s*(?:"([^"]*)"|([^\s;,]*)))?')


@dataclass(frozen=True)
class Page:
    """One page of any GitHub list endpoint."""

    number: int  # the page= of its URL, else its position in the walk (1-based)
    items: tuple[Any, ...]
    has_next: bool
    last_page: int | None  # from rel="last"
    rate: RateLimit
    url: str
    etag: str | None = None
    data: Any = field(default=None, repr=False)  # the whole JSON body (search: the object around items)
    from_cache: bool = False  # a 304 reused what we had
    notes: tuple[str, ...] = ()  # lines a UI can show (e.g. the unauthenticated limit)
    next_url: str | None = None


class EtagCache:
    """Pages by URL with their ETag, so a later walk asks GitHub `If-None-Match`."""

    def __init__(self, max_pages: int = 500) -> None:
        self._pages: dict[str, Page] = {}
        self._max = max_pages

    def get(self, url: str) -> Page | None:
        return self._pages.get(url)

    def put(self, page: Page) -> None:
        if page.etag:
            self._pages.pop(page.url, None)
            if len(self._pages) >= self._max:
                self._pages.pop(next(iter(self._pages)))
            self._pages[page.url] = page


def parse_link_header(value: str) -> dict[str, str] | None:
    """RFC 8288 Link header -> {rel: url}; None when it cannot be read."""
    links: dict[str, str] = {}
    position = 0
    value = value.strip()
    while position < len(value):
        match = _LINK_VALUE.match(value, position)
        if match is None or match.end() == position:
            return None
        url, params = match.group(1), match.group(2)
        for name, quoted, bare in _LINK_PARAM.findall(params):
            if name.lower() == "rel":
                for rel in (quoted or bare).lower().split():
                    links.setdefault(rel, url)
        position = match.end()
    return links


def _resolved(reference: str, current: str) -> httpx.URL:
    """The next link as a URL. GitHub's are absolute: parsed once, as joining them to the current
    URL would return them unchanged after two parses more (a tenth of the walk's CPU)."""
    if reference.startswith(("https://", "http://")):
        return parsed_url(reference)
    return parsed_url(parsed_url(current).join(reference))


@functools.lru_cache(maxsize=64)
def _page_param(url: str) -> int | None:
    """The page= of a URL (cached: each page's rel="last" is the same URL)."""
    try:
        number = parse_int(parsed_url(url).params.get("page"), low=0, high=MAX_PAGE)
    except httpx.InvalidURL:
        return None
    return number or None


@functools.lru_cache(maxsize=64)
def canonical_url(url: str) -> str:
    """The URL with its query sorted: the same page however its parameters are ordered."""
    parsed = parsed_url(url)
    # (httpx writes a URL normalised, a `?` or `#` in its path escaped: the first one ends the path)
    base = str(parsed).partition("?")[0].partition("#")[0]
    return base + "?" + "&".join(sorted(f"{k}={v}" for k, v in parsed.params.multi_items()))


def next_link(link: str | None, current: str, seen: set[str]) -> tuple[str | None, int | None, str | None]:
    """(next URL, last page, why the walk must stop here) from a Link header."""
    if not link:
        return None, None, None
    links = parse_link_header(link)
    if links is None or ("next" in links and not links["next"].strip()):
        return None, None, "GitHub's Link header could not be read, so the walk stops here"
    last = _page_param(links["last"]) if "last" in links else None
    if "next" not in links:
        return None, last, None
    try:
        target = _resolved(links["next"].strip(), current)
    except httpx.InvalidURL:
        return None, last, "GitHub's next link is not a URL, so the walk stops here"
    if target.scheme not in ("http", "https") or not target.host:
        return None, last, "GitHub's next link is not an http(s) URL, so the walk stops here"
    if canonical_url(str(target)) in seen:
        return None, last, "GitHub's next link points back to a page already shown, so the walk stops here"
    return str(target), last, None


async def walk_pages(
    client: GitHubClient,
    path_or_url: str,
    params: Mapping[str, Any] | None = None,
    *,
    items_key: str | None = None,
    cache: EtagCache | None = None,
) -> AsyncGenerator[Page | FeedState]:
    """Pages of a GitHub list endpoint; each request waits until the consumer asks for its page.

    Yields a FeedState for each wait or retry, FeedState("closed") when a malformed or
    looping Link header ends the walk early, and FeedState("error") as the last item on a
    final error: nothing but cancellation escapes it.
    """
    pages = follow_pages(client, path_or_url, params, items_key=items_key, cache=cache)
    async with aclosing(errors_in_band(pages, secrets=[client.token])) as items:
        async for item in items:
            yield item


async def follow_pages(
    client: GitHubClient,
    path_or_url: str,
    params: Mapping[str, Any] | None = None,
    *,
    items_key: str | None = None,
    cache: EtagCache | None = None,
) -> AsyncGenerator[Page | FeedState]:
    """walk_pages for a caller that reports final errors itself: raises GitHubError (whose
    status it may explain) instead of ending with FeedState("error")."""
    url: str | None = client.url(path_or_url, params)
    seen: set[str] = set()
    position = 0
    while url is not None:
        seen.add(canonical_url(url))
        position += 1
        cached = cache.get(url) if cache is not None else None
        headers = {"If-None-Match": cached.etag} if cached is not None and cached.etag else None
        response = None
        async with aclosing(client.send("GET", url, headers=headers)) as sending:
            async for item in sending:
                if isinstance(item, FeedState):
                    yield item
                else:
                    response = item
        assert response is not None
        notes = _notes(client, url, response.authenticated)
        if response.status == 304 and cached is not None:
            page = replace(cached, from_cache=True, rate=response.rate, notes=notes)
            stop = None
            if page.next_url is not None and canonical_url(page.next_url) in seen:
                page, stop = replace(page, has_next=False, next_url=None), "the walk came back to a page already shown"
        else:
            next_url, last, stop = next_link(response.headers.get("link"), response.url, seen)
            items = _items(response.data, items_key, url)
            page = Page(
                number=_page_param(url) or position,
                items=items,
                has_next=next_url is not None,
                last_page=last,
                rate=response.rate,
                url=url,
                etag=echoable(response.headers.get("etag")),
                data=response.data,
                notes=notes,
                next_url=next_url,
            )
            if cache is not None:
                cache.put(page)
        yield page
        if stop is not None:
            yield FeedState("closed", stop)
            return
        url = page.next_url
        waiting = client.spent_wait(page.rate) if url is not None else None
        if waiting is not None:
            yield waiting
            await wait_out(waiting)


def _items(data: Any, items_key: str | None, url: str) -> tuple[Any, ...]:
    if items_key is None and isinstance(data, dict) and isinstance(data.get("items"), list):
        items_key = "items"
    found = data.get(items_key) if items_key is not None and isinstance(data, dict) else data
    if not isinstance(found, list):
        raise GitHubError(f"GitHub sent something other than a list for {shown_path(url)}")
    return tuple(found)


def _notes(client: GitHubClient, url: str, authenticated: bool) -> tuple[str, ...]:
    if client.token is None:
        return (UNAUTHENTICATED_NOTE,)
    if not authenticated:
        host = one_line(httpx.URL(url).host, 80)
        return (f"this page is on another server ({host}), so it was fetched without the token",)
    return ()
