"""The ``ipyy_mock`` fixture as a user meets it: installed with the package, in a pytest run of their own."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

FIRST_TEST = """
def test_welcome_sms(ipyy_mock):
    ipyy_mock.soap_client().send_i18n_sms("8613800138000", "欢迎【华信】").raise_for_status()
    [message] = ipyy_mock.messages(mobile="8613800138000")
    assert message["content"] == "欢迎【华信】" and message["status"] == "delivered"
"""

STATEFUL = """
from decimal import Decimal

def test_a_sends(ipyy_mock):
    assert ipyy_mock.http_client().send("8613800138000", "hi【华信】").ok

def test_b_sees(ipyy_mock):
    print("MESSAGES", len(ipyy_mock.messages()), "BALANCE", ipyy_mock.balance())
"""

STEERING = """
import pytest
from decimal import Decimal
from ipyy_client import errors
from ipyy_mock.testing.plugin import AdminError

def test_steer_everything(ipyy_mock):
    ipyy_mock.set_balance("0.01")
    assert ipyy_mock.http_client().send("8613800138000", "hi【华信】").message == "额度不足"
    ipyy_mock.set_balance(10)
    ipyy_mock.add_rule(r"86139\\d{8}", "failed", "REJECTD", delay=60)
    task = ipyy_mock.soap_client().send_i18n_sms("8613900139000", "x【y】").task_id
    assert ipyy_mock.reports() == []
    ipyy_mock.advance(61)
    [report] = ipyy_mock.reports()
    assert (report["task_id"], report["status"], report["errorcode"]) == (task, 20, "REJECTD")
    ipyy_mock.inject_uplink("8613900139000", "好的")
    [uplink] = ipyy_mock.http_client().uplinks()
    assert (uplink.content, uplink.task_id) == ("好的", task)
    assert ipyy_mock.balance() == Decimal("9.95")
    with pytest.raises(AdminError, match="unknown outcome"):
        ipyy_mock.add_rule("1", "exploded")
"""


ASYNC = """
from decimal import Decimal

import pytest
from ipyy_client import AsyncHttpClient, AsyncSoapClient


@pytest.mark.anyio
async def test_welcome_sms_from_an_event_loop(ipyy_mock):
    async with ipyy_mock.async_soap_client(soap_version=12) as sms:
        assert isinstance(sms, AsyncSoapClient)
        result = await sms.send_i18n_sms("8613800138000", "欢迎【华信】")
    result.raise_for_status()
    async with ipyy_mock.async_http_client(timeout=10) as sms:
        assert isinstance(sms, AsyncHttpClient)
        [report] = await sms.status_reports()
        assert (await sms.balance()).balance == Decimal("99.95")
    assert report.task_id == result.task_id and report.delivered
    async with ipyy_mock.async_domestic_client() as sms:
        assert (await sms.send("13800138000", "你好【华信】", fmt="json")).ok
    assert ipyy_mock.domestic_client().balance().points == 1998
    assert ipyy_mock.balance() == Decimal("99.90")
"""


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=source)
    return pytester.runpytest_subprocess("-q", "-s", "-p", "no:cacheprovider", *args, timeout=120)


def test_first_test_is_five_lines(pytester):
    result = run(pytester, FIRST_TEST)
    result.assert_outcomes(passed=1)


def test_each_test_starts_fresh(pytester):
    result = run(pytester, STATEFUL)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*MESSAGES 0 BALANCE 100.00*"])


def test_keep_state_and_db_options(pytester, tmp_path):
    db = tmp_path / "kept.db"
    pytester.makeini(f"[pytest]\nipyy_mock_db = {db}\n")
    result = run(pytester, STATEFUL, "--ipyy-mock-keep-state")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*MESSAGES 1 BALANCE 99.95*"])
    assert db.exists()


def test_handle_steers_balance_rules_clock_uplinks(pytester):
    run(pytester, STEERING).assert_outcomes(passed=1)


TOKENED = """
import requests

def test_fixture_sends_the_token(ipyy_mock):
    ipyy_mock.set_balance(5)
    assert ipyy_mock.balance() == 5
    url = ipyy_mock.base_url + "/_mock/api/clock"
    assert requests.get(url, timeout=10).status_code == 401  # the mock it started wants the token
    print("TOKEN", ipyy_mock.session.headers["X-Admin-Token"])
"""


def test_fixture_with_an_admin_token_option(pytester):
    result = run(pytester, TOKENED, "--ipyy-mock-admin-token", "fixture-tok-1")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*TOKEN fixture-tok-1*"])


def test_fixture_with_an_admin_token_in_the_environment(pytester, monkeypatch):
    monkeypatch.setenv("IPYY_MOCK_ADMIN_TOKEN", "fixture-tok-2")
    result = run(pytester, TOKENED)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*TOKEN fixture-tok-2*"])


def test_async_clients_from_the_fixture(pytester):
    """The handle gives the async twins too, and an anyio test of a user's runs them against the mock
    (once per event loop anyio finds: asyncio, and trio where it is installed)."""
    from anyio.pytest_plugin import get_available_backends

    run(pytester, ASYNC).assert_outcomes(passed=len(get_available_backends()))
