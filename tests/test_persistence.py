"""State lives in the SQLite file: it survives a restart and task ids keep increasing."""

from __future__ import annotations

import os
import sqlite3
from decimal import Decimal

import requests

from ipyy_mock import journal
from support import soapraw
from support.mockproc import MockProcess


def test_state_survives_restart(tmp_path):
    server = MockProcess(tmp_path / "restart.db", workers=1).start()
    try:
        assert "demo / demo123" in server.banner or "demo" in server.banner
        first = soapraw.send(server.base_url, "demo", "demo123", "8613800138000", "hi【华信】")
        assert first.status == "OK" and first.balance == Decimal("99.95")
        server.restart()
        assert "kept" in server.banner
        second = soapraw.send(server.base_url, "demo", "demo123", "8613800138000", "hi【华信】")
        assert second.balance == Decimal("99.90")
        assert second.msg_id > first.msg_id
        store = server.platform().store
        assert store.get_task(first.msg_id)["billing_amount"] == "0.05"
        assert {m["task_id"] for m in store.messages(account="demo")} == {first.msg_id, second.msg_id}
    finally:
        server.stop()


def test_database_is_in_wal_mode(mock_server):
    db = mock_server.platform().store.db
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _count(path, sql: str) -> int:
    """A reader in this process that opens, reads and closes: the last one to close checkpoints the file."""
    db = sqlite3.connect(path)
    try:
        return int(db.execute(sql).fetchone()[0])
    finally:
        db.close()


def test_a_second_store_in_a_worker_keeps_its_locks(tmp_path):
    """A worker opens its files more than once (the push runner's store, the admin API's journal). Closing any
    descriptor of a file drops every POSIX lock the process holds on it, so a store that opened the file to
    set its mode took the worker's shared lock away: the next outside reader to close believed it was the last,
    deleted the ``-wal`` the worker still wrote to, and later commits were invisible to other processes (the
    journal read empty, once "malformed") and lost at restart."""
    server = MockProcess(tmp_path / "locks.db", workers=1).start()
    try:
        db_path = str(server.db_path)
        journal_file = journal.journal_path(db_path)
        first = soapraw.send(server.base_url, "demo", "demo123", "8613800138000", "one【华信】")
        assert first.status == "OK"
        # the admin API's journal store opens in the worker now, beside the request journal's connection
        requests.get(server.base_url + "/_mock/api/journal", timeout=10).raise_for_status()
        for _ in range(3):  # outside readers come and go
            _count(db_path, "SELECT COUNT(*) FROM tasks")
            _count(journal_file, "SELECT COUNT(*) FROM journal")
        second = soapraw.send(server.base_url, "demo", "demo123", "8613800138000", "two【华信】")
        assert second.status == "OK"
        assert os.path.exists(db_path + "-wal") and os.path.exists(journal_file + "-wal")
        served = requests.get(server.base_url + "/_mock/api/journal?surface=soap11", timeout=10).json()["entries"]
        assert len(served) == 2
        assert _count(journal_file, "SELECT COUNT(*) FROM journal WHERE surface='soap11'") == 2
        assert _count(db_path, f"SELECT COUNT(*) FROM tasks WHERE id IN ({first.msg_id}, {second.msg_id})") == 2
        server.restart()  # and what was committed is still there
        assert _count(db_path, f"SELECT COUNT(*) FROM tasks WHERE id IN ({first.msg_id}, {second.msg_id})") == 2
    finally:
        server.stop()
