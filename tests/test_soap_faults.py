"""Requests that are not valid SOAP for the service get ASMX's answer from the real server, over the wire.

ASMX answers such a request in one of three ways (docs/contract.md §2,
"Faults"): HTTP 400 or 415 with an empty body once the request was routed, a
SOAP Fault on HTTP 500 of the version the envelope (or, before the envelope
was read, the routing) says, with an empty detail element, or a normal reply
when the request was routed to an operation that then bound nothing. These
tests send the bytes a broken or old client sends, through the real server
process (its WSGI stack, its body handling), with a real account's
credentials, and check the answer and that nothing was charged for it.
The in-process tests/test_soap_contract.py covers every case; these are the
ones a client meets first.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from lxml import etree

from support import soapraw

SOAP11, SOAP12, TNS = soapraw.SOAP11, soapraw.SOAP12, soapraw.TNS
ENV = {11: SOAP11, 12: SOAP12}
CTYPE = {11: "text/xml; charset=utf-8", 12: "application/soap+xml; charset=utf-8"}
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
ACTION_REQUIRED = "Unable to handle request without a valid action parameter. Please supply a valid soap action."
UNABLE_TO_PROCESS = "Server was unable to process request. ---> "


def post(mock_server, body: bytes, content_type: str = CTYPE[11], **headers: str) -> requests.Response:
    return requests.post(
        mock_server.base_url + "/WebService.asmx",
        data=body,
        headers={"Content-Type": content_type, **headers},
        timeout=30,
    )


def action(op: str = "SendI18NSms") -> dict[str, str]:
    return {"SOAPAction": f'"{TNS}{op}"'}


def fault_of(reply: requests.Response, version: int) -> tuple[str, str]:
    """(code, text) of a Fault as ASMX sends it: HTTP 500, the version's Content-Type, an empty detail element
    (none for a MustUnderstand Fault, which is a header Fault)."""
    assert reply.status_code == soapraw.FAULT_STATUS[version], (reply.status_code, reply.text[:300])
    assert reply.headers["Content-Type"] == CTYPE[version]
    root = etree.fromstring(reply.content, SAFE)
    ns = ENV[version]
    assert root.tag == f"{{{ns}}}Envelope"
    fault = root.find(f"{{{ns}}}Body/{{{ns}}}Fault")
    assert fault is not None, reply.text[:300]
    detail = fault.find("detail" if version == 11 else f"{{{ns}}}Detail")
    code, text = soapraw.fault(reply)
    if code == "soap:MustUnderstand":
        assert detail is None
    else:
        assert detail is not None and len(detail) == 0 and not detail.text
    assert "The mock failed" not in text, text  # the front's own last resort: a bug, never an answer
    return code, text


def assert_empty(reply: requests.Response, status: int, version: int) -> None:
    assert (reply.status_code, reply.headers["Content-Type"], reply.content) == (status, CTYPE[version], b"")


def assert_nothing_charged(mock_server, account) -> None:
    assert mock_server.balance(account.name) == account.balance
    store = mock_server.platform().store
    try:
        tasks = store.db.execute("SELECT COUNT(*) FROM tasks WHERE account=?", (account.name,)).fetchone()[0]
    finally:
        store.close()
    assert tasks == 0


def bodies(account, version: int = 11) -> dict[str, bytes]:
    """The broken requests, each with the account's real credentials: were one wrongly read as a send, it would
    be charged."""
    good = soapraw.envelope(
        "SendI18NSms", account.name, account.password, "8613800138000", "测试【华信】", version=version
    )
    ns = ENV[version].encode()
    return {
        "malformed": b"<soap:Envelope xmlns:soap='" + ns + b"'><soap:Body><oops",
        "not xml": b"hello there",
        "empty": b"",
        "unknown operation": good.replace(b"SendI18NSms", b"DeleteEverything"),
        "wrong namespace": good.replace(TNS.encode(), b"http://example.com/other/"),
        "doctype": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + soapraw.envelope("SendI18NSms", "&e;", account.password, "1", "x", version=version).split(b"?>", 1)[1],
    }


# Routed on the body (no SOAPAction, no action parameter): ASMX reads the body up to the operation element to
# route, so a break before it is a Fault (Server, "unable to process"), an element it does not know is
# ACTION_REQUIRED, and a document broken after it is 400. The version is the envelope's once the root was read.
ON_THE_BODY = {
    11: {
        "malformed": (11, "soap:Server", UNABLE_TO_PROCESS),
        "not xml": (12, "soap:Receiver", UNABLE_TO_PROCESS + "Data at the root level is invalid. Line 1, position 1."),
        "empty": (12, "soap:Receiver", UNABLE_TO_PROCESS + "Root element is missing."),
        "unknown operation": (11, "soap:Client", ACTION_REQUIRED),
        "wrong namespace": (11, "soap:Client", ACTION_REQUIRED),
        "doctype": (12, "soap:Receiver", UNABLE_TO_PROCESS + "DTD is prohibited in this XML document."),
    },
    12: {
        "malformed": (12, "soap:Receiver", UNABLE_TO_PROCESS),
        "not xml": (12, "soap:Receiver", UNABLE_TO_PROCESS + "Data at the root level is invalid. Line 1, position 1."),
        "empty": (12, "soap:Receiver", UNABLE_TO_PROCESS + "Root element is missing."),
        "unknown operation": (12, "soap:Sender", ACTION_REQUIRED),
        "wrong namespace": (12, "soap:Sender", ACTION_REQUIRED),
        "doctype": (12, "soap:Receiver", UNABLE_TO_PROCESS + "DTD is prohibited in this XML document."),
    },
}


@pytest.mark.parametrize("version", [11, 12])
@pytest.mark.parametrize("name", list(ON_THE_BODY[11]))
def test_routed_on_the_body_a_broken_request_is_a_fault(mock_server, account, name, version):
    """SOAP 1.1 without SOAPAction is routed as SOAP 1.2 routes (on the body), so both answer alike; the
    Fault's text is .NET's ("Server was unable to process request. ---> " and the XML error), never the mock's
    own failure."""
    reply = post(mock_server, bodies(account, version)[name], CTYPE[version])
    answer_version, code, text = ON_THE_BODY[version][name]
    got_code, got_text = fault_of(reply, answer_version)
    assert got_code == code
    if text.endswith("---> "):  # the parser's own words for where the document breaks
        assert got_text.startswith(text) and len(got_text) > len(text)
    else:
        assert got_text == text
    assert "root:" not in reply.text
    assert_nothing_charged(mock_server, account)


# Routed by the SOAPAction (SOAP 1.1) or the action parameter (SOAP 1.2): the body is read only after routing,
# so any XML error is 400 with an empty body, and an element of another name or namespace binds nothing (a normal
# reply: the operation ran with no parameter, refused by the core for the missing user name).
BY_ACTION = {
    "malformed": 400,
    "not xml": 400,
    "empty": 400,
    "doctype": 400,
    "unknown operation": 200,
    "wrong namespace": 200,
}


@pytest.mark.parametrize("version", [11, 12])
@pytest.mark.parametrize("name", BY_ACTION)
def test_routed_by_its_action_a_broken_request_is_400_or_binds_nothing(mock_server, account, name, version):
    body = bodies(account, version)[name]
    if version == 11:
        reply = post(mock_server, body, CTYPE[11], **action())
    else:
        reply = post(mock_server, body, CTYPE[12] + f'; action="{TNS}SendI18NSms"')
    if BY_ACTION[name] == 400:
        assert_empty(reply, 400, version)
    else:
        assert (reply.status_code, reply.headers["Content-Type"]) == (200, CTYPE[version])
        result = soapraw.parse_result(reply, "SendI18NSms")
        assert (result.status, result.msg_id, result.pay_type, result.xsi_type) == (
            "UserNameEmpty",
            0,
            0,
            "I18NSendResult",
        )
    assert_nothing_charged(mock_server, account)


def test_a_byte_that_is_not_utf8_is_read_as_a_replacement_character(mock_server, account):
    """ASMX reads the body in the charset its Content-Type names, and .NET's UTF-8 decoder replaces what is not
    UTF-8 with U+FFFD: the send is made (the vendor makes it), with the replacement in the text and a
    soap-bad-bytes warning that says why."""
    body = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "测试XX【华信】")
    reply = post(mock_server, body.replace("XX".encode(), b"\xff\xfe"), CTYPE[11], **action())
    assert reply.status_code == 200
    result = soapraw.parse_result(reply)
    assert result.status == "OK" and result.msg_id
    messages = requests.get(
        mock_server.base_url + "/_mock/api/messages", params={"account": account.name}, timeout=30
    ).json()["messages"]
    assert [m["content"] for m in messages] == ["测试\ufffd\ufffd【华信】"]
    warned = requests.get(
        mock_server.base_url + "/_mock/api/warnings",
        params={"account": account.name, "code": "soap-bad-bytes"},
        timeout=30,
    ).json()["warnings"]
    assert len(warned) == 1 and warned[0]["fix"]


def test_soap11_envelope_sent_as_soap12_is_415(mock_server, account):
    """The envelope's namespace decides the version; a SOAP 1.1 envelope must come as text/xml."""
    body = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "测试【华信】")
    assert_empty(post(mock_server, body, CTYPE[12] + f'; action="{TNS}SendI18NSms"'), 415, 11)
    assert_empty(post(mock_server, body, CTYPE[12]), 415, 11)
    assert_nothing_charged(mock_server, account)


@pytest.mark.parametrize("with_action", [True, False])
def test_soap12_envelope_sent_as_text_xml_is_answered_as_soap12(mock_server, account, with_action):
    """SOAP 1.2 allows any XML content type: ASMX answers the envelope's version, in its Content-Type."""
    body = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "测试【华信】", version=12)
    reply = post(mock_server, body, CTYPE[11], **(action() if with_action else {}))
    assert (reply.status_code, reply.headers["Content-Type"]) == (200, CTYPE[12])
    assert etree.fromstring(reply.content, SAFE).tag == f"{{{SOAP12}}}Envelope"
    result = soapraw.parse_result(reply)
    assert result.status == "OK" and result.billing_amount == Decimal("0.05")
    assert mock_server.balance(account.name) == account.balance - Decimal("0.05")


def test_an_unknown_envelope_namespace_is_a_version_mismatch(mock_server, account):
    """A namespace ASMX does not know is a SOAP 1.1 VersionMismatch Fault with SOAP 1.2's Upgrade header, so a
    client learns which envelopes the service takes."""
    body = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "测试【华信】")
    reply = post(mock_server, body.replace(SOAP11.encode(), b"http://schemas.xmlsoap.org/soap/envelope/v2"), **action())
    code, text = fault_of(reply, 11)
    assert code == "soap:VersionMismatch"
    assert text == (
        "Possible SOAP version mismatch: Envelope namespace http://schemas.xmlsoap.org/soap/envelope/v2 was "
        f"unexpected. Expecting {SOAP11}."
    )
    upgrade = etree.fromstring(reply.content, SAFE).find(f"{{{SOAP11}}}Header/{{{SOAP12}}}Upgrade")
    assert [e.get("qname") for e in upgrade] == ["soap:Envelope", "soap12:Envelope"]
    assert_nothing_charged(mock_server, account)


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/related"])
def test_wrong_content_type_is_415_once_routed(mock_server, account, ctype):
    body = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "测试【华信】")
    assert_empty(post(mock_server, body, ctype, **action()), 415, 11)
    # before routing succeeds, the routing's Fault comes first
    code, text = fault_of(post(mock_server, body, ctype, **action("GetBalance")), 11)
    assert (code, text) == (
        "soap:Client",
        f"Server did not recognize the value of HTTP Header SOAPAction: {TNS}GetBalance.",
    )
    assert_nothing_charged(mock_server, account)


@pytest.mark.parametrize("version", [11, 12])
def test_a_must_understand_header_is_refused_and_nothing_is_sent(mock_server, account, version):
    """The service understands no header: .NET 4 refuses one marked mustUnderstand in CreateServerInstance,
    before the web method runs, with a header Fault (no detail element). A client that retries after the Fault
    must not have been charged for the first try."""
    body = soapraw.envelope(
        "SendI18NSms", account.name, account.password, "8613800138000", "测试【华信】", version=version
    )
    flag = "1" if version == 11 else "true"
    body = body.replace(
        b"<soap:Body>",
        f'<soap:Header><h xmlns="urn:x" soap:mustUnderstand="{flag}"/></soap:Header><soap:Body>'.encode(),
    )
    reply = post(mock_server, body, CTYPE[version], **action()) if version == 11 else post(mock_server, body, CTYPE[12])
    assert fault_of(reply, version) == ("soap:MustUnderstand", "SOAP header h was not understood.")
    assert_nothing_charged(mock_server, account)


@pytest.mark.parametrize("path", ["/WebService.asmx", "/webservice.asmx", "/webservice.ASMX"])
def test_wsdl_is_served_with_the_request_address(mock_server, path):
    """The served description names the server it was fetched from, with the path as the caller wrote it."""
    for query in ("WSDL", "wsdl"):
        reply = requests.get(f"{mock_server.base_url}{path}?{query}", timeout=10)
        assert reply.status_code == 200
        assert reply.headers["Content-Type"] == "text/xml; charset=utf-8"
        assert reply.text.count(f'location="{mock_server.base_url}{path}"') == 2
        assert "dx.ipyy.net" not in reply.text and f'targetNamespace="{TNS}"' in reply.text


def test_unknown_path_is_404_not_500(mock_server):
    reply = requests.get(mock_server.base_url + "/nothing.aspx", timeout=10)
    assert reply.status_code == 404
    assert "WebService.asmx" in reply.text
