"""The vendor's sending limits per number (core/sendlimits.py), over the wire, on the virtual clock.

3 messages with 验证码 to one number in 3 minutes, 10 messages a day: by default
the send goes through with a warning naming the code the vendor answers
(FrequentOperation); strict mode and ``limits: enforce`` refuse with it and
store and charge nothing; ``limits: off`` turns the limits off. The window and
the day move with the virtual clock (no sleeping).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from lxml import etree

from ipyy_client.encoding import encode_content, md5_password
from ipyy_mock.testing.plugin import AdminError, IpyyMock
from support import soapraw

NUMBER = "8613800138000"
CODE_TEXT = "您的验证码是 1234【华信】"


def soap_send(mock_server, account, content=CODE_TEXT, msisdns=NUMBER, version=11) -> soapraw.RawResult:
    body = soapraw.envelope("SendI18NSms", account.name, account.password, msisdns, content, version=version)
    reply = soapraw.post(mock_server.base_url, body, "SendI18NSms", version)
    assert reply.status_code == 200, reply.text
    return soapraw.parse_result(reply)


def http_send(mock_server, account, content="您好【华信】", mobile=NUMBER) -> dict[str, str]:
    form = dict(
        action="send",
        userid="",
        account=account.name,
        password=md5_password(account.password),
        mobile=mobile,
        code="8",
        content=encode_content(content),
        sendTime="",
        extno="",
    )
    reply = requests.post(mock_server.base_url + "/I18NSms.aspx", data=form, timeout=30)
    assert reply.status_code == 200, reply.text
    return {child.tag: child.text or "" for child in etree.fromstring(reply.content)}


def handle(mock_server, account) -> IpyyMock:
    return IpyyMock(mock_server.base_url, account=account.name, password=account.password)


def rows_of(mock_server, table: str, account) -> int:
    """How many rows of ``table`` the account has, read from the database the server writes."""
    store = mock_server.platform().store
    try:
        return store.db.execute(f"SELECT COUNT(*) FROM {table} WHERE account=?", (account.name,)).fetchone()[0]
    finally:
        store.close()


def tasks_of(mock_server, account) -> int:
    return rows_of(mock_server, "tasks", account)


def codes(mock, **filters) -> list[str]:
    return [w["code"] for w in mock.warnings(**filters)]


@pytest.mark.parametrize("version", [11, 12])
def test_a_fourth_code_in_three_minutes_goes_through_with_a_warning_by_default(mock_server, account, version):
    mock = handle(mock_server, account)
    for _ in range(3):
        assert soap_send(mock_server, account, version=version).status == "OK"
    assert codes(mock, account=account.name) == []
    fourth = soap_send(mock_server, account, version=version)
    assert fourth.status == "OK" and fourth.task_id > 0
    [warning] = mock.warnings(account=account.name)
    assert warning["code"] == "frequency-limit" and warning["task_id"] == fourth.task_id
    assert NUMBER in warning["detail"] and "FrequentOperation" in warning["detail"]
    assert tasks_of(mock_server, account) == 4
    # text without 验证码 is not counted by the 3-minute rule
    assert soap_send(mock_server, account, content="您好【华信】").status == "OK"
    assert codes(mock, account=account.name) == ["frequency-limit"]


def test_strict_mode_refuses_a_fourth_code_with_frequent_operation_until_the_window_passes(mock_server):
    account = mock_server.new_account(strict=True)
    mock = handle(mock_server, account)
    for _ in range(3):
        assert soap_send(mock_server, account).status == "OK"
    balance = mock_server.balance(account.name)
    refused = soap_send(mock_server, account)
    assert refused.status == "FrequentOperation" and refused.msg_id == 0
    assert any(e.startswith("strict:frequency-limit") for e in refused.errors)
    assert tasks_of(mock_server, account) == 3 and mock_server.balance(account.name) == balance
    assert codes(mock, account=account.name) == ["frequency-limit"]
    assert mock.limits(mobile=NUMBER)[0]["code_sends_in_window"] == 3  # the refused send is not counted
    mock.advance(181)  # the virtual clock: the 3 minutes pass without sleeping
    assert soap_send(mock_server, account).status == "OK"
    assert tasks_of(mock_server, account) == 4


def test_the_warning_names_the_exact_count_and_sends_that_left_the_window_are_forgotten(mock_server, account):
    """The window's count is kept, not recounted (a load test sends thousands of codes to one number): it must
    stay exact as sends come and go, and the sends out of the window must not pile up in the store."""
    mock = handle(mock_server, account)
    for _ in range(5):
        assert soap_send(mock_server, account).status == "OK"
    details = [w["detail"] for w in mock.warnings(account=account.name)]
    assert [d.split(" got ")[1].split(" ")[0] for d in details] == ["4", "3"]  # newest first
    mock.advance(100)
    assert soap_send(mock_server, account).status == "OK"  # 5 still in the window
    assert "got 5 messages" in mock.warnings(account=account.name)[0]["detail"]
    mock.advance(100)  # the first five are 200 s old, the sixth 100 s
    assert mock.limits(mobile=NUMBER)[0]["code_sends_in_window"] == 1
    assert soap_send(mock_server, account).status == "OK"
    assert len(mock.warnings(account=account.name)) == 3  # 1 in the window: no new warning
    assert rows_of(mock_server, "code_sends", account) == 2  # the five are gone from the store
    assert mock.limits(mobile=NUMBER)[0]["code_sends_in_window"] == 2
    assert soap_send(mock_server, account, content="您好【华信】").status == "OK"  # not counted, nothing stored
    assert rows_of(mock_server, "code_sends", account) == 2


def test_enforce_refuses_the_eleventh_message_of_the_day_over_http_until_the_next_day(mock_server):
    account = mock_server.new_account(limits="enforce")
    mock = handle(mock_server, account)
    for _ in range(10):
        assert http_send(mock_server, account)["returnstatus"] == "Success"
    [counter] = mock.limits()
    assert counter["mobile"] == NUMBER and counter["sent_today"] == 10
    refused = http_send(mock_server, account)
    assert refused["returnstatus"] == "Faild"
    assert refused["message"].startswith("操作过于频繁") and "daily-limit" in refused["message"]
    assert tasks_of(mock_server, account) == 10
    assert mock_server.balance(account.name) == Decimal("100.00") - 10 * Decimal("0.05")
    # another number has its own count
    assert http_send(mock_server, account, mobile="8613900139000")["returnstatus"] == "Success"
    mock.advance(86400)  # the next (Beijing) day
    assert http_send(mock_server, account)["returnstatus"] == "Success"


def test_the_daily_limit_warns_by_default_and_counts_domestic_and_international_forms_alike(mock_server, account):
    mock = handle(mock_server, account)
    for _ in range(5):
        assert http_send(mock_server, account)["returnstatus"] == "Success"
    for _ in range(5):  # the same number without its country code (SendHybridSms)
        body = soapraw.envelope("SendHybridSms", account.name, account.password, "13800138000", "您好【华信】")
        reply = soapraw.post(mock_server.base_url, body, "SendHybridSms")
        assert soapraw.parse_result(reply, "SendHybridSms").status == "OK"
    assert codes(mock, account=account.name) == []
    assert http_send(mock_server, account)["returnstatus"] == "Success"
    assert codes(mock, account=account.name) == ["daily-limit"]


def test_limits_off_turns_them_off_even_in_strict_mode(mock_server):
    account = mock_server.new_account(strict=True, limits="off")
    mock = handle(mock_server, account)
    for _ in range(12):
        assert soap_send(mock_server, account).status == "OK"
    assert codes(mock, account=account.name) == [] and mock.limits() == []


def test_account_settings_change_the_limits(mock_server, account):
    mock = handle(mock_server, account)
    changed = mock.update_account(limits="enforce", code_limit=1, code_window=60, daily_limit=2)
    assert (changed["limits"], changed["code_limit"], changed["code_window"], changed["daily_limit"]) == (
        "enforce",
        1,
        60,
        2,
    )
    assert soap_send(mock_server, account).status == "OK"
    assert soap_send(mock_server, account).status == "FrequentOperation"
    mock.advance(61)
    assert soap_send(mock_server, account).status == "OK"
    assert soap_send(mock_server, account, content="您好【华信】").status == "FrequentOperation"  # 2 a day


def test_admin_api_and_fixture_reset_the_counters(mock_server):
    account = mock_server.new_account(limits="enforce")
    mock = handle(mock_server, account)
    for _ in range(3):
        assert soap_send(mock_server, account).status == "OK"
        assert soap_send(mock_server, account, msisdns="8613900139000").status == "OK"
    assert soap_send(mock_server, account).status == "FrequentOperation"
    assert mock.reset_limits(mobile=NUMBER) == 1  # one number
    assert soap_send(mock_server, account).status == "OK"
    assert soap_send(mock_server, account, msisdns="8613900139000").status == "FrequentOperation"
    reply = requests.delete(mock_server.base_url + "/_mock/api/limits", params={"account": account.name}, timeout=30)
    assert reply.status_code == 200 and reply.json() == {"reset": 2}
    assert soap_send(mock_server, account, msisdns="8613900139000").status == "OK"


def test_a_send_to_several_numbers_is_refused_whole_when_one_is_over(mock_server):
    account = mock_server.new_account(limits="enforce", code_limit=1)
    assert soap_send(mock_server, account).status == "OK"
    refused = soap_send(mock_server, account, msisdns=f"8613900139000,{NUMBER}")
    assert refused.status == "FrequentOperation"
    assert tasks_of(mock_server, account) == 1
    assert handle(mock_server, account).limits(mobile="8613900139000") == []


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"limits": "sometimes"}, "limits must be one of warn, enforce, off"),
        ({"code_limit": 0}, "code_limit must be a whole number"),
        ({"daily_limit": True}, "daily_limit must be a whole number"),
        ({"code_window": 86401}, "code_window must be a whole number"),
    ],
)
def test_bad_limit_settings_are_refused_with_a_hint(mock_server, account, changes, fragment):
    with pytest.raises(AdminError, match=fragment):
        handle(mock_server, account).update_account(**changes)


def test_bad_number_to_reset_is_refused(mock_server):
    reply = requests.delete(mock_server.base_url + "/_mock/api/limits", params={"mobile": "12ab"}, timeout=30)
    assert reply.status_code == 400 and "mobile must be digits" in reply.json()["error"]


def test_the_reset_of_the_whole_mock_clears_the_counters(ipyy_mock):
    client = ipyy_mock.soap_client()
    for _ in range(3):
        client.send_i18n_sms(NUMBER, CODE_TEXT).raise_for_status()
    assert ipyy_mock.limits()[0]["code_sends_in_window"] == 3
    ipyy_mock.reset()
    assert ipyy_mock.limits() == []


def test_a_database_from_before_the_limits_gets_a_trigger_that_sees_them(tmp_path):
    """An older database's UPDATE trigger does not name the new columns: a change to them alone must still
    reach every worker's cached account."""
    from ipyy_mock.core.store import Account, Store

    path = tmp_path / "old.db"
    store = Store(path)
    store.insert_account(Account(name="a", password="p"))
    with store.write() as db:
        db.execute("DROP TRIGGER accounts_update_generation")
        db.execute(
            "CREATE TRIGGER accounts_update_generation AFTER UPDATE OF password ON accounts "
            "BEGIN UPDATE generation SET value = value + 1 WHERE id = 0; END"
        )
        db.execute("PRAGMA user_version = 0")  # as a release before versioned migrations left it
    store.close()
    reopened = Store(path)
    before = reopened.generation()
    with reopened.write() as db:
        db.execute("UPDATE accounts SET limits='enforce' WHERE name='a'")
    assert reopened.generation() == before + 1
