"""Run the lab on a real loopback socket, in a thread of its own.

A thread (not a task on the caller's loop) so that the same lab serves sync
code (the CLI, benchmarks), async tests and the Textual app without sharing
their event loop: a busy UI never slows the server it is measuring.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn

from .app import build_app
from .state import LabConfig, LabState


@dataclass
class Lab:
    base_url: str
    config: LabConfig
    state: LabState

    def url(self, path: str) -> str:
        return self.base_url + path


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this; without it, keep-alive requests stall ~40 ms on
    # Nagle + delayed ACK (asyncio only sets it on sockets it creates itself).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _server(config: LabConfig, state: LabState) -> uvicorn.Server:
    uv_config = uvicorn.Config(
        build_app(config, state),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=0.2,  # type: ignore[arg-type]  # (a float works; uvicorn annotates int)
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(uv_config)
    state.stopping = lambda: server.should_exit
    return server


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextlib.contextmanager
def start_lab(config: LabConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> Iterator[Lab]:
    """Start the lab on host:port (0: a free port) and stop it on exit."""
    config = config or LabConfig()
    state = LabState()
    sock = _bind(host, port)
    server = _server(config, state)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # surfaced to the caller below  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=run, name="feedview-lab", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        threading.Event().wait(0.005)
    if errors or not server.started:
        raise RuntimeError(f"the lab did not start: {errors[0] if errors else 'unknown error'}")
    try:
        yield Lab(_base_url(sock), config, state)
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


def serve_forever(config: LabConfig, host: str, port: int, on_ready=None) -> None:
    """Run the lab in the foreground until interrupted (for `feedview lab`)."""
    state = LabState()
    sock = _bind(host, port)
    server = _server(config, state)

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn's `started` is a flag
            await asyncio.sleep(0.01)
        if on_ready is not None and server.started:
            on_ready(Lab(_base_url(sock), config, state))
        await task

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
