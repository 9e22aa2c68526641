"""One health check's memory: its state after the flapping rules, and rolling stats.

States:
  unknown    no sample yet
  healthy    passing
  unhealthy  `failures_to_trip` consecutive failures
  unstable   in between: failing but not tripped yet, or passing only on its retry
             (the first pass after a failure); it turns healthy after
             `successes_to_recover` further consecutive passes

So with the defaults (1 and 1) a blip reads healthy, unhealthy, unstable, healthy:
one pass right after a failure is not yet proof of health.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .health import CheckState


class CheckHistory:
    def __init__(self, failures_to_trip: int, successes_to_recover: int, window: int) -> None:
        self.failures_to_trip = failures_to_trip
        self.successes_to_recover = successes_to_recover
        self.state: CheckState = "unknown"
        self.failures = 0  # consecutive failures, the sample just recorded included
        self._passes_since_retry = 0
        self._oks: deque[bool] = deque(maxlen=window)
        self._latencies: deque[float | None] = deque(maxlen=window)
        self.last_error: str | None = None
        self.last_change: float | None = None  # epoch seconds

    def record(self, time: float, ok: bool, latency_ms: float | None, reason: str | None) -> None:
        self._oks.append(ok)
        self._latencies.append(latency_ms)
        state = self._next_state(ok)
        if not ok:
            self.last_error = reason
        if state != self.state:
            self.state = state
            self.last_change = time

    def _next_state(self, ok: bool) -> CheckState:
        if not ok:
            self.failures += 1
            self._passes_since_retry = 0
            if self.failures >= self.failures_to_trip:
                return "unhealthy"
            return "unstable"
        if self.failures:
            self.failures = 0
            return "unstable"  # passed only on its retry
        if self.state in ("unknown", "healthy"):
            return "healthy"
        self._passes_since_retry += 1
        return "healthy" if self._passes_since_retry >= self.successes_to_recover else self.state

    @property
    def window(self) -> int:
        return len(self._oks)

    @property
    def uptime_pct(self) -> float | None:
        return 100.0 * sum(self._oks) / len(self._oks) if self._oks else None

    def latency_percentile(self, q: float) -> float | None:
        """Nearest-rank percentile over the window: a latency that was actually observed."""
        ordered = sorted(v for v in self._latencies if v is not None)
        if not ordered:
            return None
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]
