"""The health feed on aiohttp (issue 14): a caller's session, proxies from the environment,
URL credentials as basic auth, and what the shared bounded decoder reads for any client."""

from __future__ import annotations

import contextlib
import gzip

import aiohttp
import pytest
from servers import RouteServer

from feedview.feeds.health import HealthCheck, HealthSample, _proxy_for, health_feed
from feedview.feeds.transport import BodyError, codings_of, read_decoded


async def first_samples(checks, n: int, **options) -> list[HealthSample]:
    taken: list[HealthSample] = []
    async with contextlib.aclosing(health_feed(checks, **options)) as feed:
        async for sample in feed:
            taken.append(sample)
            if len(taken) == n:
                return taken
    raise AssertionError("the feed ended early")


async def test_a_callers_aiohttp_session_is_used_and_left_open(lab):
    async with aiohttp.ClientSession() as session:
        [sample] = await first_samples([lab.url("/health/api")], 1, client=session)
        assert (sample.ok, sample.status_code, sample.format) == (True, 200, "IETF health+json")
        assert not session.closed
        async with session.get(lab.url("/health/api")) as response:
            assert response.status == 200


async def test_url_credentials_go_as_basic_auth_and_win_over_a_header():
    async with RouteServer({"/": (200, {}, {"status": "pass"})}) as server:
        base = server.base_url.replace("http://", "http://user:pa55word@")
        check = HealthCheck(base + "/", headers={"Authorization": "Bearer other"})
        [sample] = await first_samples([check], 1)
    assert sample.ok
    assert server.requests[0][1]["authorization"] == "Basic dXNlcjpwYTU1d29yZA=="  # user:pa55word


async def test_many_checks_share_one_session_and_each_gets_its_samples(lab):
    urls = [lab.url(f"/health/svc{i}") for i in range(50)]
    samples = await first_samples(urls, 100, interval=0.5, timeout=30)  # 100 requests a second: a busy machine keeps up
    assert {s.check_id for s in samples} == set(range(50))
    assert all(s.ok for s in samples), {s.reason for s in samples if not s.ok}


def test_the_environment_names_the_proxy_and_no_proxy_covers_hosts(monkeypatch):
    import httpx

    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    assert _proxy_for(httpx.URL("http://api.example/health")) == "http://proxy.example:3128"
    assert _proxy_for(httpx.URL("http://internal.example/health")) is None
    monkeypatch.delenv("HTTP_PROXY")
    assert _proxy_for(httpx.URL("http://api.example/health")) is None


def test_codings_are_read_from_every_header_value():
    assert codings_of(["gzip"]) == ["gzip"]
    assert codings_of(["identity, GZIP", " deflate "]) == ["gzip", "deflate"]
    assert codings_of([]) == []


async def pieces(*chunks: bytes):
    for chunk in chunks:
        yield chunk


async def test_read_decoded_bounds_any_clients_body():
    bomb = gzip.compress(b"0" * (4 * 1024 * 1024))
    body = await read_decoded(["gzip"], pieces(bomb[:100], bomb[100:]), 1000, truncate=True)
    assert body == b"0" * 1000
    assert await read_decoded([], pieces(b"ab", b"cd"), 10) == b"abcd"
    with pytest.raises(BodyError, match="ends before its end"):
        await read_decoded(["gzip"], pieces(gzip.compress(b"x" * 100)[:20]), 1000)


async def test_a_checks_own_accept_encoding_replaces_the_default_in_any_case():
    async with RouteServer({"/": (200, {}, {"status": "pass"})}) as server:
        check = HealthCheck(server.base_url + "/", headers={"accept-encoding": "identity"})
        [sample] = await first_samples([check], 1)
    assert sample.ok and server.requests[0][1]["accept-encoding"] == "identity"
