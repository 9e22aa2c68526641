"""The history store: what every panel received, its read marks and resume cursors, in one
SQLite file in the user's state directory (docs/history.md).

paths.py says where the file is (light: imported before the first frame); db.py opens it
(WAL, migrations, a damaged, newer or read-only file turned into one line); history.py
reads and writes it (one writer thread); items.py turns feed items into rows and back.
`HistoryStore.open(path)` never raises for a bad file: it returns None and the line that
says why, and the app runs in memory. Nothing here imports Textual.
"""
