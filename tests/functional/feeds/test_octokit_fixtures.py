"""The generic page walker on real recorded api.github.com traffic (Octokit's fixtures server)."""

from __future__ import annotations

import shutil
import subprocess
import time
from contextlib import aclosing
from pathlib import Path

import httpx
import pytest
from servers import free_port

from feedview.feeds.github_client import GitHubClient, GitHubTuning
from feedview.feeds.github_pages import Page, walk_pages

SERVER = Path(__file__).parents[2] / "octokit" / "node_modules" / ".bin" / "octokit-fixtures-server"  # tests/octokit
# The recording's exact request headers: nock compares them verbatim.
RECORDED_TOKEN = "0000000000000000000000000000000000000001"
RECORDED_ACCEPT = "application/vnd.github.v3+json"


@pytest.fixture(scope="module")
def fixtures_server():
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the recorded-traffic test needs Node.js (see the README's test command)")
    if not SERVER.exists():
        pytest.fail(f"{SERVER} is missing: run `npm ci --prefix tests/octokit` first")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # --fixtures-url: the recorded Link headers are rewritten to it, so they stay on our origin
    proc = subprocess.Popen(
        [str(SERVER), "--port", str(port), "--fixtures-url", base, "--log-level", "error", "--ttl", "60000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{base}/ping", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"octokit-fixtures-server did not start: {proc.stderr.read().decode()[-500:]}")
        time.sleep(0.05)  # polling a child process's port: there is no event to wait on
    yield base
    proc.terminate()
    proc.wait(timeout=10)


async def test_walks_paginate_issues_page_by_page(fixtures_server):
    loaded = httpx.post(f"{fixtures_server}/fixtures", json={"scenario": "paginate-issues"}).json()
    base_url = loaded["url"]  # http://127.0.0.1:PORT/api.github.com/<id>: stands in for api.github.com
    client = GitHubClient(
        base_url, RECORDED_TOKEN, tuning=GitHubTuning(accept=RECORDED_ACCEPT, auth_scheme="token", max_retries=0)
    )
    pages: list[Page] = []
    try:
        async with aclosing(
            walk_pages(client, "/repos/octokit-fixture-org/paginate-issues/issues", {"per_page": 3})
        ) as walk:
            async for item in walk:
                assert isinstance(item, Page), item
                pages.append(item)
    finally:
        await client.aclose()
    assert [p.number for p in pages] == [1, 2, 3, 4, 5]
    assert [len(p.items) for p in pages] == [3, 3, 3, 3, 1]
    assert [p.has_next for p in pages] == [True] * 4 + [False]
    assert pages[0].last_page == 5
    # the recorded next link leaves the first request's path, and the walker followed it as given
    assert "/repositories/1000/issues" in pages[1].url
    assert [issue["number"] for p in pages for issue in p.items] == list(range(13, 0, -1))
    # the recording's reset is in milliseconds
    assert pages[0].rate.reset == 1507651200 and pages[0].rate.remaining == 4999
    # every recorded request was consumed: the server has nothing left for this fixture
    again = httpx.get(
        f"{base_url}/repos/octokit-fixture-org/paginate-issues/issues?per_page=3", headers={"Accept": RECORDED_ACCEPT}
    )
    assert again.status_code == 404
