"""The command line: help, bad arguments, and a UI-free core."""

from __future__ import annotations

import subprocess
import sys

import pytest
from servers import feedview

SUBCOMMANDS = ("demo", "lab", "watch", "repos", "health", "notifications")


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
        ("watch", "http://[bad"),
        ("watch", "http://host:99999/sse"),
        ("watch", "http://300.1.1.1/sse"),
        ("health", "http://ok.example/", "http://a b/"),
        ("repos", "x", "--base-url", "https://:8/"),
        ("notifications", "--base-url", "http://-host-/"),
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
        "import importlib, pkgutil, sys\n"
        "import feedview.feeds, feedview.lab\n"
        "for package in (feedview.feeds, feedview.lab):\n"
        "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_state_words_have_one_home_and_no_import_cycle():
    code = (
        "import sys\n"
        "import feedview.feeds.check_history, feedview.feeds.health_verdicts, feedview.feeds.conditions\n"
        "print('feedview.feeds.health' in sys.modules)\n"
        "from feedview.feeds import health, check_history\n"
        "print(health.CheckState is check_history.CheckState, health.Verdict is check_history.Verdict)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout.split() == ["False", "True", "True"], result.stderr


def _start_lab_command(*extra: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedview.cli", "lab", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline()  # blocks until the lab is listening (or the process dies)
    assert first.startswith("feedview lab listening on http://127.0.0.1:"), first + proc.stderr.read()
    return proc, first.split()[4]


def test_lab_command_serves_until_interrupted():
    import signal

    import httpx

    proc, base_url = _start_lab_command()
    try:
        assert httpx.get(base_url + "/").json()["name"] == "feedview lab"
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Traceback" not in err


def test_lab_command_port_in_use_is_one_line():
    import signal

    proc, base_url = _start_lab_command()
    try:
        port = base_url.rsplit(":", 1)[1]
        result = feedview("lab", "--port", port)
        assert result.returncode == 1
        assert len(result.stderr.strip().splitlines()) == 1
        assert "cannot listen" in result.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)


def test_feeds_do_not_load_the_httpx_command_line():
    code = "import sys, feedview.feeds.sse, httpx; print('rich' in sys.modules, callable(httpx.main))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout.split() == ["False", "True"], result.stderr


def test_the_collector_is_on_while_a_json_command_runs_and_after_any_command(lab):
    # main() starts with the garbage collector off (start-up only); a --json command runs
    # with it on, and main() never returns with it off, whatever happened
    code = (
        "import gc, sys\n"
        "import feedview.commands.watch as watch\n"
        "real = watch.run\n"
        "watch.run = lambda args: print('during', gc.isenabled()) or real(args)\n"
        "from feedview.cli import main\n"
        f"main(['watch', {lab.url('/events?interval=0.01')!r}, '--json', '--count', '1'])\n"
        "print('after', gc.isenabled())\n"
        "try:\n"
        "    main(['repos'])\n"
        "except SystemExit:\n"
        "    print('after an error', gc.isenabled())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert [line for line in result.stdout.splitlines() if not line.startswith("{")] == [
        "during True",
        "after True",
        "after an error True",
    ], result.stderr


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["demo"], "demo"),
        (["--config", "demo", "watch", "http://x/"], "watch"),  # "demo" is the config file's name here
        (["--config=c.toml", "lab", "--port", "0"], "lab"),
        (["--conf", "lab", "watch", "http://x/"], "watch"),  # an abbreviation argparse accepts
        (["--help", "demo"], None),  # the top-level help lists every command
        (["nosuch"], None),
        ([], None),
    ],
)
def test_the_parser_is_built_for_the_named_command_only(argv, command):
    from feedview.cli import _command_in, build_parser

    assert _command_in(argv) == command
    if command is not None:
        full, lean = build_parser().parse_args(argv), build_parser(command).parse_args(argv)
        assert vars(full) == vars(lean)


def test_a_malformed_url_is_named_with_its_credentials_redacted():
    result = feedview("watch", "http://admin:hunter2@[bad/sse")
    assert result.returncode == 2
    assert "hunter2" not in result.stderr
    assert "'http://***@[bad/sse' is not a valid URL" in result.stderr
