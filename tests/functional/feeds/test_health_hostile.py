"""The health feed against hostile answers and its own bugs: whatever happens inside one
check stays there (a failed sample, a one-line reason), bodies and numbers stay bounded,
credentials are never shown."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import random
import zlib

import pytest
from servers import RouteServer, samples_of, take_samples

from feedview.feeds import check_history
from feedview.feeds import health as health_module
from feedview.feeds.health import BODY_LIMIT, COALESCE_S, MIN_DELAY_S, HealthCheck, HealthSample, health_feed
from feedview.feeds.limits import MAX_WAIT_S
from feedview.feeds.state import FeedState

NESTING_BOMB = b'{"a":' * 50_000  # 250 KB, within BODY_LIMIT: read whole, then refused by loads_json


async def until_each(feed, n: int) -> dict[int, list[HealthSample]]:
    """Samples by check, until every check has at least n (with a deadline)."""
    grouped: dict[int, list[HealthSample]] = {}
    async with asyncio.timeout(15):
        async for sample in feed:
            grouped.setdefault(sample.check_id, []).append(sample)
            if len(grouped) == 2 and all(len(group) >= n for group in grouped.values()):
                return grouped
    raise AssertionError("the feed ended early")


# --- one check's trouble never ends the others ----------------------------------------------


async def test_a_nesting_bomb_fails_only_its_own_conditions_and_the_other_checks_go_on(lab):
    async with RouteServer({"/bomb": (200, {}, NESTING_BOMB)}) as server:
        bomb = server.base_url + "/bomb"
        checks = [HealthCheck(bomb, conditions=["[BODY].a == 1"]), bomb, lab.url("/health/api")]
        async with contextlib.aclosing(health_feed(checks, interval=0.02)) as feed:
            samples = await take_samples(feed, 9)
    kinds = {s.check_id: s for s in samples}
    assert set(kinds) == {0, 1, 2}, "every check kept producing samples"
    assert (kinds[0].ok, kinds[0].reason) == (False, "[BODY].a: the body is not JSON")
    assert kinds[1].ok and kinds[1].verdict == "healthy"  # 2xx and no health document in it
    assert kinds[2].ok and kinds[2].status_code == 200


async def test_a_bug_in_reading_one_answer_is_a_failed_sample_and_the_check_goes_on(lab, monkeypatch):
    real = health_module.read_answer

    def buggy(status_code, reason_phrase, body, *, path, location):
        if path.endswith("/buggy"):
            raise RuntimeError("boom\nwith a second line")
        return real(status_code, reason_phrase, body, path=path, location=location)

    monkeypatch.setattr(health_module, "read_answer", buggy)
    checks = [lab.url("/health/buggy"), lab.url("/health/api")]
    async with contextlib.aclosing(health_feed(checks, interval=0.02)) as feed:
        grouped = await until_each(feed, 2)
    buggy, fine = grouped[0], grouped[1]
    for sample in buggy:  # the check went on: a failed sample for each run
        assert (sample.ok, sample.error_kind) == (False, "other")
        assert sample.reason == "internal error: RuntimeError: boom with a second line"
    assert all(s.ok for s in fine)


def break_history_of(monkeypatch, *, failures_to_trip: int | None = None) -> None:
    """A bug in the check machinery itself: CheckHistory.record raises (only for checks with
    this failures_to_trip, when given)."""
    real = check_history.CheckHistory.record

    def record(self, *args, **kwargs):
        if failures_to_trip is None or self.failures_to_trip == failures_to_trip:
            raise RuntimeError("history lost")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(check_history.CheckHistory, "record", record)


async def test_a_check_that_stops_on_a_bug_says_so_once_and_the_others_go_on(lab, monkeypatch):
    break_history_of(monkeypatch, failures_to_trip=7)
    broken = HealthCheck(lab.url("/health/broken"), failures_to_trip=7)
    async with contextlib.aclosing(health_feed([broken, lab.url("/health/api")], interval=0.02)) as feed:
        samples = await take_samples(feed, 6)
    stopped = [s for s in samples if s.check_id == 0]
    assert len(stopped) == 1
    [last] = stopped
    assert (last.ok, last.state, last.next_at, last.error_kind) == (False, "unhealthy", None, "other")
    assert last.reason == "the check stopped: RuntimeError: history lost"
    assert sum(s.check_id == 1 and s.ok for s in samples) == 5


async def test_when_every_check_has_stopped_the_feed_ends_with_a_final_error(lab, monkeypatch):
    break_history_of(monkeypatch)
    items = []
    async with contextlib.aclosing(health_feed([lab.url("/health/a"), lab.url("/health/b")], interval=0.02)) as feed:
        async for item in feed:  # ends by itself
            items.append(item)
    *samples, state = items
    assert len(samples) == 2 and all(s.next_at is None for s in samples)
    assert state == FeedState("error", reason="every check stopped: RuntimeError: history lost")
    assert state.final


# --- bodies: bounded, decoded by us, refused when stacked or unasked ----------------------


async def test_a_decompression_bomb_is_read_only_up_to_the_body_limit(raw):
    bomb = gzip.compress(b"0" * (64 * 1024 * 1024), compresslevel=9)  # 64 MiB in ~64 KB
    raw.reply(bomb, headers=[("Content-Encoding", "gzip")])
    [sample] = await samples_of([HealthCheck(raw.url + "/", conditions=[f"len([BODY]) == {BODY_LIMIT}"])], 1)
    assert sample.ok, sample.reason  # the body, cut at BODY_LIMIT, and no further
    assert raw.requests[0].headers["accept-encoding"] == "gzip, deflate"


async def test_a_deflated_health_document_is_read(raw):
    raw.reply(zlib.compress(b'{"status": "fail"}'), headers=[("Content-Encoding", "deflate")])
    [sample] = await samples_of([raw.url + "/"], 1)
    assert (sample.ok, sample.reason, sample.error_kind) == (False, 'status "fail"', "condition")


@pytest.mark.parametrize(
    ("encoding", "reason"),
    [
        ("gzip, gzip", "the server stacked content encodings (gzip, gzip); one is the most accepted"),
        ("br", "the server sent an encoding that was not asked for (br)"),
    ],
)
async def test_a_stacked_or_unasked_encoding_is_a_failed_sample_with_a_clear_reason(raw, encoding, reason):
    raw.reply(gzip.compress(gzip.compress(b"ok")), headers=[("Content-Encoding", encoding)])
    [sample] = await samples_of([raw.url + "/"], 1)
    assert (sample.ok, sample.error_kind, sample.reason) == (False, "http", reason)


@pytest.mark.parametrize("charset", ["rot13", "idna", "no-such-codec"])
async def test_a_charset_that_is_no_text_codec_falls_back_to_utf8(raw, charset):
    raw.reply(b'{"status": "DOWN"}', headers=[("Content-Type", f"application/json; charset={charset}")])
    [sample] = await samples_of([raw.url + "/"], 1)
    assert (sample.ok, sample.reason) == (False, 'status "DOWN"')


async def test_a_status_code_is_a_bounded_number(raw):
    raw.reply(b"", status="999 Beyond", headers=[])
    [sample] = await samples_of([raw.url + "/"], 1)
    assert (sample.status_code, sample.reason) == (999, "HTTP 999 Beyond")


# --- credentials and secrets are never shown ----------------------------------------------


async def test_credentials_in_a_redirect_and_an_echoed_token_never_reach_a_reason():
    routes = {
        "/moved": (302, {"Location": "https://admin:hunter22@elsewhere.example/"}, b""),
        "/echo": (200, {}, {"status": "token s3cr3t-t0ken rejected"}),
    }
    async with RouteServer(routes) as server:
        base = server.base_url.replace("http://", "http://user:pa55word@")
        checks = [base + "/moved", HealthCheck(base + "/echo", headers={"Authorization": "Bearer s3cr3t-t0ken"})]
        samples = {s.check_id: s for s in await samples_of(checks, 2)}
    assert samples[0].reason == "HTTP 302 X to https://***@elsewhere.example/"
    assert samples[1].reason == 'status "token *** rejected"'


def test_a_bad_url_error_never_shows_its_password():
    with pytest.raises(ValueError, match="http") as info:
        HealthCheck("ftp://user:pa55word@host/")
    assert "pa55word" not in str(info.value) and "***@host" in str(info.value)


# --- numbers: delays bounded whatever the settings and however many failures --------------


@pytest.mark.parametrize("failures", [1, 64, 1_100, 10**6, 10**18])
def test_backoff_never_overflows_and_stays_within_the_cap(failures):
    check = HealthCheck("http://x/", interval=1, max_interval=30, multiplier=1e10, jitter=0)
    assert health_module._next_due(check, failures, random.Random(1), started=1000.0) - 1000.0 == 30


@pytest.mark.parametrize("started", [0.0, 12_345.678])
def test_every_delay_has_a_floor_and_a_ceiling(started):
    rng = random.Random(1)
    tiny = HealthCheck("http://x/", interval=1e-9, max_interval=1e-9, jitter=0.9)
    assert all(health_module._next_due(tiny, n, rng, started) - started >= MIN_DELAY_S for n in (0, 1, 5))
    huge = HealthCheck("http://x/", interval=MAX_WAIT_S, max_interval=MAX_WAIT_S, jitter=0.9)
    assert all(health_module._next_due(huge, n, rng, started) - started <= MAX_WAIT_S for n in (0, 1, 10**9))


def test_runs_move_to_a_shared_grid_within_their_jitter():
    """Checks due a few milliseconds apart share one turn of the event loop; none leaves its jitter."""
    rng = random.Random(7)
    check = HealthCheck("http://x/", interval=1, max_interval=6, jitter=0.1)
    starts = [5_000 + rng.uniform(0, 1) for _ in range(2_000)]
    dues = [health_module._next_due(check, 0, rng, started) for started in starts]
    assert all(0.9 <= due - started <= 1.1 for due, started in zip(dues, starts, strict=True))
    on_grid = [due for due in dues if abs(due / COALESCE_S - round(due / COALESCE_S)) < 1e-6]
    assert len(on_grid) >= 0.9 * len(dues)
    assert len({round(due, 6) for due in dues}) < len(dues) / 5  # many checks share each run


def test_a_check_without_jitter_keeps_its_exact_schedule():
    check = HealthCheck("http://x/", interval=0.25, max_interval=1.5, jitter=0)
    assert health_module._next_due(check, 0, random.Random(1), started=100.0031) == 100.0031 + 0.25


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"interval": 1e300}, "interval must be at most 86400 seconds"),
        ({"timeout": 86401}, "timeout must be at most 86400 seconds"),
        ({"max_interval": float("inf")}, "max_interval must be a positive number"),
        ({"multiplier": float("inf")}, "multiplier must be a number of at least 1"),
        ({"multiplier": float("nan")}, "multiplier must be a number of at least 1"),
    ],
)
def test_settings_beyond_the_bounds_are_refused_in_one_line(options, needle):
    with pytest.raises(ValueError, match="must") as info:
        HealthCheck("http://x/", **options)
    assert needle in str(info.value) and "\n" not in str(info.value)
