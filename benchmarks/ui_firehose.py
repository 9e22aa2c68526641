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

  6. intake with urgent notifications (a toast, the bell) against none urgent, interleaved;
  7. 16 panels in the grid sharing 10,000 events/s against one panel taking them all: the
     app's CPU, and key-to-paint with 16 panels;
  8. tab switches (key to painted) in the demo's four panels against a plain TabbedContent
     app with four DataTables, interleaved;
  9. idle CPU of one watch panel on a quiet stream against a one-widget Textual app.

Toasts are on (Textual's run_test turns notifications off; a real terminal has them).
Paired cases run in rotated order, several rounds, and print medians with their spread.
Goals (2 cores): >= 50,000 events/s; key-to-paint p99 < 50 ms; RSS growth over 1,000,000
urgent events < 10 MB; disconnect < 50 ms; first frame < 400 ms; urgent/none >= 0.9;
16 panels CPU <= 1.5x one panel, p99 < 50 ms; tab switch <= 1.5x plain; idle <= 2x.
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

    return FeedviewApp([PanelConfig("notifications", "firehose", {"url": url}, rows=history)])


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
    async with app.run_test(size=(160, 45), notifications=True):
        view = app.panels[0].view
        await until(lambda: view.received >= 1, 30, "the first event")
        started, first = time.perf_counter(), view.received
        await until(lambda: view.received >= count, 300, f"{count:,} events")
        return (view.received - first) / (time.perf_counter() - started)


async def ui_rss(base: str) -> tuple[float, float, float]:
    app = notifications_app(f"{base}/firehose?count=1000000&size=200&priority=5")  # every one urgent
    async with app.run_test(size=(160, 45), notifications=True):
        view = app.panels[0].view
        await until(lambda: view.received >= 10_000, 120, "10,000 events")
        at_10k = rss_mb()
        await until(lambda: view.received >= 1_000_000, 600, "1,000,000 events")
        await asyncio.sleep(0.2)
        return at_10k, rss_mb(), len(view.entries)


async def key_to_repaint(url: str, presses: int, app=None) -> tuple[list[float], float]:
    """Key-to-paint on the (first) notifications panel of `app` (default: one panel on url)."""
    from textual import events

    app = app or notifications_app(url)
    paints: list[float] = []
    async with app.run_test(size=(160, 45), notifications=True):
        original = app._display

        def display(screen, renderable):
            paints.append(time.perf_counter())
            original(screen, renderable)

        app._display = display
        view = app.panels[0].view
        view.focus()
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
        received = sum(panel.view.received for panel in app.panels)
        rate = (received - received_before * len(app.panels)) / (time.perf_counter() - clock_before)
        return latencies, rate


async def dismiss_to_disconnect(server: subprocess.Popen, url: str, rate: float, rounds: int) -> list[float]:
    from textual import events

    from feedview.config import PanelConfig

    app = notifications_app(url)
    timings = []
    async with app.run_test(size=(160, 45), notifications=True):
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


# -- issue 13: what a real terminal sees (toasts on), many panels, tab switches, idle -----------


def spread(values: list[float], unit: str = "", digits: int = 1) -> str:
    return f"{statistics.median(values):,.{digits}f}{unit} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


async def intake_with_and_without_urgent(base: str, count: int, rounds: int) -> tuple[list[float], list[float]]:
    """6. The same firehose, every event priority 3, or two in five urgent (a toast, the bell),
    in rotated order, round after round."""
    calm: list[float] = []
    urgent: list[float] = []
    for index in range(rounds):
        runs = [
            (calm, f"{base}/firehose?count={count}&size=200&priority=3"),
            (urgent, f"{base}/firehose?count={count}&size=200"),  # priorities 1..5 in turn
        ]
        for figures, url in runs[index % 2 :] + runs[: index % 2]:
            figures.append(await ui_rate(url, count))
    return calm, urgent


def grid_app(url: str, panels: int):
    from feedview.config import PanelConfig
    from feedview.ui.app import FeedviewApp

    configs = [PanelConfig("notifications", f"feed {n + 1}", {"url": url}) for n in range(panels)]
    return FeedviewApp(configs, layout="grid")


async def cpu_while(app, seconds: float, ready) -> float:
    """CPU seconds per second of this process (the app; servers run in others) over `seconds`,
    once `ready(app)` holds and a second has passed."""
    async with app.run_test(size=(160, 45), notifications=True):
        await until(lambda: ready(app), 30, "the app to be ready")
        await asyncio.sleep(1.0)
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        return (time.process_time() - cpu) / (time.perf_counter() - wall)


def flowing(app) -> bool:
    return bool(app.panels) and all(panel.view.received > 0 for panel in app.panels)


async def sixteen_panels(seconds: float, rounds: int, presses: int) -> dict:
    """7. 16 panels in the grid sharing 10,000 events/s, against one panel taking them all."""
    one_server, one_url = start_paced(10_000)
    many_server, many_url = start_paced(10_000 / 16)
    one: list[float] = []
    many: list[float] = []
    try:
        for index in range(rounds):
            runs = [(one, one_url, 1), (many, many_url, 16)]
            for figures, url, count in runs[index % 2 :] + runs[: index % 2]:
                figures.append(await cpu_while(grid_app(url, count), seconds, flowing))
        latencies, rate = await key_to_repaint(many_url, presses, app=grid_app(many_url, 16))
    finally:
        stop(one_server)
        stop(many_server)
    return {"one": one, "many": many, "latencies": latencies, "rate": rate}


PLAIN_TABS_APP = '''
from textual.app import App
from textual.binding import Binding
from textual.widgets import DataTable, Footer, TabbedContent, TabPane


class PlainTabs(App):
    """The baseline: Textual's TabbedContent with four DataTables of 30 rows, and a Footer."""

    BINDINGS = [Binding(str(n), f"show({n})", f"Tab {n}") for n in range(1, 5)]

    def compose(self):
        with TabbedContent():
            for n in range(1, 5):
                with TabPane(f"Tab {n}", id=f"t{n}"):
                    yield DataTable(id=f"d{n}", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self):
        for n in range(1, 5):
            table = self.query_one(f"#d{n}", DataTable)
            table.add_columns("name", "stars", "language", "updated", "description")
            table.add_rows([(f"repo-{n}-{i}", f"{i * 37:,}", "Python", f"{i}d ago", "words " * 12) for i in range(30)])

    def action_show(self, n):
        self.query_one(TabbedContent).active = f"t{n}"
        self.query_one(f"#d{n}").focus()
'''


async def switch_times(app, shown, switches: int) -> list[float]:
    """Milliseconds from a digit key to the first paint that shows its tab, round four tabs."""
    from textual import events

    paints: list[float] = []
    times = []
    async with app.run_test(size=(160, 45), notifications=True):
        original = app._display

        def display(screen, renderable):
            paints.append(time.perf_counter())
            original(screen, renderable)

        app._display = display
        await until(lambda: shown(app, 1) is not None, 30, "the four tabs")
        await asyncio.sleep(2.0)  # the panels' first pages and checks are in
        for index in range(switches):
            key = 1 + (index + 1) % 4
            sent = time.perf_counter()
            app._driver.send_message(events.Key(str(key), None))
            await until(lambda key=key, sent=sent: shown(app, key) is not None and paints[-1] > sent, 10, "switch")
            painted = [p for p in paints if p > sent]
            times.append((painted[-1] - sent) * 1000)
            await asyncio.sleep(0.25)
    return times


async def tab_switches(base: str, rounds: int, switches: int) -> tuple[list[float], list[float]]:
    """8. The demo's four panels (on a lab in its own process) against the plain app."""
    from feedview.demo import demo_panels
    from feedview.lab import Lab, LabConfig, LabState
    from feedview.ui.app import FeedviewApp

    namespace: dict = {}
    exec(PLAIN_TABS_APP, namespace)
    lab = Lab(base, LabConfig(), LabState())

    def ours_shown(app, key):
        panels = app.panels
        return panels[key - 1] if len(panels) == 4 and panels[key - 1].region.area else None

    def plain_shown(app, key):
        found = app.query(f"#d{key}")
        return found.first() if found and found.first().region.area else None

    ours: list[float] = []
    plain: list[float] = []
    for index in range(rounds):
        runs = [
            (ours, lambda: FeedviewApp(demo_panels(lab)), ours_shown),
            (plain, lambda: namespace["PlainTabs"](), plain_shown),
        ]
        for figures, make, shown in runs[index % 2 :] + runs[: index % 2]:
            figures.extend(await switch_times(make(), shown, switches))
    return ours, plain


async def idle_cpu(base: str, seconds: float, rounds: int) -> tuple[list[float], list[float]]:
    """9. One watch panel on a quiet stream against a one-widget Textual app, both idle."""
    from textual.app import App
    from textual.widgets import Static

    class OneWidget(App):
        def compose(self):
            yield Static("feed lab")

    watch: list[float] = []
    minimal: list[float] = []
    for index in range(rounds):
        runs = [
            (watch, lambda: notifications_app(f"{base}/events?interval=3600"), lambda app: bool(app.panels)),
            (minimal, OneWidget, lambda app: True),
        ]
        for figures, make, ready in runs[index % 2 :] + runs[: index % 2]:
            figures.append(await cpu_while(make(), seconds, ready))
    return watch, minimal


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
    only = set(args.only.split(",")) if args.only else set(map(str, range(1, 10)))
    if only == {"5"}:
        launches(args.launches)
        return
    lab, base = start_lab()
    try:
        url = f"{base}/firehose?count={args.count}&size=200"
        if "1" in only:
            bare = await bare_feed_rate(url, args.count)
            ui = await ui_rate(url, args.count)
            report(
                f"1. firehose ({args.count:,} events of ~200 B, two in five urgent, toasts on): UI takes in "
                f"{ui:,.0f} events/s; bare feed {bare:,.0f} events/s; UI/bare = {ui / bare:.2f}   (goal >= 50,000/s)"
            )
        if "3" in only and not args.quick:
            at_10k, at_1m, kept = await ui_rss(base)
            report(
                f"3. RSS after 10,000 urgent events {at_10k:,.1f} MB, after 1,000,000 {at_1m:,.1f} MB: growth "
                f"{at_1m - at_10k:+,.1f} MB (ring buffer keeps {kept:,}; toasts on)   (goal < 10 MB)"
            )
        if "6" in only:
            calm, urgent = await intake_with_and_without_urgent(base, args.count, args.rounds_ratio)
            report(
                f"6. intake, median (min-max) over {len(calm)} rounds each, interleaved: urgent (a toast, the bell) "
                f"{spread(urgent, '/s')}; none urgent {spread(calm, '/s')}; "
                f"urgent/none = {statistics.median(urgent) / statistics.median(calm):.2f}   (goal >= 0.9)"
            )
        if "8" in only:
            ours, plain = await tab_switches(base, args.rounds_ratio, args.switches)
            report(
                f"8. tab switch, key to painted, median (min-max) over {len(ours)} switches each, interleaved: "
                f"feedview (the demo's 4 panels) {spread(ours, ' ms')}; plain TabbedContent + 4 DataTables "
                f"{spread(plain, ' ms')}; feedview/plain = {statistics.median(ours) / statistics.median(plain):.2f}"
                f"   (goal <= 1.5)"
            )
        if "9" in only:
            watch, minimal = await idle_cpu(base, args.seconds, args.rounds_ratio)
            report(
                f"9. idle CPU (ms per second) over {args.seconds:g} s, median (min-max) of {len(watch)} rounds: "
                f"one watch panel {spread([w * 1000 for w in watch], ' ms/s', 2)}; a one-widget Textual app "
                f"{spread([m * 1000 for m in minimal], ' ms/s', 2)}; "
                f"watch/one-widget = {statistics.median(watch) / max(statistics.median(minimal), 1e-9):.2f}   "
                f"(goal <= 2)"
            )
    finally:
        stop(lab)
    if "2" in only or "4" in only:
        paced, paced_url = start_paced(10_000)
        try:
            if "2" in only:
                latencies, rate = await key_to_repaint(paced_url, args.presses)
                from textual.constants import MAX_FPS

                report(
                    f"2. key-press-to-repaint while {rate:,.0f} events/s stream: p50 {pct(latencies, 0.5):.1f} ms, "
                    f"p99 {pct(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms over {len(latencies)} "
                    f"presses, Textual at {MAX_FPS} FPS   (goal p99 < 50 ms)"
                )
            busy = await dismiss_to_disconnect(paced, paced_url, 10_000, args.rounds) if "4" in only else []
        finally:
            stop(paced)
        if "4" in only:
            calm_server, calm_url = start_paced(100)
            try:
                calm = await dismiss_to_disconnect(calm_server, calm_url, 100, args.rounds)
            finally:
                stop(calm_server)
            report(
                f"4. ctrl+w to the server seeing the disconnect: at 100 events/s median "
                f"{statistics.median(calm):.1f} ms, max {max(calm):.1f} ms; while 10,000 events/s stream median "
                f"{statistics.median(busy):.1f} ms, max {max(busy):.1f} ms ({len(calm)} + {len(busy)} dismissals)"
                f"   (goal < 50 ms)"
            )
    if "7" in only:
        grid = await sixteen_panels(args.seconds, args.rounds_ratio, args.presses)
        one, many = grid["one"], grid["many"]
        report(
            f"7. 10,000 events/s, CPU of the app, median (min-max) of {len(one)} rounds: 16 panels in the grid "
            f"{spread([m * 100 for m in many], ' %')}; one panel {spread([o * 100 for o in one], ' %')}; "
            f"16/1 = {statistics.median(many) / statistics.median(one):.2f}   (goal <= 1.5); key-to-paint with 16 "
            f"panels at {grid['rate']:,.0f} events/s: p50 {pct(grid['latencies'], 0.5):.1f} ms, "
            f"p99 {pct(grid['latencies'], 0.99):.1f} ms   (goal p99 < 50 ms)"
        )
    if "5" in only:
        launches(args.launches)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000, help="firehose events for the throughput run")
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10, help="dismissals to time")
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="skip the 1,000,000-event RSS run")
    parser.add_argument("--only", metavar="N,N", help="only these cases (1-9), e.g. --only 6,8")
    parser.add_argument("--rounds-ratio", type=int, default=3, help="interleaved rounds of the paired cases 6-9")
    parser.add_argument("--switches", type=int, default=12, help="tab switches per round (8.)")
    parser.add_argument("--seconds", type=float, default=10.0, help="CPU measuring window (7., 9.)")
    asyncio.run(main(parser.parse_args()))
