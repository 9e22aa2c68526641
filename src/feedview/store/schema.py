"""The history store's tables, and the migrations that bring any older file up to date.

The schema version is SQLite's `user_version`. `MIGRATIONS[n]` takes a file from
version n to n + 1, in one transaction with the version bump, so a file is always at
one version or the next, never between. A file from a newer feedview (a version above
SCHEMA_VERSION) is left untouched: `NewerStore`.

Text search is an FTS5 index over the items' title, message and tags. New items are indexed by
the writer a range at a time, behind the inserts (INDEX_RANGE; `search_index.upto` says how far
it has come); deleted ones leave it by a trigger.
It is "external content": the words are read from the stored payload (JSON) by a view,
so each message's text is kept once, in its raw payload, not three times.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 2

_V1 = """
CREATE TABLE panels (
    id INTEGER PRIMARY KEY,
    identity TEXT NOT NULL UNIQUE,  -- the feed, without credentials: kind + URL (+ query), sorted check URLs
    kind TEXT NOT NULL,
    name TEXT NOT NULL              -- its title when last opened: `feedview history --panel NAME`
);
CREATE TABLE items (
    id INTEGER PRIMARY KEY,         -- the order of arrival
    panel INTEGER NOT NULL REFERENCES panels(id) ON DELETE CASCADE,
    key TEXT,                       -- what makes it unique (an ntfy message id); NULL: nothing does
    received REAL NOT NULL,         -- epoch seconds when it arrived
    sent INTEGER,                   -- its own time, when it has one (ntfy's "time")
    priority INTEGER NOT NULL DEFAULT 3,
    event TEXT,                     -- the SSE event type, when not "message"
    event_id TEXT,                  -- the SSE id: field (the Last-Event-ID to resume after it)
    payload TEXT NOT NULL,          -- the event's data exactly as received (ntfy: its JSON object)
    read INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX items_key ON items(panel, key) WHERE key IS NOT NULL;
CREATE INDEX items_panel ON items(panel, id);
CREATE VIEW items_text AS
    SELECT id, {title} AS title, {message} AS message, {tags} AS tags FROM items;
CREATE VIRTUAL TABLE items_fts USING fts5(title, message, tags, content='items_text', content_rowid='id');
CREATE TABLE search_index (upto INTEGER NOT NULL);  -- the items with id <= upto are in items_fts
INSERT INTO search_index VALUES (0);
CREATE TRIGGER items_unindexed BEFORE DELETE ON items WHEN old.id <= (SELECT upto FROM search_index) BEGIN
    INSERT INTO items_fts(items_fts, rowid, title, message, tags)
        VALUES ('delete', old.id, {old_title}, {old_message}, {old_tags});
END;
CREATE TABLE cursors (               -- where a feed resumes: Last-Event-ID, since=, Last-Modified
    panel INTEGER NOT NULL REFERENCES panels(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (panel, name)
) WITHOUT ROWID;
CREATE TABLE threads (               -- GitHub notification threads, as last seen, and their read state
    panel INTEGER NOT NULL REFERENCES panels(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    unread INTEGER NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (panel, id)
) WITHOUT ROWID;
CREATE TABLE pages (                 -- GitHub list pages with their ETag: a restart costs 304s
    panel INTEGER NOT NULL REFERENCES panels(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    etag TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (panel, url)
) WITHOUT ROWID;
CREATE TABLE samples (               -- health checks, one row a check
    panel INTEGER NOT NULL REFERENCES panels(id) ON DELETE CASCADE,
    url TEXT NOT NULL,               -- without credentials
    time REAL NOT NULL,
    status INTEGER,
    latency_ms REAL,
    verdict TEXT NOT NULL,           -- healthy, degraded, unstable, unhealthy
    error TEXT
);
CREATE INDEX samples_panel ON samples(panel, url, time);
"""

# The words of an item, read from its payload: an ntfy message's title, message and tags (the
# tags as their JSON array: the tokenizer reads its words and skips the punctuation); the data
# itself for anything that is not a JSON object.
_TITLE = "CASE WHEN json_valid({p}) THEN json_extract({p}, '$.title') END"
_MESSAGE = "CASE WHEN json_valid({p}) THEN coalesce(json_extract({p}, '$.message'), {p}) ELSE {p} END"
_TAGS = "CASE WHEN json_valid({p}) THEN json_extract({p}, '$.tags') END"  # a JSON array: its words


def _words(row: str) -> dict[str, str]:
    payload = f"{row}.payload" if row else "payload"
    prefix = f"{row}_" if row else ""
    return {
        f"{prefix}title": _TITLE.format(p=payload),
        f"{prefix}message": _MESSAGE.format(p=payload),
        f"{prefix}tags": _TAGS.format(p=payload),
    }


_V1 = _V1.format(**_words(""), **_words("old"))

# New items are indexed a range at a time (one statement, not a trigger a row: 7x faster), by
# the writer a slice at a time while items come slowly or not at all, and with each write the items
# beyond history.INDEX_LAG_MAX behind (history.Writer).
INDEX_RANGE = (
    "INSERT INTO items_fts(rowid, title, message, tags) SELECT id, {title}, {message}, {tags} FROM items "
    "WHERE id > ? AND id <= ?"
).format(**_words(""))
# The same words as one text, for the newest items not in the index yet (matched by substring)
# casefold: a function every connection registers (db.connect), as Python's str.casefold: SQLite's
# lower() and LIKE fold ASCII only, and the query's words are casefolded ("Ärger", "Straße")
ITEM_WORDS = "casefold({})".format(" || ' ' || ".join(f"coalesce({words}, '')" for words in _words("items").values()))

# Version 2: the search index keeps no per-item column sizes (columnsize=0; they serve only
# ranking, and results come newest first): a third less of the writer's time per item indexed.
# The index starts again from nothing; the writer rebuilds it when idle, and meanwhile search
# reads the items it has not reached by substring, as it always does for the newest.
_V2 = """
DROP TABLE items_fts;
CREATE VIRTUAL TABLE items_fts USING fts5(
    title, message, tags, content='items_text', content_rowid='id', columnsize=0
);
UPDATE search_index SET upto = 0;
"""

MIGRATIONS: list[str] = [_V1, _V2]  # MIGRATIONS[n]: version n -> n + 1
assert len(MIGRATIONS) == SCHEMA_VERSION


class NewerStore(Exception):
    """The file was written by a newer feedview: this one must not touch it."""


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the file to SCHEMA_VERSION, one transaction per step (two processes may race here:
    BEGIN IMMEDIATE makes the second wait, then find the work done)."""
    while True:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise NewerStore(f"schema {version}; this feedview reads up to {SCHEMA_VERSION}")
        if version == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] == version:
                for statement in _statements(MIGRATIONS[version]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    """A script's statements (executescript would commit the open transaction first)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements
