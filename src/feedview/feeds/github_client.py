"""The GitHub HTTP client every GitHub feed shares.

It resolves the token, sends it only to the base URL's origin, waits out rate
limits the way GitHub documents them, and retries 5xx and network errors. Its
one request primitive is an async generator, so the feeds built on it can hand
each wait and retry to their consumer as a FeedState while it happens.

Nothing a server sends is trusted beyond fixed bounds: a body is read raw and
decoded here at most MAX_BODY_BYTES (an error's at most MAX_ERROR_BODY_BYTES),
redirects are followed by hand (httpx would read a redirect's body without
limit), every number in a header is parsed and clamped (feeds.limits), and
every line meant for a person is sanitized and has the token redacted.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from .. import __version__
from ..text import one_line, redact, redact_url
from .limits import MAX_WAIT_S, backoff, clamp, parse_int, parse_seconds
from .state import FeedState
from .transport import ACCEPT_ENCODING, BodyError, NotJson, loads_json, network_failure, read_body, tls_context

DEFAULT_BASE_URL = "https://api.github.com"
UNAUTHENTICATED_NOTE = "no token: GitHub allows 60 requests an hour"
API_VERSION = "2022-11-28"
MAX_BODY_BYTES = 10 * 1024 * 1024  # a page of 100 repos is ~0.5 MB: twenty times that is no answer GitHub gives
MAX_ERROR_BODY_BYTES = 64 * 1024  # an error's message and details; the rest is not read
MAX_REDIRECTS = 3  # an API moves a resource once (a renamed repo); a longer chain is a server at fault
MAX_COUNT = 2**53 - 1  # the largest count shown or printed (exact in every JSON reader, jq included)
_MAX_RESET = 10**13  # x-ratelimit-reset: epoch seconds, or milliseconds in some recordings


class GitHubError(Exception):
    """A final error: one line, never containing the token."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _Failed(Exception):
    """One attempt failed in a way that may pass on a retry (the network, an unreadable body)."""


@dataclass(frozen=True)
class RateLimit:
    limit: int | None = None
    remaining: int | None = None
    used: int | None = None
    reset: int | None = None  # epoch seconds
    resource: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit:
        reset = parse_int(headers.get("x-ratelimit-reset"), low=0, high=_MAX_RESET)
        if reset is not None and reset > 10**11:
            reset //= 1000  # some recordings (Octokit's fixtures) give milliseconds
        resource = headers.get("x-ratelimit-resource")
        return cls(
            limit=parse_int(headers.get("x-ratelimit-limit"), low=0, high=MAX_COUNT),
            remaining=parse_int(headers.get("x-ratelimit-remaining"), low=0, high=MAX_COUNT),
            used=parse_int(headers.get("x-ratelimit-used"), low=0, high=MAX_COUNT),
            reset=reset,
            resource=one_line(resource, 40) if resource is not None else None,
        )


@dataclass(frozen=True)
class GitHubTuning:
    """How patient the GitHub client is: retries, waits and timeouts. Defaults follow GitHub's
    guidance; tests shrink them, and a panel's config may set any of them."""

    max_retries: int = 3  # 5xx, network errors, unreadable bodies
    backoff_s: float = 1.0  # first retry wait, doubling
    max_backoff_s: float = 30.0
    secondary_wait_s: float = 60.0  # secondary limit with no hint: at least a minute, doubling
    secondary_tries: int = 3
    max_wait_s: float = 3600.0  # no reset or Retry-After is trusted beyond this
    reset_slack_s: float = 1.0  # x-ratelimit-reset has one-second resolution and clocks drift
    timeout_s: float = 30.0  # connecting, or waiting for the next bytes
    deadline_s: float = 120.0  # one whole request, redirects and body included
    min_poll_interval_s: float = 10.0  # notifications: X-Poll-Interval is obeyed from this up to an hour
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


@dataclass(frozen=True)
class _Answer:
    """One response, its body read within bounds (an error's body truncated, a redirect's never read)."""

    status: int
    url: str
    headers: httpx.Headers
    body: bytes
    reason_phrase: str
    authenticated: bool


def resolve_token(
    explicit: str | None = None, base_url: str = DEFAULT_BASE_URL, environ: Mapping[str, str] | None = None
) -> str | None:
    """The token to use, as gh finds it: --token, then the environment, then `gh auth token`.

    GH_TOKEN / GITHUB_TOKEN belong to github.com; for another host (GitHub Enterprise
    Server, the lab) only GH_ENTERPRISE_TOKEN / GITHUB_ENTERPRISE_TOKEN and gh's login
    for that host are used, so a github.com token never travels to another server.
    """
    if explicit and explicit.strip():
        return explicit.strip()
    env = os.environ if environ is None else environ
    try:
        host = httpx.URL(base_url).host
    except httpx.InvalidURL:
        return None  # no host to find a token for (the client reports the URL)
    dotcom = host in ("api.github.com", "github.com")
    names = ("GH_TOKEN", "GITHUB_TOKEN") if dotcom else ("GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")
    for name in names:
        if env.get(name, "").strip():
            return env[name].strip()
    return _gh_auth_token("github.com" if dotcom else host) if host else None


def _host(base_url: str) -> str:
    try:
        return httpx.URL(base_url).host
    except httpx.InvalidURL:
        return ""


def token_variable(base_url: str) -> str:
    """The variable gh reads a token from for this server: GH_TOKEN is github.com's only; any
    other host (GitHub Enterprise Server) takes GH_ENTERPRISE_TOKEN."""
    return "GH_TOKEN" if _host(base_url) in ("api.github.com", "github.com", "") else "GH_ENTERPRISE_TOKEN"


def token_advice(base_url: str) -> str:
    """How to give a token for this server, as gh takes one."""
    login = "`gh auth login`"
    if token_variable(base_url) != "GH_TOKEN":
        login = f"`gh auth login --hostname {one_line(_host(base_url), 80)}`"
    return f"pass --token, set {token_variable(base_url)} or run {login}"


def _gh_auth_token(hostname: str) -> str | None:
    gh = shutil.which("gh")
    if gh is None:
        return None
    try:
        done = subprocess.run(
            [gh, "auth", "token", "--hostname", hostname], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    token = done.stdout.strip()
    return token if done.returncode == 0 and token else None


def base_url_problem(base_url: str) -> str | None:
    """Why a URL cannot be a GitHub API root, as a line for the user (None when it can be one).

    What is particular to GitHub, and whether httpx can read it at all; that it is an
    http(s) URL with a host is the caller's check (the client refuses it too).
    """
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as exc:
        return f"not a URL ({one_line(redact(str(exc)), 80)})"
    if url.query or url.fragment or base_url.rstrip().endswith(("?", "#")):
        return "the API base URL takes no ?query or #fragment (GitHub Enterprise Server: https://HOST/api/v3)"
    if url.host in ("github.com", "www.github.com"):
        return "github.com is the website; its API is https://api.github.com (the default)"
    return None


_PARSED: dict[str, httpx.URL] = {}
_PARSED_KEPT = 64


def parsed_url(url: str | httpx.URL) -> httpx.URL:
    """httpx.URL(url), parsed once however often a walk asks (the request, the origin of the
    token, the next link, the page number, the loop check: ~50 us each time, in Python).
    A URL object given is kept under its string: the next link, joined, is not parsed again."""
    key = url if isinstance(url, str) else str(url)
    found = _PARSED.get(key)
    if found is None:
        found = url if isinstance(url, httpx.URL) else httpx.URL(url)
        if len(_PARSED) >= _PARSED_KEPT:
            del _PARSED[next(iter(_PARSED))]  # the oldest
        _PARSED[key] = found
    return found


def origin_of(url: str | httpx.URL) -> tuple[str, str, int | None]:
    parsed = parsed_url(url) if isinstance(url, str) else url
    default = {"http": 80, "https": 443}.get(parsed.scheme)
    return parsed.scheme, parsed.host, parsed.port or default


class GitHubClient:
    """One base URL, one token, one httpx client (ours, or the caller's, left open)."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        token: str | None = None,
        http: httpx.AsyncClient | None = None,
        tuning: GitHubTuning | None = None,
    ) -> None:
        """Raises GitHubError when base_url cannot be an API root."""
        self.token = token or None
        problem = base_url_problem(base_url)
        if problem is None and (origin_of(base_url)[0] not in ("http", "https") or not origin_of(base_url)[1]):
            problem = "expected an http:// or https:// URL with a host"
        if problem is not None:
            raise GitHubError(self._scrub(f"cannot use the base URL {redact_url(base_url)}: {problem}"))
        self.base_url = base_url.rstrip("/")
        self.origin = origin_of(self.base_url)
        self.tuning = tuning or GitHubTuning()
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(timeout=self.tuning.timeout_s, verify=tls_context())

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    def url(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> str:
        url = path_or_url if "://" in path_or_url else self.base_url + "/" + path_or_url.lstrip("/")
        if params:
            url = str(httpx.URL(url).copy_merge_params({k: v for k, v in params.items() if v is not None}))
        return url

    def sends_token_to(self, url: str | httpx.URL) -> bool:
        return self.token is not None and origin_of(url) == self.origin

    def _headers(self, url: str | httpx.URL, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {
            "Accept": self.tuning.accept,
            "Accept-Encoding": ACCEPT_ENCODING,  # not httpx's default, which grows with installed decoders
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
        wait = self._bounded(rate.reset - time.time() + self.tuning.reset_slack_s)
        why = f"rate limit used up ({rate.limit} requests); waiting for it to reset"
        if self.token is None:
            why += f" ({UNAUTHENTICATED_NOTE}; a token raises it to 5,000)"
        return self._state("waiting", why, wait, 1)

    def _scrub(self, text: str, limit: int = 300) -> str:
        """A line fit for a person: URL credentials and the token redacted, controls and bidi gone."""
        return one_line(redact(text, [self.token]), limit)

    def _state(self, phase: str, reason: str, wait: float, attempt: int) -> FeedState:
        resume_at = time.time() + wait
        line = self._scrub(f"{reason}; resuming at {time.strftime('%H:%M:%S', time.localtime(resume_at))}")
        return FeedState(phase, line, resume_at=resume_at, attempt=attempt)  # type: ignore[arg-type]

    def _bounded(self, wait: float) -> float:
        """A wait within [0, max_wait_s] (and never beyond a day, whatever the tuning says)."""
        return clamp(wait, 0.0, min(self.tuning.max_wait_s, MAX_WAIT_S))

    def _retry(self, failures: int, problem: str, final: str | None = None, status: int | None = None) -> FeedState:
        """The retry after `failures` consecutive failures; GitHubError (`final`, else `problem`)
        once the retries are used up."""
        tuning = self.tuning
        if failures > tuning.max_retries:
            raise GitHubError(self._scrub(final or problem), status)
        wait = self._bounded(backoff(tuning.backoff_s, failures, tuning.max_backoff_s))
        return self._state("retrying", f"{problem}; retry {failures} of {tuning.max_retries}", wait, failures)

    async def send(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None
    ) -> AsyncGenerator[FeedState | GitHubResponse]:
        """Yield a FeedState for every wait and retry, then exactly one GitHubResponse.

        Raises GitHubError when GitHub says no for good or the retries run out (a feed
        reports it in-band through errors_in_band).
        """
        tuning = self.tuning
        failures = 0
        secondary = 0
        limited = 0  # rate-limit waits so far
        while True:
            try:
                answer = await self._exchange(method, url, headers)
            except _Failed as exc:
                failures += 1
                state = self._retry(failures, str(exc))
                yield state
                await wait_out(state)
                continue

            rate = RateLimit.from_headers(answer.headers)
            if answer.status < 300 or answer.status == 304:
                try:
                    data = loads_json(answer.body) if answer.status != 304 and answer.body.strip() else None
                except NotJson as exc:
                    failures += 1
                    state = self._retry(
                        failures,
                        f"GitHub sent a response that is not JSON ({shown_path(url)}: {exc})",
                        status=answer.status,
                    )
                    yield state
                    await wait_out(state)
                    continue
                yield GitHubResponse(answer.status, answer.url, answer.headers, data, rate, answer.authenticated)
                return

            message = self._scrub(_message(answer), 200)
            wait_for = self._rate_limit_wait(answer, rate, secondary, limited)
            if wait_for is not None:
                wait, why, is_secondary = wait_for
                limited += 1
                if is_secondary:
                    secondary += 1
                    if secondary > tuning.secondary_tries:
                        raise GitHubError(
                            self._scrub(
                                f"GitHub's secondary rate limit still applies after "
                                f"{tuning.secondary_tries} waits: {message}"
                            ),
                            answer.status,
                        )
                if not answer.authenticated:
                    why += f" ({UNAUTHENTICATED_NOTE}; a token raises it to 5,000)"
                yield self._state("waiting", why, wait, secondary if is_secondary else limited)
                await asyncio.sleep(wait)
                continue
            if answer.status >= 500:
                failures += 1
                problem = f"GitHub answered {answer.status}"
                state = self._retry(
                    failures,
                    problem,
                    status=answer.status,
                    final=f"{problem} {failures} times for {shown_path(url)}: {message}",
                )
                yield state
                await wait_out(state)
                continue
            raise GitHubError(
                self._scrub(_final_message(answer.status, url, message, answer.authenticated)), answer.status
            )

    async def _exchange(self, method: str, url: str, extra: Mapping[str, str] | None) -> _Answer:
        """One request, its redirects followed by hand (the token only to its origin, no
        redirect body read), and the body read within bounds. Raises _Failed when it may pass."""
        try:
            async with asyncio.timeout(self.tuning.deadline_s):
                for _ in range(MAX_REDIRECTS + 1):
                    headers = self._headers(url, extra)
                    request = self.http.build_request(method, parsed_url(url), headers=headers)
                    response = await self.http.send(request, stream=True, follow_redirects=False)
                    try:
                        if response.next_request is not None:
                            method, url = response.next_request.method, str(response.next_request.url)
                            continue
                        body = await _body(response)
                    finally:
                        await response.aclose()
                    return _Answer(
                        response.status_code,
                        url,
                        response.headers,
                        body,
                        response.reason_phrase,
                        "Authorization" in headers,
                    )
        except TimeoutError:
            raise _Failed(
                f"GitHub did not finish answering {shown_path(url)} within {_human(self.tuning.deadline_s)}"
            ) from None
        except httpx.HTTPError as exc:
            host = httpx.URL(url).host
            raise _Failed(f"cannot reach {one_line(host, 80)}: {_describe(exc, host)}") from None
        except BodyError as exc:
            raise _Failed(f"GitHub's answer to {shown_path(url)} could not be read: {exc}") from None
        raise GitHubError(f"GitHub redirected more than {MAX_REDIRECTS} times, last to {shown_path(url)}")

    def _rate_limit_wait(
        self, answer: _Answer, rate: RateLimit, secondary: int, limited: int
    ) -> tuple[float, str, bool] | None:
        """(seconds, reason, secondary?) when the answer is a rate limit, as GitHub documents it.

        A limit met again after `limited` waits for it (a reset already past, Retry-After: 0)
        backs off like a failure (backoff_s, doubling up to max_backoff_s), whatever the
        server says: no server can make the client ask again at once, over and over.
        """
        if answer.status not in (403, 429):
            return None
        tuning = self.tuning
        again = backoff(tuning.backoff_s, limited, tuning.max_backoff_s) if limited else 0.0
        retry_after = parse_seconds(answer.headers.get("retry-after"), high=MAX_WAIT_S)
        if retry_after is not None:
            return (
                self._bounded(max(retry_after, again)),
                f"GitHub asked to wait {_human(retry_after)} (Retry-After)",
                False,
            )
        if rate.remaining == 0 and rate.reset is not None:
            until_reset = clamp(rate.reset - time.time(), 0.0, MAX_WAIT_S) + tuning.reset_slack_s
            used = f"all {rate.limit} requests" if rate.limit else "every request"
            return self._bounded(max(until_reset, again)), f"rate limit reached: {used} of this window used", False
        text = answer.body.decode("utf-8", "replace").lower()
        if answer.status == 429 or "secondary rate limit" in text or "abuse" in text:
            wait = self._bounded(backoff(tuning.secondary_wait_s, secondary + 1, tuning.max_wait_s))
            return wait, "GitHub's secondary rate limit; backing off", True
        return None


async def _body(response: httpx.Response) -> bytes:
    """The body within its bound: a success's whole (BodyError beyond MAX_BODY_BYTES), an
    error's first MAX_ERROR_BODY_BYTES (nothing when it cannot be decoded), a 304's none."""
    if response.status_code == 304:
        return b""
    if response.status_code < 300:
        return await read_body(response, MAX_BODY_BYTES)
    try:
        return await read_body(response, MAX_ERROR_BODY_BYTES, truncate=True)
    except BodyError:
        return b""


T = TypeVar("T")


async def errors_in_band(
    items: AsyncGenerator[T], *, secrets: Iterable[str | None] = (), explain: Callable[[GitHubError], str] | None = None
) -> AsyncGenerator[T | FeedState]:
    """A GitHub feed's items with its end made plain: a final error becomes FeedState("error",
    one line) as the last item, never an exception (cancellation and closing pass through).

    `explain` may add to a GitHubError's line (say, which token a 403 needs); anything
    unexpected is reported by its type and message, sanitized and with `secrets` redacted.
    """
    secrets = list(secrets)
    try:
        async with aclosing(items) as stream:
            async for item in stream:
                yield item
    except GitHubError as exc:
        yield FeedState("error", one_line(redact(explain(exc) if explain else str(exc), secrets), 400))
    except Exception as exc:  # a feed ends with a state, never a traceback  # noqa: BLE001
        reason = f"unexpected error ({type(exc).__name__}): {exc}"
        yield FeedState("error", one_line(redact(reason, secrets), 400))


def mapping(value: Any) -> Mapping[str, Any]:
    """A JSON object from GitHub, or an empty one when the value is something else."""
    return value if isinstance(value, Mapping) else {}


async def wait_out(state: FeedState) -> None:
    """Sleep until a retry's or wait's resume_at."""
    await asyncio.sleep(max((state.resume_at or 0.0) - time.time(), 0.0))


def echoable(value: str | None, limit: int = 256) -> str | None:
    """A response header's value fit to send back in a request (an ETag as If-None-Match,
    Last-Modified as If-Modified-Since): printable ASCII of a sane length, else None."""
    if value is None or len(value) > limit or not value.isascii() or not value.isprintable():
        return None
    return value


def _final_message(status: int, url: str, message: str, authenticated: bool) -> str:
    path = shown_path(url)
    if status == 401:
        if authenticated:
            return f"GitHub refused the token (401 {message}): {token_advice(url)} to give another"
        return f"{path} needs a token (401 {message}): {token_advice(url)}"
    if status == 404:
        return f"not found (404): {path} does not exist or the token cannot see it"
    if status == 422:
        return f"GitHub rejected the request (422): {message}"
    if status == 403:
        return f"forbidden (403): {message}"
    return f"GitHub answered {status} for {path}: {message}"


def _message(answer: _Answer) -> str:
    """GitHub's own words for an error (message, then the errors' messages); the caller sanitizes."""
    fallback = answer.reason_phrase or "no details"
    try:
        body = loads_json(answer.body)
    except NotJson:
        return fallback
    if not isinstance(body, dict):
        return fallback
    message = str(body.get("message") or fallback)
    errors = body.get("errors")
    if isinstance(errors, list):
        details = [str(e.get("message") or e.get("code")) for e in errors if isinstance(e, dict)]
        details = [d for d in details if d and d != "None"]
        if details:
            message += ": " + "; ".join(details)
    return message


def _describe(exc: httpx.HTTPError, host: str) -> str:
    return one_line(redact(network_failure(exc, host)[1]), 80)


def shown_path(url: str) -> str:
    """A URL's path for a message, as it went on the wire: percent escapes stay escapes (so
    no %1B decodes into an escape), then sanitized, credentials redacted."""
    try:
        raw = httpx.URL(url).raw_path.split(b"?", 1)[0].decode("ascii", "replace")
    except httpx.InvalidURL:
        raw = url
    return one_line(redact_url(raw), 120)


def _human(seconds: float) -> str:
    return f"{round(seconds, 1):g}s" if seconds < 120 else f"{seconds / 60:.0f} min"
