"""`feedview demo`: the dashboard on the built-in feed lab, offline."""

from __future__ import annotations

import argparse
import contextlib


def run(args: argparse.Namespace) -> int:
    if args.no_ui:
        return _lab_only()
    from ..ui.app import run_demo

    return run_demo()


def _lab_only() -> int:
    import threading

    from ..demo import demo_lab, demo_panels

    with demo_lab() as lab:
        print(f"feedview demo lab on {lab.base_url}  (ctrl+c to stop)")
        for panel in demo_panels(lab):
            where = panel.options.get("url") or [c["url"] for c in panel.options.get("checks", [])] or lab.base_url
            print(f"  {panel.kind:<14} {where}")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0
