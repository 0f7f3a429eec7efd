"""The mock's SOAP surface: /WebService.asmx, ASMX document/literal wrapped, SOAP 1.1 and 1.2.

This module only translates between the wire and the domain objects of
``ipyy_mock.core.wire``: every send rule lives in ``Platform.send``. The contract is
``wsdl/WebService.wsdl`` (packaged as ``ipyy_client/WebService.wsdl``); the
spyne models below mirror it element for element, and
``tests/test_soap_contract.py`` proves that they agree.

Request handling, in order (the front checks so that every bad request gets a
clear SOAP Fault with HTTP 400 instead of spyne's HTTP 500, and so that no DTD
or entity ever reaches a parser):

1. GET ``?wsdl`` serves the static WSDL with the request's own host in the
   addresses; any other GET gets a short help page.
2. POST: Content-Type picks the SOAP version (``text/xml`` 1.1,
   ``application/soap+xml`` 1.2; else 415). The body must fit ``max_body``
   (else 413), be UTF-8 and carry no DOCTYPE; it is parsed with entity
   resolution and network access off, the envelope must be of the content
   type's SOAP version, the SOAPAction (if any) must name the body's
   operation, and the operation element must be valid against the WSDL schema.
3. spyne (built once, soft validation) deserializes the operation, the
   service calls ``platform.send`` and spyne serializes the reply.
"""
from __future__ import annotations

import copy
import io
import logging
import re
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from importlib import resources
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from ipyy_mock.soap import spyne_compat  # noqa: F401  (must precede every spyne import)

from lxml import etree
from spyne import Application, ComplexModel, ServiceBase, rpc
from spyne.error import ValidationError
from spyne.model.complex import Array
from spyne.model.enum import Enum
from spyne.model.primitive import DateTime, Decimal, Integer32, Long, Unicode
from spyne.model.fault import Fault
from spyne.protocol.soap import Soap11, Soap12
from spyne.protocol.soap.soap11 import resolve_hrefs
from spyne.protocol.xml import XmlDocument
from spyne.server.wsgi import WsgiApplication

import spyne.const

from ipyy_client.encoding import escape_xml_text
from ipyy_client.codes import ResultCode
from ipyy_mock.core.wire import SendOutcome, SendRequest

# spyne's MethodContext.close() runs a full gc.collect() whenever a second has passed since the last one, "to
# have file descriptors returned in a timely manner" (its file-upload contexts). Measured here: 48-119 ms per
# collection with the GIL held, once a second per worker, stalling every thread of that worker (p99). The mock's
# contexts hold no files (the body is a BytesIO, the reply bytes), their reference cycles hold only memory, and
# Python's own generational collector still reclaims those; so the forced collection is turned off.
spyne.const.MIN_GC_INTERVAL = float("inf")
# spyne logs ~60 debug lines per request; with its loggers at WARNING every one of them returns at the level
# check (and the `logger.level == DEBUG` branches that build debug strings stay off even under a DEBUG root).
logging.getLogger("spyne").setLevel(logging.WARNING)

__all__ = ["make_soap_app", "WebService", "SmsObject", "SendResultBase", "TNS", "static_wsdl",
           "spyne_application", "parse_xsd_datetime"]

log = logging.getLogger(__name__)

TNS = "http://tempuri.org/"
NS_SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
NS_SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NS_XSD = "http://www.w3.org/2001/XMLSchema"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8" ?>'
OPERATIONS = ("SendI18NSms", "SendHybridSms")
DEFAULT_MAX_BODY = 1 << 20  # 1 MiB: a real send request is a few kB at most

WsgiApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]


# ---------------------------------------------------------------- spyne models
# Occurrence and nillability spelled out on every member: spyne's defaults
# (minOccurs 0, nillable true) differ from the WSDL's.

def _u(min_occurs: int = 0, nillable: bool = False) -> type:
    return Unicode.customize(min_occurs=min_occurs, nillable=nillable)


ResultCodeType = Enum(*[c.name for c in ResultCode], type_name="ResultCode")

ArrayOfString = Array(Unicode.customize(min_occurs=0, nillable=True), type_name="ArrayOfString")


class SmsObject(ComplexModel):
    __namespace__ = TNS
    _type_info = [
        ("Msisdns", _u()),
        ("SMSContent", _u()),
        ("PlanSendTime", DateTime.customize(min_occurs=0, nillable=True)),
        ("ExtNumber", _u()),
    ]


class SendResultBase(ComplexModel):
    __namespace__ = TNS
    _type_info = [
        ("StatusCode", ResultCodeType.customize(min_occurs=1, nillable=False)),
        ("Description", _u()),
        ("MsgId", Long.customize(min_occurs=1, nillable=False)),
        ("Balance", Decimal.customize(min_occurs=1, nillable=False)),
        ("BillingAmount", Decimal.customize(min_occurs=1, nillable=False)),
        ("BillingCount", Integer32.customize(min_occurs=1, nillable=False)),
        ("Errors", ArrayOfString.customize(min_occurs=0, nillable=False)),
    ]


_Sms = SmsObject.customize(min_occurs=0, nillable=False)
_Result = SendResultBase.customize(min_occurs=1, nillable=False)


class WebService(ServiceBase):
    """The two ASMX operations; the platform and the SOAP version come from ``ctx.app``."""

    @rpc(_u(), _u(), _Sms, _returns=_Result)
    def SendI18NSms(ctx, userName, password, sms):  # noqa: N802,N803 - wire names
        return _send(ctx, userName, password, sms, hybrid=False)

    @rpc(_u(), _u(), _Sms, _returns=_Result)
    def SendHybridSms(ctx, userName, password, sms):  # noqa: N802,N803 - wire names
        return _send(ctx, userName, password, sms, hybrid=True)


def _send(ctx: Any, user: str | None, password: str | None, sms: Any, *, hybrid: bool) -> SendResultBase:
    app = ctx.app
    req = SendRequest(
        account=user,
        password=password,
        msisdns=getattr(sms, "Msisdns", None),
        content=getattr(sms, "SMSContent", None),
        plan_send_time=getattr(sms, "PlanSendTime", None),
        ext_number=getattr(sms, "ExtNumber", None),
        hybrid=hybrid,
        client_ip=ctx.transport.req_env.get("REMOTE_ADDR", "") or "",
        via=app.ipyy_via,
    )
    try:
        outcome = app.ipyy_platform.send(req)
    except Exception:  # a platform bug must not become an HTTP 500: the vendor's own code for it
        log.exception("platform.send failed (%s, account %r)", app.ipyy_via, user)
        outcome = SendOutcome(code=ResultCode.InternalError)
    errors = list(outcome.errors)
    if PARSED_KEY in ctx.transport.req_env:  # served by the front: the reply from the byte template
        body = reply_envelope(app.ipyy_via, "SendHybridSms" if hybrid else "SendI18NSms", outcome.code.name,
                              outcome.code.description, outcome.task_id, outcome.balance, outcome.billing_amount,
                              outcome.billing_count, errors)
        if body is not None:
            # spyne's own hatch: an out_string set by the method is sent as it is (get_out_string_pull), so the
            # returned object is never serialized; none is built (a SendResultBase costs ~80 us of CPU)
            ctx.out_string = [body]
            return None
    return SendResultBase(
        StatusCode=outcome.code.name,
        Description=outcome.code.description,
        MsgId=int(outcome.task_id),
        Balance=D(outcome.balance),
        BillingAmount=D(outcome.billing_amount),
        BillingCount=int(outcome.billing_count),
        Errors=errors or None,  # omitted when empty
    )


# ------------------------------------------------------------ the reply, from a byte template
# spyne's serializer (build an etree from the models, clean namespaces, tostring) cost ~0.4 ms of CPU per send;
# the reply has one fixed shape, so it is written from a template instead. tests/test_soap_reply_template.py
# proves it byte-identical to spyne's serializer over many results (both SOAP versions, both operations, empty
# and non-empty Errors, unicode, markup characters, big and odd decimals); text XML cannot carry is left to
# spyne, which refuses it as it always did.

_ENVELOPE_NS = {"soap11": ("soap11env", NS_SOAP11), "soap12": ("soap12env", NS_SOAP12)}
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _text(value: str) -> str | None:
    """Element text as lxml writes it (``&`` ``<`` ``>`` and CR escaped); None when XML cannot carry it."""
    if _XML_UNSAFE.search(value):
        return None
    return escape_xml_text(value)


def reply_envelope(via: str, op: str, status: str, description: str, msg_id: int, balance: Any, amount: Any,
                   count: int, errors: list[str]) -> bytes | None:
    """The SOAP reply envelope spyne would write for this result (no XML declaration: the front adds the ASMX one);
    None when a value needs spyne's own handling (text XML cannot carry)."""
    prefix, ns = _ENVELOPE_NS[via]
    status_text, descr = _text(status), _text(description)
    if status_text is None or descr is None:
        return None
    parts = [f'<{prefix}:Envelope xmlns:{prefix}="{ns}" xmlns:tns="{TNS}"><{prefix}:Body><tns:{op}Response>'
             f"<tns:{op}Result><tns:StatusCode>{status_text}</tns:StatusCode>"
             f"<tns:Description>{descr}</tns:Description><tns:MsgId>{int(msg_id)}</tns:MsgId>"
             f"<tns:Balance>{format(D(balance), 'f')}</tns:Balance>"
             f"<tns:BillingAmount>{format(D(amount), 'f')}</tns:BillingAmount>"
             f"<tns:BillingCount>{int(count)}</tns:BillingCount>"]
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


# ------------------------------------------------------------ spyne protocols

_XSD_DATETIME = re.compile(
    r"(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?\Z"
)


_DT_MIN, _DT_MAX = datetime(1, 1, 2), datetime(9999, 12, 30)


def parse_xsd_datetime(text: str) -> datetime:
    """xs:dateTime -> datetime: naive without a zone, aware (fixed offset) with ``Z`` or an offset.

    Replaces spyne's parser, which gets negative half-hour offsets wrong
    (``-03:30`` becomes -02:30) and ignores trailing text. Raises ValueError for
    text that is not an xs:dateTime or lies outside what Python (and .NET) can
    hold: 0001-01-02 to 9999-12-30 in UTC, a day's margin so that no later
    zone conversion (spyne's own range check included) can overflow.
    """
    m = _XSD_DATETIME.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not an xs:dateTime (like 2024-05-01T09:30:00, zone optional)")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    micro = round(D("0" + m.group(7)) * 1_000_000) if m.group(7) else 0
    zone = m.group(8)
    tz = None
    if zone == "Z":
        tz = timezone.utc
    elif zone:
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        extra = timedelta(0)
        if hour == 24 and minute == second == micro == 0:  # xs:dateTime allows 24:00:00
            hour, extra = 0, timedelta(days=1)
        if micro == 1_000_000:  # .9999999 rounds up
            micro, extra = 0, extra + timedelta(seconds=1)
        value = datetime(year, month, day, hour, minute, second, micro, tzinfo=tz) + extra
        utc = value.astimezone(timezone.utc).replace(tzinfo=None) if tz else value
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    if not _DT_MIN <= utc <= _DT_MAX:
        raise ValueError(f"{text!r} is out of range (0001-01-02 to 9999-12-30)")
    return value


# The front parses the body (with spyne's own parser settings, below) and validates it; spyne then uses that
# tree instead of parsing the same bytes again.
PARSED_KEY = "ipyy.soap_parsed"
# XmlDocument's defaults (spyne.protocol.xml): comments and processing instructions dropped, CDATA as text,
# no DTD, no entities, no network. The front's tree is then the one spyne would have built.
PARSER_KWARGS = dict(attribute_defaults=False, dtd_validation=False, load_dtd=False, no_network=True, ns_clean=False,
                     recover=False, remove_blank_text=False, remove_comments=True, remove_pis=True, strip_cdata=True,
                     resolve_entities=False, huge_tree=False, compact=True)


def _from_soap(envelope: Any, xmlids: Any, ns_soap: str) -> tuple[Any, Any]:
    """spyne.protocol.soap.soap11._from_soap without XPath: the Header's children and the Body's first child."""
    if xmlids:
        resolve_hrefs(envelope, xmlids)
    if envelope.tag != "{%s}Envelope" % ns_soap:
        raise Fault("Client.SoapError", "No {%s}Envelope element was found!" % ns_soap)
    header_envelope = envelope.find("{%s}Header" % ns_soap)
    body_envelope = envelope.find("{%s}Body" % ns_soap)
    if header_envelope is None and body_envelope is None:
        raise Fault("Client.SoapError", "Soap envelope is empty!")
    header = None
    if header_envelope is not None:
        header = header_envelope.getchildren()
    body = None
    if body_envelope is not None and len(body_envelope) > 0:
        body = body_envelope[0]
    return header, body


class _ProtocolFixes:
    """Overrides shared by both SOAP versions: exact decimals, empty strings, a correct dateTime parser, and the
    request document parsed once (by the front)."""

    def decompose_incoming_envelope(self, ctx: Any, message: Any = XmlDocument.REQUEST) -> None:
        # spyne's own (Soap11.decompose_incoming_envelope) with _from_soap's two XPath queries, compiled anew
        # for every request (~0.1 ms), done as element lookups; same results, same Faults.
        envelope_xml, xmlids = ctx.in_document
        header_document, body_document = _from_soap(envelope_xml, xmlids, self.ns_soap_env)
        ctx.in_document = envelope_xml
        if body_document.tag == "{%s}Fault" % self.ns_soap_env:
            ctx.in_body_doc = body_document
        else:
            ctx.in_header_doc = header_document
            ctx.in_body_doc = body_document
            ctx.method_request_string = ctx.in_body_doc.tag
            self.validate_body(ctx, message)

    def create_in_document(self, ctx: Any, charset: Any = None) -> None:
        env = getattr(ctx.transport, "req_env", None) or {}
        parsed = env.get(PARSED_KEY)
        if parsed is None:  # spyne used on its own (tests): parse as spyne does
            return super().create_in_document(ctx, charset)
        ctx.in_document = parsed  # (root, xmlids), as spyne's _parse_xml_string returns them

    def decimal_to_unicode(self, cls: Any, value: Any, **_: Any) -> str:
        return format(D(value), "f")  # str() would give '1E+2' or '1E-7', invalid xs:decimal

    def unicode_from_element(self, ctx: Any, cls: Any, element: Any) -> str:
        # <userName/> is the empty string, as in xs:string. spyne's soft validation
        # would refuse it unless the member were nillable, which the WSDL says it is not.
        if element.text is None and not len(element):
            return ""
        return super().unicode_from_element(ctx, cls, element)

    def datetime_from_unicode_iso(self, cls: Any, string: str) -> datetime:
        try:
            return parse_xsd_datetime(string)
        except ValueError as exc:  # the front checks first: only reached by direct spyne use
            raise ValidationError(string, "%s" % str(exc).replace("%", "%%")) from None


class _Soap11(_ProtocolFixes, Soap11):
    pass


class _Soap12(_ProtocolFixes, Soap12):
    pass


def spyne_application(protocol: str = "soap11", platform: Any = None) -> Application:
    """The spyne Application for one SOAP version ("soap11" / "soap12"); tests use its interface document."""
    proto = {"soap11": _Soap11, "soap12": _Soap12}[protocol]
    app = Application([WebService], tns=TNS, name="WebService",
                      in_protocol=proto(validator="soft", xml_declaration=False),
                      out_protocol=proto(xml_declaration=False))  # the front writes the ASMX declaration
    app.ipyy_platform = platform  # read by _send through ctx.app
    app.ipyy_via = protocol
    return app


# ---------------------------------------------------------------- static WSDL

def static_wsdl() -> bytes:
    """The packaged contract, byte for byte."""
    return resources.files("ipyy_client").joinpath("WebService.wsdl").read_bytes()


_ADDRESS = re.compile(rb'(<soap(?:12)?:address\s+location=")[^"]*(")')
_HOST_OK = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


def _wsdl_schema(wsdl: bytes) -> etree.XMLSchema:
    """The wsdl:types schema as a standalone XMLSchema (QName values need the WSDL's prefixes)."""
    root = etree.fromstring(wsdl, etree.XMLParser(resolve_entities=False, no_network=True))
    inner = root.find(f"{{http://schemas.xmlsoap.org/wsdl/}}types/{{{NS_XSD}}}schema")
    schema = etree.Element(inner.tag, dict(inner.attrib), nsmap=inner.nsmap)  # nsmap includes inherited
    schema.extend(copy.deepcopy(child) for child in inner)
    return etree.XMLSchema(schema)


# ------------------------------------------------------------------- the front

class _Reject(Exception):
    """A request that is not valid SOAP for this WSDL: answered with a Fault, never a 500."""

    def __init__(self, message: str, status: str = "400 Bad Request", code: str = "Client") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


_INVALID_XML_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_XML_DECL_ENCODING = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")
_MEDIA_PARAM = re.compile(r';\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _fault(version: int, message: str, code: str = "Client") -> bytes:
    text = escape(_INVALID_XML_CHARS.sub("?", message))
    if version == 12:
        value = {"Client": "Sender", "Server": "Receiver"}.get(code, code)
        body = (f'<soap:Envelope xmlns:soap="{NS_SOAP12}"><soap:Body><soap:Fault>'
                f"<soap:Code><soap:Value>soap:{value}</soap:Value></soap:Code>"
                f'<soap:Reason><soap:Text xml:lang="en">{text}</soap:Text></soap:Reason>'
                "</soap:Fault></soap:Body></soap:Envelope>")
    else:
        body = (f'<soap:Envelope xmlns:soap="{NS_SOAP11}"><soap:Body><soap:Fault>'
                f"<faultcode>soap:{code}</faultcode><faultstring>{text}</faultstring>"
                "</soap:Fault></soap:Body></soap:Envelope>")
    return XML_DECLARATION + body.encode("utf-8")


def _content_type(version: int) -> str:
    return "application/soap+xml; charset=utf-8" if version == 12 else "text/xml; charset=utf-8"


def _media(header: str) -> tuple[str, dict[str, str]]:
    kind, _, rest = header.partition(";")
    params = {k.lower(): v.strip().strip('"') for k, v in _MEDIA_PARAM.findall(";" + rest)}
    return kind.strip().lower(), params


class _SoapFront:
    """The WSGI callable returned by ``make_soap_app``; all spyne objects are built once here."""

    def __init__(self, platform: Any, max_body: int) -> None:
        self.max_body = max_body
        # max_content_length: the front enforces max_body before spyne reads anything
        self.spyne = {v: WsgiApplication(spyne_application(f"soap{v}", platform), max_content_length=1 << 62)
                      for v in (11, 12)}
        wsdl = static_wsdl()
        self._wsdl_parts = _ADDRESS.split(wsdl)  # [text, open, close, text, open, close, text]
        self._wsdl_bytes = wsdl
        self._schema_local = threading.local()  # XMLSchema error logs are per object: one per thread
        self._parser_local = threading.local()
        _wsdl_schema(wsdl)  # fail at start-up, not per request, if the contract does not compile

    # -- helpers
    def _schema(self) -> etree.XMLSchema:
        schema = getattr(self._schema_local, "schema", None)
        if schema is None:
            schema = self._schema_local.schema = _wsdl_schema(self._wsdl_bytes)
        return schema

    def _parser(self) -> etree.XMLParser:
        parser = getattr(self._parser_local, "parser", None)
        if parser is None:
            parser = self._parser_local.parser = etree.XMLParser(**PARSER_KWARGS)
        return parser

    def _respond(self, start_response: Callable[..., Any], status: str, ctype: str, body: bytes,
                 extra: list[tuple[str, str]] | None = None) -> list[bytes]:
        headers = [("Content-Type", ctype), ("Content-Length", str(len(body)))] + (extra or [])
        start_response(status, headers)
        return [body]

    # -- WSGI entry
    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if environ.get("PATH_INFO", "").lower() != "/webservice.asmx":
            return self._respond(start_response, "404 Not Found", "text/plain; charset=utf-8",
                                 b"Not found. The SOAP service is at /WebService.asmx\n")
        if method in ("GET", "HEAD"):
            status, ctype, body = self._get(environ)
            out = self._respond(start_response, status, ctype, body)
            return [] if method == "HEAD" else out
        version = 11
        try:
            if method != "POST":
                raise _Reject(f"{method} is not supported: POST a SOAP envelope, or GET ?wsdl",
                              "405 Method Not Allowed")
            version = self._version(environ)
            body = self._read_body(environ)
            op, parsed = self._check(environ, version, body)
            return self._dispatch(environ, start_response, version, body, op, parsed)
        except _Reject as r:
            extra = [("Allow", "GET, HEAD, POST")] if r.status.startswith("405") else None
            return self._respond(start_response, r.status, _content_type(version),
                                 _fault(version, str(r), r.code), extra)
        except Exception:  # a bug here must still not answer 500 or kill the worker
            log.exception("SOAP surface failed")
            return self._respond(start_response, "400 Bad Request", _content_type(version),
                                 _fault(version, "The mock could not process this request "
                                                 "(internal error, see the mock's log).", "Server"))

    def _get(self, environ: dict) -> tuple[str, str, bytes]:
        keys = {k.lower() for k, _ in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)}
        if "wsdl" in keys:
            return "200 OK", "text/xml; charset=utf-8", self._wsdl_for(environ)
        page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>WebService</title></head>"
                "<body><h1>WebService (ipyy mock)</h1><p>SOAP 1.1 (<code>text/xml</code>) and "
                "SOAP 1.2 (<code>application/soap+xml</code>) endpoint. Operations: "
                "<code>SendI18NSms</code>, <code>SendHybridSms</code>, namespace "
                f"<code>{TNS}</code>.</p><p>Service description: "
                "<a href=\"WebService.asmx?WSDL\">WebService.asmx?WSDL</a></p></body></html>")
        return "200 OK", "text/html; charset=utf-8", page.encode("utf-8")

    def _wsdl_for(self, environ: dict) -> bytes:
        host = environ.get("HTTP_HOST", "")
        if not _HOST_OK.fullmatch(host):  # the Host header goes into XML: only plain host[:port]
            host = environ.get("SERVER_NAME", "localhost")
            port = environ.get("SERVER_PORT", "")
            if port and port not in ("80", "443"):
                host = f"{host}:{port}"
            if not _HOST_OK.fullmatch(host):
                host = "localhost"
        scheme = "https" if environ.get("wsgi.url_scheme") == "https" else "http"
        prefix = environ.get("SCRIPT_NAME", "").rstrip("/")
        if not re.fullmatch(r"[A-Za-z0-9._~/\-]*", prefix):
            prefix = ""
        url = f"{scheme}://{host}{prefix}/WebService.asmx".encode("ascii")
        parts = self._wsdl_parts
        out = [parts[0]]
        for i in range(1, len(parts), 3):
            out += [parts[i], url, parts[i + 1], parts[i + 2]]
        return b"".join(out)

    def _version(self, environ: dict) -> int:
        kind, params = _media(environ.get("CONTENT_TYPE", "") or "")
        if kind == "text/xml":
            version = 11
        elif kind == "application/soap+xml":
            version = 12
        else:
            raise _Reject(f"Unsupported Content-Type {kind or '(none)'!r}: send SOAP 1.1 as "
                          "'text/xml; charset=utf-8' or SOAP 1.2 as 'application/soap+xml; charset=utf-8'",
                          "415 Unsupported Media Type")
        charset = params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise _Reject(f"charset {charset!r} is not supported: this service reads UTF-8 only")
        return version

    def _read_body(self, environ: dict) -> bytes:
        stream = environ.get("wsgi.input") or io.BytesIO()
        length = (environ.get("CONTENT_LENGTH") or "").strip()
        if length:
            if not length.isdigit():
                raise _Reject(f"Invalid Content-Length {length!r}")
            if int(length) > self.max_body:
                raise _Reject(f"Request body too large: the limit is {self.max_body} bytes",
                              "413 Content Too Large")
            body = stream.read(int(length))
        elif environ.get("wsgi.input_terminated"):
            body = stream.read(self.max_body + 1)
            if len(body) > self.max_body:
                raise _Reject(f"Request body too large: the limit is {self.max_body} bytes",
                              "413 Content Too Large")
        else:
            body = b""
        return body

    def _check(self, environ: dict, version: int, body: bytes) -> tuple[str, tuple]:
        """Everything spyne would answer with HTTP 500 or a vague message; returns the operation and the parsed
        document as spyne wants it, ``(root, xmlids)``."""
        if not body.strip():
            raise _Reject("Empty request body: POST a SOAP envelope")
        if _DOCTYPE.search(body):
            raise _Reject("DOCTYPE declarations are not allowed in SOAP messages: remove the DTD")
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Reject(f"The body is not valid UTF-8 (byte {exc.start}): send UTF-8") from None
        if b"\x00" in body:  # [reliability] UTF-16/32 text can pass the UTF-8 check and hide a <!DOCTYPE
            raise _Reject("The body contains NUL bytes (UTF-16 or UTF-32?), which UTF-8 XML cannot: send UTF-8")
        m = _XML_DECL_ENCODING.match(body)
        if m and m.group(1).lower() not in (b"utf-8", b"utf8"):
            raise _Reject(f"XML encoding {m.group(1).decode('ascii', 'replace')!r} is not supported: send UTF-8")
        try:
            root, xmlids = etree.XMLID(body, self._parser())
        except etree.XMLSyntaxError as exc:
            raise _Reject(f"Malformed XML: {exc}") from None
        docinfo = root.getroottree().docinfo  # [reliability] second line of defence after the byte scan
        if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
            raise _Reject("DOCTYPE declarations are not allowed in SOAP messages: remove the DTD")
        env_ns, other_ns = (NS_SOAP12, NS_SOAP11) if version == 12 else (NS_SOAP11, NS_SOAP12)
        if root.tag == f"{{{other_ns}}}Envelope":
            want = ("SOAP 1.1 needs Content-Type text/xml" if version == 12
                    else "SOAP 1.2 needs Content-Type application/soap+xml")
            raise _Reject(f"This is a SOAP {'1.1' if version == 12 else '1.2'} envelope sent as "
                          f"SOAP {'1.2' if version == 12 else '1.1'}: {want}")
        if root.tag != f"{{{env_ns}}}Envelope":
            raise _Reject(f"The root element must be {{{env_ns}}}Envelope, not {root.tag}")
        children = [c for c in root if isinstance(c.tag, str)]
        header = None
        if children and children[0].tag == f"{{{env_ns}}}Header":
            header = children.pop(0)
        if len(children) != 1 or children[0].tag != f"{{{env_ns}}}Body":
            raise _Reject("The Envelope must hold an optional Header and then exactly one Body")
        if header is not None:
            for h in header:
                if isinstance(h.tag, str) and h.get(f"{{{env_ns}}}mustUnderstand") in ("1", "true"):
                    raise _Reject(f"Header {h.tag} is marked mustUnderstand but this service "
                                  "understands no headers", code="MustUnderstand")
        ops = [c for c in children[0] if isinstance(c.tag, str)]
        if len(ops) != 1:
            raise _Reject("The Body must hold exactly one operation element: "
                          f"{{{TNS}}}SendI18NSms or {{{TNS}}}SendHybridSms")
        op_elem = ops[0]
        qname = etree.QName(op_elem)
        if qname.namespace != TNS or qname.localname not in OPERATIONS:
            raise _Reject(f"Unknown operation {op_elem.tag}: this service has SendI18NSms and "
                          f"SendHybridSms in namespace {TNS}")
        op = qname.localname
        action = self._action(environ, version)
        if action and action not in (TNS + o for o in OPERATIONS):
            raise _Reject(f"Unknown SOAPAction {action!r}: use {TNS}SendI18NSms or {TNS}SendHybridSms")
        if action and action != TNS + op:
            raise _Reject(f"SOAPAction {action!r} does not match the body's operation {op}")
        schema = self._schema()
        if not schema.validate(op_elem):
            err = schema.error_log.last_error
            raise _Reject(f"The {op} request does not match the WSDL: "
                          f"{err.message if err else 'schema validation failed'}")
        plan = op_elem.find(f"{{{TNS}}}sms/{{{TNS}}}PlanSendTime")
        if plan is not None and plan.get(f"{{{NS_XSI}}}nil") not in ("true", "1"):
            try:
                parse_xsd_datetime(plan.text or "")
            except ValueError as exc:
                raise _Reject(f"PlanSendTime: {exc}") from None
        return op, (root, xmlids)

    @staticmethod
    def _action(environ: dict, version: int) -> str:
        if version == 12:
            return _media(environ.get("CONTENT_TYPE", ""))[1].get("action", "").strip()
        return (environ.get("HTTP_SOAPACTION") or "").strip().strip('"').strip()

    def _dispatch(self, environ: dict, start_response: Callable[..., Any], version: int,
                  body: bytes, op: str, parsed: tuple) -> list[bytes]:
        env = dict(environ)
        env[PARSED_KEY] = parsed
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        env["REQUEST_METHOD"] = "POST"
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> None:
            captured["status"] = status

        chunks = self.spyne[version](env, capture)
        try:
            out = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        status = captured.get("status", "500")
        if not status.startswith("200"):
            # spyne answers every Fault with HTTP 500 (SOAP 1.1 HTTP binding); here all of
            # them are the request's fault (soft validation), so 400 like the front's own.
            log.info("spyne fault for %s (%s): %s", op, status, out[:500])
            status = "400 Bad Request"
        else:
            status = "200 OK"
        if out.startswith(b"<?xml"):
            out = out[out.index(b"?>") + 2:]
        return self._respond(start_response, status, _content_type(version), XML_DECLARATION + out)


def make_soap_app(platform: Any, *, max_body: int = DEFAULT_MAX_BODY) -> WsgiApp:
    """The /WebService.asmx WSGI app over ``platform`` (anything with ``send(SendRequest) -> SendOutcome``).

    Builds the spyne applications once; mount it at the path /WebService.asmx
    (matched case-insensitively, like IIS); other paths get 404.
    """
    return _SoapFront(platform, max_body)
