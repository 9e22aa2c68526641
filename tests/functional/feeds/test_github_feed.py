"""The repos feed against the lab: laziness, Link following, tokens, rate limits, ETags, errors."""

from __future__ import annotations

import time
from contextlib import aclosing

import pytest

from feedview.feeds.github import EtagCache, Repo, RepoPage, repo_pages
from feedview.feeds.github_client import GitHubClient, GitHubTuning
from feedview.feeds.github_pages import Page, walk_pages
from feedview.feeds.state import FeedState
from feedview.lab import start_lab

TOKEN = "lab-token"
FAST = {"backoff_s": 0.01, "secondary_wait_s": 0.01, "reset_slack_s": 0.0, "max_wait_s": 0.05}


async def collect(agen, limit: int = 10_000) -> list:
    items = []
    async with aclosing(agen) as stream:
        async for item in stream:
            items.append(item)
            if len(items) >= limit:
                break
    return items


def pages_of(items) -> list:
    return [i for i in items if not isinstance(i, FeedState)]


def final_error(items) -> str:
    """The reason of the error a feed ended with (it must have ended with one)."""
    assert isinstance(items[-1], FeedState) and items[-1].phase == "error", items[-1:]
    assert not any(isinstance(i, FeedState) and i.phase == "error" for i in items[:-1])
    return items[-1].reason


def repo_requests(lab) -> list:
    return [r for r in lab.state.requests if r.path.endswith("/repos") or r.path.startswith("/search/")]


async def test_each_page_is_requested_only_when_asked_for(lab):
    async with aclosing(repo_pages(owner="octo-org", org=True, base_url=lab.base_url, token=TOKEN)) as pages:
        assert repo_requests(lab) == []
        first = await anext(pages)
        assert isinstance(first, RepoPage) and first.number == 1 and len(first.repos) == 30
        assert len(repo_requests(lab)) == 1
        second = await anext(pages)
        assert second.number == 2 and len(repo_requests(lab)) == 2
        assert {r.id for r in first.repos}.isdisjoint(r.id for r in second.repos)


async def test_walks_every_page_of_an_org_through_link_headers(lab):
    pages = pages_of(
        await collect(repo_pages(owner="octo-org", org=True, base_url=lab.base_url, token=TOKEN, per_page=100))
    )
    assert [p.number for p in pages] == list(range(1, 14))
    assert pages[0].last_page == 13 and pages[0].has_next and not pages[-1].has_next
    ids = [r.id for p in pages for r in p.repos]
    assert len(ids) == 1234 == len(set(ids))
    # GitHub's next link points elsewhere: the walker followed it as given
    paths = [r.path for r in repo_requests(lab)]
    assert paths[0] == "/orgs/octo-org/repos" and set(paths[1:]) == {"/organizations/9919/repos"}


async def test_user_repos_next_link_goes_to_the_numeric_path(lab):
    pages = pages_of(await collect(repo_pages(owner="mona", base_url=lab.base_url, per_page=20)))
    assert [len(p.repos) for p in pages] == [20, 20, 8]
    assert [r.path for r in repo_requests(lab)] == ["/users/mona/repos"] + ["/user/583231/repos"] * 2
    repo = pages[0].repos[0]
    assert repo.owner == "mona" and repo.full_name == f"mona/{repo.name}" and repo.visibility == "public"


async def test_my_repos_include_private_ones_and_need_a_token(lab):
    pages = pages_of(await collect(repo_pages(mine=True, base_url=lab.base_url, token=TOKEN, per_page=100)))
    repos = [r for p in pages for r in p.repos]
    assert len(repos) == 57 and sum(r.visibility == "private" for r in repos) == 9
    assert "need a token" in final_error(await collect(repo_pages(mine=True, base_url=lab.base_url, token=None)))
    assert repo_requests(lab)[-1].path == "/user/repos"  # no request was wasted on the refusal


async def test_a_consumer_that_stops_stops_the_requests(lab):
    async with aclosing(repo_pages(owner="octo-org", org=True, base_url=lab.base_url, token=TOKEN)) as pages:
        await anext(pages)
        await anext(pages)
    assert len(repo_requests(lab)) == 2


async def test_unauthenticated_pages_say_60_requests_an_hour(lab):
    page = pages_of(await collect(repo_pages(owner="hubot", base_url=lab.base_url), limit=1))[0]
    assert any("60 requests an hour" in note for note in page.notes)
    assert page.rate.limit == 60 and page.rate.remaining == 59 and page.rate.resource == "core"
    assert "authorization" not in repo_requests(lab)[0].headers


async def test_token_goes_as_bearer_to_its_own_origin(lab):
    await collect(repo_pages(owner="hubot", base_url=lab.base_url, token=TOKEN))
    record = repo_requests(lab)[0]
    assert record.headers["authorization"] == f"Bearer {TOKEN}"
    assert record.headers["accept"] == "application/vnd.github+json"
    assert record.headers["x-github-api-version"] == "2022-11-28"


async def test_next_link_to_another_origin_is_followed_without_the_token(lab):
    with start_lab(host="127.0.0.2") as other:
        items = await collect(
            walk_pages(
                GitHubClient(lab.base_url, TOKEN), "/users/mona/repos", {"per_page": 20, "link_origin": other.base_url}
            )
        )
        pages = pages_of(items)
        assert len(pages) == 3
        assert repo_requests(lab)[0].headers["authorization"] == f"Bearer {TOKEN}"
        assert len(repo_requests(other)) == 2
        assert all("authorization" not in r.headers for r in other.state.requests)
        assert "without the token" in pages[1].notes[0]


async def test_search_says_when_the_1000_cap_applies(make_lab):
    lab = make_lab(extra={"search_incomplete": True})
    pages = pages_of(await collect(repo_pages(search="org:octo-org", base_url=lab.base_url, token=TOKEN, per_page=100)))
    assert len(pages) == 10 and sum(len(p.repos) for p in pages) == 1000
    first = pages[0]
    assert first.capped and first.total_count > 1000 and first.incomplete_results
    assert any("first 1,000" in n for n in first.notes) and any("incomplete" in n for n in first.notes)


async def test_search_maps_direction_to_order(lab):
    pages = pages_of(
        await collect(
            repo_pages(search="language:Go", sort="stars", direction="asc", base_url=lab.base_url, token=TOKEN), limit=1
        )
    )
    stars = [r.stargazers_count for r in pages[0].repos]
    assert stars == sorted(stars)
    assert "order=asc" in repo_requests(lab)[0].query and not pages[0].capped


async def test_a_second_walk_with_the_cache_costs_no_rate_limit(lab):
    cache = EtagCache()
    options = {"owner": "mona", "base_url": lab.base_url, "token": TOKEN, "per_page": 20, "cache": cache}
    first = pages_of(await collect(repo_pages(**options)))
    again = pages_of(await collect(repo_pages(**options)))
    assert [p.from_cache for p in first] == [False] * 3 and [p.from_cache for p in again] == [True] * 3
    assert [r.id for p in again for r in p.repos] == [r.id for p in first for r in p.repos]
    assert again[-1].rate.remaining == first[-1].rate.remaining
    assert all(r.headers.get("if-none-match") for r in repo_requests(lab)[3:])


# -- rate limits, retries and final errors, through the lab's fault knobs -------------------------------


async def walk(lab, query: str, token: str | None = TOKEN, **tuning):
    client = GitHubClient(lab.base_url, token, tuning=GitHubTuning(**{**FAST, **tuning}))
    try:
        return await collect(walk_pages(client, f"/users/octocat/repos?{query}"))
    finally:
        await client.aclose()


async def test_retry_after_waits_then_resumes(lab):
    items = await walk(lab, "status=429&retry_after=0&fail_times=1")
    assert [type(i) for i in items] == [FeedState, Page]
    assert items[0].phase == "waiting" and "Retry-After" in items[0].reason and items[0].resume_at


async def test_exhausted_rate_limit_waits_until_reset_clamped(lab):
    items = await walk(lab, "ratelimit=1&reset_in=100000&fail_times=1", token=None)
    waiting = items[0]
    assert waiting.phase == "waiting" and "rate limit" in waiting.reason and "60 requests an hour" in waiting.reason
    assert waiting.resume_at < time.time() + 1  # clamped to max_wait_s, not the reset a day away
    assert isinstance(items[1], Page)


async def test_reset_in_the_past_means_no_negative_wait(lab):
    items = await walk(lab, "ratelimit=1&reset_in=-500&fail_times=1")
    assert items[0].phase == "waiting" and isinstance(items[1], Page)


async def test_secondary_limit_backs_off_growing_then_gives_up(lab):
    items = await walk(lab, "status=429&fail_times=2")
    assert [i.phase for i in items[:2]] == ["waiting", "waiting"] and "secondary" in items[0].reason
    assert items[1].attempt == 2 and isinstance(items[2], Page)
    assert "secondary rate limit still applies after 2" in final_error(await walk(lab, "status=429", secondary_tries=2))


async def test_5xx_retries_then_a_clear_error(lab):
    items = await walk(lab, "status=502&fail_times=2")
    assert [i.phase for i in items[:2]] == ["retrying", "retrying"] and isinstance(items[2], Page)
    reason = final_error(await walk(lab, "status=503", max_retries=2))
    assert "GitHub answered 503 3 times" in reason and "\n" not in reason


async def test_invalid_json_is_retried(lab):
    items = await walk(lab, "invalid_json=1&fail_times=1")
    assert items[0].phase == "retrying" and "not JSON" in items[0].reason and isinstance(items[1], Page)


async def test_network_errors_retry_then_fail(unused_tcp_port):
    client = GitHubClient(f"http://127.0.0.1:{unused_tcp_port}", TOKEN, tuning=GitHubTuning(**FAST, max_retries=1))
    seen = await collect(walk_pages(client, "/users/mona/repos"))
    await client.aclose()
    assert [s.phase for s in seen] == ["retrying", "error"] and "cannot reach 127.0.0.1" in seen[-1].reason


async def test_forbidden_is_final(lab):
    assert "forbidden (403)" in final_error(await walk(lab, "status=403"))


async def test_final_errors_are_one_clear_line_without_the_token(make_lab):
    lab = make_lab(require_token=True)
    assert "needs a token (401" in final_error(await collect(repo_pages(owner="mona", base_url=lab.base_url)))
    secret = "ghp_not-the-right-one"
    reason = final_error(await collect(repo_pages(owner="mona", base_url=lab.base_url, token=secret)))
    assert "refused the token" in reason and secret not in reason
    assert "not found (404)" in final_error(
        await collect(repo_pages(owner="nobody-here", base_url=lab.base_url, token=TOKEN))
    )
    client = GitHubClient(lab.base_url, TOKEN)
    assert "Only the first 1000" in final_error(await collect(walk_pages(client, "/search/repositories?q=cli&page=40")))
    await client.aclose()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"owner": "mona", "per_page": 101}, "per_page must be from 1 to 100"),
        ({"owner": "mona", "direction": "up"}, "asc or desc"),
        ({"owner": "mona", "sort": "stars"}, "sort by created"),
        ({"owner": "a/b"}, "not a GitHub user"),
        ({"search": "  "}, "empty"),
        ({}, "give an owner"),
    ],
)
async def test_bad_options_are_refused_before_any_request(lab, options, message):
    items = await collect(repo_pages(base_url=lab.base_url, **options))
    assert len(items) == 1 and message in final_error(items)
    assert repo_requests(lab) == []


async def test_a_used_up_limit_waits_for_the_reset_instead_of_asking_for_a_403(make_lab):
    lab = make_lab(rate_limit=2, rate_window_s=1.0)
    items = await collect(repo_pages(owner="mona", base_url=lab.base_url, token=TOKEN, per_page=20, reset_slack_s=0.0))
    assert [type(i).__name__ for i in items] == ["RepoPage", "RepoPage", "FeedState", "RepoPage"]
    assert items[2].phase == "waiting" and "used up" in items[2].reason
    assert len(repo_requests(lab)) == 3  # no request went out while the limit was spent


def test_repo_objects_are_read_leniently():
    repo = Repo.from_json(
        {
            "id": "junk",
            "stargazers_count": "5",
            "owner": None,
            "topics": "not-a-list",
            "license": {"spdx_id": "NOASSERTION", "name": "Other"},
            "private": True,
        }
    )
    assert (repo.id, repo.stargazers_count, repo.owner, repo.topics) == (0, 5, "", ())
    assert repo.license == "Other" and repo.visibility == "private" and hash(repo)
