"""Token resolution (as gh does it) and where the token may go."""

from __future__ import annotations

import os
import stat

from feedview.feeds.github_client import GitHubClient, RateLimit, origin_of, resolve_token


def fake_gh(tmp_path, monkeypatch, output: str, status: int = 0) -> None:
    script = tmp_path / "gh"
    script.write_text(f'#!/bin/sh\necho "$@" > "{tmp_path}/args"\necho "{output}"\nexit {status}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")


def test_explicit_token_wins_then_gh_token_then_github_token():
    env = {"GH_TOKEN": "from-gh-token", "GITHUB_TOKEN": "from-github-token"}
    assert resolve_token("  explicit ", environ=env) == "explicit"
    assert resolve_token(None, environ=env) == "from-gh-token"
    assert resolve_token("", environ={"GITHUB_TOKEN": "from-github-token"}) == "from-github-token"


def test_gh_auth_token_is_the_last_resort(tmp_path, monkeypatch):
    fake_gh(tmp_path, monkeypatch, "gho_from_gh")
    assert resolve_token(None, environ={}) == "gho_from_gh"
    assert (tmp_path / "args").read_text().split() == ["auth", "token", "--hostname", "github.com"]


def test_no_token_anywhere_means_unauthenticated(tmp_path, monkeypatch):
    fake_gh(tmp_path, monkeypatch, "", status=1)  # gh installed but not logged in
    assert resolve_token(None, environ={}) is None
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # gh not installed at all
    assert resolve_token(None, environ={}) is None


def test_a_github_com_token_never_goes_to_another_host(tmp_path, monkeypatch):
    fake_gh(tmp_path, monkeypatch, "gho_enterprise")
    env = {"GH_TOKEN": "dotcom-only"}
    assert resolve_token(None, "https://ghe.example.com/api/v3", environ=env) == "gho_enterprise"
    assert (tmp_path / "args").read_text().split()[-1] == "ghe.example.com"
    assert resolve_token(None, "https://ghe.example.com/api/v3", environ={"GH_ENTERPRISE_TOKEN": "e"}) == "e"


def test_the_token_is_sent_only_to_the_base_urls_origin():
    client = GitHubClient("https://ghe.example.com/api/v3", "secret")
    assert client.sends_token_to("https://ghe.example.com/api/v3/user/1/repos?page=2")
    assert client.sends_token_to("https://ghe.example.com:443/other")
    assert not client.sends_token_to("http://ghe.example.com/api/v3/user/1/repos")  # another scheme
    assert not client.sends_token_to("https://ghe.example.com:8443/api/v3/x")  # another port
    assert not client.sends_token_to("https://evil.example/api/v3/x")
    assert origin_of("http://127.0.0.1/x") == ("http", "127.0.0.1", 80)
    assert (
        client.url("/users/mona/repos", {"per_page": 5, "sort": None})
        == "https://ghe.example.com/api/v3/users/mona/repos?per_page=5"
    )


def test_rate_limit_headers_are_read_leniently():
    rate = RateLimit.from_headers(
        {
            "x-ratelimit-limit": "60",
            "x-ratelimit-remaining": "x",
            "x-ratelimit-reset": "1700000000",
            "x-ratelimit-resource": "core",
        }
    )
    assert rate == RateLimit(limit=60, remaining=None, used=None, reset=1700000000, resource="core")


def test_token_advice_names_the_variable_gh_reads_for_that_host():
    from feedview.feeds.github_client import token_advice

    assert token_advice("https://api.github.com") == "pass --token, set GH_TOKEN or run `gh auth login`"
    assert token_advice("https://ghe.example.com/api/v3") == (
        "pass --token, set GH_ENTERPRISE_TOKEN or run `gh auth login --hostname ghe.example.com`"
    )
