"""The health feed over real loopback HTTP: the lab, or a raw asyncio server for exact bytes."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from servers import free_port, samples_of, take_samples, wait_until

from feedview.feeds.conditions import ConditionError
from feedview.feeds.health import HealthCheck, HealthSample, health_feed


def http_response(status: int = 200, body: bytes = b"", *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@contextlib.asynccontextmanager
async def raw_server(answers: dict[str, bytes]) -> AsyncIterator[str]:
    """Answers each request for a path with exactly the bytes given for it."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                writer.write(answers[head.split(b" ")[1].decode()])
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


# --- what a sample says ------------------------------------------------------------------


async def test_a_passing_check(lab):
    [sample] = await samples_of([lab.url("/health/api")], 1)
    assert sample.ok and sample.status_code == 200 and sample.latency_ms > 0
    assert sample.error_kind is None and sample.reason is None
    assert sample.state == "healthy" and sample.next_at > sample.time
    assert sample.check_id == 0 and sample.failures == 0
    assert sample.stats.window == 1 and sample.stats.uptime_pct == 100.0
    assert sample.stats.p50_ms == sample.latency_ms and sample.stats.last_change == sample.time


async def test_a_non_2xx_answer_is_an_http_error(lab):
    [sample] = await samples_of([lab.url("/health/legacy")], 1)
    assert not sample.ok and sample.status_code == 503
    assert sample.error_kind == "http" and sample.reason == "HTTP 503 Service Unavailable"
    assert sample.state == "unhealthy" and sample.stats.last_error == sample.reason


async def test_a_warn_document_is_degraded_not_failed(lab):
    [sample] = await samples_of([lab.url("/health/x?report=warn")], 1)
    assert (sample.ok, sample.status_code, sample.verdict, sample.state) == (True, 200, "degraded", "degraded")
    assert (sample.error_kind, sample.reason) == (None, 'status "warn" (x:responseTime)')
    assert sample.format == "IETF health+json" and sample.failures == 0 and sample.stats.last_error is None


async def test_the_default_condition_reads_a_top_level_json_status():
    answers = {
        "/pass": http_response(200, b'{"status": "pass"}'),
        "/healthy": http_response(200, b'{"status": " Healthy "}'),
        "/up": http_response(200, b'{"status": "UP"}'),
        "/ok": http_response(200, b'{"status": "ok", "checks": {}}'),
        "/no-status": http_response(200, b'{"version": "1"}'),
        "/text": http_response(200, b"all good"),
        "/down": http_response(200, b'{"status": "DOWN"}'),
        "/number": http_response(200, b'{"status": 1}'),
        "/nested-only": http_response(200, b'{"db": {"status": "down"}}'),
    }
    async with raw_server(answers) as base:
        samples = await samples_of([base + path for path in answers], len(answers))
    verdicts = {s.url.rsplit("/", 1)[1]: (s.ok, s.reason) for s in samples}
    assert verdicts == {
        "pass": (True, None),
        "healthy": (True, None),
        "up": (True, None),
        "ok": (True, None),
        "no-status": (True, None),
        "text": (True, None),
        "nested-only": (True, None),
        "down": (False, 'status "DOWN"'),
        "number": (False, "status 1"),
    }


async def test_network_text_in_a_reason_is_made_safe():
    body = json.dumps({"status": "\x1b[31mdown\x07\nnow"}).encode()
    async with raw_server({"/": http_response(200, body)}) as base:
        [sample] = await samples_of([base + "/"], 1)
    assert not sample.ok
    assert not any(ord(c) < 32 or ord(c) == 127 for c in sample.reason)
    assert "down" in sample.reason


async def test_redirects_are_reported_not_followed():
    async with raw_server({"/": http_response(301, b"", "Location: https://elsewhere.example/")}) as base:
        [sample] = await samples_of([base + "/"], 1)
    assert sample.error_kind == "http" and sample.status_code == 301
    assert sample.reason.endswith("to https://elsewhere.example/")


# --- error kinds -------------------------------------------------------------------------


async def test_connection_refused():
    [sample] = await samples_of([f"http://127.0.0.1:{free_port()}/"], 1)
    assert (sample.ok, sample.status_code) == (False, None)
    assert (sample.error_kind, sample.reason) == ("refused", "connection refused")
    assert sample.latency_ms is None


async def test_dns_failure():
    [sample] = await samples_of(["http://no-such-host.invalid/health"], 1)
    assert sample.error_kind == "dns" and "no-such-host.invalid" in sample.reason


async def test_tls_failure(lab):
    [sample] = await samples_of([lab.url("/health/api").replace("http://", "https://")], 1)
    assert sample.error_kind == "tls" and sample.reason.startswith("TLS: ")


async def test_timeout(lab):
    [sample] = await samples_of([lab.url("/health/slow?latency_ms=60000")], 1, timeout=0.2)
    assert (sample.error_kind, sample.reason, sample.status_code) == ("timeout", "no answer within 0.2 s", None)


async def test_a_garbled_answer_is_an_http_error():
    async with raw_server({"/": b"this is not HTTP\r\n\r\n"}) as base:
        [sample] = await samples_of([base + "/"], 1)
    assert sample.error_kind == "http" and sample.reason.startswith("bad response")


# --- conditions, method, headers ---------------------------------------------------------


async def test_configured_conditions_replace_the_default(lab):
    check = HealthCheck(lab.url("/health/legacy"), conditions=["[STATUS] == 503", "[BODY].status == fail"])
    [sample] = await samples_of([check], 1)
    assert sample.ok and sample.status_code == 503


async def test_a_failed_condition_names_itself(lab):
    check = HealthCheck(lab.url("/health/api"), conditions=["[STATUS] == 200", "[BODY].status == UP"])
    [sample] = await samples_of([check], 1)
    assert (sample.ok, sample.error_kind, sample.reason) == (False, "condition", "[BODY].status (pass) == UP")


async def test_method_headers_and_user_agent_are_sent(lab):
    await samples_of([lab.url("/health/api")], 1, method="HEAD", headers={"X-Probe": "yes"})
    [request] = lab.state.requests_to("/health/api")
    assert request.method == "HEAD" and request.headers["x-probe"] == "yes"
    assert request.headers["user-agent"].startswith("feedview/")


async def test_tuning_applies_to_urls_and_a_check_keeps_its_own(lab):
    named = HealthCheck(lab.url("/health/api"), name="API", conditions=["[STATUS] == 200"])
    samples = await samples_of([named, lab.url("/health/legacy")], 2, conditions=["[STATUS] == 503"])
    assert all(s.ok for s in samples)
    assert {s.name for s in samples} == {"API", None}


# --- scheduling --------------------------------------------------------------------------


async def test_one_hanging_check_never_delays_the_others(lab):
    hanging, fast = lab.url("/health/hang?latency_ms=60000"), lab.url("/health/api")
    async with contextlib.aclosing(health_feed([hanging, fast], interval=0.02, timeout=30)) as feed:
        samples = await take_samples(feed, 5)
    assert {s.url for s in samples} == {fast}


def delays(samples: list[HealthSample]) -> list[float]:
    return [round(s.next_at - s.time, 6) for s in samples]


async def test_backoff_grows_to_the_cap_and_resets_on_success(lab):
    check = HealthCheck(lab.url("/health/b?pattern=ffffp"), multiplier=2, max_interval=0.15, jitter=0)
    samples = await samples_of([check], 5, interval=0.04)
    assert [s.ok for s in samples] == [False] * 4 + [True]
    assert [s.failures for s in samples] == [1, 2, 3, 4, 0]
    planned = [0.08, 0.15, 0.15, 0.15, 0.04]
    # a probe that overran its slot (a busy machine) has the next one start at once: later, never sooner
    assert all(got == want or got > want for got, want in zip(delays(samples), planned, strict=True))


async def test_the_interval_counts_from_the_start_of_a_check(lab):
    check = HealthCheck(lab.url("/health/slowish?latency_ms=40"), jitter=0)
    samples = await samples_of([check], 2, interval=0.25)
    assert all(s.latency_ms >= 40 for s in samples)
    # the next check is due 0.25 s after this one started, not after its 40 ms answer
    # (unless the answer itself overran the slot: then at once)
    assert [d for s, d in zip(samples, delays(samples), strict=True) if s.latency_ms < 240] == [0.25] * 2


async def test_jitter_spreads_the_delays():
    # a refused connection answers at once, and multiplier=1 keeps failures from backing off
    check = HealthCheck(f"http://127.0.0.1:{free_port()}/", jitter=0.5, multiplier=1)
    spread = delays(await samples_of([check], 8, interval=0.05))
    assert all(0.025 <= d <= 0.075 for d in spread)
    assert len(set(spread)) > 1


async def test_flapping_states_through_the_feed(lab):
    samples = await samples_of([lab.url("/health/f?pattern=pfpp")], 4, interval=0.01)
    assert [s.state for s in samples] == ["healthy", "unhealthy", "unstable", "healthy"]
    assert [s.stats.uptime_pct for s in samples] == [100.0, 50.0, pytest.approx(200 / 3), 75.0]


async def test_failures_to_trip_and_successes_to_recover(lab):
    url = lab.url("/health/g?pattern=pffpppp")
    samples = await samples_of([url], 7, interval=0.01, failures_to_trip=2, successes_to_recover=2)
    assert [s.state for s in samples] == [
        "healthy",
        "unstable",
        "unhealthy",
        "unstable",
        "unstable",
        "healthy",
        "healthy",
    ]


# --- dismissal ---------------------------------------------------------------------------


async def test_closing_leaves_nothing_in_flight_or_scheduled(lab):
    hanging, fast = lab.url("/health/hang?latency_ms=60000"), lab.url("/health/tick")
    before = asyncio.all_tasks()
    feed = health_feed([hanging, fast], interval=0.02, timeout=30)
    await take_samples(feed, 3)
    await wait_until(lambda: lab.state.counters.get("health:in_flight") == 1, message="the hanging request")
    await feed.aclose()

    assert asyncio.all_tasks() == before  # no check task left to fire again
    await wait_until(lambda: lab.state.counters["health:in_flight"] == 0, message="the lab to see the client leave")
    ticks = len(lab.state.requests_to("/health/tick"))
    # a barrier, not a sleep: another feed runs many intervals of the closed one
    await samples_of([lab.url("/health/other")], 5, interval=0.02)
    assert len(lab.state.requests_to("/health/tick")) == ticks


async def test_cancelling_the_consumer_closes_the_connection():
    opened, closed = asyncio.Event(), asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        opened.set()
        await reader.read()  # never answer; returns at EOF, when the client hangs up
        closed.set()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"

    async def consume() -> None:
        async with contextlib.aclosing(health_feed([url], timeout=30)) as feed:
            async for _ in feed:
                pass

    consumer = asyncio.create_task(consume())
    async with asyncio.timeout(5):
        await opened.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    async with asyncio.timeout(5):
        await closed.wait()
    server.close()


async def test_a_callers_client_stays_open(lab):
    async with httpx.AsyncClient() as client:
        await samples_of([lab.url("/health/api")], 2, interval=0.01, client=client)
        assert (await client.get(lab.url("/health/api"))).status_code == 200


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checks", "options", "error"),
    [
        (["http://x/"], {"colour": "red"}, TypeError),
        (["ftp://x/"], {}, ValueError),
        ([], {}, ValueError),
        (["http://x/"], {"conditions": ["[STATUS] = 200"]}, ConditionError),
        (["http://x/"], {"failures_to_trip": 0}, ValueError),
        (["http://x/"], {"jitter": 1.5}, ValueError),
        (["http://x/"], {"interval": -1}, ValueError),
    ],
)
async def test_bad_input_fails_before_any_request(checks, options, error):
    with pytest.raises(error) as info:
        await samples_of(checks, 1, **options)
    assert "\n" not in str(info.value)
