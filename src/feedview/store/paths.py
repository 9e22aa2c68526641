"""Where the history store lives. Imported before the first frame: nothing heavy here
(platformdirs loads only when the default place is asked for, in the app's thread pool)."""

from __future__ import annotations

import os
from pathlib import Path

FILE_NAME = "history.sqlite3"
HISTORY_ENV = "FEEDVIEW_HISTORY"  # a file to use instead of the default, or "off" (what --no-history sets)
_OFF_WORDS = ("off", "0", "no", "false")


def default_store_path() -> Path:
    """Where the store lives unless $FEEDVIEW_HISTORY says otherwise: the user state directory."""
    from platformdirs import user_state_path

    return user_state_path("feedview", appauthor=False) / FILE_NAME


def store_path() -> Path | None:
    """The store for this run: $FEEDVIEW_HISTORY's file, else the default; None when it is "off"."""
    chosen = os.environ.get(HISTORY_ENV, "").strip()
    if chosen.lower() in _OFF_WORDS:
        return None
    return Path(chosen).expanduser() if chosen else default_store_path()
