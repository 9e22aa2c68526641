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
        '[BODY] == pat(*"UP"*)',
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
    ("text", "reason"),
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
    [
        "[STATUS] = 200",
        "STATUS == 200",
        "[STATUS] == ",
        "[BODY].status < UP",
        "[STATUS] < any(1, 2)",
        "[HEADER] == x",
        "[STATUS].x == 1",
        "[BODY].a..b == 1",
        "[BODY]status == 1",
    ],
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


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[STATUS] === 200", "'===' is not an operator"),
        ("[STATUS] = 200", "'=' is not an operator"),
        ("[STATUS] => 200", "'=>' is not an operator"),
        ("[STATUS] =! 200", "'=!' is not an operator"),
        ("[STATUS] == ", "nothing after =="),
        ("== 200", "nothing before =="),
        ("[STATUS] 200", "no operator"),
        ("[STATUS] == 200 OK", "[STATUS] is a number, not '200 OK'"),
        ("[STATUS] == any(200, 2O4)", "[STATUS] is a number, not '2O4'"),
        ("[RESPONSE_TIME] < 300ms", "< needs a number on the right, got '300ms'"),
        ("len([BODY].items) == two", "len([BODY].items) is a number, not 'two'"),
        ("has([BODY].db) == yes", "has() is true or false, not 'yes'"),
        ("[STATUS_CODE] == 200", "unknown placeholder [STATUS_CODE]; did you mean [STATUS]?"),
        ("[status] == 200", "unknown placeholder [status]; did you mean [STATUS]?"),
        ("[CERTIFICATE_EXPIRATION] > 48", "unknown placeholder [CERTIFICATE_EXPIRATION]; known: [STATUS]"),
        ("length([BODY]) == 2", "unknown function length(); the left side takes len() or has()"),
        ("len([BODY].items == 2", "len( is not closed with )"),
        ("[STATUS] == any(200, 204", "any( is not closed with )"),
        ("[STATUS] == all(200, 204)", "unknown function all()"),
        ("[STATUS] == any(200,)", "an empty value"),
        ('[BODY].status == "UP', "the quote in '\"UP' is not closed"),
        ('[BODY].status == "UP" or DOWN', "unexpected text after the quoted value"),
        ("[BODY].status == UP)", "unexpected ')' in 'UP)'"),
        ("[BODY].status == = UP", "unexpected '=' before '= UP'"),
        ("[BODY] == pat()", "pat() needs a pattern"),
        ("[HEADER].X Y == 1", "'X Y' is not a header name"),
        ("[BODY].items[12345678901] == 1", "index up to 9 digits"),
    ],
)
def test_typos_are_refused_with_a_message_that_points_at_them(text, needle):
    with pytest.raises(ConditionError) as info:
        parse_condition(text)
    message = str(info.value)
    assert needle in message and repr(text) in message and "\n" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[BODY].status == any(UP, "a, b")', ("UP", "a, b")),
        ("[BODY].message == all good", ("all good",)),
        ('[BODY].message == ""', ("",)),
        ("[BODY].version == '1.2 (beta)'", ("1.2 (beta)",)),
        ("[STATUS] == pat(2*)", ("2*",)),
    ],
)
def test_values_that_are_written_right_are_kept_as_written(text, expected):
    assert parse_condition(text).expected == expected


def test_a_nesting_bomb_body_is_not_json_to_a_condition():
    bomb = answer(body='{"a":' * 50_000)
    assert failure("[BODY].a == 1", bomb) == "[BODY].a: the body is not JSON"
    assert failure("len([BODY]) == 250000", bomb) is None


def test_a_degraded_answer_passes_reads_degraded_and_does_not_count_as_a_failure():
    history = CheckHistory(1, 1, 10)
    for t, (ok, degraded) in enumerate([(True, False), (True, True), (True, True), (True, False)]):
        history.record(float(t), ok, 5.0, "status warn" if degraded else None, degraded=degraded)
        assert history.failures == 0 and history.last_error is None
        assert history.state == ("degraded" if degraded else "healthy")
    assert history.uptime_pct == 100.0 and history.last_change == 3.0


def test_flapping_wins_over_degraded():
    history = CheckHistory(1, 1, 10)
    history.record(0.0, False, None, "HTTP 503")
    history.record(1.0, True, 5.0, "status warn", degraded=True)
    assert history.state == "unstable"  # passing only on its retry, whatever the answer said
    history.record(2.0, True, 5.0, "status warn", degraded=True)
    assert history.state == "degraded"
