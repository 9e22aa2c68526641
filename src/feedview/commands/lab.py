"""`feedview lab`: the feed lab alone, in the foreground."""

from __future__ import annotations

import argparse
import sys

from ..lab import Lab, LabConfig, serve_forever
from ..lab.app import endpoints


def run(args: argparse.Namespace) -> int:
    config = LabConfig(
        sse_interval_s=args.sse_interval,
        latency_ms=args.latency_ms,
        require_token=args.require_token,
        token=args.token,
    )

    def ready(lab: Lab) -> None:
        print(f"feedview lab listening on {lab.base_url}  (ctrl+c to stop)")
        for path, what in endpoints():
            print(f"  {lab.base_url}{path:<40} {what}")
        print(f"try: curl -N {lab.base_url}/events  |  curl -i {lab.base_url}/users/octo-org/repos?per_page=2")
        sys.stdout.flush()

    try:
        serve_forever(config, args.host, args.port, on_ready=ready)
    except OSError as exc:
        print(f"feedview lab: error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
