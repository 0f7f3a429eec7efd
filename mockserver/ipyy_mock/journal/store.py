"""The journal's own SQLite file: opening it (schema, migrations, a damaged file set aside), writing rows
(one transaction per group of requests, core/group.py), trimming and reading them."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from typing import Any, Iterator

from ipyy_mock.core.conformance import RULES, ConformanceWarning
from ipyy_mock.core.group import joined
from ipyy_mock.core.store import make_private, write_queue
from ipyy_mock.core.store.versions import refuse_newer, upgrade
from ipyy_mock.core.store.writes import connect, immediate
from ipyy_mock.journal.schema import COUNT_REQUEST, INSERT, JOURNAL_STEPS, SCHEMA, metric_row

log = logging.getLogger("ipyy_mock.journal")

KEEP = 10_000
TRIM_EVERY = 200
VACUUM_PAGES = 256  # free pages a trim gives back to the file system

JOURNAL_SUFFIX = ".journal.sqlite"


def file_bytes(path: str) -> int:
    """The bytes of an SQLite file with its -wal (0 for an in-memory database)."""
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += os.stat(path + suffix).st_size
        except OSError:
            pass
    return total


def journal_path(db_path: str) -> str:
    """The journal's own SQLite file for the mock database ``db_path`` (``:memory:`` stays in memory)."""
    return db_path if db_path == ":memory:" or db_path.startswith("file:") else db_path + JOURNAL_SUFFIX


def prepare(path: str) -> None:
    """Open the journal once before the workers start (the server's master): a file SQLite cannot read is moved
    aside (``<file>.damaged-<time>``) and a new journal is started, rather than every worker failing to boot."""
    try:
        store = JournalStore(path)
        store.make_incremental()
        store.close()
    except sqlite3.OperationalError:
        raise  # locked, read-only, no such directory: not damage, say so
    except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
        if path == ":memory:":
            raise
        aside = f"{path}.damaged-{int(time.time())}"
        log.warning("the request journal %s is damaged (%s): moved to %s, starting a new one", path, exc, aside)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.replace(path + suffix, aside + suffix)
        JournalStore(path).close()


class JournalStore:
    """The journal table on its own per-thread connections (``synchronous=OFF``).

    ``path`` is the journal's file (``journal_path(db)`` next to the mock's database).
    """

    def __init__(self, path: str, keep: int = KEEP, trim_every: int = TRIM_EVERY) -> None:
        self.path = path
        self.keep = keep
        self.trim_every = max(1, trim_every)
        self._local = threading.local()
        self._lock = threading.Lock()
        # writers queue here (threads on a lock, processes on an flock), not in SQLite's sleeping busy handler
        self._write_lock = write_queue(path)
        make_private(path)  # 0600: it holds every text sent (OTP codes); SQLite's -wal/-shm follow its mode
        self._inserts = 0
        refuse_newer(self.db, path, "request journal", JOURNAL_STEPS)  # before anything touches a newer file
        self.db.executescript(SCHEMA)
        with self._transaction() as db:
            upgrade(db, path, "request journal", JOURNAL_STEPS)
        self.trim()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on this thread's connection, queued on the write lock (threads and processes)
        rather than in SQLite's busy handler; rolled back when anything in it raises."""
        with immediate(self.db, self._write_lock) as db:
            yield db

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # diagnostics: no fsync, not even at checkpoints; a checkpoint truncates the WAL back to 16 MiB
            conn = self._local.conn = connect(self.path, synchronous="OFF", wait=10.0, wal_limit=16 * 1024 * 1024)
        return conn

    def insert(self, row: tuple) -> None:
        """One row; from a request under the server's edge, written with the others of its loop turn (before its
        reply leaves, still)."""
        group = joined(self)
        if group is not None:  # a request's row under the edge: written with the others of its loop turn
            group.add_row(row)
            return
        self.insert_many([row])

    def insert_many(self, rows: list[tuple]) -> None:
        """Rows in one transaction; every ``trim_every`` rows, the old ones go."""
        with self._transaction() as db:  # the rows and their request metrics in one transaction
            db.executemany(INSERT, rows)
            db.executemany(COUNT_REQUEST, [metric_row(row) for row in rows])
        with self._lock:
            before = self._inserts
            self._inserts += len(rows)
            due = self._inserts // self.trim_every != before // self.trim_every
        if due:
            self.trim()

    def trim(self, before: float | None = None) -> int:
        """Keep the newest ``keep`` rows (and none from before ``before``, wall time, when given), then give
        some free pages back to the file system (an incremental journal file: see ``make_incremental``)."""
        db = self.db
        with self._write_lock:
            removed = db.execute(
                "DELETE FROM journal WHERE id <= (SELECT MAX(id) FROM journal) - ?", (self.keep,)
            ).rowcount
            if before is not None:
                removed += db.execute(
                    "DELETE FROM journal WHERE id IN (SELECT id FROM journal WHERE time < ? ORDER BY id LIMIT 1000)",
                    (before,),
                ).rowcount
            db.execute(f"PRAGMA incremental_vacuum({VACUUM_PAGES})").fetchall()
        return removed

    def make_incremental(self) -> bool:
        """A journal file made without ``auto_vacuum=INCREMENTAL`` gets it (one VACUUM, at `serve` start)."""
        if int(self.db.execute("PRAGMA auto_vacuum").fetchone()[0]) == 2:
            return False
        with self._write_lock:
            self.db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self.db.execute("VACUUM")
        return True

    def clear(self) -> int:
        db = self.db
        with self._write_lock:
            return db.execute("DELETE FROM journal").rowcount

    def entries(
        self,
        limit: int = 100,
        surface: str | None = None,
        account: str | None = None,
        path: str | None = None,
        since: int | None = None,
        method: str | None = None,
        status: int | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first; path matches case-insensitively (``*`` is a wildcard)."""
        where: list[str] = []
        args: list[str | int] = []
        if surface:
            where.append("surface = ?")
            args.append(surface)
        if account:
            where.append("account = ?")
            args.append(account)
        if path:
            if "*" in path:
                where.append("lower(path) GLOB ?")
                args.append(path.lower())
            else:
                where.append("lower(path) = ?")
                args.append(path.lower())
        if since is not None:
            where.append("id > ?")
            args.append(since)
        if method:
            where.append("method = ?")
            args.append(method.upper())
        if status is not None:
            where.append("status = ?")
            args.append(status)
        sql = "SELECT * FROM journal"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        out = []
        for r in self.db.execute(sql, (*args, limit)):
            entry = {k: r[k] for k in r.keys()}
            entry["warnings"] = [
                ConformanceWarning(w["code"], w["detail"]).to_json()
                for w in json.loads(entry["warnings"] or "[]")
                if w.get("code") in RULES
            ]
            out.append(entry)
        return out

    def request_metrics(self) -> list[sqlite3.Row]:
        """Every (surface, status, result, latency bucket) counted: GET /_mock/metrics."""
        return self.db.execute("SELECT * FROM request_metrics ORDER BY surface, status, result, le").fetchall()

    def size(self) -> tuple[int, int]:
        """(rows, bytes of the file and its WAL) of the journal."""
        rows = int(self.db.execute("SELECT COUNT(*) FROM journal").fetchone()[0])
        return rows, file_bytes(self.path)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
