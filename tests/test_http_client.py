"""HttpClient over the wire against the real mock: send, balance, reports, uplinks, password, CLI.

Every client test runs twice, through ``HttpClient`` and through ``AsyncHttpClient`` (the ``flavour``
fixture, tests/flavours.py): the same calls, the same assertions.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ipyy_client import Balance, HttpClient, Report, ResultCode, SoapClient, Uplink, cli, errors
from ipyy_client.encoding import md5_password

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEXT = "测试【华信】"
MOBILE = "8613800138000"


@pytest.fixture
def client(mock_server, account, flavour):
    with flavour.http(account.name, account.password, base_url=mock_server.base_url, timeout=10) as c:
        yield c


@pytest.fixture
def other(mock_server, flavour):
    """``other(acct, **overrides)``: another client of the test's flavour."""

    def make(acct, **kwargs) -> HttpClient:
        values = dict(account=acct.name, password=acct.password, base_url=mock_server.base_url, timeout=10)
        values.update(kwargs)
        return flavour.http(**values)

    return make


# --- send ----------------------------------------------------------------------------


def test_send_ok(client, mock_server, account):
    result = client.send([MOBILE], TEXT)
    assert result.ok and result.status == "Success" and result.message == "操作成功"
    assert result.code is ResultCode.OK
    assert result.raise_for_status() is result
    assert isinstance(result.task_id, int) and result.task_id >= 1_000_001
    assert result.balance == Decimal("99.95") and result.billing_amount == Decimal("0.05")
    assert result.success_counts == 1
    assert mock_server.balance(account.name) == Decimal("99.95")


def test_send_several_numbers_as_list_or_comma_string(client):
    first = client.send(["8613800138000", 8613900139000], TEXT).raise_for_status()
    assert (first.success_counts, first.billing_amount) == (2, Decimal("0.10"))
    second = client.send(" 8613800138000 , 447700900123 ", TEXT).raise_for_status()
    assert (second.success_counts, second.billing_amount, second.balance) == (2, Decimal("0.35"), Decimal("99.55"))
    assert second.task_id > first.task_id


@pytest.mark.parametrize(
    "kwargs, code, exc",
    [
        (dict(password="wrong-one"), ResultCode.PasswordError, errors.PasswordError),
        (dict(account="nobody-here"), ResultCode.PasswordError, errors.PasswordError),  # 用户名或密码错误 is ambiguous
        (dict(account=""), ResultCode.UserNameEmpty, errors.UserNameEmpty),
        (dict(password=""), ResultCode.PasswordEmpty, errors.PasswordEmpty),
    ],
)
def test_send_credential_failures(other, mock_server, account, kwargs, code, exc):
    with other(account, **kwargs) as c:
        result = c.send(MOBILE, TEXT)
    assert not result.ok and result.status == "Faild" and result.code is code and result.task_id is None
    with pytest.raises(exc) as info:
        result.raise_for_status()
    assert info.value.result is result and info.value.code is code
    assert mock_server.balance(account.name) == Decimal("100.00")


@pytest.mark.parametrize(
    "mobiles, text, extno, exc",
    [
        (MOBILE, "no signature", None, errors.RequiredSuffix),
        (MOBILE, "", None, errors.ContentEmpty),
        (MOBILE, TEXT, "123456", errors.ExtNumberError),
        ("", TEXT, None, errors.MsisdnEmpty),
        ("12", TEXT, None, errors.MsisdnError),
        ("8613800000002", TEXT, None, errors.MsisdnBlack),
        ("8613800000003", TEXT, None, errors.MsisdnNoChannel),
        (MOBILE, "敏感词【华信】", None, errors.SensitiveWords),
        (MOBILE, "x" * 700 + "【华信】", None, errors.ContentLong),
    ],
)
def test_send_refusals_map_to_exceptions(client, mock_server, account, mobiles, text, extno, exc):
    result = client.send(mobiles, text, extno=extno)
    assert not result.ok and result.code is exc.code
    with pytest.raises(exc):
        result.raise_for_status()
    assert mock_server.balance(account.name) == Decimal("100.00")


def test_amount_not_enough(other, mock_server):
    poor = mock_server.new_account(balance=Decimal("0.01"))
    with other(poor) as c:
        result = c.send(MOBILE, TEXT)
    assert result.code is ResultCode.AmountNotEnough and result.balance == Decimal("0.01")


def test_plain_password_never_on_the_wire_and_strict_account_works(other, mock_server):
    strict = mock_server.new_account(strict_auth=True)
    with other(strict) as c:
        assert c.send(MOBILE, TEXT).ok
        assert c.balance().balance == Decimal("99.95")


def test_scheduled_send_reports_after_the_time(client, mock_server):
    platform = mock_server.platform()
    later = platform.now_datetime() + timedelta(hours=1)
    task = client.send(MOBILE, TEXT, send_time=later.astimezone(ZoneInfo("UTC"))).raise_for_status().task_id
    assert client.status_reports(task_id=task) == []
    platform.advance_clock(3600 + 5)
    [report] = client.status_reports(task_id=task)
    assert report.delivered and report.receive_time >= later.replace(microsecond=0)


# --- balance -------------------------------------------------------------------------


def test_balance(other, client, mock_server):
    assert client.balance() == Balance("prepaid", Decimal("100.00"))
    client.send(MOBILE, TEXT).raise_for_status()
    assert client.balance().balance == Decimal("99.95")
    postpaid = mock_server.new_account(pay_type="postpaid", balance=Decimal("-3.50"))
    with other(postpaid) as c:
        assert c.balance() == Balance("postpaid", Decimal("-3.50"))


# --- query errors raise --------------------------------------------------------------


QUERIES = [
    pytest.param(lambda c: c.balance(), id="balance"),
    pytest.param(lambda c: c.status_reports(), id="reports-xml"),
    pytest.param(lambda c: c.status_reports(fmt="json"), id="reports-json"),
    pytest.param(lambda c: c.uplinks(), id="uplinks-xml"),
    pytest.param(lambda c: c.uplinks(fmt="json"), id="uplinks-json"),
    pytest.param(lambda c: c.change_password("whatever1"), id="pwd"),
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(password="wrong-one"), errors.PasswordError),
        (dict(account=""), errors.UserNameEmpty),
        (dict(password=""), errors.PasswordEmpty),
    ],
    ids=["wrong-password", "no-account", "no-password"],
)
def test_query_credential_failures_raise(other, mock_server, account, query, kwargs, exc):
    with other(account, **kwargs) as c:
        with pytest.raises(exc) as info:
            query(c)
    text = str(info.value) + repr(info.value) + info.value.description
    assert account.password not in text and md5_password(account.password) not in text
    assert "wrong-one" not in text and md5_password("wrong-one") not in text


@pytest.mark.parametrize("query", QUERIES)
def test_stopped_account_raises_user_stop(other, mock_server, query):
    stopped = mock_server.new_account(stopped=True)
    with other(stopped) as c, pytest.raises(errors.UserStop):
        query(c)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_reports_not_allowed(other, mock_server, fmt):
    blocked = mock_server.new_account(can_read_reports=False)
    with other(blocked) as c:
        c.send(MOBILE, TEXT).raise_for_status()
        with pytest.raises(errors.ReportsNotAllowed) as info:
            c.status_reports(fmt=fmt)
        assert isinstance(info.value, errors.VendorError) and "不允许" in str(info.value)
        assert c.uplinks(fmt=fmt) == []  # uplinks are not reports


# --- reports -------------------------------------------------------------------------


def test_reports_xml_and_json_give_equal_objects(client):
    task = client.send(["8613800138000", "8613900139000"], TEXT, extno="42").raise_for_status().task_id
    [by_xml] = client.status_reports(task_id=task, limit=1, fmt="xml")
    [by_json] = client.status_reports(task_id=task, limit=1, fmt="json")
    assert by_xml.mobile != by_json.mobile
    assert dataclasses.replace(by_json, mobile=by_xml.mobile) == by_xml
    assert by_xml == Report(by_xml.mobile, task, 10, by_xml.receive_time, "DELIVRD", "42")
    assert by_xml.delivered
    assert by_xml.receive_time.tzinfo == SHANGHAI and by_xml.receive_time.utcoffset() == timedelta(hours=8)


def test_reports_are_handed_out_once_oldest_first(client):
    first = client.send(MOBILE, TEXT).raise_for_status().task_id
    second = client.send("8613800000001", TEXT).raise_for_status().task_id
    client.send("8613800000004", TEXT).raise_for_status()  # never reported
    reports = client.status_reports()
    assert [(r.task_id, r.status, r.errorcode, r.delivered) for r in reports] == [
        (first, 10, "DELIVRD", True),
        (second, 20, "UNDELIV", False),
    ]
    assert client.status_reports() == []
    assert client.status_reports(fmt="json") == []


def test_task_id_filter(client):
    a = client.send(MOBILE, TEXT).raise_for_status().task_id
    b = client.send(MOBILE, TEXT).raise_for_status().task_id
    assert [r.task_id for r in client.status_reports(task_id=b)] == [b]
    assert [r.task_id for r in client.status_reports(fmt="json")] == [a]


def test_limit(client):
    client.send(["8613800138000", "8613900139000", "8613700137000"], TEXT).raise_for_status()
    assert len(client.status_reports(limit=2)) == 2
    assert len(client.status_reports(limit=2, fmt="json")) == 1


def test_soap_sent_task_is_reported_over_http(client, mock_server, account):
    with SoapClient(account.name, account.password, mock_server.base_url) as soap:
        task_id = soap.send_i18n_sms([MOBILE], TEXT).raise_for_status().task_id
    [report] = client.status_reports(task_id=task_id)
    assert (report.task_id, report.mobile, report.delivered) == (task_id, MOBILE, True)


# --- uplinks -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_injected_uplink(client, mock_server, account, fmt):
    task = client.send(MOBILE, TEXT).raise_for_status().task_id
    platform = mock_server.platform()
    platform.inject_uplink(account.name, MOBILE, "你好，我不需要 <&>")
    platform.inject_uplink(account.name, "8613911112222", "stranger")
    uplinks = client.uplinks(fmt=fmt)
    assert [(u.mobile, u.task_id, u.content) for u in uplinks] == [
        (MOBILE, task, "你好，我不需要 <&>"),
        ("8613911112222", None, "stranger"),
    ]
    assert all(isinstance(u, Uplink) and u.receive_time.tzinfo == SHANGHAI for u in uplinks)
    assert client.uplinks(fmt=fmt) == []


def test_auto_reply_number_sends_td(client):
    task = client.send("8613800000005", TEXT).raise_for_status().task_id
    [uplink] = client.uplinks()
    assert (uplink.mobile, uplink.task_id, uplink.content) == ("8613800000005", task, "TD")
    [report] = client.status_reports()
    assert report.task_id == task and report.delivered


# --- password ------------------------------------------------------------------------


def test_change_password_holds_for_http_and_soap(other, client, mock_server, account):
    client.change_password("n3w-Secret")
    assert client.balance().balance == Decimal("100.00")  # this client uses the new one now
    assert "n3w-Secret" not in repr(client)
    with other(account) as old, pytest.raises(errors.PasswordError):
        old.balance()
    with SoapClient(account.name, account.password, mock_server.base_url) as soap:
        assert soap.send_i18n_sms(MOBILE, TEXT).status is ResultCode.PasswordError
    with SoapClient(account.name, "n3w-Secret", mock_server.base_url) as soap:
        assert soap.send_i18n_sms(MOBILE, TEXT).ok
    with other(account, password="n3w-Secret") as new:
        assert new.send(MOBILE, TEXT).ok
        assert new.balance().balance == Decimal("99.90")


def test_change_password_refuses_bad_lengths_locally(client):
    for bad in ("", "x" * 21):
        with pytest.raises(ValueError):
            client.change_password(bad)


# --- CLI against the mock ------------------------------------------------------------


@pytest.fixture
def env(monkeypatch, mock_server, account):
    monkeypatch.setenv("IPYY_ACCOUNT", account.name)
    monkeypatch.setenv("IPYY_PASSWORD", account.password)
    monkeypatch.setenv("IPYY_BASE_URL", mock_server.base_url)
    monkeypatch.delenv("IPYY_USERID", raising=False)
    return monkeypatch


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_send_via_http_json_and_text(env, capsys):
    code, out, _ = run(capsys, "send", "--via", "http", "--to", MOBILE, "--text", TEXT, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True and data["status"] == "OK" and data["returnstatus"] == "Success"
    assert (data["balance"], data["billing_amount"], data["success_counts"]) == ("99.95", "0.05", 1)
    assert isinstance(data["msg_id"], int)
    code, out, _ = run(capsys, "send", "--via", "http", "--to", MOBILE, "--text", TEXT, "--ext", "7")
    assert code == 0 and out.startswith("OK task ") and "charged 0.05, balance 99.90" in out


def test_cli_send_via_http_failure(env, capsys):
    code, out, err = run(capsys, "send", "--via", "http", "--to", "8613800000002", "--text", TEXT, "--json")
    assert code == 1 and json.loads(out)["status"] == "MsisdnBlack"
    assert "MsisdnBlack (1109)" in err and "hint:" in err
    env.setenv("IPYY_PASSWORD", "nope-nope")
    code, out, err = run(capsys, "send", "--via", "http", "--to", MOBILE, "--text", TEXT)
    assert code == 1 and "PasswordError" in err and "nope-nope" not in err
    assert run(capsys, "send", "--via", "http", "--hybrid", "--to", MOBILE, "--text", TEXT)[0] == 2


def test_cli_balance(env, capsys):
    code, out, _ = run(capsys, "balance", "--json")
    assert code == 0 and json.loads(out) == {"pay_type": "prepaid", "balance": "100.00"}
    code, out, _ = run(capsys, "--userid", "12", "balance")
    assert code == 0 and out.strip() == "balance 100.00 (prepaid)"
    env.setenv("IPYY_PASSWORD", "nope-nope")
    code, out, err = run(capsys, "balance")
    assert code == 1 and "PasswordError" in err and "IPYY_PASSWORD" in err and out == ""


def test_cli_reports_and_uplinks(env, capsys, mock_server, account):
    assert run(capsys, "send", "--via", "http", "--to", f"{MOBILE},8613800000001", "--text", TEXT)[0] == 0
    code, out, _ = run(capsys, "reports", "--json", "--format", "json", "--limit", "1")
    assert code == 0
    [item] = json.loads(out)
    assert item["type"] == "report" and item["mobile"] == MOBILE and item["status"] == 10 and item["delivered"]
    assert item["receive_time"].endswith("+08:00")
    code, out, _ = run(capsys, "reports")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["TASK", "MOBILE", "STATUS", "ERRORCODE", "RECEIVED", "EXTNO"]
    assert "8613800000001" in lines[1] and "20 failed" in lines[1] and "UNDELIV" in lines[1]
    assert lines[1].index("8613800000001") == lines[0].index("MOBILE")  # aligned
    assert run(capsys, "reports", "--json")[1].strip() == "[]"
    assert run(capsys, "reports", "--task", "1")[1].strip() == "no reports waiting"

    mock_server.platform().inject_uplink(account.name, MOBILE, "好的")
    code, out, _ = run(capsys, "uplinks", "--json")
    [up] = json.loads(out)
    assert code == 0 and up["content"] == "好的" and up["type"] == "uplink" and isinstance(up["task_id"], int)
    assert run(capsys, "uplinks")[1].strip() == "no uplinks waiting"


def test_cli_reports_not_allowed(env, capsys, mock_server):
    blocked = mock_server.new_account(can_read_reports=False)
    env.setenv("IPYY_ACCOUNT", blocked.name)
    code, _, err = run(capsys, "reports")
    assert code == 1 and "ReportsNotAllowed" in err


def test_cli_passwd(env, capsys, mock_server, account, monkeypatch):
    code, out, _ = run(capsys, "passwd", "Fresh-One", "--json")
    assert code == 0 and json.loads(out) == {"ok": True}
    assert run(capsys, "balance")[0] == 1  # IPYY_PASSWORD is the old one now
    env.setenv("IPYY_PASSWORD", "Fresh-One")
    answers = iter(["Third-One", "Third-One"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, out, _ = run(capsys, "passwd")
    assert code == 0 and "password changed" in out
    answers = iter(["a", "b"])
    env.setenv("IPYY_PASSWORD", "Third-One")
    assert run(capsys, "passwd")[0] == 2
    assert run(capsys, "balance")[0] == 0


def test_cli_transport_failure_exit_3(env, capsys):
    env.setenv("IPYY_BASE_URL", "http://127.0.0.1:9")
    code, _, err = run(capsys, "--timeout", "2", "balance")
    assert code == 3 and "cannot connect" in err
