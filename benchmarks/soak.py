"""Do the feeds survive a hostile server? `python benchmarks/soak.py [--minutes 5]`.

    PYTHONPATH=src nice -n 10 .venv/bin/python benchmarks/soak.py --minutes 5 \\
        [--feeds watch,health,repos,notifications] [--baseline-minutes M] [--bomb-mb 256] [--faults F1,F2]

(--minutes 0.5 is a quick check. --faults gives every feed one list of faults.FAULTS names
instead of its own cycle, e.g. `--feeds watch --faults ok_stream,hostile_text` to check a fix;
an event stream needs ok_stream, not ok, to move on.)

The lab runs in a process of its own; each feed runs in a process of its own too: the
real `feedview watch|health|repos|notifications --json` command (feedview.cli.main),
inside a runner that ticks a 10 ms timer on the command's own event loop (its lateness
is the loop lag), samples RSS from a thread, and swallows stdout into a counter that
looks for terminal-hostile bytes. A command that ends by itself (a repository listing
is finite; a final error) is started again, and counted.

Two phases (the same length unless --baseline-minutes says otherwise), one after the
other, with every selected feed at once:

  baseline  the feeds against well-behaved lab URLs
  hostile   the same feeds against `cycle=` URLs: each request (each connection, each
            poll, each page) gets the next fault of the feed's list in faults.CYCLES
            (bombs, nesting, hostile numbers and text, broken redirects, odd statuses,
            rate limits, absurd retry and poll values, reconnect storms, ...)

Figures, per feed, hostile with the baseline beside it:

  exceptions escaped   exceptions out of the command, plus tracebacks or "Exception
                       ignored" on its stderr, plus an exit of the runner other than by our
                       ctrl+c (goal 0); the command's own exits (status 0 or 1, say) are listed
  peak RSS             the kernel's high-water mark (VmHWM) of the process (goal < 150 MB)
  RSS growth           the lowest RSS in the run's last quarter minus the lowest in its first
                       quarter after the warm-up: what stays, not a bomb in flight (goal < 10 MB)
  loop lag p99, max    lateness of the 10 ms timer after the warm-up (goal p99 < 50 ms); and
                       `loop stuck`, the sum of lateness over 50 ms (a stuck loop ticks rarely,
                       so its p99 understates it)
  requests/s max       the most requests the lab saw from the feed in any 1 s window: each is
                       a connection, poll, page or retry (goal: at most 1/MIN_RECONNECT_S per
                       stream or check; repository listings page on demand, so: no goal)
  ctrl+c to exit       SIGINT at the end of the phase, until the process is gone (goal < 1 s)
  hostile bytes        raw C0/C1 controls, DEL, bidi or zero-width characters on stdout or
                       stderr (goal 0); `hunter2` (the lab's URL password) on stderr (goal 0)

Every wait has a deadline: a runner that does not exit 5 s after ctrl+c is killed (and
reported as such), the lab is killed if it does not stop, and a watchdog ends the whole
run if it overshoots its schedule. Exit status 0 when every goal is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter, deque
from pathlib import Path
from urllib.parse import parse_qsl

FEEDS = ("watch", "health", "repos", "notifications")
TICK_S = 0.010
STALL_MS = 50
LAG_BUCKETS = 10_000  # 1 ms buckets; later ones count as the last
SIGINT_DEADLINE_S = 5.0
LAB_DEADLINE_S = 30.0
GOAL_PEAK_MB, GOAL_GROWTH_MB, GOAL_LAG_P99_MS, GOAL_EXIT_S = 150.0, 10.0, 50.0, 1.0
HEALTH_CHECKS = 3
HOSTILE_BYTES = re.compile(
    rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\x8b-\x8f\xaa-\xae]|\xe2\x81[\xa0-\xa4\xa6-\xa9]|\xef\xbb\xbf"
)
CREDENTIAL = b"hunter2"
ESCAPES = ("Traceback (most recent call last)", "Exception ignored", "exception was never retrieved")


# -- the lab process ---------------------------------------------------------------------------


def tag_of(path: str, query: str) -> str:
    """The tag= knob of a logged request, from its /_knobs/ prefix or its query."""
    knobs = {}
    if path.startswith("/_knobs/"):
        knobs.update(parse_qsl(path[len("/_knobs/") :].split("/", 1)[0], keep_blank_values=True))
    knobs.update(parse_qsl(query, keep_blank_values=True))
    return knobs.get("tag", "")


class Tally:
    """Requests per tag: how many, the most in any 1 s window, and the faults they got."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.faults: dict[str, Counter[str]] = {}
        self.recent: dict[str, deque[float]] = {}

    def add(self, tag: str, when: float, fault: str) -> None:
        recent = self.recent.setdefault(tag, deque())
        recent.append(when)
        while recent[0] <= when - 1.0:
            recent.popleft()
        self.requests[tag] += 1
        self.peak[tag] = max(self.peak[tag], len(recent))
        if fault:
            self.faults.setdefault(tag, Counter())[fault] += 1

    def report(self) -> dict:
        return {
            tag: {"requests": n, "peak_per_s": self.peak[tag], "faults": dict(self.faults.get(tag, {}))}
            for tag, n in self.requests.items()
        }


def serve_lab() -> int:
    """`--serve-lab`: print `lab URL`, then answer `report` lines on stdin with one JSON line; stop at EOF."""
    from feedview.lab import LabConfig, start_lab

    config = LabConfig(
        rate_limit=10**9,
        keepalive_s=5.0,
        extra={"notifications_poll_interval": 1.0, "notifications_new_every": 2.0},
    )
    tally = Tally()
    try:
        with start_lab(config) as lab:
            print(f"lab {lab.base_url}", flush=True)
            while True:
                readable, _, _ = select.select([sys.stdin], [], [], 0.5)
                for record in lab.state.take_requests():
                    tally.add(tag_of(record.path, record.query), record.time, record.fault)
                if readable:
                    if not sys.stdin.readline():
                        return 0
                    print(json.dumps(tally.report()), flush=True)
    except KeyboardInterrupt:  # the parent's last resort, after stdin's EOF went unheeded
        return 0


# -- the runner process (one feed) -----------------------------------------------------------


class Probe:
    """What the runner measures inside the feed's process."""

    def __init__(self, warmup_s: float) -> None:
        self.started = time.time()
        self.measure_from = time.monotonic() + warmup_s
        self.lag = [0] * LAG_BUCKETS
        self.lag_max_ms = 0.0
        self.stalled_s = 0.0  # the sum of lateness beyond STALL_MS: how long the loop was stuck, in all
        self.rss: list[tuple[float, float]] = []
        self.runs = 0
        self.exit_codes: Counter[str] = Counter()
        self.escaped: list[str] = []
        self.out_bytes = self.out_lines = self.out_hostile = self.out_credentials = 0
        self.out_example = ""
        self.lock = threading.Lock()

    async def tick(self) -> None:
        """A 10 ms timer on the feed's loop; its lateness is the loop's lag."""
        loop = asyncio.get_running_loop()
        due = loop.time() + TICK_S
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            now = loop.time()
            if time.monotonic() >= self.measure_from:
                late_ms = (now - due) * 1000
                self.lag[min(int(late_ms), LAG_BUCKETS - 1)] += 1
                self.lag_max_ms = max(self.lag_max_ms, late_ms)
                self.stalled_s += late_ms / 1000 if late_ms > STALL_MS else 0.0
            due = now + TICK_S

    async def around(self, main):
        ticker = asyncio.ensure_future(self.tick())
        try:
            return await main
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    def sample_rss(self) -> None:
        with self.lock:
            self.rss.append((time.time() - self.started, status_mb("VmRSS")))

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "lag_hist_ms": self.lag,
                "lag_max_ms": self.lag_max_ms,
                "stalled_s": self.stalled_s,
                "rss": list(self.rss),
                "hwm_mb": status_mb("VmHWM"),
                "runs": self.runs,
                "exit_codes": dict(self.exit_codes),
                "escaped": self.escaped[:5],
                "escaped_count": len(self.escaped),
                "stdout": {
                    "bytes": self.out_bytes,
                    "lines": self.out_lines,
                    "hostile": self.out_hostile,
                    "credentials": self.out_credentials,
                    "example": self.out_example,
                },
            }


def status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class CountingSink(io.RawIOBase):
    """stdout for the command: counted and searched for hostile bytes, then dropped."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)  # whole lines: the commands flush a line (or a batch of lines) at a time
        probe = self.probe
        probe.out_bytes += len(data)
        probe.out_lines += data.count(b"\n")
        probe.out_credentials += data.count(CREDENTIAL)
        found = HOSTILE_BYTES.search(data)
        if found:
            probe.out_hostile += len(HOSTILE_BYTES.findall(data))
            probe.out_example = probe.out_example or repr(data[max(0, found.start() - 40) : found.end() + 20])
        return len(data)


def run_feed(argv: list[str], metrics_path: Path, warmup_s: float) -> int:
    """`--run-feed`: run `feedview ARGV` under the probe until ctrl+c, starting it again when it ends."""
    probe = Probe(warmup_s)
    original_run = asyncio.run
    asyncio.run = lambda main, **kw: original_run(probe.around(main), **kw)
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(CountingSink(probe)), encoding="utf-8", write_through=True)

    writing = threading.Lock()

    def write_metrics() -> None:
        with writing:  # the sampler's and the last one
            temporary = metrics_path.with_suffix(".tmp")
            temporary.write_text(json.dumps(probe.snapshot()))
            temporary.replace(metrics_path)

    def sampler() -> None:
        while True:
            probe.sample_rss()
            if len(probe.rss) % 2 == 0:
                write_metrics()
            time.sleep(0.5)

    threading.Thread(target=sampler, name="soak-sampler", daemon=True).start()
    from feedview.cli import main

    try:
        while True:
            status = one_run(main, argv, probe)
            if status == 130:
                break
            # a command that ended (a final error, a finished listing) starts again a second later:
            # the requests/s figure is the feed's own pace, not this loop's
            time.sleep(1.0)
    except KeyboardInterrupt:  # between two runs
        pass
    finally:
        probe.sample_rss()
        write_metrics()
    return 0


def one_run(main, argv: list[str], probe: Probe) -> int:
    """One run of the command: its exit status; an exception out of it is counted, in one line."""
    probe.runs += 1
    try:
        status = main(list(argv))
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the feed let it out: the thing this benchmark looks for
        frames = traceback.extract_tb(exc.__traceback__)
        where = next((f for f in reversed(frames) if "/feedview/" in f.filename), frames[-1])
        place = where.filename.rpartition("/feedview/")[2] or where.filename
        line = shown(f"{type(exc).__name__}: {str(exc)[:200]} (last in feedview: {place}:{where.lineno})")
        probe.escaped.append(line)
        print(f"soak runner: escaped {line}", file=sys.stderr, flush=True)
        status = -1
    probe.exit_codes[str(status)] += 1
    return status


# -- the parent: processes, deadlines ------------------------------------------------------------


class Drain:
    """Reads a child's pipe in a thread so it never blocks; keeps what the report needs."""

    def __init__(self, pipe, lines: queue.Queue | None = None) -> None:
        self.pipe, self.lines = pipe, lines
        self.escapes = Counter()
        self.hostile = self.credentials = self.count = 0
        self.first_escape: list[str] = []
        self.last: deque[str] = deque(maxlen=3)
        self.hostile_example = ""
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        collecting = 0
        for raw in iter(lambda: self.pipe.readline(65536), b""):
            text = raw.decode("utf-8", "replace").rstrip("\n")
            if self.lines is not None:
                self.lines.put(text)
                continue
            self.count += 1
            self.last.append(text[:160])
            found = HOSTILE_BYTES.findall(raw.rstrip(b"\n"))
            if found and not self.hostile_example:
                self.hostile_example = repr(raw[:120])
            self.hostile += len(found)
            self.credentials += raw.count(CREDENTIAL)
            escape = next((e for e in ESCAPES if e in text), None)
            if escape:
                self.escapes[escape] += 1
                collecting = 0 if self.first_escape else 12
            if collecting:
                self.first_escape.append(text[:160])
                collecting -= 1


def start_lab(python: str) -> tuple[subprocess.Popen, str, queue.Queue, Drain]:
    process = subprocess.Popen(
        [python, __file__, "--serve-lab"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=False,
    )
    CHILDREN.append(process)
    lines: queue.Queue = queue.Queue()
    Drain(process.stdout, lines)
    errors = Drain(process.stderr)
    try:
        first = lines.get(timeout=LAB_DEADLINE_S)
    except queue.Empty:
        stop(process)
        sys.exit(f"soak: the lab did not start within {LAB_DEADLINE_S:g} s: {list(errors.last)}")
    if not first.startswith("lab "):
        stop(process)
        sys.exit(f"soak: the lab did not start: {first} {list(errors.last)}")
    return process, first.split()[1], lines, errors


def lab_report(process: subprocess.Popen, lines: queue.Queue) -> dict:
    try:
        process.stdin.write(b"report\n")
        process.stdin.flush()
        return json.loads(lines.get(timeout=LAB_DEADLINE_S))
    except (OSError, queue.Empty, ValueError) as exc:
        print(f"soak: no request log from the lab ({type(exc).__name__})", file=sys.stderr)
        return {}


def stop(process: subprocess.Popen, sig: int = signal.SIGINT) -> float | None:
    """Signal the process and wait (with a deadline): seconds until it exited, None if it had to be killed."""
    if process.poll() is not None:
        return 0.0
    began = time.monotonic()
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(sig)
    try:
        process.wait(timeout=SIGINT_DEADLINE_S)
        return time.monotonic() - began
    except subprocess.TimeoutExpired:
        process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=SIGINT_DEADLINE_S)
        return None


def feed_argv(feed: str, base: str, cycle: str | None, bomb_mb: int) -> list[str]:
    """The feedview command line for a feed, against the well-behaved lab or (with a cycle) the cycling one."""
    tag = feed if cycle else f"{feed}.base"
    knobs = f"tag={tag}" + (f"&cycle={cycle}&bomb_mb={bomb_mb}" if cycle else "")
    if feed == "watch":
        return ["watch", f"{base}/events?interval=0.05&retry=250&{knobs}", "--json", "--idle-timeout", "3"]
    if feed == "health":
        urls = [f"{base}/health/soak{n}?{knobs}" for n in range(HEALTH_CHECKS)]
        return ["health", *urls, "--json", "--interval", "1", "--timeout", "2"]
    github = ["--json", "--token", "lab-token", "--base-url", f"{base}/_knobs/{knobs}"]
    if feed == "repos":
        return ["repos", "octo-org", "--org", "--per-page", "10", *github]
    return ["notifications", "--all", *github]


CYCLE_OF = {"watch": "sse", "health": "health", "repos": "repos", "notifications": "notifications"}


def cycle_of(feed: str, args) -> str:
    """The cycle= a feed gets in the hostile phase: its own list in faults.CYCLES, or --faults."""
    return args.faults or CYCLE_OF[feed]


class Phase:
    """Every selected feed's runner for one phase, and what they left behind."""

    def __init__(self, name: str, feeds: list[str], base: str, hostile: bool, args, workdir: Path) -> None:
        self.name, self.feeds, self.hostile = name, feeds, hostile
        self.duration = (args.minutes if hostile else args.baseline_minutes) * 60
        self.warmup = min(10.0, self.duration / 5)
        self.processes: dict[str, subprocess.Popen] = {}
        self.stderr: dict[str, Drain] = {}
        self.metrics_paths = {feed: workdir / f"{name}-{feed}.json" for feed in feeds}
        self.argv = {feed: feed_argv(feed, base, hostile and cycle_of(feed, args), args.bomb_mb) for feed in feeds}
        self.exit_s: dict[str, float | None] = {}
        self.early: dict[str, tuple[int | None, float]] = {}

    def run(self, python: str) -> None:
        env = {k: v for k, v in os.environ.items() if "TOKEN" not in k}
        began = time.monotonic()
        for feed in self.feeds:
            command = [
                python,
                __file__,
                "--run-feed",
                str(self.metrics_paths[feed]),
                "--warmup",
                f"{self.warmup}",
                "--",
                *self.argv[feed],
            ]
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
            )
            self.processes[feed] = process
            CHILDREN.append(process)
            self.stderr[feed] = Drain(process.stderr)
        end = began + self.duration
        while time.monotonic() < end:
            time.sleep(min(1.0, max(0.0, end - time.monotonic())))
            for feed, process in self.processes.items():
                if process.poll() is not None and feed not in self.early:
                    self.early[feed] = (process.returncode, time.monotonic() - began)
        # ctrl+c to every feed at once; each one's exit is timed on its own
        began = time.monotonic()
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGINT)
        pending = {feed for feed, p in self.processes.items() if feed not in self.early}
        while pending and time.monotonic() - began < SIGINT_DEADLINE_S:
            for feed in list(pending):
                if self.processes[feed].poll() is not None:
                    self.exit_s[feed] = time.monotonic() - began
                    pending.discard(feed)
            time.sleep(0.005)
        for feed in pending:
            self.exit_s[feed] = None
            stop(self.processes[feed], signal.SIGKILL)
        for drain in self.stderr.values():
            drain.thread.join(timeout=2)

    def metrics(self, feed: str) -> dict:
        try:
            return json.loads(self.metrics_paths[feed].read_text())
        except (OSError, ValueError):
            return {}


# -- figures ----------------------------------------------------------------------------------------


def lag_percentile(hist: list[int], q: float) -> float | None:
    total = sum(hist)
    if not total:
        return None
    wanted, seen = q * total, 0
    for ms, count in enumerate(hist):
        seen += count
        if seen >= wanted:
            return ms + 1.0  # the bucket's upper edge: never flattering
    return float(len(hist))


def rss_growth(rss: list[list[float]], warmup: float) -> float | None:
    values = [mb for t, mb in rss if t >= warmup]
    if len(values) < 8:
        return None
    quarter = len(values) // 4
    return min(values[-quarter:]) - min(values[:quarter])


def figures(phase: Phase, feed: str, log: dict) -> dict:
    metrics, errors = phase.metrics(feed), phase.stderr.get(feed)
    tag = feed if phase.hostile else f"{feed}.base"
    stderr_escapes = sum(errors.escapes.values()) if errors else 0
    early = phase.early.get(feed)
    return {
        "escaped": metrics.get("escaped_count", 0) + stderr_escapes + (1 if early else 0),
        "peak_mb": metrics.get("hwm_mb"),
        "growth_mb": rss_growth(metrics.get("rss", []), phase.warmup),
        "lag_p99": lag_percentile(metrics.get("lag_hist_ms", []), 0.99),
        "lag_max": metrics.get("lag_max_ms"),
        "stalled_s": metrics.get("stalled_s"),
        "per_s": log.get(tag, {}).get("peak_per_s"),
        "requests": log.get(tag, {}).get("requests", 0),
        "faults": log.get(tag, {}).get("faults", {}),
        "exit_s": phase.exit_s.get(feed),
        "hostile": metrics.get("stdout", {}).get("hostile", 0) + (errors.hostile if errors else 0),
        "credentials_stderr": errors.credentials if errors else 0,
        "credentials_stdout": metrics.get("stdout", {}).get("credentials", 0),
        "runs": metrics.get("runs", 0),
        "exit_codes": metrics.get("exit_codes", {}),
        "lines": (metrics.get("stdout", {}).get("lines", 0), errors.count if errors else 0),
        "metrics": metrics,
        "errors": errors,
        "early": early,
    }


def shown(text: str) -> str:
    """Text from a feed's process, safe for this terminal: what is not printable is written as an escape."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def fmt(value, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if unit == " ms" and value >= LAG_BUCKETS:
        return f">= {LAG_BUCKETS} ms"
    return f"{value:.{digits}f}{unit}" if isinstance(value, float) else f"{value}{unit}"


class Verdicts:
    def __init__(self) -> None:
        self.met = self.missed = 0

    def line(self, label: str, figure: str, goal: str, ok: bool | None, baseline: str = "") -> str:
        if ok is True:
            self.met += 1
        elif ok is False:
            self.missed += 1
        verdict = {True: "pass", False: "FAIL", None: ""}[ok]
        return f"  {label:<22}{figure:>14}   {goal:<16}{verdict:<6}{baseline}"


def per_s_goal(feed: str) -> float | None:
    from feedview.feeds.limits import MIN_RECONNECT_S

    slots = {"watch": 1, "health": HEALTH_CHECKS, "notifications": 1}.get(feed)
    return None if slots is None else slots / MIN_RECONNECT_S


def report(feed: str, hot: dict, base: dict | None, cycle: list[str], verdicts: Verdicts) -> None:
    def beside(key: str, unit: str = "", digits: int = 1) -> str:
        if base is None or base.get(key) is None:
            return ""
        ratio = ""
        if hot.get(key) and base[key] and key in ("lag_p99", "lag_max", "peak_mb"):
            ratio = f" (x{hot[key] / base[key]:.1f})"
        return f"baseline {fmt(base[key], unit, digits)}{ratio}"

    served = set(hot["faults"])
    codes = ", ".join(f"rc {rc} x{n}" for rc, n in sorted(hot["exit_codes"].items()))
    print(
        f"{feed}: {hot['requests']} requests, {len(served)} of {len(set(cycle))} faults served "
        f"({sum(hot['faults'].values()) / max(1, len(cycle)):.1f} cycles); {hot['runs']} runs ({codes or 'none'});"
        f" {hot['lines'][0]} stdout lines, {hot['lines'][1]} stderr lines"
    )
    escaped = hot["escaped"]
    print(verdicts.line("exceptions escaped", fmt(escaped), "goal 0", escaped == 0, beside("escaped")))
    peak = hot["peak_mb"]
    print(
        verdicts.line(
            "peak RSS",
            fmt(peak, " MB"),
            f"< {GOAL_PEAK_MB:g} MB",
            None if peak is None else peak < GOAL_PEAK_MB,
            beside("peak_mb", " MB"),
        )
    )
    growth = hot["growth_mb"]
    print(
        verdicts.line(
            "RSS growth",
            fmt(growth, " MB"),
            f"< {GOAL_GROWTH_MB:g} MB",
            None if growth is None else growth < GOAL_GROWTH_MB,
            beside("growth_mb", " MB"),
        )
    )
    p99 = hot["lag_p99"]
    print(
        verdicts.line(
            "loop lag p99",
            fmt(p99, " ms", 0),
            f"< {GOAL_LAG_P99_MS:g} ms",
            None if p99 is None else p99 < GOAL_LAG_P99_MS,
            beside("lag_p99", " ms", 0),
        )
    )
    print(verdicts.line("loop lag max", fmt(hot["lag_max"], " ms", 0), "(no goal)", None, beside("lag_max", " ms", 0)))
    print(
        verdicts.line(
            f"loop stuck > {STALL_MS} ms",
            fmt(hot["stalled_s"], " s"),
            "(no goal)",
            None,
            beside("stalled_s", " s"),
        )
    )
    goal = per_s_goal(feed)
    per_s = hot["per_s"]
    print(
        verdicts.line(
            "requests/s max",
            fmt(per_s),
            "no goal" if goal is None else f"<= {goal:g}",
            None if goal is None or per_s is None else per_s <= goal,
            beside("per_s"),
        )
    )
    exit_s = hot["exit_s"]
    shown = f"> {SIGINT_DEADLINE_S:g} s, killed" if exit_s is None and not hot["early"] else fmt(exit_s, " s", 2)
    print(
        verdicts.line(
            "ctrl+c to exit",
            shown,
            f"< {GOAL_EXIT_S:g} s",
            False if exit_s is None else exit_s < GOAL_EXIT_S,
            beside("exit_s", " s", 2),
        )
    )
    print(verdicts.line("hostile bytes out", fmt(hot["hostile"]), "goal 0", hot["hostile"] == 0, beside("hostile")))
    print(
        verdicts.line(
            "hunter2 on stderr",
            fmt(hot["credentials_stderr"]),
            "goal 0",
            hot["credentials_stderr"] == 0,
            f"(stdout, raw --json objects: {hot['credentials_stdout']})",
        )
    )
    details(hot)


def details(hot: dict) -> None:
    errors, metrics = hot["errors"], hot["metrics"]
    if hot["early"]:
        code, after = hot["early"]
        print(f"    exited by itself with status {code} after {after:.1f} s")
    for line in metrics.get("escaped", []):
        print(f"    escaped: {shown(line)}")
    if errors and errors.escapes:
        print(f"    on stderr: {dict(errors.escapes)}; the first:")
        for line in errors.first_escape:
            print(f"      | {shown(line)}")
    example = metrics.get("stdout", {}).get("example") or (errors.hostile_example if errors else "")
    if example:
        print(f"    hostile bytes, e.g.: {shown(example[:160])}")
    if not metrics:
        print("    no metrics from the runner (it never got going?)")
    if errors and errors.last:
        print("    its last stderr lines:")
        for line in errors.last:
            print(f"      | {shown(line)}")


CHILDREN: list[subprocess.Popen] = []  # every process this run started, for the watchdog


def watchdog(*_) -> None:
    """The run overshot its schedule (something has no deadline after all): kill what it started, and say so."""
    for process in CHILDREN:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    print("soak: watchdog: the run overshot its schedule; its processes were killed", file=sys.stderr, flush=True)
    os._exit(2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the hostile phase (default 5)")
    parser.add_argument("--baseline-minutes", type=float, help="length of the baseline phase (default: --minutes)")
    parser.add_argument("--feeds", default=",".join(FEEDS), help="comma list of " + ", ".join(FEEDS))
    parser.add_argument("--bomb-mb", type=int, default=256, help="what each decompression bomb expands to (MiB)")
    parser.add_argument(
        "--faults",
        metavar="F1,F2",
        help="one list of faults.FAULTS names for every feed, instead "
        "of each feed's own cycle (e.g. to check one fix: --faults ok,hostile_text)",
    )
    parser.add_argument("--serve-lab", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run-feed", metavar="METRICS", help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("argv", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_lab:
        return serve_lab()
    if args.run_feed:
        return run_feed(args.argv, Path(args.run_feed), args.warmup)
    return soak(args)


def soak(args) -> int:
    from tempfile import TemporaryDirectory

    from feedview.lab.faults import cycle_names
    from feedview.lab.hostile import BadKnob

    feeds = [f.strip() for f in args.feeds.split(",") if f.strip()]
    unknown = [f for f in feeds if f not in FEEDS]
    if unknown or not feeds or args.minutes <= 0:
        sys.exit(f"soak: --feeds takes {', '.join(FEEDS)} and --minutes a positive number")
    try:
        cycles = {feed: cycle_names(cycle_of(feed, args)) for feed in feeds}
    except BadKnob as exc:
        sys.exit(f"soak: --faults: {exc}")
    args.baseline_minutes = args.minutes if args.baseline_minutes is None else args.baseline_minutes
    schedule = (args.minutes + args.baseline_minutes) * 60 + 4 * SIGINT_DEADLINE_S + 3 * LAB_DEADLINE_S + 60
    signal.signal(signal.SIGALRM, watchdog)
    signal.alarm(int(schedule))
    python = sys.executable
    print(
        f"soak: {', '.join(feeds)}; baseline {args.baseline_minutes:g} min, then hostile {args.minutes:g} min; "
        f"bombs {args.bomb_mb} MiB; lab and each feed in processes of their own",
        flush=True,
    )
    lab, base, lines, lab_errors = start_lab(python)
    phases: list[Phase] = []
    try:
        with TemporaryDirectory(prefix="soak-") as workdir:
            for name, hostile in (("baseline", False), ("hostile", True)):
                phase = Phase(name, feeds, base, hostile, args, Path(workdir))
                if phase.duration <= 0:
                    continue
                print(f"soak: {name} phase, {phase.duration:g} s (warm-up {phase.warmup:g} s)...", flush=True)
                for feed in feeds:
                    print(f"  feedview {' '.join(phase.argv[feed])}", flush=True)
                phase.run(python)
                phases.append(phase)
            log = lab_report(lab, lines)
            verdicts = Verdicts()
            by_name = {phase.name: phase for phase in phases}
            print()
            for feed in feeds:
                hot = figures(by_name["hostile"], feed, log)
                base_figures = figures(by_name["baseline"], feed, log) if "baseline" in by_name else None
                report(feed, hot, base_figures, cycles[feed], verdicts)
                print()
    finally:
        for process in CHILDREN[1:]:  # feeds still running (this run was interrupted): ours to end
            if process.poll() is None:
                stop(process, signal.SIGKILL)
        with contextlib.suppress(OSError):
            lab.stdin.close()  # the lab's cue to stop
        try:
            lab.wait(timeout=LAB_DEADLINE_S)
        except subprocess.TimeoutExpired:
            stop(lab)
        signal.alarm(0)
    if lab_errors.count:
        print(
            f"soak: the lab wrote {lab_errors.count} stderr lines (a lab problem, not a feed's); last: "
            f"{list(lab_errors.last)}"
        )
    print(f"soak: {verdicts.met} goals met, {verdicts.missed} missed")
    return 0 if verdicts.missed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
