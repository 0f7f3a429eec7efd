"""Hostile input on every surface (docs/contract.md §6), both directions.

The mock: SOAP 1.1/1.2, every ``.aspx`` endpoint and ``/_mock/api/`` get DTDs,
external and parameter entities, billion laughs, quadratic blowup, UTF-16
disguises, bodies over the limit (announced and chunked) or cut short of their
Content-Length, non-UTF-8 forms, truncated XML, wrong versions and content
types, duplicate, huge, NUL, emoji and RTL parameters. Each gets a clear answer
in the surface's own format, fast, never an unhandled error, never a
half-written task, nothing charged for what was refused, and no entity is ever
fetched (a sentinel server counts connections).

SOAP answers as Microsoft's ASMX answers (docs/contract.md §2, "Faults", from
Microsoft's reference source of System.Web.Services; the ASMX oracle of
tests/test_asmx_oracle.py answers these requests the same way): an XML
error is HTTP 400 with an empty body once the request is routed, and a
Receiver Fault on HTTP 500 when routing needed the broken part of the body
(no SOAPAction / no ``action`` parameter: ASMX routes on the body's element,
as SOAP 1.2); a content type that is not SOAP is an empty 415 once routed; an
envelope in no SOAP namespace is a VersionMismatch Fault; a body is read in
the charset its Content-Type names (invalid bytes become U+FFFD). Every Fault
is HTTP 500 with an empty ``detail``. ``ROUTES`` runs the SOAP cases both ways.

The clients: ``HttpClient``, ``SoapClient`` and ``push_receiver`` meet the same
documents from a hostile server or sender and refuse them without expanding or
fetching anything.

Passwords: a server with ``--access-log`` serves sends with plain and MD5
passwords by GET and POST; neither appears in its output or its journal, in
whatever encoding a SOAP body carries it, nor in the clients' exception
messages.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from decimal import Decimal
from urllib.parse import quote_plus
from xml.sax.saxutils import escape

import pytest
import requests
from lxml import etree
from werkzeug.test import Client

from ipyy_client import HttpClient, SoapClient
from ipyy_client.encoding import encode_content, md5_password
from ipyy_client.errors import IpyyError, PasswordError, ProtocolError, TransportError
from ipyy_client.push import push_receiver
from ipyy_mock.app import create_app
from ipyy_mock.server.limits import DEFAULT_MAX_BODY
from support import soapraw
from support.mockproc import MockProcess
from support.net import free_port
from support.tinyserver import TinyServer, http_reply

SOAP11, SOAP12, TNS = soapraw.SOAP11, soapraw.SOAP12, soapraw.TNS
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
FORM = "application/x-www-form-urlencoded"
FAST = 3.0  # seconds: "rejected fast" (a billion laughs expanded would take far longer, or forever)
#: ASMX's reply and Fault content types (docs/contract.md §2): no ``action`` parameter.
CONTENT_TYPE = {11: "text/xml; charset=utf-8", 12: "application/soap+xml; charset=utf-8"}
#: How ASMX routes a request: on its action (SOAPAction for SOAP 1.1, the ``action`` parameter for 1.2), or, with
#: none, on the body's first element, which it reads for that before anything else (GetRequestElement).
ROUTES = ["action", "body"]
UNABLE_TO_PROCESS = "Server was unable to process request. ---> "  # a routing error: soap:Server / soap:Receiver
UNABLE_TO_READ = "Server was unable to read request. ---> "  # a reading error: soap:Client / soap:Sender
#: XmlTextReader (v1Compat) with DtdProcessing.Prohibit: Res.Xml_DtdIsProhibited, thrown without line info.
DTD_PROHIBITED = "DTD is prohibited in this XML document."

# Every form endpoint: (path, what its parameter error looks like)
ASPX = {
    "send": "/I18NSms.aspx",
    "overage": "/I18NSms.aspx",
    "status": "/statusApi.aspx",
    "status_json": "/statusJsonApi.aspx",
    "call": "/callApi.aspx",
    "call_json": "/callJsonApi.aspx",
    "pwd": "/pwd.aspx",
}


# --------------------------------------------------------------------------- helpers


def parse_xml(body: bytes) -> etree._Element:
    """Parse a reply the safe way; the reply itself must never carry a DTD."""
    assert b"<!DOCTYPE" not in body.upper(), body[:300]
    root = etree.fromstring(body, SAFE)
    assert root.getroottree().docinfo.internalDTD is None
    return root


def fault(reply, version: int) -> tuple[str, str]:
    """(code, reason) of a SOAP Fault as ASMX writes it in ``version``: HTTP 500, ASMX's content type, the error's
    ``Cache-Control``, the Fault in the Body and its empty detail element."""
    assert reply.status_code == 500, (reply.status_code, reply.content[:300])
    assert reply.headers["Content-Type"] == CONTENT_TYPE[version], reply.headers["Content-Type"]
    assert reply.headers.get("Cache-Control") == "private"
    root = parse_xml(reply.content)
    ns = SOAP12 if version == 12 else SOAP11
    assert root.tag == f"{{{ns}}}Envelope", root.tag
    node = root.find(f"{{{ns}}}Body/{{{ns}}}Fault")
    assert node is not None, reply.content[:300]
    if version == 12:
        code = node.findtext(f"{{{ns}}}Code/{{{ns}}}Value") or ""
        reason = node.findtext(f"{{{ns}}}Reason/{{{ns}}}Text") or ""
        detail = node.find(f"{{{ns}}}Detail")
    else:
        code, reason, detail = node.findtext("faultcode") or "", node.findtext("faultstring") or "", node.find("detail")
    assert detail is not None and len(detail) == 0 and not (detail.text or "").strip(), reply.content[:500]
    return code, reason


def empty(reply, status: int, version: int) -> None:
    """ASMX's 400 (an XML error once routed) or 415 (not a SOAP content type once routed): the status, no body at
    all, and the content type of the version ASMX had settled on by then."""
    assert reply.status_code == status, (reply.status_code, reply.content[:300])
    assert reply.content == b"", reply.content[:300]
    assert reply.headers["Content-Type"] == CONTENT_TYPE[version], reply.headers["Content-Type"]


def vendor_reply(endpoint: str, body: bytes, ctype: str) -> dict:
    """Parse an .aspx reply in its own format into a dict (XML: child tags → text; JSON: as is)."""
    if endpoint.endswith("_json"):
        assert ctype.startswith("application/json"), ctype
        data = json.loads(body.decode("utf-8"))
        assert isinstance(data, dict) and "error" in data, data
        return data
    assert ctype.startswith("text/xml"), ctype
    root = parse_xml(body)
    assert root.tag == "returnsms"
    out = {c.tag: (c.text or "") for c in root}
    if (box := root.find("errorstatus")) is not None:
        out["errorstatus"] = {c.tag: (c.text or "") for c in box}
    return out


def is_param_error(endpoint: str, reply: dict) -> bool:
    """The endpoint's documented answer to a parameter it cannot read."""
    if endpoint.endswith("_json"):
        return reply["error"] == "1001" and reply["remark"] == "参数不正确"
    if endpoint in ("status", "call"):
        return reply.get("errorstatus", {}).get("error") == "4"
    return reply.get("returnstatus") == "Faild" and reply.get("message") == "参数错误"


def task_count(server: MockProcess, account: str) -> int:
    store = server.platform().store
    try:
        return store.db.execute("SELECT count(*) FROM tasks WHERE account=?", (account,)).fetchone()[0]
    finally:
        store.close()


def stored_content(server: MockProcess, task_id: int) -> str:
    store = server.platform().store
    try:
        return store.get_task(task_id)["content"]
    finally:
        store.close()


def params(endpoint: str, acct, **extra) -> dict[str, str]:
    base = {"userid": "", "account": acct.name, "password": md5_password(acct.password)}
    base["action"] = {"send": "send", "overage": "overage", "pwd": ""}.get(endpoint, "query")
    if endpoint == "send":
        base.update(mobile="8613800138000", code="8", content=encode_content("你好【华信】"), sendTime="", extno="")
    if endpoint == "pwd":
        del base["action"]
        base["newpassword"] = acct.password
    base.update(extra)
    return base


def hostile_documents(root_open: str, root_close: str, slot_body: str, url: str) -> dict[str, bytes]:
    """XML attacks on one document shape; ``@@`` in ``slot_body`` is where the entity reference goes.

    ``url`` is a sentinel server: if anything is ever fetched it sees a connection.
    """
    lol = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    subsets = {
        "internal entity": ('<!ENTITY e "EXPANDED">', "&e;"),
        "external file entity": ('<!ENTITY e SYSTEM "file:///etc/passwd">', "&e;"),
        "external http entity": (f'<!ENTITY e SYSTEM "{url}/entity">', "&e;"),
        "parameter entity (external)": (f'<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;', "&leak;"),
        "parameter entity (internal)": ("<!ENTITY % q \"<!ENTITY leak2 'PARAM'>\"> %q;", "&leak2;"),
        "billion laughs": (lol, "&lol9;"),
        "quadratic blowup": (f'<!ENTITY a "{"A" * 50_000}">', "&a;" * 2_000),
    }
    docs: dict[str, bytes] = {}
    decl = '<?xml version="1.0" encoding="utf-8"?>'
    for name, (subset, ref) in subsets.items():
        docs[name] = (f"{decl}<!DOCTYPE r [{subset}]>{root_open}{slot_body.replace('@@', ref)}{root_close}").encode(
            "utf-8"
        )
    docs["external DTD"] = (
        f'{decl}<!DOCTYPE r SYSTEM "{url}/ext.dtd">{root_open}{slot_body.replace("@@", "&leak;")}{root_close}'
    ).encode("utf-8")
    docs["lowercase doctype"] = docs["internal entity"].replace(b"<!DOCTYPE", b"<!doctype")
    text16 = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY e "EXPANDED">]>'
        f"{root_open}{slot_body.replace('@@', '&e;')}{root_close}"
    )
    docs["utf-16le without BOM"] = text16.encode("utf-16-le")
    docs["utf-16 with BOM"] = text16.encode("utf-16")
    return docs


#: What an expanded or fetched entity would put into a reply. (A client's error message may quote the
#: start of the refused document, so for clients only what the document itself does not contain counts.)
LEAKS = (b"EXPANDED", b"PARAM", b"lollollol", b"A" * 150, b"root:x:0", b"LEAKED")
FETCHED = (b"root:x:0", b"LEAKED", b"lollollol", b"A" * 150)


def assert_no_leak(body: bytes, leaks: tuple[bytes, ...] = LEAKS) -> None:
    for leak in leaks:
        assert leak not in body, (leak, body[:300])


@pytest.fixture(scope="module")
def sentinel():
    """Counts connections: an entity or DTD fetched from it would show up here."""
    with TinyServer(default=http_reply(b'<!ENTITY leak "LEAKED">', ctype="application/xml-dtd")) as server:
        yield server


@pytest.fixture(autouse=True)
def nothing_fetched(request):
    """After every test of this module: nobody fetched from the sentinel."""
    yield
    if "sentinel" in request.fixturenames:
        sentinel = request.getfixturevalue("sentinel")
        time.sleep(0.05)
        assert sentinel.connections == 0, sentinel.requests


def soap_documents(acct, url: str, version: int) -> dict[str, bytes]:
    ns = SOAP12 if version == 12 else SOAP11
    root_open = f'<soap:Envelope xmlns:soap="{ns}">'
    body = (
        f'<soap:Body><SendI18NSms xmlns="{TNS}"><userName>{escape(acct.name)}</userName>'
        f"<password>{escape(acct.password)}</password><sms><Msisdns>8613800138000</Msisdns>"
        "<SMSContent>@@【华信】</SMSContent></sms></SendI18NSms></soap:Body>"
    )
    return hostile_documents(root_open, "</soap:Envelope>", body, url)


def soap_post(
    base_url: str,
    body: bytes,
    version: int,
    ctype: str | None = None,
    route: str = "body",
    op: str = "SendI18NSms",
    **headers,
) -> requests.Response:
    """POST ``body`` as a SOAP ``version`` caller would (``ctype`` overrides the content type); ``route``
    "action" names ``op`` (SOAPAction for 1.1, the ``action`` parameter for 1.2), "body" names nothing."""
    if ctype is None:
        ctype = "application/soap+xml; charset=utf-8" if version == 12 else "text/xml; charset=utf-8"
    if route == "action":
        if version == 11:
            headers.setdefault("SOAPAction", f'"{TNS}{op}"')
        else:
            ctype += f'; action="{TNS}{op}"'
    return requests.post(
        base_url + "/WebService.asmx", data=body, headers={"Content-Type": ctype, **headers}, timeout=30
    )


# --------------------------------------------------------------------------- SOAP

NAMES = list(hostile_documents("<r>", "</r>", "@@", "http://x"))
#: The documents whose first XML error is their DTD: all but UTF-16 without a byte-order mark, which read in the
#: stated UTF-8 is a NUL after every character. (XmlTextReader takes any ``<!`` in the prolog that opens no comment
#: for a DOCTYPE and refuses it before reading on, so ``<!doctype`` is the DTD error too.)
DTD_FIRST = [name for name in NAMES if name != "utf-16le without BOM"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("version", [11, 12])
@pytest.mark.parametrize("name", NAMES)
def test_soap_dtd_attacks_are_refused_never_expanded(mock_server, account, sentinel, version, route, name):
    body = soap_documents(account, sentinel.base_url, version)[name]
    started = time.monotonic()
    reply = soap_post(mock_server.base_url, body, version, route=route)
    assert time.monotonic() - started < FAST
    if route == "action":  # routed without reading the body: the XML error is met reading the parameters
        empty(reply, 400, version)
    else:
        # routing reads the body for its element and meets the error first: a Receiver Fault, in SOAP 1.2 (how ASMX
        # routes a request without SOAPAction), since the error comes before the envelope says its version
        code, reason = fault(reply, 12)
        assert code == "soap:Receiver", code
        assert reason.startswith(UNABLE_TO_PROCESS), reason
        assert (DTD_PROHIBITED in reason) == (name in DTD_FIRST), reason
    assert_no_leak(reply.content)
    assert task_count(mock_server, account.name) == 0
    assert mock_server.balance(account.name) == Decimal("100.00")


@pytest.mark.parametrize("version", [11, 12])
def test_a_dtd_met_while_routing_is_refused_in_dotnets_words(mock_server, account, sentinel, version):
    """ASMX reads with an XmlTextReader (v1Compat), whose DtdProcessing.Prohibit throws Res.Xml_DtdIsProhibited
    without line info; the Fault's text is the messages joined by `` ---> `` (docs/contract.md §2)."""
    body = soap_documents(account, sentinel.base_url, version)["internal entity"]
    code, reason = fault(soap_post(mock_server.base_url, body, version, route="body"), 12)
    assert (code, reason) == ("soap:Receiver", UNABLE_TO_PROCESS + DTD_PROHIBITED)


@pytest.mark.parametrize("version", [11, 12])
def test_soap_xinclude_and_processing_instructions_are_not_processed(mock_server, account, sentinel, version):
    ns = SOAP12 if version == 12 else SOAP11
    include = f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{sentinel.base_url}/inc" parse="text"/>'

    def envelope(sms: str) -> bytes:
        return (
            f'<?xml version="1.0" encoding="utf-8"?><?xml-stylesheet href="{sentinel.base_url}/s.xsl"?>'
            f'<soap:Envelope xmlns:soap="{ns}"><soap:Body><SendI18NSms xmlns="{TNS}">'
            f"<userName>{account.name}</userName><password>{account.password}</password>"
            f"<sms>{sms}</sms></SendI18NSms></soap:Body></soap:Envelope>"
        ).encode("utf-8")

    # inside a string member: XmlSerializer's ReadElementString refuses an element there, an XML error (400)
    inside = envelope(f"<Msisdns>8613800138000</Msisdns><SMSContent>x{include}【华信】</SMSContent>")
    empty(soap_post(mock_server.base_url, inside, version, route="action"), 400, version)
    assert task_count(mock_server, account.name) == 0
    # beside the members: an element XmlSerializer does not know is skipped unread, the stylesheet PI ignored
    beside = envelope(f"<Msisdns>8613800138000</Msisdns>{include}<SMSContent>x【华信】</SMSContent>")
    result = soapraw.parse_result(soap_post(mock_server.base_url, beside, version, route="action"))
    assert result.status == "OK", result
    assert stored_content(mock_server, result.msg_id) == "x【华信】"
    assert task_count(mock_server, account.name) == 1


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("version", [11, 12])
def test_truncated_envelopes_are_never_executed(mock_server, account, version, route):
    whole = soapraw.envelope(
        "SendI18NSms", account.name, account.password, "8613800138000", "截断【华信】", version=version
    )
    root_read = whole.index(b">", whole.index(b"<soap:Envelope")) + 1  # the reader has the envelope's start tag
    routed = whole.index(b">", whole.index(b"<SendI18NSms")) + 1  # ... and the body's element: routing is done
    cuts = sorted(
        {*range(1, len(whole), max(1, len(whole) // 25)), root_read - 1, root_read, routed - 1, routed}
        | {len(whole) - 1, len(whole) - 2}
    )
    for cut in cuts:
        reply = soap_post(mock_server.base_url, whole[:cut], version, route=route)
        if route == "action" or cut >= routed:
            empty(reply, 400, version)
        else:  # the break is in what routing reads: the Fault is in the envelope's version once its root was read
            in_version = version if cut >= root_read else 12
            code, reason = fault(reply, in_version)
            assert code == ("soap:Receiver" if in_version == 12 else "soap:Server"), (cut, code)
            assert reason.startswith(UNABLE_TO_PROCESS), (cut, reason)
    assert task_count(mock_server, account.name) == 0
    assert mock_server.balance(account.name) == Decimal("100.00")
    assert soapraw.parse_result(soap_post(mock_server.base_url, whole, version, route=route)).status == "OK"
    assert task_count(mock_server, account.name) == 1


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("version", [11, 12])
def test_no_envelope_or_no_body_is_a_fault(mock_server, account, version, route):
    ns = SOAP12 if version == 12 else SOAP11
    missing_body = "Request format is invalid: Missing required soap:Body element."
    cases = {
        "no Body": (f'<soap:Envelope xmlns:soap="{ns}"><soap:Header/></soap:Envelope>', missing_body),
        "empty Envelope": (f'<soap:Envelope xmlns:soap="{ns}"/>', missing_body),
        "misspelled Envelope": (
            f'<soap:Envelop xmlns:soap="{ns}"><soap:Body/></soap:Envelop>',
            "Request format is invalid: Missing required soap:Envelope element.",
        ),
    }
    for name, (document, message) in cases.items():
        body = f'<?xml version="1.0" encoding="utf-8"?>{document}'.encode()
        code, reason = fault(soap_post(mock_server.base_url, body, version, route=route), version)
        if route == "action":  # routed; reading the request finds no body: the caller's error
            expected = ("soap:Sender" if version == 12 else "soap:Client", UNABLE_TO_READ + message)
        else:  # routing looked for the body's element
            expected = ("soap:Receiver" if version == 12 else "soap:Server", UNABLE_TO_PROCESS + message)
        assert (code, reason) == expected, name
    assert task_count(mock_server, account.name) == 0


def test_the_envelopes_namespace_decides_the_soap_version(mock_server, account):
    """docs/contract.md §2: a SOAP 1.2 envelope sent as text/xml is answered as SOAP 1.2; a SOAP 1.1 envelope sent
    as application/soap+xml is 415 with an empty body (SOAP 1.1 takes text/xml only)."""
    v12 = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "版本【华信】", version=12)
    reply = soap_post(mock_server.base_url, v12, 11, route="action")
    assert reply.status_code == 200 and reply.headers["Content-Type"] == CONTENT_TYPE[12], reply.content[:300]
    assert parse_xml(reply.content).tag == f"{{{SOAP12}}}Envelope"
    assert soapraw.parse_result(reply).status == "OK"
    assert task_count(mock_server, account.name) == 1
    v11 = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "版本【华信】", version=11)
    for route in ROUTES:
        empty(soap_post(mock_server.base_url, v11, 12, route=route), 415, 11)
    assert task_count(mock_server, account.name) == 1
    assert mock_server.balance(account.name) == Decimal("99.95")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("version", [11, 12])
def test_an_envelope_in_no_soap_namespace_is_a_version_mismatch(mock_server, account, version, route):
    body = soapraw.envelope(
        "SendI18NSms", account.name, account.password, "8613800138000", "x【华信】", version=version
    )
    body = body.replace((SOAP12 if version == 12 else SOAP11).encode(), b"urn:not-soap")
    reply = soap_post(mock_server.base_url, body, version, route=route)
    code, reason = fault(reply, 11)  # ASMX answers an envelope it does not know in SOAP 1.1
    assert code == "soap:VersionMismatch"
    assert reason == (
        "Possible SOAP version mismatch: Envelope namespace urn:not-soap was unexpected. Expecting " + SOAP11 + "."
    )
    upgrade = parse_xml(reply.content).find(f"{{{SOAP11}}}Header/{{{SOAP12}}}Upgrade")
    assert upgrade is not None, reply.content[:500]
    assert [e.get("qname") for e in upgrade.iter(f"{{{SOAP12}}}SupportedEnvelope")] == [
        "soap:Envelope",
        "soap12:Envelope",
    ]
    assert task_count(mock_server, account.name) == 0


NOT_SOAP = ["application/json", "text/plain", "", "multipart/form-data; boundary=x", FORM, "application/xml"]


@pytest.mark.parametrize("soapaction", [True, False], ids=["soapaction", "no-soapaction"])
@pytest.mark.parametrize("ctype", NOT_SOAP)
def test_a_content_type_that_is_not_soap_is_an_empty_415_once_routed(mock_server, account, ctype, soapaction):
    body = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "x【华信】")
    headers = {"Content-Type": ctype} if ctype else {}
    if soapaction:
        headers["SOAPAction"] = f'"{TNS}SendI18NSms"'
    reply = requests.post(mock_server.base_url + "/WebService.asmx", data=body, headers=headers, timeout=30)
    assert reply.status_code == 415 and reply.content == b"", (reply.status_code, reply.content[:300])
    assert reply.headers["Content-Type"] in CONTENT_TYPE.values()
    assert task_count(mock_server, account.name) == 0


@pytest.mark.parametrize("soapaction", [True, False], ids=["soapaction", "no-soapaction"])
def test_a_415_has_the_content_type_of_the_version_asmx_routed_with(mock_server, account, soapaction):
    """ReadParameters refuses the content type before it reads the envelope's namespace (SetHelper), and a request
    routed without error keeps the helper GuessVersion chose: SOAP 1.1 with a SOAPAction, SOAP 1.2 without one. So
    the empty 415 is text/xml with a SOAPAction and application/soap+xml without (the oracle answers the same)."""
    body = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "x【华信】")
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    if soapaction:
        headers["SOAPAction"] = f'"{TNS}SendI18NSms"'
    reply = requests.post(mock_server.base_url + "/WebService.asmx", data=body, headers=headers, timeout=30)
    empty(reply, 415, 11 if soapaction else 12)


def test_routing_comes_before_the_content_type(mock_server, account):
    """The 415 comes only once routed: a request ASMX cannot route is the routing Fault, whatever its type."""
    body = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "x【华信】")
    reply = requests.post(
        mock_server.base_url + "/WebService.asmx",
        data=body,
        headers={"Content-Type": "text/plain", "SOAPAction": f'"{TNS}GetBalance"'},
        timeout=30,
    )
    assert fault(reply, 11) == (
        "soap:Client",
        f"Server did not recognize the value of HTTP Header SOAPAction: {TNS}GetBalance.",
    )
    # no SOAPAction and a form body: routing reads the body for its element and finds no XML at all
    reply = requests.post(
        mock_server.base_url + "/WebService.asmx",
        data=f"userName={account.name}&password={account.password}".encode(),
        headers={"Content-Type": FORM},
        timeout=30,
    )
    assert fault(reply, 12) == (
        "soap:Receiver",
        UNABLE_TO_PROCESS + "Data at the root level is invalid. Line 1, position 1.",
    )
    assert account.password not in reply.text
    assert task_count(mock_server, account.name) == 0


def test_a_body_is_read_in_the_charset_its_content_type_names(mock_server, account):
    """docs/contract.md §2 "Encodings": the Content-Type's charset decides (the declaration is then ignored);
    text/xml without one is US-ASCII; bytes not valid in the charset are U+FFFD. A text that loses its signature on
    the way is a refusal like any other, not a Fault: nothing stored, nothing charged."""
    utf8 = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "x【华信】")
    for ctype in ("text/xml; charset=iso-8859-1", "text/xml"):  # UTF-8 read as Latin-1, and as US-ASCII
        result = soapraw.parse_result(soap_post(mock_server.base_url, utf8, 11, ctype=ctype, route="action"))
        assert (result.status, result.msg_id, result.billing_amount) == ("RequiredSuffix", 0, 0), (ctype, result)
        assert result.balance == Decimal("100.00")
    assert task_count(mock_server, account.name) == 0
    assert mock_server.balance(account.name) == Decimal("100.00")
    # Latin-1 text in the charset that says so arrives whole (the declaration's utf-8 is not looked at)
    latin = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "café [HX]")
    reply = soap_post(
        mock_server.base_url, latin.decode().encode("latin-1"), 11, "text/xml; charset=iso-8859-1", "action"
    )
    result = soapraw.parse_result(reply)
    assert result.status == "OK", result
    assert stored_content(mock_server, result.msg_id) == "café [HX]"
    # bytes that are not UTF-8 under charset=utf-8 (an encoded surrogate, a lone 0xFF) are each U+FFFD: the send is
    # made with them, as ASMX's decoder reads them
    broken = utf8.replace(b"x\xe3", b"a\xed\xa0\x80b\xff\xe3")
    result = soapraw.parse_result(soap_post(mock_server.base_url, broken, 11, route="action"))
    assert result.status == "OK", result
    assert re.fullmatch("a\ufffd+b\ufffd【华信】", stored_content(mock_server, result.msg_id))
    assert task_count(mock_server, account.name) == 2


def test_utf16_without_a_byte_order_mark_is_read_in_the_charset_it_is_sent_with(mock_server, account):
    """UTF-16 bytes with no byte-order mark, labelled UTF-8 (or text/xml with no charset, US-ASCII): ASMX's
    StreamReader reads them in that charset (no mark to override it; the declaration's utf-16 is not looked at), a
    NUL after every character: not XML, so 400 and nothing sent. The same bytes labelled UTF-16 are a send like any
    other."""
    text = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "编码【华信】").decode()
    body = text.replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16-le")
    empty(soap_post(mock_server.base_url, body, 11, route="action"), 400, 11)
    empty(soap_post(mock_server.base_url, body, 11, "text/xml", "action"), 400, 11)  # no charset: US-ASCII, the same
    assert task_count(mock_server, account.name) == 0
    assert mock_server.balance(account.name) == Decimal("100.00")
    result = soapraw.parse_result(soap_post(mock_server.base_url, body, 11, "text/xml; charset=utf-16", "action"))
    assert result.status == "OK", result
    assert stored_content(mock_server, result.msg_id) == "编码【华信】"
    assert task_count(mock_server, account.name) == 1


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("version", [11, 12])
def test_nul_and_control_characters_in_soap_are_an_empty_400(mock_server, account, version, route):
    """Characters XML 1.0 forbids, raw or as references: ASMX's reader (Normalization on) refuses them, an XML error
    inside the body's element, so 400 with an empty body whichever way the request was routed."""
    base = soapraw.envelope(
        "SendI18NSms", account.name, account.password, "8613800138000", "Z【华信】", version=version
    )
    for bad in (b"\x00", b"&#0;", b"\x01", b"&#1;", b"\x1f", b"&#x1F;", b"&#xFFFE;", b"&#xD800;"):
        reply = soap_post(mock_server.base_url, base.replace(b"Z", b"a" + bad + b"b"), version, route=route)
        empty(reply, 400, version)
    assert task_count(mock_server, account.name) == 0


def cut_short(port: int, head: bytes, body: bytes, missing: int = 10) -> int:
    """Announce ``missing`` bytes more than ``body`` holds, send it, and (when some are missing) close the sending
    side, as a caller that died mid-send; the reply's status."""
    length = f"\r\nContent-Length: {len(body) + missing}\r\nConnection: close\r\n\r\n"
    head = head.replace(b"\r\n\r\n", length.encode(), 1)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        if missing:
            sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


@pytest.mark.parametrize("surface", ["soap11", "soap12", "send"])
def test_a_body_cut_short_of_its_content_length_is_never_executed(mock_server, account, surface):
    """A whole request with its last bytes missing (the caller died mid-send): refused, nothing sent or charged."""
    if surface == "send":
        body = "&".join(f"{k}={v}" for k, v in params("send", account).items()).encode()
        head = f"POST /I18NSms.aspx HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\n\r\n".encode()
    else:
        version = 12 if surface == "soap12" else 11
        body = soapraw.envelope(
            "SendI18NSms", account.name, account.password, "8613800138000", "半途【华信】", version=version
        )
        ctype = CONTENT_TYPE[version] + (f'; action="{TNS}SendI18NSms"' if version == 12 else "")
        action = f'SOAPAction: "{TNS}SendI18NSms"\r\n' if version == 11 else ""
        head = f"POST /WebService.asmx HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n{action}\r\n".encode()
    status = cut_short(mock_server.port, head, body)
    assert status == 400, status
    time.sleep(0.1)
    assert task_count(mock_server, account.name) == 0
    assert mock_server.balance(account.name) == Decimal("100.00")
    assert cut_short(mock_server.port, head, body, missing=0) == 200  # the same request whole is served
    assert task_count(mock_server, account.name) == 1


# --------------------------------------------------------------------------- .aspx


@pytest.mark.parametrize("endpoint", list(ASPX))
def test_aspx_endpoints_ignore_xml_bodies_and_answer_in_format(mock_server, account, sentinel, endpoint):
    """The .aspx endpoints read forms, not XML: a hostile XML body is just a missing-parameters request."""
    docs = hostile_documents(
        "<returnsms>", "</returnsms>", "<statusbox><mobile>@@</mobile></statusbox>", sentinel.base_url
    )
    for name, body in docs.items():
        reply = requests.post(
            mock_server.base_url + ASPX[endpoint],
            data=body,
            headers={"Content-Type": "text/xml; charset=utf-8"},
            timeout=30,
        )
        assert reply.status_code == 200, (name, reply.status_code)
        vendor_reply(endpoint, reply.content, reply.headers["Content-Type"])
        assert_no_leak(reply.content)


@pytest.mark.parametrize("endpoint", list(ASPX))
def test_xml_attacks_inside_parameters_are_plain_text(mock_server, account, sentinel, endpoint):
    attack = hostile_documents("<r>", "</r>", "@@", sentinel.base_url)["billion laughs"].decode()
    for field in ("account", "mobile", "extno", "statusNum", "taskid", "newpassword", "action"):
        reply = requests.post(
            mock_server.base_url + ASPX[endpoint], data=params(endpoint, account, **{field: attack}), timeout=30
        )
        assert reply.status_code == 200
        vendor_reply(endpoint, reply.content, reply.headers["Content-Type"])
        assert_no_leak(reply.content)
    content = requests.post(
        mock_server.base_url + "/I18NSms.aspx",
        timeout=30,
        data=params("send", account, content=encode_content(attack + "【华信】")),
    )
    assert vendor_reply("send", content.content, content.headers["Content-Type"])["returnstatus"] in (
        "Success",
        "Faild",
    )
    assert mock_server.account(account.name).password == account.password  # no junk password got through


NON_UTF8 = {  # (method, bytes added to the query or form; the account's own name follows them)
    "raw 0xFF in the query": ("GET", b"&userid=de\xffmo"),
    "percent-encoded 0xFF 0xFE": ("GET", b"&userid=%FF%FEdemo"),
    "overlong encoding": ("GET", b"&extno=%C0%B1"),
    "encoded surrogate": ("GET", b"&userid=%ED%A0%80"),
    "raw 0xFF in a form": ("POST", b"&userid=de\xffmo"),
    "latin-1 form": ("POST", "&userid=café".encode("latin-1")),
    "truncated UTF-8 sequence": ("POST", b"&userid=%E4%BD"),
}


@pytest.mark.parametrize("endpoint", list(ASPX))
@pytest.mark.parametrize("case", list(NON_UTF8))
def test_non_utf8_parameters_are_a_param_error_not_garbled(mock_server, account, endpoint, case):
    """Garbled into U+FFFD they would pass (userid is not even checked): refused instead, in format."""
    method, extra = NON_UTF8[case]
    base = "&".join(f"{k}={v}" for k, v in params(endpoint, account).items() if k != "userid").encode()
    if method == "GET":
        status, headers, body = raw_http(
            mock_server.port,
            b"GET "
            + ASPX[endpoint].encode()
            + b"?"
            + base
            + extra
            + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        if b"\xff" in extra:  # not HTTP (a request line is ASCII): gunicorn answers 400 itself; the app:
            assert status == 400
            reply = Client(create_app(str(mock_server.db_path))).get(
                ASPX[endpoint], environ_overrides={"QUERY_STRING": (base + extra).decode("latin-1")}
            )
            status, headers, body = reply.status_code, {"content-type": reply.content_type}, reply.get_data()
    else:
        reply = requests.post(
            mock_server.base_url + ASPX[endpoint], data=base + extra, headers={"Content-Type": FORM}, timeout=30
        )
        status, headers, body = reply.status_code, {k.lower(): v for k, v in reply.headers.items()}, reply.content
    assert status == 200, body[:300]
    reply_fields = vendor_reply(endpoint, body, headers["content-type"])
    assert is_param_error(endpoint, reply_fields), reply_fields
    if endpoint == "overage":
        assert list(reply_fields) == ["returnstatus", "message", "payinfo", "balance"]
    assert task_count(mock_server, account.name) == 0
    assert mock_server.account(account.name).password == account.password


def test_non_utf8_multipart_is_a_param_error(mock_server, account):
    form = params("send", account)
    form["content"] = encode_content("x【华信】")
    form.pop("extno", None)  # given once, below (a repeated one would be joined with a comma, as ASP.NET does)
    boundary = "XyZ"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in form.items()
    ]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="extno"\r\n\r\n'.encode() + b"\xff\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    reply = requests.post(
        mock_server.base_url + "/I18NSms.aspx",
        data=body,
        timeout=30,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert is_param_error("send", vendor_reply("send", reply.content, reply.headers["Content-Type"]))
    # the same form as valid UTF-8 multipart is served
    body = body.replace(b"\xff", b"")
    reply = requests.post(
        mock_server.base_url + "/I18NSms.aspx",
        data=body,
        timeout=30,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert vendor_reply("send", reply.content, reply.headers["Content-Type"])["returnstatus"] == "Success"


def test_too_many_multipart_parts_is_413_in_format(mock_server, account):
    files = {f"x{i}": (None, "1") for i in range(1100)}  # werkzeug stops at 1000 parts
    files.update({k: (None, v) for k, v in params("send", account).items()})
    reply = requests.post(mock_server.base_url + "/I18NSms.aspx", files=files, timeout=30)
    assert reply.status_code == 413
    assert vendor_reply("send", reply.content, reply.headers["Content-Type"])["returnstatus"] == "Faild"
    assert task_count(mock_server, account.name) == 0


def test_repeated_parameters_are_joined_with_commas_query_before_form(mock_server, account):
    """ASP.NET's Request["name"]: a parameter given twice is one comma-joined value; the query string is read
    before the form. Either is accepted with a param-repeated warning."""
    url = mock_server.base_url + "/I18NSms.aspx"
    good = params("overage", account)
    joined = requests.get(
        url + f"?action=overage&account={account.name}&account=nobody&password={good['password']}", timeout=30
    )
    assert vendor_reply("send", joined.content, joined.headers["Content-Type"])["message"] == "用户名或密码错误"
    mixed = requests.post(
        url + f"?account={account.name}",
        timeout=30,
        data={"action": "overage", "account": "nobody", "password": good["password"]},
    )
    assert vendor_reply("send", mixed.content, mixed.headers["Content-Type"])["returnstatus"] == "Success"
    two = requests.post(
        url + "?mobile=8613800138000", timeout=30, data={**params("send", account), "mobile": "8613900139000"}
    )
    assert vendor_reply("send", two.content, two.headers["Content-Type"])["successCounts"] == "1"  # query's
    both = requests.post(
        url, timeout=30, data=[*params("send", account, mobile="8613800138000").items(), ("mobile", "8613900139000")]
    )
    assert vendor_reply("send", both.content, both.headers["Content-Type"])["successCounts"] == "2"


def test_ten_thousand_commas_in_mobile(mock_server, account):
    url = mock_server.base_url + "/I18NSms.aspx"
    only_commas = requests.post(url, data=params("send", account, mobile="," * 10_000), timeout=30)
    assert vendor_reply("send", only_commas.content, only_commas.headers["Content-Type"])["message"] == "手机号码为空"
    one = requests.post(
        url, data=params("send", account, mobile="," * 5_000 + "8613800138000" + "," * 5_000), timeout=30
    )
    reply = vendor_reply("send", one.content, one.headers["Content-Type"])
    assert reply["returnstatus"] == "Success" and reply["successCounts"] == "1"
    assert task_count(mock_server, account.name) == 1


def test_huge_parameter_values(mock_server, account):
    url = mock_server.base_url + "/I18NSms.aspx"
    cases = {
        "content": encode_content("长" * 300_000 + "【华信】"),  # 1.2 MB of hex: ContentLong
        "mobile": "8" * 1_000_000,  # not a number
        "extno": "1" * 1_000_000,
        "account": "a" * 1_000_000,
        "password": "p" * 1_000_000,
        "sendTime": "2" * 1_000_000,
        "userid": "u" * 1_000_000,
    }
    expected = {
        "content": "内容太长",
        "mobile": "错误的手机号码",
        "extno": "扩展错误",
        "account": "用户名或密码错误",
        "password": "用户名或密码错误",
        "sendTime": "参数错误",
        "userid": "操作成功",
    }
    for name, value in cases.items():
        started = time.monotonic()
        reply = requests.post(url, data=params("send", account, **{name: value}), timeout=30)
        assert time.monotonic() - started < FAST, name
        assert vendor_reply("send", reply.content, reply.headers["Content-Type"])["message"] == expected[name], name
    assert task_count(mock_server, account.name) == 1  # only the huge userid (not checked on send) went out


def test_nul_bytes_in_parameters(mock_server, account):
    url = mock_server.base_url + "/I18NSms.aspx"

    def send(**extra):
        reply = requests.post(url, data=params("send", account, **extra), timeout=30)
        return vendor_reply("send", reply.content, reply.headers["Content-Type"])

    assert send(account=account.name + "\x00")["message"] == "用户名或密码错误"
    assert send(password=md5_password(account.password) + "\x00")["message"] == "用户名或密码错误"
    assert send(mobile="8613800138000\x00")["message"] == "错误的手机号码"
    assert send(extno="12\x00")["message"] == "扩展错误"
    assert send(sendTime="2030-01-01 00:00:00\x00")["message"] == "参数错误"
    assert task_count(mock_server, account.name) == 0
    nul_text = "a\x00b【华信】"
    ok = send(content=encode_content(nul_text))  # UTF-16 hex can carry U+0000: stored exactly, not truncated
    assert ok["returnstatus"] == "Success"
    store = mock_server.platform().store
    assert store.get_task(int(ok["taskID"]))["content"] == nul_text
    store.close()
    # a password SOAP (XML) could never carry is refused, and the old one keeps working
    pwd = requests.post(
        mock_server.base_url + "/pwd.aspx", data=params("pwd", account, newpassword="ab\x00cd"), timeout=30
    )
    assert vendor_reply("pwd", pwd.content, pwd.headers["Content-Type"])["message"] == "参数错误"
    assert mock_server.account(account.name).password == account.password


TRICKY_TEXTS = {
    "emoji": "验证码 👋🏽👨‍👩‍👧 🇨🇳【华信】",
    "arabic rtl": "رمز التحقق ١٢٣٤【华信】",
    "hebrew with bidi controls": "\u202eשלום\u202c \u200f123\u200e【华信】",
    "markup": "<script>alert('x')</script> & \"quotes\" ]]> &amp;【华信】",
    "supplementary cjk": "𠀀𪚥𩸽【华信】",
    "combining": "e\u0301\u0308 Z\u0351\u0358【华信】",
}


@pytest.mark.parametrize("name", list(TRICKY_TEXTS))
def test_emoji_rtl_and_markup_round_trip_on_every_send_surface(mock_server, account, name):
    text = TRICKY_TEXTS[name]
    sent: list[tuple[int, Decimal]] = []
    with HttpClient(account.name, account.password, base_url=mock_server.base_url) as http:
        result = http.send(["8613800138000"], text).raise_for_status()
        sent.append((result.task_id, result.billing_amount))
    for version in (11, 12):
        with SoapClient(account.name, account.password, mock_server.base_url, soap_version=version) as soap:
            for op in (soap.send_sms, soap.send_i18n_sms, soap.send_hybrid_sms):
                result = op(["8613800138000"], text).raise_for_status()
                assert result.msg_id == str(result.task_id), result  # MsgId: the task id as a decimal string
                sent.append((result.task_id, result.billing_amount))
        for op in ("SendSms", "SendI18NSms", "SendHybridSms"):
            raw = soapraw.send(
                mock_server.base_url, account.name, account.password, "8613800138000", text, version=version, op=op
            )
            assert raw.status == "OK", raw
            sent.append((raw.msg_id, raw.billing_amount))
    store = mock_server.platform().store
    try:
        for task_id, amount in sent:
            task = store.get_task(task_id)
            assert task["content"] == text
            assert Decimal(task["billing_amount"]) == amount
    finally:
        store.close()
    assert len({t for t, _ in sent}) == len(sent)


# --------------------------------------------------------------------------- body limit (real server)

LIMIT = 65_536


@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    server = MockProcess(
        tmp_path_factory.mktemp("limit") / "mock.db", workers=1, args=("--max-body", str(LIMIT))
    ).start()
    yield server
    server.stop()


def raw_http(port: int, head: bytes, parts: list[bytes] = (), timeout: float = 10) -> tuple[int, dict, bytes]:
    """Send ``head`` then ``parts`` (ignoring a peer that stops listening), read one reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        for part in parts:
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
        data = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                head_end = data.find(b"\r\n\r\n")
                if head_end >= 0:
                    headers = _headers(data[:head_end])
                    if len(data) - head_end - 4 >= int(headers.get("content-length", "-1")) >= 0:
                        break
        except ConnectionResetError:
            pass
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    status = int(head_bytes.split(b" ", 2)[1])
    headers = _headers(head_bytes)
    return status, headers, body[: int(headers.get("content-length", len(body)))]


def _headers(head: bytes) -> dict[str, str]:
    out = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        out[name.decode().strip().lower()] = value.decode("utf-8", "replace").strip()
    return out


SURFACES = {  # name: (path, content type)
    "soap11": ("/WebService.asmx", "text/xml; charset=utf-8"),
    "soap12": ("/WebService.asmx", "application/soap+xml; charset=utf-8"),
    "send": ("/I18NSms.aspx?action=send", FORM),
    "overage": ("/I18NSms.aspx?action=overage", FORM),
    "status": ("/statusApi.aspx", FORM),
    "status_json": ("/statusJsonApi.aspx", FORM),
    "call": ("/callApi.aspx", FORM),
    "call_json": ("/callJsonApi.aspx", FORM),
    "pwd": ("/pwd.aspx", FORM),
    "admin": ("/_mock/api/uplinks", "application/json"),
}


def soapaction(name: str) -> str:
    """The SOAP 1.1 caller names its operation (without one ASMX would route it as SOAP 1.2, its guess)."""
    return f'SOAPAction: "{TNS}SendI18NSms"\r\n' if name == "soap11" else ""


def check_413(name: str, status: int, headers: dict, body: bytes) -> None:
    assert status == 413, (name, status, body[:300])
    if name.startswith("soap"):  # the mock's own limit (ASMX's is IIS's): a Fault in the caller's version
        version = 12 if name == "soap12" else 11
        ns = SOAP12 if version == 12 else SOAP11
        assert headers["content-type"] == CONTENT_TYPE[version], headers
        root = parse_xml(body)
        assert root.tag == f"{{{ns}}}Envelope", root.tag
        assert root.find(f"{{{ns}}}Body/{{{ns}}}Fault") is not None and b"too large" in body
        assert str(LIMIT).encode() in body, body
    elif name == "admin":
        assert "error" in json.loads(body)
    else:
        reply = vendor_reply(name, body, headers["content-type"])
        text = json.dumps(reply, ensure_ascii=False)
        assert str(LIMIT) in text, text
        if name == "overage":
            assert "payinfo" in reply


@pytest.mark.parametrize("name", list(SURFACES))
def test_announced_oversize_body_is_413_before_it_is_read(small_server, name):
    path, ctype = SURFACES[name]
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n{soapaction(name)}"
        f"Content-Length: {500 * 1024 * 1024}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    status, headers, body = raw_http(small_server.port, head, [b"a" * 1024])  # 1 kB of the announced 500 MB
    assert time.monotonic() - started < FAST
    check_413(name, status, headers, body)


@pytest.mark.parametrize("name", list(SURFACES))
def test_chunked_oversize_body_is_413_after_a_bounded_read(small_server, name):
    path, ctype = SURFACES[name]
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n{soapaction(name)}"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"a" * 16_384
    parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * (LIMIT // len(chunk) + 2) + [b"0\r\n\r\n"]
    check_413(name, *raw_http(small_server.port, head, parts))


def test_chunked_bodies_under_the_limit_are_served(small_server):
    acct = small_server.new_account()
    form = "&".join(f"{k}={v}" for k, v in params("send", acct).items()).encode()
    head = (
        f"POST /I18NSms.aspx HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    parts = [b"%x\r\n%s\r\n" % (len(form[i : i + 50]), form[i : i + 50]) for i in range(0, len(form), 50)]
    status, headers, body = raw_http(small_server.port, head, parts + [b"0\r\n\r\n"])
    assert status == 200 and vendor_reply("send", body, headers["content-type"])["returnstatus"] == "Success"
    envelope = soapraw.envelope("SendI18NSms", acct.name, acct.password, "8613800138000", "分块【华信】")
    head = (
        b"POST /WebService.asmx HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml; charset=utf-8\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    parts = [
        b"%x\r\n%s\r\n" % (len(envelope[i : i + 100]), envelope[i : i + 100]) for i in range(0, len(envelope), 100)
    ]
    status, _, body = raw_http(small_server.port, head, parts + [b"0\r\n\r\n"])
    assert status == 200 and b"StatusCode>OK</" in body
    assert task_count(small_server, acct.name) == 2


def test_a_body_just_under_the_limit_is_served_whole(small_server):
    acct = small_server.new_account(balance=Decimal("1000"))
    numbers = [f"8613900{i:06d}" for i in range(3000)]
    form = params("send", acct, mobile=",".join(numbers))
    size = len("&".join(f"{k}={v}" for k, v in form.items()))
    assert 40_000 < size < LIMIT
    reply = requests.post(small_server.base_url + "/I18NSms.aspx", data=form, timeout=60)
    fields = vendor_reply("send", reply.content, reply.headers["Content-Type"])
    assert fields["returnstatus"] == "Success" and fields["successCounts"] == "3000"
    store = small_server.platform().store
    assert len(store.messages(task_id=int(fields["taskID"]), limit=10_000)) == 3000
    store.close()


def test_over_long_query_string_is_a_clean_4xx(small_server):
    """The server caps path + query string at 4094 bytes (a 414, granian's edge and gunicorn alike), never a 500.
    POST has no such cap."""
    status, _, _ = raw_http(
        small_server.port,
        b"GET /I18NSms.aspx?mobile=" + b"," * 10_000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    assert 400 <= status < 500


def test_default_limit_is_four_mib_for_every_surface(tmp_path):
    assert DEFAULT_MAX_BODY == 4 * 1024 * 1024
    app = create_app(str(tmp_path / "d.db"))
    client = Client(app)
    for path, ctype in (
        ("/WebService.asmx", "text/xml"),
        ("/I18NSms.aspx", FORM),
        ("/statusJsonApi.aspx", FORM),
        ("/pwd.aspx", FORM),
        ("/_mock/api/rules", "application/json"),
    ):
        reply = client.post(
            path,
            data=b"",
            headers={"Content-Type": ctype},
            environ_overrides={"CONTENT_LENGTH": str(DEFAULT_MAX_BODY + 1), "REMOTE_ADDR": "127.0.0.1"},
        )
        assert reply.status_code == 413, path


# --------------------------------------------------------------------------- admin API (in process)


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory):
    app = create_app(str(tmp_path_factory.mktemp("adm") / "a.db"), admin_token="s3cr3t-t0ken")
    app.platform.seed_demo()
    return app


ADMIN_TOKEN = "s3cr3t-t0ken"
NEAR = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_ADMIN_TOKEN": ADMIN_TOKEN}  # started with a token: loopback sends it too


@pytest.mark.parametrize("addr", ["203.0.113.7", "10.0.0.1", "::ffff:10.0.0.1", "2001:db8::1", "", "garbage"])
def test_admin_refuses_non_loopback_without_the_token(admin_app, addr):
    client = Client(admin_app)
    env = {"REMOTE_ADDR": addr}
    for method, path, body in (
        ("GET", "/_mock/api/clock", None),
        ("GET", "/_mock/api/rules", None),
        ("POST", "/_mock/api/clock/advance", {"seconds": 1}),
        ("DELETE", "/_mock/api/rules", None),
    ):
        for headers in (
            {},
            {"X-Admin-Token": "wrong"},
            {"Authorization": "Bearer wrong"},
            {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"},
        ):
            reply = client.open(path, method=method, json=body, headers=headers, environ_overrides=env)
            assert reply.status_code == (
                401 if headers in ({}, {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"}) else 403
            ), (addr, path, headers)
            assert "error" in reply.get_json()
    for headers in ({"X-Admin-Token": "s3cr3t-t0ken"}, {"Authorization": "Bearer s3cr3t-t0ken"}):
        assert client.get("/_mock/api/clock", headers=headers, environ_overrides=env).status_code == 200


@pytest.mark.parametrize("addr", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_admin_serves_loopback_with_the_token(admin_app, addr):
    client = Client(admin_app)
    assert client.get("/_mock/api/clock", environ_overrides={**NEAR, "REMOTE_ADDR": addr}).status_code == 200
    assert client.get("/_mock/api/clock", environ_overrides={"REMOTE_ADDR": addr}).status_code == 401


MARKUP = '<script>alert("x")</script>\'"&amp;<![CDATA[ ]]></returnsms>\u202e'


def test_markup_in_admin_data_comes_back_escaped(admin_app):
    client = Client(admin_app)
    env = NEAR
    reply = client.post(
        "/_mock/api/uplinks",
        json={"account": "demo", "mobile": "8613800138000", "content": MARKUP},
        environ_overrides=env,
    )
    assert reply.status_code == 201 and reply.headers["Content-Type"].startswith("application/json")
    assert reply.get_json()["content"] == MARKUP
    pulled = client.get("/callApi.aspx?action=query&account=demo&password=demo123", environ_overrides=env)
    root = parse_xml(pulled.get_data())
    assert root.findtext("callbox/content") == MARKUP
    assert b"<script>" not in pulled.get_data()
    client.post(
        "/_mock/api/uplinks",
        json={"account": "demo", "mobile": "8613800138000", "content": MARKUP},
        environ_overrides=env,
    )
    as_json = client.get("/callJsonApi.aspx?action=query&account=demo&password=demo123", environ_overrides=env)
    assert as_json.get_json()["callbox"][0]["content"] == MARKUP
    # refusals that echo the input echo it inside a JSON string
    bad = client.post(
        "/_mock/api/uplinks", json={"account": "demo", "mobile": MARKUP, "content": "x"}, environ_overrides=env
    )
    assert bad.status_code == 400 and "<script>" in bad.get_json()["error"]
    rule = client.post(
        "/_mock/api/rules",
        json={"pattern": "<script>", "outcome": "delivered", "errorcode": "<b>\"'"},
        environ_overrides=env,
    )
    assert rule.status_code == 201 and rule.get_json()["rule"]["errorcode"] == "<b>\"'"
    missing = client.get("/_mock/api/<script>alert(1)</script>", environ_overrides=env)
    assert missing.status_code == 404 and missing.headers["Content-Type"].startswith("application/json")
    assert "<script>" in missing.get_json()["error"]
    index = client.get("/<script>alert(1)</script>")
    assert index.status_code == 404 and index.headers["Content-Type"].startswith("text/plain")
    client.delete("/_mock/api/rules", environ_overrides=env)


def json_strings(data) -> set[str]:
    if isinstance(data, str):
        return {data}
    values = data.values() if isinstance(data, dict) else data if isinstance(data, list) else []
    return set().union(*(json_strings(v) for v in values)) if values else set()


def test_markup_in_sent_content_comes_back_inside_json_strings(admin_app):
    """What the web inbox reads: message text with markup is data in JSON strings; the page forbids inline script."""
    client = Client(admin_app)
    env = NEAR
    text = MARKUP + "【华信】"
    sent = client.post(
        "/I18NSms.aspx",
        data={
            "action": "send",
            "account": "demo",
            "password": "demo123",
            "mobile": "8613800138000",
            "content": encode_content(text),
        },
    )
    task_id = int(parse_xml(sent.get_data()).findtext("taskID"))
    for path in (f"/_mock/api/messages?task_id={task_id}", "/_mock/api/tasks"):
        reply = client.get(path, environ_overrides=env)
        assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("application/json"), path
        assert text in json_strings(reply.get_json()), path  # the exact text, as a JSON string
    page = client.get("/_mock/", environ_overrides=env)
    if page.status_code == 200:  # the inbox page: no inline script may run, no content sniffing
        assert "script-src 'self'" in page.headers.get("Content-Security-Policy", "")
        assert page.headers.get("X-Content-Type-Options") == "nosniff"


def test_uplink_text_xml_cannot_carry_is_never_lost(admin_app):
    """A control character in an uplink used to break the pull reply after the uplink was handed out."""
    client = Client(admin_app)
    env = NEAR
    client.get("/callApi.aspx?action=query&account=demo&password=demo123")  # drain
    text = "a\x01b\x0bc\ufffed"
    assert (
        client.post(
            "/_mock/api/uplinks",
            json={"account": "demo", "mobile": "8613800138000", "content": text},
            environ_overrides=env,
        ).status_code
        == 201
    )
    pulled = client.get("/callApi.aspx?action=query&account=demo&password=demo123")
    assert pulled.status_code == 200
    assert parse_xml(pulled.get_data()).findtext("callbox/content") == "a\ufffdb\ufffdc\ufffdd"
    lone = client.post(
        "/_mock/api/uplinks",
        data=b'{"account":"demo","mobile":"8613800138000","content":"x\\ud800"}',
        headers={"Content-Type": "application/json"},
        environ_overrides=env,
    )
    assert lone.status_code == 400 and "surrogate" in lone.get_json()["error"]


# --------------------------------------------------------------------------- push receiver


def push_documents(url: str) -> dict[str, bytes]:
    return hostile_documents(
        "<returnsms>",
        "</returnsms>",
        "<statusbox><mobile>@@</mobile><taskid>1</taskid><status>10</status>"
        "<receivetime>2024-01-01 00:00:00</receivetime><errorcode>DELIVRD</errorcode>"
        "<extno></extno></statusbox>",
        url,
    )


@pytest.mark.parametrize("name", NAMES)
def test_push_receiver_refuses_dtds_with_error(sentinel, name):
    """``error``: the body was not taken, so the platform tries twice more and then keeps the batch for pull."""
    handled: list = []
    client = Client(push_receiver(handled.append))
    body = push_documents(sentinel.base_url)[name]
    started = time.monotonic()
    reply = client.post("/push", data=body, headers={"Content-Type": "text/xml; charset=utf-8"})
    assert time.monotonic() - started < FAST
    assert reply.status_code == 200 and reply.get_data() == b"error"
    assert handled == []


def test_push_receiver_odd_bodies(sentinel):
    handled: list = []
    client = Client(push_receiver(handled.append, max_body=10_000))
    good = push_documents(sentinel.base_url)["internal entity"].split(b"]>", 1)[1].replace(b"&e;", b"8613800138000")
    for body in (
        b"",
        b"\xff\xfe\x00",
        b"<returnsms><statusbox>",
        good[:-5],
        b"1",
        b"<html/>",
        b"<returnsms><errorstatus><error>2</error></errorstatus></returnsms>",
    ):
        assert client.post("/", data=body).get_data() == b"error", body
    big = client.post("/", data=b"<returnsms>" + b" " * 20_000 + b"</returnsms>")
    assert big.status_code == 413 and big.get_data() == b"error"
    assert client.get("/").status_code == 405
    assert handled == []
    assert client.post("/", data=good, headers={"Content-Type": "text/xml"}).get_data() == b"1"
    assert len(handled) == 1 and handled[0][0].mobile == "8613800138000"


# --------------------------------------------------------------------------- the clients meet a hostile server


def returnsms_documents(url: str) -> dict[str, bytes]:
    return hostile_documents(
        "<returnsms>",
        "</returnsms>",
        "<returnstatus>Success</returnstatus><message>@@</message><payinfo>预付费</payinfo>"
        "<balance>1</balance><taskID>1</taskID><BillingAmount>0</BillingAmount>"
        "<successCounts>1</successCounts>",
        url,
    )


@pytest.mark.parametrize("name", NAMES)
def test_http_client_refuses_hostile_replies(sentinel, name):
    body = returnsms_documents(sentinel.base_url)[name]
    with TinyServer(default=http_reply(body)) as server:
        client = HttpClient("acct", "pw-123456", base_url=server.base_url, retries=0)
        for call in (
            client.balance,
            lambda: client.send("8613800138000", "x【a】"),
            client.status_reports,
            client.uplinks,
        ):
            with pytest.raises(ProtocolError) as info:
                call()
            assert "DOCTYPE" in str(info.value) or "XML" in str(info.value)
            assert_no_leak(str(info.value).encode(), FETCHED)


@pytest.mark.parametrize("name", NAMES)
def test_soap_client_refuses_hostile_replies(sentinel, name):
    ns = SOAP11
    body = hostile_documents(
        f'<soap:Envelope xmlns:soap="{ns}">',
        "</soap:Envelope>",
        f'<soap:Body><SendI18NSmsResponse xmlns="{TNS}"><SendI18NSmsResult><StatusCode>OK</StatusCode>'
        "<Description>@@</Description><MsgId>1</MsgId><Balance>1</Balance><BillingAmount>0</BillingAmount>"
        "<BillingCount>0</BillingCount></SendI18NSmsResult></SendI18NSmsResponse></soap:Body>",
        sentinel.base_url,
    )[name]
    with TinyServer(default=http_reply(body)) as server:
        with SoapClient("acct", "pw-123456", server.base_url) as client:
            with pytest.raises(ProtocolError) as info:
                client.send_i18n_sms("8613800138000", "x【a】")
    assert_no_leak(str(info.value).encode(), FETCHED)


def test_soap_client_settings_forbid_dtds_entities_and_fetches():
    from ipyy_client import soap

    settings = soap._settings()
    assert settings.forbid_dtd and settings.forbid_entities and settings.forbid_external
    assert not settings.xml_huge_tree


# --------------------------------------------------------------------------- passwords never logged


@pytest.fixture(scope="module")
def logged_server(tmp_path_factory):
    server = MockProcess(tmp_path_factory.mktemp("log") / "mock.db", workers=2, args=("--access-log",)).start()
    yield server
    server.stop()


def test_a_soap_password_is_masked_in_the_journal_whatever_the_encoding(logged_server):
    """The journal masks what ASMX reads (docs/contract.md §6: passwords never appear in the journal), so a body in
    UTF-16 or UTF-32, with or without a byte-order mark, in the charset it says or in one it does not, never keeps
    its password there: not as it was sent, and not with the NULs of a UTF-16 text read as UTF-8 left out."""
    secret = "Qm-Ut52v&"
    acct = logged_server.new_account(password=secret)
    text = soapraw.envelope("SendSms", acct.name, secret, "13800138000", "编码【华信】").decode()
    bare = text.split("?>", 1)[1]  # no declaration
    as16 = text.replace('encoding="utf-8"', 'encoding="utf-16"')
    bodies = [
        (as16.encode("utf-16"), "text/xml; charset=utf-16"),  # with a byte-order mark
        (bare.encode("utf-16-le"), "text/xml; charset=utf-16"),
        (bare.encode("utf-16-be"), "text/xml; charset=utf-16BE"),
        (bare.encode("utf-32"), "text/xml; charset=utf-32"),
        (as16.encode("utf-16-le"), "text/xml; charset=utf-8"),  # UTF-16 sent as UTF-8: ASMX refuses it, 400
        (bare.encode("utf-16-be"), "text/xml; charset=utf-8"),
        (bare.encode("utf-32-le"), "text/xml; charset=utf-8"),
        (as16.encode("utf-16-le"), "text/xml"),  # no charset: US-ASCII
        (as16.replace(SOAP11, SOAP12).encode("utf-16-le"), "application/soap+xml"),  # the XML's own detection
    ]
    for body, ctype in bodies:
        soap_post(logged_server.base_url, body, 11, ctype=ctype, route="action", op="SendSms")
    journal = requests.get(logged_server.base_url + "/_mock/api/journal", params={"limit": len(bodies)}, timeout=30)
    entries = journal.json()["entries"]
    assert len(entries) == len(bodies) and all(e["path"].lower() == "/webservice.asmx" for e in entries), entries
    flat = journal.text.replace("\\u0000", "")
    for s in (secret, md5_password(secret), md5_password(secret).lower(), escape(secret)):
        assert s not in flat, s


def test_passwords_never_reach_the_server_output(logged_server):
    secret, new_secret, wrong = "Pw-Zq81x!", "Nw-Kd72y?", "Wr-Jc63z#"
    acct = logged_server.new_account(password=secret)
    secrets = [
        s for p in (secret, new_secret, wrong) for s in (p, quote_plus(p), md5_password(p), md5_password(p).lower())
    ]
    base = logged_server.base_url
    for password in (secret, md5_password(secret), wrong, md5_password(wrong)):
        form = params("send", acct, password=password)
        requests.get(base + "/I18NSms.aspx", params=form, timeout=30)
        requests.post(base + "/I18NSms.aspx", data=form, timeout=30)
        for endpoint in ("overage", "status", "status_json", "call_json"):
            requests.get(base + ASPX[endpoint], params=params(endpoint, acct, password=password), timeout=30)
        for version in (11, 12):
            for op, route in (("SendI18NSms", "body"), ("SendSms", "action")):
                soap_post(
                    base,
                    soapraw.envelope(op, acct.name, password, "8613800138000", "日志【华信】", version=version),
                    version,
                    route=route,
                    op=op,
                )
    # errors on the way: a DOCTYPE (a Fault, and 400), a cut body (400), not SOAP (415), a VersionMismatch, non-UTF-8
    for route in ROUTES:
        soap_post(base, b"<!DOCTYPE x>" + soapraw.envelope("SendI18NSms", acct.name, secret, "1", "x"), 11, route=route)
    soap_post(base, soapraw.envelope("SendI18NSms", acct.name, secret, "1", "x")[:-20], 12, route="action")
    soap_post(base, soapraw.envelope("SendSms", acct.name, secret, "1", "x"), 11, ctype="text/plain", route="action")
    soap_post(base, soapraw.envelope("SendSms", acct.name, secret, "1", "x").replace(SOAP11.encode(), b"urn:x"), 11)
    requests.post(
        base + "/I18NSms.aspx",
        data=f"action=send&account={acct.name}&password={secret}&x=\xff".encode("latin-1"),
        headers={"Content-Type": FORM},
        timeout=30,
    )
    for password in (secret, md5_password(secret)):  # request lines gunicorn refuses (and used to log whole)
        raw_http(
            logged_server.port,
            f"GET /I18NSms.aspx?account={acct.name}&password={password}&x=\xff HTTP/1.1\r\nHost: x\r\n\r\n".encode(
                "latin-1"
            ),
        )
        raw_http(logged_server.port, f"GET /pwd.aspx?password={password} HTTP/1.1 junk\r\nHost: x\r\n\r\n".encode())
    requests.get(base + "/pwd.aspx", params=params("pwd", acct, password=secret, newpassword=new_secret), timeout=30)
    requests.post(
        base + "/pwd.aspx", data=params("pwd", acct, password=md5_password(new_secret), newpassword=secret), timeout=30
    )
    assert logged_server.account(acct.name).password == secret
    with HttpClient(acct.name, secret, base_url=base) as http:
        http.send("8613800138000", "客户端【华信】")
        http.balance()
    with SoapClient(acct.name, secret, base) as soap:
        soap.send_i18n_sms("8613800138000", "客户端【华信】")
        soap.send_sms("13800138000", "客户端【华信】")
    journal = requests.get(base + "/_mock/api/journal", params={"limit": 1000}, timeout=30)
    assert journal.status_code == 200 and len(journal.json()["entries"]) > 20, journal.text[:500]
    for s in secrets:
        assert s not in journal.text, s
    logged_server.stop(signal.SIGTERM)
    output = logged_server.output_text()
    assert '"GET /I18NSms.aspx" 200' in output and '"POST /WebService.asmx"' in output, output[:2000]
    for s in secrets:
        assert s not in output, s


def test_client_errors_never_show_the_password(mock_server, account):
    secret = account.password
    secrets = (secret, md5_password(secret), md5_password(secret).lower())

    def clean(exc: BaseException) -> None:
        for text in (
            str(exc),
            repr(exc),
            getattr(exc, "description", "") or "",
            (getattr(exc, "body", None) or b"").decode("utf-8", "replace"),
        ):
            for s in secrets:
                assert s not in text, (s, text)

    with HttpClient(account.name, secret + "x", base_url=mock_server.base_url) as http:
        with pytest.raises(PasswordError) as info:
            http.balance()
        clean(info.value)
        with pytest.raises(PasswordError) as info:
            http.send("8613800138000", "x【华信】").raise_for_status()
        clean(info.value)
    echo = lambda request: http_reply(request, "500 Internal Server Error", "text/plain")  # noqa: E731
    with TinyServer(default=echo) as server:
        for call in (
            lambda: HttpClient(account.name, secret, base_url=server.base_url).balance(),
            lambda: HttpClient(account.name, secret, base_url=server.base_url).send("1", "x"),
            lambda: SoapClient(account.name, secret, server.base_url).send_i18n_sms("1", "x"),
            lambda: SoapClient(account.name, secret, server.base_url, soap_version=12).send_i18n_sms("1", "x"),
        ):
            with pytest.raises(IpyyError) as info:
                call()
            clean(info.value)
    dead = f"http://127.0.0.1:{free_port()}"
    for call in (
        lambda: HttpClient(account.name, secret, base_url=dead, retries=0).balance(),
        lambda: SoapClient(account.name, secret, dead).send_i18n_sms("1", "x"),
    ):
        with pytest.raises(TransportError) as info:
            call()
        clean(info.value)
