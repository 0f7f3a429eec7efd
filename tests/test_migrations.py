"""Versioned migrations (core/store/versions.py): a file records in ``PRAGMA user_version`` how many steps it
has had; opening runs only the steps above it; a file from a newer ipyy-mock is refused in one line."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest

from ipyy_mock import journal
from ipyy_mock.core.store import STEPS, NewerDatabase, Store
from ipyy_mock.core.store.versions import upgrade, version_of
from ipyy_mock.testing.process import free_port
from support.mockproc import console_script

MOCK = console_script("ipyy-mock")


def user_version(path) -> int:
    with sqlite3.connect(path) as conn:
        return version_of(conn)


def columns(path, table: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def test_a_new_database_and_journal_have_every_step(tmp_path):
    db = tmp_path / "mock.db"
    Store(db).close()
    assert user_version(db) == len(STEPS) > 0
    path = journal.journal_path(str(db))
    journal.JournalStore(path).close()
    assert user_version(path) == len(journal.JOURNAL_STEPS) > 0


def old_file(db) -> None:
    """A database as a release before versions left it: user_version 0, a column and its trigger not there."""
    store = Store(db)
    store.insert_account(_account())
    store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER accounts_update_generation")
        conn.execute("ALTER TABLE accounts DROP COLUMN daily_limit")
        conn.execute("DROP INDEX reports_batch")
        conn.execute("DROP INDEX reports_unbatched")
        conn.execute("ALTER TABLE reports DROP COLUMN batch_id")
        conn.execute("PRAGMA user_version = 0")


def _account():
    from ipyy_mock.core.store import Account

    return Account(name="old1", password="secret1")


def test_an_old_file_is_brought_up_to_date_and_keeps_its_rows(tmp_path):
    db = tmp_path / "mock.db"
    old_file(db)
    assert "daily_limit" not in columns(db, "accounts") and user_version(db) == 0
    store = Store(db)
    assert store.get_account("old1") is not None  # the rows are kept
    store.close()
    assert "daily_limit" in columns(db, "accounts") and "batch_id" in columns(db, "reports")
    assert user_version(db) == len(STEPS)
    with sqlite3.connect(db) as conn:  # the trigger is made again, naming the new column
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name='accounts_update_generation'").fetchone()[0]
    assert "daily_limit" in sql


def test_sending_limit_times_kept_as_text_become_rows_and_a_count(tmp_path):
    """Before ``code_sends`` a counter row held the window's times as text: they become one row each, counted."""
    db = tmp_path / "mock.db"
    Store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE code_sends")
        conn.execute("ALTER TABLE send_counters DROP COLUMN code_count")
        conn.execute("ALTER TABLE send_counters ADD COLUMN code_times TEXT NOT NULL DEFAULT ''")
        conn.execute(
            "INSERT INTO send_counters (account, mobile, day, sent, code_times) "
            "VALUES ('old1', '8613800138000', '2026-12-07', 3, '100.5 101.25 102.0')"
        )
        conn.execute(f"PRAGMA user_version = {len(STEPS) - 2}")
    store = Store(db)
    try:
        [row] = store.db.execute("SELECT code_count, code_times FROM send_counters").fetchall()
        assert tuple(row) == (3, "")
        assert store.code_sends_since("old1", "8613800138000", 101.0) == 2
    finally:
        store.close()
    assert user_version(db) == len(STEPS)


def test_only_the_steps_above_the_version_run_and_a_second_run_does_nothing():
    ran: list[int] = []
    steps = tuple((lambda db, n=n: ran.append(n)) for n in range(3))
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA user_version = 1")
    assert upgrade(conn, ":memory:", "database", steps) == 2 and ran == [1, 2]
    assert version_of(conn) == 3
    assert upgrade(conn, ":memory:", "database", steps) == 0 and ran == [1, 2]


def newer(path, steps: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {steps + 1}")


def test_a_newer_database_is_refused_in_one_line_and_left_as_it_is(tmp_path):
    db = tmp_path / "mock.db"
    Store(db).close()
    newer(db, len(STEPS))
    for args in (("serve", "--port", str(free_port())), ("account", "list")):
        proc = subprocess.run([MOCK, *args, "--db", str(db)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, (proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "newer ipyy-mock" in proc.stderr and f"schema version {len(STEPS) + 1}" in proc.stderr
        assert "upgrade ipyy-mock" in proc.stderr and "--db" in proc.stderr
    assert user_version(db) == len(STEPS) + 1  # nothing was changed in it


def test_a_newer_journal_is_refused_not_set_aside_as_damaged(tmp_path):
    path = str(tmp_path / "mock.db.journal.sqlite")
    journal.JournalStore(path).close()
    newer(path, len(journal.JOURNAL_STEPS))
    with pytest.raises(NewerDatabase, match="request journal .* newer ipyy-mock"):
        journal.prepare(path)
    assert not list(tmp_path.glob("*.damaged-*"))
