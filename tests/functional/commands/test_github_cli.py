"""`feedview repos --json` end to end: a real process against a real lab."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from servers import RouteServer, feedview, feedview_process

from feedview.feeds.github_client import MAX_REDIRECTS
from feedview.lab import start_lab


def test_json_prints_raw_repos_and_stops_at_the_limit(lab):
    result = feedview("repos", "octo-org", "--org", "--base-url", lab.base_url, "--limit", "45", "--json")
    assert result.returncode == 0, result.stderr
    repos = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(repos) == 45 and len({r["id"] for r in repos}) == 45
    assert {"full_name", "stargazers_count", "owner", "topics", "license"} <= set(repos[0])
    assert len(lab.state.requests_to("/orgs/")) + len(lab.state.requests_to("/organizations/")) == 2
    assert "60 requests an hour" in result.stderr


def test_mine_uses_the_enterprise_token_for_another_host(lab):
    result = feedview(
        "repos",
        "--mine",
        "--base-url",
        lab.base_url,
        "--json",
        "--per-page",
        "100",
        env={"GH_TOKEN": "dotcom-token", "GH_ENTERPRISE_TOKEN": "lab-token"},
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 57
    assert lab.state.requests_to("/user/repos")[0].headers["authorization"] == "Bearer lab-token"


def test_search_json_follows_every_page(lab):
    result = feedview(
        "repos",
        "--search",
        "language:Go",
        "--base-url",
        lab.base_url,
        "--token",
        "lab-token",
        "--per-page",
        "100",
        "--sort",
        "stars",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    stars = [json.loads(line)["stargazers_count"] for line in result.stdout.splitlines()]
    assert stars == sorted(stars, reverse=True) and len(stars) > 100


def test_a_final_error_is_one_line_and_exit_1():
    with start_lab() as lab:
        missing = feedview("repos", "ghost-user", "--base-url", lab.base_url, "--token", "lab-token", "--json")
        refused = feedview("repos", "mona", "--base-url", lab.base_url, "--token", "sekrit-token", "--json")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.count("\n") == 1 and "not found (404)" in missing.stderr
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "refused the token" in refused.stderr
    assert "sekrit-token" not in refused.stderr and "Traceback" not in refused.stderr


def test_bad_per_page_is_a_usage_error():
    result = feedview("repos", "mona", "--per-page", "101", "--json")
    assert result.returncode == 2 and "at most 100" in result.stderr and result.stderr.count("\n") == 1


async def test_waits_are_reported_on_stderr():
    answers = iter(
        [
            (429, {"Retry-After": "0"}, {"message": "slow down"}),
            (200, {}, [{"id": 1, "name": "x", "full_name": "mona/x"}]),
        ]
    )
    async with RouteServer({"/users/mona/repos?per_page=30": lambda: next(answers)}) as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "feedview.cli",
            "repos",
            "mona",
            "--base-url",
            server.base_url,
            "--token",
            "t",
            "--json",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        stdout, stderr = await proc.communicate()
    assert proc.returncode == 0 and json.loads(stdout)["full_name"] == "mona/x"
    assert "waiting: GitHub asked to wait 0s (Retry-After)" in stderr.decode()


def test_without_json_the_app_opens_on_one_panel(monkeypatch):
    import feedview.ui.app as app
    from feedview.cli import build_parser
    from feedview.commands import notifications, repos

    opened = []
    monkeypatch.setattr(app, "run_panels", lambda panels: opened.extend(panels) or 0)
    monkeypatch.delenv("GH_ENTERPRISE_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_ENTERPRISE_TOKEN", raising=False)
    parser = build_parser()
    assert (
        repos.run(
            parser.parse_args(
                ["repos", "octo-org", "--org", "--base-url", "http://127.0.0.1:9", "--token", "t", "--sort", "pushed"]
            )
        )
        == 0
    )
    assert (
        notifications.run(
            parser.parse_args(
                [
                    "notifications",
                    "--participating",
                    "--repo",
                    "octo-org/app",
                    "--base-url",
                    "http://127.0.0.1:9",
                    "--token",
                    "t",
                ]
            )
        )
        == 0
    )
    panel, inbox = opened
    assert panel.kind == "repos" and panel.title == "octo-org repositories"
    assert panel.options == {
        "owner": "octo-org",
        "org": True,
        "mine": False,
        "search": None,
        "base_url": "http://127.0.0.1:9",
        "token": "t",
        "per_page": 30,
        "sort": "pushed",
        "direction": None,
    }
    assert inbox.kind == "github-notifications" and inbox.options == {
        "base_url": "http://127.0.0.1:9",
        "token": "t",
        "all": False,
        "participating": True,
        "repo": "octo-org/app",
    }


async def run_cli(*args: str) -> tuple[int, str, str]:
    """feedview in a child process (the event loop stays free for the loopback server)."""
    proc = await feedview_process(*args)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, stdout.decode("utf-8"), stderr.decode("utf-8")


def test_a_base_url_that_is_no_api_root_is_a_usage_error():
    for command in (["repos", "mona"], ["notifications"]):
        query = feedview(*command, "--base-url", "http://admin:hunter2@127.0.0.1:9/api/v3?x=1", "--json")
        website = feedview(*command, "--base-url", "https://github.com/", "--json")
        assert query.returncode == website.returncode == 2 and query.stdout == website.stdout == ""
        assert query.stderr.count("\n") == 1 and "no ?query" in query.stderr and "hunter2" not in query.stderr
        assert website.stderr.count("\n") == 1 and "https://api.github.com" in website.stderr


async def test_json_lines_escape_bidi_zero_width_and_del():
    title = "safe\u202eevil\u200bhidden\x7fdel\x1b[2J é"
    repo = {"id": 1, "name": "x", "full_name": "mona/x", "description": title}
    thread = {
        "id": "7",
        "unread": True,
        "reason": "mention",
        "updated_at": "2024-01-01T00:00:00Z",
        "subject": {"title": title, "type": "Issue"},
        "repository": {"full_name": "mona/x"},
    }
    async with RouteServer(
        {"/users/mona/repos?per_page=30": (200, {}, [repo]), "/notifications?per_page=50": (200, {}, [thread])}
    ) as server:
        repos = await run_cli("repos", "mona", "--base-url", server.base_url, "--token", "t", "--json")
        threads = await run_cli(
            "notifications", "--base-url", server.base_url, "--token", "t", "--json", "--count", "1"
        )
    for code, stdout, stderr in (repos, threads):
        assert code == 0 and stderr == "" and stdout.isascii() and stdout.count("\n") == 1, stderr
        assert "\\u202e" in stdout and "\\u200b" in stdout and "\\u007f" in stdout and "\\u001b" in stdout
    assert json.loads(repos[1])["description"] == title and json.loads(threads[1])["subject"]["title"] == title


async def test_json_that_is_no_json_is_retried_and_never_printed():
    answers = iter(
        [
            (200, {}, b'[{"id": 1, "stargazers_count": NaN}]'),
            (200, {}, b'[{"id": 2, "stargazers_count": 1e400}]'),
            (200, {}, [{"id": 3, "name": "x", "full_name": "mona/x", "stargazers_count": 5}]),
        ]
    )
    async with RouteServer({"/users/mona/repos?per_page=30": lambda: next(answers)}) as server:
        code, stdout, stderr = await run_cli("repos", "mona", "--base-url", server.base_url, "--token", "t", "--json")
    assert code == 0 and [json.loads(line)["id"] for line in stdout.splitlines()] == [3]
    assert stderr.count("retrying: GitHub sent a response that is not JSON") == 2 and stderr.count("\n") == 2


async def test_a_bomb_or_an_escape_in_a_link_ends_in_one_clean_line():
    async with RouteServer({}) as server:
        evil = "/next%1B%5D0%3Bpwned%07%E2%80%AE"
        server.routes.update(
            {
                "/users/mona/repos?per_page=30": (
                    200,
                    {"Link": f'<{server.base_url}{evil}>; rel="next"'},
                    [{"id": 1, "full_name": "mona/x"}],
                ),
                "/users/bomb/repos?per_page=30": (
                    301,
                    {"Location": "/users/bomb/repos?per_page=30", "Content-Encoding": "gzip, gzip"},
                    b"\x1f\x8b" * 100,
                ),
            }
        )
        escaped = await run_cli("repos", "mona", "--base-url", server.base_url, "--token", "t", "--json")
        looped = await run_cli("repos", "bomb", "--base-url", server.base_url, "--token", "t", "--json")
    code, stdout, stderr = escaped
    assert code == 1 and json.loads(stdout)["id"] == 1
    assert stderr == f"feedview repos: error: not found (404): {evil} does not exist or the token cannot see it\n"
    code, stdout, stderr = looped
    assert (
        code == 1
        and stdout == ""
        and stderr.count("\n") == 1
        and f"redirected more than {MAX_REDIRECTS} times" in stderr
    )


async def test_credentials_in_the_base_url_never_reach_stderr():
    async with RouteServer({}) as server:
        base_url = server.base_url.replace("http://", "http://admin:hunter2@")
        missing = await run_cli("repos", "mona", "--base-url", base_url, "--json")
    broken = await run_cli("repos", "mona", "--base-url", "http://admin:hunter2@[::1", "--json")
    for _, stdout, stderr in (missing, broken):
        assert stdout == "" and stderr.count("\n") == 1 and "hunter2" not in stderr
    assert missing[0] == 1 and "not found (404): /users/mona/repos" in missing[2]
    assert broken[0] == 2 and "--base-url: 'http://***@[::1' is not a valid URL" in broken[2]
