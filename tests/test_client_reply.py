"""SoapClient reads a well-formed reply itself (schema-validated, field by field) instead of through zeep's
generic value objects; these tests prove it gets what zeep's own mapping got, for every kind of valid reply
(every member of ``SendResultBase``, both result types, a nested ``AlterSendResult``, codes the client does not
know), and that what the WSDL's schema refuses is refused. Replies are written in ASMX's shape
(docs/contract.md §2)."""

from __future__ import annotations

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from ipyy_client import SoapClient, errors
from ipyy_client.codes import ResultCode
from ipyy_client.soap import NAMESPACE

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
OPS = ("SendSms", "SendI18NSms", "SendHybridSms")
#: The xsi:type a reply may name for each operation's result: SendSmsResult is declared SendResult (no xsi:type
#: needed); the other two are declared SendResultBase, which is abstract (the mock sends the first one listed).
TYPES = {
    "SendSms": (None, "SendResult"),
    "SendI18NSms": ("I18NSendResult", "SendResult"),
    "SendHybridSms": ("SendResult", "I18NSendResult"),
}
CLIENTS = {v: SoapClient("demo", "pw", "http://127.0.0.1:9", soap_version=v) for v in (11, 12)}
#: A valid SendResultBase body after PayType/StatusCode, for the hand-written edge cases.
REST = (
    "<SuccessCounts>1</SuccessCounts><BillingCount>1</BillingCount><Amount>1999</Amount><Balance>99.95</Balance>"
    "<BillingAmount>0.05</BillingAmount>"
)


def _response(body: bytes, version: int, status: int = 200) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = body
    r.headers["Content-Type"] = "text/xml; charset=utf-8" if version == 11 else "application/soap+xml; charset=utf-8"
    r.encoding = "utf-8"
    return r


def _envelope(
    version: int,
    op: str,
    inner: str,
    xsi_type: str | None = "",
    prefix: str = "soap",
    header: bool = False,
) -> bytes:
    """``inner`` as the ``<op>Result`` of an ASMX reply; ``xsi_type`` "" is the one the mock sends, None none."""
    ns = SOAP11 if version == 11 else SOAP12
    kind = TYPES[op][0] if xsi_type == "" else xsi_type
    attr = f' xsi:type="{kind}"' if kind else ""
    head = f"<{prefix}:Header/>" if header else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><{prefix}:Envelope xmlns:{prefix}="{ns}" '
        f'xmlns:xsi="{XSI}" xmlns:xsd="{XSD}">{head}<{prefix}:Body>'
        f'<{op}Response xmlns="{NAMESPACE}"><{op}Result{attr}>{inner}</{op}Result></{op}Response>'
        f"</{prefix}:Body></{prefix}:Envelope>"
    ).encode("utf-8")


def _zeep_way(client: SoapClient, op: str, response: requests.Response):
    """What the client returned before: zeep's process_reply, mapped by _to_result."""
    return client._to_result(client._binding.process_reply(client._client, client._binding.get(op), response))


def _both(version: int, op: str, body: bytes):
    client = CLIENTS[version]
    ours = client._read_reply(op, _response(body, version))
    theirs = _zeep_way(client, op, _response(body, version))
    return ours, theirs


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(" \t\n"), max_size=20)
#: A present string member: never empty (an empty element is "" for the client, None for zeep: see below).
_present = _text.filter(bool)
_int = st.integers(-(2**31), 2**31 - 1)
_long = st.integers(-(2**63), 2**63 - 1)
_decimal = st.decimals(allow_nan=False, allow_infinity=False)
#: The 54 names, and names the client has never seen (the vendor adds codes; a fixed few, so each is one member).
_code = st.sampled_from([c.name for c in ResultCode]) | st.sampled_from(["QuotaExceeded", "Ok", "NewCode2030"])
_pad = st.sampled_from(["", " ", "\n  "])


@st.composite
def _result(draw, kind: str | None, depth: int = 0) -> str:
    """The members of one SendResultBase of type ``kind``, in schema order, value types padded as XML allows."""
    pad = draw(_pad)

    def value(v) -> str:
        return f"{pad}{v}{pad}"

    inner = f"<PayType>{value(draw(_int))}</PayType><StatusCode>{draw(_code)}</StatusCode>"
    description = draw(st.none() | _text)
    if description is not None:
        inner += f"<Description>{_escape(description)}</Description>"
    msg_id = draw(st.none() | st.from_regex(r"[0-9]{1,19}", fullmatch=True) | _present.filter(lambda s: s == s.strip()))
    if msg_id is not None:
        inner += f"<MsgId>{_escape(msg_id)}</MsgId>"
    inner += (
        f"<SuccessCounts>{value(draw(_int))}</SuccessCounts><BillingCount>{value(draw(_int))}</BillingCount>"
        f"<Amount>{value(draw(_long))}</Amount><Balance>{value(format(draw(_decimal), 'f'))}</Balance>"
        f"<BillingAmount>{format(draw(_decimal), 'f')}</BillingAmount>"
    )
    errors_ = draw(st.none() | st.lists(st.none() | _text, max_size=4))
    if errors_ is not None:
        items = "".join('<string xsi:nil="true"/>' if e is None else f"<string>{_escape(e)}</string>" for e in errors_)
        inner += f"<Errors>{items}</Errors>"
    if depth < 2 and draw(st.booleans()):
        alter = draw(st.sampled_from(["SendResult", "I18NSendResult"]))
        inner += f'<AlterSendResult xsi:type="{alter}">{draw(_result(alter, depth + 1))}</AlterSendResult>'
    custom_id = draw(st.none() | _present)
    if custom_id is not None:
        inner += f"<CustomId>{_escape(custom_id)}</CustomId>"
    if kind == "I18NSendResult":
        mark = draw(st.none() | _present)
        if mark is not None:
            inner += f"<Mark>{_escape(mark)}</Mark>"
    return inner


@st.composite
def _reply(draw) -> tuple[int, str, bytes]:
    version = draw(st.sampled_from([11, 12]))
    op = draw(st.sampled_from(OPS))
    kind = draw(st.sampled_from(TYPES[op]))
    inner = draw(_result(kind or "SendResult"))
    return version, op, _envelope(version, op, inner, xsi_type=kind, header=draw(st.booleans()))


@settings(max_examples=400, deadline=None)
@given(reply=_reply())
def test_valid_replies_read_as_zeep_read_them(reply):
    version, op, body = reply
    ours, theirs = _both(version, op, body)
    assert ours == theirs


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("version", [11, 12])
def test_what_the_mock_writes_reads_as_zeep_reads_it(op, version):
    """The mock's two shapes: an accepted send (MsgId, Errors) and a refusal (no MsgId, nothing charged)."""
    accepted = (
        "<PayType>1</PayType><StatusCode>OK</StatusCode><Description>操作成功</Description><MsgId>1000002</MsgId>"
        "<SuccessCounts>1</SuccessCounts><BillingCount>1</BillingCount><Amount>1998</Amount><Balance>99.90</Balance>"
        "<BillingAmount>0.05</BillingAmount><Errors><string>8613800000002:MsisdnBlack</string></Errors>"
    )
    refused = (
        "<PayType>1</PayType><StatusCode>MsisdnEmpty</StatusCode><Description>手机号码为空</Description>"
        "<SuccessCounts>0</SuccessCounts><BillingCount>0</BillingCount><Amount>1998</Amount><Balance>99.90</Balance>"
        "<BillingAmount>0</BillingAmount>"
    )
    for inner in (accepted, refused):
        ours, theirs = _both(version, op, _envelope(version, op, inner))
        assert ours == theirs
        assert ours.result_type == {"SendSms": "SendResult", "SendI18NSms": "I18NSendResult"}.get(op, "SendResult")
    ours, _ = _both(version, op, _envelope(version, op, refused))
    assert ours.msg_id is None and ours.task_id is None and ours.status is ResultCode.MsisdnEmpty


@pytest.mark.parametrize(
    "op, inner, xsi_type",
    [
        (
            "SendI18NSms",
            "<PayType>1</PayType><StatusCode>OK</StatusCode><MsgId>1</MsgId>" + REST + "<Errors><string></string>"
            "<string/><string> </string></Errors>",
            "",
        ),
        (
            "SendI18NSms",
            "<PayType>0</PayType><StatusCode>OK</StatusCode><Description/><MsgId>1</MsgId><SuccessCounts>0"
            "</SuccessCounts><BillingCount>0</BillingCount><Amount>-0</Amount><Balance>1.50</Balance>"
            "<BillingAmount>-0.00</BillingAmount><Errors/>",
            "",
        ),
        (
            "SendI18NSms",
            "<PayType>1</PayType><StatusCode>OK</StatusCode><Description><![CDATA[<b>&</b>]]></Description><!-- c -->"
            "<MsgId>1</MsgId>" + REST,
            "",
        ),
        (  # xsi:type through a prefix of the service's own namespace
            "SendHybridSms",
            "<PayType>1</PayType><StatusCode>OK</StatusCode><MsgId>1</MsgId>" + REST,
            "q:SendResult",
        ),
        (  # the declared type named explicitly
            "SendSms",
            "<PayType>1</PayType><StatusCode>OK</StatusCode><MsgId>1</MsgId>" + REST,
            "SendResult",
        ),
        (  # an I18NSendResult nested in a SendSms result, its Mark included
            "SendSms",
            "<PayType>1</PayType><StatusCode>OK</StatusCode>" + REST + '<AlterSendResult xsi:type="I18NSendResult">'
            "<PayType>2</PayType><StatusCode>FaileList</StatusCode>" + REST + "<Mark>m</Mark></AlterSendResult>"
            "<CustomId>c</CustomId>",
            None,
        ),
        (  # a code the client does not know, in the result and in a nested one
            "SendI18NSms",
            "<PayType>1</PayType><StatusCode>QuotaExceeded</StatusCode>" + REST + "<AlterSendResult xsi:type="
            '"SendResult"><PayType>1</PayType><StatusCode>NewCode2030</StatusCode>' + REST + "</AlterSendResult>",
            "",
        ),
    ],
    ids=["empty-strings", "empty-and-zeros", "cdata-comment", "prefixed-xsi-type", "declared-type", "nested", "new"],
)
@pytest.mark.parametrize("version", [11, 12])
def test_edge_replies(op, inner, xsi_type, version):
    body = _envelope(version, op, inner, xsi_type=xsi_type, prefix="s")
    if xsi_type and xsi_type.startswith("q:"):
        body = body.replace(b"<s:Envelope ", f'<s:Envelope xmlns:q="{NAMESPACE}" '.encode(), 1)
    ours, theirs = _both(version, op, body)
    assert ours == theirs


def test_an_unknown_code_is_read_as_a_code_of_its_own():
    body = _envelope(11, "SendI18NSms", "<PayType>1</PayType><StatusCode>QuotaExceeded</StatusCode>" + REST)
    result = CLIENTS[11]._read("SendI18NSms", _response(body, 11))
    assert result.status is ResultCode("QuotaExceeded") and not result.status.known and not result.ok
    with pytest.raises(errors.VendorError) as info:
        result.raise_for_status()
    assert type(info.value) is errors.VendorError and info.value.code is result.status
    assert "QuotaExceeded" in str(info.value)


def test_every_member_is_read_from_the_reply():
    inner = (
        "<PayType>2</PayType><StatusCode>OK</StatusCode><Description>d</Description><MsgId>1000777</MsgId>"
        "<SuccessCounts>3</SuccessCounts><BillingCount>4</BillingCount><Amount>9223372036854775807</Amount>"
        "<Balance>-12.340</Balance><BillingAmount>0.20</BillingAmount><Errors><string>1:MsisdnBlack</string></Errors>"
        '<AlterSendResult xsi:type="SendResult"><PayType>1</PayType><StatusCode>NoProduct</StatusCode>'
        "<MsgId>9</MsgId>" + REST + "<CustomId>inner</CustomId></AlterSendResult><CustomId>outer</CustomId>"
        "<Mark>mark</Mark>"
    )
    result = CLIENTS[12]._read("SendI18NSms", _response(_envelope(12, "SendI18NSms", inner), 12))
    assert (result.pay_type, result.status, result.description, result.msg_id, result.task_id) == (
        2,
        ResultCode.OK,
        "d",
        "1000777",
        1000777,
    )
    assert (result.success_counts, result.billing_count, result.amount) == (3, 4, 2**63 - 1)
    assert (str(result.balance), str(result.billing_amount), result.errors) == ("-12.340", "0.20", ("1:MsisdnBlack",))
    assert (result.custom_id, result.mark, result.result_type) == ("outer", "mark", "I18NSendResult")
    alter = result.alter_send_result
    assert alter is not None
    assert (alter.status, alter.msg_id, alter.custom_id, alter.mark, alter.result_type) == (
        ResultCode.NoProduct,
        "9",
        "inner",
        None,
        "SendResult",
    )
    assert (alter.pay_type, alter.amount, alter.success_counts, alter.alter_send_result) == (1, 1999, 1, None)


def test_string_members_are_read_as_written():
    """``MsgId``, ``CustomId``, ``Mark`` and ``Description`` are xs:string: whitespace is part of the value (as
    zeep and .NET's XmlSerializer read it); ``task_id`` is where MsgId becomes a number."""
    inner = (
        "<PayType>1</PayType><StatusCode>OK</StatusCode><Description> d </Description><MsgId> 1000123 </MsgId>"
        + REST
        + "<CustomId> c </CustomId><Mark> m </Mark>"
    )
    ours, theirs = _both(11, "SendI18NSms", _envelope(11, "SendI18NSms", inner))
    assert (ours.description, ours.custom_id, ours.mark) == (" d ", " c ", " m ")
    assert ours.task_id == 1000123
    assert ours.msg_id == " 1000123 "  # SendResult: "msg_id is the wire's string"
    assert ours == theirs


def test_an_empty_string_member_is_the_empty_string_not_absent():
    """ASMX leaves a null string out (never xsi:nil), so a present empty element is the empty string."""
    inner = "<PayType>1</PayType><StatusCode>OK</StatusCode><MsgId/>" + REST + "<CustomId></CustomId><Mark/>"
    result = CLIENTS[11]._read("SendI18NSms", _response(_envelope(11, "SendI18NSms", inner), 11))
    assert (result.msg_id, result.custom_id, result.mark) == ("", "", "")
    assert result.task_id is None


def _invalid(inner: str, **kw) -> tuple[str, bytes]:
    return "SendI18NSms", _envelope(11, "SendI18NSms", inner, **kw)


HEAD = "<PayType>1</PayType><StatusCode>OK</StatusCode><MsgId>1</MsgId>"


@pytest.mark.parametrize(
    "op, body",
    [
        _invalid(HEAD + REST.replace("99.95", "lots")),
        _invalid(HEAD + REST.replace("<BillingAmount>0.05</BillingAmount>", "")),  # a required member missing
        _invalid(HEAD.replace("<PayType>1</PayType>", "") + REST),
        _invalid(HEAD + REST + "<Surprise/>"),
        _invalid("<MsgId>1</MsgId><PayType>1</PayType><StatusCode>OK</StatusCode>" + REST),  # out of order
        _invalid(HEAD.replace("<PayType>1", "<PayType>1.5") + REST),
        _invalid(HEAD + REST.replace("99.95", "1E+2")),
        _invalid(HEAD + REST.replace("<Amount>1999", "<Amount>9223372036854775808")),
        _invalid(HEAD + REST.replace("<SuccessCounts>1", "<SuccessCounts>2147483648")),
        _invalid(HEAD.replace("OK", "") + REST),  # an empty StatusCode names no code
        _invalid(HEAD.replace("<MsgId>1</MsgId>", '<MsgId xsi:nil="true"/>') + REST),
        _invalid(HEAD + REST, xsi_type=None),  # SendResultBase is abstract: no xsi:type, no type
        _invalid(HEAD + REST, xsi_type="SendResultBase"),
        _invalid(HEAD + REST, xsi_type="HybridSendResult"),  # a type of the contract, not derived from the base
        _invalid(HEAD + REST + "<Mark>m</Mark>", xsi_type="SendResult"),  # Mark is the I18NSendResult's
        _invalid(HEAD + REST + "<AlterSendResult>" + HEAD + REST + "</AlterSendResult>"),  # nested, abstract
        ("SendSms", _envelope(11, "SendSms", HEAD + REST, xsi_type="I18NSendResult")),  # not derived from SendResult
        ("SendSms", _envelope(11, "SendSms", HEAD + REST + "<Mark>m</Mark>")),
        ("SendI18NSms", _envelope(11, "SendI18NSms", HEAD + REST).replace(NAMESPACE.encode(), b"http://tempuri.org/")),
    ],
    ids=[
        "bad-decimal",
        "missing-member",
        "missing-paytype",
        "unknown-element",
        "out-of-order",
        "fractional-int",
        "exponent-decimal",
        "long-overflow",
        "int-overflow",
        "empty-status",
        "nil-msgid",
        "abstract-no-xsi-type",
        "xsi-type-base",
        "xsi-type-unrelated",
        "mark-in-sendresult",
        "alter-no-xsi-type",
        "sendsms-i18n-type",
        "sendsms-mark",
        "old-namespace",
    ],
)
def test_invalid_replies_are_protocol_errors(op, body):
    with pytest.raises(errors.ProtocolError) as info:
        CLIENTS[11]._read(op, _response(body, 11))  # zeep's own errors become ProtocolError there too
    assert "HTTP" not in str(info.value) or "200" in str(info.value)


@pytest.mark.parametrize("other", ["SendHybridSms", "SendSms"])
def test_a_reply_of_the_other_operation_is_a_protocol_error(other):
    client = CLIENTS[11]
    body = _envelope(11, other, HEAD + REST)
    with pytest.raises(errors.ProtocolError):
        client._read("SendI18NSms", _response(body, 11))


# -- the request: zeep's envelope, rendered once per operation and filled per call ---------------------------


def _zeep_request(client: SoapClient, op: str, sms: dict) -> tuple[bytes, dict]:
    from zeep.wsdl.utils import etree_to_string

    envelope, headers = client._binding._create(
        op,
        (),
        {"userName": client.account, "password": client._password, "sms": sms},
        client=client._client,
        options=client._binding_options,
    )
    return etree_to_string(envelope), dict(headers)


_value = st.text(
    st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\x00\x01\x02\x03\x04\x05\x06"
        "\x07\x08\x0b\x0c\x0e\x0f\x10"
        "\x11\x12\x13\x14\x15\x16\x17"
        "\x18\x19\x1a\x1b\x1c\x1d\x1e"
        "\x1f\ufffe\uffff"
        "\ue000\ue001",  # the template's own placeholder marks: a value holding one is rendered by zeep
    )
    | st.sampled_from("<>&\"'\r\n\t ]]>😀【】\u2028"),
    max_size=30,
)


def test_a_value_holding_the_templates_mark_is_rendered_by_zeep():
    client = SoapClient("a", "p", "http://127.0.0.1:9")
    assert client._envelope("SendSms", {"Msisdns": "1", "SMSContent": "x\ue000y"}) is None
    assert client._envelope("SendSms", {"Msisdns": "1", "SMSContent": "xy"}) is not None


@settings(max_examples=400, deadline=None)
@given(
    version=st.sampled_from([11, 12]),
    op=st.sampled_from(OPS),
    account=_value,
    password=_value,
    msisdns=_value,
    content=_value,
    ext=st.none() | _value,
)
def test_request_bytes_are_zeeps(version, op, account, password, msisdns, content, ext):
    client = SoapClient(account, password, "http://127.0.0.1:9", soap_version=version)
    sms = {"Msisdns": msisdns, "SMSContent": content}
    if ext:
        sms["ExtNumber"] = ext
    ours = client._envelope(op, sms)
    assert ours is not None  # no surrogates, no PlanSendTime: the template is used
    assert (ours[0], dict(ours[1])) == _zeep_request(client, op, sms)


@pytest.mark.parametrize("op", OPS)
def test_plan_send_time_and_lone_surrogates_are_zeeps_own(op):
    from datetime import datetime

    client = CLIENTS[11]
    assert client._envelope(op, {"Msisdns": "1", "SMSContent": "x", "PlanSendTime": datetime.now()}) is None
    assert client._envelope(op, {"Msisdns": "1", "SMSContent": "x\ud800"}) is None
    body, headers = client._envelope(op, {"Msisdns": "1", "SMSContent": "x"})
    [element] = etree.fromstring(body).find(f"{{{SOAP11}}}Body")
    assert element.tag == f"{{{NAMESPACE}}}{op}"
    assert headers["SOAPAction"].strip('"') == f"{NAMESPACE}{op}"
