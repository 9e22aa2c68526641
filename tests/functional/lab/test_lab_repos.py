"""The lab's GitHub-shaped repository endpoints, over real loopback HTTP with curl-like requests."""

from __future__ import annotations

import httpx

from feedview.lab.repos import ENDPOINTS

AUTH = {"Authorization": "Bearer lab-token"}
FIELDS = {
    "id",
    "name",
    "full_name",
    "owner",
    "html_url",
    "description",
    "fork",
    "archived",
    "language",
    "stargazers_count",
    "forks_count",
    "open_issues_count",
    "topics",
    "license",
    "visibility",
    "created_at",
    "updated_at",
    "pushed_at",
}


def links(response: httpx.Response) -> dict[str, str]:
    return {link["rel"]: link["url"] for link in response.links.values()}


def test_the_link_header_is_written_as_github_writes_it(lab):
    first = httpx.get(lab.url("/orgs/octo-org/repos?per_page=100"))
    org = f"{lab.base_url}/organizations/9919/repos"
    assert first.headers["link"] == (
        f'<{org}?per_page=100&page=2>; rel="next", <{org}?per_page=100&page=13>; rel="last"'
    )
    middle = httpx.get(links(first)["next"])
    assert middle.headers["link"] == (
        f'<{org}?per_page=100&page=1>; rel="prev", '
        f'<{org}?per_page=100&page=3>; rel="next", '
        f'<{org}?per_page=100&page=13>; rel="last", '
        f'<{org}?per_page=100&page=1>; rel="first"'
    )
    last = httpx.get(links(first)["last"])
    assert set(links(last)) == {"prev", "first"} and len(last.json()) == 34


def test_every_page_of_the_big_org_by_following_next(lab):
    url, names = lab.url("/orgs/octo-org/repos?per_page=100&sort=full_name"), []
    while url:
        response = httpx.get(url, headers=AUTH)
        names += [r["full_name"] for r in response.json()]
        url = links(response).get("next")
    assert len(names) == 1234 == len(set(names)) and names == sorted(names, key=str.lower)


def test_repo_objects_carry_githubs_field_names(lab):
    repo = httpx.get(lab.url("/users/octocat/repos")).json()[0]
    assert set(repo) >= FIELDS and repo["owner"]["login"] == "octocat"
    assert repo["html_url"] == f"https://github.com/{repo['full_name']}"
    assert repo["url"] == f"{lab.base_url}/repos/{repo['full_name']}"


def test_the_catalogue_is_the_same_every_run(make_lab):
    one, two = make_lab(), make_lab()
    first = httpx.get(one.url("/orgs/octo-org/repos?per_page=5")).json()
    assert [r["full_name"] for r in first] == [
        r["full_name"] for r in httpx.get(two.url("/orgs/octo-org/repos?per_page=5")).json()
    ]
    assert len({r["language"] for r in httpx.get(one.url("/orgs/octo-org/repos?per_page=100")).json()}) > 5


def test_user_repos_needs_the_token_and_pages_to_the_numeric_path(lab):
    assert httpx.get(lab.url("/user/repos")).status_code == 401
    response = httpx.get(lab.url("/user/repos?per_page=50"), headers=AUTH)
    assert links(response)["next"] == f"{lab.base_url}/user/583231/repos?per_page=50&page=2"
    rest = httpx.get(links(response)["next"], headers=AUTH).json()
    everything = response.json() + rest
    assert len(everything) == 57 and sum(r["private"] for r in everything) == 9
    public = httpx.get(lab.url("/users/mona/repos?per_page=100")).json()
    assert len(public) == 48 and not any(r["private"] for r in public)


def test_sort_and_direction(lab):
    repos = httpx.get(lab.url("/users/mona/repos?sort=pushed&direction=asc&per_page=100")).json()
    assert [r["pushed_at"] for r in repos] == sorted(r["pushed_at"] for r in repos)
    created = httpx.get(lab.url("/orgs/octo-org/repos")).json()  # orgs default: created, newest first
    assert [r["created_at"] for r in created] == sorted((r["created_at"] for r in created), reverse=True)
    assert httpx.get(lab.url("/users/mona/repos?sort=stars")).status_code == 422


def test_per_page_defaults_to_30_and_caps_at_100(lab):
    assert len(httpx.get(lab.url("/orgs/octo-org/repos")).json()) == 30
    assert len(httpx.get(lab.url("/orgs/octo-org/repos?per_page=500")).json()) == 100


def test_unknown_owner_and_user_as_org_are_404(lab):
    assert httpx.get(lab.url("/users/nobody/repos")).status_code == 404
    assert httpx.get(lab.url("/orgs/mona/repos")).json()["message"] == "Not Found"


def test_search_total_count_cap_and_incomplete_results(lab):
    response = httpx.get(lab.url("/search/repositories?q=org:octo-org&per_page=100&incomplete=1"), headers=AUTH)
    body = response.json()
    assert body["total_count"] > 1000 and body["incomplete_results"] is True and len(body["items"]) == 100
    assert links(response)["last"].endswith("page=10")
    assert response.headers["x-ratelimit-resource"] == "search" and response.headers["x-ratelimit-limit"] == "30"
    beyond = httpx.get(lab.url("/search/repositories?q=org:octo-org&per_page=100&page=11"), headers=AUTH)
    assert beyond.status_code == 422 and "first 1000" in beyond.json()["message"]
    assert httpx.get(lab.url("/search/repositories?q=")).status_code == 422


def test_search_qualifiers_and_sort(lab):
    body = httpx.get(
        lab.url("/search/repositories?q=language:rust+user:octo-org&sort=stars&order=asc&per_page=100")
    ).json()
    items = body["items"]
    assert items and all(r["language"] == "Rust" and r["owner"]["login"] == "octo-org" for r in items)
    assert [r["stargazers_count"] for r in items] == sorted(r["stargazers_count"] for r in items)
    assert not any(r["fork"] for r in items)  # GitHub leaves forks out unless fork:true


def test_rate_limit_counts_down_per_caller_and_304_is_free(lab):
    first = httpx.get(lab.url("/users/hubot/repos"))
    second = httpx.get(lab.url("/users/hubot/repos"))
    assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == ("60", "59")
    assert second.headers["x-ratelimit-remaining"] == "58" and second.headers["x-ratelimit-used"] == "2"
    cached = httpx.get(lab.url("/users/hubot/repos"), headers={"If-None-Match": second.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b"" and cached.headers["x-ratelimit-remaining"] == "58"
    authed = httpx.get(lab.url("/users/hubot/repos"), headers=AUTH)
    assert authed.headers["x-ratelimit-limit"] == "5000" and authed.headers["x-ratelimit-remaining"] == "4999"


def test_spent_rate_limit_is_a_403_with_reset(make_lab):
    lab = make_lab(rate_limit=2)
    codes = [httpx.get(lab.url("/users/hubot/repos"), headers=AUTH) for _ in range(3)]
    assert [c.status_code for c in codes] == [200, 200, 403]
    assert codes[2].headers["x-ratelimit-remaining"] == "0" and "rate limit exceeded" in codes[2].json()["message"]
    assert int(codes[2].headers["x-ratelimit-reset"]) > 0


def test_require_token_and_bad_credentials(make_lab):
    lab = make_lab(require_token=True)
    for path in ("/users/mona/repos", "/orgs/octo-org/repos", "/search/repositories?q=x", "/user/repos"):
        assert httpx.get(lab.url(path)).status_code == 401
    assert httpx.get(lab.url("/users/mona/repos"), headers={"Authorization": "token lab-token"}).status_code == 200
    wrong = httpx.get(lab.url("/users/mona/repos"), headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["message"] == "Bad credentials"


def test_link_origin_and_fault_knobs_ride_along_in_links(lab):
    response = httpx.get(lab.url("/users/mona/repos?per_page=10&delay=1&link_origin=http://127.0.0.2:9"))
    assert (
        links(response)["next"] == "http://127.0.0.2:9/user/583231/repos?per_page=10&delay=1&"
        "link_origin=http%3A%2F%2F127.0.0.2%3A9&page=2"
    )


def test_untrusted_text_is_served_as_is(lab):
    repos = httpx.get(lab.url("/users/hubot/repos?per_page=100")).json()
    hostile = next(r for r in repos if r["name"] == "escape-room")
    assert "\x1b[31m" in hostile["description"] and "[/]" in hostile["description"]


def test_endpoints_are_listed_for_the_lab_index(lab):
    listed = {e["path"] for e in httpx.get(lab.url("/")).json()["endpoints"]}
    assert {path for path, _ in ENDPOINTS} <= listed and "/user/repos" in listed
    limits = httpx.get(lab.url("/rate_limit")).json()["resources"]
    assert limits["core"]["limit"] == 60 and limits["search"]["limit"] == 10
