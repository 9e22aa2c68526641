"""Polled health checks that back off. (Contract; filled in by its issue.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ErrorKind = Literal["timeout", "refused", "dns", "tls", "http", "condition", "other"]
CheckState = Literal["unknown", "healthy", "unstable", "unhealthy"]


@dataclass(frozen=True)
class HealthStats:
    uptime_pct: float | None
    p50_ms: float | None
    p95_ms: float | None
    last_error: str | None
    last_change: float | None  # epoch seconds of the last state change
    window: int  # samples the stats cover


@dataclass(frozen=True)
class HealthSample:
    time: float  # epoch seconds when the check started
    url: str
    ok: bool
    status_code: int | None
    latency_ms: float | None
    error_kind: ErrorKind | None
    reason: str | None  # short human reason, None when ok
    state: CheckState = "unknown"  # after the flapping rules
    next_at: float | None = None  # epoch seconds of the next check
    stats: HealthStats | None = None
    name: str | None = None
