"""The GitHub HTTP client every GitHub feed shares.

It resolves the token, sends it only to the base URL's origin, waits out rate
limits the way GitHub documents them, and retries 5xx and network errors. Its
one request primitive is an async generator, so the feeds built on it can hand
each wait and retry to their consumer as a FeedState while it happens.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import ssl
import subprocess
import time
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .. import __version__
from ..text import one_line
from .state import FeedState

DEFAULT_BASE_URL = "https://api.github.com"
UNAUTHENTICATED_NOTE = "no token: GitHub allows 60 requests an hour"
API_VERSION = "2022-11-28"


class GitHubError(Exception):
    """A final error: one line, never containing the token."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RateLimit:
    limit: int | None = None
    remaining: int | None = None
    used: int | None = None
    reset: int | None = None  # epoch seconds
    resource: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> "RateLimit":
        reset = _int(headers.get("x-ratelimit-reset"))
        if reset is not None and reset > 10**11:
            reset //= 1000  # some recordings (Octokit's fixtures) give milliseconds
        return cls(
            limit=_int(headers.get("x-ratelimit-limit")),
            remaining=_int(headers.get("x-ratelimit-remaining")),
            used=_int(headers.get("x-ratelimit-used")),
            reset=reset,
            resource=headers.get("x-ratelimit-resource"),
        )


@dataclass(frozen=True)
class Tuning:
    """How patient the client is. Defaults follow GitHub's guidance; tests shrink them."""

    max_retries: int = 3  # 5xx, network errors, unreadable JSON
    backoff_s: float = 1.0  # first retry wait, doubling
    max_backoff_s: float = 30.0
    secondary_wait_s: float = 60.0  # secondary limit with no hint: at least a minute, doubling
    secondary_tries: int = 3
    max_wait_s: float = 3600.0  # no reset or Retry-After is trusted beyond this
    reset_slack_s: float = 1.0  # x-ratelimit-reset has one-second resolution and clocks drift
    timeout_s: float = 30.0
    accept: str = "application/vnd.github+json"
    auth_scheme: str = "Bearer"


@dataclass(frozen=True)
class GitHubResponse:
    status: int  # 2xx or 304
    url: str
    headers: httpx.Headers
    data: Any  # parsed JSON; None for 304 and empty bodies
    rate: RateLimit
    authenticated: bool  # whether the token went with this request


def resolve_token(explicit: str | None = None, base_url: str = DEFAULT_BASE_URL,
                  environ: Mapping[str, str] | None = None) -> str | None:
    """The token to use, as gh finds it: --token, then the environment, then `gh auth token`.

    GH_TOKEN / GITHUB_TOKEN belong to github.com; for another host (GitHub Enterprise
    Server, the lab) only GH_ENTERPRISE_TOKEN / GITHUB_ENTERPRISE_TOKEN and gh's login
    for that host are used, so a github.com token never travels to another server.
    """
    if explicit and explicit.strip():
        return explicit.strip()
    env = os.environ if environ is None else environ
    host = httpx.URL(base_url).host
    dotcom = host in ("api.github.com", "github.com")
    names = ("GH_TOKEN", "GITHUB_TOKEN") if dotcom else ("GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")
    for name in names:
        if env.get(name, "").strip():
            return env[name].strip()
    return _gh_auth_token("github.com" if dotcom else host)


def _gh_auth_token(hostname: str) -> str | None:
    gh = shutil.which("gh")
    if gh is None:
        return None
    try:
        done = subprocess.run([gh, "auth", "token", "--hostname", hostname],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    token = done.stdout.strip()
    return token if done.returncode == 0 and token else None


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # loading the CA bundle costs ~50 ms: once per process, not once per feed
    return httpx.create_ssl_context()


def origin_of(url: str | httpx.URL) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    default = {"http": 80, "https": 443}.get(parsed.scheme)
    return parsed.scheme, parsed.host, parsed.port or default


class GitHubClient:
    """One base URL, one token, one httpx client (ours, or the caller's, left open)."""

    def __init__(self, base_url: str = DEFAULT_BASE_URL, token: str | None = None,
                 http: httpx.AsyncClient | None = None, tuning: Tuning | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = origin_of(self.base_url)
        self.token = token or None
        self.tuning = tuning or Tuning()
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(timeout=self.tuning.timeout_s, follow_redirects=True,
                                              verify=_tls_context())

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    def url(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> str:
        url = path_or_url if "://" in path_or_url else self.base_url + "/" + path_or_url.lstrip("/")
        if params:
            url = str(httpx.URL(url).copy_merge_params({k: v for k, v in params.items() if v is not None}))
        return url

    def sends_token_to(self, url: str) -> bool:
        return self.token is not None and origin_of(url) == self.origin

    def _headers(self, url: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {
            "Accept": self.tuning.accept,
            "User-Agent": f"feedview/{__version__}",
            "X-GitHub-Api-Version": API_VERSION,
        }
        if self.sends_token_to(url):
            headers["Authorization"] = f"{self.tuning.auth_scheme} {self.token}"
        headers.update(extra or {})
        return headers

    def spent_wait(self, rate: RateLimit) -> FeedState | None:
        """When the last response used up the rate limit, the wait before asking again (not a doomed 403)."""
        if rate.remaining != 0 or rate.reset is None or rate.reset <= time.time():
            return None
        wait = min(rate.reset - time.time() + self.tuning.reset_slack_s, self.tuning.max_wait_s)
        why = f"rate limit used up ({rate.limit} requests); waiting for it to reset"
        if self.token is None:
            why += f" ({UNAUTHENTICATED_NOTE}; a token raises it to 5,000)"
        return _state("waiting", why, wait, 1)

    def _scrub(self, text: str) -> str:
        text = one_line(text)
        return text.replace(self.token, "***") if self.token else text

    async def send(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                   json_body: Any = None) -> AsyncGenerator[FeedState | GitHubResponse]:
        """Yield a FeedState for every wait and retry, then exactly one GitHubResponse.

        Raises GitHubError when GitHub says no for good or the retries run out.
        """
        tuning = self.tuning
        failures = 0
        secondary = 0
        while True:
            try:
                response = await self.http.request(method, url, headers=self._headers(url, headers),
                                                   json=json_body)
            except httpx.TransportError as exc:
                failures += 1
                problem = f"cannot reach {httpx.URL(url).host}: {_describe(exc)}"
                if failures > tuning.max_retries:
                    raise GitHubError(self._scrub(problem)) from None
                wait = min(tuning.backoff_s * 2 ** (failures - 1), tuning.max_backoff_s)
                yield _state("retrying", f"{problem}; retry {failures} of {tuning.max_retries}", wait, failures)
                await asyncio.sleep(wait)
                continue

            rate = RateLimit.from_headers(response.headers)
            authenticated = "Authorization" in response.request.headers
            if response.status_code < 300 or response.status_code == 304:
                try:
                    data = response.json() if response.status_code != 304 and response.content else None
                except (json.JSONDecodeError, UnicodeDecodeError):
                    failures += 1
                    problem = f"GitHub sent a response that is not JSON ({_path(url)})"
                    if failures > tuning.max_retries:
                        raise GitHubError(problem, response.status_code) from None
                    wait = min(tuning.backoff_s * 2 ** (failures - 1), tuning.max_backoff_s)
                    yield _state("retrying", f"{problem}; retry {failures} of {tuning.max_retries}", wait, failures)
                    await asyncio.sleep(wait)
                    continue
                yield GitHubResponse(response.status_code, str(response.url), response.headers, data, rate,
                                     authenticated)
                return

            message = self._scrub(_message(response))
            limited = _rate_limit_wait(response, rate, tuning, secondary)
            if limited is not None:
                wait, why, is_secondary = limited
                if is_secondary:
                    secondary += 1
                    if secondary > tuning.secondary_tries:
                        raise GitHubError(f"GitHub's secondary rate limit still applies after {tuning.secondary_tries} "
                                          f"waits: {message}", response.status_code)
                if not authenticated:
                    why += f" ({UNAUTHENTICATED_NOTE}; a token raises it to 5,000)"
                yield _state("waiting", why, wait, secondary or 1)
                await asyncio.sleep(wait)
                continue
            if response.status_code >= 500:
                failures += 1
                problem = f"GitHub answered {response.status_code}"
                if failures > tuning.max_retries:
                    raise GitHubError(f"{problem} {tuning.max_retries + 1} times for {_path(url)}: {message}",
                                      response.status_code)
                wait = min(tuning.backoff_s * 2 ** (failures - 1), tuning.max_backoff_s)
                yield _state("retrying", f"{problem}; retry {failures} of {tuning.max_retries}", wait, failures)
                await asyncio.sleep(wait)
                continue
            raise GitHubError(_final_message(response.status_code, url, message, authenticated),
                              response.status_code)


def _rate_limit_wait(response: httpx.Response, rate: RateLimit, tuning: Tuning,
                     secondary: int) -> tuple[float, str, bool] | None:
    """(seconds, reason, secondary?) when the response is a rate limit, as GitHub documents it."""
    status = response.status_code
    if status not in (403, 429):
        return None
    retry_after = _float(response.headers.get("retry-after"))
    if retry_after is not None:
        wait = min(max(retry_after, 0.0), tuning.max_wait_s)
        return wait, f"GitHub asked to wait {_human(wait)} (Retry-After)", False
    if rate.remaining == 0 and rate.reset is not None:
        wait = min(max(rate.reset - time.time(), 0.0) + tuning.reset_slack_s, tuning.max_wait_s)
        used = f"all {rate.limit} requests" if rate.limit else "every request"
        return wait, f"rate limit reached: {used} of this window used", False
    if status == 429 or "secondary rate limit" in response.text.lower() or "abuse" in response.text.lower():
        wait = min(tuning.secondary_wait_s * 2 ** secondary, tuning.max_wait_s)
        return wait, "GitHub's secondary rate limit; backing off", True
    return None


def _final_message(status: int, url: str, message: str, authenticated: bool) -> str:
    path = _path(url)
    if status == 401:
        if authenticated:
            return f"GitHub refused the token (401 {message}): check --token, GH_TOKEN or `gh auth login`"
        return f"{path} needs a token (401 {message}): pass --token or set GH_TOKEN"
    if status == 404:
        return f"not found (404): {path} does not exist or the token cannot see it"
    if status == 422:
        return f"GitHub rejected the request (422): {message}"
    if status == 403:
        return f"forbidden (403): {message}"
    return f"GitHub answered {status} for {path}: {message}"


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no details"
    if not isinstance(body, dict):
        return response.reason_phrase or "no details"
    message = str(body.get("message") or response.reason_phrase or "no details")
    errors = body.get("errors")
    if isinstance(errors, list):
        details = [str(e.get("message") or e.get("code")) for e in errors if isinstance(e, dict)]
        details = [d for d in details if d and d != "None"]
        if details:
            message += ": " + "; ".join(details)
    return message


def _state(phase: str, reason: str, wait: float, attempt: int) -> FeedState:
    resume_at = time.time() + wait
    return FeedState(phase, f"{reason}; resuming at {time.strftime('%H:%M:%S', time.localtime(resume_at))}",  # type: ignore[arg-type]
                     resume_at=resume_at, attempt=attempt)


def _describe(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or failed"
    return one_line(str(exc) or type(exc).__name__, 80)


def _path(url: str) -> str:
    return one_line(httpx.URL(url).path, 120)


def _human(seconds: float) -> str:
    return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None
