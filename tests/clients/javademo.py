"""The vendor's Java demo (HTTPS demo 1.1, 2016-12-28), replayed byte for byte: its request and its way of reading.

Why a replay: the demo is copied into projects as it is, and it does not use the
WSDL. It posts a hand-written SOAP 1.2 envelope to the WSDL's URL
(``webservice.asmx?wsdl``, lower case) with no action, ``PlanSendTime`` as
``xsi:nil='true'`` with empty content (or, in its later copies,
``xsi:nil='false'`` and a value when scheduling), and it reads the reply with
JDK 8's SAAJ, walking the Body and keeping the children of the element whose
node name, prefix included, is exactly ``SendSmsResult``. A mock that answers
generated clients correctly can still break it: by prefixing the result, by
answering SOAP 1.1, by putting text (whitespace) between elements, by refusing
the POST on the WSDL's URL.

``request()`` builds the bytes as ``buildSoapData`` does; ``post()`` sends them
with the headers Apache HttpClient 4.5 sends for the demo's ``HttpPost`` (and
inflates gzip as HttpClient does); ``read()`` does what ``formatSoapString`` and
``parseSoap`` do, failing where SAAJ would throw.
"""

from __future__ import annotations

import gzip
import http.client
import zlib
from urllib.parse import urlsplit

from lxml import etree

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
PATH = "/webservice.asmx?wsdl"  # the demo's `wsdl` setting: https://dx.ipyy.net/webservice.asmx?wsdl
CONTENT_TYPE = "application/soap+xml; charset=UTF-8"
USER_AGENT = "Apache-HttpClient/4.5.2 (Java/1.8.0_181)"


class DemoFailure(AssertionError):
    """What the demo would have hit: SAAJ refusing the reply, or a ClassCastException while walking it."""


def request(user: str, password: str, mobiles: str, content: str, ext: str = "", plan: str = "") -> bytes:
    """``buildSoapData``: string concatenation, nothing escaped, the content in CDATA, single-quoted ``xsi:nil``.

    An empty ``plan`` is the 2016 demo (S5) and its later copies alike:
    ``<PlanSendTime xsi:nil='true'></PlanSendTime>``. A non-empty one is what the
    later copies (S5b) send to schedule: ``xsi:nil='false'`` and the value.
    """
    nil = "false" if plan else "true"
    soap = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap12:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap12="http://www.w3.org/2003/05/soap-envelope">'
        "<soap12:Body>"
        '<SendSms xmlns="http://www.yysms.com/">'
        f"<userName>{user}</userName>"
        f"<password>{password}</password>"
        "<sms>"
        f"<Msisdns>{mobiles}</Msisdns>"
        f"<SMSContent><![CDATA[{content}]]></SMSContent>"
        f"<ExtNumber>{ext}</ExtNumber>"
        f"<PlanSendTime xsi:nil='{nil}'>{plan}</PlanSendTime>"
        "</sms>"
        "</SendSms>"
        "</soap12:Body>"
        "</soap12:Envelope>"
    )
    return soap.encode("utf-8")  # new StringEntity(soapData, "UTF-8")


def post(base_url: str, body: bytes, timeout: float = 30) -> tuple[int, str, str]:
    """``httpclient.execute(post)`` then ``EntityUtils.toString(entity, "UTF-8")``: status, Content-Type, text.

    The headers are the ones HttpClient 4.5 writes for this request: the
    demo's Content-Type (set on the request, so the entity's text/plain is not
    used), then Content-Length, Host, Connection, User-Agent and Accept-Encoding
    added by its interceptors. No SOAPAction, no action parameter.
    """
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        connection.putrequest("POST", PATH, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Content-Type", CONTENT_TYPE)
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader("Host", parts.netloc)
        connection.putheader("Connection", "Keep-Alive")
        connection.putheader("User-Agent", USER_AGENT)
        connection.putheader("Accept-Encoding", "gzip,deflate")
        connection.endheaders(body)
        reply = connection.getresponse()
        data = reply.read()
        encoding = (reply.getheader("Content-Encoding") or "").strip().lower()
        if encoding == "gzip":
            data = gzip.decompress(data)
        elif encoding == "deflate":
            data = zlib.decompress(data)
        return reply.status, reply.getheader("Content-Type", ""), data.decode("utf-8", "replace")
    finally:
        connection.close()


def _node_name(element: etree._Element) -> str:
    """DOM ``getNodeName()``: the qualified name as written, ``prefix:local`` or ``local``."""
    local = etree.QName(element).localname
    return f"{element.prefix}:{local}" if element.prefix else local


def _children(element: etree._Element) -> list[etree._Element | str]:
    """SAAJ's ``getChildElements()``: every child node, text ones included (as their text), in document order."""
    nodes: list[etree._Element | str] = [element.text] if element.text else []
    for child in element:
        nodes.append(child)
        if child.tail:
            nodes.append(child.tail)
    return nodes


def _value(element: etree._Element) -> str | None:
    """JDK 8 SAAJ ``ElementImpl.getValue()``: the first text child's value (text normalized), else null."""
    if element.text is not None and element.text != "":
        return element.text
    for child in element:
        if child.tail:
            return child.tail
    return None


def _walk(nodes: list[etree._Element | str], parent: etree._Element, found: dict[str, str | None]) -> None:
    """``parseSoap``: ``Iterator<SOAPElement>`` over child nodes; a text node there is a ClassCastException."""
    for node in nodes:
        if isinstance(node, str) or not isinstance(node.tag, str):
            raise DemoFailure(
                f"java.lang.ClassCastException: a {'text' if isinstance(node, str) else 'comment'} node "
                f"{str(node)[:40]!r} inside <{_node_name(parent)}> is not a SOAPElement (parseSoap's iterator)"
            )
        if _node_name(parent) == "SendSmsResult":
            found[_node_name(node)] = _value(node)
        if _value(node) is None and len(node):
            _walk(_children(node), node, found)


def read(text: str) -> dict[str, str | None]:
    """``formatSoapString`` (a SOAP 1.2 MessageFactory) and ``parseSoap`` over the Body: the demo's map."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise DemoFailure(f"SAAJ cannot parse the reply ({exc}): {text[:300]!r}") from None
    if root.tag != f"{{{SOAP12}}}Envelope":
        raise DemoFailure(f"SAAJ's SOAP 1.2 MessageFactory rejects the envelope {root.tag}: {text[:300]!r}")
    bodies = [child for child in root if child.tag == f"{{{SOAP12}}}Body"]
    if not bodies:
        raise DemoFailure(f"getSOAPBody() finds no SOAP 1.2 Body: {text[:300]!r}")
    found: dict[str, str | None] = {}
    _walk(_children(bodies[0]), bodies[0], found)
    return found
