"""SSE throughput: one lab firehose consumed by every contender, rounds interleaved, medians.

    .venv/bin/python benchmarks/sse_throughput.py [--count 200000] [--size 200] [--rounds 5] [--only a,b]

Contenders (each round runs every one of them, in an order rotated from round to round,
each in a fresh process so that no heap or cache carries over):

  ceiling        a raw asyncio Protocol + orjson: HTTP/1.1 chunked framing and the event
                 split written inline, no feed semantics at all (the Python ceiling)
  sse_batches    feedview's batch feed (ntfy notifications made, in lists)
  sse_feed       feedview's item feed (the panels' intake)
  httpx-sse      httpx-sse 0.4 + json.loads of each data (the baseline of the 3x goal)
  aiohttp-sse    aiohttp-sse-client + json.loads
  sseclient-py   sseclient-py over requests + json.loads
  requests-sse   requests-sse + json.loads
  watch --json   `feedview watch URL --json --count N > /dev/null`, a whole process
  ceiling proc   the ceiling as a whole process (start-up included): what watch is held against
  curl           `curl -N > /dev/null`: the wire, no parsing (for scale)

In-process contenders are timed from before connecting to their last event; "proc" ones
from spawn to exit (feedview byte-compiled first, as an installed package is). A peer that is
not installed is skipped with a line saying so. The lab runs in a process of its own and
serves pre-rendered bytes, so it is never what is measured.
Figures are medians over the rounds with their min..max; ratios are taken within each round
(same minute, same machine load) and their median is printed with its range.

Goals: sse_batches >= 0.85x ceiling, sse_feed >= 0.75x ceiling, watch --json >= 0.75x ceiling
proc, sse_feed >= 3x httpx-sse.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve()


# --- the contenders, each run in a process of its own (`--run NAME URL COUNT`) -------------------


def run_ceiling(url: str, count: int) -> int:
    import orjson

    parts = urlsplit(url)
    target = parts.path + ("?" + parts.query if parts.query else "")

    class Firehose(asyncio.Protocol):
        """HTTP/1.1 response, chunked body, SSE blocks split on blank lines, data parsed by orjson."""

        def __init__(self, done: asyncio.Future) -> None:
            self.done, self.buffer, self.body, self.head, self.left, self.seen = done, b"", b"", True, 0, 0

        def connection_made(self, transport) -> None:
            self.transport = transport
            request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n\r\n"
            transport.write(request.encode())

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            if self.head:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                self.buffer, self.head = self.buffer[end + 4 :], False
            pieces = []
            buffer = self.buffer
            while buffer:
                if self.left == 0:
                    line_end = buffer.find(b"\r\n")
                    if line_end < 0:
                        break
                    self.left = int(buffer[:line_end], 16) + 2  # the chunk and its CRLF
                    buffer = buffer[line_end + 2 :]
                    if self.left == 2:  # the last chunk
                        self.events(b"".join(pieces))
                        self.finish()
                        return
                piece = buffer[: self.left]
                self.left -= len(piece)
                buffer = buffer[len(piece) :]
                pieces.append(piece[:-2] if self.left == 0 else piece[:-1] if self.left == 1 else piece)
            self.buffer = buffer
            self.events(b"".join(pieces))

        def events(self, data: bytes) -> None:
            text = self.body + data
            cut = text.rfind(b"\n\n")
            if cut < 0:
                self.body = text
                return
            self.body = text[cut + 2 :]
            loads = orjson.loads
            for block in text[:cut].split(b"\n\n"):
                for line in block.split(b"\n"):
                    if line.startswith(b"data: "):
                        loads(line[6:])
                        self.seen += 1
            if self.seen >= count:
                self.finish()

        def finish(self) -> None:
            if not self.done.done():
                self.done.set_result(self.seen)
            self.transport.close()

        def connection_lost(self, exc) -> None:
            self.finish()

    async def main() -> int:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        await loop.create_connection(lambda: Firehose(done), parts.hostname, parts.port)
        return await done

    return asyncio.run(main())


def run_sse_feed(url: str, count: int) -> int:
    from feedview.feeds.sse import sse_feed
    from feedview.feeds.state import FeedState

    async def main() -> int:
        seen = 0
        async with contextlib.aclosing(sse_feed(url)) as feed:
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


def run_sse_batches(url: str, count: int) -> int:
    from feedview.feeds.sse import sse_batches
    from feedview.feeds.state import FeedState

    async def main() -> int:
        seen = 0
        async with contextlib.aclosing(sse_batches(url)) as batches:
            async for batch in batches:
                if type(batch[0]) is FeedState:
                    if batch[0].final:
                        break
                    continue
                seen += len(batch)
                if seen >= count:
                    break
        return seen

    return asyncio.run(main())


def run_httpx_sse(url: str, count: int) -> int:
    import httpx
    from httpx_sse import aconnect_sse

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


def run_aiohttp_sse(url: str, count: int) -> int:
    from aiohttp_sse_client.client import EventSource

    async def main() -> int:
        seen = 0
        async with EventSource(url, max_connect_retry=0) as source:
            async for event in source:
                json.loads(event.data)
                seen += 1
                if seen == count:
                    break
        return seen

    return asyncio.run(main())


def run_sseclient_py(url: str, count: int) -> int:
    import requests
    import sseclient

    seen = 0
    with requests.get(url, stream=True, headers={"Accept": "text/event-stream"}, timeout=60) as response:
        for event in sseclient.SSEClient(response).events():
            json.loads(event.data)
            seen += 1
            if seen == count:
                break
    return seen


def run_requests_sse(url: str, count: int) -> int:
    from requests_sse import EventSource

    seen = 0
    with EventSource(url, timeout=60, max_connect_retry=0) as source:
        for event in source:
            json.loads(event.data)
            seen += 1
            if seen == count:
                break
    return seen


IN_PROCESS = {  # name: (run, the modules it needs, imported before the clock starts)
    "ceiling": (run_ceiling, ("orjson",)),
    "sse_batches": (run_sse_batches, ("feedview.feeds.sse", "aiohttp")),
    "sse_feed": (run_sse_feed, ("feedview.feeds.sse", "aiohttp")),
    "httpx-sse": (run_httpx_sse, ("httpx_sse", "httpx", "httpcore", "h11")),
    "aiohttp-sse": (run_aiohttp_sse, ("aiohttp_sse_client.client", "aiohttp")),
    "sseclient-py": (run_sseclient_py, ("sseclient", "requests")),
    "requests-sse": (run_requests_sse, ("requests_sse", "requests")),
}


def child(name: str, url: str, count: int) -> None:
    """Run one in-process contender and print its elapsed seconds (imports excluded)."""
    run, modules = IN_PROCESS[name]
    for module in modules:
        importlib.import_module(module)
    started = time.perf_counter()
    seen = run(url, count)
    elapsed = time.perf_counter() - started
    if seen != count:
        raise SystemExit(f"{name}: saw {seen} events, not {count}")
    print(elapsed)


# --- the parent: rounds, rotated, medians ---------------------------------------------------------


def in_process(name: str):
    def measure(url: str, count: int) -> float:
        done = subprocess.run(
            [sys.executable, str(HERE), "--run", name, url, str(count)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed: {done.stderr.strip()[-400:]}")
        return float(done.stdout.split()[-1])

    return measure


def whole_process(command):
    def measure(url: str, count: int) -> float:
        started = time.perf_counter()
        with open("/dev/null", "wb") as sink:
            subprocess.run(command(url, count), stdout=sink, stderr=subprocess.DEVNULL, check=True)
        return time.perf_counter() - started

    return measure


def contenders(only: set[str] | None) -> dict:
    found: dict = {}
    for name, (_, modules) in IN_PROCESS.items():
        missing = [m for m in modules if importlib.util.find_spec(m.partition(".")[0]) is None]
        if missing:
            print(f"skipped {name}: {missing[0]} is not installed (pip install -e '.[bench]')")
            continue
        found[name] = in_process(name)
    found["watch --json"] = whole_process(
        lambda url, count: [str(BIN / "feedview"), "watch", url, "--json", "--count", str(count)]
    )
    found["ceiling proc"] = whole_process(
        lambda url, count: [sys.executable, str(HERE), "--run", "ceiling", url, str(count)]
    )
    if shutil.which("curl"):
        found["curl"] = whole_process(lambda url, count: ["curl", "-sS", "-N", "-o", "/dev/null", url])
    else:
        print("skipped curl: not on PATH")
    return {name: run for name, run in found.items() if only is None or name in only}


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


def byte_compile_feedview() -> None:
    """Compile feedview's modules once, as pip does when it installs the package: an editable
    install on a machine that sets PYTHONDONTWRITEBYTECODE (this one does) would otherwise
    recompile them in every process (81 M instructions, 11 % of `watch --json`'s start-up;
    the ceiling imports only the standard library and orjson, compiled already)."""
    spec = importlib.util.find_spec("feedview")
    if spec is not None and spec.origin is not None:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(spec.origin).parent)], check=True)


GOALS = (  # (numerator, denominator, at least)
    ("sse_batches", "ceiling", 0.85),
    ("sse_feed", "ceiling", 0.75),
    ("watch --json", "ceiling proc", 0.75),
    ("sse_feed", "httpx-sse", 3.0),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", help="comma-separated contender names")
    parser.add_argument("--run", nargs=3, metavar=("NAME", "URL", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        child(args.run[0], args.run[1], int(args.run[2]))
        return
    runs = contenders(set(args.only.split(",")) if args.only else None)
    byte_compile_feedview()
    names = list(runs)
    rates: dict[str, list[float]] = {name: [] for name in names}
    with lab_process() as base:
        url = f"{base}/firehose?count={args.count}&size={args.size}"
        subprocess.run(  # render once, before any round
            ["curl", "-sS", "-o", "/dev/null", "-H", f"Last-Event-ID: {args.count - 1}", url], check=False
        )
        for round_number in range(args.rounds):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                rates[name].append(args.count / runs[name](url, args.count))
    print(
        f"{args.count:,} events of {args.size} B, {args.rounds} rounds in rotated order, "
        f"medians (min..max); lab in its own process"
    )
    for name in names:
        values = rates[name]
        print(f"  {name:<14} {statistics.median(values):>12,.0f} events/s   ({min(values):,.0f}..{max(values):,.0f})")
    print("ratios (median of the per-round ratios, min..max):")
    for top, bottom, goal in GOALS:
        if top not in rates or bottom not in rates:
            continue
        ratios = [a / b for a, b in zip(rates[top], rates[bottom], strict=True)]
        median = statistics.median(ratios)
        verdict = "met" if median >= goal else "MISSED"
        print(
            f"  {top:>12} / {bottom:<12} {median:5.2f}  ({min(ratios):.2f}..{max(ratios):.2f})"
            f"   goal >= {goal:g}: {verdict}"
        )
    for peer in ("aiohttp-sse", "sseclient-py", "requests-sse"):
        if peer in rates and "httpx-sse" in rates:
            ratios = [a / b for a, b in zip(rates[peer], rates["httpx-sse"], strict=True)]
            print(f"  {peer:>12} / httpx-sse    {statistics.median(ratios):5.2f}")


if __name__ == "__main__":
    main()
