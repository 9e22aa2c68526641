"""One health check's memory: its state after the flapping rules, and rolling stats.

This module is also the home of the words for a check's health (`Verdict` for one
answer, `CheckState` for the check over time): the feed, the verdict rules and the
UI all take them from here.

Verdicts (what one answer said; see health_verdicts.py for how bodies are read):
  healthy    the endpoint answered and says it works
  degraded   it answered and works, but says so with a reservation (IETF `warn`,
             ASP.NET `Degraded`, a yellow Elasticsearch cluster ...)
  unhealthy  it failed: no answer, an error status, or a body that says it is down

States (the check over time):
  unknown    no sample yet
  healthy    passing
  degraded   passing, and the latest answer was degraded (a degraded answer counts
             as a pass: it neither trips the check nor backs it off)
  unhealthy  `failures_to_trip` consecutive failures
  unstable   in between: failing but not tripped yet, or passing only on its retry
             (the first pass after a failure); it turns healthy (or degraded) after
             `successes_to_recover` further consecutive passes

So with the defaults (1 and 1) a blip reads healthy, unhealthy, unstable, healthy:
one pass right after a failure is not yet proof of health. Flapping wins over
degraded: a check that is unstable reads unstable whatever its answers say.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from typing import Literal

Verdict = Literal["healthy", "degraded", "unhealthy"]
CheckState = Literal["unknown", "healthy", "degraded", "unstable", "unhealthy"]


class CheckHistory:
    def __init__(self, failures_to_trip: int, successes_to_recover: int, window: int) -> None:
        self.failures_to_trip = failures_to_trip
        self.successes_to_recover = successes_to_recover
        self.state: CheckState = "unknown"
        self.failures = 0  # consecutive failures, the sample just recorded included
        self._flapping_state: CheckState = "unknown"  # the rules' state, before degraded refines healthy
        self._passes_since_retry = 0
        self._oks: deque[bool] = deque(maxlen=window)
        self._passes = 0  # in the window
        self._latencies: deque[float | None] = deque(maxlen=window)
        self._sorted: list[float] = []  # the window's latencies, in order
        self.last_error: str | None = None
        self.last_change: float | None = None  # epoch seconds

    def record(
        self, time: float, ok: bool, latency_ms: float | None, reason: str | None, *, degraded: bool = False
    ) -> None:
        """One answer: `ok` it passed (a degraded answer passes, with `degraded`)."""
        if len(self._oks) == self._oks.maxlen:
            self._passes -= self._oks[0]
        self._oks.append(ok)
        self._passes += ok
        self._keep_latency(latency_ms)
        self._flapping_state = self._next_state(ok)
        state = self._flapping_state
        if ok and degraded and state == "healthy":
            state = "degraded"
        if not ok:
            self.last_error = reason
        if state != self.state:
            self.state = state
            self.last_change = time

    def _keep_latency(self, latency_ms: float | None) -> None:
        """The window's latencies kept sorted as they come and go: the stats of every sample
        ask for two percentiles, and sorting the window each time cost more than the rest."""
        latencies = self._latencies
        if len(latencies) == latencies.maxlen:
            leaving = latencies[0]
            if leaving is not None:
                del self._sorted[bisect.bisect_left(self._sorted, leaving)]
        latencies.append(latency_ms)
        if latency_ms is not None:
            bisect.insort(self._sorted, latency_ms)

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
        if self._flapping_state in ("unknown", "healthy"):
            return "healthy"
        self._passes_since_retry += 1
        return "healthy" if self._passes_since_retry >= self.successes_to_recover else self._flapping_state

    @property
    def window(self) -> int:
        return len(self._oks)

    @property
    def uptime_pct(self) -> float | None:
        return 100.0 * self._passes / len(self._oks) if self._oks else None

    def latency_percentile(self, q: float) -> float | None:
        """Nearest-rank percentile over the window: a latency that was actually observed."""
        return self.latency_percentiles(q)[0]

    def latency_percentiles(self, *qs: float) -> tuple[float | None, ...]:
        """latency_percentile for each of qs."""
        ordered = self._sorted
        if not ordered:
            return (None,) * len(qs)
        return tuple(ordered[max(0, math.ceil(q * len(ordered)) - 1)] for q in qs)
