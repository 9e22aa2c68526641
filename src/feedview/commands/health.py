"""`feedview health URL...`: watch health checks, in a panel or as JSON lines.

With `--json --count N` the exit status gates a CI job, on each check's last sample:

  0  every check ends healthy or degraded (each degraded one gets a note on stderr:
     a degraded service still serves, as its own format says, e.g. IETF `warn`)
  1  a check ends unhealthy, or unstable (failing but not tripped yet, or passing only
     on its retry: not yet proof of health), or every check stopped on a bug
  2  bad usage (one line on stderr)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ..feeds.health import HealthSample, health_feed, resolve_checks
from ..feeds.state import FeedState
from ..text import escape_json_bytes, one_line, redact_url
from . import reader_left

PASSING_STATES = ("healthy", "degraded")


def run(args: argparse.Namespace) -> int:
    options = _panel_options(args)
    arguments = _feed_arguments(options)
    try:
        resolve_checks(**arguments)
    except (ValueError, TypeError) as exc:
        print(f"feedview health: error: {exc}", file=sys.stderr)
        return 2
    if not args.json:
        if args.count is not None:
            print("feedview health: error: --count goes with --json", file=sys.stderr)
            return 2
        from ..config import PanelConfig
        from ..ui.app import run_panels

        title = f"health: {redact_url(args.urls[0])}" if len(args.urls) == 1 else f"health: {len(args.urls)} checks"
        return run_panels([PanelConfig(kind="health", title=title, options=options)])
    try:
        return asyncio.run(_print_samples(arguments, args.count))
    except BrokenPipeError:
        return reader_left()


def _panel_options(args: argparse.Namespace) -> dict[str, Any]:
    """A health panel's options, as a config file would hold them: `urls` and health_feed's
    keyword arguments."""
    options: dict[str, Any] = {"urls": list(args.urls), "interval": args.interval, "timeout": args.timeout}
    tuning = {
        "conditions": args.conditions,
        "headers": dict(args.headers) if args.headers else None,
        "method": args.method,
        "failures_to_trip": args.failures_to_trip,
        "successes_to_recover": args.successes_to_recover,
        "max_interval": args.max_interval,
    }
    options.update({name: value for name, value in tuning.items() if value is not None})
    return options


def _feed_arguments(options: dict[str, Any]) -> dict[str, Any]:
    arguments = dict(options)
    arguments["checks"] = arguments.pop("urls")
    return arguments


async def _print_samples(arguments: dict[str, Any], count: int | None) -> int:
    """Print samples until each check has `count` of them (or for ever); the exit status."""
    printed: dict[int | None, int] = {}
    last: dict[int | None, HealthSample] = {}
    checks = len(arguments["checks"])
    async with contextlib.aclosing(health_feed(**arguments)) as feed:
        async for item in feed:
            if isinstance(item, FeedState):  # the feed's end: every check stopped
                print(f"feedview health: error: {one_line(item.reason)}", file=sys.stderr)
                return 1
            seen = printed.get(item.check_id, 0)
            if count is not None and seen >= count:
                continue
            stopped = item.next_at is None  # the check's last sample: count the check as done
            printed[item.check_id] = count if stopped and count is not None else seen + 1
            last[item.check_id] = item
            sys.stdout.write(json_line(sample_json(item)))
            sys.stdout.flush()
            if count is not None and len(printed) == checks and min(printed.values()) >= count:
                return _exit_status(sorted(last.values(), key=lambda s: s.check_id or 0))
    return 1  # the feed ended without saying why (it does not, but never report success for it)


def _exit_status(last: Iterable[HealthSample]) -> int:
    """0 when every check's last state passes (degraded ones noted on stderr), else 1 (each
    failing check named on stderr)."""
    status = 0
    for sample in last:
        if sample.state == "healthy":
            continue
        what = one_line(sample.name or redact_url(sample.url))
        reason = f": {sample.reason}" if sample.reason else ""
        print(f"feedview health: {sample.state}: {what}{reason}", file=sys.stderr)
        if sample.state not in PASSING_STATES:
            status = 1
    return status


def json_line(value: Any) -> str:
    """One JSON line for stdout: strictly valid (no NaN), ASCII, and nothing a terminal would act
    on (non-ASCII as \\u escapes, DEL escaped too)."""
    text = json.dumps(value, ensure_ascii=True, allow_nan=False)
    return escape_json_bytes(text.encode("ascii")).decode("ascii") + "\n"


def sample_json(sample: HealthSample) -> dict[str, Any]:
    """One sample as a JSON object: the documented keys first, then state and stats."""
    stats = sample.stats
    return {
        "url": redact_url(sample.url),
        "ok": sample.ok,
        "status_code": sample.status_code,
        "latency_ms": sample.latency_ms,
        "error": sample.reason,
        "time": _iso(sample.time),
        "error_kind": sample.error_kind,
        "state": sample.state,
        "verdict": sample.verdict,
        "format": sample.format,
        "next_at": _iso(sample.next_at),
        "stats": None
        if stats is None
        else {
            "uptime_pct": None if stats.uptime_pct is None else round(stats.uptime_pct, 2),
            "p50_ms": stats.p50_ms,
            "p95_ms": stats.p95_ms,
            "last_error": stats.last_error,
            "last_change": _iso(stats.last_change),
            "window": stats.window,
        },
    }


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
