"""Times as the panels and details show them: the one place for ages, stamps and ISO dates."""

from __future__ import annotations

from datetime import datetime

_UNITS = ((365 * 86400, "y"), (30 * 86400, "mo"), (86400, "d"), (3600, "h"), (60, "m"), (1, "s"))


def age(then: float, now: float) -> str:
    """How long ago, compactly: "now" (under 5 s), "47s", "3m", "2h", "5d", "4mo", "2y"."""
    delta = max(0, int(now - then))
    if delta < 5:
        return "now"
    return next(f"{delta // size}{unit}" for size, unit in _UNITS if delta >= size)


def ago(then: float | None, now: float) -> str:
    """age() in words for a sentence: "3m ago", "just now"; "" for no time."""
    if then is None:
        return ""
    text = age(then, now)
    return "just now" if text == "now" else f"{text} ago"


def parse_iso(text: str | None) -> float | None:
    """Epoch seconds of an ISO 8601 time as GitHub writes them ("2026-11-29T14:05:09Z"); None if not one."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def stamp(epoch: float | None, now: float) -> str:
    """A local date and time with its age: "2026-11-29 14:05:09 (3m ago)"; "" for no time."""
    if not epoch:
        return ""
    try:
        shown = datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):  # beyond what the platform's clock can show
        return f"{epoch:g}"
    return f"{shown} ({ago(epoch, now)})"


def clock_time(epoch: float) -> str:
    """HH:MM:SS of an epoch time, or "?" beyond what the platform's clock can show."""
    try:
        return datetime.fromtimestamp(epoch).strftime("%H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return "?"
