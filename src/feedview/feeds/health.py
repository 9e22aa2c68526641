"""Polled health checks that back off, merged into one stream of samples.

Each check runs in a task of its own, so one slow or hanging endpoint never delays
the others. A check's next run is counted from the start of the previous one (a
slow answer does not drift the schedule); the interval resets on success, grows by
`multiplier` up to `max_interval` on failure, and every delay gets +/- `jitter` so
that many checks spread out instead of firing together. Within that jitter, a check's
next run is moved to the nearest point of a shared grid (COALESCE_S apart, finer for
short intervals), so that checks due within a few milliseconds of each other share one
turn of the event loop: at 1,000 checks a second that saves a sixth of the CPU a sample
(docs/benchmarks.md); a check without jitter keeps its exact schedule. No delay is
shorter than MIN_DELAY_S or longer than a day, whatever the settings. Closing the
generator cancels every task: nothing stays in flight or scheduled.

Whatever happens inside one check stays there: a hostile answer (a nesting bomb, a
decompression bomb, a stacked encoding) is a failed sample with a one-line reason,
and so is a bug in reading an answer. A bug that stops a check ends only that
check (its last sample says so); the feed ends, with a final FeedState("error"),
only when every check has stopped. Only cancellation escapes the feed.

A sample's verdict comes from the check's conditions, or without them from the
default condition (health_verdicts.py: the HTTP status, and the health formats
people serve). Its state is the verdict after the flapping rules (check_history.py).
"""

from __future__ import annotations

import asyncio
import base64
import math
import random
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal
from urllib.request import getproxies, proxy_bypass

import aiohttp
import httpx
import msgspec
import yarl

from .. import __version__
from ..text import one_line, redact, redact_url
from .check_history import CheckHistory, CheckState, Verdict
from .conditions import Condition, Response, parse_condition
from .health_verdicts import read_answer
from .limits import MAX_WAIT_S, clamp
from .state import FeedState
from .transport import ACCEPT_ENCODING, BodyError, codings_of, network_failure, read_decoded, tls_context

__all__ = ["CheckState", "HealthCheck", "HealthSample", "HealthStats", "Verdict", "health_feed", "resolve_checks"]

ErrorKind = Literal["timeout", "refused", "dns", "tls", "http", "condition", "other"]

BODY_LIMIT = 256 * 1024  # enough for any health document; a huge page is read no further
DEFAULT_BACKOFF_CAP = 6  # max_interval defaults to this many intervals
FIRST_ROUND_SPACING = 0.005  # seconds between the first runs of many checks, at most
MIN_DELAY_S = 0.01  # no check runs more often than this, whatever its interval and jitter say
COALESCE_S = 0.01  # the grid that checks' runs are moved to, at most (within their jitter)
SECRET_HEADER_WORDS = ("auth", "cookie", "token", "key", "secret", "session", "password")


@dataclass(frozen=True)
class HealthStats:
    uptime_pct: float | None
    p50_ms: float | None
    p95_ms: float | None
    last_error: str | None
    last_change: float | None  # epoch seconds of the last state change
    window: int  # samples the stats cover


@dataclass(frozen=True)
class HealthSample:
    time: float  # epoch seconds when the check started
    url: str  # as configured, credentials included: show it only through text.redact_url
    ok: bool  # it passed: healthy or degraded
    status_code: int | None  # 0-999
    latency_ms: float | None
    error_kind: ErrorKind | None  # None unless it failed
    reason: str | None  # short human reason (cleaned, secrets as ***); None when healthy
    state: CheckState = "unknown"  # after the flapping rules
    next_at: float | None = None  # epoch seconds of the next check; None: the check has stopped
    stats: HealthStats | None = None
    name: str | None = None
    check_id: int | None = None  # the check's position in the feed's list (URLs may repeat)
    failures: int = 0  # consecutive failures, this sample included
    verdict: Verdict | None = None  # what this answer alone said (state: after the flapping rules)
    format: str | None = None  # the health format the default condition recognised, if any
    interval: float | None = None  # the check's own interval, before backoff and jitter


@dataclass(frozen=True)
class HealthCheck:
    """One endpoint to watch. `interval`/`timeout` None: the feed's values."""

    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    interval: float | None = None
    timeout: float | None = None
    conditions: Sequence[str] = ()  # see feeds/conditions.py; empty: the default condition
    name: str | None = None
    failures_to_trip: int = 1  # consecutive failures before the check reads unhealthy
    successes_to_recover: int = 1  # consecutive passes, after the retry, before it reads healthy
    max_interval: float | None = None  # backoff cap; None: DEFAULT_BACKOFF_CAP intervals
    multiplier: float = 1.5
    jitter: float = 0.1  # each delay varies by up to this fraction, either way
    stats_window: int = 100  # samples the rolling stats cover

    def __post_init__(self) -> None:
        shown = redact_url(self.url)
        try:
            url = httpx.URL(self.url)
        except httpx.InvalidURL as exc:
            raise ValueError(f"{shown!r} is not a valid URL: {one_line(redact(exc))}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"expected an http:// or https:// URL, got {shown!r}")
        object.__setattr__(self, "method", self.method.upper())
        conditions = (self.conditions,) if isinstance(self.conditions, str) else tuple(self.conditions)
        object.__setattr__(self, "conditions", conditions)
        for name in ("interval", "timeout", "max_interval"):
            value = getattr(self, name)
            if value is not None and not 0 < value < float("inf"):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
            if value is not None and value > MAX_WAIT_S:
                raise ValueError(f"{name} must be at most {MAX_WAIT_S:g} seconds (a day), got {value!r}")
        for name in ("failures_to_trip", "successes_to_recover", "stats_window"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if not 1 <= self.multiplier < float("inf"):
            raise ValueError(f"multiplier must be a number of at least 1, got {self.multiplier!r}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be from 0 to below 1, got {self.jitter!r}")
        self.parsed_conditions()  # a bad condition fails here, before any request

    def parsed_conditions(self) -> tuple[Condition, ...]:
        return tuple(parse_condition(text) for text in self.conditions)


TUNING_OPTIONS = frozenset(f.name for f in fields(HealthCheck)) - {"url", "name", "interval", "timeout"}


def resolve_checks(
    checks: Sequence[HealthCheck | str], *, interval: float, timeout: float, **tuning: Any
) -> list[HealthCheck]:
    """Checks with every setting filled in: URLs get `tuning`, all get the feed's interval/timeout
    where they have none. ValueError/TypeError (one line) on bad input."""
    unknown = set(tuning) - TUNING_OPTIONS
    if unknown:
        raise TypeError(f"health_feed() got unknown options: {', '.join(sorted(unknown))}")
    if isinstance(checks, (str, HealthCheck)):
        checks = [checks]
    if not checks:
        raise ValueError("no health checks to run")
    resolved = []
    for check in checks:
        if isinstance(check, str):
            check = HealthCheck(check, **tuning)
        own_interval = check.interval or interval
        max_interval = check.max_interval or own_interval * DEFAULT_BACKOFF_CAP
        resolved.append(
            replace(check, interval=own_interval, timeout=check.timeout or timeout, max_interval=max_interval)
        )
    return resolved


async def health_feed(
    checks: Sequence[HealthCheck] | Sequence[str],
    *,
    interval: float = 10.0,
    timeout: float = 5.0,
    client: aiohttp.ClientSession | None = None,
    **tuning: Any,
) -> AsyncGenerator[HealthSample | FeedState, None]:
    """Every check's samples, merged, as they come. `tuning`: HealthCheck fields for
    the checks given as plain URLs (method, headers, conditions, failures_to_trip, ...).
    A caller's `client` (an aiohttp session) is left open; the feed's own is closed.
    Yields a FeedState only at the end: "error" when every check has stopped."""
    resolved = resolve_checks(checks, interval=interval, timeout=timeout, **tuning)
    session = client or _new_session()
    samples: asyncio.Queue[HealthSample | _Stopped] = asyncio.Queue()
    rng = random.Random()
    spacing = min(FIRST_ROUND_SPACING, min(c.interval or interval for c in resolved) / len(resolved))
    tasks = [
        asyncio.create_task(_run_check(i, check, session, samples, rng, first_delay=i * spacing))
        for i, check in enumerate(resolved)
    ]
    stopped = 0
    try:
        while True:
            item = await samples.get()
            if isinstance(item, _Stopped):
                stopped += 1
                yield _stopped_sample(item, resolved[item.index])
                if stopped == len(tasks):
                    yield FeedState("error", reason=f"every check stopped: {item.reason}")
                    return
                continue
            yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if client is None:
            await session.close()


def _new_session() -> aiohttp.ClientSession:
    """The feed's one HTTP client: aiohttp, for its cost per request (a keep-alive GET takes a
    quarter of httpx's CPU: docs/benchmarks.md), with a pool keyed by host (cheap for any
    number of checks) and no limit on connections (each check holds at most one).

    Bodies come raw (auto_decompress off: transport.decoded bounds them), no cookies are
    kept (a check is a stateless probe), and no redirect is followed (a check reports one).
    Proxies come from the environment, looked up once per check (_Plan: aiohttp's trust_env
    would read the environment and ~/.netrc again on every request, in a thread)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, ssl=tls_context()),
        headers={"User-Agent": f"feedview/{__version__} (health check)"},
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=None),  # each check has its own (asyncio.timeout)
    )


@dataclass(frozen=True)
class _Stopped:
    """A check's task ended on a bug: its last word."""

    index: int
    reason: str  # one clean line


def _stopped_sample(stopped: _Stopped, check: HealthCheck) -> HealthSample:
    return HealthSample(
        time=time.time(),
        url=check.url,
        ok=False,
        status_code=None,
        latency_ms=None,
        error_kind="other",
        reason=_clean(f"the check stopped: {stopped.reason}"),
        state="unhealthy",
        name=check.name,
        check_id=stopped.index,
        verdict="unhealthy",
        interval=check.interval,
    )


@dataclass(frozen=True)
class _Plan:
    """What one check sends and how it reads the answers: worked out once, used every run."""

    check: HealthCheck
    conditions: tuple[Condition, ...]
    url: yarl.URL
    proxy: str | None  # from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY ...)
    headers: dict[str, str]
    path: str  # the URL's path, for the formats recognised by it (Vault, Consul)
    secrets: tuple[str, ...]  # never shown in a reason, whatever a server echoes

    @classmethod
    def of(cls, check: HealthCheck) -> _Plan:
        headers = httpx.Headers({"Accept-Encoding": ACCEPT_ENCODING})
        headers.update(check.headers)  # theirs win, in any case (a dict merge would join both values)
        url = httpx.URL(check.url)
        secrets = _secrets(check, url)
        if url.userinfo:  # the URL's credentials, as HTTP basic auth (they win over a header, as in httpx)
            token = base64.b64encode(f"{url.username}:{url.password}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
            url = url.copy_with(username=None, password=None)
        # (yarl takes the URL as httpx checked and quoted it)
        target = yarl.URL(str(url), encoded=True)
        return cls(check, check.parsed_conditions(), target, _proxy_for(url), dict(headers), url.path, secrets)


def _proxy_for(url: httpx.URL) -> str | None:
    """The proxy the environment names for this URL, or None (none, or NO_PROXY covers its host)."""
    proxies = getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if proxy is None or proxy_bypass(url.host):
        return None
    return proxy


def _secrets(check: HealthCheck, url: httpx.URL) -> tuple[str, ...]:
    """The URL's password and the values of headers that look like credentials (each whole
    value, and its last word: the token of `Bearer TOKEN`)."""
    secrets = [url.password] if url.password else []
    for name, value in check.headers.items():
        if any(word in name.lower() for word in SECRET_HEADER_WORDS):
            secrets += [value.strip(), value.split()[-1] if value.split() else ""]
    return tuple(s for s in secrets if len(s) >= 4)  # shorter ones would hide ordinary words


async def _run_check(
    index: int,
    check: HealthCheck,
    session: aiohttp.ClientSession,
    samples: asyncio.Queue,
    rng: random.Random,
    first_delay: float,
) -> None:
    try:
        loop = asyncio.get_running_loop()
        plan = _Plan.of(check)
        history = CheckHistory(check.failures_to_trip, check.successes_to_recover, check.stats_window)
        due = loop.time() + first_delay
        while True:
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            started_mono, started = loop.time(), time.time()
            try:
                outcome = await _probe(session, plan)
            except Exception as exc:  # a bug in reading this answer: a failed sample, and the next run as usual  # noqa: BLE001
                reason = _clean(f"internal error: {_describe(exc)}", plan.secrets)
                outcome = _Outcome("unhealthy", None, None, "other", reason)
            ok = outcome.verdict != "unhealthy"
            history.record(started, ok, outcome.latency_ms, outcome.reason, degraded=outcome.verdict == "degraded")
            # a probe that overran its slot starts the next one at once
            due = max(_next_due(check, history.failures, rng, started_mono), loop.time())
            p50_ms, p95_ms = history.latency_percentiles(0.50, 0.95)
            samples.put_nowait(
                HealthSample(
                    time=started,
                    url=check.url,
                    ok=ok,
                    status_code=outcome.status_code,
                    latency_ms=outcome.latency_ms,
                    error_kind=outcome.error_kind,
                    reason=outcome.reason,
                    state=history.state,
                    next_at=started + (due - started_mono),
                    stats=HealthStats(
                        uptime_pct=history.uptime_pct,
                        p50_ms=p50_ms,
                        p95_ms=p95_ms,
                        last_error=history.last_error,
                        last_change=history.last_change,
                        window=history.window,
                    ),
                    name=check.name,
                    check_id=index,
                    failures=history.failures,
                    verdict=outcome.verdict,
                    format=outcome.format,
                    interval=check.interval,
                )
            )
    except Exception as exc:  # a bug in the check's own machinery: this check stops, the others go on  # noqa: BLE001
        samples.put_nowait(_Stopped(index, _clean(_describe(exc)) or ""))


def _next_due(check: HealthCheck, failures: int, rng: random.Random, started: float) -> float:
    """When (on the loop's clock) the run after the one that started at `started` is due:
    the backed-off interval, jittered, within [MIN_DELAY_S, a day] later, moved to the
    nearest point of the shared grid when that point is still within the check's jitter
    and the delay's bounds (at the edges of the jitter it is not: those few runs keep
    their own time)."""
    base = _backed_off(check, failures)
    due = started + _jittered(check, base, rng)
    tick = min(COALESCE_S, base * check.jitter / 10)
    if tick > 0:
        on_grid = round(due / tick) * tick
        delay = on_grid - started
        if abs(delay - base) <= base * check.jitter and MIN_DELAY_S <= delay <= MAX_WAIT_S:
            return on_grid
    return due


def _backed_off(check: HealthCheck, failures: int) -> float:
    """interval x multiplier ** failures up to max_interval. Worked out in logarithms, so no
    power overflows, however many failures."""
    assert check.interval is not None and check.max_interval is not None
    if not failures:
        return check.interval
    cap = max(check.max_interval, check.interval)
    growth = failures * math.log(check.multiplier)
    return cap if math.log(check.interval) + growth >= math.log(cap) else check.interval * math.exp(growth)


def _jittered(check: HealthCheck, delay: float, rng: random.Random) -> float:
    """delay +/- the check's jitter, within [MIN_DELAY_S, a day]."""
    return clamp(delay * (1 + check.jitter * rng.uniform(-1.0, 1.0)), MIN_DELAY_S, MAX_WAIT_S)


class _Outcome(msgspec.Struct, frozen=True):
    """One run's result (a struct: one a sample, made in a fifth of a frozen dataclass's time)."""

    verdict: Verdict
    status_code: int | None
    latency_ms: float | None
    error_kind: ErrorKind | None
    reason: str | None  # None when healthy; why, when degraded or unhealthy
    format: str | None = None


async def _probe(session: aiohttp.ClientSession, plan: _Plan) -> _Outcome:
    """Run one check once. Never raises for a failed check (only on cancellation, or a bug)."""
    check = plan.check
    assert check.timeout is not None
    started = time.perf_counter()
    try:
        async with (
            asyncio.timeout(check.timeout),
            session.request(
                check.method, plan.url, headers=plan.headers, allow_redirects=False, proxy=plan.proxy
            ) as response,
        ):
            codings = codings_of(response.headers.getall("Content-Encoding", ()))
            raw = await read_decoded(codings, response.content.iter_any(), BODY_LIMIT, truncate=True)
    except Exception as exc:  # noqa: BLE001
        kind, reason = _classify(exc, check)
        return _Outcome("unhealthy", None, None, kind, _clean(reason, plan.secrets))
    status_code = int(clamp(response.status, 0, 999))
    answer = Response(status_code, (time.perf_counter() - started) * 1000, _text(raw, response), response.headers)
    if plan.conditions:
        return _by_conditions(plan, answer)
    return _by_default_condition(plan, answer, response.reason or "")


def _by_conditions(plan: _Plan, answer: Response) -> _Outcome:
    latency_ms = round(answer.response_time_ms, 2)
    failed = next((f for f in (c.failure(answer) for c in plan.conditions) if f is not None), None)
    if failed is None:
        return _Outcome("healthy", answer.status_code, latency_ms, None, None)
    return _Outcome("unhealthy", answer.status_code, latency_ms, "condition", _clean(failed, plan.secrets))


def _by_default_condition(plan: _Plan, answer: Response, reason_phrase: str) -> _Outcome:
    location = answer.headers.get("location")
    reading = read_answer(answer.status_code, reason_phrase, answer.body, path=plan.path, location=location)
    kind: ErrorKind | None = None
    if reading.verdict == "unhealthy":
        kind = "condition" if 200 <= answer.status_code < 300 else "http"
    reason = _clean(reading.reason, plan.secrets)
    return _Outcome(
        reading.verdict, answer.status_code, round(answer.response_time_ms, 2), kind, reason, reading.format
    )


def _text(raw: bytes, response: aiohttp.ClientResponse) -> str:
    """The body as text, in its declared charset where Python has that codec (else UTF-8)."""
    try:
        return raw.decode(response.charset or "utf-8", errors="replace")
    except (LookupError, ValueError):  # charset=rot13, charset=idna ...: not a text codec with `replace`
        return raw.decode("utf-8", errors="replace")


def _classify(exc: Exception, check: HealthCheck) -> tuple[ErrorKind, str]:
    if isinstance(exc, BodyError):
        return "http", str(exc)
    if isinstance(exc, (aiohttp.ClientResponseError, aiohttp.ClientPayloadError)):
        return "http", f"bad response: {_describe_aiohttp(exc)}"
    if not isinstance(exc, (aiohttp.ClientError, OSError, TimeoutError)):
        return "other", _describe(exc)
    kind, reason = network_failure(exc, httpx.URL(check.url).host)
    if kind == "other" and isinstance(exc, aiohttp.ClientConnectorError):
        reason = f"cannot connect: {exc.os_error.strerror or exc.os_error}"
    elif kind == "other" and isinstance(exc, aiohttp.ServerDisconnectedError):
        reason = "connection lost: the server closed the connection"
    if kind == "timeout":
        reason = f"no answer within {check.timeout:g} s"
    return kind, reason


def _describe_aiohttp(exc: aiohttp.ClientResponseError | aiohttp.ClientPayloadError) -> str:
    """aiohttp's own words for a broken answer, without the request it repeats."""
    text = exc.message if isinstance(exc, aiohttp.ClientResponseError) else str(exc)
    return str(text).split(", message=")[0] or type(exc).__name__


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _clean(text: str | None, secrets: Sequence[str] = (), limit: int = 160) -> str | None:
    """Network text made safe for one line of a terminal, bounded, with URL credentials and
    the check's secrets replaced by ***."""
    return None if text is None else one_line(redact(text, secrets), limit)
