"""`feedview health URL...`: watch health checks, in a panel or as JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from datetime import datetime, timezone
from typing import Any

from . import reader_left
from ..feeds.health import HealthSample, health_feed, resolve_checks


def run(args) -> int:
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

        title = f"health: {args.urls[0]}" if len(args.urls) == 1 else f"health: {len(args.urls)} checks"
        return run_panels([PanelConfig(kind="health", title=title, options=options)])
    try:
        asyncio.run(_print_samples(arguments, args.count))
    except BrokenPipeError:
        return reader_left()
    return 0


def _panel_options(args) -> dict[str, Any]:
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


async def _print_samples(arguments: dict[str, Any], count: int | None) -> None:
    printed: dict[int, int] = {}
    checks = len(arguments["checks"])
    async with contextlib.aclosing(health_feed(**arguments)) as feed:
        async for sample in feed:
            seen = printed.get(sample.check_id, 0)
            if count is not None and seen >= count:
                continue
            printed[sample.check_id] = seen + 1
            sys.stdout.write(json.dumps(sample_json(sample)) + "\n")
            sys.stdout.flush()
            if count is not None and len(printed) == checks and min(printed.values()) >= count:
                return


def sample_json(sample: HealthSample) -> dict[str, Any]:
    """One sample as a JSON object: the documented keys first, then state and stats."""
    stats = sample.stats
    return {
        "url": sample.url,
        "ok": sample.ok,
        "status_code": sample.status_code,
        "latency_ms": sample.latency_ms,
        "error": sample.reason,
        "time": _iso(sample.time),
        "error_kind": sample.error_kind,
        "state": sample.state,
        "next_at": _iso(sample.next_at),
        "stats": None if stats is None else {
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
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
