"""Retention (core/retention.py): a long-running mock keeps the newest messages and days, and its books stay exact.

The server is started the way users start it (``ipyy-mock serve --keep-messages``
and ``$IPYY_MOCK_KEEP_DAYS``); sends go over the wire while the push runner's
lease holder prunes. The checks wait for the pruning (it runs every 2 s), they
never time it: what they check is what is left, that nothing points at a
removed row, and that balances and the metrics' totals did not move.
"""

from __future__ import annotations

import os
import sqlite3
import time
from decimal import Decimal

import requests
from prometheus_client.parser import text_string_to_metric_families

from ipyy_mock.core import retention
from ipyy_mock.core.platform import Platform
from ipyy_mock.core.store import Store
from ipyy_mock.testing.plugin import IpyyMock
from support import soapraw
from support.mockproc import MockProcess


def counts(db_path) -> dict[str, int]:
    db = sqlite3.connect(db_path)
    try:
        out = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("tasks", "messages", "reports")}
        out["dangling"] = sum(
            db.execute(sql).fetchone()[0]
            for sql in (
                "SELECT COUNT(*) FROM messages WHERE task_id NOT IN (SELECT id FROM tasks)",
                "SELECT COUNT(*) FROM reports WHERE task_id NOT IN (SELECT id FROM tasks)",
                "SELECT COUNT(*) FROM uplinks WHERE task_id IS NOT NULL AND task_id NOT IN (SELECT id FROM tasks)",
                "SELECT COUNT(*) FROM warnings WHERE task_id IS NOT NULL AND task_id NOT IN (SELECT id FROM tasks)",
            )
        )
        out["free_pages"] = db.execute("PRAGMA freelist_count").fetchone()[0]
        return out
    finally:
        db.close()


def wait_for(condition, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(0.2)


def metric(base_url: str, name: str, **labels) -> float:
    text = requests.get(base_url + "/_mock/metrics", timeout=30).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def send(base_url: str, mock: IpyyMock, text: str = "你好【华信】") -> None:
    body = soapraw.envelope("SendI18NSms", mock.account, mock.password, "8613900139000,8613900139001", text)
    assert soapraw.parse_result(soapraw.post(base_url, body)).status == "OK"


def test_keep_messages_bounds_the_database_while_sends_go_on(tmp_path):
    proc = MockProcess(tmp_path / "mock.db", workers=2, args=("--keep-messages", "40", "--keep-days", "0")).start()
    try:
        assert "retention keeps the newest 40 messages" in proc.banner
        health = requests.get(proc.base_url + "/_mock/health", timeout=30).json()
        assert health["retention"] == {"keep_messages": 40, "keep_days": 0.0}
        mock = IpyyMock(proc.base_url)
        mock.update_account(limits="off", balance="1000.00")
        mock.inject_uplink("8613900139000", "TD")  # linked to no task yet: kept while tasks are younger
        for _ in range(150):  # 300 messages, one segment each at 0.05
            send(proc.base_url, mock)
        mock.api("GET", "messages", params={"limit": 1})  # any pull releases the due reports
        wait_for(lambda: counts(proc.db_path)["messages"] <= 40 + retention.BATCH_MESSAGES, "pruned to the limit")
        left = wait_for(lambda: (c := counts(proc.db_path))["messages"] <= 42 and c, "the newest 40 messages kept")
        assert left["messages"] >= 40 and left["dangling"] == 0
        assert mock.balance() == Decimal("1000.00") - 300 * Decimal("0.05")  # balances are never touched
        assert metric(proc.base_url, "ipyy_mock_sends_total", account="demo") == 150  # the books' totals hold
        assert metric(proc.base_url, "ipyy_mock_messages_total", account="demo") == 300
        assert metric(proc.base_url, "ipyy_mock_charged_total", account="demo") == 15.0
        wait_for(lambda: counts(proc.db_path)["free_pages"] < 256, "free pages given back")
        for _ in range(30):  # it goes on while sends continue
            send(proc.base_url, mock)
        mock.api("GET", "messages", params={"limit": 1})
        wait_for(lambda: counts(proc.db_path)["messages"] <= 42, "pruned again")
        assert metric(proc.base_url, "ipyy_mock_sends_total", account="demo") == 180
    finally:
        proc.stop()


def test_keep_days_prunes_by_platform_time_from_the_environment(tmp_path):
    env = {**os.environ, "IPYY_MOCK_KEEP_DAYS": "1", "IPYY_MOCK_KEEP_MESSAGES": "0"}
    proc = MockProcess(tmp_path / "mock.db", workers=1, env=env).start()
    try:
        assert "retention keeps 1 days" in proc.banner
        mock = IpyyMock(proc.base_url)
        for _ in range(5):
            send(proc.base_url, mock)
        mock.advance(2 * 86400)  # the virtual clock ages the data too
        send(proc.base_url, mock, "新的【华信】")
        wait_for(lambda: counts(proc.db_path)["tasks"] == 1, "the tasks older than a day pruned")
        [kept] = mock.api("GET", "tasks")["tasks"]
        assert kept["content"] == "新的【华信】" and counts(proc.db_path)["dangling"] == 0
        assert metric(proc.base_url, "ipyy_mock_sends_total", account="demo") == 6
    finally:
        proc.stop()


def test_a_database_without_incremental_vacuum_is_converted_at_start(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")  # made without auto_vacuum
    db.close()
    assert Store(path).auto_vacuum() == "none"
    proc = MockProcess(path, workers=1).start()
    try:
        assert Store(path).auto_vacuum() == "incremental"
    finally:
        proc.stop()


def test_a_task_waiting_for_its_report_is_never_pruned(tmp_path):
    platform = Platform(tmp_path / "mock.db")
    platform.seed_demo()
    store = platform.store
    with store.write() as db:
        store.set_setting("report_delay", "3600", db)
    from ipyy_mock.core.domain import SendRequest

    for _ in range(3):
        outcome = platform.send(SendRequest("demo", "demo123", "8613900139000", "你好【华信】"))
        assert outcome.ok
    done = retention.prune(store, retention.Retention(keep_messages=1), platform.now())
    assert done.batches == 0 and counts(str(store.path))["tasks"] == 3
    platform.advance(3601)
    done = retention.prune(store, retention.Retention(keep_messages=1), platform.now())
    assert done.removed["tasks"] == 2 and done.removed["reports"] == 2
    assert counts(str(store.path))["dangling"] == 0


def test_bad_retention_flags_are_one_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    for flag, value in (("--keep-messages", "-1"), ("--keep-days", "soon")):
        done = subprocess.run(
            [str(Path(sys.executable).parent / "ipyy-mock"), "serve", "--db", str(tmp_path / "x.db"), flag, value],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and flag in done.stderr
