"""The writers' queue in front of SQLite's write lock (store.Store.write): threads on a lock, processes on an
flock of ``<db>-writelock``. It must never lose or double a write, never outlive a killed holder, and leave a
nested write failing as before."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import threading
import time

import pytest

from ipyy_mock.core.store import LOCK_SUFFIX, Store

CTX = multiprocessing.get_context("fork")


def _bump(path: str, threads: int, each: int, errors) -> None:
    store = Store(path)

    def work() -> None:
        try:
            for _ in range(each):
                with store.write() as db:
                    (value,) = db.execute("SELECT value FROM settings WHERE key='n'").fetchone()
                    db.execute("UPDATE settings SET value=? WHERE key='n'", (str(int(value) + 1),))
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            errors.put(repr(exc))
        finally:
            store.close()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def test_processes_and_threads_never_lose_a_write(tmp_path):
    path = str(tmp_path / "q.db")
    store = Store(path)
    store.set_setting("n", "0")
    errors = CTX.Queue()
    procs = [CTX.Process(target=_bump, args=(path, 4, 60, errors)) for _ in range(3)]
    for p in procs:
        p.start()
    _bump(path, 2, 60, errors)  # and this process too
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert errors.empty(), errors.get()
    assert store.get_setting("n") == str(3 * 4 * 60 + 2 * 60)
    assert os.path.exists(path + LOCK_SUFFIX)


def _hold(path: str, ready) -> None:
    store = Store(path)
    with store.write():
        ready.set()
        time.sleep(60)


def test_a_killed_holder_does_not_keep_the_queue(tmp_path):
    path = str(tmp_path / "k.db")
    store = Store(path)
    ready = CTX.Event()
    holder = CTX.Process(target=_hold, args=(path, ready))
    holder.start()
    assert ready.wait(30)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(10)
    t0 = time.monotonic()
    store.set_setting("after", "kill")  # an autocommit write, no queue: SQLite's lock is free again
    with store.write() as db:  # the queue: the kernel dropped the dead holder's flock
        db.execute("INSERT INTO settings(key, value) VALUES ('queued', 'yes')")
    assert time.monotonic() - t0 < 5
    assert store.get_setting("queued") == "yes"


def test_a_nested_write_fails_and_the_queue_stays_usable(tmp_path):
    store = Store(str(tmp_path / "n.db"))
    with pytest.raises(sqlite3.OperationalError):
        with store.write():
            with store.write():
                pass
    done = []

    def other() -> None:
        with store.write() as db:
            db.execute("INSERT INTO settings(key, value) VALUES ('other', 'thread')")
        done.append(True)
        store.close()

    t = threading.Thread(target=other)
    t.start()
    t.join(10)
    assert done == [True] and store.get_setting("other") == "thread"
