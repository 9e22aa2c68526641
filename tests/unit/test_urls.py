"""Which URLs the command line, the config file and the add-panel form accept."""

from __future__ import annotations

import pytest

from feedview.urls import http_url_problem


@pytest.mark.parametrize(
    "url",
    [
        "https://ntfy.sh/mytopic/sse",
        "http://127.0.0.1:8080/events?since=all",
        "http://[::1]:8080/x",
        "https://api.github.com",
        "https://user:pw@host.example/",
        "http://exa_mple.internal/",
        "http://bücher.example/",
    ],
)
def test_usable_urls(url):
    assert http_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://[bad", "not a valid URL"),
        ("http://host:99999/", "Port out of range"),
        ("http://host:abc/", "Port could not be cast"),
        ("http://ho st/", "space or a control character"),
        ("http://a\x1b]0;x\x07/", "space or a control character"),
        ("http:///path", "no host name"),
        ("ftp://host/", "expected an http:// or https:// URL"),
        ("http://-bad.example/", "not a valid host name"),
        ("http://a..b/", "not a valid host name"),
        ("http://300.1.1.1/", "not an IPv4 address"),
        ("http://[::g]/", "not a valid URL"),
        ("http://localhost:0/", "port 0"),
    ],
)
def test_unusable_urls_say_why(url, why):
    problem = http_url_problem(url)
    assert problem is not None and why in problem
    assert problem.isprintable()


def test_the_problem_never_shows_credentials():
    assert "hunter2" not in http_url_problem("http://admin:hunter2@300.1.1.1/")
