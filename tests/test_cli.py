"""The command line: help, bad arguments, and a UI-free core."""

from __future__ import annotations

import subprocess
import sys

import pytest

SUBCOMMANDS = ("demo", "lab", "watch", "repos", "health", "notifications")


def feedview(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "feedview.cli", *args], capture_output=True, text=True, timeout=timeout
    )


def test_help_lists_every_subcommand():
    result = feedview("--help")
    assert result.returncode == 0
    for name in SUBCOMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_has_help(name):
    result = feedview(name, "--help")
    assert result.returncode == 0
    assert f"feedview {name}" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("bogus",),
        ("watch",),
        ("watch", "not-a-url"),
        ("watch", "http://x/", "--count", "0"),
        ("watch", "http://x/", "--header", "no colon"),
        ("health", "http://x/", "--interval", "soon"),
        ("repos",),
        ("repos", "x", "--direction", "up"),
        ("lab", "--port", "70000"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(args):
    result = feedview(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "error" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [("--help",), ("lab", "--help")])
def test_help_does_not_import_textual(args):
    code = (
        "import sys, contextlib, io\n"
        "from feedview.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({list(args)!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('textual' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "False", result.stderr


def test_feeds_never_import_textual():
    code = (
        "import sys\n"
        "import feedview.feeds, feedview.feeds.sse, feedview.feeds.github, feedview.feeds.health\n"
        "import feedview.lab\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
