"""The history store: what every panel received, its read marks and resume cursors, in one
SQLite file in the user's state directory (docs/history.md).

`HistoryStore.open(path)` never raises for a bad file: it returns None and the one line
that says why (the app then runs in memory). Nothing here imports Textual.
"""

from .db import default_store_path
from .history import DEFAULT_MAX_ITEMS, DEFAULT_RETENTION_DAYS, HistoryStore, NewItem, PanelStore, Retention, StoredItem

__all__ = [
    "DEFAULT_MAX_ITEMS",
    "DEFAULT_RETENTION_DAYS",
    "HistoryStore",
    "NewItem",
    "PanelStore",
    "Retention",
    "StoredItem",
    "default_store_path",
]
