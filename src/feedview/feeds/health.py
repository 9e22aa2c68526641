"""Polled health checks that back off, merged into one stream of samples.

Each check runs in a task of its own, so one slow or hanging endpoint never delays
the others. A check's next run is counted from the start of the previous one (a
slow answer does not drift the schedule); the interval resets on success, grows by
`multiplier` up to `max_interval` on failure, and every delay gets +/- `jitter` so
that many checks spread out instead of firing together. Closing the generator
cancels every task: nothing stays in flight or scheduled.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import ssl
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import httpx

from .. import __version__
from ..text import one_line
from .check_history import CheckHistory
from .conditions import Condition, Response, parse_condition

ErrorKind = Literal["timeout", "refused", "dns", "tls", "http", "condition", "other"]
CheckState = Literal["unknown", "healthy", "unstable", "unhealthy"]

HEALTHY_WORDS = frozenset({"pass", "ok", "up", "healthy"})
BODY_LIMIT = 256 * 1024  # enough for any health document; a huge page is read no further
DEFAULT_BACKOFF_CAP = 6  # max_interval defaults to this many intervals
FIRST_ROUND_SPACING = 0.005  # seconds between the first runs of many checks, at most


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
    url: str
    ok: bool
    status_code: int | None
    latency_ms: float | None
    error_kind: ErrorKind | None
    reason: str | None  # short human reason, None when ok
    state: CheckState = "unknown"  # after the flapping rules
    next_at: float | None = None  # epoch seconds of the next check
    stats: HealthStats | None = None
    name: str | None = None
    check_id: int | None = None  # the check's position in the feed's list (URLs may repeat)
    failures: int = 0  # consecutive failures, this sample included


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
        try:
            url = httpx.URL(self.url)
        except httpx.InvalidURL as exc:
            raise ValueError(f"{self.url!r} is not a valid URL: {exc}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"expected an http:// or https:// URL, got {self.url!r}")
        object.__setattr__(self, "method", self.method.upper())
        conditions = (self.conditions,) if isinstance(self.conditions, str) else tuple(self.conditions)
        object.__setattr__(self, "conditions", conditions)
        for name in ("interval", "timeout", "max_interval"):
            value = getattr(self, name)
            if value is not None and not 0 < value < float("inf"):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        for name in ("failures_to_trip", "successes_to_recover", "stats_window"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if not self.multiplier >= 1:
            raise ValueError(f"multiplier must be at least 1, got {self.multiplier!r}")
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
        check = replace(check, interval=check.interval or interval, timeout=check.timeout or timeout)
        if check.max_interval is None:
            check = replace(check, max_interval=check.interval * DEFAULT_BACKOFF_CAP)
        resolved.append(check)
    return resolved


async def health_feed(
    checks: Sequence[HealthCheck] | Sequence[str],
    *,
    interval: float = 10.0,
    timeout: float = 5.0,
    client: httpx.AsyncClient | None = None,
    **tuning: Any,
) -> AsyncGenerator[HealthSample, None]:
    """Every check's samples, merged, as they come. `tuning`: HealthCheck fields for
    the checks given as plain URLs (method, headers, conditions, failures_to_trip, ...)."""
    resolved = resolve_checks(checks, interval=interval, timeout=timeout, **tuning)
    # A client per check unless the caller shares one: httpcore's pool scans every
    # connection on each request, so one pool for hundreds of checks costs O(n) each.
    if client is None:
        tls = httpx.create_ssl_context()  # loading the CA bundle is slow: once, not per client
        owned = [_new_client(tls) for _ in resolved]
    else:
        owned = []
    clients = owned or [client] * len(resolved)
    samples: asyncio.Queue[HealthSample | BaseException] = asyncio.Queue()
    rng = random.Random()
    spacing = min(FIRST_ROUND_SPACING, min(c.interval for c in resolved) / len(resolved))
    tasks = [
        asyncio.create_task(_run_check(i, check, clients[i], samples, rng, first_delay=i * spacing))
        for i, check in enumerate(resolved)
    ]
    try:
        while True:
            item = await samples.get()
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(own.aclose() for own in owned), return_exceptions=True)


def _new_client(tls: ssl.SSLContext) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=tls, headers={"User-Agent": f"feedview/{__version__} (health check)"})


async def _run_check(
    index: int,
    check: HealthCheck,
    client: httpx.AsyncClient,
    samples: asyncio.Queue,
    rng: random.Random,
    first_delay: float,
) -> None:
    try:
        loop = asyncio.get_running_loop()
        conditions = check.parsed_conditions()
        history = CheckHistory(check.failures_to_trip, check.successes_to_recover, check.stats_window)
        due = loop.time() + first_delay
        while True:
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            started_mono, started = loop.time(), time.time()
            outcome = await _probe(client, check, conditions)
            history.record(started, outcome.ok, outcome.latency_ms, outcome.reason)
            # a probe that overran its slot starts the next one at once
            due = max(started_mono + _next_delay(check, history.failures, rng), loop.time())
            samples.put_nowait(
                HealthSample(
                    time=started,
                    url=check.url,
                    ok=outcome.ok,
                    status_code=outcome.status_code,
                    latency_ms=outcome.latency_ms,
                    error_kind=outcome.error_kind,
                    reason=outcome.reason,
                    state=history.state,
                    next_at=started + (due - started_mono),
                    stats=HealthStats(
                        uptime_pct=history.uptime_pct,
                        p50_ms=history.latency_percentile(0.50),
                        p95_ms=history.latency_percentile(0.95),
                        last_error=history.last_error,
                        last_change=history.last_change,
                        window=history.window,
                    ),
                    name=check.name,
                    check_id=index,
                    failures=history.failures,
                )
            )
    except Exception as exc:  # a bug, not a failed check: end the feed with it
        samples.put_nowait(exc)


def _next_delay(check: HealthCheck, failures: int, rng: random.Random) -> float:
    assert check.interval is not None and check.max_interval is not None
    delay = check.interval
    if failures:
        delay = min(check.interval * check.multiplier ** min(failures, 64), max(check.max_interval, check.interval))
    return delay * (1 + check.jitter * rng.uniform(-1.0, 1.0))


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    status_code: int | None
    latency_ms: float | None
    error_kind: ErrorKind | None
    reason: str | None


async def _probe(client: httpx.AsyncClient, check: HealthCheck, conditions: Sequence[Condition]) -> _Outcome:
    """Run one check once. Never raises for a failed check (only on cancellation)."""
    assert check.timeout is not None
    started = time.perf_counter()
    try:
        async with asyncio.timeout(check.timeout):
            async with client.stream(
                check.method, check.url, headers=check.headers, timeout=check.timeout
            ) as response:
                body = await _read_capped(response)
    except Exception as exc:
        kind, reason = _classify(exc, check)
        return _Outcome(False, None, None, kind, _clean(reason))
    latency_ms = (time.perf_counter() - started) * 1000
    answer = Response(response.status_code, latency_ms, body, response.headers)
    if conditions:
        failures = (c.failure(answer) for c in conditions)
        failed = next((f for f in failures if f is not None), None)
        kind: ErrorKind | None = "condition" if failed else None
    else:
        kind, failed = _default_condition(response, answer)
    return _Outcome(failed is None, response.status_code, round(latency_ms, 2), kind, _clean(failed))


async def _read_capped(response: httpx.Response) -> str:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= BODY_LIMIT:
            break
    return b"".join(chunks)[:BODY_LIMIT].decode(response.encoding or "utf-8", errors="replace")


def _default_condition(response: httpx.Response, answer: Response) -> tuple[ErrorKind | None, str | None]:
    """2xx, and a top-level JSON `status` (if any) that says healthy."""
    if not response.is_success:
        reason = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
        if response.is_redirect and "location" in response.headers:
            reason += f" to {response.headers['location']}"
        return "http", reason
    if not answer.body.lstrip().startswith("{"):
        return None, None
    try:
        document = json.loads(answer.body)
    except ValueError:
        return None, None
    status = document.get("status", "pass") if isinstance(document, dict) else "pass"
    if isinstance(status, str) and status.strip().lower() in HEALTHY_WORDS:
        return None, None
    return "condition", f"status {json.dumps(status)[:60]}"


def _classify(exc: Exception, check: HealthCheck) -> tuple[ErrorKind, str]:
    chain = _exception_chain(exc)
    if any(isinstance(e, (TimeoutError, httpx.TimeoutException)) for e in chain):
        return "timeout", f"no answer within {check.timeout:g} s"
    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError):
            return "tls", f"TLS: {error.verify_message or error.reason}"
        if isinstance(error, ssl.SSLError):
            return "tls", f"TLS: {error.reason or error}"
        if isinstance(error, socket.gaierror):
            return "dns", f"DNS: cannot resolve {httpx.URL(check.url).host}"
        if isinstance(error, ConnectionRefusedError):
            return "refused", "connection refused"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.DecodingError)):
        return "http", f"bad response: {exc}"
    if isinstance(exc, httpx.ConnectError):
        return "other", f"cannot connect: {exc}"
    if isinstance(exc, httpx.TransportError):
        return "other", f"connection lost: {exc or type(exc).__name__}"
    return "other", f"{type(exc).__name__}: {exc}"


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _clean(text: str | None, limit: int = 160) -> str | None:
    """Network text made safe for one line of a terminal, and bounded."""
    return None if text is None else one_line(text, limit)
