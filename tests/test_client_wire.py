"""The client against the real mock server, over the wire (SOAP 1.1 and 1.2, and the CLI).

Uses the ``mock_server`` / ``account`` fixtures of conftest.py: a fresh account
per test with balance 100.00, 0.05 per segment for country 86, 0.30 elsewhere.
Every client test runs through ``SoapClient`` and through ``AsyncSoapClient``
(the ``flavour`` fixture, tests/flavours.py).
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


@pytest.fixture(params=[11, 12], ids=["soap11", "soap12"])
def client(request, mock_server, account, flavour):
    with flavour.soap(account.name, account.password, mock_server.base_url, soap_version=request.param) as c:
        yield c


def test_send_ok_one_chinese_number(client, mock_server, account) -> None:
    result = client.send_i18n_sms(["8613800138000"], TEXT)
    assert result.ok, result
    assert result.raise_for_status() is result
    assert result.msg_id > 0
    assert result.billing_count == 1
    assert result.billing_amount == Decimal("0.05")
    assert result.balance == Decimal("99.95")
    assert result.errors == ()
    assert mock_server.balance(account.name) == Decimal("99.95")


def test_task_ids_increase(client) -> None:
    first = client.send_i18n_sms("8613800138000", TEXT).raise_for_status()
    second = client.send_i18n_sms("8613800138001", TEXT).raise_for_status()
    assert second.msg_id > first.msg_id


def test_blacklisted_only_raises_msisdn_black(client, mock_server, account) -> None:
    result = client.send_i18n_sms("8613800000002", TEXT)
    assert result.status is ResultCode.MsisdnBlack
    with pytest.raises(errors.MsisdnBlack) as info:
        result.raise_for_status()
    assert info.value.result is result
    assert ("8613800000002", ResultCode.MsisdnBlack) in result.recipient_errors()
    assert mock_server.balance(account.name) == Decimal("100.00")  # nothing charged


def test_partly_accepted_send_is_ok_with_recipient_errors(client) -> None:
    result = client.send_i18n_sms(["8613800138000", "8613800000002", "8613800000003"], TEXT)
    assert result.ok
    assert result.billing_count == 1 and result.balance == Decimal("99.95")
    assert sorted(result.recipient_errors()) == [
        ("8613800000002", ResultCode.MsisdnBlack),
        ("8613800000003", ResultCode.MsisdnNoChannel),
    ]


def test_hybrid_takes_domestic_numbers(client) -> None:
    result = client.send_hybrid_sms("13800138000", TEXT).raise_for_status()
    assert result.billing_amount == Decimal("0.05")


def test_vendor_errors_are_returned_not_raised(flavour, mock_server, account) -> None:
    with flavour.soap(account.name, "wrong-password", mock_server.base_url) as c:
        result = c.send_i18n_sms("8613800138000", TEXT)
    assert result.status is ResultCode.PasswordError
    with flavour.soap(account.name, account.password, mock_server.base_url) as c:
        assert c.send_i18n_sms("8613800138000", "no signature").status is ResultCode.RequiredSuffix
        assert c.send_i18n_sms("8613800138000", TEXT, ext_number="123456").status is ResultCode.ExtNumberError


def test_empty_strings_are_vendor_codes_not_faults(flavour, mock_server, account) -> None:
    """``<Msisdns></Msisdns>`` is valid SOAP for the WSDL: the reply is a code (docs/contract.md §2), not a Fault."""
    with flavour.soap(account.name, account.password, mock_server.base_url) as c:
        assert c.send_i18n_sms("", TEXT).status is ResultCode.MsisdnEmpty
        assert c.send_i18n_sms("8613800138000", "").status is ResultCode.ContentEmpty


def test_soap11_and_soap12_agree(flavour, mock_server, account) -> None:
    results = []
    for version in (11, 12):
        with flavour.soap(account.name, account.password, mock_server.base_url, soap_version=version) as c:
            results.append(c.send_i18n_sms("8613800000002", TEXT))
    a, b = results
    assert (a.status, a.description, a.msg_id, a.balance, a.billing_amount, a.billing_count, a.errors) == (
        b.status,
        b.description,
        b.msg_id,
        b.balance,
        b.billing_amount,
        b.billing_count,
        b.errors,
    )


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
    assert data["status"] == "OK" and data["code"] == 1
    assert data["msg_id"] > 0
    assert Decimal(data["balance"]) == Decimal("99.95")
    assert Decimal(data["billing_amount"]) == Decimal("0.05")


def test_cli_send_human_and_vendor_error(mock_server, account) -> None:
    env = {**os.environ, "IPYY_PASSWORD": account.password}
    common = ["--account", account.name, "--base-url", mock_server.base_url]
    ok = _ipyy(*common, "send", "--to", "8613800138000", "--text", TEXT, "--soap12", env=env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK task ") and "balance 99.95" in ok.stdout
    black = _ipyy(*common, "send", "--to", "8613800000002", "--text", TEXT, env=env)
    assert black.returncode == 1
    assert "MsisdnBlack (1109)" in black.stderr and "hint:" in black.stderr


@pytest.mark.parametrize("version", [11, 12])
def test_raw_envelope_gets_the_same_answer_as_the_client(flavour, mock_server, version) -> None:
    """A hand-written envelope (no zeep) and SoapClient, same request on two identical accounts."""
    from support import soapraw

    raw_account = mock_server.new_account()
    zeep_account = mock_server.new_account()
    numbers = "8613800138000,8613800000002,447911123456"
    text = "x" * 80 + "【华信】"
    raw = soapraw.send(
        mock_server.base_url, raw_account.name, raw_account.password, numbers, text, ext="7", version=version
    )
    with flavour.soap(
        zeep_account.name, zeep_account.password, base_url=mock_server.base_url, soap_version=version
    ) as client:
        result = client.send_i18n_sms(numbers, text, ext_number="7")
    assert raw.msg_id != result.msg_id
    assert (raw.status, raw.description, raw.balance, raw.billing_amount, raw.billing_count, raw.errors) == (
        result.status.name,
        result.description,
        result.balance,
        result.billing_amount,
        result.billing_count,
        list(result.errors),
    )
    assert raw.billing_amount == Decimal("0.70")
