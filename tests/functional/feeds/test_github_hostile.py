"""The GitHub client and feeds against hostile or broken servers on loopback: bombs, nesting,
huge numbers, escapes in paths and messages, runaway waits, redirects and slow bodies."""

from __future__ import annotations

import functools
import itertools
import json
import time
import tracemalloc
import zlib
from contextlib import aclosing

import pytest
from servers import HOLD, RouteServer, ScriptedServer

from feedview.feeds.github import Repo, repo_pages
from feedview.feeds.github_client import MAX_BODY_BYTES, MAX_COUNT, GitHubClient, GitHubTuning, RateLimit
from feedview.feeds.github_notifications import MAX_POLL_INTERVAL_S, notification_threads
from feedview.feeds.github_pages import walk_pages
from feedview.feeds.state import FeedState

TOKEN = "t0ken"
QUICK = {
    "backoff_s": 0.01,
    "max_backoff_s": 0.02,
    "secondary_wait_s": 0.01,
    "max_wait_s": 0.05,
    "reset_slack_s": 0.0,
    "max_retries": 1,
}
UNSAFE = ("\x1b", "\x07", "\x9b", "\u202e", "\u200b", "\x7f")
ONE_REPO = [{"id": 1, "name": "x", "full_name": "mona/x"}]
CORRUPT_GZIP = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xff"  # a gzip header, then an invalid block


@functools.cache
def gzipped_zeros(size: int, layers: int = 1) -> bytes:
    """`size` zero bytes, gzipped `layers` times: a small body that decodes to a large one."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    body = b"".join(packer.compress(bytes(1 << 20)) for _ in range(size >> 20)) + packer.flush()
    for _ in range(layers - 1):
        body = zlib.compress(body, wbits=31)
    return body


async def walk(base_url: str, path: str = "/r", token: str | None = TOKEN, **tuning) -> list:
    client = GitHubClient(base_url, token, tuning=GitHubTuning(**{**QUICK, **tuning}))
    try:
        async with aclosing(walk_pages(client, path)) as pages:
            return [item async for item in pages]
    finally:
        await client.aclose()


def final_error(items: list) -> str:
    assert isinstance(items[-1], FeedState) and items[-1].phase == "error", items[-1:]
    reason = items[-1].reason
    assert "\n" not in reason and not any(c in reason for c in UNSAFE), reason
    return reason


async def peak_bytes(run) -> tuple[object, int]:
    """What `await run()` returns, and the most memory Python held meanwhile."""
    tracemalloc.start()
    try:
        result = await run()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- 1. bodies are read within bounds ---------------------------------------------------------------


async def test_a_gzip_bomb_is_cut_at_the_body_cap_without_decoding_it_all():
    bomb = gzipped_zeros(64 << 20)
    async with RouteServer({"/r": (200, {"Content-Encoding": "gzip"}, bomb)}) as server:
        items, peak = await peak_bytes(lambda: walk(server.base_url))
    assert [i.phase for i in items] == ["retrying", "error"] and len(server.requests) == 2
    assert "larger than 10 MiB" in final_error(items) and "/r" in items[-1].reason
    assert peak < 3 * MAX_BODY_BYTES  # 64 MiB were on offer
    assert server.requests[0][1]["accept-encoding"] == "gzip, deflate"


async def test_stacked_and_corrupt_encodings_are_refused_then_a_final_error():
    stacked = gzipped_zeros(64 << 20, layers=2)
    async with RouteServer(
        {
            "/stacked": (200, {"Content-Encoding": "gzip, gzip"}, stacked),
            "/corrupt": (200, {"Content-Encoding": "gzip"}, CORRUPT_GZIP),
            "/br": (200, {"Content-Encoding": "br"}, b"\x00"),
        }
    ) as server:
        stacked_items, peak = await peak_bytes(lambda: walk(server.base_url, "/stacked"))
        corrupt = await walk(server.base_url, "/corrupt")
        brotli = await walk(server.base_url, "/br")
    assert stacked_items[0].phase == "retrying" and "stacked" in final_error(stacked_items)
    assert peak < 8 << 20
    assert "corrupt" in final_error(corrupt) and "not asked for (br)" in final_error(brotli)


async def test_a_redirect_body_is_never_read():
    bomb = gzipped_zeros(64 << 20, layers=2)
    async with RouteServer({}) as server:
        server.routes.update(
            {
                "/r": (301, {"Location": f"{server.base_url}/moved", "Content-Encoding": "gzip, gzip"}, bomb),
                "/moved": (200, {}, ONE_REPO),
            }
        )
        items, peak = await peak_bytes(lambda: walk(server.base_url))
    assert len(items) == 1 and items[0].items == tuple(ONE_REPO) and items[0].url.endswith("/r")
    assert peak < 8 << 20
    assert [target for target, _ in server.requests] == ["/r", "/moved"]


async def test_an_error_body_is_read_only_in_part():
    bomb = gzipped_zeros(64 << 20)
    async with RouteServer(
        {
            "/r": (404, {"Content-Encoding": "gzip"}, bomb),
            "/big": (422, {}, json.dumps({"message": "no " * 50_000}).encode()),
        }
    ) as server:
        items, peak = await peak_bytes(lambda: walk(server.base_url))
        big = await walk(server.base_url, "/big")
    assert "not found (404)" in final_error(items) and peak < 8 << 20
    assert final_error(big).startswith("GitHub rejected the request (422): X")  # the reason phrase: no JSON in 64 KiB


# -- 2, 3. JSON that is no JSON: nesting bombs, 1e400, NaN -------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'[{"id": 1, "stargazers_count": 1e400}]',
        b'[{"id": 1, "stargazers_count": NaN}]',
        b'[{"id": Infinity}]',
    ],
)
async def test_json_that_is_not_plain_json_is_retried_then_a_final_error(body):
    async with RouteServer({"/r": (200, {}, body)}) as server:
        items = await walk(server.base_url)
    assert items[0].phase == "retrying" and "not JSON" in final_error(items) and len(server.requests) == 2


async def test_a_nesting_bomb_in_an_error_body_still_gives_the_error():
    async with RouteServer({"/r": (403, {}, b"[" * 100_000)}) as server:
        assert final_error(await walk(server.base_url)) == "forbidden (403): X"


def test_counts_are_whole_numbers_within_bounds_whatever_the_json_holds():
    repo = Repo.from_json(
        {"id": 2**63, "stargazers_count": 1e300, "forks_count": "9" * 5000, "open_issues_count": -5, "fork": True}
    )
    assert (repo.id, repo.stargazers_count, repo.forks_count, repo.open_issues_count) == (MAX_COUNT,) * 3 + (0,)
    nan = Repo.from_json({"id": True, "stargazers_count": float("nan"), "forks_count": float("inf")})
    assert (nan.id, nan.stargazers_count, nan.forks_count) == (0, 0, MAX_COUNT)


# -- 4. numbers in headers are parsed and clamped --------------------------------------------------


def test_rate_limit_headers_of_any_length_are_clamped():
    rate = RateLimit.from_headers(
        {
            "x-ratelimit-limit": "9" * 5000,
            "x-ratelimit-remaining": "-1",
            "x-ratelimit-used": "1e999",
            "x-ratelimit-reset": "9" * 5000,
            "x-ratelimit-resource": "core\x1b[2J\u202e",
        }
    )
    assert rate == RateLimit(limit=MAX_COUNT, remaining=None, used=None, reset=10**10, resource="core[2J")


async def test_huge_retry_after_and_reset_headers_neither_raise_nor_wait_long():
    answers = iter(
        [
            (429, {"Retry-After": "9" * 5000}, {"message": "slow down"}),
            (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9" * 5000}, {"message": "limit"}),
            (403, {"Retry-After": "1e300"}, {"message": "limit"}),
            (200, {"x-ratelimit-limit": "9" * 5000}, ONE_REPO),
        ]
    )
    async with RouteServer({"/r": lambda: next(answers)}) as server:
        items = await walk(server.base_url)
    assert [i.phase for i in items[:3]] == ["waiting"] * 3 and items[3].rate.limit == MAX_COUNT
    assert all(i.resume_at < time.time() + 1 for i in items[:3])  # max_wait_s is 0.05 here


async def test_a_limit_whose_reset_is_past_backs_off_instead_of_asking_again_at_once():
    past = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000"}
    answers = iter(
        [(403, past, {"message": "API rate limit exceeded"})] * 5
        + [(200, {}, ONE_REPO)]
        + [(429, {"Retry-After": "0"}, {"message": "slow"})] * 4
        + [(200, {}, ONE_REPO)]
    )
    times: list[float] = []

    def answer():
        times.append(time.monotonic())
        return next(answers)

    async with RouteServer({"/r": answer}) as server:
        tuning = {"backoff_s": 0.05, "max_backoff_s": 0.2, "max_wait_s": 60}
        reset_items = await walk(server.base_url, **tuning)
        retry_items = await walk(server.base_url, **tuning)
    assert [getattr(i, "phase", "page") for i in reset_items] == ["waiting"] * 5 + ["page"]
    assert [getattr(i, "phase", "page") for i in retry_items] == ["waiting"] * 4 + ["page"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # waits grow 0, 0.05, 0.1, 0.2, 0.2 (never shorter: sleeping does not end early)
    assert all(gap >= 0.9 * least for gap, least in zip(gaps[:5], [0, 0.05, 0.1, 0.2, 0.2], strict=True))
    assert all(gap >= 0.9 * least for gap, least in zip(gaps[6:10], [0, 0.05, 0.1, 0.2], strict=True))


async def notifications_once(poll_interval: str) -> FeedState:
    routes = {"/notifications?per_page=50": (200, {"X-Poll-Interval": poll_interval}, [])}
    async with (
        RouteServer(routes) as server,
        aclosing(notification_threads(base_url=server.base_url, token=TOKEN)) as threads,
    ):
        idle = await anext(threads)
    assert len(server.requests) == 1
    return idle


async def test_x_poll_interval_is_obeyed_within_bounds():
    usual = await notifications_once("60")
    assert usual.phase == "idle" and "GitHub asks for 60 s between checks" in usual.reason and usual.attempt == 0
    huge = await notifications_once("1e300")
    assert huge.phase == "idle" and huge.resume_at <= time.time() + MAX_POLL_INTERVAL_S
    assert "every 3600 s: GitHub asked for 1e300 s" in huge.reason
    tiny = await notifications_once("0.000001")
    assert "every 10 s: GitHub asked for 0.000001 s" in tiny.reason
    nonsense = await notifications_once("9" * 5000)
    assert "every 60 s" in nonsense.reason


# -- 5, 6, 7. what reaches a person: no escapes, no credentials, the token and only it redacted -------


async def test_a_link_path_with_escapes_is_shown_escaped():
    async with RouteServer({}) as server:
        evil = "/next%1B%5D0%3Bpwned%07%E2%80%AE%C2%9B/x"
        server.routes["/r"] = (200, {"Link": f'<{server.base_url}{evil}>; rel="next"'}, ONE_REPO)
        items = await walk(server.base_url)
    assert items[0].has_next and server.requests[1][0] == evil
    assert final_error(items) == f"not found (404): {evil} does not exist or the token cannot see it"


async def test_messages_from_github_are_sanitized():
    message = "bad \x1b]0;owned\x07 input \u202eevil\u200b \x9b31m"
    async with RouteServer({"/r": (422, {}, {"message": message, "errors": [{"message": "x\x1b[2Jy"}]})}) as server:
        reason = final_error(await walk(server.base_url))
    assert reason == "GitHub rejected the request (422): bad ]0;owned input evil 31m: x[2Jy"


async def test_the_token_is_redacted_where_it_stands_alone_and_nowhere_else():
    refused = {"/users/mona/repos": (401, {}, {"message": "token t is t-rex at t.example.com"})}
    async with RouteServer(refused) as server:
        reason = final_error(await walk(server.base_url, "/users/mona/repos", token="t"))
    assert reason == (
        "GitHub refused the token (401 token *** is t-rex at t.example.com): pass --token, set "
        "GH_ENTERPRISE_TOKEN or run `gh auth login --hostname 127.0.0.1` to give another"
    )  # (a server other than github.com: GH_TOKEN would never be sent to it)
    async with RouteServer({}) as server:
        reason = final_error(await walk(server.base_url, "/users/mona/repos", token="t"))
    assert "not found (404): /users/mona/repos" in reason


async def test_credentials_in_the_base_url_are_never_shown(unused_tcp_port):
    states = await walk(f"http://admin:hunter2@127.0.0.1:{unused_tcp_port}")
    assert [s.phase for s in states] == ["retrying", "error"]
    assert not any("hunter2" in s.reason for s in states) and "cannot reach 127.0.0.1" in states[-1].reason
    async with aclosing(repo_pages(owner="mona", base_url="http://admin:hunter2@[::1")) as pages:
        bad = [item async for item in pages]
    assert "hunter2" not in final_error(bad) and "http://***@[::1" in bad[0].reason


# -- 8. redirects, slow bodies, anything unexpected: states, never exceptions -------------------------


async def test_redirects_keep_the_token_at_home_and_are_bounded():
    async with RouteServer({}) as other, RouteServer({}) as server:
        other.routes["/elsewhere"] = (200, {}, ONE_REPO)
        server.routes.update(
            {
                "/r": (307, {"Location": "/same"}, b""),
                "/same": (302, {"Location": f"{other.base_url}/elsewhere"}, b""),
                "/loop": (301, {"Location": "/loop"}, b""),
            }
        )
        items = await walk(server.base_url)
        looping = await walk(server.base_url, "/loop")
    assert items[0].items == tuple(ONE_REPO)
    assert [h.get("authorization") for _, h in server.requests[:2]] == [f"Bearer {TOKEN}"] * 2
    assert "authorization" not in other.requests[0][1]
    assert "redirected more than 3 times" in final_error(looping) and len(looping) == 1


async def test_a_body_that_never_ends_meets_the_deadline(raw: ScriptedServer):
    raw.reply(b"[1,", HOLD, headers=[("Content-Type", "application/json")])
    items = await walk(raw.url, max_retries=0, deadline_s=0.2)
    assert "did not finish answering /r within 0.2s" in final_error(items)


async def test_a_link_last_that_is_no_url_is_ignored():
    async with RouteServer({"/r": (200, {"Link": '<http://[::1/x?page=2>; rel="last"'}, ONE_REPO)}) as server:
        items = await walk(server.base_url)
    assert len(items) == 1 and items[0].last_page is None and not items[0].has_next


async def test_anything_unexpected_ends_a_feed_with_an_error_state():
    async with aclosing(repo_pages(owner="mona", base_url="http://127.0.0.1:9", no_such_knob=1)) as pages:
        items = [item async for item in pages]
    assert "unexpected error (TypeError)" in final_error(items) and "no_such_knob" in items[0].reason


async def test_a_github_website_or_query_base_url_is_refused_before_any_request():
    for base_url, says in (("https://github.com", "api.github.com"), ("http://127.0.0.1:9/api?x=1", "no ?query")):
        async with aclosing(repo_pages(owner="mona", base_url=base_url)) as pages:
            items = [item async for item in pages]
        assert len(items) == 1 and says in final_error(items)


async def test_a_poll_reads_at_most_ten_pages_and_never_hammers(lab):
    """A server whose notifications never stop paging cannot hold a poll or make it hammer."""
    from feedview.feeds.github_notifications import MAX_PAGES_PER_POLL

    base = lab.url("/_knobs/escape_link=1")
    options = {"base_url": base, "token": "lab-token", "all": True, "min_poll_interval_s": 30}
    async with aclosing(notification_threads(**options)) as threads:
        async for item in threads:
            if isinstance(item, FeedState) and item.phase == "idle":
                break  # the first poll is over
    pages = [r for r in lab.state.requests if r.path.endswith("/notifications")]
    assert len(pages) == MAX_PAGES_PER_POLL == 10
    starts = sorted(r.time for r in pages)
    assert all(later - earlier >= 0.25 for earlier, later in itertools.pairwise(starts))
