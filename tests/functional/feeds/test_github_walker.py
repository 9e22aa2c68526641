"""The generic page walker against a byte-exact loopback server: Link headers GitHub's way and broken ones."""

from __future__ import annotations

from contextlib import aclosing

import pytest
from servers import RouteServer

from feedview.feeds.github_client import GitHubClient, GitHubTuning
from feedview.feeds.github_pages import Page, parse_link_header, walk_pages
from feedview.feeds.state import FeedState


async def walk(server: RouteServer, path: str, **tuning) -> list:
    client = GitHubClient(server.base_url, "t0ken", tuning=GitHubTuning(backoff_s=0.01, **tuning))
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
    async with RouteServer(routes) as server:
        items = await walk(server, "/events")
    assert [(p.number, p.items, p.has_next) for p in items] == [(1, (1, 2), True), (2, (3,), False)]
    assert [t for t, _ in server.requests] == ["/events", "/events?after=Y3Vyc29y"]


async def test_a_next_link_back_to_a_seen_page_ends_cleanly():
    async with RouteServer({}) as server:
        server.routes.update(
            {
                "/items?per_page=2": (200, {"Link": f'<{server.base_url}/items?page=2&per_page=2>; rel="next"'}, [1]),
                "/items?page=2&per_page=2": (200, {"Link": f'<{server.base_url}/items?per_page=2>; rel="next"'}, [2]),
            }
        )
        items = await walk(server, "/items?per_page=2")
    assert [type(i) for i in items] == [Page, Page, FeedState]
    assert not items[1].has_next and items[2].phase == "closed" and "already shown" in items[2].reason
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "link",
    [
        '<http://x/a>; rel="next", garbage',
        "<unterminated; rel=next",
        '<>; rel="next"',
        '<javascript:alert(1)>; rel="next"',
    ],
)
async def test_a_malformed_link_header_ends_the_walk_after_its_page(link):
    async with RouteServer({"/list": (200, {"Link": link}, ["only"])}) as server:
        items = await walk(server, "/list")
    assert items[0].items == ("only",) and not items[0].has_next
    assert items[1].phase == "closed" and "stops here" in items[1].reason and len(items) == 2


async def test_rate_limit_reset_in_milliseconds_is_read_as_seconds():
    headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999", "x-ratelimit-reset": "1507651200000"}
    async with RouteServer({"/r": (200, headers, [])}) as server:
        items = await walk(server, "/r")
    assert items[0].rate.reset == 1507651200 and items[0].rate.remaining == 4999


async def test_a_secondary_limit_403_is_recognised_by_its_message():
    async with RouteServer({"/r": (403, {}, {"message": "You have exceeded a secondary rate limit."})}) as server:
        items = await walk(server, "/r", secondary_wait_s=0.01, secondary_tries=1)
    assert items[-1].phase == "error" and "secondary rate limit still applies after 1" in items[-1].reason
    assert len(server.requests) == 2


async def test_an_object_body_without_items_is_a_clear_error():
    async with RouteServer({"/r": (200, {}, {"message": "surprise"})}) as server:
        items = await walk(server, "/r")
    assert len(items) == 1 and items[0].phase == "error" and "other than a list" in items[0].reason


def test_parse_link_header_reads_github_and_rfc_forms():
    value = (
        '<https://api.github.com/repositories/1/issues?per_page=3&page=2>; rel="next", '
        '<https://api.github.com/repositories/1/issues?per_page=3&page=5>; rel="last"'
    )
    assert parse_link_header(value) == {
        "next": "https://api.github.com/repositories/1/issues?per_page=3&page=2",
        "last": "https://api.github.com/repositories/1/issues?per_page=3&page=5",
    }
    assert parse_link_header('</a,b>; title="x, y"; rel="next prev"') == {"next": "/a,b", "prev": "/a,b"}
    assert parse_link_header("nonsense") is None
