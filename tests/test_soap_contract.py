"""The SOAP surface keeps the contract of wsdl/WebService.wsdl.

Three proofs, all in-process with a fake platform (no database, no server
process): spyne's generated interface document describes the same types,
elements, operations and occurrence rules as the static WSDL; the WSDL served
at ?wsdl is the static file with only the addresses changed and loads in
zeep; and the replies the service produces are valid against the WSDL's own
schema. Plus the request translation, a zeep round trip over both bindings,
and bad input that must end in a Fault (never HTTP 500).
"""

from __future__ import annotations

import copy
import logging
import re
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from lxml import etree
from spyne.interface.wsdl import Wsdl11  # after ipyy_mock.soap.models (spyne_compat)
from werkzeug.test import Client

from ipyy_client.codes import ResultCode
from ipyy_mock.core.wire import SendOutcome, SendRequest
from ipyy_mock.soap import make_soap_app
from ipyy_mock.soap.models import spyne_application
from ipyy_mock.soap.xsd import parse_xsd_datetime, static_wsdl

STATIC = Path(__file__).resolve().parent.parent / "wsdl" / "WebService.wsdl"
TNS = "http://tempuri.org/"
XSD = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
BIND = {11: "http://schemas.xmlsoap.org/wsdl/soap/", 12: "http://schemas.xmlsoap.org/wsdl/soap12/"}
OPS = ("SendI18NSms", "SendHybridSms")


# ------------------------------------------------------------------ helpers


class FakePlatform:
    """Records each SendRequest and answers with the next queued outcome (or OK)."""

    def __init__(self) -> None:
        self.requests: list[SendRequest] = []
        self.outcomes: list[SendOutcome | Exception] = []

    def send(self, req: SendRequest) -> SendOutcome:
        self.requests.append(req)
        outcome = (
            self.outcomes.pop(0)
            if self.outcomes
            else SendOutcome(
                ResultCode.OK,
                task_id=1,
                balance=Decimal("99.95"),
                billing_amount=Decimal("0.05"),
                billing_count=1,
                success_count=1,
            )
        )
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def client(platform) -> Client:
    return Client(make_soap_app(platform))


def envelope(
    op: str = "SendI18NSms",
    version: int = 11,
    user: str = "demo",
    password: str = "demo123",
    msisdns: str = "8613800138000",
    content: str = "测试【华信】",
    plan: str | None = None,
    ext: str | None = None,
) -> bytes:
    ns = SOAP11 if version == 11 else SOAP12
    plan_xml = '<PlanSendTime xsi:nil="true"/>' if plan is None else f"<PlanSendTime>{plan}</PlanSendTime>"
    ext_xml = "" if ext is None else f"<ExtNumber>{ext}</ExtNumber>"
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body>'
        f'<{op} xmlns="{TNS}"><userName>{user}</userName><password>{password}</password>'
        f"<sms><Msisdns>{msisdns}</Msisdns><SMSContent>{content}</SMSContent>{plan_xml}{ext_xml}</sms>"
        f"</{op}></soap:Body></soap:Envelope>"
    ).encode("utf-8")


def post(client: Client, body: bytes, version: int = 11, op: str | None = "SendI18NSms", **environ):
    if version == 11:
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        if op:
            headers["SOAPAction"] = f'"{TNS}{op}"'
    else:
        action = f'; action="{TNS}{op}"' if op else ""
        headers = {"Content-Type": f"application/soap+xml; charset=utf-8{action}"}
    return client.post("/WebService.asmx", data=body, headers=headers, environ_base=environ or None)


def wsdl_schema() -> etree.XMLSchema:
    """The static WSDL's wsdl:types schema, standalone (its QNames need the WSDL's prefixes)."""
    inner = etree.parse(str(STATIC)).getroot().find(f"{{{WSDL}}}types/{{{XSD}}}schema")
    schema = etree.Element(inner.tag, dict(inner.attrib), nsmap=inner.nsmap)
    schema.extend(copy.deepcopy(c) for c in inner)
    return etree.XMLSchema(schema)


# ----------------------------------------------- spyne model == static WSDL


def qname(elem: etree._Element, value: str) -> str:
    prefix, _, local = value.rpartition(":")
    return f"{{{elem.nsmap[prefix or None]}}}{local}"


def members(ctype: etree._Element) -> list[tuple]:
    seq = ctype.find(f"{{{XSD}}}sequence")
    assert [c.tag for c in ctype] == [f"{{{XSD}}}sequence"], "only xs:sequence content is expected"
    return [
        (
            e.get("name"),
            qname(e, e.get("type")),
            e.get("minOccurs", "1"),
            e.get("maxOccurs", "1"),
            e.get("nillable", "false"),
        )
        for e in seq
    ]


def normalise(doc: etree._Element, soap_action_prefix: str = "") -> dict:
    """Style-free summary of a WSDL: ASMX's anonymous wrapper types and spyne's named ones look alike."""
    schema = doc.find(f"{{{WSDL}}}types/{{{XSD}}}schema")
    assert schema.get("targetNamespace") == TNS and schema.get("elementFormDefault") == "qualified"
    named = {c.get("name"): c for c in schema.findall(f"{{{XSD}}}complexType")}
    messages = {m.get("name"): m.find(f"{{{WSDL}}}part") for m in doc.findall(f"{{{WSDL}}}message")}
    part_elements = {qname(p, p.get("element")) for p in messages.values()}

    elements, wrapper_types = {}, set()
    for e in schema.findall(f"{{{XSD}}}element"):
        if f"{{{TNS}}}{e.get('name')}" not in part_elements:
            continue  # spyne also declares a global element per type; messages never use them
        anonymous = e.find(f"{{{XSD}}}complexType")
        if anonymous is None:
            type_name = qname(e, e.get("type")).split("}")[1]
            wrapper_types.add(type_name)
            anonymous = named[type_name]
        assert e.get("nillable") in (None, "false")
        elements[e.get("name")] = members(anonymous)

    types = {n: members(c) for n, c in named.items() if n not in wrapper_types}
    simple = {}
    for s in schema.findall(f"{{{XSD}}}simpleType"):
        restriction = s.find(f"{{{XSD}}}restriction")
        simple[s.get("name")] = (
            qname(restriction, restriction.get("base")),
            [v.get("value") for v in restriction.findall(f"{{{XSD}}}enumeration")],
        )

    def part_element(io: etree._Element) -> str:
        part = messages[qname(io, io.get("message")).split("}")[1]]
        return qname(part, part.get("element"))

    operations = {}
    for port_type in doc.findall(f"{{{WSDL}}}portType"):
        for op in port_type.findall(f"{{{WSDL}}}operation"):
            operations[op.get("name")] = tuple(part_element(op.find(f"{{{WSDL}}}{d}")) for d in ("input", "output"))
    bindings = {}
    for binding in doc.findall(f"{{{WSDL}}}binding"):
        version = next(v for v, ns in BIND.items() if binding.find(f"{{{ns}}}binding") is not None)
        ops = {}
        for op in binding.findall(f"{{{WSDL}}}operation"):
            soap_op = op.find(f"{{{BIND[version]}}}operation")
            assert soap_op.get("style") == "document"
            uses = {b.get("use") for b in op.iter(f"{{{BIND[version]}}}body")}
            assert uses == {"literal"}
            ops[op.get("name")] = soap_action_prefix + soap_op.get("soapAction")
        bindings[version] = ops
    return {"elements": elements, "types": types, "simple": simple, "operations": operations, "bindings": bindings}


def spyne_document(protocol: str) -> etree._Element:
    wsdl = Wsdl11(spyne_application(protocol).interface)
    wsdl.build_interface_document("http://localhost/WebService.asmx")
    return etree.fromstring(wsdl.get_interface_document())


def test_static_wsdl_is_the_packaged_one():
    assert static_wsdl() == STATIC.read_bytes()


def test_spyne_model_matches_the_static_wsdl():
    static = normalise(etree.parse(str(STATIC)).getroot())
    # spyne names the SOAPAction after the operation alone; ASMX prefixes the namespace
    spyne11 = normalise(spyne_document("soap11"), soap_action_prefix=TNS)
    spyne12 = normalise(spyne_document("soap12"), soap_action_prefix=TNS)
    for key in ("elements", "types", "simple", "operations"):
        assert spyne11[key] == static[key], key
        assert spyne12[key] == static[key], key
    assert static["bindings"][11] == spyne11["bindings"][11]
    assert static["bindings"][12] == spyne12["bindings"][12]


def test_static_wsdl_says_what_the_design_says():
    static = normalise(etree.parse(str(STATIC)).getroot())
    s = f"{{{XSD}}}"
    sms = [
        ("Msisdns", s + "string", "0", "1", "false"),
        ("SMSContent", s + "string", "0", "1", "false"),
        ("PlanSendTime", s + "dateTime", "0", "1", "true"),
        ("ExtNumber", s + "string", "0", "1", "false"),
    ]
    result = [
        ("StatusCode", f"{{{TNS}}}ResultCode", "1", "1", "false"),
        ("Description", s + "string", "0", "1", "false"),
        ("MsgId", s + "long", "1", "1", "false"),
        ("Balance", s + "decimal", "1", "1", "false"),
        ("BillingAmount", s + "decimal", "1", "1", "false"),
        ("BillingCount", s + "int", "1", "1", "false"),
        ("Errors", f"{{{TNS}}}ArrayOfString", "0", "1", "false"),
    ]
    assert static["types"] == {
        "SmsObject": sms,
        "SendResultBase": result,
        "ArrayOfString": [("string", s + "string", "0", "unbounded", "true")],
    }
    request = [
        ("userName", s + "string", "0", "1", "false"),
        ("password", s + "string", "0", "1", "false"),
        ("sms", f"{{{TNS}}}SmsObject", "0", "1", "false"),
    ]
    for op in OPS:
        assert static["elements"][op] == request
        assert static["elements"][op + "Response"] == [(op + "Result", f"{{{TNS}}}SendResultBase", "1", "1", "false")]
        assert static["operations"][op] == (f"{{{TNS}}}{op}", f"{{{TNS}}}{op}Response")
    assert static["simple"] == {"ResultCode": (s + "string", [c.name for c in ResultCode])}
    assert static["bindings"] == {v: {op: TNS + op for op in OPS} for v in (11, 12)}
    root = etree.parse(str(STATIC)).getroot()
    ports = {p.get("name"): p.get("binding") for p in root.iter(f"{{{WSDL}}}port")}
    assert ports == {"WebServiceSoap": "tns:WebServiceSoap", "WebServiceSoap12": "tns:WebServiceSoap12"}


# --------------------------------------------------------- the served WSDL

ADDRESS = re.compile(rb'(<soap(?:12)?:address location=")[^"]*(")')


@pytest.mark.parametrize("query", ["wsdl", "WSDL", "Wsdl", "wsdl="])
def test_served_wsdl_is_the_static_file_with_the_request_host(client, query):
    reply = client.get(f"/WebService.asmx?{query}", headers={"Host": "mock.example:8081"})
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/xml; charset=utf-8"
    served = reply.get_data()
    assert ADDRESS.findall(served) == [(b'<soap:address location="', b'"'), (b'<soap12:address location="', b'"')]
    assert served.count(b'location="http://mock.example:8081/WebService.asmx"') == 2
    assert ADDRESS.sub(rb"\1X\2", served) == ADDRESS.sub(rb"\1X\2", STATIC.read_bytes())


def test_served_wsdl_uses_https_and_refuses_a_hostile_host(client):
    reply = client.get("/webservice.asmx?wsdl", base_url="https://secure.example")
    assert b'location="https://secure.example/WebService.asmx"' in reply.get_data()
    reply = client.get("/WebService.asmx?wsdl", headers={"Host": 'evil"><x a="'}, base_url="http://fallback.local:8080")
    etree.fromstring(reply.get_data())  # still well-formed
    assert reply.get_data().count(b'location="http://fallback.local:8080/WebService.asmx"') == 2


def test_served_wsdl_loads_in_zeep(client, tmp_path):
    zeep = pytest.importorskip("zeep")
    path = tmp_path / "served.wsdl"
    path.write_bytes(client.get("/WebService.asmx?WSDL", headers={"Host": "h:1"}).get_data())
    doc = zeep.Client(str(path)).wsdl
    service = doc.services["WebService"]
    assert {name: port.binding_options["address"] for name, port in service.ports.items()} == {
        "WebServiceSoap": "http://h:1/WebService.asmx",
        "WebServiceSoap12": "http://h:1/WebService.asmx",
    }
    for port in service.ports.values():
        assert set(port.binding._operations) == set(OPS)
        assert {op.soapaction for op in port.binding._operations.values()} == {TNS + op for op in OPS}


def test_get_without_wsdl_is_a_help_page(client):
    reply = client.get("/WebService.asmx")
    assert reply.status_code == 200 and b"?WSDL" in reply.get_data()


# ------------------------------------------------- replies valid per WSDL

OUTCOMES = [
    SendOutcome(
        ResultCode.OK,
        task_id=2**62,
        balance=Decimal("99.70"),
        billing_amount=Decimal("0.30"),
        billing_count=1,
        success_count=1,
        errors=["8613800000002:MsisdnBlack", "8613800000003:MsisdnNoChannel"],
    ),
    SendOutcome(ResultCode.PasswordError),
    SendOutcome(ResultCode.AmountNotEnough, balance=Decimal("1E+2"), billing_amount=Decimal("1E-7")),
    SendOutcome(ResultCode.MsisdnBlack, balance=Decimal("-0.50"), errors=["8613800000002:MsisdnBlack"]),
]


def result_of(reply, op: str, version: int) -> etree._Element:
    root = etree.fromstring(reply.get_data())
    assert root.tag == f"{{{SOAP11 if version == 11 else SOAP12}}}Envelope"
    body = root.find(f"{{{SOAP11 if version == 11 else SOAP12}}}Body")
    (response,) = list(body)
    assert response.tag == f"{{{TNS}}}{op}Response"
    return response


@pytest.mark.parametrize("version", [11, 12])
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("outcome", OUTCOMES, ids=[o.code.name for o in OUTCOMES])
def test_replies_validate_against_the_wsdl_schema(client, platform, version, op, outcome):
    platform.outcomes.append(outcome)
    reply = post(client, envelope(op, version), version, op)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert (
        reply.headers["Content-Type"] == ("text/xml" if version == 11 else "application/soap+xml") + "; charset=utf-8"
    )
    assert reply.get_data().startswith(b'<?xml version="1.0" encoding="utf-8" ?>')
    response = result_of(reply, op, version)
    schema = wsdl_schema()
    assert schema.validate(response), schema.error_log
    result = response.find(f"{{{TNS}}}{op}Result")
    text = {c.tag.split("}")[1]: c.text for c in result}
    assert text["StatusCode"] == outcome.code.name
    assert text["Description"] == outcome.code.description
    assert int(text["MsgId"]) == outcome.task_id
    assert Decimal(text["Balance"]) == outcome.balance and "E" not in text["Balance"]
    assert Decimal(text["BillingAmount"]) == outcome.billing_amount and "E" not in text["BillingAmount"]
    assert int(text["BillingCount"]) == outcome.billing_count
    assert [e.text for e in result.findall(f"{{{TNS}}}Errors/{{{TNS}}}string")] == outcome.errors


def test_a_failing_platform_is_an_internal_error_reply_not_a_500(client, platform):
    platform.outcomes.append(RuntimeError("database is locked"))
    reply = post(client, envelope())
    assert reply.status_code == 200
    result = result_of(reply, "SendI18NSms", 11).find(f"{{{TNS}}}SendI18NSmsResult")
    assert result.findtext(f"{{{TNS}}}StatusCode") == "InternalError"


# ---------------------------------------------------- request translation


@pytest.mark.parametrize("version", [11, 12])
@pytest.mark.parametrize("op", OPS)
def test_request_becomes_a_send_request(client, platform, version, op):
    reply = post(
        client, envelope(op, version, plan="2030-01-02T03:04:05", ext="123"), version, op, REMOTE_ADDR="10.9.8.7"
    )
    assert reply.status_code == 200
    (req,) = platform.requests
    assert req == SendRequest(
        account="demo",
        password="demo123",
        msisdns="8613800138000",
        content="测试【华信】",
        plan_send_time=datetime(2030, 1, 2, 3, 4, 5),
        ext_number="123",
        hybrid=op == "SendHybridSms",
        client_ip="10.9.8.7",
        via=f"soap{version}",
    )


def test_absent_and_empty_fields(client, platform):
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Body><SendI18NSms xmlns="{TNS}">'
        "<userName/></SendI18NSms></soap:Body></soap:Envelope>"
    ).encode()
    assert post(client, body, op=None).status_code == 200
    req = platform.requests[-1]
    assert (req.account, req.password, req.msisdns, req.content, req.plan_send_time, req.ext_number) == (
        "",
        None,
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2030-01-02T03:04:05-03:30", datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(-timedelta(hours=3, minutes=30)))),
        ("2030-01-02T03:04:05Z", datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
        (
            "2030-01-02T03:04:05.1234567+08:00",
            datetime(2030, 1, 2, 3, 4, 5, 123457, tzinfo=timezone(timedelta(hours=8))),
        ),
        ("2030-01-02T24:00:00", datetime(2030, 1, 3)),
    ],
)
def test_plan_send_time_zones(client, platform, text, expected):
    assert parse_xsd_datetime(text) == expected
    assert post(client, envelope(plan=text)).status_code == 200
    got = platform.requests[-1].plan_send_time
    assert got == expected and got.utcoffset() == expected.utcoffset()


# ------------------------------------------------ bad input: Fault, never 500

BAD = {
    "empty": b"",
    "not xml": b"hello",
    "malformed": envelope()[:-20],
    "doctype": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    + envelope(user="&e;").split(b"?>", 1)[1],
    "billion laughs": b'<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>' + envelope(user="&b;"),
    "entity without dtd": envelope(user="&e;"),
    "non utf-8": envelope().replace(b"demo123", b"\xff\xfe"),
    "declared latin-1": envelope().replace(b'encoding="utf-8"', b'encoding="iso-8859-1"'),
    "unknown operation": envelope().replace(b"SendI18NSms", b"DeleteEverything"),
    "wrong namespace": envelope().replace(TNS.encode(), b"http://example.com/"),
    "bad datetime": envelope(plan="tomorrow"),
    "year 10000": envelope(plan="10000-01-01T00:00:00"),
    "empty datetime": envelope(plan=""),
    "string holding an element": envelope().replace(b"<userName>demo</userName>", b"<userName><b>demo</b></userName>"),
    "two operations": envelope().replace(b"</soap:Body>", f'<SendHybridSms xmlns="{TNS}"/></soap:Body>'.encode()),
    "no body": f'<soap:Envelope xmlns:soap="{SOAP11}"/>'.encode(),
    "fault as request": f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Body><soap:Fault/></soap:Body></soap:Envelope>'.encode(),
    "must understand": envelope().replace(
        b"<soap:Body>", b'<soap:Header><h xmlns="urn:x" soap:mustUnderstand="1"/></soap:Header><soap:Body>'
    ),
    "soap 1.2 envelope": envelope(version=12),
}


# What ASMX (XmlSerializer) reads although the WSDL's schema would not validate it: (expected user, password,
# msisdns as the platform gets them, warning codes).
LENIENT = {
    "unqualified children": (
        envelope()
        .replace(f' xmlns="{TNS}"'.encode(), b"")
        .replace(b"<SendI18NSms>", f'<t:SendI18NSms xmlns:t="{TNS}">'.encode())
        .replace(b"</SendI18NSms>", b"</t:SendI18NSms>"),
        None,
        None,
        None,
        ["soap-unknown-element"] * 3,
    ),
    "wrong order": (
        envelope().replace(
            b"<userName>demo</userName><password>demo123</password>",
            b"<password>demo123</password><userName>demo</userName>",
        ),
        "demo",
        "demo123",
        "8613800138000",
        ["soap-element-order"],
    ),
    "sms children in another order": (
        envelope()
        .replace(b"<Msisdns>8613800138000</Msisdns><SMSContent>", b"<SMSContent>")
        .replace(b"</SMSContent>", b"</SMSContent><Msisdns>8613800138000</Msisdns>"),
        "demo",
        "demo123",
        "8613800138000",
        ["soap-element-order"],
    ),
    "unknown child": (
        envelope().replace(b"<userName>", b"<userId>1</userId><userName>"),
        "demo",
        "demo123",
        "8613800138000",
        ["soap-unknown-element"],
    ),
    "twice": (
        envelope().replace(b"<userName>demo</userName>", b"<userName>a</userName><userName>b</userName>"),
        "b",
        "demo123",
        "8613800138000",
        ["soap-repeated-element"],
    ),
    "nil username": (
        envelope().replace(b"<userName>demo</userName>", b'<userName xsi:nil="true"/>'),
        None,
        "demo123",
        "8613800138000",
        [],
    ),
    "absent sms": (
        envelope().split(b"<sms>")[0] + b"</SendI18NSms></soap:Body></soap:Envelope>",
        "demo",
        "demo123",
        None,
        [],
    ),
}


@pytest.mark.parametrize("version", (11, 12))
@pytest.mark.parametrize("name", LENIENT)
def test_asmx_lenient_reading_reaches_the_platform_with_warnings(client, platform, name, version):
    body, user, password, msisdns, codes = LENIENT[name]
    if version == 12:
        body = body.replace(SOAP11.encode(), SOAP12.encode())
    reply = post(client, body, version=version, op=None)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    (req,) = platform.requests
    assert (req.account, req.password, req.msisdns) == (user, password, msisdns)
    assert [w.code for w in req.warnings] == codes


def test_the_document_order_has_no_warning(client, platform):
    assert post(client, envelope(plan="2030-01-01T00:00:00", ext="12")).status_code == 200
    (req,) = platform.requests
    assert req.warnings == [] and req.ext_number == "12" and req.plan_send_time.year == 2030


def fault_of(reply, version: int) -> tuple[str, str]:
    root = etree.fromstring(reply.get_data())
    if version == 11:
        fault = root.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
        return fault.findtext("faultcode"), fault.findtext("faultstring")
    fault = root.find(f"{{{SOAP12}}}Body/{{{SOAP12}}}Fault")
    return (
        fault.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value"),
        fault.findtext(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text"),
    )


@pytest.mark.parametrize("name", BAD)
def test_bad_soap_11_is_a_client_fault(client, platform, name, caplog):
    reply = post(client, BAD[name], op=None)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "refused by the front, not by a crash"
    assert reply.status_code == 500, reply.get_data(as_text=True)  # SOAP 1.1 binding / ASMX: a Fault is a 500
    assert reply.headers["Content-Type"] == "text/xml; charset=utf-8"
    code, reason = fault_of(reply, 11)
    assert code in ("soap:Client", "soap:MustUnderstand") and reason
    assert b"root:" not in reply.get_data()
    assert platform.requests == []


@pytest.mark.parametrize("name", [n for n in BAD if n != "soap 1.2 envelope"])
def test_bad_soap_12_is_a_sender_fault(client, platform, name):
    body = BAD[name].replace(SOAP11.encode(), SOAP12.encode())
    reply = post(client, body, version=12, op=None)
    assert reply.status_code == 400, reply.get_data(as_text=True)
    assert reply.headers["Content-Type"] == "application/soap+xml; charset=utf-8"
    code, reason = fault_of(reply, 12)
    assert code in ("soap:Sender", "soap:MustUnderstand") and reason
    assert platform.requests == []


def test_soap_action_must_match_the_body(client, platform):
    assert post(client, envelope(), op="SendHybridSms").status_code == 500  # a SOAP 1.1 Fault
    assert post(client, envelope(), op="Nonsense").status_code == 500
    ok = client.post(
        "/WebService.asmx", data=envelope(), headers={"Content-Type": "text/xml", "SOAPAction": f"{TNS}SendI18NSms"}
    )  # unquoted
    assert ok.status_code == 200
    assert post(client, envelope(version=12), version=12, op="SendHybridSms").status_code == 400
    assert len(platform.requests) == 1


@pytest.mark.parametrize("ctype", ["application/json", "", "text/plain", "multipart/related"])
def test_wrong_content_type_is_415(client, ctype):
    reply = client.post("/WebService.asmx", data=envelope(), headers={"Content-Type": ctype})
    assert reply.status_code == 415
    assert fault_of(reply, 11)[1]


def test_non_utf8_charset_and_oversize_and_methods(platform):
    client = Client(make_soap_app(platform, max_body=2000))
    reply = client.post("/WebService.asmx", data=envelope(), headers={"Content-Type": "text/xml; charset=gbk"})
    assert reply.status_code == 500 and fault_of(reply, 11)[0] == "soap:Client"
    reply = post(client, envelope(content="x" * 3000))
    assert reply.status_code == 413 and fault_of(reply, 11)[1]
    reply = client.put("/WebService.asmx", data=envelope(), headers={"Content-Type": "text/xml"})
    assert reply.status_code == 405
    assert client.get("/Other.asmx").status_code == 404
    assert platform.requests == []


# ------------------------------------------------------- zeep round trip


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def live(platform):
    server = make_server("127.0.0.1", 0, make_soap_app(platform), WSGIServer, _QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("port", ["WebServiceSoap", "WebServiceSoap12"])
def test_zeep_round_trip(live, platform, port):
    zeep = pytest.importorskip("zeep")
    client = zeep.Client(f"{live}/WebService.asmx?wsdl")  # the served WSDL, over HTTP
    service = client.bind("WebService", port)
    platform.outcomes.append(OUTCOMES[0])
    result = service.SendHybridSms(
        userName="demo",
        password="demo123",
        sms={"Msisdns": "13800138000", "SMSContent": "测试【华信】", "PlanSendTime": None, "ExtNumber": None},
    )
    assert result.StatusCode == "OK" and result.MsgId == 2**62
    assert result.Balance == Decimal("99.70") and result.Errors.string == OUTCOMES[0].errors
    req = platform.requests[-1]
    assert req.hybrid and req.via == ("soap11" if port == "WebServiceSoap" else "soap12")
    assert req.client_ip == "127.0.0.1"
