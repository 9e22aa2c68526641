"""What every GitHub-shaped lab endpoint shares: the token, rate limits, ETags, Link headers.

Rate limits count per token (or per client address without one), per resource,
like GitHub's: core is LabConfig.rate_limit an hour with the token and 60
without; search is 30 a minute with it and 10 without. A 304 costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import weakref
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .catalogue import AUTHENTICATED_LOGIN
from .faults import PREFIX, flag, knobs
from .hostile import ESCAPE_SEGMENT
from .state import LabConfig, LabState

DOCS = "https://docs.github.com/rest"
UNAUTHENTICATED_CORE = 60
SEARCH_LIMITS = (30, 10)  # a minute, with and without the token


class RateLimiter:
    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}  # (who, resource) -> (reset, used)

    def peek(self, who: str, resource: str, limit: int, window_s: float) -> tuple[int, int, int]:
        """(limit, used, reset) without spending anything."""
        now = time.time()
        reset, used = self._windows.get((who, resource), (0.0, 0))
        if now >= reset:
            reset, used = now + window_s, 0
            self._windows[(who, resource)] = (reset, used)
        return limit, used, math.ceil(reset)

    def spend(self, who: str, resource: str) -> None:
        reset, used = self._windows[(who, resource)]
        self._windows[(who, resource)] = (reset, used + 1)


_limiters: weakref.WeakKeyDictionary[LabState, RateLimiter] = weakref.WeakKeyDictionary()


def limiter(state: LabState) -> RateLimiter:
    if state not in _limiters:
        _limiters[state] = RateLimiter()
    return _limiters[state]


class Caller:
    """Who is asking: the token holder, or an unauthenticated client address."""

    def __init__(self, login: str | None, who: str) -> None:
        self.login = login
        self.who = who

    @property
    def authenticated(self) -> bool:
        return self.login is not None


def error(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"message": message, "documentation_url": DOCS, "status": str(status), **extra},
        status_code=status,
        headers=headers,
    )


def authenticate(request: Request, config: LabConfig) -> Caller | Response:
    """The caller, or the 401 GitHub would answer."""
    header = request.headers.get("authorization")
    if header is None:
        if config.require_token:
            return error(401, "Requires authentication")
        client = request.client.host if request.client else "unknown"
        return Caller(None, f"ip:{client}")
    scheme, _, token = header.partition(" ")
    if scheme.lower() not in ("bearer", "token") or token.strip() != config.token:
        return error(401, "Bad credentials")
    return Caller(AUTHENTICATED_LOGIN, f"token:{token.strip()}")


def rate_headers(state: LabState, config: LabConfig, caller: Caller, resource: str) -> tuple[dict[str, str], bool]:
    """The x-ratelimit-* headers as they stand, and whether any request is left."""
    if resource == "search":
        limit, window = SEARCH_LIMITS[0 if caller.authenticated else 1], 60.0
    else:
        limit, window = (config.rate_limit if caller.authenticated else UNAUTHENTICATED_CORE), config.rate_window_s
    limit, used, reset = limiter(state).peek(caller.who, resource, limit, window)
    headers = {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(max(limit - used, 0)),
        "x-ratelimit-used": str(used),
        "x-ratelimit-reset": str(reset),
        "x-ratelimit-resource": resource,
    }
    return headers, used < limit


def spend(state: LabState, caller: Caller, resource: str, headers: dict[str, str]) -> None:
    """Count one request and move the headers on with it."""
    limiter(state).spend(caller.who, resource)
    headers["x-ratelimit-used"] = str(int(headers["x-ratelimit-used"]) + 1)
    headers["x-ratelimit-remaining"] = str(int(headers["x-ratelimit-remaining"]) - 1)


def rate_limited(caller: Caller, headers: dict[str, str]) -> JSONResponse:
    who = caller.who.removeprefix("ip:") if not caller.authenticated else "this token"
    hint = (
        ""
        if caller.authenticated
        else (
            " (But here's the good news: Authenticated requests get a higher "
            "rate limit. Check out the documentation for more details.)"
        )
    )
    return error(403, f"API rate limit exceeded for {who}.{hint}", headers)


def etag_of(body: bytes, *parts: str) -> str:
    digest = hashlib.sha1(body)
    for part in parts:
        digest.update(part.encode())
    return f'W/"{digest.hexdigest()}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    bare = etag.removeprefix("W/")
    return any(tag.strip() == "*" or tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


def common_headers(caller: Caller, scopes: str = "repo, notifications, read:org") -> dict[str, str]:
    headers = {
        "cache-control": f"{'private' if caller.authenticated else 'public'}, max-age=60, s-maxage=60",
        "vary": "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding",
        "x-github-media-type": "github.v3; format=json",
        "x-github-api-version-selected": "2022-11-28",
    }
    if caller.authenticated:
        headers["x-oauth-scopes"] = scopes
    return headers


def json_body(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def link_header(request: Request, path: str, page: int, last: int) -> str | None:
    """GitHub's Link header: prev, next, last, first, each keeping the request's other parameters.

    `path` may differ from the request's (GitHub's next link for /users/x/repos is
    /user/ID/repos). Links keep a /_knobs/ prefix. Knobs: `link_origin` points every link
    at another origin; `escape_link` puts percent-encoded ESC, BEL, U+202E and U+200B in
    their paths (in a /_knobs/ segment, so the lab still serves them) and always adds a next.
    """
    params = knobs(request.scope)
    escape = flag(params.get("escape_link"))
    if escape:
        last = max(last, page + 1)
    if last <= 1 and page <= 1:
        return None
    origin = params.get("link_origin") or f"{request.url.scheme}://{request.url.netloc}"
    prefix = request.scope.get("lab.prefix", "")
    if escape:
        prefix = f"{prefix}&{ESCAPE_SEGMENT}" if prefix else PREFIX + ESCAPE_SEGMENT
    kept = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != "page"]

    def url(number: int) -> str:
        return f"<{origin.rstrip('/')}{prefix}{path}?{urlencode([*kept, ('page', str(number))])}>"

    links = []
    if page > 1:
        links.append(f'{url(min(page - 1, last))}; rel="prev"')
    if page < last:
        links.append(f'{url(page + 1)}; rel="next"')
    if page != last:
        links.append(f'{url(last)}; rel="last"')
    if page > 1:
        links.append(f'{url(1)}; rel="first"')
    return ", ".join(links)


def page_params(request: Request) -> tuple[int, int]:
    """(page, per_page) the way GitHub reads them: junk means the default, per_page caps at 100."""

    def number(name: str, default: int) -> int:
        try:
            value = int(request.query_params.get(name, default))
        except ValueError:
            return default
        return value if value >= 1 else default

    return number("page", 1), min(number("per_page", 30), 100)


def respond(
    request: Request,
    state: LabState,
    caller: Caller,
    resource: str,
    data: Any,
    link: str | None,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """200 with ETag and rate headers, 304 on a matching If-None-Match (free), 403 when spent."""
    body = json_body(data)
    etag = etag_of(body, link or "", caller.who)
    rate, allowed = rate_headers(state, request.app.state.config, caller, resource)
    headers = {**common_headers(caller), **rate, "etag": etag, **(extra_headers or {})}
    if link:
        headers["link"] = link
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if not allowed:
        return rate_limited(caller, rate)
    spend(state, caller, resource, headers)
    return Response(body, status_code=200, headers=headers, media_type="application/json; charset=utf-8")
