"""`feedview [--config PATH]`: the configured dashboard, or the welcome page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from ..config import ConfigError, default_config_path, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"feedview: error: {exc}", file=sys.stderr)
        return 1
    from ..ui.app import run_dashboard

    return run_dashboard(config, Path(args.config) if args.config else default_config_path())
