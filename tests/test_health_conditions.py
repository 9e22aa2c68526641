"""The condition language and the flapping/stats rules, on plain values."""

from __future__ import annotations

import httpx
import pytest

from feedview.feeds.check_history import CheckHistory
from feedview.feeds.conditions import ConditionError, Response, parse_condition

BODY = '{"status": "UP", "db": {"ok": true, "pool": 4}, "items": [{"name": "a"}, {"name": "b"}], "none": null}'


def answer(status: int = 200, ms: float = 120.0, body: str = BODY, **headers: str) -> Response:
    return Response(status, ms, body, httpx.Headers(headers))


def failure(text: str, response: Response | None = None) -> str | None:
    return parse_condition(text).failure(response or answer())


@pytest.mark.parametrize(
    "text",
    [
        "[STATUS] == 200",
        "[STATUS] == any(200, 204)",
        "[STATUS] != 500",
        "[STATUS] < 300",
        "[RESPONSE_TIME] < 300",
        "[RESPONSE_TIME] <= 120",
        "[BODY].status == UP",
        '[BODY].status == "UP"',
        "[BODY].db.ok == true",
        "[BODY].db.pool >= 4",
        "[BODY].db.pool == 4.0",
        "[BODY].items[1].name == b",
        "[BODY].none == null",
        "[BODY] == pat(*\"UP\"*)",
        "[BODY].status != pat(DOWN*)",
        "[HEADER].content-type == pat(application/*json)",
        "[HEADER].X-Version == 1.2",
        "len([BODY].items) == 2",
        "has([BODY].db) == true",
        "has([BODY].errors) == false",
    ],
)
def test_conditions_that_hold(text):
    response = answer(**{"Content-Type": "application/health+json", "X-Version": "1.2"})
    assert failure(text, response) is None


@pytest.mark.parametrize(
    "text, reason",
    [
        ("[STATUS] == 200", "[STATUS] (503) == 200"),
        ("[STATUS] == any(200, 204)", "[STATUS] (503) == any(200, 204)"),
        ("[RESPONSE_TIME] < 100", "[RESPONSE_TIME] (120) < 100"),
        ("[BODY].status == up", "[BODY].status (UP) == up"),
        ("[BODY].missing.x == 1", "[BODY].missing.x: missing"),
        ("[BODY].items[5].name == a", "[BODY].items[5].name: missing"),
        ("[HEADER].X-Nope == 1", "[HEADER].X-Nope: missing"),
        ("[BODY] == pat(*DOWN*)", None),
        ("[BODY].status < 3", "[BODY].status (UP) < 3"),
    ],
)
def test_conditions_that_fail_say_why(text, reason):
    got = failure(text, answer(status=503))
    assert got is not None
    if reason:
        assert got == reason


def test_a_path_into_a_body_that_is_not_json():
    assert failure("[BODY].status == UP", answer(body="<html>ok</html>")) == "[BODY].status: the body is not JSON"


@pytest.mark.parametrize(
    "text",
    ["[STATUS] = 200", "STATUS == 200", "[STATUS] == ", "[BODY].status < UP", "[STATUS] < any(1, 2)",
     "[HEADER] == x", "[STATUS].x == 1", "[BODY].a..b == 1", "[BODY]status == 1"],
)
def test_bad_conditions_fail_to_parse_with_one_line(text):
    with pytest.raises(ConditionError) as info:
        parse_condition(text)
    assert "\n" not in str(info.value) and text.strip()[:5] in str(info.value)


def states(history: CheckHistory, outcomes: str) -> list[str]:
    result = []
    for t, letter in enumerate(outcomes):
        history.record(float(t), letter == "p", 10.0 if letter == "p" else None, None if letter == "p" else "boom")
        result.append(history.state)
    return result


def test_defaults_a_pass_right_after_a_failure_is_unstable():
    assert states(CheckHistory(1, 1, 100), "pfpp") == ["healthy", "unhealthy", "unstable", "healthy"]


def test_trips_only_after_n_consecutive_failures():
    history = CheckHistory(3, 1, 100)
    assert states(history, "pffpff") == ["healthy", "unstable", "unstable", "unstable", "unstable", "unstable"]
    assert states(history, "f") == ["unhealthy"]


def test_recovers_only_after_m_passes_after_the_retry():
    assert states(CheckHistory(1, 2, 100), "fpppp") == ["unhealthy", "unstable", "unstable", "healthy", "healthy"]


def test_rolling_stats_over_the_window():
    history = CheckHistory(1, 1, 4)
    for t, (ok, ms) in enumerate([(True, 50.0), (False, None), (True, 10.0), (True, 30.0), (True, 20.0), (True, 40.0)]):
        history.record(float(t), ok, ms, None if ok else "HTTP 500")
    assert history.window == 4
    assert history.uptime_pct == 100.0  # the failure has left the 4-sample window
    assert history.latency_percentile(0.5) == 20.0
    assert history.latency_percentile(0.95) == 40.0
    assert history.last_error == "HTTP 500"  # kept after it leaves the window
    assert history.last_change == 3.0  # healthy again at 3, after the retry at 2


def test_last_change_is_the_time_of_the_transition():
    history = CheckHistory(1, 1, 10)
    states(history, "ppfpp")
    assert history.last_change == 4.0
    states(history, "p")
    assert history.last_change == 4.0
