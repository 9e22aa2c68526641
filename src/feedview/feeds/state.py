"""Connection state, yielded in-band by every feed so a consumer can show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Phase = Literal["connecting", "open", "idle", "retrying", "waiting", "paused", "closed", "error"]


@dataclass(frozen=True)
class FeedState:
    """Where a feed's connection stands.

    phase     connecting | open | idle (up to date: a polling feed's routine pause, next
              check at resume_at) | retrying (after a failure) | waiting (a rate limit:
              the server asked for the pause) | paused | closed (ended for good, normally) |
              error (final)
    reason    one human line: why it is idle/retrying/waiting/closed/failed
    resume_at wall-clock epoch seconds when an idle pause, retry or wait ends, if known
    attempt   how many consecutive failures led here (0 when healthy)
    """

    phase: Phase
    reason: str = ""
    resume_at: float | None = None
    attempt: int = 0

    @property
    def final(self) -> bool:
        return self.phase in ("closed", "error")
