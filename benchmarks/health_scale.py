"""How well the health feed keeps its schedule with many checks.

    .venv/bin/python benchmarks/health_scale.py [--checks 200] [--interval 1] [--duration 30]

The lab runs in a separate process (`feedview lab`), so it does not share this
process's GIL or event loop: what is measured is the feed alone. Figures:

  samples    achieved (started within the run) against scheduled (checks x duration / interval)
  lateness   how long after its announced time (the previous sample's next_at) a check
             started, p50/p99/max; the first round is left out (it has no announced time)
  CPU        of this process (one core = 100 %), and of the lab process for context
  baseline   the same number of bare asyncio timers on the same schedule, no HTTP:
             the lateness floor of this machine at this moment (it is shared)

Goal: p99 lateness under 100 ms on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time

from feedview.feeds.health import health_feed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else float("nan")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_lab() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedview.cli", "lab", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline()
    if "listening on" not in first:
        proc.kill()
        sys.exit(f"health_scale: the lab did not start: {first}{proc.stderr.read()}")
    return proc, first.split()[4]


async def baseline(checks: int, interval: float, duration: float) -> list[float]:
    """Bare timers with the feed's jitter: the machine's own lateness."""
    loop = asyncio.get_running_loop()
    end = loop.time() + duration
    late: list[float] = []

    async def timer() -> None:
        due = loop.time() + random.uniform(0, interval)
        while due < end:
            await asyncio.sleep(due - loop.time())
            now = loop.time()
            late.append(now - due)
            due = now + interval * random.uniform(0.9, 1.1)

    await asyncio.gather(*(timer() for _ in range(checks)))
    return late


async def measure(base_url: str, checks: int, interval: float, duration: float) -> dict:
    urls = [f"{base_url}/health/svc{i}" for i in range(checks)]
    announced: dict[int, float] = {}
    late: list[float] = []
    achieved = failed = 0
    wall0, cpu0 = time.time(), time.process_time()
    end = wall0 + duration
    async with contextlib.aclosing(health_feed(urls, interval=interval, timeout=5.0)) as feed:
        async for sample in feed:
            if sample.time >= end:
                break
            achieved += 1
            failed += not sample.ok
            if sample.check_id in announced:
                late.append(sample.time - announced[sample.check_id])
            announced[sample.check_id] = sample.next_at
    wall, cpu = time.time() - wall0, time.process_time() - cpu0
    return {"achieved": achieved, "failed": failed, "late": late, "cpu_pct": 100 * cpu / wall, "wall": wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args()

    lab, base_url = start_lab()
    try:
        floor = asyncio.run(baseline(args.checks, args.interval, min(args.duration, 10.0)))
        lab_cpu0, t0 = cpu_seconds(lab.pid), time.time()
        result = asyncio.run(measure(base_url, args.checks, args.interval, args.duration))
        lab_cpu_pct = 100 * (cpu_seconds(lab.pid) - lab_cpu0) / (time.time() - t0)
    finally:
        lab.send_signal(signal.SIGINT)
        lab.wait(timeout=10)

    scheduled = round(args.checks * args.duration / args.interval)
    late_ms = [v * 1000 for v in result["late"]]
    floor_ms = [v * 1000 for v in floor]
    p50, p99 = percentile(late_ms, 0.50), percentile(late_ms, 0.99)
    b50, b99 = percentile(floor_ms, 0.50), percentile(floor_ms, 0.99)
    print(
        f"health_scale: {args.checks} checks, interval {args.interval:g} s, {args.duration:g} s, lab in its own process"
    )
    print(
        f"  samples   {result['achieved']} achieved / {scheduled} scheduled "
        f"({100 * result['achieved'] / scheduled:.1f} %), {result['failed']} failed"
    )
    print(
        f"  lateness  p50 {p50:.2f} ms  p99 {p99:.2f} ms  max {max(late_ms, default=float('nan')):.2f} ms"
        f"  (over {len(late_ms)} samples)"
    )
    print(
        f"  baseline  bare timers: p50 {b50:.2f} ms  p99 {b99:.2f} ms  -> feed/baseline p99 x{p99 / max(b99, 1e-6):.1f}"
    )
    print(f"  CPU       feed process {result['cpu_pct']:.1f} %   lab process {lab_cpu_pct:.1f} %  (100 % = one core)")
    verdict = "met" if p99 < 100 else "MISSED"
    print(f"  goal      p99 lateness < 100 ms: {verdict}")
    return 0 if p99 < 100 else 1


if __name__ == "__main__":
    sys.exit(main())
