"""The lab's per-instance configuration and the state tests observe.

The lab runs in its own thread (its own event loop); tests and benchmarks read
`LabState` from another thread, so every change goes through one condition.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LabConfig:
    """Instance-wide knobs. Per-request knobs are query parameters (see faults.py)."""

    seed: int = 7
    token: str = "lab-token"
    require_token: bool = False  # every GitHub-shaped endpoint answers 401 without the token
    latency_ms: float = 0.0  # added to every request
    rate_limit: int = 5000  # x-ratelimit-limit for token holders (60 without)
    rate_window_s: float = 3600.0
    sse_interval_s: float = 2.0  # seconds between generated notifications ("demo" pace)
    sse_history: int = 1000  # events kept for Last-Event-ID replay
    sse_backlog: int = 0  # events already published at start, spread over the past (the demo's history)
    sse_retry_ms: int | None = 3000  # the `retry:` field sent on connect (None: none)
    keepalive_s: float = 15.0
    extra: dict = field(default_factory=dict)  # room for feature-specific knobs


@dataclass
class RequestRecord:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    time: float
    fault: str = ""  # the cycle= entry this request got (faults.FAULTS), if any


class LabState:
    """What happened in the lab, readable from any thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.requests: list[RequestRecord] = []
        self.open_streams = 0
        self.disconnects = 0
        self.counters: dict[str, int] = {}
        # True once the server is shutting down: open streams then end, as on a server restart
        self.stopping: Callable[[], bool] = lambda: False

    def record_request(self, rec: RequestRecord) -> None:
        with self._cond:
            self.requests.append(rec)
            self._cond.notify_all()

    def stream_opened(self) -> None:
        with self._cond:
            self.open_streams += 1
            self._cond.notify_all()

    def stream_closed(self) -> None:
        with self._cond:
            self.open_streams -= 1
            self.disconnects += 1
            self._cond.notify_all()

    def bump(self, key: str, by: int = 1) -> int:
        with self._cond:
            value = self.counters.get(key, 0) + by
            self.counters[key] = value
            self._cond.notify_all()
            return value

    def changed(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[LabState], bool], timeout: float = 5.0) -> bool:
        """Block until predicate(state) holds; False on timeout. For sync tests."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def take_requests(self) -> list[RequestRecord]:
        """The requests recorded so far, forgotten here: a long run (benchmarks/soak.py)
        summarises them as they come instead of keeping every one."""
        with self._cond:
            taken, self.requests = self.requests, []
            return taken

    def requests_to(self, path_prefix: str) -> list[RequestRecord]:
        with self._cond:
            return [r for r in self.requests if r.path.startswith(path_prefix)]
