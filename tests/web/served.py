"""The web tests' helpers: `feedview serve` as a process, the screen as xterm.js holds it, and
waits with deadlines (Playwright's sync API and processes: no event loop here)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = os.environ.get("FEEDVIEW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"^feedview serve: (https?://\S+)")
CLI = ["-m", "feedview.cli"]


def patched_cli(setup: str) -> list[str]:
    """The CLI after a line of Python (e.g. a smaller session cap), for what no option sets."""
    return ["-c", f"import sys\n{setup}\nfrom feedview.cli import main\nsys.exit(main(sys.argv[1:]))"]


def poll_until(predicate: Callable[[], object], timeout: float = 10.0) -> bool:
    """Wait on a condition with a deadline (Playwright's sync API, and processes: no event
    loop here); False if it never held."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@dataclass
class Served:
    """A running `feedview serve`: its process, its URL and what it printed."""

    process: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)

    def sessions(self) -> list[int]:
        """The server's session processes (its children) now."""
        return children_of(self.process.pid)

    def stop(self, timeout: float = 10) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def is_running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def start_serve(args: list[str], env: dict[str, str] | None = None, cli: list[str] = CLI) -> Served:
    """`feedview serve ARGS --port 0`, once it has printed its URL."""
    process = subprocess.Popen(
        [sys.executable, *cli, "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})},
        cwd=ROOT,
    )
    lines: list[str] = []
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if match := URL_LINE.match(line):
                found.append(match.group(1))

    threading.Thread(target=read, daemon=True).start()
    if not poll_until(lambda: found or process.poll() is not None, timeout=30) or not found:
        process.kill()
        raise AssertionError(f"feedview serve did not start: {lines[-5:]}")
    return Served(process, found[0], lines)


def write_config(tmp_path: Path, panels: list[dict[str, object]]) -> Path:
    """A config file of these [[panel]] tables (strings, booleans and lists of strings)."""
    text = []
    for panel in panels:
        text.append("[[panel]]")
        for key, value in panel.items():
            text.append(f"{key} = {json.dumps(value)}")  # (JSON's strings, lists and booleans are TOML's)
    path = tmp_path / "config.toml"
    path.write_text("\n".join(text) + "\n")
    return path


# -- the screen, as xterm.js holds it -------------------------------------------------------

SCREEN_TEXT = """() => {
    const term = document.getElementById("terminal")?.xterm;
    if (!term) return "";
    const buffer = term.buffer.active, rows = [];
    for (let y = 0; y < term.rows; y++) {
        const line = buffer.getLine(buffer.viewportY + y);
        rows.push(line ? line.translateToString(true) : "");
    }
    return rows.join("\\n");
}"""


def screen_text(page) -> str:
    return page.evaluate(SCREEN_TEXT)


def wait_for_screen(page, predicate: Callable[[str], bool], timeout: float = 20) -> str:
    """The screen's text once predicate(text) holds; AssertionError with the screen if not."""
    seen = [""]

    def check() -> bool:
        seen[0] = screen_text(page)
        return predicate(seen[0])

    if not poll_until(check, timeout=timeout):
        raise AssertionError(f"the screen never matched; it shows:\n{seen[0]}")
    return seen[0]
