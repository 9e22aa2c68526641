"""SSE throughput: the lab firehose consumed four ways, measured in the same run.

    .venv/bin/python benchmarks/sse_throughput.py [--count 200000] [--size 200] [--rounds 3]

(a) curl -N to /dev/null (the wire, no parsing), (b) a bare httpx-sse loop with
json.loads of each data, (c) feedview's sse_feed, (d) `feedview watch URL --json
--count N > /dev/null` (a whole process, start-up included). The lab runs in a
process of its own so that it never shares a GIL with the consumer, and serves
pre-rendered bytes so that it is never what is measured. Each figure is the best
of --rounds. Goals: (c)/(b) >= 2.0 and (d) > 100,000 events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from httpx_sse import aconnect_sse

from feedview.feeds.sse import sse_feed
from feedview.feeds.state import FeedState

BIN = Path(sys.executable).parent


@contextlib.contextmanager
def lab_process():
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedview.cli", "lab", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        if "listening on" not in first:
            raise SystemExit(f"the lab did not start: {first}{proc.stderr.read()}")
        yield first.split()[4]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def timed(run) -> float:
    started = time.perf_counter()
    events = run()
    elapsed = time.perf_counter() - started
    return events / elapsed


def curl(url: str, count: int) -> int:
    subprocess.run(["curl", "-sS", "-N", "-o", "/dev/null", url], check=True)
    return count


def httpx_sse_loop(url: str, count: int) -> int:
    async def main() -> int:
        seen = 0
        async with httpx.AsyncClient(timeout=60) as client, aconnect_sse(client, "GET", url) as source:
            async for event in source.aiter_sse():
                json.loads(event.data)
                seen += 1
                if seen == count:
                    break
        return seen

    return asyncio.run(main())


def feedview_feed(url: str, count: int) -> int:
    async def main() -> int:
        seen = 0
        feed = sse_feed(url)
        async with contextlib.aclosing(feed):
            async for item in feed:
                if type(item) is FeedState:
                    if item.final:
                        break
                    continue
                seen += 1
                if seen == count:
                    break
        return seen

    return asyncio.run(main())


def feedview_watch(url: str, count: int) -> int:
    with open("/dev/null", "wb") as sink:
        subprocess.run(
            [str(BIN / "feedview"), "watch", url, "--json", "--count", str(count)],
            stdout=sink,
            stderr=subprocess.DEVNULL,
            check=True,
        )
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("curl"):
        raise SystemExit("curl is needed for the baseline (a)")
    with lab_process() as base:
        url = f"{base}/firehose?count={args.count}&size={args.size}"
        httpx.get(url, headers={"Last-Event-ID": str(args.count - 1)}, timeout=120)  # render once
        consumers = {
            "a": ("curl -N > /dev/null", curl),
            "b": ("httpx-sse + json.loads", httpx_sse_loop),
            "c": ("feedview sse_feed", feedview_feed),
            "d": ("feedview watch --json > /dev/null", feedview_watch),
        }
        rates = dict.fromkeys(consumers, 0.0)
        for _ in range(args.rounds):
            for key, (_, run) in consumers.items():
                rates[key] = max(rates[key], timed(lambda run=run: run(url, args.count)))
    print(f"{args.count} events, {args.size}-byte data, best of {args.rounds}, lab in its own process")
    for key, (label, _) in consumers.items():
        print(f"  ({key}) {label:<36} {rates[key]:>12,.0f} events/s")
    for top in ("c", "d"):
        for bottom in ("a", "b"):
            print(f"  ({top})/({bottom}) = {rates[top] / rates[bottom]:.2f}")
    print(
        f"goals: (c)/(b) >= 2.0: {'met' if rates['c'] / rates['b'] >= 2.0 else 'MISSED'}; "
        f"(d) > 100,000 events/s: {'met' if rates['d'] > 100_000 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
