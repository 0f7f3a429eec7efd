"""Bringing a database made by an older version up to the current schema, at open.

Why apart from the schema: the schema says what a new file holds; these steps say how an old file gets
there, and they only grow.
"""

from __future__ import annotations

import sqlite3

from ipyy_mock.core.store.schema import CACHED_ACCOUNT_COLUMNS, FIRST_TASK_ID, POST_MIGRATION, SCHEMA
from ipyy_mock.core.store.versions import Step, add_column, refuse_newer, upgrade
from ipyy_mock.core.store.writes import Connections

# Columns added after the first release: (table, column, definition) for databases created before them.
MIGRATIONS = (
    ("reports", "route", "TEXT NOT NULL DEFAULT 'pull'"),
    ("reports", "batch_id", "INTEGER"),
    ("uplinks", "route", "TEXT NOT NULL DEFAULT 'pull'"),
    ("uplinks", "batch_id", "INTEGER"),
    ("accounts", "strict", "INTEGER NOT NULL DEFAULT 0"),
    ("accounts", "limits", "TEXT NOT NULL DEFAULT 'warn'"),
    ("accounts", "code_limit", "INTEGER NOT NULL DEFAULT 3"),
    ("accounts", "code_window", "INTEGER NOT NULL DEFAULT 180"),
    ("accounts", "daily_limit", "INTEGER NOT NULL DEFAULT 10"),
)


def drop_stale_account_trigger(db: sqlite3.Connection) -> None:
    """A database made before a cached column existed has an UPDATE trigger that does not name it: without
    this, a change to that column alone would leave every worker's cached account as it was (POST_MIGRATION
    makes it again, naming every column)."""
    row = db.execute(
        "SELECT sql FROM sqlite_master WHERE type='trigger' AND name='accounts_update_generation'"
    ).fetchone()
    if row is not None and not all(column in row[0] for column in CACHED_ACCOUNT_COLUMNS):
        db.execute("DROP TRIGGER IF EXISTS accounts_update_generation")


def move_code_times(db: sqlite3.Connection) -> None:
    """Sending-limit counters from before ``code_sends`` kept the window's times as text in ``code_times``: one
    row each now, and their number in ``code_count`` (the old column stays, empty: SQLite before 3.35 cannot
    drop it)."""
    if "code_times" not in {r[1] for r in db.execute("PRAGMA table_info(send_counters)")}:
        return
    for account, mobile, times in db.execute(
        "SELECT account, mobile, code_times FROM send_counters WHERE code_times != ''"
    ).fetchall():
        sends = [(account, mobile, float(t)) for t in times.split()]
        db.executemany("INSERT INTO code_sends (account, mobile, time) VALUES (?, ?, ?)", sends)
        db.execute(
            "UPDATE send_counters SET code_count=?, code_times='' WHERE account=? AND mobile=?",
            (len(sends), account, mobile),
        )


#: The database's migration steps, in order; ``PRAGMA user_version`` counts those a file has had. Append only:
#: a step that shipped is never changed or removed (core/store/versions.py).
STEPS: tuple[Step, ...] = (
    *(add_column(*added) for added in MIGRATIONS),
    drop_stale_account_trigger,
    add_column("send_counters", "code_count", "INTEGER NOT NULL DEFAULT 0"),
    move_code_times,
)


class Migrations(Connections):
    """Run once by ``Store.__init__``: the schema, the steps above the file's version, the indexes and triggers."""

    def migrate(self) -> None:
        refuse_newer(self.db, self.path, "database", STEPS)  # before anything touches a newer file
        self.db.executescript(SCHEMA)
        with self.write() as db:
            upgrade(db, self.path, "database", STEPS)
        self.db.executescript(POST_MIGRATION)
        with self.write() as db:
            if db.execute("SELECT 1 FROM sqlite_sequence WHERE name='tasks'").fetchone() is None:
                db.execute("INSERT INTO sqlite_sequence(name, seq) VALUES ('tasks', ?)", (FIRST_TASK_ID - 1,))
