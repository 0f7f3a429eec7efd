"""DomesticClient over the wire against the real mock (typed results, both formats, CLI, check); canned replies.

The client tests run through ``DomesticClient`` and ``AsyncDomesticClient`` alike (the ``flavour`` fixture,
tests/flavours.py); the canned replies through FakeSession / FakeAsyncClient.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests
from test_check import Tamper
from test_http_client_unit import HEAD, PASSWORD, FakeAsyncClient, FakeSession, refused

import ipyy_client
from ipyy_client import DomesticClient, DomesticSendResult, PointsBalance, Report, ResultCode, Uplink, cli, errors
from ipyy_client.check import run_checks
from ipyy_client.encoding import md5_password

TEXT = "验证码 1234【华信】"
MOBILE = "13800138000"
FORMATS = ["xml", "json"]


@pytest.fixture
def client(mock_server, account, flavour):
    with flavour.domestic(account.name, account.password, base_url=mock_server.base_url, timeout=10) as c:
        yield c


# --- send over the wire ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_send_gives_a_typed_result(client, mock_server, account, fmt):
    result = client.send([MOBILE, 13900139000], TEXT, fmt=fmt)
    assert isinstance(result, DomesticSendResult)
    assert result.ok and result.status == "Success" and result.message == "操作成功" and result.code is ResultCode.OK
    assert result.raise_for_status() is result
    assert isinstance(result.task_id, int) and result.task_id >= 1_000_001 and result.msg_id == result.task_id
    assert (result.remain_points, result.success_counts, result.errors) == (1998, 2, ())
    assert mock_server.balance(account.name) == Decimal("99.90")
    task = mock_server.platform().store.get_task(result.task_id)
    assert (task["content"], task["via"]) == (TEXT, "domestic")  # plain text on the wire, not hex


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "mobiles, text, extno, code, exc",
    [
        ([], TEXT, None, ResultCode.MsisdnEmpty, errors.MsisdnEmpty),
        (["1380013800"], TEXT, None, ResultCode.MsisdnError, errors.MsisdnError),
        ([MOBILE], "没有签名", None, ResultCode.RequiredSuffix, errors.RequiredSuffix),
        ([MOBILE], "x【一二三四五六七八九】", None, ResultCode.SuffixError, errors.SuffixError),
        ([MOBILE], "", None, ResultCode.ContentEmpty, errors.ContentEmpty),
        ([MOBILE], TEXT, "123456", ResultCode.ExtNumberError, errors.ExtNumberError),
        (["13800000002"], TEXT, None, ResultCode.MsisdnBlack, errors.MsisdnBlack),
        (["13800000003"], TEXT, None, ResultCode.MsisdnNoChannel, errors.MsisdnNoChannel),
    ],
)
def test_refusals_are_results_that_raise_the_matching_error(client, mobiles, text, extno, code, exc, fmt):
    result = client.send(mobiles, text, extno=extno, fmt=fmt)
    assert not result.ok and result.status == "Faild" and result.code is code
    assert (result.task_id, result.remain_points, result.success_counts) == (None, 0, 0)
    with pytest.raises(exc) as info:
        result.raise_for_status()
    assert info.value.result is result and code.description in str(info.value)


@pytest.mark.parametrize("fmt", FORMATS)
def test_amount_not_enough(flavour, mock_server, fmt):
    acct = mock_server.new_account(balance=Decimal("0.04"))
    with flavour.domestic(acct.name, acct.password, base_url=mock_server.base_url) as c:
        result = c.send(MOBILE, TEXT, fmt=fmt)
    assert result.code is ResultCode.AmountNotEnough
    with pytest.raises(errors.AmountNotEnough):
        result.raise_for_status()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "kwargs, code",
    [
        (dict(password="wrong-one"), ResultCode.PasswordError),
        (dict(account="nobody-here"), ResultCode.PasswordError),  # 用户名或密码错误 names no single code
        (dict(account=""), ResultCode.UserNameEmpty),
        (dict(password=""), ResultCode.PasswordEmpty),  # the client knows which one it left empty
    ],
)
def test_credential_refusals(flavour, mock_server, account, kwargs, code, fmt):
    values = dict(account=account.name, password=account.password, base_url=mock_server.base_url)
    values.update(kwargs)
    with flavour.domestic(**values) as c:
        assert c.send(MOBILE, TEXT, fmt=fmt).code is code
        with pytest.raises(errors.error_for(code)):
            c.balance(fmt=fmt)


def test_stopped_account(flavour, mock_server):
    acct = mock_server.new_account(stopped=True)
    with flavour.domestic(acct.name, acct.password, base_url=mock_server.base_url) as c:
        assert c.send(MOBILE, TEXT).code is ResultCode.UserStop
        with pytest.raises(errors.UserStop):
            c.balance(fmt="json")


def test_the_password_goes_out_as_md5_and_a_strict_account_takes_it(flavour, mock_server):
    acct = mock_server.new_account(strict_auth=True)
    with flavour.domestic(acct.name, acct.password, base_url=mock_server.base_url) as c:
        assert c.send(MOBILE, TEXT).ok and c.balance().points == 1999


def test_scheduled_send_with_an_aware_time(client, mock_server):
    at = datetime(2099, 1, 1, 1, 0, tzinfo=timezone.utc)  # = 09:00 platform time
    result = client.send(MOBILE, TEXT, send_time=at, extno=77).raise_for_status()
    task = mock_server.platform().store.get_task(result.task_id)
    assert (task["scheduled"], task["send_at"], task["ext_number"]) == (1, 4070912400.0, "77")


# --- balance (points) ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_balance_is_points(client, fmt):
    assert client.balance(fmt=fmt) == PointsBalance(pay_type="prepaid", points=2000, send_total=2000)
    client.send(MOBILE, "长" * 71 + "【华信】", fmt=fmt).raise_for_status()
    assert client.balance(fmt=fmt) == PointsBalance("prepaid", 1998, 2000)


def test_postpaid_balance(flavour, mock_server):
    acct = mock_server.new_account(pay_type="postpaid", balance=Decimal("1.00"))
    with flavour.domestic(acct.name, acct.password, base_url=mock_server.base_url) as c:
        assert c.balance(fmt="json") == PointsBalance("postpaid", 20, 20)


# --- reports, uplinks and password: the shared endpoints ---------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_reports_of_domestic_sends(client, fmt):
    task = client.send([MOBILE, "13800000001"], TEXT, fmt=fmt).raise_for_status().task_id
    reports = client.status_reports(task_id=task, fmt=fmt)
    assert all(isinstance(r, Report) and r.task_id == task for r in reports)
    assert sorted((r.status, r.errorcode) for r in reports) == [(10, "DELIVRD"), (20, "UNDELIV")]
    assert all(r.receive_time is not None and r.receive_time.utcoffset() == timedelta(hours=8) for r in reports)
    assert client.status_reports(task_id=task, fmt=fmt) == []  # handed out once


@pytest.mark.parametrize("fmt", FORMATS)
def test_uplinks_of_domestic_sends(client, fmt):
    task = client.send("13800000005", TEXT, fmt=fmt).raise_for_status().task_id
    [uplink] = client.uplinks(fmt=fmt)
    assert isinstance(uplink, Uplink) and (uplink.task_id, uplink.content) == (task, "TD")


def test_change_password_then_the_new_one_is_used(flavour, client, mock_server, account):
    client.change_password("Fresh-One-1")
    assert client.balance().points == 2000  # this client moved to the new password
    with flavour.domestic(account.name, account.password, base_url=mock_server.base_url) as old:
        with pytest.raises(errors.PasswordError):
            old.balance()


def test_reports_not_allowed(flavour, mock_server):
    acct = mock_server.new_account(can_read_reports=False)
    with flavour.domestic(acct.name, acct.password, base_url=mock_server.base_url) as c:
        with pytest.raises(errors.ReportsNotAllowed):
            c.status_reports()


# --- canned replies: parsing, protocol errors, retries, secrets --------------------------


@pytest.fixture
def make(flavour):
    """``make(*replies, **options) -> (client, fake)``: a client of the test's flavour on canned replies."""

    def build(*replies, **kwargs):
        session = FakeAsyncClient(*replies) if flavour.is_async else FakeSession(*replies)
        values = dict(account="acct", password=PASSWORD, base_url="http://gw.invalid", session=session, retry_backoff=0)
        values.update(kwargs)
        return flavour.domestic(**values), session

    return build


def xml(text: str) -> tuple[int, str, bytes]:
    return 200, "text/xml; charset=utf-8", (HEAD + text).encode("utf-8")


def js(text: str) -> tuple[int, str, bytes]:
    return 200, "application/json; charset=utf-8", text.encode("utf-8")


RECORDED_XML = (
    "<returnsms><returnstatus>Success</returnstatus><message>操作成功</message>"
    "<remainpoint>49996</remainpoint><taskID>6309593</taskID><successCounts>1</successCounts></returnsms>"
)
RECORDED_JSON = '{"returnstatus":"Faild","message":"需要签名","remainpoint":"0","taskID":"","successCounts":"0"}'
RECORDED_OVERAGE = (
    "<returnsms><returnstatus>Sucess</returnstatus><message></message><payinfo>预付费</payinfo>"
    "<overage>25</overage><sendTotal>320</sendTotal></returnsms>"
)


def test_the_recorded_vendor_replies_parse(make) -> None:
    client, session = make(xml(RECORDED_XML), js(RECORDED_JSON), xml(RECORDED_OVERAGE))
    assert client.send(MOBILE, TEXT) == DomesticSendResult("Success", "操作成功", 49996, 6309593, 1, ResultCode.OK)
    refused_result = client.send(MOBILE, "x", fmt="json")
    assert (refused_result.code, refused_result.task_id) == (ResultCode.RequiredSuffix, None)
    assert client.balance() == PointsBalance("prepaid", 25, 320)
    urls = [url for url, _ in session.calls]
    assert urls == ["http://gw.invalid/sms.aspx", "http://gw.invalid/smsJson.aspx", "http://gw.invalid/sms.aspx"]


def test_the_send_form_is_the_domestic_one(make) -> None:
    client, session = make(xml(RECORDED_XML), userid="12")
    client.send(f"{MOBILE}, 13900139000", TEXT, send_time=datetime(2026, 12, 1, 9, 0), extno=" 7 ")
    [(_, form)] = session.calls
    assert form == {
        "userid": "12",
        "account": "acct",
        "password": md5_password(PASSWORD),
        "action": "send",
        "mobile": f"{MOBILE},13900139000",
        "content": TEXT,
        "sendTime": "2026-12-01 09:00:00",
        "extno": "7",
    }  # no code parameter, content as text


def test_json_numbers_and_other_spellings_are_read(make) -> None:
    client, _ = make(js('{"ReturnStatus":"Sucess","Message":"","PayInfo":"后付费","Overage":-3,"SendTotal":null}'))
    assert client.balance(fmt="json") == PointsBalance("postpaid", -3, 0)


@pytest.mark.parametrize(
    "reply",
    [
        xml("<returnsms><message>操作成功</message></returnsms>"),  # no returnstatus
        xml(RECORDED_XML.replace("<remainpoint>49996</remainpoint>", "<remainpoint>1.5</remainpoint>")),
        xml(RECORDED_XML.replace("<remainpoint>49996</remainpoint>", "")),  # a success must say its points
        xml(RECORDED_XML.replace("6309593", "")),  # Success without a task
        xml(RECORDED_XML.replace("<successCounts>1<", "<successCounts>one<")),
        js('["Success"]'),
        js('{"returnstatus":"Success","message":["x"]}'),
        js("not json"),
        (200, "text/html", b"<html>It works!</html>"),
        (502, "text/plain", b"Bad Gateway"),
    ],
)
def test_malformed_send_replies_are_protocol_errors(make, reply) -> None:
    client, _ = make(reply)
    fmt = "json" if "json" in reply[1] else "xml"
    with pytest.raises(errors.ProtocolError):
        client.send(MOBILE, TEXT, fmt=fmt)  # type: ignore[arg-type]


def test_a_malformed_accepted_send_says_do_not_resend(make) -> None:
    client, _ = make(xml(RECORDED_XML.replace("6309593", "x")))
    with pytest.raises(errors.ProtocolError, match="was accepted -- do not resend blindly"):
        client.send(MOBILE, TEXT)


@pytest.mark.parametrize(
    "reply",
    [
        xml(RECORDED_OVERAGE.replace("<overage>25</overage>", "<overage>lots</overage>")),
        xml(RECORDED_OVERAGE.replace("<overage>25</overage>", "")),
        xml("<returnsms><payinfo>预付费</payinfo></returnsms>"),
        js('{"returnstatus":"Sucess","overage":{"n":1}}'),
    ],
)
def test_malformed_overage_replies_are_protocol_errors(make, reply) -> None:
    client, _ = make(reply)
    with pytest.raises(errors.ProtocolError):
        client.balance(fmt="json" if "json" in reply[1] else "xml")  # type: ignore[arg-type]


def test_an_unknown_failure_message_is_a_plain_vendor_error(make) -> None:
    client, _ = make(
        js('{"returnstatus":"Faild","message":"通道维护中","remainpoint":"0","taskID":"","successCounts":"0"}')
    )
    result = client.send(MOBILE, TEXT, fmt="json")
    assert result.code is None
    with pytest.raises(errors.VendorError, match="通道维护中"):
        result.raise_for_status()


def test_send_is_never_retried_and_balance_is(make) -> None:
    client, session = make(refused(), xml(RECORDED_XML))
    with pytest.raises(errors.TransportError):
        client.send(MOBILE, TEXT)
    assert len(session.calls) == 1
    client, session = make(refused(), xml(RECORDED_OVERAGE))
    assert client.balance().points == 25 and len(session.calls) == 2


def test_arguments_are_checked_before_sending(make) -> None:
    client, session = make(xml(RECORDED_XML))
    with pytest.raises(TypeError):
        client.send(MOBILE, b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.send(MOBILE, TEXT, fmt="yaml")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.balance(fmt="csv")  # type: ignore[arg-type]
    assert session.calls == []


@pytest.mark.parametrize("echo", [PASSWORD, md5_password(PASSWORD), md5_password(PASSWORD).lower()])
def test_an_echoed_password_never_leaks(make, echo) -> None:
    client, _ = make(
        js(f'{{"returnstatus":"Faild","message":"bad {echo}","remainpoint":"0"}}'),
        js(f'{{"returnstatus":"Faild","message":"用户名或密码错误 {echo}"}}'),
        (500, "text/html", f"<h1>{echo}</h1>".encode()),
    )
    result = client.send(MOBILE, TEXT, fmt="json")
    assert echo not in result.message and echo not in repr(result)
    with pytest.raises(errors.IpyyError) as info:
        client.balance(fmt="json")
    assert echo not in str(info.value)
    with pytest.raises(errors.ProtocolError) as proto:
        client.balance()
    assert echo not in str(proto.value) and echo.encode() not in (proto.value.body or b"")
    assert PASSWORD not in repr(client)


def test_exports_and_frozen_results(make, flavour) -> None:
    assert ipyy_client.DomesticClient is DomesticClient
    assert {"DomesticClient", "AsyncDomesticClient", "DomesticSendResult", "PointsBalance"} <= set(ipyy_client.__all__)
    with pytest.raises(dataclasses.FrozenInstanceError):
        PointsBalance("prepaid", 1, 2).points = 3  # type: ignore[misc]
    client, _ = make(xml(RECORDED_XML))
    name = "AsyncDomesticClient" if flavour.is_async else "DomesticClient"
    assert repr(client) == f"{name}(account='acct', userid='', base_url='http://gw.invalid')"


def test_a_borrowed_session_is_left_open_an_own_one_closed(monkeypatch) -> None:
    closed: list[str] = []
    session = FakeSession(xml(RECORDED_OVERAGE))
    monkeypatch.setattr(session, "close", lambda: closed.append("borrowed"))
    with DomesticClient("a", "b", base_url="http://gw.invalid", session=session) as c:
        c.balance()
    monkeypatch.setattr(requests.Session, "close", lambda self: closed.append("own"))
    with DomesticClient("a", "b", base_url="http://gw.invalid"):
        pass
    assert closed == ["own"]


# --- CLI ------------------------------------------------------------------------------------


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


@pytest.mark.parametrize("fmt", [[], ["--format", "json"]])
def test_cli_send_via_domestic(env, capsys, fmt):
    code, out, _ = run(capsys, "send", "--via", "domestic", *fmt, "--to", MOBILE, "--text", TEXT, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True and data["status"] == "OK" and data["returnstatus"] == "Success"
    assert (data["remain_points"], data["success_counts"]) == (1999, 1) and isinstance(data["msg_id"], int)
    code, out, _ = run(
        capsys,
        "send",
        "--via",
        "domestic",
        *fmt,
        "--to",
        MOBILE,
        "--text",
        TEXT,
        "--ext",
        "7",
        "--at",
        "2099-01-01 09:00:00",
    )
    assert code == 0 and out.startswith("OK task ") and "1 message(s), 1998 point(s) left, scheduled" in out


def test_cli_send_via_domestic_failures(env, capsys):
    code, out, err = run(capsys, "send", "--via", "domestic", "--to", "13800000002", "--text", TEXT, "--json")
    assert code == 1 and json.loads(out)["status"] == "MsisdnBlack"
    assert "MsisdnBlack (1109)" in err and "hint:" in err
    code, _, err = run(capsys, "send", "--via", "domestic", "--to", MOBILE, "--text", "no signature")
    assert code == 1 and "RequiredSuffix" in err
    env.setenv("IPYY_PASSWORD", "nope-nope")
    code, _, err = run(capsys, "send", "--via", "domestic", "--to", MOBILE, "--text", TEXT)
    assert code == 1 and "PasswordError" in err and "nope-nope" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["send", "--via", "domestic", "--hybrid", "--to", MOBILE, "--text", TEXT],
        ["send", "--via", "domestic", "--soap12", "--to", MOBILE, "--text", TEXT],
        ["send", "--via", "http", "--format", "json", "--to", "86" + MOBILE, "--text", TEXT],
        ["send", "--format", "json", "--to", "86" + MOBILE, "--text", TEXT],
        ["balance", "--format", "json"],
        ["balance", "--via", "soap"],
    ],
)
def test_cli_usage_errors(env, capsys, argv):
    assert run(capsys, *argv)[0] == 2


def test_cli_balance_via_domestic(env, capsys):
    code, out, _ = run(capsys, "balance", "--via", "domestic", "--json")
    assert code == 0 and json.loads(out) == {"pay_type": "prepaid", "points": 2000, "send_total": 2000}
    code, out, _ = run(capsys, "balance", "--via", "domestic", "--format", "json")
    assert code == 0 and out.strip() == "points 2000 (prepaid), 2000 recharged in total"
    env.setenv("IPYY_PASSWORD", "nope-nope")
    code, out, err = run(capsys, "balance", "--via", "domestic")
    assert code == 1 and "PasswordError" in err and "IPYY_PASSWORD" in err and out == ""


def test_cli_domestic_transport_failure_exit_3(env, capsys):
    env.setenv("IPYY_BASE_URL", "http://127.0.0.1:9")
    assert run(capsys, "--timeout", "2", "balance", "--via", "domestic")[0] == 3
    code, _, err = run(capsys, "--timeout", "2", "send", "--via", "domestic", "--to", MOBILE, "--text", TEXT)
    assert code == 3 and "cannot connect" in err


# --- ipyy check ------------------------------------------------------------------------------

DOMESTIC_CHECKS = [
    "domestic-send-empty-xml",
    "domestic-send-empty-json",
    "domestic-balance-xml",
    "domestic-balance-json",
]


def test_check_covers_the_domestic_endpoints_at_no_cost(mock_server, account):
    report = run_checks(mock_server.base_url, account.name, account.password, timeout=10)
    results = {r.name: r for r in report.results}
    assert all(results[name].ok and not results[name].skipped for name in DOMESTIC_CHECKS), report.results
    assert "MsisdnEmpty" in results["domestic-send-empty-json"].detail
    assert "overage 2000 point(s), sendTotal 2000" in results["domestic-balance-xml"].detail
    assert mock_server.balance(account.name) == Decimal("100.00")
    assert mock_server.platform().store.messages(account=account.name) == []


def tampered(upstream: str, rewrite) -> Tamper:
    """A proxy in front of the mock that rewrites the domestic replies (the rest is forwarded untouched)."""

    def change(reply):
        status, ctype, body = reply
        return status, ctype, rewrite(body.decode("utf-8")).encode("utf-8")

    return Tamper(upstream, {"/sms.aspx": change, "/smsjson.aspx": change})


@pytest.mark.parametrize(
    "rewrite, failing, words",
    [
        (
            lambda b: b.replace("remainpoint", "balance"),
            ["domestic-send-empty-xml", "domestic-send-empty-json"],
            "missing remainpoint",
        ),
        (lambda b: b.replace('"overage":"2000"', '"overage":2000'), ["domestic-balance-json"], "not strings"),
        (lambda b: b.replace("Sucess", "Faild"), ["domestic-balance-xml", "domestic-balance-json"], "returnstatus"),
        (lambda b: b.replace("<sendTotal>2000<", "<sendTotal>2000.5<"), ["domestic-balance-xml"], "whole number"),
    ],
)
def test_check_names_a_broken_domestic_reply(mock_server, account, rewrite, failing, words):
    with tampered(mock_server.base_url, rewrite) as proxy:
        report = run_checks(proxy.base_url, account.name, account.password, timeout=10)
    bad = {r.name: r.detail for r in report.results if not r.ok}
    assert sorted(bad) == sorted(failing), bad
    assert all(words in detail for detail in bad.values()), bad
    assert report.exit_code == 1
