"""Lab endpoints: GitHub-shaped repository lists and repository search.

Per-request knobs besides the generic faults: `link_origin=URL` points the Link
header at another origin; `escape_link=1` puts escapes in its paths (github_api.py);
`incomplete=1` makes search say incomplete_results.
"""

from __future__ import annotations

import math
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import github_api as api
from .catalogue import OWNERS, Owner, catalogue, owner_by_id, owner_by_login
from .state import LabConfig, LabState

# (method and path, what it is) for `feedview lab` and the index page
ENDPOINTS: list[tuple[str, str]] = [
    ("/users/{owner}/repos", "a user's repos, GitHub-shaped (owners: " + ", ".join(o.login for o in OWNERS) + ")"),
    ("/orgs/{org}/repos", "an org's repos (octo-org has 1,234)"),
    ("/user/repos", "the token holder's repos, private ones too (needs the token)"),
    ("/search/repositories?q=", "repository search (user:, org:, language:, topic:, stars:>N), 1,000-result cap"),
    ("/rate_limit", "the caller's rate limits (free)"),
]

LIST_SORTS = {"created", "updated", "pushed", "full_name"}
SEARCH_SORTS = {
    "stars": "stargazers_count",
    "forks": "forks_count",
    "updated": "updated_at",
    "help-wanted-issues": "open_issues_count",
}
SEARCH_CAP = 1000


def _render(repo: dict[str, Any], request: Request, score: bool = False) -> dict[str, Any]:
    origin = f"{request.url.scheme}://{request.url.netloc}"
    rendered = dict(
        repo,
        url=f"{origin}/repos/{repo['full_name']}",
        forks=repo["forks_count"],
        open_issues=repo["open_issues_count"],
        watchers=repo["watchers_count"],
    )
    rendered["owner"] = dict(repo["owner"], url=f"{origin}/users/{repo['owner']['login']}")
    if score:
        rendered["score"] = 1.0
    return rendered


def _listing(owner: Owner, caller: api.Caller, seed: int) -> list[dict[str, Any]]:
    repos = catalogue(seed)[owner.login]
    return repos if caller.login == owner.login else [r for r in repos if not r["private"]]


def _sorted(repos: list[dict[str, Any]], sort: str, direction: str) -> list[dict[str, Any]]:
    key = "full_name" if sort == "full_name" else f"{sort}_at"
    return sorted(
        repos, key=lambda r: (r[key].lower() if sort == "full_name" else r[key], r["id"]), reverse=direction == "desc"
    )


def routes(config: LabConfig, state: LabState) -> list[Route]:
    def caller_or_401(request: Request) -> api.Caller | Response:
        return api.authenticate(request, config)

    def list_page(request: Request, caller: api.Caller, owner: Owner, link_path: str, default_sort: str) -> Response:
        sort = request.query_params.get("sort", default_sort)
        direction = request.query_params.get("direction", "asc" if sort == "full_name" else "desc")
        if sort not in LIST_SORTS or direction not in ("asc", "desc"):
            field = "sort" if sort not in LIST_SORTS else "direction"
            return api.error(
                422, "Validation Failed", errors=[{"resource": "Repository", "field": field, "code": "invalid"}]
            )
        page, per_page = api.page_params(request)
        repos = _sorted(_listing(owner, caller, config.seed), sort, direction)
        last = max(1, math.ceil(len(repos) / per_page))
        chunk = [_render(r, request) for r in repos[(page - 1) * per_page : page * per_page]]
        return api.respond(request, state, caller, "core", chunk, api.link_header(request, link_path, page, last))

    async def users_repos(request: Request) -> Response:
        caller = caller_or_401(request)
        if isinstance(caller, Response):
            return caller
        if "owner_id" in request.path_params:
            owner = owner_by_id(request.path_params["owner_id"])
        else:
            owner = owner_by_login(request.path_params["owner"])
        if owner is None:
            return api.error(404, "Not Found")
        return list_page(request, caller, owner, f"/user/{owner.id}/repos", "full_name")

    async def orgs_repos(request: Request) -> Response:
        caller = caller_or_401(request)
        if isinstance(caller, Response):
            return caller
        if "org_id" in request.path_params:
            owner = owner_by_id(request.path_params["org_id"])
        else:
            owner = owner_by_login(request.path_params["org"])
        if owner is None or owner.type != "Organization":
            return api.error(404, "Not Found")
        return list_page(request, caller, owner, f"/organizations/{owner.id}/repos", "created")

    async def my_repos(request: Request) -> Response:
        caller = caller_or_401(request)
        if isinstance(caller, Response):
            return caller
        if not caller.authenticated:
            return api.error(401, "Requires authentication")
        owner = owner_by_login(caller.login or "")
        assert owner is not None
        return list_page(request, caller, owner, f"/user/{owner.id}/repos", "full_name")

    async def search(request: Request) -> Response:
        caller = caller_or_401(request)
        if isinstance(caller, Response):
            return caller
        query = request.query_params.get("q", "").strip()
        if not query:
            return api.error(422, "Validation Failed", errors=[{"resource": "Search", "field": "q", "code": "missing"}])
        sort = request.query_params.get("sort")
        order = request.query_params.get("order", "desc")
        page, per_page = api.page_params(request)
        if (page - 1) * per_page >= SEARCH_CAP:
            return api.error(422, "Only the first 1000 search results are available")
        everything = [r for o in OWNERS for r in _listing(o, caller, config.seed)]
        found = [r for r in everything if _matches(r, query)]
        if sort in SEARCH_SORTS:
            field = SEARCH_SORTS[sort]
            found.sort(key=lambda r: (r[field], r["id"]), reverse=order != "asc")
        else:  # best match: stars stand in for relevance
            found.sort(key=lambda r: (-r["stargazers_count"], r["id"]))
        shown = min(len(found), SEARCH_CAP)
        last = max(1, math.ceil(shown / per_page))
        chunk = [_render(r, request, score=True) for r in found[(page - 1) * per_page : min(page * per_page, shown)]]
        body = {
            "total_count": len(found),
            "incomplete_results": request.query_params.get("incomplete") == "1"
            or bool(config.extra.get("search_incomplete")),
            "items": chunk,
        }
        return api.respond(
            request, state, caller, "search", body, api.link_header(request, "/search/repositories", page, last)
        )

    async def rate_limit(request: Request) -> Response:
        caller = caller_or_401(request)
        if isinstance(caller, Response):
            return caller
        resources = {}
        for resource in ("core", "search"):
            headers, _ = api.rate_headers(state, config, caller, resource)
            resources[resource] = {
                k.removeprefix("x-ratelimit-"): int(v) for k, v in headers.items() if k != "x-ratelimit-resource"
            }
        core, _ = api.rate_headers(state, config, caller, "core")
        return JSONResponse({"resources": resources, "rate": resources["core"]}, headers=core)

    return [
        Route("/users/{owner}/repos", users_repos),
        Route("/user/{owner_id:int}/repos", users_repos),
        Route("/orgs/{org}/repos", orgs_repos),
        Route("/organizations/{org_id:int}/repos", orgs_repos),
        Route("/user/repos", my_repos),
        Route("/search/repositories", search),
        Route("/rate_limit", rate_limit),
    ]


_QUALIFIER = re.compile(r"^(user|org|language|topic|stars|archived|fork|is):(.+)$", re.IGNORECASE)
_RANGE = re.compile(r"^(>=|<=|>|<)?(\d+)(?:\.\.(\d+))?$")


def _matches(repo: dict[str, Any], query: str) -> bool:
    """A small part of GitHub's search syntax: words plus a few qualifiers, all of which must hold.

    Like GitHub's, forks only show with fork:true or fork:only.
    """
    forks = "false"
    for term in query.split():
        qualifier = _QUALIFIER.match(term)
        if qualifier is None:
            text = " ".join([repo["name"], repo["description"] or "", *repo["topics"]]).lower()
            if term.lower() not in text:
                return False
            continue
        name, value = qualifier.group(1).lower(), qualifier.group(2).lower()
        if name in ("user", "org") and repo["owner"]["login"].lower() != value:
            return False
        if name == "language" and (repo["language"] or "").lower() != value:
            return False
        if name == "topic" and value not in repo["topics"]:
            return False
        if name == "archived" and repo["archived"] != (value == "true"):
            return False
        if name == "fork":
            forks = value
        if name == "is" and value in ("public", "private") and repo["visibility"] != value:
            return False
        if name == "stars" and not _in_range(repo["stargazers_count"], value):
            return False
    return {"true": True, "only": repo["fork"]}.get(forks, not repo["fork"])


def _in_range(number: int, spec: str) -> bool:
    match = _RANGE.match(spec)
    if match is None:
        return True
    op, low, high = match.group(1), int(match.group(2)), match.group(3)
    if high is not None:
        return low <= number <= int(high)
    return {">": number > low, ">=": number >= low, "<": number < low, "<=": number <= low, None: number == low}[op]
