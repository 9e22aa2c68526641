"""Who may open a session of `feedview serve`: a token off loopback, the page's own origin,
loopback names only without a token. No browser needed: HTTP on loopback."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from served import ROOT, is_running, patched_cli, poll_until, write_config

WEBSOCKET = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


@pytest.fixture
def config(lab, tmp_path):
    return write_config(tmp_path, [{"kind": "notifications", "title": "Alerts", "url": lab.url("/events")}])


def loopback_url(url: str) -> str:
    """The printed URL's port on 127.0.0.1 (a server on 0.0.0.0 prints this machine's name)."""
    return f"http://127.0.0.1:{urlsplit(url).port}/"


def run_serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedview.cli", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PYTHONPATH": str(ROOT / "src"),
            "PATH": "/usr/bin:/bin",
            "XDG_CONFIG_HOME": "/nonexistent",
            **(env or {}),
        },
    )


def test_off_loopback_a_token_is_made_printed_once_and_asked_for(serve, config):
    served = serve("--config", str(config), "--host", "0.0.0.0")
    token = urlsplit(served.url).query.removeprefix("token=")
    assert len(token) >= 16
    assert sum(token in line for line in served.lines) == 1
    base = loopback_url(served.url)
    with httpx.Client() as client:
        assert client.get(base).status_code == 401
        assert client.get(base, params={"token": "x" * len(token)}).status_code == 401
        assert client.get(base + "ws", headers=WEBSOCKET).status_code == 401
        # the token moves to a cookie (out of the address bar), and the page opens with it
        given = client.get(base, params={"token": token})
        assert given.status_code == 303 and given.headers["location"] == "./"
        assert "HttpOnly" in given.headers["set-cookie"] and "SameSite=Strict" in given.headers["set-cookie"]
        page = client.get(base)
        assert page.status_code == 200 and "textual.js" in page.text
    assert served.sessions() == []  # no session was started by any of it


def test_a_websocket_from_another_origin_is_refused(serve, config):
    served = serve("--config", str(config))
    with httpx.Client() as client:
        refused = client.get(served.url + "ws", headers={**WEBSOCKET, "Origin": "http://evil.example"})
        assert refused.status_code == 403
    assert served.sessions() == []


def test_without_a_token_only_loopback_names_reach_the_server(serve, config):
    """A page elsewhere whose name resolves to 127.0.0.1 (DNS rebinding) is turned away."""
    served = serve("--config", str(config))
    with httpx.Client() as client:
        assert client.get(served.url).status_code == 200
        assert client.get(served.url.replace("127.0.0.1", "localhost")).status_code == 200
        assert client.get(served.url, headers={"Host": "rebound.example"}).status_code == 403
        assert client.get(served.url + "ws", headers={**WEBSOCKET, "Host": "rebound.example"}).status_code == 403


def test_a_token_of_ones_own_is_never_printed(serve, config):
    token = "an-own-token-of-the-users-0123456789"
    served = serve("--config", str(config), "--host", "0.0.0.0", env={"FEEDVIEW_SERVE_TOKEN": token})
    assert "?" not in served.url and not any(token in line for line in served.lines)
    with httpx.Client() as client:
        assert client.get(loopback_url(served.url)).status_code == 401
        assert client.get(loopback_url(served.url), params={"token": token}).status_code == 303


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--host", "0.0.0.0", "--token", "short"], 2, "at least 16 printable ASCII characters"),
        (["--config", "/nonexistent/feedview.toml"], 1, "no such file"),
        (["demo", "--config", "x.toml"], 2, "not both"),
        (["demo", "--host", "256.1.1.1"], 1, "cannot listen on 256.1.1.1:0"),
        ([], 2, "no config at /nonexistent/feedview/config.toml: give --config PATH, or serve the demo"),
    ],
)
def test_a_server_that_cannot_start_says_why_in_one_line(args, status, message):
    done = run_serve(*args)
    assert done.returncode == status
    assert message in done.stderr and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_the_session_never_sees_the_token_nor_a_forced_frame_rate(serve, browser, page, config):
    token = "an-own-token-of-the-users-0123456789"
    served = serve("--config", str(config), env={"FEEDVIEW_SERVE_TOKEN": token})
    page.goto(f"{served.url}?token={token}")
    assert token not in page.url  # out of the address bar (and of the history)
    assert poll_until(lambda: len(served.sessions()) == 1, 20)
    (session,) = served.sessions()
    environ = Path(f"/proc/{session}/environ").read_bytes()
    assert token.encode() not in environ
    assert b"TEXTUAL_FPS=60" not in environ  # textual-serve forced it; feedview keeps its own rate
    page.close()
    assert poll_until(lambda: not is_running(session), 10)


def test_a_session_survives_whatever_a_page_sends(serve, config):
    """Messages that are not the page's protocol are ignored, sizes out of range are bounded,
    and the session goes on drawing (a websocket client of its own: no browser needed)."""
    import asyncio
    import concurrent.futures

    import aiohttp

    served = serve("--config", str(config))

    async def talk() -> bytes:
        async with (
            aiohttp.ClientSession() as client,
            client.ws_connect(served.url + "ws?width=99999999&height=x") as ws,
        ):
            for junk in ("not json", "[]", "{}", '["stdin", 5]', '["resize", {"width": 1e308, "height": -1}]'):
                await ws.send_str(junk)
            await ws.send_bytes(b"\x00" * 1000)
            await ws.send_str('["resize", {"width": 100, "height": 30}]')
            await ws.send_str('["ping", "42"]')
            screen, pong = b"", None
            async with asyncio.timeout(30):
                while pong is None or b"Alerts" not in screen:
                    message = await ws.receive()
                    if message.type == aiohttp.WSMsgType.BINARY:
                        screen += message.data
                    elif message.type == aiohttp.WSMsgType.TEXT:
                        pong = message.data
                    else:
                        raise AssertionError(f"the session ended: {message}")
            assert pong == '["pong", "42"]'
            return screen

    # in a thread of its own: Playwright's sync API (in other tests) keeps a loop running on this one
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        assert b"Alerts" in thread.submit(asyncio.run, talk()).result()
    assert poll_until(lambda: served.sessions() == [], 10)  # the socket closed: the session ended


# -- review findings: each reproduced first ------------------------------------------------

END_S = 10  # a generous deadline on a busy machine (the server's own bound is 1.9 s)
FLOOD = '["stdin", "' + "a" * 60000 + '"]'  # one page message of keys, near the 64 KiB cap


def in_thread(coroutine):
    """Run a websocket client's coroutine on a loop of its own (Playwright's sync API, in other
    tests, keeps a loop running on this thread)."""
    import asyncio
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def first_frame(ws) -> None:
    """Wait for the dashboard's first frame on a session's websocket."""
    import asyncio

    import aiohttp

    screen = b""
    async with asyncio.timeout(30):
        while b"Alerts" not in screen:
            message = await ws.receive()
            if message.type != aiohttp.WSMsgType.BINARY:
                raise AssertionError(f"the session ended: {message}")
            screen += message.data


@pytest.fixture
def stopped():
    """Session processes stopped with SIGSTOP by a test: continued (or already gone) after it."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


@pytest.mark.parametrize("stuck", [False, True], ids=["busy-app", "stuck-app"])
def test_a_flood_of_keys_does_not_hold_up_the_end_of_a_session(serve, config, stopped, stuck):
    """Closing the tab ends the session within the bound however many keys wait unread:
    the quit is not queued behind them (finding 1: 15 s busy, never when stuck)."""
    import aiohttp

    served = serve("--config", str(config))

    async def flood_then_close() -> int:
        async with aiohttp.ClientSession() as client, client.ws_connect(served.url + "ws") as ws:
            await first_frame(ws)
            (session,) = served.sessions()
            if stuck:
                stopped.append(session)
                os.kill(session, signal.SIGSTOP)
            for _ in range(6):
                await ws.send_str(FLOOD)
            return session

    session = in_thread(flood_then_close())
    assert poll_until(lambda: not is_running(session), END_S)
    assert served.process.poll() is None


def test_stopping_the_server_with_a_stuck_session_ends_it_within_the_bound(serve, config, stopped):
    import asyncio

    import aiohttp

    served = serve("--config", str(config))

    async def stuck_then_stop() -> int:
        async with aiohttp.ClientSession() as client, client.ws_connect(served.url + "ws") as ws:
            await first_frame(ws)
            (session,) = served.sessions()
            stopped.append(session)
            os.kill(session, signal.SIGSTOP)
            for _ in range(6):
                await ws.send_str(FLOOD)
            served.process.send_signal(signal.SIGINT)
            async with asyncio.timeout(END_S):
                await ws.receive()  # the server closes the tab's websocket
            return session

    session = in_thread(stuck_then_stop())
    assert served.process.wait(END_S) == 0
    assert poll_until(lambda: not is_running(session), END_S)


def test_an_app_that_leaves_its_input_unread_ends_its_session(serve, config, stopped):
    """Keys the app has not read are bounded (MAX_UNSENT): past it the session ends, and the
    server says why, rather than holding all a page sends."""
    import asyncio

    import aiohttp

    served = serve("--config", str(config))

    async def flood() -> tuple[int, aiohttp.WSMsgType]:
        async with aiohttp.ClientSession() as client, client.ws_connect(served.url + "ws") as ws:
            await first_frame(ws)
            (session,) = served.sessions()
            stopped.append(session)
            os.kill(session, signal.SIGSTOP)
            for _ in range(24):  # 1.4 MB of keys
                await ws.send_str(FLOOD)
            async with asyncio.timeout(END_S):
                while (message := await ws.receive()).type == aiohttp.WSMsgType.BINARY:
                    pass
            return session, message.type

    session, ending = in_thread(flood())
    assert ending in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    assert poll_until(lambda: not is_running(session), END_S)
    assert poll_until(lambda: any("left over 1024 KiB of input unread" in line for line in served.lines), END_S)


def test_simultaneous_websockets_do_not_pass_the_session_cap(serve, config):
    """Six websockets at once against a cap of two: two sessions, four 503s (finding 2: all
    six opened, the check and the count being two awaits apart)."""
    import asyncio

    import aiohttp

    served = serve("--config", str(config), cli=patched_cli("import feedview.web.server as s; s.MAX_SESSIONS = 2"))

    async def six_at_once() -> list[object]:
        async with aiohttp.ClientSession() as client:

            async def one() -> object:
                try:
                    ws = await client.ws_connect(served.url + "ws")
                except aiohttp.WSServerHandshakeError as exc:
                    return exc.status
                return ws

            opened = await asyncio.gather(*(one() for _ in range(6)))
            sockets = [ws for ws in opened if not isinstance(ws, int)]
            peak = len(served.sessions())
            for ws in sockets:
                await ws.close()
            return [ws if isinstance(ws, int) else "open" for ws in opened] + [peak]

    *outcomes, peak = in_thread(six_at_once())
    assert sorted(outcomes, key=str) == [503, 503, 503, 503, "open", "open"]
    assert peak <= 2
    assert poll_until(lambda: served.sessions() == [], END_S)


def test_a_public_url_asks_for_a_token_even_on_loopback(serve, config):
    """Behind a reverse proxy on this machine the server is reached from loopback on behalf of
    anyone: a --public-url means a token (finding 3: a session opened without one)."""
    served = serve("--config", str(config), "--public-url", "https://dash.example.com/")
    assert served.url.startswith("https://dash.example.com/?token=")
    token = urlsplit(served.url).query.removeprefix("token=")
    assert sum(token in line for line in served.lines) == 1
    public = {"Host": "dash.example.com", "Origin": "https://dash.example.com"}
    (listening,) = [line.split()[-1] for line in served.lines if "listening on" in line]
    base = loopback_url(listening)
    with httpx.Client() as client:
        assert client.get(base + "ws", headers={**WEBSOCKET, **public}).status_code == 401
        assert client.get(base, headers={"Host": "dash.example.com"}).status_code == 401
        assert client.get(base, headers={"Host": "dash.example.com"}, params={"token": token}).status_code == 303
    assert served.sessions() == []


def test_a_token_that_is_not_ascii_is_refused_without_a_traceback(serve, config):
    """A cookie of bytes that are not UTF-8 (anyone can send one) gets 401, not a 500 and a
    traceback (finding 4)."""
    served = serve("--config", str(config), "--host", "0.0.0.0")
    base = loopback_url(served.url)
    cookie = f"feedview_token_{urlsplit(base).port}=".encode() + b"\xff\xfe\xfd"
    with httpx.Client() as client:
        assert client.get(base, headers={"Cookie": cookie}).status_code == 401
        assert client.get(base, params={"token": "é" * 20}).status_code == 401
        assert client.get(base + "ws", headers={**WEBSOCKET, "Cookie": cookie}).status_code == 401
    assert not any("Traceback" in line for line in served.lines)


def test_the_token_leaves_the_address_but_the_font_size_stays(serve, config):
    token = "an-own-token-of-the-users-0123456789"
    served = serve("--config", str(config), env={"FEEDVIEW_SERVE_TOKEN": token})
    with httpx.Client() as client:
        moved = client.get(served.url, params={"token": token, "fontsize": "20"})
        assert moved.status_code == 303 and moved.headers["location"] == "./?fontsize=20"
        assert 'data-font-size="20"' in client.get(served.url + "?fontsize=20").text


def test_a_malformed_request_is_one_line_on_stderr_not_a_traceback(serve, config):
    """Anyone can send one: aiohttp's ten lines of traceback become one, without its control
    characters (finding 12)."""
    served = serve("--config", str(config))
    port = urlsplit(served.url).port
    for request in (b"GET /\x1b]0;PWNED\x07 HTTP/1.1\r\nHost: x\r\n\r\n", b"GET / HTTP/1.1\r\nX: \x1b[31mred\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", port), timeout=END_S) as raw:
            raw.sendall(request)
            assert b" 400 " in raw.recv(100)
    errors = lambda: [line for line in served.lines if "Error handling request" in line]  # noqa: E731
    assert poll_until(lambda: len(errors()) == 2, END_S)
    served.stop()
    assert not any("Traceback" in line or "\x1b" in line or "\x07" in line for line in served.lines)
    assert all(line.startswith("feedview serve: ") for line in errors())


def test_an_app_that_fails_at_start_says_why_on_the_servers_stderr(serve, config):
    """Its crash races the end of its websocket; the session still reports it (finding 5: the
    end marked it "ended by us" and dropped its stderr)."""
    import aiohttp

    served = serve("--config", str(config), cli=patched_cli("import feedview.web.session as s; s.DRIVER = 'nowhere:X'"))

    async def open_it() -> None:
        async with aiohttp.ClientSession() as client, client.ws_connect(served.url + "ws") as ws:
            await ws.receive()  # the close: the app never drew

    in_thread(open_it())
    ended = lambda: [line for line in served.lines if "a session ended" in line]  # noqa: E731
    assert poll_until(ended, END_S), served.lines
    assert "exited with status 1" in ended()[0] and "nowhere" in ended()[0]


def test_the_token_is_decided_by_the_bound_address_not_the_name(serve, config):
    """127.1 is no loopback name but binds to 127.0.0.1: no token is asked (finding 11: the
    name decided, and a name may resolve anywhere)."""
    served = serve("--config", str(config), "--host", "127.1")
    assert "?" not in served.url
    with httpx.Client() as client:
        assert client.get(loopback_url(served.url)).status_code == 200


def test_a_close_reason_is_cut_between_characters():
    from feedview.web.server import _close_reason

    reason = _close_reason("é" * 100)
    assert len(reason) <= 123 and reason.decode() == "é" * 60
