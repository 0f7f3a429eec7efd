"""Connections and write transactions: the writers' queue of a database file, and ``BEGIN IMMEDIATE``.

Why a module of its own: every write of every process goes through here, and the queue (a thread lock,
then an ``flock`` of ``<db>-writelock``) is what keeps writers from sleeping in SQLite's busy handler long
after the lock is free (see ``Store``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from ipyy_mock.core.group import joined
from ipyy_mock.core.store.files import LOCK_SUFFIX, PRIVATE_MODE, is_new_file

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: processes queue in SQLite's busy handler only
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    pass


WRITE_WAIT = 30.0  # seconds a writer waits for this process's write lock (as busy_timeout) before "database is locked"
#: PRAGMA synchronous of every connection opened from now on in this process: NORMAL (survives kill -9) or
#: FULL (also survives a power loss; ``serve --fsync``). See the module docstring.
SYNCHRONOUS = "NORMAL"
WAL_LIMIT = 64 * 1024 * 1024  # bytes a WAL file is truncated to after a checkpoint (a burst must not stay on disk)


def write_queue(path: str) -> "_WriteQueue":
    """The writers' queue of the SQLite file ``path`` in this process (a context manager; see Store)."""
    return _WriteQueue.of(path)


class _WriteQueue:
    """Where the writers of one database wait, one per database file and process (see Store).

    Held by the Stores (and journals) of that file; when the last one is gone, so is the queue and its file
    descriptor (a test session opens many databases in one process).
    """

    _all: "weakref.WeakValueDictionary[tuple[int, str], _WriteQueue]" = weakref.WeakValueDictionary()
    _all_lock = threading.Lock()

    def __init__(self, path: str) -> None:
        self.pid = os.getpid()
        self.path = path
        self.lock = threading.RLock()
        self.depth = 0  # nested write() in one thread: the flock is taken once (and BEGIN fails, as it always did)
        self.fd: int | None = None  # opened at the first write (the database's directory exists by then)
        self._opened = fcntl is None or path == ":memory:"

    def __del__(self) -> None:
        if self.fd is not None and self.pid == os.getpid():
            try:
                os.close(self.fd)
            except OSError:
                pass

    def _lock_fd(self) -> int | None:
        if not self._opened:
            try:
                self.fd = os.open(self.path + LOCK_SUFFIX, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_MODE)
            except OSError:  # a read-only directory: SQLite's own lock still serializes the writers
                self.fd = None
            self._opened = True
        return self.fd

    @classmethod
    def of(cls, path: str) -> "_WriteQueue":
        key = (os.getpid(), path if path == ":memory:" else os.path.realpath(path))
        with cls._all_lock:
            queue = cls._all.get(key)
            if queue is None:
                for stale in [k for k in cls._all if k[0] != key[0]]:  # forked: the parent's queues are not ours
                    del cls._all[stale]
                queue = cls._all[key] = cls(key[1])
            return queue

    def __enter__(self) -> None:
        if not self.lock.acquire(timeout=WRITE_WAIT):
            raise sqlite3.OperationalError(
                f"database is locked (another thread of this process held the write lock for {WRITE_WAIT:g} s)"
            )
        self.depth += 1
        if self.depth == 1 and self._lock_fd() is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX)  # blocks without the GIL; the kernel wakes us at LOCK_UN
            except BaseException:
                self.depth -= 1
                self.lock.release()
                raise

    def __exit__(self, *exc: Any) -> None:
        self.depth -= 1
        try:
            if self.depth == 0 and self.fd is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.lock.release()


def connect(
    path: str, *, synchronous: str, wait: float, wal_limit: int, foreign_keys: bool = False
) -> sqlite3.Connection:
    """A connection to one of the mock's files as every writer opens it: autocommit (transactions are explicit,
    ``immediate``), rows by name, WAL, incremental auto-vacuum on a new file, a busy wait of ``wait`` seconds and
    the WAL truncated to ``wal_limit`` bytes after a checkpoint. The database and the journal differ only in the
    arguments (the journal: ``synchronous=OFF``, diagnostics need no fsync)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=wait, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    if is_new_file(path):  # before WAL, and only on a new file (an existing one: make_incremental)
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
    if foreign_keys:
        conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA journal_size_limit={wal_limit}")  # a checkpoint shrinks the WAL back to this
    return conn


@contextmanager
def immediate(db: sqlite3.Connection, queue: Any) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE`` transaction on ``db``, queued on ``queue`` (the file's writers' queue, threads and
    processes) rather than in SQLite's busy handler; rolled back when anything in it raises, and when the COMMIT
    itself fails (it may leave the transaction open, never for the next writer)."""
    with queue:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        try:
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


def reader(path: str) -> sqlite3.Connection:
    """A read-only connection that never writes, never waits long, and runs no migration: for a reader on the
    server edge's event loop (admin/events.py), where a wait for the write lock would stop the whole worker."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=100")
    return conn


def set_fsync(fsync: bool) -> None:
    """``synchronous=FULL`` (an fsync per commit) for the connections this process opens from now on, else NORMAL."""
    global SYNCHRONOUS
    SYNCHRONOUS = "FULL" if fsync else "NORMAL"


class Connections:
    """One connection per thread, and the write transaction every change runs in."""

    path: str
    _local: threading.local
    _queue: _WriteQueue

    # -- connections and transactions ------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = connect(
                self.path, synchronous=SYNCHRONOUS, wait=WRITE_WAIT, wal_limit=WAL_LIMIT, foreign_keys=True
            )
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken up front, so no upgrade deadlock."""
        db = self.db
        if self._queue.pid != os.getpid():  # a Store carried over a fork: the child's own queue
            self._queue = _WriteQueue.of(self.path)
        group = joined(self)
        if group is not None:  # a request's write under the edge: one transaction per loop turn
            with group.turn(db):
                yield db
            return
        with immediate(db, self._queue):
            yield db

    def close(self) -> None:
        """Close this thread's connection (the writers' queue file stays open for the other threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
