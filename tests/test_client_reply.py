"""SoapClient reads a well-formed reply itself (schema-validated, field by field) instead of through zeep's
generic value objects; these tests prove it gets what zeep's own mapping got, for every kind of valid reply,
and that what zeep refused is still refused."""

from __future__ import annotations

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from zeep import exceptions as zexc

from ipyy_client import SoapClient, errors
from ipyy_client.codes import ResultCode
from ipyy_client.soap import NAMESPACE

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
CLIENTS = {v: SoapClient("demo", "pw", "http://127.0.0.1:9", soap_version=v) for v in (11, 12)}


def _response(body: bytes, version: int, status: int = 200) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = body
    r.headers["Content-Type"] = "text/xml; charset=utf-8" if version == 11 else "application/soap+xml; charset=utf-8"
    r.encoding = "utf-8"
    return r


def _envelope(version: int, op: str, inner: str, prefix: str = "soap", header: bool = False) -> bytes:
    ns = SOAP11 if version == 11 else SOAP12
    head = f"<{prefix}:Header/>" if header else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><{prefix}:Envelope xmlns:{prefix}="{ns}" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{head}<{prefix}:Body>'
        f'<{op}Response xmlns="{NAMESPACE}"><{op}Result>{inner}</{op}Result></{op}Response>'
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


@settings(max_examples=300, deadline=None)
@given(
    version=st.sampled_from([11, 12]),
    op=st.sampled_from(["SendI18NSms", "SendHybridSms"]),
    code=st.sampled_from(list(ResultCode)),
    description=st.none() | _text,
    msg_id=st.integers(-(2**63), 2**63 - 1),
    balance=st.decimals(allow_nan=False, allow_infinity=False),
    amount=st.decimals(allow_nan=False, allow_infinity=False),
    count=st.integers(-(2**31), 2**31 - 1),
    errors_=st.none() | st.lists(st.none() | _text, max_size=4),
    pad=st.sampled_from(["", " ", "\n  "]),
    header=st.booleans(),
)
def test_valid_replies_read_as_zeep_read_them(
    version, op, code, description, msg_id, balance, amount, count, errors_, pad, header
):
    inner = f"<StatusCode>{code.name}</StatusCode>"
    if description is not None:
        inner += f"<Description>{_escape(description)}</Description>"
    inner += (
        f"<MsgId>{pad}{msg_id}{pad}</MsgId><Balance>{pad}{format(balance, 'f')}{pad}</Balance>"
        f"<BillingAmount>{format(amount, 'f')}</BillingAmount><BillingCount>{count}{pad}</BillingCount>"
    )
    if errors_ is not None:
        items = "".join('<string xsi:nil="true"/>' if e is None else f"<string>{_escape(e)}</string>" for e in errors_)
        inner += f"<Errors>{items}</Errors>"
    ours, theirs = _both(version, op, _envelope(version, op, inner, header=header))
    assert ours == theirs


@pytest.mark.parametrize(
    "inner",
    [
        "<StatusCode>OK</StatusCode><MsgId>1</MsgId><Balance>1</Balance><BillingAmount>0</BillingAmount>"
        "<BillingCount>1</BillingCount><Errors><string></string><string/><string> </string></Errors>",
        "<StatusCode>OK</StatusCode><Description/><MsgId>1</MsgId><Balance>1.50</Balance>"
        "<BillingAmount>-0.00</BillingAmount><BillingCount>0</BillingCount><Errors/>",
        "<StatusCode>OK</StatusCode><Description><![CDATA[<b>&</b>]]></Description><!-- c --><MsgId>1</MsgId>"
        "<Balance>1</Balance><BillingAmount>0</BillingAmount><BillingCount>1</BillingCount>",
    ],
)
@pytest.mark.parametrize("version", [11, 12])
def test_edge_replies(inner, version):
    ours, theirs = _both(version, "SendI18NSms", _envelope(version, "SendI18NSms", inner, prefix="s"))
    assert ours == theirs


@pytest.mark.parametrize(
    "inner",
    [
        "<StatusCode>NoSuchCode</StatusCode><MsgId>1</MsgId><Balance>1</Balance><BillingAmount>0</BillingAmount>"
        "<BillingCount>1</BillingCount>",
        "<StatusCode>OK</StatusCode><MsgId>1</MsgId><Balance>lots</Balance><BillingAmount>0</BillingAmount>"
        "<BillingCount>1</BillingCount>",
        "<StatusCode>OK</StatusCode><MsgId>1</MsgId><Balance>1</Balance><BillingCount>1</BillingCount>",  # missing
        "<StatusCode>OK</StatusCode><MsgId>1</MsgId><Balance>1</Balance><BillingAmount>0</BillingAmount>"
        "<BillingCount>1</BillingCount><Surprise/>",
        "<MsgId>1</MsgId><StatusCode>OK</StatusCode><Balance>1</Balance><BillingAmount>0</BillingAmount>"
        "<BillingCount>1</BillingCount>",  # out of order
        "<StatusCode>OK</StatusCode><MsgId>1.5</MsgId><Balance>1</Balance><BillingAmount>0</BillingAmount>"
        "<BillingCount>1</BillingCount>",
        "<StatusCode>OK</StatusCode><MsgId>1</MsgId><Balance>1E+2</Balance><BillingAmount>0</BillingAmount>"
        "<BillingCount>1</BillingCount>",
    ],
)
def test_invalid_replies_are_protocol_errors(inner):
    client = CLIENTS[11]
    with pytest.raises(errors.ProtocolError) as info:
        try:
            client._read_reply("SendI18NSms", _response(_envelope(11, "SendI18NSms", inner), 11))
        except zexc.Error as exc:  # _call turns zeep's errors into ProtocolError
            raise client._protocol_error(str(exc)) from None
    assert "HTTP" not in str(info.value) or "200" in str(info.value)


def test_a_reply_of_the_other_operation_is_left_to_zeep():
    client = CLIENTS[11]
    body = _envelope(
        11,
        "SendHybridSms",
        "<StatusCode>OK</StatusCode><MsgId>1</MsgId><Balance>1</Balance>"
        "<BillingAmount>0</BillingAmount><BillingCount>1</BillingCount>",
    )
    with pytest.raises((zexc.Error, errors.ProtocolError)):
        client._read_reply("SendI18NSms", _response(body, 11))


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
        "\x1f\ufffe\uffff",
    )
    | st.sampled_from("<>&\"'\r\n\t ]]>😀【】\u2028"),
    max_size=30,
)


@settings(max_examples=400, deadline=None)
@given(
    version=st.sampled_from([11, 12]),
    op=st.sampled_from(["SendI18NSms", "SendHybridSms"]),
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


def test_plan_send_time_and_lone_surrogates_are_zeeps_own():
    from datetime import datetime

    client = CLIENTS[11]
    assert client._envelope("SendI18NSms", {"Msisdns": "1", "SMSContent": "x", "PlanSendTime": datetime.now()}) is None
    assert client._envelope("SendI18NSms", {"Msisdns": "1", "SMSContent": "x\ud800"}) is None
