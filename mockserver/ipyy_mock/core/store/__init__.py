"""SQLite persistence (one package, one module per job): accounts, tasks, messages, reports, uplinks, settings, push batches, leases.

Why SQLite in WAL mode: several worker processes share one file and readers
never block the writer. Durability (docs/server.md): with the default
``synchronous=NORMAL`` a COMMIT has written the transaction to the WAL file
(the operating system's page cache) before it returns, so an acknowledged send
survives ``kill -9`` of the server; only an OS crash or power loss can lose the
last commits, because the WAL is fsynced at checkpoints, not at every commit.
``ipyy-mock serve --fsync`` (``set_fsync(True)``) selects ``synchronous=FULL``:
an fsync per commit, so a send is on the disk itself before its reply leaves.
Every write runs in one ``BEGIN IMMEDIATE`` transaction so a send is all there
or not at all; under the server's edge, the writes of the requests a worker has
in hand share one, each in a savepoint of its own (``core/group.py``).
Money is stored as decimal text and only ever handled as ``Decimal``.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Hashable

from ipyy_mock.core.store.accounts import ACCOUNT_COLUMNS, BALANCE, SET_BALANCE, Account, Accounts
from ipyy_mock.core.store.cache import CACHE_ENTRIES, GENERATION, Cache
from ipyy_mock.core.store.files import LOCK_SUFFIX, PRIVATE_MODE, is_new_file, make_private
from ipyy_mock.core.store.migrations import MIGRATIONS, STEPS, Migrations
from ipyy_mock.core.store.problems import Problems, quick_check
from ipyy_mock.core.store.pruning import Pruning
from ipyy_mock.core.store.queries import CONVERSATIONS, MESSAGE_VIEW, Queries, latest_ids, where
from ipyy_mock.core.store.records import (
    CONSUME_REPORTS,
    CONSUME_TASK_REPORTS,
    CONSUME_UPLINKS,
    INSERT_MESSAGE,
    INSERT_TASK,
    MESSAGE_COLUMNS,
    REFUSED,
    TAKE_REPORTS,
    TAKE_TASK_REPORTS,
    TAKE_UPLINKS,
    TASK_COLUMNS,
    Records,
)
from ipyy_mock.core.store.schema import (
    CACHED_ACCOUNT_COLUMNS,
    FIRST_TASK_ID,
    POST_MIGRATION,
    RESET_TABLES,
    SCHEMA,
)
from ipyy_mock.core.store.versions import NewerDatabase
from ipyy_mock.core.store.writes import WAL_LIMIT, WRITE_WAIT, Connections, reader, set_fsync, write_queue

__all__ = [
    "ACCOUNT_COLUMNS",
    "BALANCE",
    "CACHED_ACCOUNT_COLUMNS",
    "CACHE_ENTRIES",
    "CONSUME_REPORTS",
    "CONSUME_TASK_REPORTS",
    "CONSUME_UPLINKS",
    "CONVERSATIONS",
    "FIRST_TASK_ID",
    "GENERATION",
    "INSERT_MESSAGE",
    "INSERT_TASK",
    "LOCK_SUFFIX",
    "MESSAGE_COLUMNS",
    "MESSAGE_VIEW",
    "MIGRATIONS",
    "STEPS",
    "NewerDatabase",
    "POST_MIGRATION",
    "PRIVATE_MODE",
    "REFUSED",
    "RESET_TABLES",
    "SCHEMA",
    "SET_BALANCE",
    "TAKE_REPORTS",
    "TAKE_TASK_REPORTS",
    "TAKE_UPLINKS",
    "TASK_COLUMNS",
    "WAL_LIMIT",
    "WRITE_WAIT",
    "Account",
    "Store",
    "is_new_file",
    "latest_ids",
    "make_private",
    "quick_check",
    "reader",
    "set_fsync",
    "where",
    "write_queue",
]


class Store(Accounts, Records, Queries, Pruning, Problems, Migrations, Cache, Connections):
    """One SQLite file shared by every worker process; one connection per thread.

    Writers queue before ``BEGIN IMMEDIATE``: the threads of one process on a
    Python lock, the processes on an ``flock`` of ``<db>-writelock``. Both wake
    a waiter the moment the lock is free, while SQLite's own busy handler
    sleeps 1, 2, 5, 10 ... 100 ms between retries: under load a waiting writer
    often slept long after the lock was free (measured: request threads spent
    44-60% of their time in BEGIN IMMEDIATE, p99 above 600 ms; with the queue,
    +30-40% sends per second and p99 under 100 ms). SQLite's lock is still
    what guarantees correctness: a writer that does not take the queue (an
    older mock, the sqlite3 shell) is waited for by busy_timeout as before.
    The kernel drops an flock when its process dies, so a ``kill -9`` never
    leaves the queue locked; a process that is frozen (SIGSTOP, a debugger)
    while it writes holds up the other processes' writers until it goes on.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        # The generation a request pinned (Cache.one_generation). A context variable because the runtime forces
        # it: every layer of a request, down to Platform.send and the store's readers, asks the store, and a
        # request is a thread or, under the edge's group commit, a greenlet of one thread (threading.local
        # would mix the requests of one loop turn).
        self._pinned: ContextVar[int | None] = ContextVar("ipyy_generation", default=None)
        self._cache: dict[Hashable, tuple[int, Any]] = {}  # cached(): key -> (generation, value)
        self._queue = write_queue(self.path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            make_private(self.path)
        self.migrate()
