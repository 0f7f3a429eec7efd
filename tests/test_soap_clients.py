"""suds, a SOAP client that shares no code with this project, and JAX-WS's rule for Faults, against the mock.

suds reads the served WSDL at run time and picks the result class from
``xsi:type``, so it makes the calls of tests/clients/scenario.py (all five
operations; suds speaks SOAP 1.1 only) and scenario.check() compares its
answers and the books.

Faults: ASMX sends every SOAP Fault with HTTP 500 (docs/contract.md, "Bad
input"), and clients rely on that: suds raises its WebFault (with the Fault's
message) only for a 500, and JAX-WS unmarshals a Fault only from a 500, any
other non-2xx status being a transport error. XML that does not parse is not a
Fault at ASMX: HTTP 400 with an empty body, which JAX-WS reports as a transport
error. Both rules are exercised over the wire, with requests suds itself
writes from the WSDL (``nosend``), changed only where the case says.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests
from lxml import etree

from clients import scenario

suds = pytest.importorskip("suds")
from suds.client import Client as SudsClient  # noqa: E402
from suds.sudsobject import asdict  # noqa: E402

logging.getLogger("suds").setLevel(logging.CRITICAL)

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


def suds_client(mock_server, **options: Any) -> Any:
    client = SudsClient(mock_server.base_url + "/WebService.asmx?WSDL", cache=None, timeout=30, **options)
    client.set_options(port="WebServiceSoap")
    return client


def suds_value(value: Any) -> Any:
    """suds's Text (a str subclass) as str, its objects as dicts; numbers and Decimals as they are."""
    if isinstance(value, str):
        return str(value)
    if hasattr(value, "__keylist__"):
        return {key: suds_value(item) for key, item in asdict(value).items()}
    if isinstance(value, list):
        return [suds_value(item) for item in value]
    return value


def suds_call(client: Any, call: scenario.Call) -> dict[str, Any]:
    """One call through suds; the result's members as a dict, "type" the class suds built (from ``xsi:type``)."""
    try:
        if call.op == "HybridSend":
            body = client.factory.create("HybridSms")
            body.Account, body.Password, body.SMSContent, body.ExtNumber = call.user, call.password, call.content, ""
            body.PlanSendTime = call.plan
            result = client.service.HybridSend(body)
        elif call.op == "SendMms":
            mms = client.factory.create("MmsObject")
            mms.Msisdns, mms.Subject, mms.ExtNumber, mms.PlanSendTime = call.msisdns, call.content, "", call.plan
            text = client.factory.create("MmsElement")
            text.Name, text.ElementType, text.Base64Text = "1.txt", "Text", "5L2g5aW9"
            mms.Elements = client.factory.create("ArrayOfMmsElement")
            mms.Elements.MmsElement = [text]
            result = client.service.SendMms(call.user, call.password, mms)
        else:
            sms = client.factory.create("SmsObject")
            sms.Msisdns, sms.SMSContent, sms.ExtNumber, sms.PlanSendTime = call.msisdns, call.content, "", call.plan
            result = getattr(client.service, call.op)(call.user, call.password, sms)
    except Exception as exc:  # reported with the other differences by scenario.check()
        return {"error": f"{type(exc).__name__}: {exc}"}
    if result is None:
        return {"error": f"suds read no {call.op}Result"}
    return {"type": type(result).__name__, **suds_value(result)}


def test_suds_calls_every_operation(mock_server, account):
    client = suds_client(mock_server)
    made = scenario.calls(account, "suds", scenario.tomorrow(mock_server.base_url))
    results = [suds_call(client, call) for call in made]
    scenario.check(results, made, mock_server, account, via="soap11")


def test_suds_gets_a_webfault_for_a_bad_plan_send_time(mock_server, account):
    client = suds_client(mock_server)
    sms = client.factory.create("SmsObject")
    sms.Msisdns, sms.SMSContent, sms.ExtNumber, sms.PlanSendTime = "8613800138000", "x【华信】", "", "not-a-date"
    with pytest.raises(suds.WebFault) as caught:
        client.service.SendI18NSms(account.name, account.password, sms)
    assert caught.value.fault.faultcode == "soap:Client"
    assert caught.value.fault.faultstring
    assert mock_server.balance(account.name) == scenario.START_BALANCE


# -- JAX-WS's status rule ------------------------------------------------------------------------------------------
class JaxWsStyleTransportError(Exception):
    pass


def fault(reply: requests.Response) -> tuple[str, str]:
    """The Fault's code and reason: ``faultcode``/``faultstring`` (1.1) or ``Code/Value``/``Reason/Text`` (1.2)."""
    root = etree.fromstring(reply.content, etree.XMLParser(resolve_entities=False, no_network=True))
    code = root.findtext(f".//{{{SOAP12}}}Code/{{{SOAP12}}}Value") or root.findtext(".//faultcode") or ""
    reason = root.findtext(f".//{{{SOAP12}}}Reason/{{{SOAP12}}}Text") or root.findtext(".//faultstring") or ""
    return code, reason


def jaxws_read(reply: requests.Response) -> tuple[str, str]:
    """JAX-WS's HttpTransportPipe rule: 200/202 is a reply, 500 with an XML body is a Fault to unmarshal,
    anything else is "The server sent HTTP status code N" (a transport error, no Fault)."""
    if reply.status_code in (200, 202):
        return "reply", ""
    ctype = reply.headers.get("Content-Type", "")
    if reply.status_code == 500 and ctype.startswith(("text/xml", "application/soap+xml")):
        return fault(reply)
    raise JaxWsStyleTransportError(f"The server sent HTTP status code {reply.status_code}")


def suds_request(mock_server, account, plan: str, version: int = 11) -> tuple[bytes, dict[str, str]]:
    """SendI18NSms as suds writes it (``nosend``), with ``plan`` as PlanSendTime; SOAP 1.2: the envelope moved."""
    client = suds_client(mock_server, nosend=True)
    sms = client.factory.create("SmsObject")
    sms.Msisdns, sms.SMSContent, sms.ExtNumber, sms.PlanSendTime = "8613800138000", "x【华信】", "", plan
    body = client.service.SendI18NSms(account.name, account.password, sms).envelope
    action = scenario.TNS + "SendI18NSms"
    if version == 11:
        return body, {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
    body = body.replace(SOAP11.encode(), SOAP12.encode()).replace(b"<SOAP-ENV:Header/>", b"")
    return body, {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}


@pytest.mark.parametrize("case", ["bad datetime", "empty datetime", "unknown operation"])
def test_jaxws_style_reader_gets_the_fault(mock_server, account, case):
    body, headers = suds_request(mock_server, account, "" if case == "empty datetime" else "tomorrow")
    if case == "unknown operation":
        body = body.replace(b"SendI18NSms", b"DeleteEverything")
        headers["SOAPAction"] = f'"{scenario.TNS}DeleteEverything"'
    reply = requests.post(mock_server.base_url + "/WebService.asmx", data=body, headers=headers, timeout=30)
    code, reason = jaxws_read(reply)
    assert code == "soap:Client" and reason, reply.text
    assert mock_server.balance(account.name) == scenario.START_BALANCE


def test_jaxws_style_reader_gets_the_soap12_sender_fault(mock_server, account):
    body, headers = suds_request(mock_server, account, "tomorrow", version=12)
    reply = requests.post(mock_server.base_url + "/WebService.asmx", data=body, headers=headers, timeout=30)
    code, reason = jaxws_read(reply)
    assert code == "soap:Sender" and reason, reply.text
    assert etree.fromstring(reply.content).tag == f"{{{SOAP12}}}Envelope"


@pytest.mark.parametrize("version", [11, 12])
def test_malformed_xml_is_a_transport_error_as_at_asmx(mock_server, account, version):
    """ASMX answers XML that does not parse with HTTP 400 and no body: JAX-WS sees no Fault, suds no WebFault."""
    body, headers = suds_request(mock_server, account, "tomorrow", version=version)
    reply = requests.post(mock_server.base_url + "/WebService.asmx", data=body[:-30], headers=headers, timeout=30)
    with pytest.raises(JaxWsStyleTransportError, match="HTTP status code 400"):
        jaxws_read(reply)
    assert reply.content == b""
