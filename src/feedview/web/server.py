"""The web server of `feedview serve`: the page, its token, and one app process per tab.

aiohttp (already the health checks' client) serves three things: the page (page.html, with
a content security policy and no address outside this server, so it works offline), the
static files of textual-serve's front end (xterm.js, its CSS, the Roboto Mono font), and the
websocket each tab talks over; each websocket is one Session (session.py). textual-serve's
own server is not used: it has no authentication, forces TEXTUAL_FPS=60, asks a font CDN
for its font, and leaves its app processes running when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import secrets
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from aiohttp import WSMsgType, web

from ..text import one_line
from .session import Browser, InputBacklog, Session, SessionError

TOKEN_QUERY = "token"
MAX_SESSIONS = 32  # each is a Python process of ~60 MB: a bound, not a plan
MAX_MESSAGE = 64 * 1024  # one websocket message from a page: keys, a paste, a resize
MAX_COLUMNS, MAX_ROWS = 1000, 400  # a 8K screen at a 6 px font, and a margin
FONT_SIZES = range(6, 65)
SHUTDOWN_S = 2.0  # every session ends within session.END_S (1.9 s) of being asked
LOOPBACK_NAMES = ("localhost", "localhost.")
# The one line of textual.js that opens the terminal: the page's element keeps a handle on
# it, so that a test or a benchmark reads the screen's text from xterm.js's own buffer.
TERMINAL_OPEN = b"this.terminal.open(e),"
TERMINAL_KEPT = b"this.terminal.open(e),e.xterm=this.terminal,"


def front_end() -> Path:
    """textual-serve's static files (its front end: xterm.js and the Textual protocol)."""
    try:
        spec = resources.files("textual_serve")
    except ModuleNotFoundError:
        raise SessionError("feedview serve needs textual-serve: pip install 'feedview[web]'") from None
    return Path(str(spec)) / "static"


def is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine's loopback (a name from the Host header
    or --host, an address from the bound socket)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A token for a server that needs one and was given none (printed once)."""
    return secrets.token_urlsafe(24)


class OneLineErrors(logging.Filter):
    """aiohttp logs a malformed request (anyone can send one) with its traceback, some ten
    lines each; here it is one line, its control characters gone."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            first = (str(error).strip().splitlines() or [""])[0]
            record.msg = one_line(f"feedview serve: {record.getMessage()}: {type(error).__name__} {first}", 200)
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


@dataclass
class ServeSettings:
    """What the server needs: the session spec (child.SessionSpec, JSON), the token (None:
    no token, loopback only) and the names the page may be reached by."""

    spec: str
    token: str | None
    public_url: str | None = None
    cookie: str = "feedview_token"


class WebServer:
    """The aiohttp application and the sessions it runs."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.sessions: set[Session] = set()
        self._static = front_end()
        self._page = resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")
        script = (self._static / "js" / "textual.js").read_bytes()
        self._script = script.replace(TERMINAL_OPEN, TERMINAL_KEPT, 1)
        self._closing = False
        self._slots = 0  # sessions running or starting: taken before the first await

    def application(self) -> web.Application:
        """The routes: the page, its script, the websocket; CSS and fonts are public files
        (textual-serve's), served without a token."""
        app = web.Application(client_max_size=MAX_MESSAGE)
        app.add_routes(
            [
                web.get("/", self.page),
                web.get("/ws", self.websocket),
                web.get("/static/js/textual.js", self.script),
                web.static("/static/css", self._static / "css"),
                web.static("/static/fonts", self._static / "fonts"),
            ]
        )
        app.on_shutdown.append(self._end_sessions)
        server_log = logging.getLogger("aiohttp.server")
        if not any(isinstance(f, OneLineErrors) for f in server_log.filters):
            server_log.addFilter(OneLineErrors())
        return app

    # -- who may come in --------------------------------------------------------------------

    def _has_token(self, request: web.Request) -> bool:
        token = self.settings.token
        if token is None:
            return True
        given = request.query.get(TOKEN_QUERY) or request.cookies.get(self.settings.cookie) or ""
        # (a cookie of bytes that are not UTF-8 arrives with surrogates, which do not encode)
        return given.isascii() and hmac.compare_digest(given.encode(), token.encode())

    def _known_host(self, request: web.Request) -> bool:
        """Without a token only a loopback name may reach the server: a web page elsewhere
        whose name is made to resolve to 127.0.0.1 (DNS rebinding) is turned away."""
        if self.settings.token is not None:
            return True
        host = urlsplit(f"//{request.host}").hostname or ""
        public = urlsplit(self.settings.public_url or "").hostname
        return is_loopback(host) or host == public

    def _same_origin(self, request: web.Request) -> bool:
        """A websocket is opened by this server's page only: another site's page in the same
        browser must not drive the dashboard (cross-site websocket hijacking)."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser: it has the token (or the server needs none)
        allowed = {f"{request.scheme}://{request.host}"}
        if self.settings.public_url:
            parts = urlsplit(self.settings.public_url)
            allowed.add(f"{parts.scheme}://{parts.netloc}")
        return origin in allowed

    def _refusal(self, request: web.Request) -> web.Response | None:
        if not self._known_host(request):
            return web.Response(status=403, text="feedview: unknown host name\n")
        if not self._has_token(request):
            return web.Response(status=401, text="feedview: open the URL with its token (?token=...)\n")
        return None

    # -- the page ----------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        """The page: textual-serve's terminal, with a nonce for its scripts. Opened with
        ?token=, it sets the cookie and sends the browser to the same page without it."""
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        if self.settings.token is not None and TOKEN_QUERY in request.query:
            # the token moves to a cookie, and out of the address bar and the history
            rest = request.url.query.copy()
            rest.popall(TOKEN_QUERY)
            response = web.HTTPSeeOther("./" + (f"?{urlencode(list(rest.items()))}" if rest else ""))
            response.set_cookie(
                self.settings.cookie,
                request.query[TOKEN_QUERY],
                httponly=True,
                samesite="Strict",
                secure=request.secure or (self.settings.public_url or "").startswith("https:"),
            )
            raise response
        nonce = secrets.token_urlsafe(16)
        try:
            font_size = int(request.query.get("fontsize", "16"))
        except ValueError:
            font_size = 16
        font_size = font_size if font_size in FONT_SIZES else 16
        body = self._page.replace("{nonce}", nonce).replace("{font_size}", str(font_size))
        return web.Response(
            text=body,
            content_type="text/html",
            headers={
                # xterm.js adds its own style elements: styles may be inline, scripts may not
                "Content-Security-Policy": (
                    f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
                    "img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; "
                    "form-action 'none'; frame-ancestors 'none'"
                ),
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def script(self, request: web.Request) -> web.Response:
        """textual-serve's textual.js, changed to keep a handle on its terminal (TERMINAL_KEPT)."""
        return web.Response(body=self._script, content_type="application/javascript")

    # -- one tab -----------------------------------------------------------------------------

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        """One tab's session: its app starts, runs while the websocket is open, and ends
        with it. At most MAX_SESSIONS, counting those still starting."""
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        if not self._same_origin(request):
            return web.Response(status=403, text="feedview: this page's origin may not open a session\n")
        if self._closing or self._slots >= MAX_SESSIONS:
            return web.Response(status=503, text="feedview: no more sessions\n")
        self._slots += 1  # before any await: simultaneous websockets cannot all pass the check
        try:
            return await self._session(request)
        finally:
            self._slots -= 1

    async def _session(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE)
        await socket.prepare(request)
        width = _bounded(request.query.get("width"), MAX_COLUMNS, 80)
        height = _bounded(request.query.get("height"), MAX_ROWS, 24)
        try:
            session = await Session.start(self.settings.spec, width, height)
        except SessionError as exc:
            await socket.close(code=1011, message=_close_reason(str(exc)))
            return socket
        self.sessions.add(session)
        failure = None
        try:
            session.run(Browser(socket.send_bytes, socket.send_str, socket.close))
            await self._from_page(socket, session)
        except InputBacklog as exc:
            failure = str(exc)
        finally:
            # the tab closed (or the server is stopping): the app goes, and its feeds with it
            await session.end()
            self.sessions.discard(session)
            await socket.close()
        failure = failure or session.failure()
        if failure is not None:
            print(f"feedview serve: a session ended: {failure}", file=sys.stderr, flush=True)
        return socket

    async def _from_page(self, socket: web.WebSocketResponse, session: Session) -> None:
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
            except ValueError:
                continue
            if not isinstance(envelope, list) or not envelope:
                continue
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str):
                session.keys(data)
            elif kind == "resize" and isinstance(data, dict):
                width = _bounded(data.get("width"), MAX_COLUMNS, 80)
                height = _bounded(data.get("height"), MAX_ROWS, 24)
                session.meta(type="resize", width=width, height=height)
            elif kind in ("focus", "blur"):
                session.meta(type=kind)
            elif kind == "ping" and isinstance(data, str):
                await socket.send_str(json.dumps(["pong", data[:32]]))

    async def _end_sessions(self, app: web.Application) -> None:
        """On shutdown: every app is asked to quit at once (each closes its feeds); within
        session.END_S each has exited, killed if need be."""
        self._closing = True
        ending = asyncio.gather(*(session.end() for session in list(self.sessions)), return_exceptions=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ending, SHUTDOWN_S)


def _close_reason(text: str) -> bytes:
    """A websocket close frame's reason: at most 123 bytes, cut between characters."""
    return text.encode()[:120].decode("utf-8", "ignore").encode()


def _bounded(value: object, high: int, default: int) -> int:
    """A size from the page: a whole number from 1 to high, else the default."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = int(value) if len(value) <= 6 else None
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= high:
        return value
    return default
