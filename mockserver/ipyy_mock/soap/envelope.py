"""SOAP wire knowledge, written once: namespaces, content types, the operations, and how ASMX writes replies.

Every reply is written the way ASMX (XmlSerializer) writes it for the vendor's
contract (docs/contract.md §2, proven against an ASMX service in
tests/test_asmx_oracle.py): the declaration ``<?xml version="1.0"
encoding="utf-8"?>``, the prefix ``soap`` for both versions with ``xsi`` and
``xsd`` declared, the response wrapper unprefixed in the service's default
namespace, members in schema order, a ``null`` string or array left out
(never ``xsi:nil``), value types always present, decimals with their own
scale, ``xsi:type`` where the declared type is the abstract
``SendResultBase``.

Faults are written as Microsoft's ASMX writes them for a remote caller
(IIS's default ``customErrors="RemoteOnly"``: the exception's message, no
stack trace): HTTP 500 for SOAP 1.1 and 1.2 alike, ``soap:Client`` /
``soap:Sender``, and an empty ``<detail />`` / ``<soap:Detail />``, without
which .NET clients raise SoapHeaderException instead of SoapException.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape

from ipyy_client.encoding import XML_ILLEGAL
from ipyy_client.wsdl import OLD_TNS, OPERATIONS, TNS

__all__ = [
    "TNS",
    "OLD_TNS",
    "OPERATIONS",
    "NS_SOAP11",
    "NS_SOAP12",
    "NS_XSD",
    "NS_XSI",
    "CONTENT_TYPES",
    "VIA",
    "XML_DECLARATION",
    "FAULT_STATUS",
    "Operation",
    "OPERATION",
    "SendResultXml",
    "HybridSendResultXml",
    "fault",
    "reply_envelope",
]

NS_SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
NS_SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NS_XSD = "http://www.w3.org/2001/XMLSchema"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_WSDL = "http://schemas.xmlsoap.org/wsdl/"
#: ASMX's declaration (no space before ``?>``; the .aspx pages write theirs with one).
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'
VIA = {11: "soap11", 12: "soap12"}
ENVELOPE_NS = {11: NS_SOAP11, 12: NS_SOAP12}
CONTENT_TYPES = {11: "text/xml; charset=utf-8", 12: "application/soap+xml; charset=utf-8"}
#: ASMX sends every Fault with 500 (its WriteFault writes nothing for any other status).
FAULT_STATUS = "500 Internal Server Error"


@dataclass(frozen=True)
class Operation:
    """One operation of the contract: what its request carries and how its result is written."""

    name: str
    #: The request's body parameter and its type: ("sms", SmsObject), ("mms", MmsObject), ("body", HybridSms).
    body: str
    body_type: str
    #: The result type declared in the WSDL, and the xsi:type a reply names (None: the declared type is concrete).
    declared: str
    xsi_type: str | None
    #: The product the core sends it as (core/domain.py SendRequest.product).
    product: str = "sms"
    #: Whether the operation takes userName and password as parameters (HybridSend has them in its body).
    credentials: bool = True
    #: Chinese 11-digit numbers allowed (SendSms, SendHybridSms), or country code first only (SendI18NSms).
    domestic: bool = True

    @property
    def action(self) -> str:
        """The SOAPAction (SOAP 1.1 header, SOAP 1.2 ``action`` parameter)."""
        return TNS + self.name


OPERATION: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("SendSms", "sms", "SmsObject", "SendResult", None),
        Operation("SendMms", "mms", "MmsObject", "SendResult", None, product="mms"),
        Operation("SendI18NSms", "sms", "SmsObject", "SendResultBase", "I18NSendResult", domestic=False),
        Operation("SendHybridSms", "sms", "SmsObject", "SendResultBase", "SendResult"),
        Operation(
            "HybridSend", "body", "HybridSms", "HybridSendResult", None, product="hybrid-send", credentials=False
        ),
    )
}
assert tuple(OPERATION) == OPERATIONS, "the operation table follows the WSDL's portType"


def _text(value: str) -> str | None:
    """Element text as ASMX's XmlTextWriter writes it: ``&`` ``<`` ``>`` escaped, CR, LF, TAB and quotes as they
    are; None when XML cannot carry the text."""
    if XML_ILLEGAL.search(value):
        return None
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _decimal(value: Decimal) -> str:
    """xs:decimal as .NET writes a decimal: its own scale (99.90, 0.10, 0), never an exponent, and no sign on a
    zero (a .NET decimal has no negative zero to write)."""
    value = Decimal(value)
    return format(value.copy_abs() if value.is_zero() else value, "f")


class _Unwritable(ValueError):
    """A value holds a character XML 1.0 cannot carry."""


def _element(name: str, value: str | None) -> str:
    """A string member: left out when null (XmlSerializer writes no ``xsi:nil`` for one that is not IsNullable),
    ``<Name />`` when empty."""
    if value is None:
        return ""
    text = _text(value)
    if text is None:
        raise _Unwritable(name)
    return f"<{name}>{text}</{name}>" if text else f"<{name} />"


def _strings(name: str, items: Sequence[str | None] | None) -> str:
    """An ArrayOfString: left out when null, ``<Name />`` when empty; a null item (the items are nillable) is
    ``<string xsi:nil="true" />``."""
    if items is None:
        return ""
    inner = "".join('<string xsi:nil="true" />' if item is None else _element("string", item) for item in items)
    return f"<{name}>{inner}</{name}>" if inner else f"<{name} />"


@dataclass
class SendResultXml:
    """A ``SendResultBase`` as the reply carries it: the vendor's twelve members (and Mark), None = null."""

    status: str
    description: str | None
    msg_id: str | None
    pay_type: int = 0
    success_counts: int = 0
    billing_count: int = 0
    amount: int = 0
    balance: Decimal = Decimal("0")
    billing_amount: Decimal = Decimal("0")
    errors: Sequence[str | None] | None = None
    alter: SendResultXml | None = None
    custom_id: str | None = None
    #: I18NSendResult's own member; written only for that type.
    mark: str | None = None
    #: The run-time type (``SendResult`` / ``I18NSendResult``), named in xsi:type where the declared type differs.
    type_name: str = "SendResult"

    def members(self) -> str:
        parts = [
            f"<PayType>{int(self.pay_type)}</PayType>",
            _element("StatusCode", self.status),
            _element("Description", self.description),
            _element("MsgId", self.msg_id),
            f"<SuccessCounts>{int(self.success_counts)}</SuccessCounts>",
            f"<BillingCount>{int(self.billing_count)}</BillingCount>",
            f"<Amount>{int(self.amount)}</Amount>",
            f"<Balance>{_decimal(self.balance)}</Balance>",
            f"<BillingAmount>{_decimal(self.billing_amount)}</BillingAmount>",
            _strings("Errors", self.errors),
            self.alter.element("AlterSendResult", "SendResultBase") if self.alter is not None else "",
            _element("CustomId", self.custom_id),
        ]
        if self.type_name == "I18NSendResult":
            parts.append(_element("Mark", self.mark))
        return "".join(parts)

    def element(self, name: str, declared: str) -> str:
        typed = f' xsi:type="{self.type_name}"' if self.type_name != declared else ""
        return f"<{name}{typed}>{self.members()}</{name}>"


@dataclass
class HybridSendResultXml:
    """A ``HybridSendResult`` (its own members and order, not a SendResultBase)."""

    status: str
    description: str | None
    msg_id: str | None = None
    amount: int = 0
    success_counts: int = 0
    billing_amount: Decimal = Decimal("0")
    errors_code: Sequence[str | None] | None = None
    job_type: int = 0
    type_name: str = field(default="HybridSendResult", init=False)

    def element(self, name: str, declared: str) -> str:
        return (
            f"<{name}>"
            + _element("StatusCode", self.status)
            + _element("Description", self.description)
            + _element("MsgId", self.msg_id)
            + f"<Amount>{int(self.amount)}</Amount><SuccessCounts>{int(self.success_counts)}</SuccessCounts>"
            + f"<BillingAmount>{_decimal(self.billing_amount)}</BillingAmount>"
            + _strings("ErrorsCode", self.errors_code)
            + f"<JobType>{int(self.job_type)}</JobType></{name}>"
        )


def _envelope(version: int, body: str, header: str = "") -> bytes:
    return XML_DECLARATION + (
        f'<soap:Envelope xmlns:soap="{ENVELOPE_NS[version]}" xmlns:xsi="{NS_XSI}" xmlns:xsd="{NS_XSD}">'
        f"{header}<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode("utf-8")


#: The header ASMX adds to a VersionMismatch Fault: the envelopes it supports (SOAP 1.2's Upgrade).
UPGRADE_HEADER = (
    f'<soap:Header><soap12:Upgrade xmlns:soap12="{NS_SOAP12}">'
    f'<soap12:SupportedEnvelope qname="soap:Envelope" xmlns:soap="{NS_SOAP11}" />'
    f'<soap12:SupportedEnvelope qname="soap12:Envelope" xmlns:soap12="{NS_SOAP12}" />'
    "</soap12:Upgrade></soap:Header>"
)


def reply_envelope(version: int, op: Operation, result: SendResultXml | HybridSendResultXml) -> bytes | None:
    """The whole reply of ``op`` (declaration included); None when a value is text XML cannot carry."""
    try:
        inner = result.element(f"{op.name}Result", op.declared)
    except _Unwritable:
        return None
    return _envelope(version, f'<{op.name}Response xmlns="{TNS}">{inner}</{op.name}Response>')


def fault(version: int, message: str, code: str = "Client", *, detail: bool = True) -> bytes:
    """A Fault as ASMX writes it (declaration included); ``code`` is the SOAP 1.1 name (Client, Server,
    VersionMismatch, MustUnderstand), which SOAP 1.2 writes as Sender / Receiver. ``detail`` False for a header
    Fault (MustUnderstand), which ASMX writes without one; a VersionMismatch Fault carries the Upgrade header."""
    text = escape(XML_ILLEGAL.sub("?", message))
    header = UPGRADE_HEADER if code == "VersionMismatch" else ""
    if version == 12:
        value = {"Client": "Sender", "Server": "Receiver"}.get(code, code)
        body = (
            f"<soap:Fault><soap:Code><soap:Value>soap:{value}</soap:Value></soap:Code>"
            f'<soap:Reason><soap:Text xml:lang="en">{text}</soap:Text></soap:Reason>'
            + ("<soap:Detail />" if detail else "")
            + "</soap:Fault>"
        )
    else:
        body = (
            f"<soap:Fault><faultcode>soap:{code}</faultcode><faultstring>{text}</faultstring>"
            + ("<detail />" if detail else "")
            + "</soap:Fault>"
        )
    return _envelope(version, body, header)
