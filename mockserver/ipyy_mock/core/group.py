"""Group commit: the writes of the requests one worker serves together, in one SQLite transaction.

Why: a worker spent as much on the transaction around a send (BEGIN, COMMIT,
the write lock the two workers take turns on, SQLite's page cache emptied by
the other worker's commit) as on the send's own rows, and the journal's row
was a second transaction in a second file. Under load a worker has several
requests in hand at once (one event loop, many connections): their writes now
share one transaction of each file, and nothing else changes.

How (the server's edge, edge.py, with one Python thread per worker): each
request runs the synchronous WSGI app in a greenlet of its own. When the app
opens a write (``Store.write``), the greenlet hands control back to the event
loop, which goes on with the other requests in hand; one callback per loop
turn then takes the write lock, opens one ``BEGIN IMMEDIATE``, lets each
waiting request run its write block inside a ``SAVEPOINT`` of its own, and
COMMITs. A write block that raises is rolled back to its savepoint alone; the
others commit. Only then do the requests go on and build their replies, so a
reply is still never sent before its send is committed (``kill -9`` right
after a reply loses nothing). The journal's rows of the requests finished in
that turn are written the same way, one transaction for all, before their
replies leave.

What a request can tell: nothing but the timing. The write lock is held for
the write blocks only (never while a request parses, checks or renders), the
rules and the debit still run under it, in arrival order, and every lookup
outside a write block reads committed data. A COMMIT that fails (a full disk,
an I/O error) fails every send of that transaction, as it failed the one send
before; the per-process caches are dropped then, since a write block may have
filled them from what was rolled back.

Per-request state must be per greenlet, not per thread: ``contextvars``
(a greenlet has its own context), never ``threading.local``.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

import greenlet

if TYPE_CHECKING:
    import sqlite3

    from ipyy_mock.core.store import Store

log = logging.getLogger("ipyy_mock.group")

# What a request's greenlet hands back to the event loop when it stops before its end.
_WANTS_WRITE = "wants-write"
_WROTE = "wrote"
# What a request's greenlet carries (set and read only here): its group, and whether it journaled a row.
_GROUP = "ipyy_group"
_JOURNALED = "ipyy_journaled"


@dataclass
class GroupStats:
    """Counters of one worker's group commit, for tests and benchmarks."""

    transactions: int = 0  # COMMITs of grouped writes
    writes: int = 0  # write blocks in them
    journal_batches: int = 0
    journal_rows: int = 0


def joined(target: object) -> GroupCommit | None:
    """The one hook: the group that a write to ``target`` (a Store or the JournalStore) joins now, or None.

    A write joins when it comes from a request's greenlet (``serve``), outside a write block, and goes to the
    group's own store or journal; anything else (a thread, the push runner, a second store) writes alone. The
    group is found from the greenlet, so neither store holds a reference to it.
    """
    group = getattr(greenlet.getcurrent(), _GROUP, None)
    if group is None or group._in_block or (target is not group.store and target is not group.journal):
        return None
    return group


class GroupCommit:
    """One per worker process, made by the edge; the store and the journal find it through ``joined``."""

    def __init__(self, store: Store, journal: Any = None) -> None:
        """``journal``: the JournalStore whose rows are grouped too (None: the journal is off)."""
        self.store = store
        self.journal = journal
        self.stats = GroupStats()
        self._writers: list[tuple[greenlet.greenlet, asyncio.Future]] = []
        self._rows: list[tuple] = []
        self._row_waiters: list[asyncio.Future] = []
        self._in_block = False  # a write block runs now (inside flush)
        self._scheduled = False

    # -- inside a request's greenlet ----------------------------------------------------------

    @contextmanager
    def turn(self, db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """``Store.write`` of a request: wait for the group's transaction, run the block in a savepoint of it,
        and return only once it is committed (or raise what failed: the block's error, or the COMMIT's)."""
        me = greenlet.getcurrent()
        parent = me.parent
        assert parent is not None
        parent.switch(_WANTS_WRITE)  # back in flush(), inside BEGIN IMMEDIATE (or thrown the error of BEGIN)
        self._in_block = True
        error: BaseException | None = None
        db.execute("SAVEPOINT ipyy_write")
        try:
            yield db
        except BaseException as exc:
            db.execute("ROLLBACK TO ipyy_write")
            error = exc
        finally:
            db.execute("RELEASE ipyy_write")
            self._in_block = False
        failed = parent.switch(_WROTE)  # back here once the event loop resumes this request after COMMIT
        if error is not None:
            raise error
        if failed is not None:
            raise failed

    def add_row(self, row: tuple) -> None:
        """A journal row of a request's greenlet: written with the others in this loop turn's flush."""
        self._rows.append(row)
        setattr(greenlet.getcurrent(), _JOURNALED, True)  # serve() waits for it

    # -- the event loop side --------------------------------------------------------------------
    async def serve(self, fn: Callable[[Any], Any], arg: Any) -> Any:
        """``fn(arg)`` run in a greenlet of its own, its writes and journal row grouped; its result."""
        child = greenlet.greenlet(fn)
        setattr(child, _GROUP, self)
        result = child.switch(arg)
        loop = asyncio.get_running_loop()
        while result == _WANTS_WRITE and not child.dead:
            future = loop.create_future()
            self._writers.append((child, future))
            self._schedule(loop)
            how, value = await future
            result = child.throw(value) if how == "throw" else child.switch(value)
        if getattr(child, _JOURNALED, False):  # its row waits in self._rows (nothing flushed since)
            future = loop.create_future()
            self._row_waiters.append(future)
            self._schedule(loop)
            await future
        return result

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self.flush)  # after the callbacks ready now: the other requests in hand join

    def flush(self) -> None:
        """Commit what is waiting: the write blocks in one transaction, then the journal rows in one."""
        self._scheduled = False
        writers, self._writers = self._writers, []
        rows, self._rows = self._rows, []
        waiters, self._row_waiters = self._row_waiters, []
        if writers:
            self._commit(writers)
        if rows:
            try:
                self.journal.insert_many(rows)
                self.stats.journal_batches += 1
                self.stats.journal_rows += len(rows)
            except Exception:  # the journal must never break a reply
                log.warning("could not journal %d requests", len(rows), exc_info=True)
        for future in waiters:
            if not future.done():
                future.set_result(None)

    def _commit(self, writers: list[tuple[greenlet.greenlet, asyncio.Future]]) -> None:
        begun = False
        outcome: tuple[str, BaseException | None] = ("send", None)
        try:
            with self.store.write():  # not from a request's greenlet: a transaction of its own
                begun = True
                for child, _ in writers:
                    if not child.dead:
                        child.switch()  # runs the block, comes back at _WROTE
        except BaseException as exc:
            # BEGIN failed: the requests still wait for their turn, raise it there; COMMIT failed: after the block
            outcome = ("send", exc) if begun else ("throw", exc)
            if begun:
                self.store.forget_cached()
            if not isinstance(exc, Exception):
                raise
        else:
            self.stats.transactions += 1
            self.stats.writes += len(writers)
        for _, future in writers:
            if not future.done():  # a request cancelled while it waited: its write ran, its reply is not sent
                future.set_result(outcome)
