"""The per-worker caches of what a request reads (account, settings, faults) never serve a stale answer.

Each worker process keeps the account, the parsed settings and the active faults
and checks one generation counter per lookup; SQLite triggers bump it on every
change to those tables (but a balance), whoever makes the change: another
worker, the ``ipyy-mock`` CLI, the admin API, the sqlite3 shell. These tests
change things in one process and ask the server's two workers right after:
every answer must already be the new one.
"""

from __future__ import annotations

import sqlite3
import subprocess
from decimal import Decimal

import pytest
import requests

from ipyy_client import HttpClient, SoapClient
from ipyy_mock.core.store import ACCOUNT_COLUMNS, CACHED_ACCOUNT_COLUMNS, Store
from support.mockproc import MockProcess, console_script

TEXT = "缓存【华信】"
TRIES = 12  # sends after a change: with 2 workers, both are asked (each has warmed its cache first)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = MockProcess(tmp_path_factory.mktemp("cache") / "mock.db", workers=2).start()
    yield proc
    proc.stop()


def warm(client: SoapClient) -> None:
    for _ in range(TRIES):
        client.send_i18n_sms("8613800138000", TEXT).raise_for_status()


def test_every_cached_account_column_is_every_column_but_the_balance():
    assert set(CACHED_ACCOUNT_COLUMNS) == set(ACCOUNT_COLUMNS) - {"balance"}


def test_the_generation_moves_on_every_change_but_a_debit(tmp_path):
    store = Store(tmp_path / "gen.db")
    conn = sqlite3.connect(tmp_path / "gen.db", isolation_level=None)  # as any other tool would
    steps = [
        ("INSERT INTO accounts (name, password, created_at) VALUES ('a', 'p', 0)", True),
        ("UPDATE accounts SET balance='5' WHERE name='a'", False),
        ("UPDATE accounts SET password='q' WHERE name='a'", True),
        ("UPDATE accounts SET stopped=1, balance='4' WHERE name='a'", True),
        ("INSERT INTO settings (key, value) VALUES ('rules', '[]')", True),
        ("UPDATE settings SET value='[ ]' WHERE key='rules'", True),
        ("DELETE FROM settings", True),
        ("INSERT INTO faults (endpoint, kind, created) VALUES ('*', 'empty', 0)", True),
        ("UPDATE faults SET hits=1", True),
        ("DELETE FROM faults", True),
        (
            "INSERT INTO tasks (account, via, content, created_at, send_at, recipients, billing_count, billing_amount)"
            " VALUES ('a', 'soap', 'x', 0, 0, 1, 1, '0.05')",
            False,
        ),
        ("DELETE FROM accounts", True),
    ]
    for sql, moves in steps:
        before = store.generation()
        conn.execute(sql)
        assert (store.generation() != before) == moves, sql


def test_a_cached_value_is_loaded_again_after_a_change_from_another_connection(tmp_path):
    store = Store(tmp_path / "c.db")
    loads = []
    assert store.cached("k", lambda: loads.append(1) or len(loads)) == 1
    assert store.cached("k", lambda: loads.append(1) or len(loads)) == 1  # no change: not loaded again
    sqlite3.connect(tmp_path / "c.db", isolation_level=None).execute("INSERT INTO settings VALUES ('x', '1')")
    assert store.cached("k", lambda: loads.append(1) or len(loads)) == 2


def test_a_password_changed_through_one_worker_is_refused_by_both_at_once(server):
    account = server.new_account(password="old-pass1")
    old = SoapClient(account.name, "old-pass1", base_url=server.base_url)
    warm(old)
    HttpClient(account.name, "old-pass1", base_url=server.base_url).change_password("new-pass2")
    codes = {old.send_i18n_sms("8613800138000", TEXT).status.name for _ in range(TRIES)}
    assert codes == {"PasswordError"}
    new = SoapClient(account.name, "new-pass2", base_url=server.base_url)
    assert {new.send_i18n_sms("8613800138000", TEXT).status.name for _ in range(TRIES)} == {"OK"}


def test_an_account_stopped_by_the_cli_is_refused_by_both_workers_at_once(server):
    account = server.new_account()
    client = SoapClient(account.name, account.password, base_url=server.base_url)
    warm(client)
    cli = [console_script("ipyy-mock"), "account", "set", account.name, "--db", str(server.db_path)]
    subprocess.run([*cli, "--stopped"], check=True, capture_output=True, timeout=60)
    assert {client.send_i18n_sms("8613800138000", TEXT).status.name for _ in range(TRIES)} == {"UserStop"}
    subprocess.run([*cli, "--no-stopped"], check=True, capture_output=True, timeout=60)
    assert {client.send_i18n_sms("8613800138000", TEXT).status.name for _ in range(TRIES)} == {"OK"}


def test_a_price_changed_by_another_tool_is_charged_by_both_workers_at_once(server):
    account = server.new_account()
    client = SoapClient(account.name, account.password, base_url=server.base_url)
    warm(client)
    with sqlite3.connect(server.db_path, isolation_level=None) as conn:  # the sqlite3 shell, say
        conn.execute("UPDATE accounts SET prices=? WHERE name=?", ('{"86": "0.07", "*": "0.30"}', account.name))
    charged = {client.send_i18n_sms("8613800138000", TEXT).billing_amount for _ in range(TRIES)}
    assert charged == {Decimal("0.07")}


def test_refusals_and_sends_report_the_balance_as_it_is_whichever_worker_debited_last(server):
    """The cached account's balance is never reported: after each debit (by either worker) a refusal and the
    next send both tell the exact balance."""
    account = server.new_account(balance=Decimal("10.00"))
    client = SoapClient(account.name, account.password, base_url=server.base_url)
    expected = Decimal("10.00")
    for _ in range(TRIES):
        sent = client.send_i18n_sms("8613800138000", TEXT)
        expected -= Decimal("0.05")
        assert sent.status.name == "OK" and sent.balance == expected
        refused = client.send_i18n_sms("8613800138000", "no signature")
        assert refused.status.name == "RequiredSuffix" and refused.balance == expected
    assert server.balance(account.name) == expected


def test_a_fault_added_after_the_workers_cached_none_fires_on_the_next_request(server):
    account = server.new_account()
    client = SoapClient(account.name, account.password, base_url=server.base_url)
    warm(client)
    api = server.base_url + "/_mock/api/faults"
    fault = {"endpoint": "soap", "kind": "code", "value": "InternalError", "count": 1}
    try:
        for _ in range(3):
            assert requests.post(api, json=fault, timeout=10).status_code == 201
            assert client.send_i18n_sms("8613800138000", TEXT).status.name == "InternalError"
            assert client.send_i18n_sms("8613800138000", TEXT).status.name == "OK"  # spent: the next one goes through
    finally:
        requests.delete(api, timeout=10)


def test_one_generation_is_one_reading_for_a_request_and_the_next_request_reads_again(tmp_path):
    store = Store(tmp_path / "one.db")
    other = sqlite3.connect(tmp_path / "one.db", isolation_level=None)
    loads = []
    with store.one_generation() as generation:
        assert store.cached("k", lambda: loads.append(1) or len(loads)) == 1
        other.execute("INSERT INTO settings VALUES ('x', '1')")  # committed while the request runs
        assert store.generation() == generation  # the request's own reading
        assert store.cached("k", lambda: loads.append(1) or len(loads)) == 1
    assert store.generation() == generation + 1  # the next request sees the change
    assert store.cached("k", lambda: loads.append(1) or len(loads)) == 2
