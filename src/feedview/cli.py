"""The `feedview` command and its subcommands.

Only argparse lives here, so `feedview --help` answers at once: every command's
work (and Textual, httpx) is imported inside the command that needs it.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence

from . import __version__


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds (e.g. 5 or 0.5), got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return value


def _header(text: str) -> tuple[str, str]:
    """'Name: value'; an error never repeats the value (it may be a token)."""
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep:
        raise argparse.ArgumentTypeError("expected 'Name: value', but the header has no colon")
    if not name or any(c in name for c in " \t\r\n"):
        raise argparse.ArgumentTypeError(f"expected 'Name: value': {name[:40]!r} is not a header name")
    if any(c in value for c in "\r\n"):
        raise argparse.ArgumentTypeError(f"the value of header {name[:40]!r} holds a line break")
    return name, value.strip()


def _condition(text: str) -> str:
    from .feeds.conditions import ConditionError, parse_condition

    try:
        parse_condition(text)
    except ConditionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _http_url(text: str) -> str:
    from .urls import http_url_problem

    problem = http_url_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with `command` the parser of that one subcommand alone (the
    command line names it: building every subcommand costs a few ms of each launch)."""
    parser = _Parser(
        prog="feedview",
        description="Watch live data in your terminal: GitHub repository pages, "
        "Server-Sent Events notifications and HTTP health checks.",
    )
    parser.add_argument("--version", action="version", version=f"feedview {__version__}")
    parser.add_argument("--config", metavar="PATH", help="the config file (default: config.toml in your config dir)")
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="keep nothing on disk this run: no history store read or written ($FEEDVIEW_HISTORY=off)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (help_text, add_arguments) in COMMANDS.items():
        if command is None or command == name:
            add_arguments(sub.add_parser(name, help=help_text))
    return parser


def _demo_arguments(demo: argparse.ArgumentParser) -> None:
    demo.add_argument("--no-ui", action="store_true", help="only start the lab and print its URLs")


def _lab_arguments(lab: argparse.ArgumentParser) -> None:
    lab.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    lab.add_argument("--port", type=_port, default=8080, help="port to bind, 0 for any free one (default: 8080)")
    lab.add_argument(
        "--sse-interval",
        type=_seconds,
        default=2.0,
        metavar="S",
        help="seconds between generated notifications (default: 2)",
    )
    lab.add_argument("--latency-ms", type=float, default=0.0, metavar="MS", help="latency added to every request")
    lab.add_argument("--require-token", action="store_true", help="answer 401 to GitHub requests without the token")
    lab.add_argument("--token", default="lab-token", help="the token the lab accepts (default: lab-token)")


def _serve_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("what", nargs="?", choices=("demo",), help="serve the demo instead of the config's dashboard")
    # (also before the command, as for the dashboard: `feedview --config PATH serve`)
    serve.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="the config file to serve")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=_port, default=8000, help="port to bind, 0 for any free one (default: 8000)")
    serve.add_argument(
        "--token",
        metavar="T",
        help="the token the page asks for (default: $FEEDVIEW_SERVE_TOKEN; off loopback, one made and printed once)",
    )
    serve.add_argument("--public-url", type=_http_url, metavar="URL", help="the address users open (behind a proxy)")


def _since(text: str) -> str:
    """ntfy's since=: a duration (30s, 10m, 2h, 1d), a Unix time, a message id, or `all`."""
    if not (0 < len(text) <= 64 and text.isascii() and text.isalnum()):
        raise argparse.ArgumentTypeError(f"expected a duration (10m), a Unix time, a message id or all, got {text!r}")
    return text


def _watch_arguments(watch: argparse.ArgumentParser) -> None:
    watch.add_argument("url", type=_http_url, metavar="URL", help="an SSE stream, or an ntfy topic's URL")
    watch.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
    watch.add_argument("--count", type=_positive_int, metavar="N", help="exit after N events")
    watch.add_argument("--last-event-id", metavar="ID", default="", help="resume after this event ID")
    watch.add_argument(
        "--since",
        type=_since,
        metavar="WHEN",
        help="ntfy: cached messages first: a duration (10m), a Unix time, a message id, or all",
    )
    watch.add_argument("--poll", action="store_true", help="ntfy: the cached messages only, then exit")
    watch.add_argument(
        "--header",
        "-H",
        type=_header,
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="send this header (repeatable); only ever to the stream's own origin",
    )
    watch.add_argument(
        "--idle-timeout",
        type=_seconds,
        default=60.0,
        metavar="S",
        help="reconnect when no byte arrives for S seconds (default: 60)",
    )


def _repos_arguments(repos: argparse.ArgumentParser) -> None:
    repos.add_argument("owner", nargs="?", metavar="OWNER", help="a user's or organisation's login")
    who = repos.add_mutually_exclusive_group()
    who.add_argument("--org", action="store_true", help="OWNER is an organisation")
    who.add_argument("--mine", action="store_true", help="the authenticated user's repositories")
    who.add_argument("--search", metavar="QUERY", help="search repositories instead (with OWNER: user:OWNER only)")
    _github_options(repos)
    repos.add_argument("--per-page", type=_positive_int, default=30, metavar="N", help="repos per page (max 100)")
    repos.add_argument("--limit", type=_positive_int, metavar="N", help="stop after N repos")
    repos.add_argument(
        "--sort", metavar="S", help="created, updated, pushed, full_name (search: stars, forks, updated)"
    )
    repos.add_argument("--direction", choices=("asc", "desc"))
    repos.add_argument("--json", action="store_true", help="one repo per line on stdout")


def _health_arguments(health: argparse.ArgumentParser) -> None:
    health.add_argument("urls", nargs="+", type=_http_url, metavar="URL", help="the health endpoints to check")
    health.add_argument(
        "--interval", type=_seconds, default=10.0, metavar="S", help="seconds between checks (default: 10)"
    )
    health.add_argument(
        "--timeout", type=_seconds, default=5.0, metavar="S", help="seconds before a check fails (default: 5)"
    )
    health.add_argument(
        "--count", type=_positive_int, metavar="N", help="with --json: exit after N samples of each URL"
    )
    health.add_argument("--json", action="store_true", help="one sample per line on stdout")
    health.add_argument(
        "--condition",
        "-c",
        type=_condition,
        action="append",
        dest="conditions",
        metavar="EXPR",
        help="pass only if EXPR holds, e.g. '[STATUS] == 200' (repeatable; replaces the default)",
    )
    health.add_argument(
        "--header",
        "-H",
        type=_header,
        action="append",
        dest="headers",
        metavar="'NAME: VALUE'",
        help="send this header (repeatable)",
    )
    health.add_argument("--method", choices=("GET", "HEAD"), help="HTTP method (default: GET)")
    health.add_argument(
        "--failures-to-trip",
        type=_positive_int,
        metavar="N",
        help="consecutive failures before a check reads unhealthy (default: 1)",
    )
    health.add_argument(
        "--successes-to-recover",
        type=_positive_int,
        metavar="N",
        help="passes after the retry before it reads healthy again (default: 1)",
    )
    health.add_argument(
        "--max-interval", type=_seconds, metavar="S", help="longest backoff after failures (default: 6 intervals)"
    )


def _notifications_arguments(notes: argparse.ArgumentParser) -> None:
    notes.add_argument("--participating", action="store_true", help="only threads you take part in")
    notes.add_argument("--all", action="store_true", help="read threads too, not only unread ones")
    notes.add_argument("--repo", metavar="OWNER/REPO", help="only this repository's threads")
    _github_options(notes)
    notes.add_argument("--count", type=_positive_int, metavar="N", help="exit after N threads")
    notes.add_argument("--json", action="store_true", help="one thread per line on stdout")


def _history_arguments(history: argparse.ArgumentParser) -> None:
    history.add_argument(
        "--panel", action="append", metavar="NAME", help="only this panel's items (its title; repeatable)"
    )
    history.add_argument(
        "--since", metavar="WHEN", help="items since 1h, 30m, 2d, a date (2026-11-29), a Unix time, or after an item id"
    )
    history.add_argument("--search", metavar="TEXT", help="items whose title, message or tags hold every word")
    history.add_argument("--priority", metavar="P", help="ntfy priority: 5, >=4, <3 ...")
    history.add_argument("--tag", action="append", metavar="T", help="items with this tag (repeatable: all of them)")
    history.add_argument(
        "--limit", type=_positive_int, default=100, metavar="N", help="the newest N that match (default: 100)"
    )
    history.add_argument("--json", action="store_true", help="one JSON object per item on stdout")
    history.add_argument("--path", action="store_true", help="print where the history store is, and exit")
    history.add_argument(
        "--prune", action="store_true", help="drop what the retention settings no longer keep, and compact the file"
    )


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "demo": ("open the dashboard on the built-in feed lab (offline)", _demo_arguments),
    "lab": ("run the loopback feed lab alone, for curl and friends", _lab_arguments),
    "watch": ("watch one Server-Sent Events stream (ntfy-aware)", _watch_arguments),
    "repos": ("browse a user's or org's repositories, page by page", _repos_arguments),
    "health": ("watch HTTP health checks", _health_arguments),
    "notifications": ("watch your GitHub notifications", _notifications_arguments),
    "serve": ("serve the dashboard to web browsers", _serve_arguments),
    "history": ("print, search or prune what the panels kept on disk", _history_arguments),
}


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand that argv names (its first positional argument), if it is one and
    no top-level --help comes first (that lists every subcommand)."""
    after_config = False
    for arg in argv:
        if after_config:
            after_config = False
        elif len(arg) > 2 and "--config".startswith(arg):  # argparse takes --conf, --c too
            after_config = True
        elif arg in ("--", "-h", "--help"):
            return None
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def _github_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url",
        type=_http_url,
        metavar="URL",
        help="API base URL (default: https://api.github.com; GHES: https://HOST/api/v3)",
    )
    parser.add_argument(
        "--token",
        metavar="T",
        help="token (default: $GH_TOKEN, $GITHUB_TOKEN, then `gh auth token`; for another host "
        "than github.com: $GH_ENTERPRISE_TOKEN, $GITHUB_ENTERPRISE_TOKEN, then gh's login for it)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    # Start-up makes a few hundred thousand objects (Textual, httpx, ours) that all stay:
    # letting the collector walk them as they pile up costs 20-30 ms before the first frame.
    # Collection resumes, with those objects frozen, once the command's work begins (the
    # app: after its first frame, FeedviewApp._freeze_startup_objects), and at the latest here.
    gc.disable()
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        parser = build_parser(_command_in(argv))
        args = parser.parse_args(argv)
        command = args.command or "dashboard"
        if args.no_history:
            import os

            os.environ["FEEDVIEW_HISTORY"] = "off"  # (feedview.store.paths reads it; so do children)
        if command == "repos" and not (args.owner or args.mine or args.search):
            parser.exit(2, "feedview repos: error: give an OWNER, --mine or --search QUERY\n")
        from importlib import import_module

        module = import_module(f"feedview.commands.{command}")
        if not _opens_app(command, args):
            gc.freeze()
            gc.enable()
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    finally:
        gc.enable()
        gc.unfreeze()  # (a caller that runs main() again, as benchmarks/soak.py does, freezes afresh)


def _opens_app(command: str, args: argparse.Namespace) -> bool:
    if command in ("dashboard", "demo"):
        return not getattr(args, "no_ui", False)
    return command in ("watch", "repos", "health", "notifications") and not args.json


if __name__ == "__main__":
    sys.exit(main())
