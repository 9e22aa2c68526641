"""The dashboard in a browser against the same dashboard in a terminal: `python benchmarks/serve.py`.

One config (two health panels, "Alpha" and "Beta", on a lab in this process) is opened, in
the same run and in alternating order, by `feedview serve` in headless Chromium (Debian's,
driven by Playwright; the screen read from xterm.js's buffer) and by `feedview --config` in a
160x45 pty. It prints medians with their spread (min-max) of:

  1. page open (or process start) to the first dashboard frame (the tab bar's "Alpha");
  2. key to screen update: "2" and "1" switch tabs, until the other panel's check shows;
  3. RSS of each session's app process (1 and 4 tabs open) against the terminal app's;
  4. tab close to its app process gone; SIGINT to the server gone, with 4 tabs open.

The browser's figures include Playwright's round trips (a few ms each). Goals (2 cores):
first frame <= 2x the terminal's + 300 ms; key to screen <= terminal + 30 ms (median);
session ends <= 2 s. `--screenshot PATH` instead saves the demo's page as a PNG.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pty
import re
import select
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "web"))
from served import CHROMIUM, CHROMIUM_ARGS, is_running, poll_until, start_serve  # noqa: E402

from feedview.lab import LabConfig, start_lab  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
CHECK = re.compile(rb"(alpha|beta)-check")
SCREEN = """() => {
    const term = document.getElementById("terminal")?.xterm;
    if (!term) return "";
    const buffer = term.buffer.active, rows = [];
    for (let y = 0; y < term.rows; y++) rows.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? "");
    return rows.join("\\n");
}"""
SHOWS = "([want, other]) => { const text = (" + SCREEN + ")(); return text.includes(want) && !text.includes(other); }"


def spread(values: list[float], unit: str = " ms", digits: int = 0) -> str:
    return f"{statistics.median(values):,.{digits}f}{unit} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write_config(directory: Path, base: str) -> Path:
    path = directory / "bench.toml"
    panels = []
    for title, name in (("Alpha", "alpha-check"), ("Beta", "beta-check")):
        panels.append(
            f'[[panel]]\nkind = "health"\ntitle = "{title}"\ninterval = 600\n'
            f'[[panel.check]]\nurl = "{base}/health/api"\nname = "{name}"\n'
        )
    path.write_text("\n".join(panels))
    return path


# -- the terminal ------------------------------------------------------------------------------


class Terminal:
    """`feedview --config PATH` in a 160x45 pty."""

    def __init__(self, config: Path) -> None:
        self.started = time.perf_counter()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ.update(TERM="xterm-256color", COLUMNS="160", LINES="45", PYTHONPATH=str(ROOT / "src"))
            os.execv(sys.executable, [sys.executable, "-m", "feedview.cli", "--config", str(config)])
        import fcntl
        import struct
        import termios

        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))

    def until(self, pattern: bytes, timeout: float = 20) -> float:
        """Milliseconds until `pattern` is in what the app writes from now on."""
        seen, started = b"", time.perf_counter()
        while pattern not in seen:
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"the terminal never showed {pattern!r}")
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if ready:
                seen = (seen + os.read(self.fd, 65536))[-65536:]
        return (time.perf_counter() - started) * 1000

    def drain(self) -> None:
        while select.select([self.fd], [], [], 0.05)[0]:
            os.read(self.fd, 65536)

    def close(self) -> None:
        os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                os.read(self.fd, 65536)
            if os.waitpid(self.pid, os.WNOHANG)[0]:
                break
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def terminal_round(config: Path, keys: int) -> tuple[float, list[float], float]:
    term = Terminal(config)
    try:
        first = term.until(b"Alpha") + 0.0
        term.until(b"alpha-check")
        term.drain()
        timings = []
        for index in range(keys):
            key, want = (b"2", b"beta-check") if index % 2 == 0 else (b"1", b"alpha-check")
            started = time.perf_counter()
            os.write(term.fd, key)
            term.until(want)
            timings.append((time.perf_counter() - started) * 1000)
            term.drain()
        return first, timings, rss_mb(term.pid)
    finally:
        term.close()


# -- the browser -------------------------------------------------------------------------------


def browser_round(context, url: str, keys: int) -> tuple[float, list[float]]:
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_function("() => (" + SCREEN + ")().includes('Alpha')", polling="raf", timeout=30000)
        first = (time.perf_counter() - started) * 1000
        page.wait_for_function(SHOWS, arg=["alpha-check", "beta-check"], polling="raf", timeout=30000)
        page.locator("#terminal").click()
        timings = []
        for index in range(keys):
            key, want, other = (
                ("2", "beta-check", "alpha-check") if index % 2 == 0 else ("1", "alpha-check", "beta-check")
            )
            started = time.perf_counter()
            page.keyboard.press(key)
            page.wait_for_function(SHOWS, arg=[want, other], polling="raf", timeout=30000)
            timings.append((time.perf_counter() - started) * 1000)
        return first, timings
    finally:
        page.close()


def open_tabs(context, url: str, count: int) -> list:
    pages = []
    for _ in range(count):
        page = context.new_page()
        page.goto(url)
        page.wait_for_function(SHOWS, arg=["alpha-check", "beta-check"], polling="raf", timeout=30000)
        pages.append(page)
    return pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keys", type=int, default=20, help="key presses per round")
    parser.add_argument("--screenshot", metavar="PATH", help="only save the demo's page as a PNG")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="feedview-bench-") as scratch, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(Path(scratch) / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 720},
        )
        try:
            if args.screenshot:
                return screenshot(context, args.screenshot)
            with start_lab(LabConfig()) as lab:
                return compare(context, write_config(Path(scratch), lab.base_url), args.rounds, args.keys)
        finally:
            context.close()


def screenshot(context, path: str) -> int:
    served = start_serve(["demo"])
    try:
        page = context.new_page()
        page.goto(served.url)
        page.wait_for_function("() => (" + SCREEN + ")().includes('received')", polling="raf", timeout=30000)
        page.locator("#terminal").click()
        page.wait_for_function("() => (" + SCREEN + ")().includes('Close panel')", timeout=30000)
        page.keyboard.press("g")  # the grid: all four panels at once
        page.wait_for_function("() => (" + SCREEN + ")().includes('─ GitHub inbox')", timeout=30000)
        page.wait_for_function("() => (" + SCREEN + ")().includes('octo-org/')", timeout=30000)
        page.screenshot(path=path)
        print(f"saved {path}")
    finally:
        served.stop()
    return 0


def compare(context, config: Path, rounds: int, keys: int) -> int:
    served = start_serve(["--config", str(config)])
    try:
        web_first: list[float] = []
        web_keys: list[float] = []
        term_first: list[float] = []
        term_keys: list[float] = []
        term_rss: list[float] = []
        for index in range(rounds):
            order = ["web", "terminal"] if index % 2 == 0 else ["terminal", "web"]
            for where in order:
                if where == "web":
                    first, timings = browser_round(context, served.url, keys)
                    web_first.append(first)
                    web_keys.extend(timings)
                else:
                    first, timings, rss = terminal_round(config, keys)
                    term_first.append(first)
                    term_keys.extend(timings)
                    term_rss.append(rss)
        poll_until(lambda: not served.sessions(), 10)
        pages = open_tabs(context, served.url, 1)
        one = [rss_mb(pid) for pid in served.sessions()]
        pages += open_tabs(context, served.url, 3)
        four = [rss_mb(pid) for pid in served.sessions()]
        server_rss = rss_mb(served.process.pid)
        closes = []
        for page in pages[:2]:
            sessions = set(served.sessions())
            started = time.perf_counter()
            page.close()
            poll_until(lambda sessions=sessions: len(set(served.sessions())) < len(sessions), 10)
            closes.append((time.perf_counter() - started) * 1000)
        sessions = served.sessions()
        started = time.perf_counter()
        served.process.send_signal(signal.SIGINT)
        served.process.wait(10)
        stop_ms = (time.perf_counter() - started) * 1000
        left = [pid for pid in sessions if is_running(pid)]
    finally:
        served.stop()
    print(
        f"first frame      browser {spread(web_first)}   terminal {spread(term_first)}   ({rounds} rounds, alternating)"
    )
    print(f"key to screen    browser {spread(web_keys)}   terminal {spread(term_keys)}   ({len(web_keys)} keys each)")
    print(
        f"RSS per session  1 tab {spread(one, ' MB', 1)}, 4 tabs {spread(four, ' MB', 1)}; "
        f"terminal app {spread(term_rss, ' MB', 1)}; the server itself {server_rss:.1f} MB"
    )
    print(
        f"session ends     tab closed {spread(closes)}; SIGINT with {len(sessions)} tabs: server gone in "
        f"{stop_ms:,.0f} ms, {len(left)} app process(es) left"
    )
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"(1-minute load average at the end: {load}; {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
