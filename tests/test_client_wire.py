"""The client against the real mock server, over the wire (SOAP 1.1 and 1.2, and the CLI).

Uses the ``mock_server`` / ``account`` fixtures of conftest.py: a fresh account
per test with balance 100.00, 0.05 per segment for country 86, 0.30 elsewhere.
Every client test runs through ``SoapClient`` and through ``AsyncSoapClient``
(the ``flavour`` fixture, tests/flavours.py). What each member of a result holds
is docs/contract.md §2 ("SendResultBase") and §8.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from ipyy_client import ResultCode, errors
from support.mockproc import console_script

TEXT = "您的验证码是 1234【华信】"
#: The xsi:type each operation's reply names (SendSmsResult, declared SendResult, names none and reads as one).
RESULT_TYPES = {"SendSms": "SendResult", "SendI18NSms": "I18NSendResult", "SendHybridSms": "SendResult"}
OPS = tuple(RESULT_TYPES)


@pytest.fixture(params=[11, 12], ids=["soap11", "soap12"])
def client(request, mock_server, account, flavour):
    with flavour.soap(account.name, account.password, mock_server.base_url, soap_version=request.param) as c:
        yield c


def send_of(client, op: str):
    return {"SendSms": client.send_sms, "SendI18NSms": client.send_i18n_sms, "SendHybridSms": client.send_hybrid_sms}[
        op
    ]


def test_send_ok_one_chinese_number(client, mock_server, account) -> None:
    result = client.send_i18n_sms(["8613800138000"], TEXT)
    assert result.ok, result
    assert result.raise_for_status() is result
    assert isinstance(result.msg_id, str) and result.msg_id.isdigit()
    assert result.task_id == int(result.msg_id) and result.task_id >= 1000001
    assert result.billing_count == 1
    assert result.billing_amount == Decimal("0.05")
    assert result.balance == Decimal("99.95")
    assert result.errors == ()
    # the members beyond the document's seven (docs/contract.md §8)
    assert result.success_counts == 1
    assert result.amount == 1999  # floor(99.95 / 0.05): the balance in points
    assert result.pay_type == 1  # prepaid
    assert result.result_type == "I18NSendResult"
    assert (result.custom_id, result.mark, result.alter_send_result) == (None, None, None)
    assert mock_server.balance(account.name) == Decimal("99.95")


def test_send_sms_takes_domestic_numbers(client, mock_server, account) -> None:
    """``SendSms``, the domestic send the vendor's demos call: 11-digit numbers, charged as country 86."""
    result = client.send_sms("13800138000", TEXT).raise_for_status()
    assert result.msg_id is not None and result.task_id is not None and result.task_id >= 1000001
    assert (result.billing_count, result.billing_amount, result.balance) == (1, Decimal("0.05"), Decimal("99.95"))
    assert (result.success_counts, result.amount, result.pay_type) == (1, 1999, 1)
    assert result.result_type == "SendResult" and result.mark is None
    with_code = client.send_sms("8613800138000", TEXT).raise_for_status()  # a number with its country code too
    assert with_code.task_id > result.task_id and with_code.balance == Decimal("99.90")
    assert mock_server.balance(account.name) == Decimal("99.90")


@pytest.mark.parametrize("op", OPS)
def test_each_operation_names_its_result_type(client, op: str) -> None:
    number = "8613800138000" if op == "SendI18NSms" else "13800138000"
    result = send_of(client, op)(number, TEXT).raise_for_status()
    assert result.result_type == RESULT_TYPES[op]


def test_task_ids_increase(client) -> None:
    first = client.send_i18n_sms("8613800138000", TEXT).raise_for_status()
    second = client.send_i18n_sms("8613800138001", TEXT).raise_for_status()
    third = client.send_sms("13800138002", TEXT).raise_for_status()
    assert first.task_id < second.task_id < third.task_id


def test_blacklisted_only_raises_msisdn_black(client, mock_server, account) -> None:
    result = client.send_i18n_sms("8613800000002", TEXT)
    assert result.status is ResultCode.MsisdnBlack
    with pytest.raises(errors.MsisdnBlack) as info:
        result.raise_for_status()
    assert info.value.result is result
    assert ("8613800000002", ResultCode.MsisdnBlack) in result.recipient_errors()
    # refused: no task, so no MsgId; the account was authenticated, so its pay type and points are there
    assert result.msg_id is None and result.task_id is None
    assert (result.success_counts, result.billing_count, result.billing_amount) == (0, 0, Decimal("0"))
    assert (result.pay_type, result.amount, result.balance) == (1, 2000, Decimal("100.00"))
    assert mock_server.balance(account.name) == Decimal("100.00")  # nothing charged


def test_partly_accepted_send_is_ok_with_recipient_errors(client) -> None:
    result = client.send_i18n_sms(["8613800138000", "8613800000002", "8613800000003"], TEXT)
    assert result.ok
    assert result.billing_count == 1 and result.balance == Decimal("99.95")
    assert result.success_counts == 1  # three asked for, one accepted
    assert result.task_id is not None
    assert sorted(result.recipient_errors()) == [
        ("8613800000002", ResultCode.MsisdnBlack),
        ("8613800000003", ResultCode.MsisdnNoChannel),
    ]


def test_hybrid_takes_domestic_numbers(client) -> None:
    result = client.send_hybrid_sms("13800138000", TEXT).raise_for_status()
    assert result.billing_amount == Decimal("0.05")
    assert result.result_type == "SendResult" and result.success_counts == 1


@pytest.mark.parametrize("op", OPS)
def test_a_wrong_password_is_a_reply_with_nothing_in_it(flavour, mock_server, account, op: str) -> None:
    """Not authenticated: PayType 0, Amount 0, Balance 0, no MsgId (docs/contract.md §2)."""
    with flavour.soap(account.name, "wrong-password", mock_server.base_url) as c:
        result = send_of(c, op)("8613800138000", TEXT)
    assert result.status is ResultCode.PasswordError and result.description == "密码错误"
    assert result.msg_id is None and result.task_id is None
    assert (result.pay_type, result.amount, result.balance, result.success_counts) == (0, 0, Decimal("0"), 0)
    assert result.result_type == RESULT_TYPES[op]
    with pytest.raises(errors.PasswordError):
        result.raise_for_status()


def test_a_postpaid_account_says_so(flavour, mock_server) -> None:
    account = mock_server.new_account(pay_type="postpaid")
    with flavour.soap(account.name, account.password, mock_server.base_url) as c:
        result = c.send_sms("13800138000", TEXT).raise_for_status()
        refused = c.send_sms("", TEXT)
    assert result.pay_type == 2 and refused.pay_type == 2
    assert refused.status is ResultCode.MsisdnEmpty and refused.msg_id is None


def test_vendor_errors_are_returned_not_raised(flavour, mock_server, account) -> None:
    with flavour.soap(account.name, "wrong-password", mock_server.base_url) as c:
        result = c.send_i18n_sms("8613800138000", TEXT)
    assert result.status is ResultCode.PasswordError
    with flavour.soap(account.name, account.password, mock_server.base_url) as c:
        assert c.send_i18n_sms("8613800138000", "no signature").status is ResultCode.RequiredSuffix
        assert c.send_i18n_sms("8613800138000", TEXT, ext_number="123456").status is ResultCode.ExtNumberError
        assert c.send_sms("13800138000", "no signature").status is ResultCode.RequiredSuffix
        assert c.send_sms("12345", TEXT).status is ResultCode.MsisdnError


@pytest.mark.parametrize("op", OPS)
def test_empty_strings_are_vendor_codes_not_faults(flavour, mock_server, account, op: str) -> None:
    """``<Msisdns></Msisdns>`` is valid SOAP for the WSDL: the reply is a code (docs/contract.md §2), not a Fault."""
    with flavour.soap(account.name, account.password, mock_server.base_url) as c:
        send = send_of(c, op)
        empty = send("", TEXT)
        assert empty.status is ResultCode.MsisdnEmpty and empty.msg_id is None
        assert send("8613800138000", "").status is ResultCode.ContentEmpty
    assert mock_server.balance(account.name) == Decimal("100.00")


@pytest.mark.parametrize("op", OPS)
def test_soap11_and_soap12_agree(flavour, mock_server, account, op: str) -> None:
    results = []
    for version in (11, 12):
        with flavour.soap(account.name, account.password, mock_server.base_url, soap_version=version) as c:
            results.append(send_of(c, op)("8613800000002", TEXT))
    a, b = results
    assert a.status is ResultCode.MsisdnBlack and a.msg_id is None
    assert a == b


def _ipyy(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = console_script("ipyy")
    cmd = [exe, *argv] if os.path.isabs(exe) else [sys.executable, "-m", "ipyy_client.cli", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", env=env, timeout=60)


def test_cli_send_json(mock_server, account) -> None:
    env = {
        **os.environ,
        "IPYY_ACCOUNT": account.name,
        "IPYY_PASSWORD": account.password,
        "IPYY_BASE_URL": mock_server.base_url,
    }
    proc = _ipyy("send", "--to", "8613800138000", "--text", TEXT, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "OK" and data["code"] == 1 and data["ok"] is True
    assert isinstance(data["msg_id"], str) and int(data["msg_id"]) >= 1000001
    assert Decimal(data["balance"]) == Decimal("99.95")
    assert Decimal(data["billing_amount"]) == Decimal("0.05")
    assert (data["billing_count"], data["success_counts"], data["amount"], data["pay_type"]) == (1, 1, 1999, 1)
    assert data["result_type"] == "I18NSendResult" and data["errors"] == []


def test_cli_send_op(mock_server, account) -> None:
    env = {**os.environ, "IPYY_PASSWORD": account.password}
    common = ["--account", account.name, "--base-url", mock_server.base_url]
    domestic = _ipyy(*common, "send", "--op", "SendSms", "--to", "13800138000", "--text", TEXT, "--json", env=env)
    assert domestic.returncode == 0, domestic.stderr
    data = json.loads(domestic.stdout)
    assert (data["status"], data["result_type"], data["amount"]) == ("OK", "SendResult", 1999)
    hybrid = _ipyy(*common, "send", "--hybrid", "--to", "13800138000", "--text", TEXT, "--soap12", "--json", env=env)
    assert hybrid.returncode == 0, hybrid.stderr
    assert json.loads(hybrid.stdout)["result_type"] == "SendResult"
    assert int(json.loads(hybrid.stdout)["msg_id"]) > int(data["msg_id"])
    refused = _ipyy(*common, "send", "--op", "sendsms", "--to", "1", "--text", TEXT, "--json", env=env)
    assert refused.returncode == 1
    data = json.loads(refused.stdout)
    assert (data["status"], data["msg_id"], data["ok"]) == ("MsisdnError", None, False)
    assert "MsisdnError (1108)" in refused.stderr
    usage = _ipyy(*common, "send", "--op", "SendMms", "--to", "13800138000", "--text", TEXT, env=env)
    assert usage.returncode == 2 and "SendMms" in usage.stderr
    assert mock_server.balance(account.name) == Decimal("99.90")


def test_cli_send_human_and_vendor_error(mock_server, account) -> None:
    env = {**os.environ, "IPYY_PASSWORD": account.password}
    common = ["--account", account.name, "--base-url", mock_server.base_url]
    ok = _ipyy(*common, "send", "--to", "8613800138000", "--text", TEXT, "--soap12", env=env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK task 100") and "balance 99.95" in ok.stdout
    black = _ipyy(*common, "send", "--to", "8613800000002", "--text", TEXT, env=env)
    assert black.returncode == 1
    assert "MsisdnBlack (1109)" in black.stderr and "hint:" in black.stderr


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("version", [11, 12])
def test_raw_envelope_gets_the_same_answer_as_the_client(flavour, mock_server, version, op) -> None:
    """A hand-written envelope (no zeep) and SoapClient, same request on two identical accounts."""
    from support import soapraw

    raw_account = mock_server.new_account()
    zeep_account = mock_server.new_account()
    numbers = "8613800138000,8613800000002,447911123456"
    text = "x" * 80 + "【华信】"
    raw = soapraw.send(
        mock_server.base_url, raw_account.name, raw_account.password, numbers, text, ext="7", version=version, op=op
    )
    with flavour.soap(
        zeep_account.name, zeep_account.password, base_url=mock_server.base_url, soap_version=version
    ) as client:
        result = send_of(client, op)(numbers, text, ext_number="7")
    assert raw.msg_id != result.task_id and result.task_id is not None
    assert (
        raw.status,
        raw.description,
        raw.balance,
        raw.billing_amount,
        raw.billing_count,
        raw.errors,
        raw.success_counts,
        raw.amount,
        raw.pay_type,
        raw.xsi_type or "SendResult",
    ) == (
        result.status.name,
        result.description,
        result.balance,
        result.billing_amount,
        result.billing_count,
        list(result.errors),
        result.success_counts,
        result.amount,
        result.pay_type,
        result.result_type,
    )
    assert raw.billing_amount == Decimal("0.70")  # two segments to 86 at 0.05, two to 44 at 0.30
    assert (raw.success_counts, raw.xsi_type) == (2, None if op == "SendSms" else RESULT_TYPES[op])
