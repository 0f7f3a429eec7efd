"""Schema versions: how many migration steps a file has had, in SQLite's ``PRAGMA user_version``.

Why: probing every column at every start says nothing about a file written by a *newer* ipyy-mock, which an
older one would then use half-understood. A file records the number of steps it has had; opening runs only
the steps above it, and a file with more steps than this code knows is refused in one line. Files made
before versions were recorded say 0 and may already have some steps: every step is idempotent, so they run
them all and no-op where a step was done. Both the database and the request journal use this.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable

#: A migration step: changes one connection inside a write transaction, and is a no-op where already done.
Step = Callable[[sqlite3.Connection], None]


class NewerDatabase(Exception):
    """A file written by a newer ipyy-mock: its schema has steps this one does not know."""

    def __init__(self, path: str, what: str, version: int, known: int) -> None:
        super().__init__(
            f"the {what} {Path(path).resolve()} was written by a newer ipyy-mock (schema version {version}, this "
            f"one knows {known}): upgrade ipyy-mock (pip install -U ipyy-sms) or start on a new file with --db"
        )
        self.version, self.known = version, known


def version_of(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def refuse_newer(db: sqlite3.Connection, path: str, what: str, steps: tuple[Step, ...]) -> int:
    """The file's version, or NewerDatabase when it is above what ``steps`` reach."""
    version = version_of(db)
    if version > len(steps):
        raise NewerDatabase(path, what, version, len(steps))
    return version


def upgrade(db: sqlite3.Connection, path: str, what: str, steps: tuple[Step, ...]) -> int:
    """Inside the caller's write transaction: run the steps above the file's version and record the last one
    (read again under the lock: another worker may have just done it). The steps that ran, for tests."""
    version = refuse_newer(db, path, what, steps)
    for step in steps[version:]:
        step(db)
    if version != len(steps):
        db.execute(f"PRAGMA user_version = {len(steps)}")
    return len(steps) - version


def add_column(table: str, column: str, definition: str) -> Step:
    """A step adding ``column`` to ``table`` unless it is there (a file from before versions may have it)."""

    def step(db: sqlite3.Connection) -> None:
        if column not in {r[1] for r in db.execute(f"PRAGMA table_info({table})")}:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    step.__name__ = f"add_{table}_{column}"
    return step
