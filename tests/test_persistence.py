"""State lives in the SQLite file: it survives a restart and task ids keep increasing."""

from __future__ import annotations

from decimal import Decimal

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
