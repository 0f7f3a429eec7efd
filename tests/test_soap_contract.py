"""The SOAP surface keeps the contract of wsdl/WebService.wsdl and answers as Microsoft's ASMX does.

All in-process (werkzeug's test client over ``make_soap_app`` with a fake
platform: no database, no server process), so that each proof is about the
SOAP surface alone:

- spyne's model (mockserver/ipyy_mock/soap/models.py) describes the same contract as the
  static WSDL, and that comparison fails on any difference (proved by
  mutating the WSDL in each way the two could drift apart);
- the static WSDL says what docs/contract.md §2 says;
- the WSDL served at ``?wsdl`` is the static file with the caller's address;
- replies validate against the WSDL's own schema and carry each member as §2
  says, in ASMX's exact envelope;
- requests of all five operations become the ``SendRequest`` the core
  expects, read the way XmlSerializer reads them (any order, unknown children
  ignored, the first of a repeated child, nil strings as "");
- ``PlanSendTime`` takes what .NET's AllXsd parser takes, and nothing else;
- bad input gets ASMX's exact answer (HTTP 400 or 415 with an empty body, or
  a 500 Fault of the right version and code), never an unhandled error.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from lxml import etree
from werkzeug.test import Client

from ipyy_client import wsdl as client_wsdl
from ipyy_client.codes import ResultCode
from ipyy_mock.core.domain import SendOutcome, SendRequest
from ipyy_mock.soap import make_soap_app
from ipyy_mock.soap.models import ABSTRACT_TYPES, DOCUMENTATION, spyne_application
from ipyy_mock.soap.xsd import parse_xsd_datetime, static_wsdl

from spyne.interface.wsdl import Wsdl11  # isort: skip  (after ipyy_mock.soap.models, which patches spyne's imports)

STATIC = Path(__file__).resolve().parent.parent / "wsdl" / "WebService.wsdl"
TNS = "http://www.yysms.com/"
OLD_TNS = "http://tempuri.org/"
XS = "{http://www.w3.org/2001/XMLSchema}"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSDL = "{http://schemas.xmlsoap.org/wsdl/}"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
ENV = {11: SOAP11, 12: SOAP12}
CTYPE = {11: "text/xml; charset=utf-8", 12: "application/soap+xml; charset=utf-8"}
BIND = {11: "http://schemas.xmlsoap.org/wsdl/soap/", 12: "http://schemas.xmlsoap.org/wsdl/soap12/"}
OPS = ("SendSms", "SendMms", "SendI18NSms", "SendHybridSms", "HybridSend")
DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
#: The platform's clock in these tests: a PlanSendTime that is a time alone falls on this day.
NOW = datetime(2031, 7, 8, 9, 10, 11)


# ------------------------------------------------------------------ the fake platform and the requests


def ok_outcome() -> SendOutcome:
    return SendOutcome(
        ResultCode.OK,
        task_id=7,
        balance=Decimal("99.95"),
        billing_amount=Decimal("0.05"),
        billing_count=1,
        success_count=1,
        pay_type="prepaid",
        points=1999,
    )


class FakePlatform:
    """Records each SendRequest and answers with the next queued outcome (or an OK one); records the warnings the
    front files without a send (a refused request), and tells the time (for a PlanSendTime that is a time alone)."""

    def __init__(self) -> None:
        self.requests: list[SendRequest] = []
        self.outcomes: list[SendOutcome | Exception] = []
        self.recorded: list[tuple[str, str, list[str]]] = []

    def send(self, req: SendRequest) -> SendOutcome:
        self.requests.append(req)
        outcome = self.outcomes.pop(0) if self.outcomes else ok_outcome()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def record_warnings(self, account, via, warnings, task_id=None, db=None) -> None:
        self.recorded.append((account, via, [w.code for w in warnings]))

    def now_datetime(self) -> datetime:
        return NOW


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def client(platform) -> Client:
    return Client(make_soap_app(platform))


#: Each operation's body parameter, as the WSDL names it.
BODY_PARAM = {"SendSms": "sms", "SendMms": "mms", "SendI18NSms": "sms", "SendHybridSms": "sms", "HybridSend": "body"}
NIL = "xsi:nil"  # a value that writes the element with xsi:nil="true"
MMS_ELEMENTS = (
    "<MmsElement><Name>a.txt</Name><ElementType>Text</ElementType><Base64Text>dGV4dA==</Base64Text></MmsElement>"
)


def el(name: str, value: str | None) -> str:
    """An element of the request; ``value`` is raw XML (None: left out, NIL: xsi:nil)."""
    if value is None:
        return ""
    if value == NIL:
        return f'<{name} xsi:nil="true" />'
    return f"<{name}>{value}</{name}>"


def operation(
    op: str = "SendI18NSms",
    user: str | None = "demo",
    password: str | None = "demo123",
    msisdns: str | None = "8613800138000",
    content: str | None = "测试【华信】",
    ext: str | None = "",
    plan: str | None = NIL,
    subject: str | None = "主题",
    elements: str | None = MMS_ELEMENTS,
    sn: str | None = "1",
    ns: str = TNS,
) -> str:
    """The operation element as a generated client writes it: every member in schema order, ASMX's namespace."""
    param = BODY_PARAM[op]
    if param == "sms":
        inner = el("Msisdns", msisdns) + el("SMSContent", content) + el("ExtNumber", ext) + el("PlanSendTime", plan)
    elif param == "mms":
        inner = (
            el("Msisdns", msisdns)
            + el("Subject", subject)
            + el("ExtNumber", ext)
            + el("PlanSendTime", plan)
            + el("Elements", elements)
        )
    else:
        inner = (
            el("Account", user)
            + el("Password", password)
            + el("Sn", sn)
            + el("SMSContent", content)
            + el("ExtNumber", ext)
            + el("PlanSendTime", plan)
        )
    top = "" if param == "body" else el("userName", user) + el("password", password)
    return f'<{op} xmlns="{ns}">{top}<{param}>{inner}</{param}></{op}>'


def envelope(inner: str, version: int = 11, header: str = "", prolog: str = DECLARATION) -> bytes:
    return (
        f'{prolog}<soap:Envelope xmlns:soap="{ENV[version]}" xmlns:xsi="{XSI}" xmlns:xsd="{XSD_NS}">'
        f"{header}<soap:Body>{inner}</soap:Body></soap:Envelope>"
    ).encode("utf-8")


def request(op: str = "SendI18NSms", version: int = 11, header: str = "", **values) -> bytes:
    return envelope(operation(op, **values), version, header)


def h11(op: str | None = "SendI18NSms", ctype: str = CTYPE[11]) -> dict[str, str]:
    """SOAP 1.1 headers: a SOAPAction naming ``op`` (None: no SOAPAction header at all)."""
    return {"Content-Type": ctype} if op is None else {"Content-Type": ctype, "SOAPAction": f'"{TNS}{op}"'}


def h12(op: str | None = "SendI18NSms", ctype: str = CTYPE[12]) -> dict[str, str]:
    """SOAP 1.2 headers: the action parameter naming ``op`` (None: no action parameter)."""
    return {"Content-Type": ctype if op is None else f'{ctype}; action="{TNS}{op}"'}


def headers_for(version: int, op: str | None) -> dict[str, str]:
    return h11(op) if version == 11 else h12(op)


def post(client: Client, body: bytes, headers: dict[str, str], path: str = "/WebService.asmx", **environ):
    return client.post(path, data=body, headers=headers, environ_base=environ or None)


# ------------------------------------------------------------------ spyne's model == the static WSDL


def qname(elem: etree._Element, value: str) -> str:
    prefix, _, local = value.rpartition(":")
    return f"{{{elem.nsmap[prefix or None]}}}{local}"


def children(elem: etree._Element) -> list[etree._Element]:
    return [c for c in elem if isinstance(c.tag, str)]


def particles(parent: etree._Element) -> list[tuple[str, str, str, str, str]]:
    """The members of a type or wrapper: (name, type, minOccurs, maxOccurs, nillable) in order, defaults spelled
    out (an xs:sequence of xs:element is the only content model of this contract; anything else fails here)."""
    content = children(parent)
    if not content:
        return []
    assert [c.tag for c in content] == [XS + "sequence"], [c.tag for c in content]
    members = []
    for e in children(content[0]):
        assert e.tag == XS + "element" and e.get("ref") is None, etree.tostring(e)
        members.append(
            (
                e.get("name"),
                qname(e, e.get("type")),
                e.get("minOccurs", "1"),
                e.get("maxOccurs", "1"),
                e.get("nillable", "false"),
            )
        )
    return members


def complex_type(ctype: etree._Element, abstract: str) -> dict:
    """A named complexType: whether it is abstract, its base type (complexContent/extension) and its own members."""
    assert ctype.get("mixed", "false") == "false"
    content = children(ctype)
    if content and content[0].tag == XS + "complexContent":
        (cc,) = content
        assert cc.get("mixed", "false") == "false"
        (extension,) = children(cc)
        assert extension.tag == XS + "extension", extension.tag
        return {"abstract": abstract, "base": qname(extension, extension.get("base")), "members": particles(extension)}
    return {"abstract": abstract, "base": None, "members": particles(ctype)}


def summary(doc: etree._Element, *, spyne: bool = False) -> dict:
    """The contract a WSDL describes, free of the generator's style.

    ASMX writes each operation's wrapper element with an anonymous type, spyne with a named type of the same name
    (and a global element for every type besides): both become the wrapper's member list. spyne cannot write
    ``abstract="true"`` (models.ABSTRACT_TYPES says which types are) and writes a SOAPAction without the
    namespace; ASMX writes ``mixed="false"`` on complexContent and names every message part ``parameters``.
    Everything else (names, order, occurrence, nillability, types, base types, enumerations, documentation,
    SOAPActions, styles) is kept, so two summaries are equal only when the two documents mean the same contract.
    """
    (schema,) = doc.findall(f"{WSDL}types/{XS}schema")
    messages = {m.get("name"): children(m) for m in doc.findall(f"{WSDL}message")}
    part_elements = set()
    for parts in messages.values():
        (part,) = parts
        part_elements.add(qname(part, part.get("element")))
    named = {c.get("name"): c for c in schema.findall(f"{XS}complexType")}

    elements, wrapper_types = {}, set()
    for e in schema.findall(f"{XS}element"):
        assert e.get("nillable", "false") == "false" and e.get("minOccurs") is None
        name = e.get("name")
        if f"{{{TNS}}}{name}" not in part_elements:
            # spyne declares a global element for each of its types; ASMX declares none but the wrappers
            assert spyne and qname(e, e.get("type")) == f"{{{TNS}}}{name}" and name in named, etree.tostring(e)
            continue
        anonymous = e.find(f"{XS}complexType")
        if spyne:
            assert anonymous is None and qname(e, e.get("type")) == f"{{{TNS}}}{name}"
            wrapper_types.add(name)
            anonymous = named[name]
        else:
            assert anonymous is not None and e.get("type") is None
            assert anonymous.get("name") is None and anonymous.get("mixed", "false") == "false"
        elements[name] = particles(anonymous)

    types = {}
    for name, ctype in named.items():
        if name in wrapper_types:
            continue
        if spyne:
            assert ctype.get("abstract") is None, "spyne now writes abstract: read it instead of ABSTRACT_TYPES"
            abstract = "true" if name in ABSTRACT_TYPES else "false"
        else:
            abstract = ctype.get("abstract", "false")
        types[name] = complex_type(ctype, abstract)
    if spyne:
        assert ABSTRACT_TYPES <= set(types), ABSTRACT_TYPES - set(types)

    simple = {}
    for s in schema.findall(f"{XS}simpleType"):
        (restriction,) = children(s)
        assert restriction.tag == XS + "restriction"
        values = []
        for facet in children(restriction):
            assert facet.tag == XS + "enumeration"
            values.append(facet.get("value"))
        simple[s.get("name")] = (qname(restriction, restriction.get("base")), values)

    def part_element(io: etree._Element) -> str:
        (part,) = messages[qname(io, io.get("message")).split("}")[1]]
        return qname(part, part.get("element"))

    operations = []
    (port_type,) = doc.findall(f"{WSDL}portType")
    for op in port_type.findall(f"{WSDL}operation"):
        docs = [d.text for d in op.findall(f"{WSDL}documentation")]
        if spyne:
            assert docs == ([DOCUMENTATION[op.get("name")]] if op.get("name") in DOCUMENTATION else []), docs
        operations.append(
            (
                op.get("name"),
                part_element(op.find(f"{WSDL}input")),
                part_element(op.find(f"{WSDL}output")),
                docs,
            )
        )

    bindings = {}
    for binding in doc.findall(f"{WSDL}binding"):
        (version,) = [v for v, ns in BIND.items() if binding.find(f"{{{ns}}}binding") is not None]
        soap = f"{{{BIND[version]}}}"
        ops = []
        for op in binding.findall(f"{WSDL}operation"):
            soap_op = op.find(f"{soap}operation")
            action = soap_op.get("soapAction")
            if spyne:
                assert not action.startswith(TNS), "spyne now writes the namespace: drop the prefixing below"
                action = TNS + action
            uses = tuple(op.find(f"{WSDL}{d}/{soap}body").get("use") for d in ("input", "output"))
            ops.append((op.get("name"), action, soap_op.get("style"), uses))
        bindings[version] = ops
    return {
        "schema": (schema.get("targetNamespace"), schema.get("elementFormDefault"), doc.get("targetNamespace")),
        "elements": elements,
        "types": types,
        "simple": simple,
        "operations": operations,
        "bindings": bindings,
    }


@functools.cache
def spyne_summary(protocol: str) -> dict:
    wsdl = Wsdl11(spyne_application(protocol).interface)
    wsdl.build_interface_document("http://localhost/WebService.asmx")
    return summary(etree.fromstring(wsdl.get_interface_document()), spyne=True)


def static_root() -> etree._Element:
    return etree.parse(str(STATIC)).getroot()


def differences(static: dict) -> list[str]:
    """What the static WSDL's summary and spyne's (one document per SOAP version) disagree on."""
    spyne11, spyne12 = spyne_summary("soap11"), spyne_summary("soap12")
    found = [key for key in ("schema", "elements", "types", "simple", "operations") if static[key] != spyne11[key]]
    found += [
        key + " (SOAP 1.2 model)" for key in ("schema", "elements", "types", "simple") if spyne12[key] != spyne11[key]
    ]
    if static["bindings"].get(11) != spyne11["bindings"].get(11):
        found.append("SOAP 1.1 binding")
    if static["bindings"].get(12) != spyne12["bindings"].get(12):
        found.append("SOAP 1.2 binding")
    return found


def test_static_wsdl_is_the_packaged_one():
    """One contract: the file in wsdl/, the copy the client packages and what the mock serves are the same bytes."""
    assert static_wsdl() == STATIC.read_bytes() == client_wsdl.packaged_wsdl()


def test_spyne_model_matches_the_static_wsdl():
    """The service definition and the served contract cannot drift apart unnoticed."""
    assert differences(summary(static_root())) == []


def _find(root: etree._Element, path: str) -> etree._Element:
    found = root.find(path)
    assert found is not None, path
    return found


def _member(root: etree._Element, type_name: str, member: str) -> etree._Element:
    return _find(root, f".//{XS}complexType[@name='{type_name}']//{XS}element[@name='{member}']")


def _wrapper_member(root: etree._Element, element: str, member: str) -> etree._Element:
    return _find(root, f"{WSDL}types/{XS}schema/{XS}element[@name='{element}']//{XS}element[@name='{member}']")


def _swap_first(parent: etree._Element, tag: str) -> None:
    items = parent.findall(tag)
    parent.remove(items[0])
    items[1].addnext(items[0])


def _enumeration(root: etree._Element, name: str) -> etree._Element:
    return _find(root, f".//{XS}simpleType[@name='{name}']/{XS}restriction")


def _binding_op(root: etree._Element, binding: str, op: str) -> etree._Element:
    return _find(root, f"{WSDL}binding[@name='{binding}']/{WSDL}operation[@name='{op}']/*[@soapAction]")


def _port_op(root: etree._Element, op: str) -> etree._Element:
    return _find(root, f"{WSDL}portType/{WSDL}operation[@name='{op}']")


def _add_doc(op: etree._Element) -> None:
    doc = etree.Element(f"{WSDL}documentation")
    doc.text = "混合发送"
    op.insert(0, doc)


def _new_member(parent: etree._Element) -> None:
    etree.SubElement(parent, f"{XS}element", name="Extra", type="s:string", minOccurs="0", maxOccurs="1")


MUTATIONS = {
    "member renamed": lambda r: _member(r, "SmsObject", "Msisdns").set("name", "Msisdn"),
    "members reordered": lambda r: _swap_first(
        _find(r, f".//{XS}complexType[@name='SendResultBase']/{XS}sequence"), f"{XS}element"
    ),
    "member dropped": lambda r: (lambda e: e.getparent().remove(e))(_member(r, "SendResultBase", "CustomId")),
    "member added to a subtype": lambda r: _new_member(
        _find(r, f".//{XS}complexType[@name='I18NSendResult']//{XS}sequence")
    ),
    "minOccurs": lambda r: _member(r, "SendResultBase", "Description").set("minOccurs", "1"),
    "maxOccurs": lambda r: _member(r, "ArrayOfString", "string").set("maxOccurs", "1"),
    "nillable": lambda r: _member(r, "SmsObject", "PlanSendTime").set("nillable", "false"),
    "nillable added": lambda r: _member(r, "HybridSms", "Sn").set("nillable", "true"),
    "member type": lambda r: _member(r, "SendResultBase", "Amount").set("type", "s:int"),
    "member of an enumeration type": lambda r: _member(r, "MmsElement", "ElementType").set("type", "s:string"),
    "base type": lambda r: _find(r, f".//{XS}complexType[@name='I18NSendResult']//{XS}extension").set(
        "base", "tns:SendResult"
    ),
    "extension dropped": lambda r: (lambda t: (t.remove(t[0]), etree.SubElement(t, f"{XS}sequence")))(
        _find(r, f".//{XS}complexType[@name='SendResult']")
    ),
    "not abstract": lambda r: _find(r, f".//{XS}complexType[@name='SendResultBase']").attrib.pop("abstract"),
    "abstract subtype": lambda r: _find(r, f".//{XS}complexType[@name='SendResult']").set("abstract", "true"),
    "enumeration value dropped": lambda r: (lambda e: e.remove(e[-2]))(_enumeration(r, "ResultCode")),
    "enumeration reordered": lambda r: _swap_first(_enumeration(r, "ResultCode"), f"{XS}enumeration"),
    "enumeration value added": lambda r: etree.SubElement(
        _enumeration(r, "MmsElementType"), f"{XS}enumeration", value="Mp5"
    ),
    "enumeration base": lambda r: _enumeration(r, "MmsElementType").set("base", "s:token"),
    "wrapper member dropped": lambda r: (lambda e: e.getparent().remove(e))(_wrapper_member(r, "SendSms", "password")),
    "wrapper member type": lambda r: _wrapper_member(r, "SendI18NSmsResponse", "SendI18NSmsResult").set(
        "type", "tns:I18NSendResult"
    ),
    "wrapper occurrence": lambda r: _wrapper_member(r, "SendHybridSmsResponse", "SendHybridSmsResult").set(
        "minOccurs", "1"
    ),
    "type added": lambda r: etree.SubElement(_find(r, f"{WSDL}types/{XS}schema"), f"{XS}complexType", name="Extra"),
    "SOAP 1.1 SOAPAction": lambda r: _binding_op(r, "WebServiceSoap", "SendMms").set("soapAction", f"{TNS}Mms"),
    "SOAP 1.2 SOAPAction": lambda r: _binding_op(r, "WebServiceSoap12", "HybridSend").set("soapAction", "HybridSend"),
    "binding style": lambda r: _binding_op(r, "WebServiceSoap", "SendSms").set("style", "rpc"),
    "documentation changed": lambda r: _find(_port_op(r, "SendSms"), f"{WSDL}documentation").__setattr__(
        "text", "发送"
    ),
    "documentation added": lambda r: _add_doc(_port_op(r, "HybridSend")),
    "operation message": lambda r: _find(_port_op(r, "SendSms"), f"{WSDL}input").set("message", "tns:SendMmsSoapIn"),
    "element form": lambda r: _find(r, f"{WSDL}types/{XS}schema").set("elementFormDefault", "unqualified"),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_the_model_comparison_fails_on_any_difference(mutation):
    """The proof above can fail: each way the WSDL could differ from the model makes the two summaries differ."""
    root = static_root()
    MUTATIONS[mutation](root)
    assert differences(summary(root)) != [], f"{mutation}: not detected"


def test_static_wsdl_says_what_the_design_says():
    """docs/contract.md §2, member by member: the vendor's real contract (namespace, five operations, abstract
    SendResultBase with its two subtypes, HybridSendResult of its own, the 54 codes in the vendor's order)."""
    root = static_root()
    static = summary(root)
    s, t = "{http://www.w3.org/2001/XMLSchema}", f"{{{TNS}}}"

    def opt(name: str, kind: str) -> tuple:
        return (name, kind, "0", "1", "false")

    def req(name: str, kind: str) -> tuple:
        return (name, kind, "1", "1", "false")

    when = ("PlanSendTime", s + "dateTime", "1", "1", "true")
    base_members = [
        req("PayType", s + "int"),
        req("StatusCode", t + "ResultCode"),
        opt("Description", s + "string"),
        opt("MsgId", s + "string"),
        req("SuccessCounts", s + "int"),
        req("BillingCount", s + "int"),
        req("Amount", s + "long"),
        req("Balance", s + "decimal"),
        req("BillingAmount", s + "decimal"),
        opt("Errors", t + "ArrayOfString"),
        opt("AlterSendResult", t + "SendResultBase"),
        opt("CustomId", s + "string"),
    ]

    def plain(members: list, abstract: str = "false") -> dict:
        return {"abstract": abstract, "base": None, "members": members}

    assert static["schema"] == (TNS, "qualified", TNS)
    assert static["types"] == {
        "SmsObject": plain(
            [opt("Msisdns", s + "string"), opt("SMSContent", s + "string"), opt("ExtNumber", s + "string"), when]
        ),
        "SendResultBase": plain(base_members, abstract="true"),
        "SendResult": {"abstract": "false", "base": t + "SendResultBase", "members": []},
        "I18NSendResult": {"abstract": "false", "base": t + "SendResultBase", "members": [opt("Mark", s + "string")]},
        "ArrayOfString": plain([("string", s + "string", "0", "unbounded", "true")]),
        "MmsObject": plain(
            [
                opt("Msisdns", s + "string"),
                opt("Subject", s + "string"),
                opt("ExtNumber", s + "string"),
                when,
                opt("Elements", t + "ArrayOfMmsElement"),
            ]
        ),
        "ArrayOfMmsElement": plain([("MmsElement", t + "MmsElement", "0", "unbounded", "true")]),
        "MmsElement": plain(
            [opt("Name", s + "string"), req("ElementType", t + "MmsElementType"), opt("Base64Text", s + "string")]
        ),
        "HybridSms": plain(
            [
                opt("Account", s + "string"),
                opt("Password", s + "string"),
                opt("Sn", s + "string"),
                opt("SMSContent", s + "string"),
                opt("ExtNumber", s + "string"),
                when,
            ]
        ),
        "HybridSendResult": plain(
            [
                req("StatusCode", t + "ResultCode"),
                opt("Description", s + "string"),
                opt("MsgId", s + "string"),
                req("Amount", s + "long"),
                req("SuccessCounts", s + "int"),
                req("BillingAmount", s + "decimal"),
                opt("ErrorsCode", t + "ArrayOfString"),
                req("JobType", s + "int"),
            ]
        ),
    }
    credentials = [opt("userName", s + "string"), opt("password", s + "string")]
    results = {
        "SendSms": "SendResult",
        "SendMms": "SendResult",
        "SendI18NSms": "SendResultBase",
        "SendHybridSms": "SendResultBase",
        "HybridSend": "HybridSendResult",
    }
    params = {"SendSms": "SmsObject", "SendMms": "MmsObject", "SendI18NSms": "SmsObject", "SendHybridSms": "SmsObject"}
    expected_elements = {"HybridSend": [opt("body", t + "HybridSms")]}
    for op, kind in params.items():
        expected_elements[op] = credentials + [opt(BODY_PARAM[op], t + kind)]
    for op, result in results.items():
        expected_elements[op + "Response"] = [opt(op + "Result", t + result)]
    assert static["elements"] == expected_elements
    assert static["simple"] == {
        "ResultCode": (s + "string", [c.name for c in ResultCode]),
        "MmsElementType": (
            s + "string",
            ["Unknown", "Jpg", "Gif", "Png", "Bmp", "Smil", "Wav", "Mid", "Amr", "Mp3", "Text", "Xml", "Mp4"],
        ),
    }
    assert len(static["simple"]["ResultCode"][1]) == 54 and static["simple"]["ResultCode"][1][-1] == "InternalError"
    docs = {"SendSms": ["发送短信接口"], "SendMms": ["发送彩信接口"], "SendI18NSms": ["国际短信发送"]}
    assert static["operations"] == [(op, t + op, t + op + "Response", docs.get(op, [])) for op in OPS]
    assert DOCUMENTATION == {op: text for op, (text,) in docs.items()}
    assert static["bindings"] == {
        v: [(op, TNS + op, "document", ("literal", "literal")) for op in OPS] for v in (11, 12)
    }
    # what the summary leaves out as style, checked here as the vendor's ASMX writes it
    messages = {m.get("name"): children(m) for m in root.findall(f"{WSDL}message")}
    assert list(messages) == [f"{op}Soap{d}" for op in OPS for d in ("In", "Out")]
    assert all(part.get("name") == "parameters" for (part,) in messages.values())
    assert [
        b.find(f"{{{BIND[v]}}}binding").get("transport") for v, b in zip((11, 12), root.findall(f"{WSDL}binding"))
    ] == ["http://schemas.xmlsoap.org/soap/http"] * 2
    (service,) = root.findall(f"{WSDL}service")
    assert service.get("name") == "WebService"
    ports = {p.get("name"): (p.get("binding"), children(p)[0].get("location")) for p in service.iter(f"{WSDL}port")}
    address = "https://dx.ipyy.net/webservice.asmx"
    assert ports == {
        "WebServiceSoap": ("tns:WebServiceSoap", address),
        "WebServiceSoap12": ("tns:WebServiceSoap12", address),
    }
    assert (client_wsdl.TNS, client_wsdl.OPERATIONS) == (TNS, OPS)


# ------------------------------------------------------------------ the served WSDL

ADDRESS = re.compile(rb'(<soap(?:12)?:address location=")[^"]*(")')


@pytest.mark.parametrize("query", ["wsdl", "WSDL", "Wsdl", "wsdl=", "op=x&WSDL"])
def test_served_wsdl_is_the_static_file_with_the_request_address(client, query):
    """ASMX serves the contract with its own address in both ports, and nothing else changed."""
    reply = client.get(f"/WebService.asmx?{query}", headers={"Host": "mock.example:8081"})
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/xml; charset=utf-8"
    served = reply.get_data()
    assert ADDRESS.findall(served) == [(b'<soap:address location="', b'"'), (b'<soap12:address location="', b'"')]
    assert served.count(b'location="http://mock.example:8081/WebService.asmx"') == 2
    assert ADDRESS.sub(rb"\1X\2", served) == ADDRESS.sub(rb"\1X\2", STATIC.read_bytes())


@pytest.mark.parametrize("path", ["/webservice.asmx", "/WEBSERVICE.ASMX", "/WebService.ASMX"])
def test_served_wsdl_keeps_the_path_as_requested(client, path):
    """IIS matches the path in any case and ASMX writes the URL as it was called: the vendor's own WSDL says
    https://dx.ipyy.net/webservice.asmx, in lower case, because that is how it was fetched."""
    reply = client.get(f"{path}?wsdl", base_url="https://secure.example")
    assert reply.get_data().count(f'location="https://secure.example{path}"'.encode()) == 2


def test_served_wsdl_refuses_a_hostile_host(client):
    """The Host header goes into XML: anything but host[:port] falls back to the server's own name."""
    reply = client.get("/WebService.asmx?wsdl", headers={"Host": 'evil"><x a="'}, base_url="http://fallback.local:8080")
    etree.fromstring(reply.get_data())  # still well-formed
    assert reply.get_data().count(b'location="http://fallback.local:8080/WebService.asmx"') == 2


def test_served_wsdl_loads_in_zeep(client, tmp_path):
    """A generated client sees the five operations, their SOAPActions and the caller's address."""
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
        assert {name: op.soapaction for name, op in port.binding._operations.items()} == {op: TNS + op for op in OPS}


def test_get_without_wsdl_is_a_help_page(client):
    reply = client.get("/WebService.asmx")
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "text/html; charset=utf-8"
    page = reply.get_data(as_text=True)
    assert "?WSDL" in page and all(op in page for op in OPS) and TNS in page
    head = client.head("/WebService.asmx?wsdl")
    assert head.status_code == 200 and head.get_data() == b""


def test_a_post_with_a_query_string_is_a_soap_call(client, platform):
    """The vendor's Java demo posts its envelope to ``WebService.asmx?wsdl``: ASMX takes any POST as SOAP."""
    reply = post(client, request("SendSms"), h11("SendSms"), path="/WebService.asmx?wsdl")
    assert reply.status_code == 200 and b"<SendSmsResponse " in reply.get_data()
    assert len(platform.requests) == 1


# ------------------------------------------------------------------ replies: valid per the WSDL, every member


OUTCOMES = {
    "ok with refused recipients": SendOutcome(
        ResultCode.OK,
        task_id=2**62,
        balance=Decimal("99.70"),
        billing_amount=Decimal("0.30"),
        billing_count=1,
        success_count=1,
        errors=["8613800000002:MsisdnBlack", "8613800000003:MsisdnNoChannel"],
        pay_type="prepaid",
        points=1994,
    ),
    "ok, decimals keep their scale": SendOutcome(
        ResultCode.OK,
        task_id=1000001,
        balance=Decimal("99.90"),
        billing_amount=Decimal("0.10"),
        billing_count=2,
        success_count=2,
        pay_type="postpaid",
        points=1998,
    ),
    "refused before the login": SendOutcome(ResultCode.PasswordError),
    "refused after the login": SendOutcome(
        ResultCode.AmountNotEnough,
        balance=Decimal("1E+2"),
        billing_amount=Decimal("1E-7"),
        pay_type="postpaid",
        points=2000,
    ),
    "every recipient refused": SendOutcome(
        ResultCode.MsisdnBlack, balance=Decimal("0"), errors=["8613800000002:MsisdnBlack"], pay_type="prepaid"
    ),
    "a code without a number": SendOutcome(
        ResultCode.FrequentOperation, balance=Decimal("5.00"), pay_type="prepaid", points=100
    ),
}
#: The run-time type each reply names in xsi:type (None: the declared type is concrete, no xsi:type).
XSI_TYPE = {
    "SendSms": None,
    "SendMms": None,
    "SendI18NSms": "I18NSendResult",
    "SendHybridSms": "SendResult",
    "HybridSend": None,
}


def decimal_text(value: Decimal) -> str:
    """How .NET writes a decimal: its own scale, never an exponent (99.90, 0.10, 100, 0.0000001)."""
    return format(value, "f")


def expected_members(op: str, outcome: SendOutcome) -> list[tuple[str, object]]:
    """The result's children in order, as docs/contract.md §2 says the mock fills each member."""
    msg_id = [("MsgId", str(outcome.task_id))] if outcome.code is ResultCode.OK else []
    if op == "HybridSend":
        return [
            ("StatusCode", outcome.code.name),
            ("Description", outcome.code.description),
            *msg_id,
            ("Amount", str(outcome.points)),
            ("SuccessCounts", str(outcome.success_count)),
            ("BillingAmount", decimal_text(outcome.billing_amount)),
            *([("ErrorsCode", outcome.errors)] if outcome.errors else []),
            ("JobType", "0"),
        ]
    return [
        ("PayType", {"prepaid": "1", "postpaid": "2"}.get(outcome.pay_type or "", "0")),
        ("StatusCode", outcome.code.name),
        ("Description", outcome.code.description),
        *msg_id,
        ("SuccessCounts", str(outcome.success_count)),
        ("BillingCount", str(outcome.billing_count)),
        ("Amount", str(outcome.points)),
        ("Balance", decimal_text(outcome.balance)),
        ("BillingAmount", decimal_text(outcome.billing_amount)),
        *([("Errors", outcome.errors)] if outcome.errors else []),
    ]


def actual_members(result: etree._Element) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for child in result:
        assert child.tag.startswith(f"{{{TNS}}}") and not child.attrib, etree.tostring(child)
        name = etree.QName(child).localname
        if name in ("Errors", "ErrorsCode"):
            assert all(s.tag == f"{{{TNS}}}string" for s in child)
            out.append((name, [s.text for s in child]))
        else:
            assert len(child) == 0
            out.append((name, child.text))
    return out


def response_of(reply, op: str, version: int) -> etree._Element:
    """The response wrapper, after checking the envelope is ASMX's to the byte."""
    data = reply.get_data()
    start = (
        f'{DECLARATION}<soap:Envelope xmlns:soap="{ENV[version]}" xmlns:xsi="{XSI}" xmlns:xsd="{XSD_NS}">'
        f'<soap:Body><{op}Response xmlns="{TNS}"><{op}Result'
    ).encode()
    assert data.startswith(start), data[:400]
    assert data.endswith(f"</{op}Result></{op}Response></soap:Body></soap:Envelope>".encode()), data[-200:]
    root = etree.fromstring(data)
    (body,) = root
    (response,) = body
    return response


@functools.cache
def contract_schema() -> etree.XMLSchema:
    return client_wsdl.compile_schema(STATIC.read_bytes())


@pytest.mark.parametrize("version", [11, 12])
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("name", OUTCOMES)
def test_replies_validate_and_carry_each_member(client, platform, version, op, name):
    """Every reply is valid against the WSDL's schema (the abstract SendResultBase only with its xsi:type), and
    each member says what §2 says: MsgId only on OK, Amount the points, PayType 1/2/0, Errors only when a
    recipient was refused, decimals with their scale, the members never set left out."""
    outcome = OUTCOMES[name]
    platform.outcomes.append(outcome)
    reply = post(client, request(op, version), headers_for(version, op))
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.headers["Content-Type"] == CTYPE[version]
    assert reply.headers["Cache-Control"] == "private, max-age=0"
    response = response_of(reply, op, version)
    schema = contract_schema()
    assert schema.validate(copy.deepcopy(response)), schema.error_log
    (result,) = response
    assert result.tag == f"{{{TNS}}}{op}Result"
    assert dict(result.attrib) == ({f"{{{XSI}}}type": XSI_TYPE[op]} if XSI_TYPE[op] else {})
    assert actual_members(result) == expected_members(op, outcome)


def test_the_schema_check_can_fail(client):
    """The validation above means something: without its xsi:type the abstract result is invalid, and so is a
    code outside the enumeration."""
    reply = post(client, request("SendI18NSms"), h11("SendI18NSms"))
    response = response_of(reply, "SendI18NSms", 11)
    schema = contract_schema()
    assert schema.validate(copy.deepcopy(response))
    untyped = copy.deepcopy(response)
    del untyped[0].attrib[f"{{{XSI}}}type"]
    assert not schema.validate(untyped)
    unknown = copy.deepcopy(response)
    unknown[0].find(f"{{{TNS}}}StatusCode").text = "NewCode"
    assert not schema.validate(unknown)
    assert client_wsdl.compile_schema(STATIC.read_bytes(), open_codes=True).validate(unknown)


@pytest.mark.parametrize("op", OPS)
def test_a_failing_platform_is_an_internal_error_reply_not_a_500(client, platform, op, caplog):
    """A bug behind the surface still answers in the contract: the vendor's own code for it, nothing else set."""
    platform.outcomes.append(RuntimeError("database is locked"))
    with caplog.at_level(logging.ERROR, logger="ipyy_mock.soap"):
        reply = post(client, request(op), h11(op))
    assert reply.status_code == 200
    (result,) = response_of(reply, op, 11)
    assert actual_members(result) == expected_members(op, SendOutcome(ResultCode.InternalError))
    assert "platform.send failed" in caplog.text


# ------------------------------------------------------------------ request translation


PRODUCT = {"SendMms": "mms", "HybridSend": "hybrid-send"}


@pytest.mark.parametrize("routing", ["action", "element"])
@pytest.mark.parametrize("version", [11, 12])
@pytest.mark.parametrize("op", OPS)
def test_request_becomes_a_send_request(client, platform, version, op, routing):
    """Each operation's parameters reach the core as §2 says: SendMms and HybridSend as products no account has,
    HybridSend's credentials from its body, Chinese 11-digit numbers allowed except through SendI18NSms."""
    body = request(op, version, plan="2030-01-02T03:04:05", ext="123")
    reply = post(client, body, headers_for(version, op if routing == "action" else None), REMOTE_ADDR="10.9.8.7")
    assert reply.status_code == 200, reply.get_data(as_text=True)
    (req,) = platform.requests
    assert req == SendRequest(
        account="demo",
        password="demo123",
        msisdns=None if op == "HybridSend" else "8613800138000",
        content=None if op == "SendMms" else "测试【华信】",
        plan_send_time=datetime(2030, 1, 2, 3, 4, 5),
        ext_number="123",
        hybrid=op != "SendI18NSms",
        client_ip="10.9.8.7",
        via=f"soap{version}",
        product=PRODUCT.get(op, "sms"),
        warnings=[],
    )


def wrapped(op: str, inner: str, param: str | None = None) -> bytes:
    """An envelope whose operation element holds ``inner`` (and, with ``param``, a body parameter around it)."""
    content = f"<{param}>{inner}</{param}>" if param else inner
    return envelope(f'<{op} xmlns="{TNS}">{content}</{op}>')


def fields(req: SendRequest) -> tuple:
    return (req.account, req.password, req.msisdns, req.content, req.plan_send_time, req.ext_number)


EMPTY_CASES = {
    "an empty string member": (wrapped("SendSms", "<userName/>"), ("", None, None, None, None, None)),
    "a nil string member reads as empty": (
        wrapped("SendSms", '<userName xsi:nil="true"/><password xsi:nil="true"></password>'),
        ("", "", None, None, None, None),
    ),
    "a nil body object is an empty one": (
        wrapped("SendSms", '<userName>demo</userName><sms xsi:nil="true"/>'),
        ("demo", None, None, None, None, None),
    ),
    "an empty body object": (wrapped("SendSms", "<sms/>"), (None, None, None, None, None, None)),
    "an empty operation element": (wrapped("SendSms", ""), (None, None, None, None, None, None)),
    "self-closing operation element": (envelope(f'<SendSms xmlns="{TNS}"/>'), (None, None, None, None, None, None)),
    "empty members of the body": (
        wrapped("SendSms", "<Msisdns/><SMSContent></SMSContent><ExtNumber/>", "sms"),
        (None, None, "", "", None, ""),
    ),
    "PlanSendTime absent or nil is now": (
        wrapped("SendSms", '<Msisdns>1</Msisdns><PlanSendTime xsi:nil="1"/>', "sms"),
        (None, None, "1", None, None, None),
    ),
    "nil members of HybridSend's body": (
        wrapped("HybridSend", '<Account xsi:nil="true"/><Password/><SMSContent xsi:nil="true"/>', "body"),
        ("", "", None, "", None, None),
    ),
}


@pytest.mark.parametrize("name", EMPTY_CASES)
def test_absent_empty_and_nil_fields(client, platform, name):
    """XmlSerializer's reading: an absent member is null, an empty one "", and xsi:nil is honoured only on the
    nillable PlanSendTime (on a string it reads as "", on the body object it gives an empty object); the
    operation runs whatever is missing (the core then refuses with the right code)."""
    body, expected = EMPTY_CASES[name]
    op = etree.QName(etree.fromstring(body)[0][0]).localname
    reply = post(client, body, h11(op))
    assert reply.status_code == 200, reply.get_data(as_text=True)
    (req,) = platform.requests
    assert fields(req) == expected


# What ASMX (XmlSerializer) reads although the WSDL's schema would not validate it: (body, expected user,
# password and msisdns as the platform gets them, the warning codes).
BASE = request("SendI18NSms")
LENIENT = {
    "unqualified children": (
        BASE.replace(f' xmlns="{TNS}"'.encode(), b"")
        .replace(b"<SendI18NSms>", f'<t:SendI18NSms xmlns:t="{TNS}">'.encode())
        .replace(b"</SendI18NSms>", b"</t:SendI18NSms>"),
        None,
        None,
        None,
        ["soap-unknown-element"] * 3,
    ),
    "a member in another namespace": (
        BASE.replace(b"<userName>demo</userName>", b'<userName xmlns="urn:other">demo</userName>'),
        None,
        "demo123",
        "8613800138000",
        ["soap-unknown-element"],
    ),
    "a member in another case": (
        BASE.replace(b"<userName>demo</userName>", b"<UserName>demo</UserName>"),
        None,
        "demo123",
        "8613800138000",
        ["soap-unknown-element"],
    ),
    "wrong order": (
        BASE.replace(
            b"<userName>demo</userName><password>demo123</password>",
            b"<password>demo123</password><userName>demo</userName>",
        ),
        "demo",
        "demo123",
        "8613800138000",
        ["soap-element-order"],
    ),
    "sms children in another order": (
        BASE.replace(b"<Msisdns>8613800138000</Msisdns><SMSContent>", b"<SMSContent>").replace(
            b"</SMSContent>", b"</SMSContent><Msisdns>8613800138000</Msisdns>"
        ),
        "demo",
        "demo123",
        "8613800138000",
        ["soap-element-order"],
    ),
    "unknown child": (
        BASE.replace(b"<userName>", b"<userId>1</userId><userName>"),
        "demo",
        "demo123",
        "8613800138000",
        ["soap-unknown-element"],
    ),
    "a repeated child keeps its first value": (
        BASE.replace(b"<userName>demo</userName>", b"<userName>a</userName><userName>b</userName>"),
        "a",
        "demo123",
        "8613800138000",
        ["soap-repeated-element"],
    ),
    "a repeated body member keeps its first value": (
        BASE.replace(b"<Msisdns>8613800138000</Msisdns>", b"<Msisdns>1</Msisdns><Msisdns>2,3</Msisdns>"),
        "demo",
        "demo123",
        "1",
        ["soap-repeated-element"],
    ),
    "nil username": (
        BASE.replace(b"<userName>demo</userName>", b'<userName xsi:nil="true"/>'),
        "",
        "demo123",
        "8613800138000",
        [],
    ),
    "absent sms": (
        BASE.split(b"<sms>")[0] + b"</SendI18NSms></soap:Body></soap:Envelope>",
        "demo",
        "demo123",
        None,
        [],
    ),
    "another operation after the routed one is skipped": (
        BASE.replace(b"</soap:Body>", operation("SendHybridSms", user="other").encode() + b"</soap:Body>"),
        "demo",
        "demo123",
        "8613800138000",
        [],
    ),
}


@pytest.mark.parametrize("version", (11, 12))
@pytest.mark.parametrize("name", LENIENT)
def test_asmx_lenient_reading_reaches_the_platform_with_warnings(client, platform, name, version):
    """Production clients depend on XmlSerializer's leniency, so the mock reads the same and says so (§7)."""
    body, user, password, msisdns, codes = LENIENT[name]
    if version == 12:
        body = body.replace(SOAP11.encode(), SOAP12.encode())
    reply = post(client, body, headers_for(version, None))
    assert reply.status_code == 200, reply.get_data(as_text=True)
    (req,) = platform.requests
    assert (req.account, req.password, req.msisdns) == (user, password, msisdns)
    assert [w.code for w in req.warnings] == codes


def test_a_second_operation_element_is_read_into_the_same_parameters(client, platform):
    """XmlSerializer's wrapper loop reads every element of the routed operation's name into one parameter array,
    each with its own "already read" flags: a member of the second element overwrites the first's, a member it
    lacks keeps the first's value (Microsoft's XmlSerializationReaderCodeGen.GenerateLiteralMembersElement; the
    ASMX oracle answers OK to a bad userName followed by a second SendSms holding the right one)."""
    first = f'<SendSms xmlns="{TNS}"><userName>bad</userName><password>demo123</password></SendSms>'
    second = f'<SendSms xmlns="{TNS}"><userName>demo</userName></SendSms>'
    reply = post(client, envelope(first + second), h11("SendSms"))
    assert reply.status_code == 200
    (req,) = platform.requests
    assert (req.account, req.password) == ("demo", "demo123")


def test_a_string_member_holding_one_element_reads_its_text_and_closes_early(client, platform):
    """.NET's ReadElementString steps into one child element (ReadString moves inside an element first) and
    stops at its end tag; the parent's end tag then ends the operation element early, so the members after it
    never arrive (the ASMX oracle answers PasswordError: the password was lost). CDATA is text."""
    reply = post(client, request("SendSms", user="<b>demo</b>"), h11("SendSms"))
    assert reply.status_code == 200
    reply = post(client, request("SendSms", user="<![CDATA[de]]>mo"), h11("SendSms"))
    assert reply.status_code == 200
    first, second = platform.requests
    assert (first.account, first.password, first.msisdns) == ("demo", None, None)
    assert (second.account, second.password, second.msisdns) == ("demo", "demo123", "8613800138000")


def test_the_document_order_has_no_warning(client, platform):
    assert post(client, request(plan="2030-01-01T00:00:00", ext="12"), h11()).status_code == 200
    (req,) = platform.requests
    assert req.warnings == [] and req.ext_number == "12" and req.plan_send_time.year == 2030


def test_the_old_namespace_is_routed_by_action_and_binds_nothing(client, platform):
    """This project's client before 0.2 wrote http://tempuri.org/: ASMX runs the operation its SOAPAction names
    (the vendor's) with no parameter bound, so the core refuses it; the mock says why (§7, soap-namespace)."""
    body = request("SendI18NSms", ns=OLD_TNS)
    reply = post(client, body, h11("SendI18NSms"))
    assert reply.status_code == 200
    (req,) = platform.requests
    assert fields(req) == (None,) * 6
    assert [w.code for w in req.warnings] == ["soap-namespace"]


# ------------------------------------------------------------------ PlanSendTime: what XmlConvert takes

UTC = timezone.utc


def tz(hours: int, minutes: int = 0) -> timezone:
    return timezone((-1 if hours < 0 else 1) * timedelta(hours=abs(hours), minutes=minutes))


ALL_XSD_ACCEPTED = {
    "2030-01-02T03:04:05": datetime(2030, 1, 2, 3, 4, 5),
    "2030-01-02T03:04:05-03:30": datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(-timedelta(hours=3, minutes=30))),
    "2030-01-02T03:04:05Z": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
    "2030-01-02T03:04:05z": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
    "2030-01-02T03:04:05.1234567+08:00": datetime(2030, 1, 2, 3, 4, 5, 123457, tzinfo=tz(8)),
    "2030-01-02T03:04:05.0000000001": datetime(2030, 1, 2, 3, 4, 5),
    "2030-01-02": datetime(2030, 1, 2),
    "2030-01-02+08:00": datetime(2030, 1, 2, tzinfo=tz(8)),
    "10:20:30": datetime(NOW.year, NOW.month, NOW.day, 10, 20, 30),
    "10:20:30.5Z": datetime(NOW.year, NOW.month, NOW.day, 10, 20, 30, 500000, tzinfo=UTC),
    "2030-05": datetime(2030, 5, 1),
    "2030": datetime(2030, 1, 1),
    "2030Z": datetime(2030, 1, 1, tzinfo=UTC),
    "--05-01": datetime(1904, 5, 1),
    "--02-29": datetime(1904, 2, 29),
    "--05": datetime(1904, 5, 1),
    "---07": datetime(1904, 1, 7),
    "2028-02-29": datetime(2028, 2, 29),
    "  2030-01-02T03:04:05\n": datetime(2030, 1, 2, 3, 4, 5),
    "2030-01-02T03:04:05+14:00": datetime(2030, 1, 2, 3, 4, 5, tzinfo=tz(14)),
}
ALL_XSD_REFUSED = [
    "2030-01-02T24:00:00",
    "24:00:00",
    "2030-01-02 03:04:05",
    "2030-01-02T03:04",
    "2030-01-02T23:60:00",
    "2030-01-02T23:59:60",
    "2030-02-30",
    "2030-13-01",
    "2030-1-2",
    "203",
    "10000-01-01T00:00:00",
    "0000-01-01",
    "+2030-01-01",
    "2030-01-02T03:04:05.",
    "2030-01-02T03:04:05+0800",
    "2030-01-02T03:04:05 Z",
    "--13",
    "---32",
    "tomorrow",
    "",
]


@pytest.mark.parametrize("text", ALL_XSD_ACCEPTED)
def test_plan_send_time_takes_what_xmlconvert_takes(client, platform, text):
    """.NET's AllXsd parser (XsdDateTime with the flags XmlSerializer uses): a dateTime with or without a zone,
    a date alone, a time alone (on the platform's today), the g-kinds with .NET's filler year 1904."""
    expected = ALL_XSD_ACCEPTED[text]
    assert parse_xsd_datetime(text, NOW.date) == expected
    assert post(client, request(plan=text), h11()).status_code == 200
    got = platform.requests[-1].plan_send_time
    assert got == expected and got.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text",
    ["0001-01-01T00:00:00", "9999-12-31T23:59:59", "2030-01-02T03:04:05+15:00", "2030-01-02T03:04:05-23:59"],
)
def test_plan_send_time_takes_xmlconvert_edges(client, platform, text):
    """Also what .NET takes although it is odd: DateTime.MinValue and MaxValue (what a client whose proxy has a
    plain DateTime sends when unset), and zones up to ±99:99 (XsdDateTime.Parser.ParseZoneAndWhitespace checks
    zoneHour <= 99 and zoneMinute <= 99; the ASMX oracle answers these with a normal reply). A Fault here is
    stricter than the vendor."""
    reply = post(client, request(plan=text), h11())
    assert reply.status_code == 200, fault_of(reply, 11)
    assert platform.requests[-1].plan_send_time is not None


@pytest.mark.parametrize("text", ALL_XSD_REFUSED)
def test_plan_send_time_refuses_what_xmlconvert_refuses(client, platform, text):
    """Anything else is XmlSerializer's FormatException: a Client Fault with .NET's message and the position."""
    reply = post(client, request(plan=text), h11())
    assert reply.status_code == 500
    code, reason = fault_of(reply, 11)
    assert code == "soap:Client"
    assert re.fullmatch(
        r"Server was unable to read request\. ---> There is an error in XML document \(1, \d+\)\. ---> "
        + re.escape(f"The string '{text}' is not a valid AllXsd value."),
        reason,
    ), reason
    assert platform.requests == []
    with pytest.raises(ValueError, match=re.escape(f"The string '{text}' is not a valid AllXsd value.")):
        parse_xsd_datetime(text, NOW.date)


SMS_HEAD = (
    f'<SendSms xmlns="{TNS}"><userName>demo</userName><password>demo123</password><sms><Msisdns>1</Msisdns>'
    "<PlanSendTime>x</PlanSendTime>"
)
POSITIONS = {
    # where XmlTextReader stands once ReadElementString consumed </PlanSendTime>: the next node, 1-based; an
    # element or end element reports the first character of its name (after "<" or "</")
    "an end tag next": (SMS_HEAD + "</sms></SendSms>", "</sms>", 3),
    "a start tag next": (SMS_HEAD + "<ExtNumber>1</ExtNumber></sms></SendSms>", "<ExtNumber>", 2),
    "white space next": (SMS_HEAD + " <ExtNumber>1</ExtNumber></sms></SendSms>", " <ExtNumber>", 1),
}


@pytest.mark.parametrize("name", POSITIONS)
def test_a_value_fault_gives_the_position_xmlserializer_gives(client, name):
    """The (line, column) of the Fault is the reader's position after the bad value (checked against the ASMX
    oracle: 323, 322 and 321 for these three bodies)."""
    inner, marker, offset = POSITIONS[name]
    body = envelope(inner)
    at = body.index(f"</PlanSendTime>{marker}".encode()) + len("</PlanSendTime>")
    column = len(body[:at].decode("utf-8")) + offset
    reply = post(client, body, h11("SendSms"))
    assert f"There is an error in XML document (1, {column})." in fault_of(reply, 11)[1]


# ------------------------------------------------------------------ bad input: ASMX's exact answer


def fault_of(reply, version: int) -> tuple[str, str]:
    """(code, text) of a Fault, after checking its envelope is ASMX's: the declaration, the prefix soap for both
    versions, xsi and xsd declared, and an empty detail element."""
    data = reply.get_data()
    assert data.startswith(
        f'{DECLARATION}<soap:Envelope xmlns:soap="{ENV[version]}" xmlns:xsi="{XSI}" xmlns:xsd="{XSD_NS}">'.encode()
    ), data[:300]
    root = etree.fromstring(data)
    ns = ENV[version]
    fault = root.find(f"{{{ns}}}Body/{{{ns}}}Fault")
    assert fault is not None, data[:300]
    if version == 11:
        code, text = fault.findtext("faultcode"), fault.findtext("faultstring")
        names = [c.tag for c in fault]
        detail = fault.find("detail")
    else:
        code = fault.findtext(f"{{{ns}}}Code/{{{ns}}}Value")
        text = fault.findtext(f"{{{ns}}}Reason/{{{ns}}}Text")
        assert fault.find(f"{{{ns}}}Reason/{{{ns}}}Text").get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
        names = [etree.QName(c).localname for c in fault]
        detail = fault.find(f"{{{ns}}}Detail")
    if code == "soap:MustUnderstand":  # a header Fault: ASMX writes no detail element
        assert detail is None and len(names) == 2, names
    else:
        assert detail is not None and len(detail) == 0 and not detail.text and len(names) == 3, names
    return code, text


ACTION_REQUIRED = "Unable to handle request without a valid action parameter. Please supply a valid soap action."
UNABLE_TO_PROCESS = "Server was unable to process request. ---> "
UNABLE_TO_READ = "Server was unable to read request. ---> "
MISSING_BODY = "Request format is invalid: Missing required soap:Body element."
MISSING_ENVELOPE = "Request format is invalid: Missing required soap:Envelope element."
MISMATCH = "Possible SOAP version mismatch: Envelope namespace {} was unexpected. Expecting " + SOAP11 + "."
NOT_RECOGNIZED = "Server did not recognize the value of HTTP Header SOAPAction: {}."


@dataclass(frozen=True)
class Answer:
    """What ASMX answers: the status, the version its Content-Type says, and the Fault (None: an empty body)."""

    status: int
    version: int
    code: str | None = None
    text: str | re.Pattern[str] | None = None


def empty(status: int, version: int) -> Answer:
    return Answer(status, version)


def fault(version: int, code: str, text: str | re.Pattern[str]) -> Answer:
    return Answer(500, version, code, text)


def value_fault(message: str) -> re.Pattern[str]:
    return re.compile(
        re.escape(UNABLE_TO_READ) + r"There is an error in XML document \(1, \d+\)\. ---> " + re.escape(message)
    )


E11, E12 = request(), request(version=12)
DOCTYPE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + envelope(
    operation(user="&e;"), prolog=""
)
LAUGHS = b'<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>' + envelope(operation(user="&b;"), prolog="")
BROKEN_HEADER = envelope(operation(), header="<soap:Header><a></b></soap:Header>")
_AT = BROKEN_HEADER.index(b"<a></b>")
TAG_MISMATCH = (
    f"The 'a' start tag on line 1 position {_AT + 2} does not match the end tag of 'b'. Line 1, position {_AT + 6}."
)
NO_BODY = {v: f'<soap:Envelope xmlns:soap="{ENV[v]}"/>'.encode() for v in (11, 12)}
ENVELOP = f'<soap:Envelop xmlns:soap="{SOAP11}" xmlns:xsi="{XSI}"><soap:Body>{operation()}</soap:Body></soap:Envelop>'
OTHER_ENVELOPE = E11.replace(SOAP11.encode(), b"urn:other")
UNKNOWN_OP = {v: request(version=v).replace(b"SendI18NSms", b"DeleteEverything") for v in (11, 12)}
PDF = "<MmsElement><Name>a.pdf</Name><ElementType>Pdf</ElementType></MmsElement>"

BAD = {
    # XML that is not well-formed: 400 with no body once routed, a Fault when routing needed the broken part
    "an empty body, routed by SOAPAction": (b"", h11(), empty(400, 11)),
    "an empty body, routed by the SOAP 1.2 action": (b"", h12(), empty(400, 12)),
    "an empty body, routed on it": (
        b"",
        h12(None),
        fault(12, "soap:Receiver", UNABLE_TO_PROCESS + "Root element is missing."),
    ),
    "not XML, routed by SOAPAction": (b"hello", h11(), empty(400, 11)),
    "not XML, routed by the SOAP 1.2 action": (b"hello", h12(), empty(400, 12)),
    "not XML, routed on it": (
        b"hello",
        h12(None),
        fault(12, "soap:Receiver", UNABLE_TO_PROCESS + "Data at the root level is invalid. Line 1, position 1."),
    ),
    "not XML as text/xml without SOAPAction (routed as SOAP 1.2 routes)": (
        b"hello",
        h11(None),
        fault(12, "soap:Receiver", UNABLE_TO_PROCESS + "Data at the root level is invalid. Line 1, position 1."),
    ),
    "cut short, routed by SOAPAction": (E11[:-20], h11(), empty(400, 11)),
    "cut short after the operation element, routed on it": (E11[:-20], h11(None), empty(400, 11)),
    "SOAP 1.2 cut short after the operation element": (E12[:-20], h12(None), empty(400, 12)),
    "broken before the Body, routed on it": (
        BROKEN_HEADER,
        h11(None),
        fault(11, "soap:Server", UNABLE_TO_PROCESS + TAG_MISMATCH),
    ),
    "broken before the Body, routed by SOAPAction": (BROKEN_HEADER, h11(), empty(400, 11)),
    "a SOAP 1.2 envelope broken before its Body, routed by SOAPAction": (
        envelope(operation(), 12, header="<soap:Header><a></b></soap:Header>"),
        h11(),
        empty(400, 12),
    ),
    "a DOCTYPE, routed by SOAPAction": (DOCTYPE, h11(), empty(400, 11)),
    "a DOCTYPE, routed on the body": (
        DOCTYPE,
        h12(None),
        fault(12, "soap:Receiver", UNABLE_TO_PROCESS + "DTD is prohibited in this XML document."),
    ),
    "a DOCTYPE with no subset": (
        b'<!DOCTYPE soap:Envelope SYSTEM "x.dtd">' + envelope(operation(), prolog=""),
        h11(),
        empty(400, 11),
    ),
    "billion laughs": (LAUGHS, h11(), empty(400, 11)),
    "an undeclared entity": (request(user="&e;"), h11(), empty(400, 11)),
    "an undeclared entity, routed on the body": (request(user="&e;"), h11(None), empty(400, 11)),
    "a character reference XML forbids": (request(user="&#0;"), h11(), empty(400, 11)),
    "a string member holding text, then an element": (request(user="de<b>mo</b>"), h11(), empty(400, 11)),
    "a string member holding an empty element": (request(user="<b/>"), h11(), empty(400, 11)),
    "a string member holding an element inside an element": (request(user="<b>de<c/>mo</b>"), h11(), empty(400, 11)),
    "a string member holding a comment": (request(msisdns="86<!-- x -->13800138000"), h11(), empty(400, 11)),
    # values that are not of their type: XmlSerializer's Client Fault
    "a PlanSendTime that is no dateTime": (
        request(plan="tomorrow"),
        h11(),
        fault(11, "soap:Client", value_fault("The string 'tomorrow' is not a valid AllXsd value.")),
    ),
    "an ElementType outside its enumeration": (
        request("SendMms", elements=PDF),
        h11("SendMms"),
        fault(
            11, "soap:Client", value_fault("Instance validation error: 'Pdf' is not a valid value for MmsElementType.")
        ),
    ),
    # routing
    "an unknown operation, routed on the body": (UNKNOWN_OP[11], h11(None), fault(11, "soap:Client", ACTION_REQUIRED)),
    "an unknown operation, SOAP 1.2 without action": (
        UNKNOWN_OP[12],
        h12(None),
        fault(12, "soap:Sender", ACTION_REQUIRED),
    ),
    "an unknown operation, SOAP 1.2 with an unknown action": (
        UNKNOWN_OP[12],
        {"Content-Type": CTYPE[12] + '; action="urn:x"'},
        fault(12, "soap:Sender", "Unable to handle request. The action 'urn:x' was not recognized."),
    ),
    "the wrong namespace on the operation, routed on it": (
        request(ns="http://example.com/"),
        h11(None),
        fault(11, "soap:Client", ACTION_REQUIRED),
    ),
    "the old namespace on the operation, SOAP 1.2 routed on it": (
        request(version=12, ns=OLD_TNS),
        h12(None),
        fault(12, "soap:Sender", ACTION_REQUIRED),
    ),
    "an unknown SOAPAction": (
        E11,
        h11("GetBalance"),
        fault(11, "soap:Client", NOT_RECOGNIZED.format(TNS + "GetBalance")),
    ),
    "an empty SOAPAction": (
        E11,
        {"Content-Type": CTYPE[11], "SOAPAction": '""'},
        fault(11, "soap:Client", NOT_RECOGNIZED.format("")),
    ),
    "a SOAPAction with a plus (a space once URL-decoded)": (
        E11,
        {"Content-Type": CTYPE[11], "SOAPAction": f'"{TNS}Send+Sms"'},
        fault(11, "soap:Client", NOT_RECOGNIZED.format(TNS + "Send Sms")),
    ),
    "a SOAPAction that is one quote": (
        E11,
        {"Content-Type": CTYPE[11], "SOAPAction": '"'},
        fault(11, "soap:Server", UNABLE_TO_PROCESS + "Length cannot be less than zero.\nParameter name: length"),
    ),
    "a Fault as the request, routed on it": (
        envelope("<soap:Fault/>"),
        h11(None),
        fault(11, "soap:Client", ACTION_REQUIRED),
    ),
    "an empty Body, SOAP 1.2 routed on it": (envelope("", 12), h12(None), fault(12, "soap:Sender", ACTION_REQUIRED)),
    # the envelope
    "no Body, routed by SOAPAction": (NO_BODY[11], h11(), fault(11, "soap:Client", UNABLE_TO_READ + MISSING_BODY)),
    "no Body, routed on it": (NO_BODY[11], h11(None), fault(11, "soap:Server", UNABLE_TO_PROCESS + MISSING_BODY)),
    "no Body, SOAP 1.2": (NO_BODY[12], h12(None), fault(12, "soap:Receiver", UNABLE_TO_PROCESS + MISSING_BODY)),
    "no Envelope, routed by SOAPAction": (
        ENVELOP.encode(),
        h11(),
        fault(11, "soap:Client", UNABLE_TO_READ + MISSING_ENVELOPE),
    ),
    "no Envelope, routed on the body": (
        ENVELOP.encode(),
        h11(None),
        fault(11, "soap:Server", UNABLE_TO_PROCESS + MISSING_ENVELOPE),
    ),
    "no Envelope and broken after it, routed by SOAPAction": (
        ENVELOP.replace(f' xmlns:xsi="{XSI}"', "").encode(),
        h11(),
        fault(11, "soap:Client", UNABLE_TO_READ + MISSING_ENVELOPE),
    ),
    "an unknown envelope namespace": (
        OTHER_ENVELOPE,
        h11(),
        fault(11, "soap:VersionMismatch", MISMATCH.format("urn:other")),
    ),
    "an unknown envelope namespace, routed on the body": (
        OTHER_ENVELOPE,
        h12(None),
        fault(11, "soap:VersionMismatch", MISMATCH.format("urn:other")),
    ),
    "an unknown envelope namespace, cut short": (
        OTHER_ENVELOPE[:-20],
        h11(),
        fault(11, "soap:VersionMismatch", MISMATCH.format("urn:other")),
    ),
    "a root that is no envelope": (b"<foo/>", h11(), fault(11, "soap:VersionMismatch", MISMATCH.format(""))),
    "a root that is no envelope, routed on it": (
        b"<foo/>",
        h11(None),
        fault(11, "soap:VersionMismatch", MISMATCH.format("")),
    ),
    # content types: 415 with no body, once routed
    "a SOAP 1.1 envelope as application/soap+xml": (E11, h12(), empty(415, 11)),
    "a SOAP 1.1 envelope as application/soap+xml, routed on it": (E11, h12(None), empty(415, 11)),
    "a SOAP 1.1 envelope as application/soap+xml with a SOAPAction": (E11, h11(ctype=CTYPE[12]), empty(415, 11)),
    "a SOAP 1.1 envelope as application/soap+xml, cut short": (E11[:-20], h12(), empty(415, 11)),
    "text/plain, routed by SOAPAction": (E11, h11(ctype="text/plain"), empty(415, 11)),
    "text/plain cut short, routed by SOAPAction": (E11[:-20], h11(ctype="text/plain"), empty(415, 11)),
    "no Content-Type, routed by SOAPAction": (E11, {"SOAPAction": f'"{TNS}SendI18NSms"'}, empty(415, 11)),
    "multipart/related, routed by SOAPAction": (E11, h11(ctype="multipart/related; type=text/xml"), empty(415, 11)),
    "a form, routed by SOAPAction": (E11, h11(ctype="application/x-www-form-urlencoded"), empty(415, 11)),
    "text/plain with an unknown SOAPAction": (
        E11,
        h11("Nope", ctype="text/plain"),
        fault(11, "soap:Client", NOT_RECOGNIZED.format(TNS + "Nope")),
    ),
    "text/plain without SOAPAction, a SOAP 1.1 envelope": (E11, {"Content-Type": "text/plain"}, empty(415, 12)),
    "text/plain with a SOAPAction, a SOAP 1.2 envelope": (E12, h11(ctype="text/plain"), empty(415, 11)),
    "text/plain without SOAPAction, not XML": (
        b"hello",
        {"Content-Type": "text/plain"},
        fault(12, "soap:Receiver", UNABLE_TO_PROCESS + "Data at the root level is invalid. Line 1, position 1."),
    ),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_input_gets_the_answer_asmx_gives(client, platform, name, caplog):
    """Each request ASMX refuses gets ASMX's exact answer (Microsoft's ServerProtocol and SoapServerProtocol, as
    the ASMX oracle runs them): the status, the version of its Content-Type, and the Fault's code and text or an
    empty body; never an unhandled error, never a send."""
    body, headers, answer = BAD[name]
    with caplog.at_level(logging.ERROR, logger="ipyy_mock"):
        reply = post(client, body, headers)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "refused by the front, not by a crash"
    got = (reply.status_code, reply.headers["Content-Type"])
    assert got == (answer.status, CTYPE[answer.version]), reply.get_data()[:300]
    assert reply.headers["Cache-Control"] == "private"
    if answer.code is None:
        assert reply.get_data() == b""
    else:
        code, text = fault_of(reply, answer.version)
        assert code == answer.code
        if isinstance(answer.text, re.Pattern):
            assert answer.text.fullmatch(text), text
        else:
            assert text == answer.text
    assert platform.requests == []


BOUND = ("demo", "demo123", "8613800138000", "测试【华信】")
NOTHING = (None, None, None, None)
ANSWERED = {
    "a SOAP 1.2 envelope as text/xml with a SOAPAction": (E12, h11(), "SendI18NSms", 12, BOUND, []),
    "a SOAP 1.2 envelope as text/xml without SOAPAction": (E12, h11(None), "SendI18NSms", 12, BOUND, []),
    "SOAP 1.1 without SOAPAction, routed on the body": (E11, h11(None), "SendI18NSms", 11, BOUND, []),
    "an unquoted SOAPAction": (
        E11,
        {"Content-Type": CTYPE[11], "SOAPAction": TNS + "SendI18NSms"},
        "SendI18NSms",
        11,
        BOUND,
        [],
    ),
    "a URL-encoded SOAPAction": (
        E11,
        {"Content-Type": CTYPE[11], "SOAPAction": '"http%3A%2F%2Fwww.yysms.com%2FSendI18NSms"'},
        "SendI18NSms",
        11,
        BOUND,
        [],
    ),
    "a URL-encoded SOAP 1.2 action": (
        E12,
        {"Content-Type": CTYPE[12] + '; action="http%3A%2F%2Fwww.yysms.com%2FSendI18NSms"'},
        "SendI18NSms",
        12,
        BOUND,
        [],
    ),
    "an unknown SOAP 1.2 action and a known element": (
        E12,
        {"Content-Type": CTYPE[12] + '; action="urn:x"'},
        "SendI18NSms",
        12,
        BOUND,
        [],
    ),
    "the SOAPAction of another operation": (
        E11,
        h11("SendHybridSms"),
        "SendHybridSms",
        11,
        NOTHING,
        ["soap-action-mismatch"],
    ),
    "the SOAP 1.2 action of another operation": (E12, h12("SendSms"), "SendSms", 12, NOTHING, ["soap-action-mismatch"]),
    "the wrong namespace on the operation, the right SOAPAction": (
        request(ns="http://example.com/"),
        h11(),
        "SendI18NSms",
        11,
        NOTHING,
        ["soap-action-mismatch"],
    ),
    "an unknown operation, routed by SOAPAction": (
        UNKNOWN_OP[11],
        h11(),
        "SendI18NSms",
        11,
        NOTHING,
        ["soap-action-mismatch"],
    ),
    "a Fault as the request, routed by SOAPAction": (
        envelope("<soap:Fault/>"),
        h11(),
        "SendI18NSms",
        11,
        NOTHING,
        ["soap-action-mismatch"],
    ),
    "an empty Body, routed by SOAPAction": (envelope(""), h11(), "SendI18NSms", 11, NOTHING, []),
    # encodings
    "a byte that is not UTF-8 under charset=utf-8": (
        E11.replace(b"demo123", b"demo\xff\xfe123"),
        h11(),
        "SendI18NSms",
        11,
        ("demo", "demo\ufffd\ufffd123", "8613800138000", "测试【华信】"),
        ["soap-bad-bytes"],
    ),
    "a declaration naming latin-1 under charset=utf-8": (
        E11.replace(b'encoding="utf-8"', b'encoding="iso-8859-1"'),
        h11(),
        "SendI18NSms",
        11,
        BOUND,
        [],
    ),
    "charset=iso-8859-1": (
        E11,
        h11(ctype="text/xml; charset=iso-8859-1"),
        "SendI18NSms",
        11,
        (*BOUND[:3], "测试【华信】".encode().decode("latin-1")),
        [],
    ),
    "text/xml without a charset is US-ASCII": (
        E11,
        h11(ctype="text/xml"),
        "SendI18NSms",
        11,
        (*BOUND[:3], "?" * len("测试【华信】".encode())),
        ["soap-charset"],
    ),
    "a UTF-8 byte-order mark wins over US-ASCII": (
        b"\xef\xbb\xbf" + E11,
        h11(ctype="text/xml"),
        "SendI18NSms",
        11,
        BOUND,
        [],
    ),
    "application/soap+xml without a charset reads as XML reads itself": (
        E12,
        {"Content-Type": "application/soap+xml"},
        "SendI18NSms",
        12,
        BOUND,
        [],
    ),
    "application/soap+xml without a charset, a latin-1 declaration": (
        E12.replace(b'encoding="utf-8"', b'encoding="iso-8859-1"'),
        {"Content-Type": "application/soap+xml"},
        "SendI18NSms",
        12,
        (*BOUND[:3], "测试【华信】".encode().decode("latin-1")),
        [],
    ),
    "UTF-16 with its byte-order mark": (
        E11.decode().replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16"),
        h11(ctype="text/xml; charset=utf-16"),
        "SendI18NSms",
        11,
        BOUND,
        [],
    ),
}


@pytest.mark.parametrize("name", ANSWERED)
def test_requests_asmx_answers_with_a_reply(client, platform, name):
    """What ASMX answers with a normal reply although it is odd: the envelope's namespace decides the version,
    SOAP 1.1 without SOAPAction routes on the body, a SOAPAction of another operation runs that one with nothing
    bound, and the body is read in the encoding its Content-Type says (a bad byte is U+FFFD)."""
    body, headers, op, version, expected, codes = ANSWERED[name]
    reply = post(client, body, headers)
    assert (reply.status_code, reply.headers["Content-Type"]) == (200, CTYPE[version]), reply.get_data()[:300]
    response_of(reply, op, version)
    (req,) = platform.requests
    assert req.via == f"soap{version}"
    assert (req.account, req.password, req.msisdns, req.content) == expected
    assert [w.code for w in req.warnings] == codes


def test_a_refused_request_still_files_its_warnings(client, platform):
    """A Fault is no reason to lose the diagnosis: the old namespace routed on the body (no operation found) is
    journaled with its soap-namespace warning, under no account, for the version that answered."""
    reply = post(client, request(version=12, ns=OLD_TNS), h12(None))
    assert fault_of(reply, 12) == ("soap:Sender", ACTION_REQUIRED)
    assert platform.recorded == [("", "soap12", ["soap-namespace"])]


def test_a_version_mismatch_carries_the_upgrade_header(client):
    """ASMX adds SOAP 1.2's Upgrade header to a VersionMismatch Fault: the two envelopes it supports."""
    reply = post(client, OTHER_ENVELOPE, h11())
    assert reply.get_data().startswith(
        (
            f'{DECLARATION}<soap:Envelope xmlns:soap="{SOAP11}" xmlns:xsi="{XSI}" xmlns:xsd="{XSD_NS}">'
            f'<soap:Header><soap12:Upgrade xmlns:soap12="{SOAP12}">'
            f'<soap12:SupportedEnvelope qname="soap:Envelope" xmlns:soap="{SOAP11}" />'
            f'<soap12:SupportedEnvelope qname="soap12:Envelope" xmlns:soap12="{SOAP12}" />'
            "</soap12:Upgrade></soap:Header><soap:Body><soap:Fault>"
        ).encode()
    )
    assert b"Upgrade" not in post(client, NO_BODY[11], h11()).get_data()


MUST_UNDERSTAND = {
    "SOAP 1.1, unprefixed": (11, '<h xmlns="urn:x" soap:mustUnderstand="1"/>'),
    "SOAP 1.1, prefixed": (11, '<x:h xmlns:x="urn:x" soap:mustUnderstand="1"/>'),
    "SOAP 1.2": (12, '<x:h xmlns:x="urn:x" soap:mustUnderstand="true"/>'),
    # SoapUnknownHeader.InternalMustUnderstand reads the attribute in the SOAP 1.1 namespace, then in SOAP 1.2's,
    # whatever the envelope's version
    "SOAP 1.2's attribute in a SOAP 1.1 envelope": (11, f'<h xmlns="urn:x" xmlns:e="{SOAP12}" e:mustUnderstand="1"/>'),
    "SOAP 1.1's attribute in a SOAP 1.2 envelope": (
        12,
        f'<h xmlns="urn:x" xmlns:e="{SOAP11}" e:mustUnderstand="true"/>',
    ),
}


@pytest.mark.parametrize("name", MUST_UNDERSTAND)
def test_a_header_marked_must_understand_is_refused_before_the_send(client, platform, name):
    """The service understands no header. .NET 4's WebServiceHandler.Invoke calls CreateServerInstance, whose
    SoapHeaderHandling.SetHeaderMembers throws for an unknown header marked mustUnderstand, before the web method
    is invoked (the ASMX oracle's stack trace shows the throw there): nothing is sent, and the Fault names the
    header's local name (GetHeaderElementName: Element.LocalName) and has no detail element (a
    SoapHeaderException)."""
    version, header = MUST_UNDERSTAND[name]
    reply = post(
        client,
        request(version=version, header=f"<soap:Header>{header}</soap:Header>"),
        headers_for(version, "SendI18NSms"),
    )
    assert (reply.status_code, reply.headers["Content-Type"]) == (500, CTYPE[version])
    assert fault_of(reply, version) == ("soap:MustUnderstand", "SOAP header h was not understood.")
    assert platform.requests == []


@pytest.mark.parametrize("flag", ["0", "false", " 1", "yes", None])
def test_a_header_not_marked_must_understand_is_ignored(client, platform, flag):
    """Only "1" and "true", as written (no trimming), mark a header: anything else is read as false."""
    marked = "" if flag is None else f' soap:mustUnderstand="{flag}"'
    header = f'<soap:Header><h xmlns="urn:x"{marked}/><g xmlns="urn:x"/></soap:Header>'
    reply = post(client, request(header=header), h11())
    assert reply.status_code == 200 and len(platform.requests) == 1


def test_oversize_other_methods_and_other_paths(platform):
    """The mock's own limits, which ASMX leaves to IIS: a body over the limit is 413 with a Fault that says it;
    a PUT is 405 with Allow; another path is 404. Nothing reaches the platform."""
    client = Client(make_soap_app(platform, max_body=2000))
    reply = post(client, request(content="x" * 3000), h11())
    assert reply.status_code == 413
    assert fault_of(reply, 11) == ("soap:Client", "Request body too large: the mock's limit is 2000 bytes")
    reply = client.put("/WebService.asmx", data=E11, headers={"Content-Type": "text/xml"})
    assert reply.status_code == 405 and reply.headers["Allow"] == "GET, HEAD, POST"
    assert client.get("/Other.asmx").status_code == 404
    assert platform.requests == []


# ------------------------------------------------------------------ a generated client over the wire


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
    """A client generated from the served WSDL alone sends each kind of request and reads each kind of result:
    SendSms's declared SendResult, SendI18NSms's I18NSendResult by xsi:type, HybridSend's own result."""
    zeep = pytest.importorskip("zeep")
    service = zeep.Client(f"{live}/WebService.asmx?wsdl").bind("WebService", port)
    sms = {"Msisdns": "13800138000", "SMSContent": "测试【华信】", "ExtNumber": "", "PlanSendTime": None}
    platform.outcomes += [
        OUTCOMES["ok with refused recipients"],
        ok_outcome(),
        SendOutcome(ResultCode.NoProduct, pay_type="prepaid"),
    ]
    result = service.SendSms(userName="demo", password="demo123", sms=sms)
    assert (result.StatusCode, result.MsgId, result.PayType, result.Amount) == ("OK", str(2**62), 1, 1994)
    assert result.Balance == Decimal("99.70") and result.Errors.string == OUTCOMES["ok with refused recipients"].errors
    i18n = service.SendI18NSms(userName="demo", password="demo123", sms={**sms, "Msisdns": "8613800138000"})
    assert type(i18n).__name__ == "I18NSendResult" and i18n.StatusCode == "OK" and i18n.Mark is None
    hybrid = service.HybridSend(
        body={"Account": "demo", "Password": "demo123", "Sn": "1", "SMSContent": "x", "PlanSendTime": None}
    )
    assert (hybrid.StatusCode, hybrid.MsgId, hybrid.JobType) == ("NoProduct", None, 0)
    via = "soap11" if port == "WebServiceSoap" else "soap12"
    assert [(r.account, r.product, r.hybrid, r.via) for r in platform.requests] == [
        ("demo", "sms", True, via),
        ("demo", "sms", False, via),
        ("demo", "hybrid-send", True, via),
    ]
    assert all(r.client_ip == "127.0.0.1" and r.warnings == [] for r in platform.requests)
