"""Every admin input has bounds (balance, prices, counts, ids): out of range is a 400 that names the bound.

Over the wire against the real mock. Why it matters: ``{"balance": "1e400000"}`` was stored, and the next
overage or send worked through 400,000 digits (seconds of CPU, the worker blocked for everyone); an id or a
count over 64 bits answered ``internal error: OverflowError``. The bounds live in core/billing.py (money) and
the admin API (ids, counts); the CLI and seed accounts use the same ones.
"""

from __future__ import annotations

import subprocess
from decimal import Decimal

import pytest
import requests

from ipyy_client import HttpClient
from ipyy_mock.core.billing import MAX_BALANCE, MAX_PLACES, MAX_PRICE
from ipyy_mock.core.validation import INT64_MAX
from ipyy_mock.faults import MAX_COUNT
from support.mockproc import console_script

OUT_OF_RANGE = ["1e400000", "-1e400000", "1e-400000", 10**30, -(10**30), 2**64, 1e308, "9" * 41, "1.00001", "NaN"]


def api(server, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{server.base_url}/_mock/api/{path}", timeout=30, **kwargs)


def assert_names_the_bound(reply: requests.Response, *words: str) -> None:
    assert reply.status_code == 400, (reply.status_code, reply.text)
    error = reply.json()["error"]
    assert "internal error" not in error, error
    for word in words:
        assert word in error, error


@pytest.mark.parametrize("value", OUT_OF_RANGE, ids=str)
def test_a_balance_out_of_range_is_400_and_the_account_keeps_working(mock_server, account, value):
    reply = api(mock_server, "PATCH", f"accounts/{account.name}", json={"balance": value})
    assert_names_the_bound(reply, "balance", str(MAX_BALANCE), f"{MAX_PLACES} decimal places")
    assert mock_server.balance(account.name) == Decimal("100.00")
    with HttpClient(account.name, account.password, base_url=mock_server.base_url) as client:
        assert client.balance().balance == Decimal("100.00")
        client.send(["8613800138000"], "仍然【华信】").raise_for_status()


@pytest.mark.parametrize("value", [*OUT_OF_RANGE, "-0.05"], ids=str)
def test_a_price_out_of_range_is_400(mock_server, account, value):
    reply = api(mock_server, "PATCH", f"accounts/{account.name}", json={"prices": {"86": value, "*": "0.30"}})
    assert_names_the_bound(reply, "prices[86]", f"from 0 to {MAX_PRICE}")
    assert mock_server.account(account.name).prices["86"] == Decimal("0.05")


def test_a_new_account_gets_the_same_bounds(mock_server):
    reply = api(mock_server, "POST", "accounts", json={"name": "huge", "password": "x", "balance": "1e400000"})
    assert_names_the_bound(reply, "balance", str(MAX_BALANCE))
    assert api(mock_server, "GET", "accounts/huge").status_code == 404


def test_the_bounds_themselves_are_taken_and_charged_exactly(mock_server, account):
    """The largest balance and price, the finest amount: stored as given, and a send charges them to the cent."""
    for balance in (str(MAX_BALANCE), str(-MAX_BALANCE), "0.0001", "12.3400"):
        reply = api(mock_server, "PATCH", f"accounts/{account.name}", json={"balance": balance})
        assert reply.status_code == 200 and Decimal(reply.json()["balance"]) == Decimal(balance), reply.text
    reply = api(
        mock_server,
        "PATCH",
        f"accounts/{account.name}",
        json={"balance": str(MAX_BALANCE), "prices": {"86": str(MAX_PRICE), "*": "0.0001"}},
    )
    assert reply.status_code == 200, reply.text
    with HttpClient(account.name, account.password, base_url=mock_server.base_url) as client:
        client.send(["8613800138000"], "上限【华信】").raise_for_status()
        assert client.balance().balance == MAX_BALANCE - MAX_PRICE


@pytest.mark.parametrize("count", [0, MAX_COUNT + 1, 2**64, 10**400])
def test_a_fault_count_out_of_range_is_400(mock_server, count):
    reply = api(mock_server, "POST", "faults", json={"endpoint": "*", "kind": "http_503", "count": count})
    assert_names_the_bound(reply, "count", f"from 1 to {MAX_COUNT}")
    assert api(mock_server, "GET", "faults").json()["faults"] == []
    ok = api(mock_server, "POST", "faults", json={"endpoint": "*", "kind": "http_503", "count": MAX_COUNT})
    assert ok.status_code == 201, ok.text
    api(mock_server, "DELETE", "faults")


@pytest.mark.parametrize(
    "method, path, name",
    [
        ("DELETE", "faults/{id}", "fault_id"),
        ("POST", "messages/{id}/outcome", "message_id"),
        ("DELETE", "rules/{id}", "index"),
    ],
)
def test_ids_over_64_bits_in_the_path_are_400(mock_server, method, path, name):
    for value in (INT64_MAX + 1, 10**30):
        reply = api(mock_server, method, path.format(id=value), json={"status": "failed"})
        assert_names_the_bound(reply, name, str(INT64_MAX))
    assert api(mock_server, method, path.format(id=INT64_MAX), json={"status": "failed"}).status_code == 404


def test_the_cli_and_seed_accounts_take_the_same_bounds(tmp_path):
    mock = console_script("ipyy-mock")
    db = str(tmp_path / "cli.db")
    subprocess.run([mock, "account", "add", "shop", "--password", "x", "--db", db], check=True, capture_output=True)
    done = subprocess.run(
        [mock, "account", "set", "shop", "--balance", "1e400000", "--db", db], capture_output=True, text=True
    )
    assert done.returncode == 2 and str(MAX_BALANCE) in done.stderr and "Traceback" not in done.stderr, done.stderr
    done = subprocess.run(
        [mock, "serve", "--db", db, "--seed-account", "big:pw:1e400000"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2 and str(MAX_BALANCE) in done.stderr and "Traceback" not in done.stderr, done.stderr
