"""Who may open a session of `feedview serve`: a token off loopback, the page's own origin,
loopback names only without a token. No browser needed: HTTP on loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from served import ROOT, is_running, poll_until, write_config

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
