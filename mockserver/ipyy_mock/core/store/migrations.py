"""Bringing a database made by an older version up to the current schema, at open.

Why apart from the schema: the schema says what a new file holds; these steps say how an old file gets
there, and they only grow.
"""

from __future__ import annotations

from ipyy_mock.core.store.schema import CACHED_ACCOUNT_COLUMNS, FIRST_TASK_ID, POST_MIGRATION, SCHEMA
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


class Migrations(Connections):
    """Run once by ``Store.__init__``: the schema, the columns added since, the indexes and triggers."""

    def migrate(self) -> None:
        self.db.executescript(SCHEMA)
        with self.write() as db:
            for table, column, definition in MIGRATIONS:
                if column not in {r["name"] for r in db.execute(f"PRAGMA table_info({table})")}:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        self._drop_stale_account_trigger()
        self.db.executescript(POST_MIGRATION)
        with self.write() as db:
            if db.execute("SELECT 1 FROM sqlite_sequence WHERE name='tasks'").fetchone() is None:
                db.execute("INSERT INTO sqlite_sequence(name, seq) VALUES ('tasks', ?)", (FIRST_TASK_ID - 1,))

    def _drop_stale_account_trigger(self) -> None:
        """A database made before a cached column existed has an UPDATE trigger that does not name it: without
        this, a change to that column alone would leave every worker's cached account as it was."""
        row = self.db.execute(
            "SELECT sql FROM sqlite_master WHERE type='trigger' AND name='accounts_update_generation'"
        ).fetchone()
        if row is not None and not all(column in row[0] for column in CACHED_ACCOUNT_COLUMNS):
            with self.write() as db:
                db.execute("DROP TRIGGER IF EXISTS accounts_update_generation")
