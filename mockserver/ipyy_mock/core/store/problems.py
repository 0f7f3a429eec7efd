"""Why a database cannot be written, in one line: for ``serve``'s start and ``GET /_mock/health``.

Why a module of its own: naming a full disk, a read-only mount or a damaged file is a job apart from
writing, and its probe must be a real commit (see ``write_problem``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ipyy_mock.core.store.writes import Connections


def quick_check(path: str | Path) -> str | None:
    """The first problem ``PRAGMA quick_check`` finds in an existing database file (None: none, or no file yet).

    Run once at start (``ipyy-mock serve``): a damaged file is named as such in one line, instead of failing
    later in one send or another with "database disk image is malformed". Opened read-only: it changes nothing.
    A file that is not a database at all raises (the caller names it).
    """
    target = Path(path)
    if str(path) == ":memory:" or not target.exists() or target.stat().st_size == 0:
        return None
    conn = sqlite3.connect(target.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        try:
            rows = conn.execute("PRAGMA quick_check(1)").fetchall()
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                raise
            return str(exc)
    finally:
        conn.close()
    first = str(rows[0][0]) if rows else "ok"
    return None if first == "ok" else first.replace("\n", " ")


def _write_reason(exc: sqlite3.Error, wait: float) -> str:
    """One line for a write that failed: the cause SQLite names, and what to do about it."""
    code = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if code.startswith("SQLITE_FULL") or "full" in text:
        return f"the disk is full ({text}): free space on the database's volume"
    if code.startswith("SQLITE_READONLY") or "readonly" in text:
        return f"the database cannot be written ({text}): a read-only file, volume or mount"
    if code.startswith("SQLITE_BUSY") or "locked" in text:
        return f"another process held the write lock for over {wait:g} s ({text})"
    if code.startswith("SQLITE_CORRUPT") or "malformed" in text or "not a database" in text:
        return f"the database file is damaged ({text}): restore it from a copy or start with a new --db"
    if code.startswith("SQLITE_IOERR"):
        return f"writing the database failed ({code}: {text}): a file made read-only or immutable, or a failing disk"
    return f"the database cannot be written ({code or type(exc).__name__}: {text})"


class Problems(Connections):
    """The health probe's write."""

    def writable(self, wait: float) -> bool:
        """True when ``write_problem`` finds none."""
        return self.write_problem(wait) is None

    def write_problem(self, wait: float) -> str | None:
        """Why this thread's connection cannot store a send now (None: it can). For ``GET /_mock/health``.

        The probe is a real write: a row into ``health_probe`` committed, then deleted and committed, the way a
        send reaches the disk. A rolled-back change would say "writable" on a full disk (nothing is written
        before COMMIT) or a file made immutable under the running server. The write lock is waited for at most
        ``wait`` seconds, not the usual 30.
        """
        db = self.db
        previous = db.execute("PRAGMA busy_timeout").fetchone()[0]
        db.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
        try:
            for statement in ("INSERT INTO health_probe(at) VALUES (julianday('now'))", "DELETE FROM health_probe"):
                db.execute("BEGIN IMMEDIATE")
                try:
                    db.execute(statement)
                    db.execute("COMMIT")
                finally:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            return _write_reason(exc, wait)
        finally:
            db.execute(f"PRAGMA busy_timeout={int(previous)}")
        return None
