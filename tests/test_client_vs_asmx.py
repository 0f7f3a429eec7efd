"""The client against an ASMX service of the vendor's contract: what it would meet at the real endpoint.

The mock is one implementation of the contract; the vendor's endpoint is another, Microsoft's ASMX. The suite's
ASMX oracle (tests/oracle/) is that other implementation's behaviour for the same contract, so the client is
checked against it too: its WSDL is what ASMX generates for the contract (``ipyy check``'s WSDL check passes on
it), and every send of ``SoapClient`` and of ``ipyy send`` gets an OK reply in both SOAP versions. The oracle's
values are its own (a fixed task id and balance; ``demo`` / ``demo123`` is its one good login).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ipyy_client import SoapClient, cli
from ipyy_client.aio import AsyncSoapClient
from ipyy_client.check import _Checker
from ipyy_client.codes import ResultCode

SENDS = {
    "SendSms": ("send_sms", "13800138000,8613800000002", "SendResult"),
    "SendI18NSms": ("send_i18n_sms", "8613800138000", "I18NSendResult"),
    "SendHybridSms": ("send_hybrid_sms", "13800138000", "SendResult"),
}


def test_the_packaged_wsdl_is_what_asmx_generates_for_the_contract(asmx_oracle):
    checker = _Checker(asmx_oracle.base_url, "demo", "demo123", "", 30.0)
    try:
        detail = checker.wsdl()
    finally:
        checker.session.close()
    assert detail.startswith("same contract as the packaged WSDL: namespace http://www.yysms.com/, SendSms, SendMms")


@pytest.mark.parametrize("version", [11, 12])
@pytest.mark.parametrize("operation", SENDS)
def test_every_send_reads_an_asmx_reply(asmx_oracle, operation, version):
    method, numbers, result_type = SENDS[operation]
    with SoapClient("demo", "demo123", asmx_oracle.base_url, soap_version=version) as client:
        result = getattr(client, method)(numbers, "验证码 123456【华信】", ext_number="12")
    assert result.status is ResultCode.OK and result.result_type == result_type
    assert result.msg_id == "1000001" and result.task_id == 1000001
    assert (result.balance, result.billing_amount, result.amount, result.pay_type) == (
        Decimal("99.95"),
        Decimal("0.05"),
        1999,
        1,
    )
    refused = [number for number in numbers.split(",") if number == "8613800000002"]
    assert result.errors == tuple(f"{n}:MsisdnBlack" for n in refused)
    assert result.success_counts == len(numbers.split(",")) - len(refused)
    with SoapClient("demo", "wrong", asmx_oracle.base_url, soap_version=version) as client:
        denied = getattr(client, method)(numbers, "验证码 123456【华信】")
    assert denied.status is ResultCode.PasswordError and denied.msg_id is None and denied.task_id is None


@pytest.mark.anyio
async def test_the_async_client_reads_an_asmx_reply(asmx_oracle):
    async with AsyncSoapClient("demo", "demo123", asmx_oracle.base_url, soap_version=12) as client:
        result = await client.send_sms("13800138000", "你好【华信】")
    assert result.ok and result.result_type == "SendResult" and result.task_id == 1000001


@pytest.mark.parametrize("extra", [[], ["--soap12"], ["--op", "sendsms"], ["--hybrid", "--soap12"]])
def test_ipyy_send_gets_ok_from_asmx(asmx_oracle, capsys, extra):
    base = ["--base-url", asmx_oracle.base_url, "--account", "demo", "--password", "demo123", "send"]
    to = "13800138000" if extra[:2] in (["--op", "sendsms"], ["--hybrid", "--soap12"]) else "8613800138000"
    assert cli.main([*base, "--to", to, "--text", "你好【华信】", *extra]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK task 1000001 — 1 segment(s), charged 0.05, balance 99.95"), out
    assert cli.main([*base, "--to", to, "--text", "你好【华信】", "--json", *extra]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["status"], shown["msg_id"], shown["amount"]) == ("OK", "1000001", 1999)
