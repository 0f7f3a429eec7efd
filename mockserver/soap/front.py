"""The mock's SOAP surface: /WebService.asmx, ASMX document/literal wrapped, SOAP 1.1 and 1.2.

This module only translates between the wire and the domain objects of
``ipyy_mock.core.wire``: every send rule lives in ``Platform.send``.

Request handling, in order, so that every bad request gets a clear SOAP
Fault (never an unhandled error) and no DTD or entity ever reaches a parser:

1. GET ``?wsdl`` serves the static WSDL with the request's own host in the
   addresses; any other GET gets a short help page.
2. POST: Content-Type picks the SOAP version (``text/xml`` 1.1,
   ``application/soap+xml`` 1.2; else 415). The body must fit ``max_body``
   (else 413), be UTF-8 and carry no DOCTYPE; it is parsed with entity
   resolution and network access off, the envelope must be of the content
   type's SOAP version, the SOAPAction (if any) must name the body's
   operation.
3. The operation is read as ASMX reads it (soap/reader.py), sent through
   ``Platform.send`` and answered from the reply template (soap/envelope.py).
"""

from __future__ import annotations

import io
import logging
import re
import threading
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl

from lxml import etree

from ipyy_client.codes import ResultCode
from ipyy_mock.core import conformance
from ipyy_mock.core.validation import parse_count
from ipyy_mock.core.wire import SendOutcome, SendRequest
from ipyy_mock.soap.envelope import (
    CONTENT_TYPES,
    NS_SOAP11,
    NS_SOAP12,
    OPERATIONS,
    PARSER_KWARGS,
    TNS,
    VIA,
    XML_DECLARATION,
    fault,
    fault_status,
    reply_envelope,
)
from ipyy_mock.soap.reader import ReadError, read_operation
from ipyy_mock.soap.xsd import WsdlServer

__all__ = ["make_soap_app", "SoapFront"]

log = logging.getLogger("ipyy_mock.soap")

DEFAULT_MAX_BODY = 1 << 20  # 1 MiB: a real send request is a few kB at most
WsgiApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_XML_DECL_ENCODING = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")
_MEDIA_PARAM = re.compile(r';\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_HELP_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>WebService</title></head>'
    "<body><h1>WebService (ipyy mock)</h1><p>SOAP 1.1 (<code>text/xml</code>) and "
    "SOAP 1.2 (<code>application/soap+xml</code>) endpoint. Operations: "
    "<code>SendI18NSms</code>, <code>SendHybridSms</code>, namespace "
    f"<code>{TNS}</code>.</p><p>Service description: "
    '<a href="WebService.asmx?WSDL">WebService.asmx?WSDL</a></p></body></html>'
).encode("utf-8")


class _Reject(Exception):
    """A request that is not valid SOAP for this WSDL: answered with a Fault, never an unhandled error.

    ``status`` None means "the Fault's own status" (fault_status); a transport-level refusal (405, 413, 415)
    names its status.
    """

    def __init__(self, message: str, status: str | None = None, code: str = "Client") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _media(header: str) -> tuple[str, dict[str, str]]:
    kind, _, rest = header.partition(";")
    params = {k.lower(): v.strip().strip('"') for k, v in _MEDIA_PARAM.findall(";" + rest)}
    return kind.strip().lower(), params


class SoapFront:
    """The WSGI callable returned by ``make_soap_app``."""

    def __init__(self, platform: Any, max_body: int) -> None:
        self.platform = platform
        self.max_body = max_body
        self.wsdl = WsdlServer()
        self._parser_local = threading.local()

    def _parser(self) -> etree.XMLParser:
        parser = getattr(self._parser_local, "parser", None)
        if parser is None:
            parser = self._parser_local.parser = etree.XMLParser(**PARSER_KWARGS)
        return parser

    @staticmethod
    def _respond(
        start_response: Callable[..., Any],
        status: str,
        ctype: str,
        body: bytes,
        extra: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        headers = [("Content-Type", ctype), ("Content-Length", str(len(body)))] + (extra or [])
        start_response(status, headers)
        return [body]

    # -- WSGI entry
    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if environ.get("PATH_INFO", "").lower() != "/webservice.asmx":
            return self._respond(
                start_response,
                "404 Not Found",
                "text/plain; charset=utf-8",
                b"Not found. The SOAP service is at /WebService.asmx\n",
            )
        if method in ("GET", "HEAD"):
            status, ctype, body = self._get(environ)
            out = self._respond(start_response, status, ctype, body)
            return [] if method == "HEAD" else out
        version = 11
        try:
            if method != "POST":
                raise _Reject(
                    f"{method} is not supported: POST a SOAP envelope, or GET ?wsdl", "405 Method Not Allowed"
                )
            version = self._version(environ)
            body = self._read_body(environ)
            op, op_element = self._check(environ, version, body)
            return self._send(environ, start_response, version, op, op_element)
        except _Reject as r:
            extra = [("Allow", "GET, HEAD, POST")] if r.status and r.status.startswith("405") else None
            return self._respond(
                start_response,
                r.status or fault_status(version, r.code),
                CONTENT_TYPES[version],
                fault(version, str(r), r.code),
                extra,
            )
        except Exception:  # a bug here must still not crash the worker: a Server Fault, as ASMX gives
            log.exception("SOAP surface failed")
            return self._respond(
                start_response,
                fault_status(version, "Server"),
                CONTENT_TYPES[version],
                fault(
                    version, "The mock could not process this request (internal error, see the mock's log).", "Server"
                ),
            )

    def _get(self, environ: dict) -> tuple[str, str, bytes]:
        keys = {k.lower() for k, _ in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)}
        if "wsdl" in keys:
            return "200 OK", "text/xml; charset=utf-8", self.wsdl.for_environ(environ)
        return "200 OK", "text/html; charset=utf-8", _HELP_PAGE

    def _version(self, environ: dict) -> int:
        kind, params = _media(environ.get("CONTENT_TYPE", "") or "")
        if kind == "text/xml":
            version = 11
        elif kind == "application/soap+xml":
            version = 12
        else:
            raise _Reject(
                f"Unsupported Content-Type {kind or '(none)'!r}: send SOAP 1.1 as "
                "'text/xml; charset=utf-8' or SOAP 1.2 as 'application/soap+xml; charset=utf-8'",
                "415 Unsupported Media Type",
            )
        charset = params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise _Reject(f"charset {charset!r} is not supported: this service reads UTF-8 only")
        return version

    def _read_body(self, environ: dict) -> bytes:
        stream = environ.get("wsgi.input") or io.BytesIO()
        length = (environ.get("CONTENT_LENGTH") or "").strip()
        too_large = _Reject(f"Request body too large: the limit is {self.max_body} bytes", "413 Content Too Large")
        if length:
            announced = parse_count(length)
            if announced is None:
                raise _Reject(f"Invalid Content-Length {length[:40]!r}")
            if announced > self.max_body:
                raise too_large
            return stream.read(announced)
        if environ.get("wsgi.input_terminated"):
            body = stream.read(self.max_body + 1)
            if len(body) > self.max_body:
                raise too_large
            return body
        return b""

    def _check(self, environ: dict, version: int, body: bytes) -> tuple[str, etree._Element]:
        """Everything the real endpoint refuses before it reads the operation; returns the operation's name and
        element."""
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
            root = etree.fromstring(body, self._parser())
        except etree.XMLSyntaxError as exc:
            raise _Reject(f"Malformed XML: {exc}") from None
        docinfo = root.getroottree().docinfo  # [reliability] second line of defence after the byte scan
        if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
            raise _Reject("DOCTYPE declarations are not allowed in SOAP messages: remove the DTD")
        env_ns, other_ns = (NS_SOAP12, NS_SOAP11) if version == 12 else (NS_SOAP11, NS_SOAP12)
        if root.tag == f"{{{other_ns}}}Envelope":
            want = (
                "SOAP 1.1 needs Content-Type text/xml"
                if version == 12
                else "SOAP 1.2 needs Content-Type application/soap+xml"
            )
            raise _Reject(
                f"This is a SOAP {'1.1' if version == 12 else '1.2'} envelope sent as "
                f"SOAP {'1.2' if version == 12 else '1.1'}: {want}"
            )
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
                    raise _Reject(
                        f"Header {h.tag} is marked mustUnderstand but this service understands no headers",
                        code="MustUnderstand",
                    )
        ops = [c for c in children[0] if isinstance(c.tag, str)]
        if len(ops) != 1:
            raise _Reject(
                f"The Body must hold exactly one operation element: {{{TNS}}}SendI18NSms or {{{TNS}}}SendHybridSms"
            )
        op_elem = ops[0]
        qname = etree.QName(op_elem)
        if qname.namespace != TNS or qname.localname not in OPERATIONS:
            raise _Reject(
                f"Unknown operation {op_elem.tag}: this service has SendI18NSms and SendHybridSms in namespace {TNS}"
            )
        op = qname.localname
        action = self._action(environ, version)
        if action and action not in (TNS + o for o in OPERATIONS):
            raise _Reject(f"Unknown SOAPAction {action!r}: use {TNS}SendI18NSms or {TNS}SendHybridSms")
        if action and action != TNS + op:
            raise _Reject(f"SOAPAction {action!r} does not match the body's operation {op}")
        return op, op_elem

    @staticmethod
    def _action(environ: dict, version: int) -> str:
        if version == 12:
            return _media(environ.get("CONTENT_TYPE", ""))[1].get("action", "").strip()
        return (environ.get("HTTP_SOAPACTION") or "").strip().strip('"').strip()

    def _send(
        self, environ: dict, start_response: Callable[..., Any], version: int, op: str, op_element: etree._Element
    ) -> list[bytes]:
        try:
            read = read_operation(op_element, op)
        except ReadError as exc:
            raise _Reject(f"There is an error in the {op} request: {exc}") from None
        via = VIA[version]
        req = SendRequest(
            account=read.user_name,
            password=read.password,
            msisdns=read.msisdns,
            content=read.content,
            plan_send_time=read.plan_send_time,
            ext_number=read.ext_number,
            hybrid=op == "SendHybridSms",
            client_ip=environ.get("REMOTE_ADDR", "") or "",
            via=via,
            warnings=read.warnings,
        )
        try:
            outcome = self.platform.send(req)
        except Exception:  # a platform bug must not become an unhandled error: the vendor's own code for it
            log.exception("platform.send failed (%s, account %r)", via, read.user_name)
            outcome = SendOutcome(code=ResultCode.InternalError)
        conformance.attach(environ, outcome.warnings)
        refusal = outcome.strict_refusal
        if refusal is not None and refusal.code in conformance.SOAP_SHAPE:
            raise _Reject(f"strict mode: {refusal.text()}")
        errors = list(outcome.errors)
        if refusal is not None:
            errors.append(f"strict:{refusal.text()}")
        body = reply_envelope(
            via,
            op,
            outcome.code.name,
            outcome.code.description,
            outcome.task_id,
            outcome.balance,
            outcome.billing_amount,
            outcome.billing_count,
            errors,
        )
        if body is None:  # only text from the request itself (a strict-mode detail) can be unwritable
            raise _Reject("The reply cannot be written as XML (a character XML cannot carry)", code="Server")
        return self._respond(start_response, "200 OK", CONTENT_TYPES[version], XML_DECLARATION + body)


def make_soap_app(platform: Any, *, max_body: int = DEFAULT_MAX_BODY) -> WsgiApp:
    """The /WebService.asmx WSGI app over ``platform`` (anything with ``send(SendRequest) -> SendOutcome``).

    Mount it at the path /WebService.asmx (matched case-insensitively, like IIS); other paths get 404.
    """
    return SoapFront(platform, max_body)
