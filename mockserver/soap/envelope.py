"""SOAP wire knowledge, written once: namespaces, the ASMX XML declaration, content types, Faults, the reply.

The reply has one fixed shape, so it is written from a template instead of
spyne's serializer (which cost ~0.4 ms of CPU a send);
tests/test_soap_reply_template.py proves the template byte-identical to spyne's
output over many results (both SOAP versions, both operations, empty and
non-empty Errors, unicode, markup characters, big and odd decimals).

Fault status codes follow the bindings (docs/contract.md, "Bad input"): a
SOAP 1.1 Fault is HTTP 500, as the SOAP 1.1 HTTP binding (WS-I Basic Profile
R1126) and ASMX send it, so that clients which read a Fault only from a 500
(JAX-WS, suds) see the Fault; SOAP 1.2 has its own: Sender 400, Receiver 500.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from ipyy_client.encoding import XML_ILLEGAL, escape_xml_text

TNS = "http://tempuri.org/"
NS_SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
NS_SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NS_XSD = "http://www.w3.org/2001/XMLSchema"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_WSDL = "http://schemas.xmlsoap.org/wsdl/"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8" ?>'
OPERATIONS = ("SendI18NSms", "SendHybridSms")
VIA = {11: "soap11", 12: "soap12"}
CONTENT_TYPES = {11: "text/xml; charset=utf-8", 12: "application/soap+xml; charset=utf-8"}

# Comments and processing instructions dropped, CDATA as text, no DTD, no entities, no network (spyne's
# XmlDocument defaults, which the service definition's tests use too).
PARSER_KWARGS = dict(
    attribute_defaults=False,
    dtd_validation=False,
    load_dtd=False,
    no_network=True,
    ns_clean=False,
    recover=False,
    remove_blank_text=False,
    remove_comments=True,
    remove_pis=True,
    strip_cdata=True,
    resolve_entities=False,
    huge_tree=False,
    compact=True,
)

_ENVELOPE_NS = {"soap11": ("soap11env", NS_SOAP11), "soap12": ("soap12env", NS_SOAP12)}


def fault_status(version: int, code: str) -> str:
    """The HTTP status a Fault travels with: 500 for SOAP 1.1; Sender 400 / Receiver 500 for SOAP 1.2."""
    if version == 11 or code == "Server":
        return "500 Internal Server Error"
    return "400 Bad Request"


def fault(version: int, message: str, code: str = "Client") -> bytes:
    """A Fault envelope (with the ASMX declaration); ``code`` is the SOAP 1.1 name (Client, Server, ...)."""
    text = escape(XML_ILLEGAL.sub("?", message))
    if version == 12:
        value = {"Client": "Sender", "Server": "Receiver"}.get(code, code)
        body = (
            f'<soap:Envelope xmlns:soap="{NS_SOAP12}"><soap:Body><soap:Fault>'
            f"<soap:Code><soap:Value>soap:{value}</soap:Value></soap:Code>"
            f'<soap:Reason><soap:Text xml:lang="en">{text}</soap:Text></soap:Reason>'
            "</soap:Fault></soap:Body></soap:Envelope>"
        )
    else:
        body = (
            f'<soap:Envelope xmlns:soap="{NS_SOAP11}"><soap:Body><soap:Fault>'
            f"<faultcode>soap:{code}</faultcode><faultstring>{text}</faultstring>"
            "</soap:Fault></soap:Body></soap:Envelope>"
        )
    return XML_DECLARATION + body.encode("utf-8")


def _text(value: str) -> str | None:
    """Element text as lxml writes it (``&`` ``<`` ``>`` and CR escaped); None when XML cannot carry it."""
    if XML_ILLEGAL.search(value):
        return None
    return escape_xml_text(value)


def reply_envelope(
    via: str,
    op: str,
    status: str,
    description: str,
    msg_id: int,
    balance: Any,
    amount: Any,
    count: int,
    errors: list[str],
) -> bytes | None:
    """The SOAP reply envelope spyne would write for this result (no XML declaration: the front adds the ASMX one);
    None when a value is text XML cannot carry."""
    prefix, ns = _ENVELOPE_NS[via]
    status_text, descr = _text(status), _text(description)
    if status_text is None or descr is None:
        return None
    parts = [
        f'<{prefix}:Envelope xmlns:{prefix}="{ns}" xmlns:tns="{TNS}"><{prefix}:Body><tns:{op}Response>'
        f"<tns:{op}Result><tns:StatusCode>{status_text}</tns:StatusCode>"
        f"<tns:Description>{descr}</tns:Description><tns:MsgId>{int(msg_id)}</tns:MsgId>"
        f"<tns:Balance>{format(Decimal(balance), 'f')}</tns:Balance>"
        f"<tns:BillingAmount>{format(Decimal(amount), 'f')}</tns:BillingAmount>"
        f"<tns:BillingCount>{int(count)}</tns:BillingCount>"
    ]
    if errors:
        parts.append("<tns:Errors>")
        for item in errors:
            text = _text(item)
            if text is None:
                return None
            parts.append(f"<tns:string>{text}</tns:string>")
        parts.append("</tns:Errors>")
    parts.append(f"</tns:{op}Result></tns:{op}Response></{prefix}:Body></{prefix}:Envelope>")
    return "".join(parts).encode("utf-8")
