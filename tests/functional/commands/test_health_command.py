"""`feedview health`: JSON lines, --count, bad input, interrupts, and the panel it opens."""

from __future__ import annotations

import json
import signal
import sys
import types

import pytest
from servers import feedview, free_port, start_feedview

from feedview.cli import main
from feedview.feeds.health import health_feed


def test_json_lines_and_count_per_url(lab):
    refused = f"http://127.0.0.1:{free_port()}/health"
    result = feedview(
        "health",
        lab.url("/health/api"),
        lab.url("/health/legacy"),
        refused,
        "--json",
        "--count",
        "2",
        "--interval",
        "0.05",
    )
    assert result.returncode == 1, result.stderr  # two checks end unhealthy (see the exit-status tests)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 6
    by_url = {
        url: [line for line in lines if line["url"] == url]
        for url in (lab.url("/health/api"), lab.url("/health/legacy"), refused)
    }
    assert all(len(samples) == 2 for samples in by_url.values())
    first = lines[0]
    assert list(first)[:6] == ["url", "ok", "status_code", "latency_ms", "error", "time"]
    assert first["time"].endswith("Z")
    api, legacy, gone = (samples[0] for samples in by_url.values())
    assert (api["ok"], api["status_code"], api["error"], api["state"]) == (True, 200, None, "healthy")
    assert api["stats"]["uptime_pct"] == 100.0 and api["stats"]["window"] == 1
    assert (legacy["ok"], legacy["status_code"], legacy["error"]) == (False, 503, "HTTP 503 Service Unavailable")
    assert (gone["status_code"], gone["latency_ms"], gone["error"], gone["error_kind"]) == (
        None,
        None,
        "connection refused",
        "refused",
    )


def test_conditions_headers_and_method_from_the_command_line(lab):
    result = feedview(
        "health",
        lab.url("/health/legacy"),
        "--json",
        "--count",
        "1",
        "--method",
        "HEAD",
        "-H",
        "X-Probe: 1",
        "-c",
        "[STATUS] == 503",
        "--condition",
        "[HEADER].cache-control == no-cache",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
    [request] = lab.state.requests_to("/health/legacy")
    assert request.method == "HEAD" and request.headers["x-probe"] == "1"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("health", "http://x/", "-c", "[STATUS] = 200"), "LEFT OP RIGHT"),
        (("health", "http://x/", "--interval", "0"), "positive"),
        (("health", "ftp://x/"), "http://"),
        (("health", "http://x/", "--count", "2"), "--count goes with --json"),
        (("health", "http://x/", "--failures-to-trip", "0"), "at least 1"),
        (("health", "http://x/", "-c", "[STATUS] === 200"), "'===' is not an operator"),
        (("health", "http://x/", "-c", "[STATUS_CODE] == 200"), "did you mean [STATUS]?"),
        (("health", "http://x/", "--interval", "1e300"), "at most 86400 seconds"),
    ],
)
def test_bad_input_is_one_line_and_status_2(args, needle):
    result = feedview(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and needle in result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_exits_quietly(lab):
    proc = start_feedview("health", lab.url("/health/api"), "--json", "--interval", "0.05")
    try:
        assert json.loads(proc.stdout.readline())["ok"] is True
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert err == ""


def test_a_reader_that_stops_early_is_not_an_error(lab):
    proc = start_feedview("health", lab.url("/health/api"), "--json", "--interval", "0.02")
    assert proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    assert proc.wait(timeout=10) == 0
    assert proc.stderr.read() == ""


def test_without_json_it_opens_one_health_panel_whose_options_feed_health_feed(lab, monkeypatch):
    opened = []
    fake_app = types.ModuleType("feedview.ui.app")
    fake_app.run_panels = lambda panels: opened.append(panels) or 0
    monkeypatch.setitem(sys.modules, "feedview.ui.app", fake_app)

    assert main(["health", lab.url("/health/api"), "--interval", "3", "-c", "[STATUS] == 200"]) == 0
    [[panel]] = opened
    assert panel.kind == "health" and lab.url("/health/api") in panel.title
    assert panel.options == {
        "urls": [lab.url("/health/api")],
        "interval": 3.0,
        "timeout": 5.0,
        "conditions": ["[STATUS] == 200"],
    }


async def test_panel_options_are_health_feed_arguments(lab):
    import contextlib

    from feedview.cli import build_parser
    from feedview.commands.health import _feed_arguments, _panel_options

    args = build_parser().parse_args(["health", lab.url("/health/api"), "--interval", "0.1", "-H", "X-A: b"])
    async with contextlib.aclosing(health_feed(**_feed_arguments(_panel_options(args)))) as feed:
        sample = await anext(feed)
    assert sample.ok
    assert lab.state.requests_to("/health/api")[0].headers["x-a"] == "b"


# --- exit status: a CI gate on each check's last sample -----------------------------------


@pytest.mark.parametrize(
    ("paths", "status", "stderr_lines"),
    [
        (["/health/api", "/health/b?report=pass"], 0, []),
        (
            ["/health/api", "/health/w?report=warn"],
            0,
            ['feedview health: degraded: {1}: status "warn" (w:responseTime)'],
        ),
        (["/health/api", "/health/legacy"], 1, ["feedview health: unhealthy: {1}: HTTP 503 Service Unavailable"]),
        (["/health/u?pattern=fp"], 1, ["feedview health: unstable: {0}"]),  # passed only on its retry
    ],
)
def test_json_count_exits_by_the_last_state_of_each_check(lab, paths, status, stderr_lines):
    urls = [lab.url(path) for path in paths]
    result = feedview("health", *urls, "--json", "--count", "2", "--interval", "0.02")
    assert result.returncode == status, result.stderr
    assert result.stderr.splitlines() == [line.format(*urls) for line in stderr_lines]
    assert len(result.stdout.splitlines()) == 2 * len(urls)


def test_json_never_shows_url_credentials(lab):
    url = lab.url("/health/legacy").replace("http://", "http://admin:pa55word@")
    result = feedview("health", url, "--json", "--count", "1")
    assert result.returncode == 1
    assert "pa55word" not in result.stdout + result.stderr
    assert json.loads(result.stdout)["url"] == lab.url("/health/legacy").replace("http://", "http://***@")


def test_json_lines_are_strict_ascii_json():
    from feedview.commands.health import json_line

    line = json_line({"error": "\x7f\u202edown\u200b", "latency_ms": 1.5})
    assert line.isascii() and line.endswith("\n") and "\x7f" not in line
    assert json.loads(line) == {"error": "\x7f\u202edown\u200b", "latency_ms": 1.5}
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        json_line({"latency_ms": float("nan")})  # never written: the values are finite by construction


def test_checks_that_stop_on_a_bug_end_the_command_with_status_1_and_one_line(lab, monkeypatch, capsys):
    from feedview.feeds import check_history

    def broken(self, *args, **kwargs):
        raise RuntimeError("history lost")

    monkeypatch.setattr(check_history.CheckHistory, "record", broken)
    url = lab.url("/health/api")
    # with --count: the stopped check's last sample completes its count
    assert main(["health", url, "--json", "--count", "3"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["error"] == "the check stopped: RuntimeError: history lost"
    assert err == f"feedview health: unhealthy: {url}: the check stopped: RuntimeError: history lost\n"
    # without: the feed's final error ends the command
    assert main(["health", url, "--json"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["next_at"] is None
    assert err == "feedview health: error: every check stopped: RuntimeError: history lost\n"


def test_the_panel_title_never_shows_url_credentials(monkeypatch):
    opened = []
    fake_app = types.ModuleType("feedview.ui.app")
    fake_app.run_panels = lambda panels: opened.append(panels) or 0
    monkeypatch.setitem(sys.modules, "feedview.ui.app", fake_app)

    assert main(["health", "http://admin:pa55word@example.test/health"]) == 0
    [[panel]] = opened
    assert panel.title == "health: http://***@example.test/health"
