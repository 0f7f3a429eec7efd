"""SOAP clients other than ours read the mock's Faults the way they read the real endpoint's.

The SOAP 1.1 HTTP binding (WS-I Basic Profile R1126) and ASMX send a Fault with
HTTP 500. Clients rely on that: suds raises its WebFault (with the Fault's
message) only for a 500, and JAX-WS reads a Fault from a 500 while any other
non-2xx status is a transport error. Both are exercised here over the wire:
suds itself, and a reader with JAX-WS's status rule.
"""

from __future__ import annotations

import logging

import pytest
import requests
from lxml import etree

from support import soapraw

suds = pytest.importorskip("suds")
from suds.client import Client as SudsClient  # noqa: E402

logging.getLogger("suds").setLevel(logging.CRITICAL)


@pytest.fixture
def suds_client(mock_server):
    return SudsClient(mock_server.base_url + "/WebService.asmx?WSDL", cache=None, timeout=30)


def test_suds_sends_from_the_served_wsdl(suds_client, mock_server, account):
    sms = suds_client.factory.create("SmsObject")
    sms.Msisdns, sms.SMSContent, sms.ExtNumber = "8613800138000", "suds 测试【华信】", ""
    result = suds_client.service.SendI18NSms(account.name, account.password, sms)
    assert str(result.StatusCode) == "OK" and int(result.MsgId) > 0
    assert mock_server.balance(account.name) == account.balance - result.BillingAmount


def test_suds_gets_a_webfault_for_a_bad_plan_send_time(suds_client, account):
    sms = suds_client.factory.create("SmsObject")
    sms.Msisdns, sms.SMSContent, sms.PlanSendTime = "8613800138000", "x【华信】", "not-a-date"
    with pytest.raises(suds.WebFault) as caught:
        suds_client.service.SendI18NSms(account.name, account.password, sms)
    assert "PlanSendTime" in str(caught.value)


class JaxWsStyleTransportError(Exception):
    pass


def jaxws_read(reply: requests.Response) -> tuple[str, str]:
    """JAX-WS's HttpTransportPipe rule: 200/202 is a reply, 500 with an XML body is a Fault to unmarshal,
    anything else is "The server sent HTTP status code N" (a transport error, no Fault)."""
    if reply.status_code in (200, 202):
        return "reply", ""
    ctype = reply.headers.get("Content-Type", "")
    if reply.status_code == 500 and ctype.startswith(("text/xml", "application/soap+xml")):
        code, reason = soapraw.fault(reply)
        return code, reason
    raise JaxWsStyleTransportError(f"The server sent HTTP status code {reply.status_code}")


@pytest.mark.parametrize("case", ["bad datetime", "empty datetime", "unknown operation", "malformed"])
def test_jaxws_style_reader_gets_the_fault(mock_server, account, case):
    body = soapraw.envelope(
        "SendI18NSms",
        account.name,
        account.password,
        "8613800138000",
        "x【华信】",
        plan={"bad datetime": "tomorrow", "empty datetime": ""}.get(case),
    )
    if case == "unknown operation":
        body = body.replace(b"SendI18NSms", b"DeleteEverything")
    if case == "malformed":
        body = body[:-30]
    reply = soapraw.post(mock_server.base_url, body)
    code, reason = jaxws_read(reply)
    assert code == "soap:Client" and reason


def test_soap12_sender_faults_stay_400(mock_server, account):
    body = soapraw.envelope(
        "SendI18NSms", account.name, account.password, "8613800138000", "x【华信】", plan="tomorrow", version=12
    )
    reply = soapraw.post(mock_server.base_url, body, version=12)
    assert reply.status_code == 400
    assert "Sender" in soapraw.fault(reply)[0]
    root = etree.fromstring(reply.content)
    assert root.tag == f"{{{soapraw.SOAP12}}}Envelope"
