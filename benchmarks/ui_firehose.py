"""How the dashboard holds up under a firehose: `python benchmarks/ui_firehose.py`.

The app runs headless (run_test) with a notifications panel; the servers run in
subprocesses so that the UI's process does only UI work. It prints:

  1. events/s taken in at the UI on the lab's /firehose, against the bare SSE feed
     (no UI) on the same firehose in the same run;
  2. key-press-to-repaint latency p50/p99 while a paced stream sends 10,000 events/s;
  3. RSS after 10,000 events and after 1,000,000 (the ring buffer keeps 1,000);
  4. the time from ctrl+w to the server seeing the disconnect;
  5. the time from launching `feedview demo` to its first painted frame (in a pty),
     against the floor of starting Python and importing textual.app. feedview's
     modules are byte-compiled first, as pip does when it installs a package: an
     editable install on a machine that sets PYTHONDONTWRITEBYTECODE (this one does)
     would otherwise recompile them on every launch (about 12 ms of the first frame).

Goals (2 cores): >= 50,000 events/s, p99 < 50 ms, RSS growth < 50 MB,
disconnect < 50 ms, first frame < 400 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import pty
import select
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import feedview.ui  # noqa: F401  (first: it sets Textual's frame rate, as `feedview` does)

ROOT = Path(__file__).resolve().parent.parent
FEEDVIEW = ROOT / ".venv" / "bin" / "feedview"
PYTHON = sys.executable

# -- servers, in subprocesses -------------------------------------------------------------


def start_lab() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([str(FEEDVIEW), "lab", "--port", "0"], stdout=subprocess.PIPE, text=True)
    first = process.stdout.readline()
    return process, first.split(" on ", 1)[1].split()[0]


PACED_SERVER = r"""
import asyncio, json, sys, time
RATE, TICK = float(sys.argv[1]), 0.005
def frame(n):
    data = json.dumps({"id": f"p{n:010d}", "time": int(time.time()), "event": "message", "topic": "paced",
                       "title": f"Event {n}", "message": "x" * 120, "priority": 3, "tags": ["zap"]})
    return f"id: {n}\ndata: {data}\n\n".encode()
async def handle(reader, writer):
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\r\n")
    n, start = 0, time.monotonic()
    async def watch():
        try:
            await reader.read()  # EOF: the client is gone
        except OSError:
            pass
        print(f"disconnect {time.monotonic():.6f}", flush=True)
    watcher = asyncio.ensure_future(watch())
    try:
        while not watcher.done():
            due = int((time.monotonic() - start) * RATE)
            if due > n:
                writer.write(b"".join(frame(i) for i in range(n + 1, due + 1)))
                n = due
                await writer.drain()
            await asyncio.sleep(TICK)
    except (ConnectionError, OSError):
        await watcher
    writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


def start_paced(rate: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([PYTHON, "-c", PACED_SERVER, str(rate)], stdout=subprocess.PIPE, text=True)
    port = process.stdout.readline().split()[1]
    return process, f"http://127.0.0.1:{port}/paced"


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


# -- the app --------------------------------------------------------------------------------


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"ui_firehose: timed out waiting for {what}")
        await asyncio.sleep(0.005)


def notifications_app(url: str, history: int = 1000):
    from feedview.config import PanelConfig
    from feedview.ui.app import FeedviewApp

    return FeedviewApp([PanelConfig("notifications", "firehose", {"url": url}, history=history)])


async def bare_feed_rate(url: str, count: int) -> float:
    from feedview.feeds.sse import Notification, sse_feed

    seen, started = 0, None
    async with contextlib.aclosing(sse_feed(url)) as feed:
        async for item in feed:
            if isinstance(item, Notification):
                started = started or time.perf_counter()
                seen += 1
                if seen == count:
                    break
    return (count - 1) / (time.perf_counter() - started)


async def ui_rate(url: str, count: int) -> float:
    app = notifications_app(url)
    async with app.run_test(size=(160, 45)):
        view = app.panels[0].view
        await until(lambda: view.received >= 1, 30, "the first event")
        started, first = time.perf_counter(), view.received
        await until(lambda: view.received >= count, 300, f"{count:,} events")
        return (view.received - first) / (time.perf_counter() - started)


async def ui_rss(base: str) -> tuple[float, float, float]:
    app = notifications_app(f"{base}/firehose?count=1000000&size=200")
    async with app.run_test(size=(160, 45)):
        view = app.panels[0].view
        await until(lambda: view.received >= 10_000, 120, "10,000 events")
        at_10k = rss_mb()
        await until(lambda: view.received >= 1_000_000, 600, "1,000,000 events")
        await asyncio.sleep(0.2)
        return at_10k, rss_mb(), len(view.entries)


async def key_to_repaint(url: str, presses: int) -> tuple[list[float], float]:
    from textual import events

    app = notifications_app(url)
    paints: list[float] = []
    async with app.run_test(size=(160, 45)):
        original = app._display

        def display(screen, renderable):
            paints.append(time.perf_counter())
            original(screen, renderable)

        app._display = display
        view = app.panels[0].view
        moves: list[float] = []
        move = view.action_cursor

        def timed_move(delta: int) -> None:
            move(delta)
            moves.append(time.perf_counter())  # the cursor has moved: the next paint shows it

        view.action_cursor = timed_move
        await until(lambda: view.received >= 2_000, 30, "the stream to flow")
        received_before, clock_before = view.received, time.perf_counter()
        latencies = []
        for index in range(presses):
            key = "down" if index % 2 == 0 else "up"
            moves.clear()
            sent = time.perf_counter()
            app._driver.send_message(events.Key(key, None))
            await until(lambda: moves and paints and paints[-1] >= moves[0], 5, "the repaint after the key")
            latencies.append((next(p for p in paints if p >= moves[0]) - sent) * 1000)
            await asyncio.sleep(0.02)
        rate = (view.received - received_before) / (time.perf_counter() - clock_before)
        return latencies, rate


async def dismiss_to_disconnect(server: subprocess.Popen, url: str, rate: float, rounds: int) -> list[float]:
    from textual import events

    from feedview.config import PanelConfig

    app = notifications_app(url)
    timings = []
    async with app.run_test(size=(160, 45)):
        for _ in range(rounds):
            panel = app.panels[0]
            # an established panel (half a second of its stream), as when a person closes one
            await until(lambda panel=panel: panel.view.received >= rate / 2, 30, "the stream to flow")
            sent = time.monotonic()
            app._driver.send_message(events.Key("ctrl+w", None))
            seen = 0.0
            while seen < sent:  # skip the disconnects of earlier connections
                seen = float((await asyncio.to_thread(server.stdout.readline)).split()[1])
            timings.append((seen - sent) * 1000)
            await until(lambda: not app.panels, 5, "the panel to go")
            await app.add_panel(PanelConfig("notifications", "again", {"url": url}))
    return timings


def first_frame(command: list[str], marker: bytes, rounds: int) -> list[float]:
    """Milliseconds from spawning `command` in a 160x45 pty to `marker` appearing on it."""
    timings = []
    for _ in range(rounds):
        pid, fd = pty.fork()
        if pid == 0:
            os.environ.update(TERM="xterm-256color", COLUMNS="160", LINES="45")
            os.execv(command[0], command)
        import fcntl
        import struct
        import termios

        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))
        started, seen = time.perf_counter(), b""
        deadline = started + 20
        while marker not in seen and time.perf_counter() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                with contextlib.suppress(OSError):
                    seen = (seen + os.read(fd, 65536))[-65536:]
        timings.append((time.perf_counter() - started) * 1000 if marker in seen else float("nan"))
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                os.read(fd, 65536)
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.02)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    return timings


def report(line: str) -> None:
    """Print past Textual's capture of stdout (it is restored only when the loop ends)."""
    print(line, file=sys.__stdout__, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# The least any Textual app pays for its first frame: import, driver, default CSS, one widget.
MINIMAL_APP = """
from textual.app import App
from textual.widgets import Static
class Minimal(App):
    def compose(self):
        yield Static("feed lab")
Minimal().run()
"""


def launches(rounds: int) -> None:
    """5.: the demo's first frame against the floor (python + import textual.app), in this run.

    The three are launched in turn, round after round, so that a busy moment of the
    machine (a shared 2-core VM) weighs on all of them alike.
    """
    import feedview

    subprocess.run(
        [PYTHON, "-m", "compileall", "-q", str(Path(feedview.__file__).parent)], check=True, stdout=subprocess.DEVNULL
    )
    floor_command = [PYTHON, "-c", "import textual.app; print('imported', flush=True); import time; time.sleep(30)"]
    floor, minimal, frame = [], [], []
    for _ in range(rounds):
        floor += first_frame(floor_command, b"imported", 1)
        minimal += first_frame([PYTHON, "-c", MINIMAL_APP], b"feed lab", 1)
        frame += first_frame([str(FEEDVIEW), "demo"], b"feed lab", 1)
    report(
        f"5. `feedview demo` launch to first painted frame: median {statistics.median(frame):.0f} ms, "
        f"max {max(frame):.0f} ms over {len(frame)} launches; floor (python + import textual.app) "
        f"median {statistics.median(floor):.0f} ms; "
        f"demo/floor = {statistics.median(frame) / statistics.median(floor):.2f}; "
        f"a one-Static Textual app {statistics.median(minimal):.0f} ms   (goal < 400 ms)"
    )


async def main(args) -> None:
    if args.first_frame_only:
        launches(args.launches)
        return
    lab, base = start_lab()
    try:
        url = f"{base}/firehose?count={args.count}&size=200"
        bare = await bare_feed_rate(url, args.count)
        ui = await ui_rate(url, args.count)
        report(
            f"1. firehose ({args.count:,} events of ~200 B): UI takes in {ui:,.0f} events/s; "
            f"bare feed {bare:,.0f} events/s; UI/bare = {ui / bare:.2f}   (goal >= 50,000/s)"
        )
        if not args.quick:
            at_10k, at_1m, kept = await ui_rss(base)
            report(
                f"3. RSS after 10,000 events {at_10k:,.1f} MB, after 1,000,000 {at_1m:,.1f} MB: "
                f"growth {at_1m - at_10k:+,.1f} MB (ring buffer keeps {kept:,})   (goal < 50 MB)"
            )
    finally:
        stop(lab)
    paced, paced_url = start_paced(10_000)
    try:
        latencies, rate = await key_to_repaint(paced_url, args.presses)
        from textual.constants import MAX_FPS

        report(
            f"2. key-press-to-repaint while {rate:,.0f} events/s stream: p50 {pct(latencies, 0.5):.1f} ms, "
            f"p99 {pct(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms over {len(latencies)} presses, "
            f"Textual at {MAX_FPS} FPS   (goal p99 < 50 ms)"
        )
        busy = await dismiss_to_disconnect(paced, paced_url, 10_000, args.rounds)
    finally:
        stop(paced)
    calm_server, calm_url = start_paced(100)
    try:
        calm = await dismiss_to_disconnect(calm_server, calm_url, 100, args.rounds)
    finally:
        stop(calm_server)
    report(
        f"4. ctrl+w to the server seeing the disconnect: at 100 events/s median {statistics.median(calm):.1f} ms, "
        f"max {max(calm):.1f} ms; while 10,000 events/s stream median {statistics.median(busy):.1f} ms, "
        f"max {max(busy):.1f} ms ({len(calm)} + {len(busy)} dismissals)   (goal < 50 ms)"
    )
    launches(args.launches)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000, help="firehose events for the throughput run")
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10, help="dismissals to time")
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="skip the 1,000,000-event RSS run")
    parser.add_argument("--first-frame-only", action="store_true", help="only time the launches (5.)")
    asyncio.run(main(parser.parse_args()))
