"""How fast the repos feed shows pages, against the floor of one request round trip.

On the lab with 50 ms of latency per request (a transatlantic api.github.com is
about that), measured in the same run:
  floors             one plain httpx GET of the same page: on a new connection (for the first
                     repo), and on a warm one after the reader's pause (for the next page)
  first repo         from creating the feed to holding its first repo (connection set-up included)
  next page          from asking for the next page to holding its repos, after the consumer spent
                     `--think` ms on the current one: without prefetch, and with one-page prefetch
  requests           lab requests for walking N pages (must be N)
  CPU per page       a walk of --walk-pages pages (one repo each) on a lab without latency, in a
                     process of its own: the feed against a plain httpx loop following Link
                     (GET, .json(), next link), rounds interleaved in rotated order, medians
                     (min..max). Goal: the feed <= 1.2x the plain loop.

    .venv/bin/python benchmarks/repos_pages.py [--latency-ms 50] [--pages 10] [--think 150] [--walk-pages 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import TypeVar

import httpx

from feedview.feeds.github import RepoPage, repo_pages
from feedview.lab import LabConfig, start_lab

TOKEN = "lab-token"
T = TypeVar("T")


async def prefetch(items: AsyncIterator[T]) -> AsyncGenerator[T]:
    """Fetch one item ahead of the consumer: while it shows page N, page N+1 is on its way.

    The cost: a consumer that stops early has caused one request more.
    """
    pending = asyncio.ensure_future(anext(items))
    try:
        while True:
            try:
                item = await pending
            except StopAsyncIteration:
                return
            pending = asyncio.ensure_future(anext(items))
            yield item
    finally:
        pending.cancel()
        await asyncio.wait([pending])
        if not pending.cancelled():
            pending.exception()  # retrieved, so asyncio does not warn about an error nobody asked for
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            await aclose()


def page_requests(lab) -> int:
    return len(lab.state.requests_to("/orgs/")) + len(lab.state.requests_to("/organizations/"))


async def floor_ms(base_url: str, samples: int, think_s: float) -> tuple[float, float]:
    """(cold, warm): one GET of a page on a fresh connection, and on a kept-alive one after the same pause
    the feed's reader takes (back-to-back requests on loopback meet delayed ACKs the pause avoids)."""
    url = f"{base_url}/orgs/octo-org/repos"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    cold, warm = [], []
    for _ in range(samples):
        async with httpx.AsyncClient() as client:
            start = time.perf_counter()
            (await client.get(url, headers=headers)).json()
            cold.append((time.perf_counter() - start) * 1000)
            await asyncio.sleep(think_s)
            start = time.perf_counter()
            (await client.get(url, headers=headers)).json()
            warm.append((time.perf_counter() - start) * 1000)
    return statistics.median(cold), statistics.median(warm)


async def first_repo_ms(base_url: str, samples: int) -> float:
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        async with aclosing(repo_pages(owner="octo-org", org=True, base_url=base_url, token=TOKEN)) as pages:
            page = await anext(pages)
            assert isinstance(page, RepoPage) and page.repos[0].full_name
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def next_page_ms(base_url: str, pages: int, think_s: float, ahead: bool) -> list[float]:
    feed = repo_pages(owner="octo-org", org=True, base_url=base_url, token=TOKEN)
    times = []
    async with aclosing(prefetch(feed) if ahead else feed) as stream:
        await anext(stream)
        for _ in range(pages - 1):
            await asyncio.sleep(think_s)  # the reader looks at the page before asking for the next
            start = time.perf_counter()
            page = await anext(stream)
            assert isinstance(page, RepoPage) and page.repos
            times.append((time.perf_counter() - start) * 1000)
    return times


async def walk(base_url: str, pages: int) -> int:
    seen = 0
    async with aclosing(repo_pages(owner="octo-org", org=True, base_url=base_url, token=TOKEN)) as stream:
        async for item in stream:
            if isinstance(item, RepoPage):
                seen += 1
                if seen == pages:
                    break
    return seen


async def plain_walk(base_url: str, pages: int) -> int:
    """The floor: an httpx loop following Link, parsing each page's JSON."""
    seen = 0
    url: str | None = f"{base_url}/orgs/octo-org/repos?per_page=1"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        while url is not None and seen < pages:
            response = await client.get(url)
            response.json()
            seen += 1
            url = response.links.get("next", {}).get("url")
    return seen


async def feed_walk(base_url: str, pages: int) -> int:
    seen = 0
    feed = repo_pages(owner="octo-org", org=True, base_url=base_url, token=TOKEN, per_page=1)
    async with aclosing(feed) as stream:
        async for item in stream:
            if isinstance(item, RepoPage):
                seen += 1
                if seen == pages:
                    break
    return seen


WALKS = {"plain httpx loop": plain_walk, "repo_pages": feed_walk}


def cpu_per_page(base_url: str, pages: int, rounds: int) -> dict[str, list[float]]:
    """ms of CPU per page for each walk, each run in a fresh process, rounds in rotated order."""
    names = list(WALKS)
    found: dict[str, list[float]] = {name: [] for name in names}
    for number in range(rounds):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            done = subprocess.run(
                [sys.executable, __file__, "--walk", name, base_url, str(pages)],
                capture_output=True,
                text=True,
                check=True,
            )
            found[name].append(float(done.stdout.split()[-1]))
    return found


def walk_child(name: str, base_url: str, pages: int) -> None:
    started = time.process_time()
    seen = asyncio.run(WALKS[name](base_url, pages))
    if seen != pages:
        raise SystemExit(f"{name}: walked {seen} pages, not {pages}")
    print(1000 * (time.process_time() - started) / pages)


LAB_PROCESS = """
import sys
from feedview.lab import LabConfig, start_lab
with start_lab(LabConfig(rate_limit=1_000_000)) as lab:
    print(lab.base_url, flush=True)
    sys.stdin.read()
"""


def lab_process():
    """A lab in a process of its own (its CPU is not the walk's), with a rate limit no walk meets."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LAB_PROCESS], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    return proc, proc.stdout.readline().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--think", type=float, default=150.0, help="ms the reader spends on each page")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--walk-pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--walk", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.walk:
        walk_child(args.walk[0], args.walk[1], int(args.walk[2]))
        return

    with start_lab(LabConfig(latency_ms=args.latency_ms, rate_limit=100_000)) as lab:
        cold, warm = asyncio.run(floor_ms(lab.base_url, args.samples, args.think / 1000))
        first = asyncio.run(first_repo_ms(lab.base_url, args.samples))
        plain = asyncio.run(next_page_ms(lab.base_url, args.pages, args.think / 1000, ahead=False))
        ahead = asyncio.run(next_page_ms(lab.base_url, args.pages, args.think / 1000, ahead=True))
        before = page_requests(lab)
        walked = asyncio.run(walk(lab.base_url, args.pages))
        requests = page_requests(lab) - before

    def row(name: str, ms: float, floor: float) -> str:
        return f"  {name:<38} {ms:8.1f} ms   {ms / floor:5.2f}x its floor"

    print(
        f"repos feed on the lab, latency {args.latency_ms:.0f} ms per request, 30 repos a page, "
        f"reader spends {args.think:.0f} ms on a page"
    )
    print(row("floor: GET on a new connection", cold, cold))
    print(row("floor: GET on a warm connection", warm, warm))
    print(row("time to first repo (new connection)", first, cold))
    print(row("next page, no prefetch (median)", statistics.median(plain), warm))
    print(row("next page, one-page prefetch (median)", statistics.median(ahead), warm))
    print(
        f"  {'requests to walk N pages':<38} {requests:8d}      for N = {walked}"
        f"  ({'ok' if requests == walked else 'NOT N'})"
    )
    lab, base_url = lab_process()
    try:
        cpu = cpu_per_page(base_url, args.walk_pages, args.rounds)
    finally:
        lab.stdin.close()
        lab.wait(timeout=10)
    print(f"CPU per page, a walk of {args.walk_pages} pages, {args.rounds} rounds, medians (min..max):")
    for name, values in cpu.items():
        print(f"  {name:<38} {statistics.median(values):8.3f} ms   ({min(values):.3f}..{max(values):.3f})")
    ratios = [a / b for a, b in zip(cpu["repo_pages"], cpu["plain httpx loop"], strict=True)]
    ratio = statistics.median(ratios)
    print(
        f"  {'repo_pages / plain loop':<38} {ratio:8.2f}x   ({min(ratios):.2f}..{max(ratios):.2f})"
        f"   goal <= 1.2x: {'met' if ratio <= 1.2 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
