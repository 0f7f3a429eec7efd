"""Offline unit tests of the client: errors, result codes, SendResult, SOAP mapping and CLI.

No mock server here: a tiny http.server thread plays the gateway with canned
replies written the way ASMX writes them (docs/contract.md §2), so wire
failures (Faults, garbage, timeouts) can be produced at will.
"""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import FrozenInstanceError
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

import ipyy_client
from ipyy_client import IpyyError, ResultCode, SendResult, SoapClient, cli, errors, soap, wsdl
from ipyy_client.soap import _document, join_msisdns
from support.net import LoopbackHTTPServer, QuietHandler, closed_port

TNS = "http://www.yysms.com/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
PASSWORD = "pa55-w0rd!"
CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "contract.md"
#: The xsi:type each operation's reply carries (docs/contract.md §2, §8 "Result types"); SendSmsResult has none.
RESULT_TYPES = {"SendSms": None, "SendI18NSms": "I18NSendResult", "SendHybridSms": "SendResult"}
#: What a result without xsi:type reads as: the operation's declared type (SendSms) or the type named.
READ_TYPES = {"SendSms": "SendResult", "SendI18NSms": "I18NSendResult", "SendHybridSms": "SendResult"}
_AS_THE_OPERATION = object()

Reply = tuple[int, str, bytes]


# --- a canned gateway --------------------------------------------------------------


class CannedServer:
    """An HTTP server thread answering every POST with ``self.reply`` and recording the requests."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.reply: Reply = (200, "text/xml; charset=utf-8", b"")
        self.delay = 0.0
        outer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append((self.path, dict(self.headers), body))
                if outer.delay:
                    time.sleep(outer.delay)
                status, ctype, payload = outer.reply
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = LoopbackHTTPServer(Handler)
        self.base_url = self.httpd.base_url

    def stop(self) -> None:
        self.httpd.close()

    def last_body(self) -> etree._Element:
        return etree.fromstring(self.requests[-1][2])


@pytest.fixture
def gateway():
    server = CannedServer()
    yield server
    server.stop()


def asmx_envelope(version: int, op: str, result: str) -> Reply:
    """A reply as ASMX writes it: the declaration, ``soap:`` with xsi and xsd declared, no Header, the wrapper
    unprefixed in the service's namespace (docs/contract.md §2, "The reply, as ASMX writes it")."""
    ns = SOAP11 if version == 11 else SOAP12
    ctype = "text/xml; charset=utf-8" if version == 11 else "application/soap+xml; charset=utf-8"
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}" xmlns:xsi="{XSI}" '
        f'xmlns:xsd="{XSD}"><soap:Body><{op}Response xmlns="{TNS}">{result}</{op}Response></soap:Body></soap:Envelope>'
    )
    return 200, ctype, body.encode("utf-8")


def result_element(
    name: str,
    xsi_type: str | None,
    *,
    status: str = "OK",
    description: str | None = "操作成功",
    msg_id: str | None = "1000123",
    balance: str = "99.95",
    billing_amount: str = "0.05",
    count: int = 1,
    errors_: tuple[str, ...] = (),
    pay_type: int = 1,
    success_counts: int = 1,
    amount: int = 1999,
    extra: str = "",
) -> str:
    """One ``SendResultBase`` element, members in schema order; a null string or array left out, as ASMX does.
    ``extra`` is written after Errors (AlterSendResult, CustomId, Mark, in that order)."""
    kind = f' xsi:type="{xsi_type}"' if xsi_type else ""
    desc = "" if description is None else f"<Description>{description}</Description>"
    mid = "" if msg_id is None else f"<MsgId>{msg_id}</MsgId>"
    errs = "".join(f"<string>{e}</string>" for e in errors_)
    return (
        f"<{name}{kind}><PayType>{pay_type}</PayType><StatusCode>{status}</StatusCode>{desc}{mid}"
        f"<SuccessCounts>{success_counts}</SuccessCounts><BillingCount>{count}</BillingCount><Amount>{amount}</Amount>"
        f"<Balance>{balance}</Balance><BillingAmount>{billing_amount}</BillingAmount>"
        f"{f'<Errors>{errs}</Errors>' if errors_ else ''}{extra}</{name}>"
    )


def result_xml(op: str = "SendI18NSms", version: int = 11, xsi_type=_AS_THE_OPERATION, **members) -> Reply:
    """The reply of ``op`` (``xsi:type`` as the mock writes it unless given; None: no xsi:type)."""
    kind = RESULT_TYPES[op] if xsi_type is _AS_THE_OPERATION else xsi_type
    return asmx_envelope(version, op, result_element(f"{op}Result", kind, **members))


def refusal_xml(op: str = "SendI18NSms", version: int = 11, **members) -> Reply:
    """A refused send as the mock writes it: no MsgId, nothing accepted or charged."""
    values = {"msg_id": None, "count": 0, "success_counts": 0, "billing_amount": "0", **members}
    return result_xml(op, version, **values)


def fault11(code: str = "soap:Client", text: str = "Server was unable to read request.") -> Reply:
    """A SOAP 1.1 Fault as ASMX sends it: HTTP 500, an empty ``<detail />``."""
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP11}" xmlns:xsi="{XSI}" '
        f'xmlns:xsd="{XSD}"><soap:Body><soap:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring>'
        f"<detail /></soap:Fault></soap:Body></soap:Envelope>"
    )
    return 500, "text/xml; charset=utf-8", body.encode()


def fault12(text: str = "bad request", code: str = "soap:Sender") -> Reply:
    """A SOAP 1.2 Fault as ASMX sends it: HTTP 500, ``soap:Reason/soap:Text xml:lang="en"``, ``<soap:Detail />``."""
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP12}" xmlns:xsi="{XSI}" '
        f'xmlns:xsd="{XSD}"><soap:Body><soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code>'
        f'<soap:Reason><soap:Text xml:lang="en">{text}</soap:Text></soap:Reason><soap:Detail /></soap:Fault>'
        f"</soap:Body></soap:Envelope>"
    )
    return 500, "application/soap+xml; charset=utf-8", body.encode()


def field(root: etree._Element, name: str) -> etree._Element | None:
    return root.find(f".//{{{TNS}}}{name}")


def soap_action(headers: dict[str, str], version: int) -> str:
    """The action of a request: the SOAPAction header (1.1) or the Content-Type's ``action`` parameter (1.2)."""
    if version == 11:
        return headers["SOAPAction"].strip('"')
    match = re.search(r'action="([^"]*)"', headers["Content-Type"])
    assert match, headers["Content-Type"]
    return match.group(1)


# --- the contract's constants ----------------------------------------------------------


def test_the_client_speaks_the_vendors_namespace_and_operations() -> None:
    assert soap.NAMESPACE == wsdl.TNS == TNS
    assert wsdl.OLD_TNS == "http://tempuri.org/"
    assert wsdl.OPERATIONS == ("SendSms", "SendMms", "SendI18NSms", "SendHybridSms", "HybridSend")
    assert soap.BINDINGS == {11: f"{{{TNS}}}WebServiceSoap", 12: f"{{{TNS}}}WebServiceSoap12"}
    root = etree.fromstring(wsdl.packaged_wsdl())
    assert root.get("targetNamespace") == TNS
    assert wsdl.OLD_TNS.encode() not in wsdl.packaged_wsdl()
    ops = [op.get("name") for op in root.iterfind("{http://schemas.xmlsoap.org/wsdl/}portType/*") if op.get("name")]
    assert ops == list(wsdl.OPERATIONS)


def test_the_schema_can_be_compiled_with_closed_or_open_codes() -> None:
    closed = wsdl.compile_schema(wsdl.packaged_wsdl())
    opened = wsdl.compile_schema(wsdl.packaged_wsdl(), open_codes=True)
    _, _, known = result_xml("SendI18NSms")
    _, _, unknown = result_xml("SendI18NSms", status="RateLimited")

    def response(body: bytes) -> etree._Element:
        return etree.fromstring(body).find(f".//{{{TNS}}}SendI18NSmsResponse")

    assert closed.validate(response(known)) and opened.validate(response(known))
    assert opened.validate(response(unknown))
    assert not closed.validate(response(unknown))  # only the enumeration is opened
    _, _, no_type = result_xml("SendI18NSms", xsi_type=None)
    assert not opened.validate(response(no_type))  # SendResultBase is abstract either way
    assert wsdl.schema() is wsdl.schema()  # compiled once per thread


# --- result codes ------------------------------------------------------------------


def contract_codes() -> list[tuple[int, str, int | None, str, bool]]:
    """docs/contract.md §2's ResultCode table as (position, name, number, description, the vendor's own text)."""
    text = CONTRACT.read_text(encoding="utf-8")
    section = text[text.index("### ResultCode") : text.index("## 3. Send rules")]
    cell = re.compile(r"\|\s*(\d+)\s*\|\s*`(\w+)`\s*\|\s*(\?|\d+)\s*\|\s*([^|]+?)\s*(?=\|)")
    rows = []
    for match in cell.finditer(section):
        position, name, number, description = match.groups()
        ours = description.endswith("(*ours*)")
        description = description.removesuffix("(*ours*)").strip()
        rows.append((int(position), name, None if number == "?" else int(number), description, not ours))
    return sorted(rows)


def test_54_codes_in_the_vendors_order_as_the_contract_and_the_wsdl_list_them() -> None:
    table = contract_codes()
    assert [position for position, *_ in table] == list(range(54))
    names = [name for _, name, *_ in table]
    assert [c.name for c in ResultCode] == names
    assert [c.value for c in ResultCode] == names  # the value is the wire name
    enumeration = [
        e.get("value")
        for e in etree.fromstring(wsdl.packaged_wsdl()).iterfind(
            f".//{{{XSD}}}simpleType[@name='ResultCode']/{{{XSD}}}restriction/{{{XSD}}}enumeration"
        )
    ]
    assert enumeration == names
    assert list(ResultCode).index(ResultCode.OK) == 1 and list(ResultCode).index(ResultCode.InternalError) == 53


def test_the_numbers_descriptions_and_labels_are_the_contracts() -> None:
    table = contract_codes()
    for _, name, number, description, vendor in table:
        code = ResultCode[name]
        assert (code.code, code.description, code.vendor_text, code.known) == (number, description, vendor, True), name
        assert code.label() == (name if number is None else f"{name} ({number})")
        assert str(code) == name
        if number is not None:
            assert ResultCode.from_code(number) is code and ResultCode.from_code(str(number)) is code
    assert sum(number is not None for _, _, number, _, _ in table) == 26
    assert sum(number is None for _, _, number, _, _ in table) == 28
    assert ResultCode.OK.code == 1 and ResultCode.MsisdnBlack.code == 1109 and ResultCode.InternalError.code == 9999
    assert ResultCode.FrequentOperation.code is None and not ResultCode.FrequentOperation.vendor_text
    assert ResultCode.FaileList.name == "FaileList"  # (sic)
    with pytest.raises(ValueError):
        ResultCode.from_code(4242)


def test_a_name_the_table_does_not_know_is_a_code_of_its_own() -> None:
    new = ResultCode("RateLimitedUnitTest")
    assert isinstance(new, ResultCode) and new is ResultCode("RateLimitedUnitTest")
    assert (new.name, new.value, str(new), new.label()) == ("RateLimitedUnitTest",) * 4
    assert not new.known and new.code is None and new.description == "" and not new.vendor_text
    assert new not in list(ResultCode) and len(ResultCode) == 54
    assert new is not ResultCode.Unknown and new != ResultCode.OK
    assert ResultCode("Ok") is not ResultCode.OK and not ResultCode("Ok").known  # names are case-sensitive
    for bad in ("", " ", " OK", "OK ", None, 1):
        with pytest.raises(ValueError):
            ResultCode(bad)


# --- errors ------------------------------------------------------------------------


@pytest.mark.parametrize("code", [c for c in ResultCode if c is not ResultCode.OK], ids=lambda c: c.name)
def test_one_exception_class_per_code(code: ResultCode) -> None:
    cls = getattr(errors, code.name)
    assert cls.__name__ == code.name and cls.__name__ in errors.__all__
    assert cls.code is code
    assert issubclass(cls, errors.VendorError) and issubclass(cls, IpyyError)
    assert errors.error_for(code) is cls
    assert cls.hint
    exc = cls()
    assert exc.code is code and exc.description == code.description and exc.result is None
    # a code with a number shows it ("MsisdnBlack (1109): ..."); one without shows its name alone, never "None"
    assert str(exc) == f"{code.label()}: {code.description}"
    assert "None" not in str(exc)


def test_every_code_but_ok_has_a_class_53_in_all() -> None:
    named = {c.name for c in ResultCode if c is not ResultCode.OK}
    classes = {name for name in errors.__all__ if isinstance(getattr(errors, name), type)}
    assert named <= classes and len(named) == 53
    assert len({errors.error_for(c) for c in ResultCode if c is not ResultCode.OK}) == 53


def test_error_for_ok_is_refused() -> None:
    with pytest.raises(ValueError):
        errors.error_for(ResultCode.OK)
    assert not hasattr(errors, "OK")


def test_error_for_an_unknown_code_is_vendor_error_carrying_it() -> None:
    new = ResultCode("RateLimitedErrorFor")
    assert errors.error_for(new) is errors.VendorError
    result = SendResult(new, "发送太频繁", None, Decimal("1"), Decimal("0"), 0)
    exc = errors.error_for(new)(result=result)
    assert type(exc) is errors.VendorError and exc.code is new and exc.result is result
    assert str(exc) == "RateLimitedErrorFor: 发送太频繁"


def test_wire_errors_are_ipyy_errors_without_code() -> None:
    for cls in (errors.TransportError, errors.ProtocolError, errors.SoapFault):
        assert issubclass(cls, IpyyError)
        assert cls.code is None
    fault = errors.SoapFault("soap:Client", "nope")
    assert (fault.faultcode, fault.faultstring) == ("soap:Client", "nope")
    assert "soap:Client" in str(fault) and "nope" in str(fault)
    proto = errors.ProtocolError("bad", status_code=502, body=b"x")
    assert proto.status_code == 502 and proto.body == b"x" and proto.description == "bad"


# --- SendResult --------------------------------------------------------------------


def make_result(status: ResultCode = ResultCode.OK, errors_: tuple[str, ...] = (), **members) -> SendResult:
    return SendResult(
        status,
        status.description,
        "7" if status is ResultCode.OK else None,
        Decimal("99.95"),
        Decimal("0.05"),
        1,
        list(errors_),
        **members,
    )


def test_send_result_ok_chains() -> None:
    result = make_result()
    assert result.ok
    assert result.raise_for_status() is result
    assert result.msg_id == "7" and result.task_id == 7
    assert result.errors == ()
    # the members the vendor's type has beyond the document's seven, at their defaults
    assert (result.success_counts, result.amount, result.pay_type) == (0, 0, 0)
    assert (result.custom_id, result.mark, result.alter_send_result, result.result_type) == (
        None,
        None,
        None,
        "SendResult",
    )
    with pytest.raises(FrozenInstanceError):
        result.msg_id = "8"  # type: ignore[misc]


@pytest.mark.parametrize(
    "msg_id, task_id",
    [
        ("1000123", 1000123),
        (" 42 ", 42),
        ("0", 0),
        (None, None),  # a refusal: no MsgId at all
        ("", None),
        ("abc", None),
        ("12a", None),
        ("-1", None),
        ("1.5", None),
        ("\u0663", None),  # ARABIC-INDIC DIGIT THREE: str.isdigit says yes, a task id it is not
    ],
)
def test_task_id_is_msg_id_as_a_number(msg_id: str | None, task_id: int | None) -> None:
    result = SendResult(ResultCode.OK, "", msg_id, Decimal("0"), Decimal("0"), 0)
    assert result.msg_id == msg_id
    assert result.task_id == task_id


def test_raise_for_status_raises_the_named_class() -> None:
    result = make_result(ResultCode.MsisdnBlack, ("8613800000002:MsisdnBlack",))
    assert not result.ok and result.msg_id is None and result.task_id is None
    with pytest.raises(errors.MsisdnBlack) as info:
        result.raise_for_status()
    exc = info.value
    assert exc.result is result and exc.code is ResultCode.MsisdnBlack
    assert exc.description == "黑名单的手机号码"
    assert "MsisdnBlack (1109)" in str(exc) and "8613800000002:MsisdnBlack" in str(exc)
    with pytest.raises(IpyyError):
        make_result(ResultCode.AmountNotEnough).raise_for_status()
    with pytest.raises(errors.FrequentOperation) as info:
        make_result(ResultCode.FrequentOperation).raise_for_status()
    assert str(info.value) == "FrequentOperation: 操作过于频繁"


def test_raise_for_status_of_an_unknown_code_is_a_vendor_error_naming_it() -> None:
    new = ResultCode("RateLimitedRaise")
    result = SendResult(new, "请稍后再试", None, Decimal("5"), Decimal("0"), 0)
    assert not result.ok
    with pytest.raises(errors.VendorError) as info:
        result.raise_for_status()
    exc = info.value
    assert type(exc) is errors.VendorError
    assert exc.code is new and exc.result is result and exc.description == "请稍后再试"
    assert "RateLimitedRaise" in str(exc) and "请稍后再试" in str(exc)


def test_recipient_errors_pairs() -> None:
    result = make_result(
        errors_=(
            "8613800000002:MsisdnBlack",
            " 8613800000003 : MsisdnNoChannel",
            "x:Bogus",
            "8613800000004:FrequentOperation",
            "y:not a code",
            "z:",
            "junk",
        )
    )
    pairs = result.recipient_errors()
    assert pairs == [
        ("8613800000002", ResultCode.MsisdnBlack),
        ("8613800000003", ResultCode.MsisdnNoChannel),
        ("x", ResultCode("Bogus")),
        ("8613800000004", ResultCode.FrequentOperation),
        ("y", None),
        ("z", None),
        ("junk", None),
    ]
    assert not pairs[2][1].known and pairs[3][1].known  # a name the vendor added later is still a code


# --- msisdns -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, wire",
    [
        ("8613800138000", "8613800138000"),
        (" 8613800138000 , 8613900139000,, ", "8613800138000,8613900139000"),
        (["8613800138000", " 8613900139000 "], "8613800138000,8613900139000"),
        (["8613800138000,8613900139000", 447700900123], "8613800138000,8613900139000,447700900123"),
        ((n for n in ["1", "2"]), "1,2"),
        ([], ""),
        ("", ""),
    ],
)
def test_join_msisdns(given, wire) -> None:
    assert join_msisdns(given) == wire


# --- client construction -------------------------------------------------------------


def test_wsdl_parsed_once_and_endpoint() -> None:
    a = SoapClient("a", PASSWORD, "http://example.invalid/")
    b = SoapClient("a", PASSWORD, "http://example.invalid", soap_version=12)
    assert a._client.wsdl is b._client.wsdl is _document()
    assert a.endpoint == "http://example.invalid/WebService.asmx"
    assert PASSWORD not in repr(a)
    assert SoapClient("a", "b").endpoint == "https://dx.ipyy.net/WebService.asmx"
    for name in ("send_sms", "send_i18n_sms", "send_hybrid_sms"):
        assert callable(getattr(a, name))


@pytest.mark.parametrize("kwargs", [{"soap_version": 13}, {"base_url": "localhost:8080"}, {"base_url": ""}])
def test_bad_construction(kwargs) -> None:
    with pytest.raises(ValueError):
        SoapClient("a", "b", **kwargs)


def test_public_exports() -> None:
    for name in (
        "SoapClient",
        "SendResult",
        "ResultCode",
        "IpyyError",
        "segment_count",
        "predict_cost",
        "utf16_units",
        "price_for",
    ):
        assert hasattr(ipyy_client, name), name


def test_context_manager_closes_own_session_not_a_borrowed_one() -> None:
    import requests

    own = SoapClient("a", "b", "http://x.invalid")
    closed = []
    own._session.close = lambda: closed.append(True)  # type: ignore[method-assign]
    with own:
        pass
    assert closed == [True]
    session = requests.Session()
    session.close = lambda: closed.append("borrowed")  # type: ignore[method-assign]
    with SoapClient("a", "b", "http://x.invalid", session=session):
        pass
    assert closed == [True]


# --- over a canned wire (both flavours: SoapClient and AsyncSoapClient, tests/flavours.py) ---------


def test_send_maps_reply_and_builds_request(flavour, gateway: CannedServer) -> None:
    gateway.reply = result_xml(errors_=("8613800000002:MsisdnBlack",))
    with flavour.soap("demo", PASSWORD, gateway.base_url + "/") as client:
        result = client.send_i18n_sms(["8613800138000", " 8613800000002"], "测试【华信】")
    assert result == SendResult(
        ResultCode.OK,
        "操作成功",
        "1000123",
        Decimal("99.95"),
        Decimal("0.05"),
        1,
        ("8613800000002:MsisdnBlack",),
        success_counts=1,
        amount=1999,
        pay_type=1,
        result_type="I18NSendResult",
    )
    assert isinstance(result.balance, Decimal) and result.task_id == 1000123
    path, headers, _ = gateway.requests[-1]
    assert path == "/WebService.asmx"
    assert soap_action(headers, 11) == "http://www.yysms.com/SendI18NSms"
    root = gateway.last_body()
    assert root.tag == f"{{{SOAP11}}}Envelope"
    assert root.find(f"{{{SOAP11}}}Body/{{{TNS}}}SendI18NSms") is not None
    assert field(root, "userName").text == "demo"
    assert field(root, "password").text == PASSWORD
    assert field(root, "Msisdns").text == "8613800138000,8613800000002"
    assert field(root, "SMSContent").text == "测试【华信】"
    plan = field(root, "PlanSendTime")
    assert plan is None or plan.get(f"{{{XSI}}}nil") == "true"
    assert field(root, "ExtNumber") is None
    assert b"tempuri" not in gateway.requests[-1][2]


@pytest.mark.parametrize("version", [11, 12])
def test_send_sms_builds_its_request_and_reads_its_reply(flavour, gateway: CannedServer, version: int) -> None:
    """``SendSms``, the domestic send: its own element and action; its result is declared ``SendResult``, so the
    reply carries no xsi:type and reads as a SendResult."""
    gateway.reply = result_xml("SendSms", version, msg_id="1000124", amount=1998, balance="99.90")
    with flavour.soap("demo", PASSWORD, gateway.base_url, soap_version=version) as client:
        result = client.send_sms("13800138000", "验证码 1234【华信】", ext_number="7")
    assert result == SendResult(
        ResultCode.OK,
        "操作成功",
        "1000124",
        Decimal("99.90"),
        Decimal("0.05"),
        1,
        success_counts=1,
        amount=1998,
        pay_type=1,
        result_type="SendResult",
    )
    _, headers, body = gateway.requests[-1]
    assert soap_action(headers, version) == "http://www.yysms.com/SendSms"
    root = gateway.last_body()
    ns = SOAP11 if version == 11 else SOAP12
    assert root.tag == f"{{{ns}}}Envelope"
    [op] = root.find(f"{{{ns}}}Body")
    assert op.tag == f"{{{TNS}}}SendSms"
    assert [c.tag for c in op] == [f"{{{TNS}}}{n}" for n in ("userName", "password", "sms")]
    assert field(root, "Msisdns").text == "13800138000"
    assert field(root, "SMSContent").text == "验证码 1234【华信】"
    assert field(root, "ExtNumber").text == "7"
    plan = field(root, "PlanSendTime")
    assert plan is None or plan.get(f"{{{XSI}}}nil") == "true"


def test_send_sms_reply_may_name_its_declared_type(flavour, gateway: CannedServer) -> None:
    gateway.reply = result_xml("SendSms", xsi_type="SendResult")
    result = flavour.soap("demo", PASSWORD, gateway.base_url).send_sms("13800138000", "x【y】")
    assert result.ok and result.result_type == "SendResult"


def test_send_hybrid_soap12_with_time_and_ext(flavour, gateway: CannedServer) -> None:
    gateway.reply = result_xml("SendHybridSms", version=12, msg_id="5", balance="99.90", billing_amount="0.10", count=2)
    at = datetime(2026, 12, 1, 9, 0, 0, 123456)
    with flavour.soap("demo", PASSWORD, gateway.base_url, soap_version=12) as client:
        result = client.send_hybrid_sms("13800138000", "x" * 71 + "【华信】", plan_send_time=at, ext_number=12)
    assert (result.msg_id, result.task_id, result.billing_count, result.billing_amount) == ("5", 5, 2, Decimal("0.10"))
    assert result.result_type == "SendResult"
    _, headers, _ = gateway.requests[-1]
    assert headers["Content-Type"].startswith("application/soap+xml")
    assert soap_action(headers, 12) == "http://www.yysms.com/SendHybridSms"
    root = gateway.last_body()
    assert root.tag == f"{{{SOAP12}}}Envelope"
    assert root.find(f".//{{{TNS}}}SendHybridSms") is not None
    assert field(root, "PlanSendTime").text == "2026-12-01T09:00:00"  # naive: platform time, whole seconds
    assert field(root, "ExtNumber").text == "12"


@pytest.mark.parametrize("op", ["SendSms", "SendI18NSms", "SendHybridSms"])
def test_aware_plan_send_time_keeps_its_offset(flavour, gateway: CannedServer, op: str) -> None:
    gateway.reply = result_xml(op)
    at = datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    client = flavour.soap("demo", PASSWORD, gateway.base_url)
    send = {"SendSms": client.send_sms, "SendI18NSms": client.send_i18n_sms, "SendHybridSms": client.send_hybrid_sms}
    send[op]("8613800138000", "x【y】", plan_send_time=at)
    root = gateway.last_body()
    assert root.find(f".//{{{TNS}}}{op}") is not None
    assert field(root, "PlanSendTime").text == "2026-12-01T09:00:00+08:00"


ALTER_I18N = (
    '<AlterSendResult xsi:type="I18NSendResult"><PayType>2</PayType><StatusCode>MsisdnBlack</StatusCode>'
    "<Description>黑名单的手机号码</Description><SuccessCounts>0</SuccessCounts><BillingCount>0</BillingCount>"
    "<Amount>0</Amount><Balance>-3.50</Balance><BillingAmount>0</BillingAmount>"
    "<Errors><string>8613800000002:MsisdnBlack</string></Errors><CustomId>inner-c</CustomId><Mark>inner-m</Mark>"
    "</AlterSendResult>"
)
ALTER_PLAIN = (
    '<AlterSendResult xsi:type="SendResult"><PayType>1</PayType><StatusCode>OK</StatusCode><MsgId>77</MsgId>'
    "<SuccessCounts>1</SuccessCounts><BillingCount>3</BillingCount><Amount>12</Amount><Balance>0.60</Balance>"
    "<BillingAmount>0.15</BillingAmount></AlterSendResult>"
)


@pytest.mark.parametrize("op", ["SendSms", "SendI18NSms", "SendHybridSms"])
@pytest.mark.parametrize("version", [11, 12])
def test_every_member_of_the_result_is_read(flavour, gateway: CannedServer, op: str, version: int) -> None:
    """All twelve members (and Mark of an I18NSendResult), AlterSendResult nested with its own xsi:type."""
    outer_mark = "<Mark>outer-m</Mark>" if op == "SendI18NSms" else ""
    alter = ALTER_I18N if op != "SendSms" else ALTER_PLAIN
    gateway.reply = result_xml(
        op,
        version,
        status="OK",
        description="部分成功",
        msg_id="T-000042",
        balance="-3.50",
        billing_amount="0.35",
        count=7,
        errors_=("8613800000002:MsisdnBlack", "8613800000003:MsisdnNoChannel"),
        pay_type=2,
        success_counts=5,
        amount=-70,
        extra=f"{alter}<CustomId>order-1</CustomId>{outer_mark}",
    )
    client = flavour.soap("demo", PASSWORD, gateway.base_url, soap_version=version)
    send = {"SendSms": client.send_sms, "SendI18NSms": client.send_i18n_sms, "SendHybridSms": client.send_hybrid_sms}
    result = send[op]("8613800138000", "x【y】")
    if op == "SendSms":
        nested = SendResult(
            ResultCode.OK,
            "",
            "77",
            Decimal("0.60"),
            Decimal("0.15"),
            3,
            success_counts=1,
            amount=12,
            pay_type=1,
            result_type="SendResult",
        )
    else:
        nested = SendResult(
            ResultCode.MsisdnBlack,
            "黑名单的手机号码",
            None,
            Decimal("-3.50"),
            Decimal("0"),
            0,
            ("8613800000002:MsisdnBlack",),
            success_counts=0,
            amount=0,
            pay_type=2,
            custom_id="inner-c",
            mark="inner-m",
            result_type="I18NSendResult",
        )
    assert result == SendResult(
        ResultCode.OK,
        "部分成功",
        "T-000042",
        Decimal("-3.50"),
        Decimal("0.35"),
        7,
        ("8613800000002:MsisdnBlack", "8613800000003:MsisdnNoChannel"),
        success_counts=5,
        amount=-70,
        pay_type=2,
        custom_id="order-1",
        mark="outer-m" if op == "SendI18NSms" else None,
        alter_send_result=nested,
        result_type=READ_TYPES[op],
    )
    assert result.task_id is None  # "T-000042" is a string the vendor may send; it is no task number
    assert result.alter_send_result is not None and result.alter_send_result.alter_send_result is None


@pytest.mark.parametrize("op", ["SendSms", "SendI18NSms", "SendHybridSms"])
def test_a_refusal_has_no_msg_id(flavour, gateway: CannedServer, op: str) -> None:
    """A refused send has no task, so ASMX leaves the null MsgId out (docs/contract.md §8, "MsgId")."""
    gateway.reply = refusal_xml(op, status="PasswordError", description="密码错误", pay_type=0, amount=0, balance="0")
    client = flavour.soap("demo", PASSWORD, gateway.base_url)
    send = {"SendSms": client.send_sms, "SendI18NSms": client.send_i18n_sms, "SendHybridSms": client.send_hybrid_sms}
    result = send[op]("8613800138000", "x【y】")
    assert result.status is ResultCode.PasswordError and not result.ok
    assert result.msg_id is None and result.task_id is None
    assert (result.pay_type, result.amount, result.balance, result.success_counts) == (0, 0, Decimal("0"), 0)
    assert result.result_type == READ_TYPES[op]
    with pytest.raises(errors.PasswordError):
        result.raise_for_status()


def test_non_ok_status_is_returned_not_raised(flavour, gateway: CannedServer) -> None:
    gateway.reply = refusal_xml(status="AmountNotEnough", description="额度不足", balance="0.01", amount=0)
    result = flavour.soap("demo", PASSWORD, gateway.base_url).send_i18n_sms("8613800138000", "x【y】")
    assert result.status is ResultCode.AmountNotEnough and not result.ok
    with pytest.raises(errors.AmountNotEnough):
        result.raise_for_status()


@pytest.mark.parametrize("op", ["SendSms", "SendI18NSms", "SendHybridSms"])
def test_an_unknown_status_code_is_read_not_refused(flavour, gateway: CannedServer, op: str) -> None:
    """The vendor adds codes: a StatusCode outside the 54 is a ResultCode that is not ``known``, never a
    ProtocolError; ``raise_for_status`` raises a VendorError naming it."""
    gateway.reply = refusal_xml(
        op, status="QuotaExceeded", description="超出配额", errors_=("8613800138000:NewReason",)
    )
    client = flavour.soap("demo", PASSWORD, gateway.base_url)
    send = {"SendSms": client.send_sms, "SendI18NSms": client.send_i18n_sms, "SendHybridSms": client.send_hybrid_sms}
    result = send[op]("8613800138000", "x【y】")
    assert result.status is ResultCode("QuotaExceeded")
    assert result.status.name == "QuotaExceeded" and not result.status.known and result.status.code is None
    assert not result.ok and result.description == "超出配额"
    assert result.recipient_errors() == [("8613800138000", ResultCode("NewReason"))]
    with pytest.raises(errors.VendorError) as info:
        result.raise_for_status()
    assert type(info.value) is errors.VendorError
    assert info.value.code is result.status and info.value.result is result
    assert "QuotaExceeded" in str(info.value) and "超出配额" in str(info.value)


def test_an_unknown_status_code_is_read_even_when_ok_is_expected(flavour, gateway: CannedServer) -> None:
    gateway.reply = result_xml(status="OKWithWarnings")
    result = flavour.soap("demo", PASSWORD, gateway.base_url).send_i18n_sms("8613800138000", "x【y】")
    assert result.status.name == "OKWithWarnings" and not result.status.known
    assert not result.ok  # only OK itself is success
    assert result.msg_id == "1000123"


@pytest.mark.parametrize("op", ["SendI18NSms", "SendHybridSms"])
def test_an_abstract_result_without_xsi_type_is_refused_by_the_schema(flavour, gateway: CannedServer, op) -> None:
    """``SendResultBase`` is abstract: a reply must name its type. One that does not is not the contract."""
    gateway.reply = result_xml(op, xsi_type=None)
    client = flavour.soap("demo", PASSWORD, gateway.base_url)
    with pytest.raises(errors.ProtocolError) as info:
        (client.send_i18n_sms if op == "SendI18NSms" else client.send_hybrid_sms)("8613800138000", "x【y】")
    message = str(info.value)
    assert info.value.status_code == 200
    assert "does not match the WSDL" in message and "abstract" in message and f"{op}Result" in message


def test_transport_error_on_closed_port(
    flavour,
) -> None:
    port = closed_port()
    client = flavour.soap("demo", PASSWORD, f"http://127.0.0.1:{port}")
    for send in (client.send_i18n_sms, client.send_sms):
        with pytest.raises(errors.TransportError) as info:
            send("8613800138000", "x【y】")
        message = str(info.value)
        assert f"127.0.0.1:{port}" in message
        assert "refused" in message.lower()
        assert "ipyy-mock serve" in message
        assert PASSWORD not in message
        assert info.value.__cause__ is None and info.value.__suppress_context__


def test_transport_error_on_timeout(flavour, gateway: CannedServer) -> None:
    gateway.reply = result_xml("SendSms")
    gateway.delay = 1.5
    client = flavour.soap("demo", PASSWORD, gateway.base_url, timeout=0.3)
    with pytest.raises(errors.TransportError) as info:
        client.send_sms("13800138000", "x【y】")
    assert "0.3s" in str(info.value) and "not retried" in str(info.value)
    assert len(gateway.requests) == 1  # no automatic retry


@pytest.mark.parametrize(
    "version, reply, code",
    [
        (11, fault11(), "Client"),
        (12, fault12("Server was unable to read request."), "Sender"),
        (11, fault11("soap:Server", "Server was unable to read request."), "Server"),
        (12, fault12("Server was unable to read request.", code="soap:Receiver"), "Receiver"),
    ],
)
def test_soap_fault(flavour, gateway: CannedServer, version: int, reply, code: str) -> None:
    gateway.reply = reply
    client = flavour.soap("demo", PASSWORD, gateway.base_url, soap_version=version)
    with pytest.raises(errors.SoapFault) as info:
        client.send_i18n_sms("8613800138000", "x【y】")
    exc = info.value
    assert exc.faultstring == "Server was unable to read request."
    assert exc.faultcode and code in exc.faultcode


def test_the_mocks_soapaction_fault_is_a_soap_fault(flavour, gateway: CannedServer) -> None:
    text = "Server did not recognize the value of HTTP Header SOAPAction: http://www.yysms.com/GetBalance."
    gateway.reply = fault11(text=text)
    with pytest.raises(errors.SoapFault) as info:
        flavour.soap("demo", PASSWORD, gateway.base_url).send_sms("13800138000", "x【y】")
    assert info.value.faultstring == text and "Client" in (info.value.faultcode or "")


def test_fault_echoing_the_password_is_scrubbed(flavour, gateway: CannedServer) -> None:
    gateway.reply = fault11(text=f"bad password {PASSWORD}")
    with pytest.raises(errors.SoapFault) as info:
        flavour.soap("demo", PASSWORD, gateway.base_url).send_i18n_sms("8613800138000", "x【y】")
    assert PASSWORD not in str(info.value) and PASSWORD not in info.value.faultstring


def _i18n(**members) -> bytes:
    return result_xml("SendI18NSms", **members)[2]


@pytest.mark.parametrize(
    "reply, status",
    [
        ((200, "text/html", b"<html><body>It works!</body></html>"), 200),
        ((200, "text/plain", b"this is not xml at all"), 200),
        ((200, "text/xml", b""), 200),
        ((502, "text/plain", b"Bad Gateway"), 502),
        ((404, "text/html", b""), 404),
        ((500, "text/xml", b"<error>boom</error>"), 500),
        ((200, "text/xml", _i18n(balance="lots")), 200),
        ((200, "text/xml", _i18n(xsi_type=None)), 200),
        ((200, "text/xml", _i18n(xsi_type="SendResultBase")), 200),
        ((200, "text/xml", _i18n(xsi_type="SendResult", extra="<Mark>m</Mark>")), 200),
        ((200, "text/xml", _i18n(extra="<AlterSendResult><PayType>1</PayType></AlterSendResult>")), 200),
        ((200, "text/xml", _i18n(amount=2**63)), 200),
        ((200, "text/xml", _i18n().replace(b"<MsgId>1000123</MsgId>", b'<MsgId xsi:nil="true" />')), 200),
        ((200, "text/xml", _i18n().replace(b"<PayType>1</PayType>", b"")), 200),
        ((200, "text/xml", _i18n().replace(TNS.encode(), wsdl.OLD_TNS.encode())), 200),
        ((200, "text/xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'), 200),
    ],
    ids=[
        "html",
        "text",
        "empty",
        "502",
        "404-empty",
        "500-xml",
        "bad-decimal",
        "abstract-no-xsi-type",
        "xsi-type-abstract-base",
        "mark-in-a-sendresult",
        "alter-without-xsi-type",
        "amount-beyond-long",
        "msgid-nil",
        "no-paytype",
        "old-namespace",
        "dtd",
    ],
)
def test_garbage_reply_is_protocol_error(flavour, gateway: CannedServer, reply, status: int) -> None:
    gateway.reply = reply
    with pytest.raises(errors.ProtocolError) as info:
        flavour.soap("demo", PASSWORD, gateway.base_url).send_i18n_sms("8613800138000", "x【y】")
    assert info.value.status_code == status
    assert f"HTTP {status}" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_a_sendsms_result_of_another_type_is_refused(flavour, gateway: CannedServer) -> None:
    """``SendSmsResult`` is declared ``SendResult``: an I18NSendResult is not derived from it."""
    gateway.reply = result_xml("SendSms", xsi_type="I18NSendResult")
    with pytest.raises(errors.ProtocolError) as info:
        flavour.soap("demo", PASSWORD, gateway.base_url).send_sms("13800138000", "x【y】")
    assert "does not match the WSDL" in str(info.value)


def test_a_reply_of_another_operation_is_a_protocol_error(flavour, gateway: CannedServer) -> None:
    gateway.reply = result_xml("SendI18NSms")
    with pytest.raises(errors.ProtocolError):
        flavour.soap("demo", PASSWORD, gateway.base_url).send_sms("13800138000", "x【y】")


def test_text_xml_cannot_carry_is_a_value_error_before_sending(flavour, gateway: CannedServer) -> None:
    with pytest.raises(ValueError, match="U\\+0001"):
        flavour.soap("demo", PASSWORD, gateway.base_url).send_i18n_sms("8613800138000", "a\x01【y】")
    with pytest.raises(ValueError, match="U\\+0002"):
        flavour.soap("demo", PASSWORD, gateway.base_url).send_sms("1380013\x028000", "x【y】")
    with pytest.raises(ValueError) as info:
        flavour.soap("demo", "bad\x02pw", gateway.base_url).send_i18n_sms("8613800138000", "x【y】")
    assert "bad" not in str(info.value)
    assert gateway.requests == []


# --- CLI ---------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("IPYY_ACCOUNT", "IPYY_PASSWORD", "IPYY_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_cli_parses_send_options() -> None:
    args = cli.build_parser().parse_args(
        [
            "--account",
            "a",
            "send",
            "--to",
            "8613800138000,8613900139000",
            "--to",
            "447700900123",
            "--text",
            "hi【x】",
            "--hybrid",
            "--at",
            "2026-12-01 09:00:00",
            "--ext",
            "123",
            "--json",
            "--soap12",
            "--password",
            "p",
        ]
    )
    assert args.command == "send" and args.func is cli._cmd_send
    assert join_msisdns(args.to) == "8613800138000,8613900139000,447700900123"
    assert args.at == datetime(2026, 12, 1, 9, 0, 0)
    assert (args.ext, args.hybrid, args.json, args.soap12, args.via, args.op) == ("123", True, True, True, "soap", None)
    assert (args.account, args.password) == ("a", "p")


@pytest.mark.parametrize(
    "given, operation",
    [
        ("SendSms", "SendSms"),
        ("sendsms", "SendSms"),
        ("SENDI18NSMS", "SendI18NSms"),
        ("SendHybridSms", "SendHybridSms"),
        (" SendSms ", "SendSms"),
    ],
)
def test_cli_op_takes_a_soap_send_by_name_in_any_case(given: str, operation: str) -> None:
    args = cli.build_parser().parse_args(["send", "--to", "1", "--text", "x", "--op", given])
    assert args.op == operation and not args.hybrid


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-12-01 09:00:00", datetime(2026, 12, 1, 9)),
        ("2026-12-01T09:00:00+08:00", datetime(2026, 12, 1, 9, tzinfo=timezone(timedelta(hours=8)))),
        ("2026-12-01T01:00:00Z", datetime(2026, 12, 1, 1, tzinfo=timezone.utc)),
        ("2026-12-01 09:00", datetime(2026, 12, 1, 9)),
    ],
)
def test_cli_time_formats(text: str, expected: datetime) -> None:
    assert cli.parse_send_time(text) == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["send", "--text", "x"],  # no --to
        ["send", "--to", "1"],  # no --text
        ["send", "--to", "1", "--text", "x", "--at", "tomorrow"],
        ["send", "--to", "1", "--text", "x", "--ext", "123456"],
        ["send", "--to", "1", "--text", "x", "--ext", "12a"],
        ["send", "--to", "1", "--text", "x", "--op", "SendMms"],  # the server has it; the client sends no MMS
        ["send", "--to", "1", "--text", "x", "--op", "HybridSend"],
        ["send", "--to", "1", "--text", "x", "--op", "Frobnicate"],
        ["send", "--to", "1", "--text", "x", "--op"],
        ["frobnicate"],
        [],
    ],
)
def test_cli_usage_errors_exit_2(argv, clean_env, capsys) -> None:
    assert cli.main(argv) == 2


def test_cli_an_unknown_op_names_the_choices(clean_env, capsys) -> None:
    assert cli.main(["send", "--to", "1", "--text", "x", "--op", "SendMms"]) == 2
    err = capsys.readouterr().err
    assert "'SendMms' is not a SOAP send operation" in err
    assert "SendSms, SendI18NSms, SendHybridSms" in err


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--hybrid", "--op", "SendSms"], "--hybrid is --op SendHybridSms"),
        (["--hybrid", "--op", "SendI18NSms"], "--hybrid is --op SendHybridSms"),
        (["--via", "http", "--op", "SendSms"], "SOAP options"),
        (["--via", "http", "--op", "SendI18NSms"], "SOAP options"),
        (["--via", "domestic", "--op", "SendSms"], "--op SendSms"),
        (["--via", "domestic", "--hybrid"], "SOAP options"),
    ],
)
def test_cli_op_conflicts_are_usage_errors_before_anything_is_sent(
    extra, needle, gateway: CannedServer, clean_env, capsys
) -> None:
    gateway.reply = result_xml()
    argv = ["--account", "a", "--password", "p", "--base-url", gateway.base_url, "send", "--to", "8613800138000"]
    assert cli.main([*argv, "--text", "x【y】", *extra]) == 2
    assert needle in capsys.readouterr().err
    assert gateway.requests == []


def test_cli_missing_credentials_exit_2(clean_env, capsys) -> None:
    assert cli.main(["send", "--to", "8613800138000", "--text", "x【y】"]) == 2
    assert "IPYY_ACCOUNT" in capsys.readouterr().err
    assert cli.main(["--account", "a", "send", "--to", "8613800138000", "--text", "x【y】"]) == 2
    assert "IPYY_PASSWORD" in capsys.readouterr().err
    assert cli.main(["--account", "a", "--password", "p", "send", "--to", " , ", "--text", "x【y】"]) == 2


def test_cli_help_and_version_exit_0(capsys) -> None:
    assert cli.main(["--help"]) == 0
    assert cli.main(["send", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "--op" in help_text and "SendSms" in help_text
    assert cli.main(["--version"]) == 0
    assert ipyy_client.__version__ in capsys.readouterr().out


def test_cli_env_fallbacks_and_human_output(gateway: CannedServer, clean_env, capsys) -> None:
    gateway.reply = result_xml(errors_=("8613800000002:MsisdnBlack",))
    clean_env.setenv("IPYY_ACCOUNT", "envacct")
    clean_env.setenv("IPYY_PASSWORD", PASSWORD)
    clean_env.setenv("IPYY_BASE_URL", gateway.base_url)
    assert cli.main(["send", "--to", "8613800138000", "--to", "8613800000002", "--text", "测试【华信】"]) == 0
    out = capsys.readouterr().out
    assert "OK task 1000123 — 1 segment(s), charged 0.05, balance 99.95" in out
    assert "8613800000002: MsisdnBlack (1109" in out
    root = gateway.last_body()
    assert root.find(f".//{{{TNS}}}SendI18NSms") is not None  # the default operation
    assert field(root, "userName").text == "envacct" and field(root, "password").text == PASSWORD


def test_cli_recipient_errors_name_codes_without_numbers_and_unknown_ones(
    gateway: CannedServer, clean_env, capsys
) -> None:
    gateway.reply = result_xml(errors_=("8613800000006:FrequentOperation", "8613800000007:BrandNewReason"))
    argv = ["--account", "a", "--password", "p", "--base-url", gateway.base_url, "send", "--to", "8613800138000"]
    assert cli.main([*argv, "--text", "x【y】"]) == 0
    out = capsys.readouterr().out
    assert "8613800000006: FrequentOperation (操作过于频繁)" in out
    assert "8613800000007: BrandNewReason" in out
    assert "None" not in out


def test_cli_options_override_env_and_work_after_the_command(gateway: CannedServer, clean_env, capsys) -> None:
    gateway.reply = result_xml(version=12)
    clean_env.setenv("IPYY_ACCOUNT", "envacct")
    clean_env.setenv("IPYY_PASSWORD", "envpw")
    clean_env.setenv("IPYY_BASE_URL", "http://127.0.0.1:1")
    rc = cli.main(
        [
            "send",
            "--account",
            "cliacct",
            "--password",
            "clipw",
            "--base-url",
            gateway.base_url,
            "--to",
            "8613800138000",
            "--text",
            "x【y】",
            "--soap12",
            "--json",
        ]
    )
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {
        "ok": True,
        "status": "OK",
        "code": 1,
        "description": "操作成功",
        "msg_id": "1000123",
        "balance": "99.95",
        "billing_amount": "0.05",
        "billing_count": 1,
        "success_counts": 1,
        "amount": 1999,
        "pay_type": 1,
        "result_type": "I18NSendResult",
        "errors": [],
        "strict_refusals": [],
        "mock_warnings": [],
    }
    root = gateway.last_body()
    assert root.tag == f"{{{SOAP12}}}Envelope"
    assert field(root, "userName").text == "cliacct" and field(root, "password").text == "clipw"


@pytest.mark.parametrize(
    "extra, op",
    [
        (["--op", "SendSms"], "SendSms"),
        (["--op", "sendhybridsms"], "SendHybridSms"),
        (["--hybrid"], "SendHybridSms"),
        (["--hybrid", "--op", "SendHybridSms"], "SendHybridSms"),
        (["--op", "SendI18NSms"], "SendI18NSms"),
        ([], "SendI18NSms"),
    ],
)
@pytest.mark.parametrize("version", [11, 12])
def test_cli_op_chooses_the_operation(extra, op: str, version: int, gateway: CannedServer, clean_env, capsys) -> None:
    gateway.reply = result_xml(op, version, msg_id="1000200")
    argv = ["--account", "a", "--password", "p", "--base-url", gateway.base_url, "send", "--to", "13800138000"]
    assert cli.main([*argv, "--text", "x【y】", "--json", *extra, *(["--soap12"] if version == 12 else [])]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["msg_id"] == "1000200" and data["result_type"] == READ_TYPES[op]
    _, headers, _ = gateway.requests[-1]
    assert soap_action(headers, version) == f"http://www.yysms.com/{op}"
    ns = SOAP11 if version == 11 else SOAP12
    [element] = gateway.last_body().find(f"{{{ns}}}Body")
    assert element.tag == f"{{{TNS}}}{op}"


def test_cli_text_from_stdin(gateway: CannedServer, clean_env, monkeypatch, capsys) -> None:
    gateway.reply = result_xml()
    monkeypatch.setattr("sys.stdin", io.StringIO("第一行\n第二行【华信】\n"))
    assert (
        cli.main(
            [
                "--account",
                "a",
                "--password",
                "p",
                "--base-url",
                gateway.base_url,
                "send",
                "--to",
                "8613800138000",
                "--text",
                "-",
            ]
        )
        == 0
    )
    assert field(gateway.last_body(), "SMSContent").text == "第一行\n第二行【华信】"


def test_cli_vendor_error_exit_1(gateway: CannedServer, clean_env, capsys) -> None:
    gateway.reply = refusal_xml(
        status="MsisdnBlack",
        description="黑名单的手机号码",
        balance="100.00",
        amount=2000,
        errors_=("8613800000002:MsisdnBlack",),
    )
    argv = [
        "--account",
        "a",
        "--password",
        "p",
        "--base-url",
        gateway.base_url,
        "send",
        "--to",
        "8613800000002",
        "--text",
        "x【y】",
    ]
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    assert "MsisdnBlack (1109): 黑名单的手机号码" in captured.err
    assert "hint:" in captured.err and "blacklisted" in captured.err
    assert cli.main(argv + ["--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["status"], data["code"], data["ok"]) == ("MsisdnBlack", 1109, False)
    assert data["msg_id"] is None  # a refusal has no task
    assert (data["success_counts"], data["amount"], data["billing_count"]) == (0, 2000, 0)


def test_cli_a_code_without_number_and_an_unknown_code_exit_1(gateway: CannedServer, clean_env, capsys) -> None:
    argv = ["--account", "a", "--password", "p", "--base-url", gateway.base_url, "send", "--to", "8613800138000"]
    gateway.reply = refusal_xml(status="FrequentOperation", description="操作过于频繁")
    assert cli.main([*argv, "--text", "x【y】"]) == 1
    err = capsys.readouterr().err
    assert "error: FrequentOperation: 操作过于频繁" in err and "None" not in err
    assert "hint:" in err and "wait" in err
    gateway.reply = refusal_xml(status="QuotaExceeded", description="超出配额")
    assert cli.main([*argv, "--text", "x【y】"]) == 1
    assert "error: QuotaExceeded: 超出配额" in capsys.readouterr().err
    assert cli.main([*argv, "--text", "x【y】", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["ok"], data["status"], data["code"], data["msg_id"]) == (False, "QuotaExceeded", None, None)


def test_cli_password_error_hint_names_the_option(gateway: CannedServer, clean_env, capsys) -> None:
    gateway.reply = refusal_xml(status="PasswordError", description="密码错误", balance="0", amount=0, pay_type=0)
    assert (
        cli.main(
            [
                "--account",
                "a",
                "--password",
                "p",
                "--base-url",
                gateway.base_url,
                "send",
                "--to",
                "8613800138000",
                "--text",
                "x【y】",
            ]
        )
        == 1
    )
    assert "--password" in capsys.readouterr().err


def test_cli_transport_error_exit_3(clean_env, capsys) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    assert (
        cli.main(
            [
                "--account",
                "a",
                "--password",
                PASSWORD,
                "--base-url",
                url,
                "send",
                "--to",
                "8613800138000",
                "--text",
                "x【y】",
            ]
        )
        == 3
    )
    err = capsys.readouterr().err
    assert "ipyy-mock serve" in err and url in err and PASSWORD not in err


@pytest.mark.parametrize(
    "reply",
    [(200, "text/html", b"<html>hello</html>"), result_xml(xsi_type=None)],
    ids=["html", "abstract-no-xsi-type"],
)
def test_cli_protocol_error_exit_3(reply, gateway: CannedServer, clean_env, capsys) -> None:
    gateway.reply = reply
    assert (
        cli.main(
            [
                "--account",
                "a",
                "--password",
                "p",
                "--base-url",
                gateway.base_url,
                "send",
                "--to",
                "8613800138000",
                "--text",
                "x【y】",
            ]
        )
        == 3
    )
    assert "hint:" in capsys.readouterr().err


def test_cli_a_soap_fault_exit_3(gateway: CannedServer, clean_env, capsys) -> None:
    gateway.reply = fault12("Unable to handle request without a valid action parameter.")
    argv = ["--account", "a", "--password", "p", "--base-url", gateway.base_url, "send", "--to", "13800138000"]
    assert cli.main([*argv, "--text", "x【y】", "--soap12", "--op", "SendSms"]) == 3
    err = capsys.readouterr().err
    assert "SOAP Fault" in err and "valid action parameter" in err and "hint:" in err
