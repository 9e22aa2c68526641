"""`feedview serve [--config PATH | demo]`: the dashboard in a browser tab (feedview.web).

Every tab is its own app process with its own feeds; stopping the server (ctrl+c, SIGTERM)
ends them all within 2 s, and each closes its feeds. On an address other than loopback, or
with --public-url, the server asks for a token: --token, $FEEDVIEW_SERVE_TOKEN, or one made here and printed once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

TOKEN_ENV = "FEEDVIEW_SERVE_TOKEN"


class ServeError(Exception):
    """Why the server cannot start; str() is one line."""


def run(args: argparse.Namespace) -> int:
    """`feedview serve`: its exit status; why it cannot start, in one line on stderr."""
    try:
        _check_token(args)
        with _dashboard(args) as spec:
            sock = _bind(args.host, args.port)
            return asyncio.run(_serve(args, spec, _token(args, sock), sock))
    except ServeError as exc:
        print(f"feedview serve: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1


class UsageError(ServeError):
    """A bad combination of options (exit status 2, as argparse's)."""


@contextlib.contextmanager
def _dashboard(args: argparse.Namespace) -> Iterator[str]:
    """The session spec (JSON) every tab shows; for the demo, its lab runs meanwhile."""
    from ..web.child import SessionSpec

    if args.what == "demo":
        if args.config:
            raise UsageError("give --config PATH or demo, not both")
        from ..demo import demo_lab, demo_panels

        with demo_lab() as lab:
            yield SessionSpec(demo_panels(lab)).encode()
        return
    from ..config import ConfigError, default_config_path, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise ServeError(str(exc)) from None
    if config is None:
        raise UsageError(f"no config at {default_config_path()}: give --config PATH, or serve the demo")
    yield SessionSpec.of(config).encode()


def _given_token(args: argparse.Namespace) -> str | None:
    return args.token if args.token is not None else os.environ.get(TOKEN_ENV)


def _check_token(args: argparse.Namespace) -> None:
    """A token of the user's own must be one a browser can carry and nobody can guess."""
    token = _given_token(args)
    if token is not None and (len(token) < 16 or not token.isascii() or not token.isprintable() or " " in token):
        raise UsageError("the token must be at least 16 printable ASCII characters, without spaces")


def _token(args: argparse.Namespace, sock: socket.socket) -> str | None:
    """The token the page asks for: the user's, else a new one, unless the server is reached
    on loopback alone. That is decided from the bound address (a name may resolve anywhere),
    and a --public-url means it is reached from elsewhere (a reverse proxy on this machine
    connects from loopback on behalf of anyone)."""
    from ..web.server import is_loopback, new_token

    token = _given_token(args)
    if token is not None:
        return token
    return None if is_loopback(sock.getsockname()[0]) and not args.public_url else new_token()


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _bound_url(sock: socket.socket) -> str:
    """The server's own address (this machine's name when it listens on every address)."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        host = socket.gethostname()
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def _page_url(args: argparse.Namespace, sock: socket.socket, token: str | None, generated: bool) -> str:
    """The address to open: the public URL, else the bound one; with the token only when it
    was made here (the user's own is theirs to add)."""
    base = args.public_url or _bound_url(sock)
    parts = urlsplit(base)
    query = f"token={token}" if token is not None and generated else ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))


async def _serve(args: argparse.Namespace, spec: str, token: str | None, sock: socket.socket) -> int:
    """Serve until SIGINT or SIGTERM, then end every session (within SHUTDOWN_S) and exit."""
    from aiohttp import web

    from ..web.server import SHUTDOWN_S, ServeSettings, WebServer
    from ..web.session import SessionError

    generated = token is not None and args.token is None and TOKEN_ENV not in os.environ
    try:
        server = WebServer(
            ServeSettings(spec, token, args.public_url, cookie=f"feedview_token_{sock.getsockname()[1]}")
        )
    except SessionError as exc:
        raise ServeError(str(exc)) from None
    runner = web.AppRunner(server.application(), handle_signals=False, shutdown_timeout=SHUTDOWN_S, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    if args.public_url:  # (what the reverse proxy is to connect to)
        print(f"feedview serve: listening on {_bound_url(sock)}", flush=True)
    print(f"feedview serve: {_page_url(args, sock, token, generated)}  (ctrl+c to stop)", flush=True)
    if generated:
        print("feedview serve: the token above is shown once; open the page with it", flush=True)
    try:
        await stop.wait()
    finally:
        print(f"feedview serve: stopping {len(server.sessions)} session(s)", flush=True)
        await runner.cleanup()
    return 0
