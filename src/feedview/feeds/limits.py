"""Numbers from the network, parsed safely and clamped to a documented range.

A server decides none of feedview's timings beyond these bounds: whatever a
`retry:` field, a Retry-After, a rate-limit reset or an X-Poll-Interval says,
the wait that results lies in [floor, ceiling]; a backoff grows by doubling
up to its cap without ever computing a power that overflows.
"""

from __future__ import annotations

import math
import random

MIN_RECONNECT_S = 0.25  # no server can make a feed reconnect more than 4 times a second
MAX_WAIT_S = 86400.0  # a day: beyond that a server's "wait" is a mistake, not a plan
MAX_DIGITS = 18  # longer runs of digits are not a time anyone means (and int() would refuse ~4,300)


def parse_int(text: object, *, low: int, high: int) -> int | None:
    """ASCII digits only (no sign, space or underscore), clamped to [low, high]; None when not a number."""
    value = str(text).strip() if text is not None else ""
    if not value or not value.isascii() or not value.isdigit():
        return None
    value = value.lstrip("0") or "0"
    if len(value) > MAX_DIGITS:
        return high
    return min(max(int(value), low), high)


def parse_seconds(text: object, *, low: float = 0.0, high: float = MAX_WAIT_S) -> float | None:
    """A decimal number of seconds ("60", "0.5"), clamped to [low, high]; None when it is not a
    finite non-negative number."""
    value = str(text).strip() if text is not None else ""
    if not value or not value.isascii() or len(value) > 32:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return min(max(number, low), high)


def clamp(value: float, low: float, high: float) -> float:
    """value within [low, high]; NaN counts as low."""
    return min(max(value, low), high) if value == value else low


def backoff(
    base: float, failures: int, cap: float, *, jitter: float = 0.0, floor: float = 0.0, rng: random.Random | None = None
) -> float:
    """The wait after `failures` consecutive failures: base, 2 base, 4 base ... up to cap,
    less up to `jitter` of it at random, never below floor. Safe for any number of failures."""
    cap = max(cap, base, floor)
    doublings = min(max(failures - 1, 0), 64)  # 2 ** 64 times any base is past every cap
    delay = min(max(base, floor) * (1 << doublings), cap)
    if jitter:
        delay *= 1 - jitter * (rng or random).random()
    return max(delay, floor)
