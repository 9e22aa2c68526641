"""The generic page walker against a byte-exact loopback server: Link headers GitHub's way and broken ones."""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing

import pytest

from feedview.feeds.github_client import GitHubClient, GitHubError, Tuning
from feedview.feeds.github_pages import Page, parse_link_header, walk_pages
from feedview.feeds.state import FeedState

Route = tuple[int, dict[str, str], object]  # or a callable returning one, asked per request


class RawServer:
    """Answers each `path?query` from a table, exactly as written; records what it was asked."""

    def __init__(self, routes: dict[str, object]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aenter__(self) -> "RawServer":
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        target = head[0].split(" ")[1]
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        self.requests.append((target, headers))
        route = self.routes.get(target, (404, {}, {"message": "Not Found"}))
        status, extra, body = route() if callable(route) else route
        payload = json.dumps(body).encode()
        lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(payload)}", "Content-Type: application/json",
                 "Connection: close", *(f"{k}: {v}" for k, v in extra.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
        await writer.drain()
        writer.close()


async def walk(server: RawServer, path: str, **tuning) -> list:
    client = GitHubClient(server.base_url, "t0ken", tuning=Tuning(backoff_s=0.01, **tuning))
    items = []
    try:
        async with aclosing(walk_pages(client, path)) as pages:
            async for item in pages:
                items.append(item)
    finally:
        await client.aclose()
    return items


async def test_cursor_pages_and_relative_links_are_followed_as_given():
    routes = {
        "/events": (200, {"Link": '</events?after=Y3Vyc29y>; rel="next"'}, [1, 2]),
        "/events?after=Y3Vyc29y": (200, {"Link": '<http://ignored.example/x>; rel="prev"'}, [3]),
    }
    async with RawServer(routes) as server:
        items = await walk(server, "/events")
    assert [(p.number, p.items, p.has_next) for p in items] == [(1, (1, 2), True), (2, (3,), False)]
    assert [t for t, _ in server.requests] == ["/events", "/events?after=Y3Vyc29y"]


async def test_a_next_link_back_to_a_seen_page_ends_cleanly():
    async with RawServer({}) as server:
        server.routes.update({
            "/items?per_page=2": (200, {"Link": f'<{server.base_url}/items?page=2&per_page=2>; rel="next"'}, [1]),
            "/items?page=2&per_page=2": (200, {"Link": f'<{server.base_url}/items?per_page=2>; rel="next"'}, [2]),
        })
        items = await walk(server, "/items?per_page=2")
    assert [type(i) for i in items] == [Page, Page, FeedState]
    assert not items[1].has_next and items[2].phase == "closed" and "already shown" in items[2].reason
    assert len(server.requests) == 2


@pytest.mark.parametrize("link", ['<http://x/a>; rel="next", garbage', "<unterminated; rel=next", '<>; rel="next"',
                                  '<javascript:alert(1)>; rel="next"'])
async def test_a_malformed_link_header_ends_the_walk_after_its_page(link):
    async with RawServer({"/list": (200, {"Link": link}, ["only"])}) as server:
        items = await walk(server, "/list")
    assert items[0].items == ("only",) and not items[0].has_next
    assert items[1].phase == "closed" and "stops here" in items[1].reason and len(items) == 2


async def test_rate_limit_reset_in_milliseconds_is_read_as_seconds():
    headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999", "x-ratelimit-reset": "1507651200000"}
    async with RawServer({"/r": (200, headers, [])}) as server:
        items = await walk(server, "/r")
    assert items[0].rate.reset == 1507651200 and items[0].rate.remaining == 4999


async def test_a_secondary_limit_403_is_recognised_by_its_message():
    async with RawServer({"/r": (403, {}, {"message": "You have exceeded a secondary rate limit."})}) as server:
        with pytest.raises(GitHubError, match="secondary rate limit still applies after 1"):
            await walk(server, "/r", secondary_wait_s=0.01, secondary_tries=1)
    assert len(server.requests) == 2


async def test_an_object_body_without_items_is_a_clear_error():
    async with RawServer({"/r": (200, {}, {"message": "surprise"})}) as server:
        with pytest.raises(GitHubError, match="other than a list"):
            await walk(server, "/r")


def test_parse_link_header_reads_github_and_rfc_forms():
    value = ('<https://api.github.com/repositories/1/issues?per_page=3&page=2>; rel="next", '
             '<https://api.github.com/repositories/1/issues?per_page=3&page=5>; rel="last"')
    assert parse_link_header(value) == {
        "next": "https://api.github.com/repositories/1/issues?per_page=3&page=2",
        "last": "https://api.github.com/repositories/1/issues?per_page=3&page=5"}
    assert parse_link_header('</a,b>; title="x, y"; rel="next prev"') == {"next": "/a,b", "prev": "/a,b"}
    assert parse_link_header("nonsense") is None
