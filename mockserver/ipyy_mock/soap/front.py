"""The mock's SOAP surface: /WebService.asmx, ASMX document/literal wrapped, SOAP 1.1 and 1.2.

This module only translates between the wire and the domain objects of
``ipyy_mock.core.domain``: every send rule lives in ``Platform.send``. It answers
as Microsoft's ASMX answers (docs/contract.md §2 and §6; proven against an
ASMX service of the same contract in tests/test_asmx_oracle.py):

1. GET ``?wsdl`` serves the contract with the request's own address; any
   other GET gets a short help page. A POST is a SOAP call whatever its query
   string (the vendor's Java demo posts to ``?wsdl``).
2. The Content-Type picks the version (``text/xml`` 1.1,
   ``application/soap+xml`` 1.2); any other type is 415 with an empty body.
   The body must fit ``max_body`` (the mock's own limit: 413 and a Fault).
3. The body is read in the encoding ASMX reads it in (soap/decoding.py) and
   parsed with DTDs, entities and network off; what is not well-formed XML
   (a DTD included, which ASMX prohibits) is 400 with an empty body.
4. The request is routed as ASMX routes it (soap/routing.py); a Fault is
   HTTP 500 with an empty ``detail``.
5. The operation's parameters are read as XmlSerializer binds them
   (soap/reader.py), sent through ``Platform.send`` and answered as ASMX
   writes the result (soap/envelope.py).
"""

from __future__ import annotations

import logging
import threading
from datetime import date
from decimal import Decimal
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, unquote_plus

from lxml import etree

from ipyy_client.codes import ResultCode
from ipyy_mock.core import conformance
from ipyy_mock.core.body import BodyNotWhole, BodyTooLarge, read_body
from ipyy_mock.core.conformance import ConformanceWarning
from ipyy_mock.core.domain import SendOutcome, SendRequest
from ipyy_mock.core.exchange import Exchange
from ipyy_mock.soap.decoding import content_type_parameter, decode_body, parser
from ipyy_mock.soap.document import Document, read_document
from ipyy_mock.soap.envelope import (
    CONTENT_TYPES,
    FAULT_STATUS,
    NS_SOAP11,
    NS_SOAP12,
    OLD_TNS,
    OPERATION,
    TNS,
    VIA,
    HybridSendResultXml,
    Operation,
    SendResultXml,
    fault,
    reply_envelope,
)
from ipyy_mock.soap.reader import ReadError, read_operation
from ipyy_mock.soap.routing import BAD_QUOTES, QUOTE_ERROR, route, soap11_action
from ipyy_mock.soap.xsd import WsdlServer

__all__ = ["make_soap_app", "SoapFront"]

log = logging.getLogger("ipyy_mock.soap")

DEFAULT_MAX_BODY = 1 << 20  # 1 MiB: a real send request is a few kB at most
WsgiApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]
#: PayType as the mock fills it (docs/contract.md §2: the vendor never documented it).
PAY_TYPES = {"prepaid": 1, "postpaid": 2}
#: The Content-Types ASMX takes for SOAP (``ContentType.IsSoap``); the envelope's namespace decides the version.
SOAP_TYPES = frozenset({"text/xml", "application/soap+xml"})
_VERSION_OF = {NS_SOAP11: 11, NS_SOAP12: 12}
_UNABLE_TO_PROCESS = "Server was unable to process request."
_UNABLE_TO_READ = "Server was unable to read request."


_HELP_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>WebService</title></head>'
    "<body><h1>WebService (ipyy mock)</h1><p>SOAP 1.1 (<code>text/xml</code>) and "
    "SOAP 1.2 (<code>application/soap+xml</code>) endpoint. Operations: "
    + ", ".join(f"<code>{name}</code>" for name in OPERATION)
    + f", namespace <code>{TNS}</code>.</p><p>Service description: "
    '<a href="WebService.asmx?WSDL">WebService.asmx?WSDL</a></p></body></html>'
).encode("utf-8")


class _Fault(Exception):
    """A request ASMX answers with a Fault (HTTP 500), or with another status and an empty body (``status``)."""

    def __init__(
        self,
        message: str,
        code: str = "Client",
        *,
        status: str | None = None,
        empty: bool = False,
        version: int = 11,
        warnings: list[ConformanceWarning] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.version = version
        self.status = status or FAULT_STATUS
        self.empty = empty
        self.warnings = warnings or []


class SoapFront:
    """The WSGI callable returned by ``make_soap_app``."""

    def __init__(self, platform: Any, max_body: int) -> None:
        self.platform = platform
        self.max_body = max_body
        self.wsdl = WsdlServer()
        self._parser_local = threading.local()

    def _parser(self) -> etree.XMLParser:
        made = getattr(self._parser_local, "parser", None)
        if made is None:
            made = self._parser_local.parser = parser()
        return made

    @staticmethod
    def _respond(
        start_response: Callable[..., Any],
        status: str,
        ctype: str,
        body: bytes,
        extra: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        # ASMX's Cache-Control: "private, max-age=0" on a reply, "private" on an error
        cache = "private, max-age=0" if status.startswith("200") else "private"
        headers = [("Content-Type", ctype), ("Content-Length", str(len(body))), ("Cache-Control", cache)]
        start_response(status, headers + (extra or []))
        return [body]

    # -- WSGI entry
    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if Exchange.of(environ).path != "/webservice.asmx":
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
        # ASMX's GuessVersion: SOAP 1.1 routing only for a SOAPAction header that is not on application/soap+xml
        ctype = (environ.get("CONTENT_TYPE", "") or "").split(";", 1)[0].strip().lower()
        guess = 11 if "HTTP_SOAPACTION" in environ and ctype != "application/soap+xml" else 12
        try:
            if method != "POST":
                raise _Fault(
                    f"{method} is not supported: POST a SOAP envelope, or GET ?wsdl",
                    status="405 Method Not Allowed",
                    version=guess,
                )
            body = self._read_body(environ, guess)
            return self._call(environ, start_response, body, guess)
        except _Fault as f:
            if f.warnings:
                conformance.attach(environ, f.warnings)
                self.platform.record_warnings("", VIA[f.version], f.warnings)
            extra = [("Allow", "GET, HEAD, POST")] if f.status.startswith("405") else None
            payload = b"" if f.empty else fault(f.version, str(f), f.code, detail=f.code != "MustUnderstand")
            return self._respond(start_response, f.status, CONTENT_TYPES[f.version], payload, extra)
        except Exception:  # a bug here must still not crash the worker: a Server Fault, as ASMX gives
            log.exception("SOAP surface failed")
            return self._respond(
                start_response,
                FAULT_STATUS,
                CONTENT_TYPES[guess],
                fault(guess, f"{_UNABLE_TO_PROCESS} ---> The mock failed (see its log).", "Server"),
            )

    def _get(self, environ: dict) -> tuple[str, str, bytes]:
        keys = {k.lower() for k, _ in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)}
        if "wsdl" in keys:
            return "200 OK", "text/xml; charset=utf-8", self.wsdl.for_environ(environ)
        return "200 OK", "text/html; charset=utf-8", _HELP_PAGE

    def _read_body(self, environ: dict, version: int) -> bytes:
        """The body by the limit's one reader (core/body.py), its refusals as ASMX words them."""
        try:
            return read_body(environ, self.max_body)
        except BodyTooLarge:
            raise _Fault(
                f"Request body too large: the mock's limit is {self.max_body} bytes",
                status="413 Content Too Large",
                version=version,
            ) from None
        except (BodyNotWhole, ValueError):  # cut short, a broken framing, a length that is no number
            raise _Fault("", status="400 Bad Request", empty=True, version=version) from None  # ASMX: cannot read it

    def _call(self, environ: dict, start_response: Callable[..., Any], body: bytes, guess: int) -> list[bytes]:
        """ASMX's two steps: route (``Initialize``), then read the parameters (``ReadParameters``)."""
        ctype = environ.get("CONTENT_TYPE", "") or ""
        base = ctype.split(";", 1)[0].strip().lower()
        decoded = decode_body(body, ctype)
        doc = read_document(decoded, self._parser())
        warnings = list(decoded.warnings)
        header = environ.get("HTTP_SOAPACTION")
        if guess == 11:
            action = soap11_action(header)
        else:
            action = content_type_parameter(ctype, "action")
            action = unquote_plus(action) if action else action
        warnings += self._namespace_warnings(action, doc.body_child)
        op = _route(guess, action, doc, warnings)
        # -- ReadParameters, in its order: the content type, the first read (the root), the version, the SOAP 1.1
        # content type, the Envelope and Body, then the rest of the document and the parameters
        if base not in SOAP_TYPES:
            raise _Fault("", status="415 Unsupported Media Type", empty=True, version=guess, warnings=warnings)
        if doc.root_tag is None:  # the first read failed: an XML error in the prolog or the root's tag
            raise _Fault("", status="400 Bad Request", empty=True, version=guess, warnings=warnings)
        if doc.root_namespace not in _VERSION_OF:
            raise _version_mismatch(doc, warnings)
        version = _VERSION_OF[doc.root_namespace]
        if version == 11 and base != "text/xml":
            raise _Fault("", status="415 Unsupported Media Type", empty=True, version=11, warnings=warnings)
        if doc.read_problem is not None:
            raise _Fault(f"{_UNABLE_TO_READ} ---> {doc.read_problem}", version=version, warnings=warnings)
        if doc.error is not None:
            raise _Fault("", status="400 Bad Request", empty=True, version=version, warnings=warnings)
        element = doc.body_child
        if element and element != f"{{{TNS}}}{op.name}" and not element.startswith(f"{{{OLD_TNS}}}"):
            warnings.append(
                ConformanceWarning(
                    "soap-action-mismatch",
                    f"the action names {op.name} but the body holds {_pretty(element)}: {op.name} ran with no parameter",
                )
            )
        try:
            read = read_operation(op, doc.body, self._today)
        except ReadError as exc:
            if exc.xml:
                raise _Fault("", status="400 Bad Request", empty=True, version=version, warnings=warnings) from None
            line, column = _position(decoded.text, exc.element)
            raise _Fault(
                f"{_UNABLE_TO_READ} ---> There is an error in XML document ({line}, {column}). ---> {exc}",
                version=version,
                warnings=warnings,
            ) from None
        Exchange.of(environ).account = (read.user_name or "").strip()[:100]  # the journal's account column
        return self._send(environ, start_response, version, op, read, warnings + read.warnings, doc)

    def _today(self) -> date:
        return self.platform.now_datetime().date() if hasattr(self.platform, "now_datetime") else date.today()

    @staticmethod
    def _namespace_warnings(action: str | None, element: str | None) -> list[ConformanceWarning]:
        old = [
            what
            for what, value in (("the SOAPAction", action or ""), ("the operation element", element or ""))
            if value.startswith(OLD_TNS) or value.startswith("{" + OLD_TNS)
        ]
        if not old:
            return []
        return [
            ConformanceWarning(
                "soap-namespace", f"{' and '.join(old)} use{'s' if len(old) == 1 else ''} {OLD_TNS}, not {TNS}"
            )
        ]

    def _send(
        self,
        environ: dict,
        start_response: Callable[..., Any],
        version: int,
        op: Operation,
        read: Any,
        warnings: list[ConformanceWarning],
        doc: Document,
    ) -> list[bytes]:
        via = VIA[version]
        not_understood = _not_understood(doc)
        if not_understood is not None:  # ASMX fills the header members before it runs the method: nothing runs
            warnings.append(
                ConformanceWarning("soap-must-understand", f"the header {not_understood} is marked mustUnderstand")
            )
            raise _Fault(
                f"SOAP header {not_understood} was not understood.",
                "MustUnderstand",
                version=version,
                warnings=warnings,
            )
        req = SendRequest(
            account=read.user_name,
            password=read.password,
            msisdns=read.msisdns,
            content=read.content,
            plan_send_time=read.plan_send_time,
            ext_number=read.ext_number,
            hybrid=op.domestic,
            client_ip=environ.get("REMOTE_ADDR", "") or "",
            via=via,
            product=op.product,
            warnings=warnings,
            fault=Exchange.of(environ).send_fault(via),
        )
        try:
            outcome = self.platform.send(req)
        except Exception:  # a platform bug must not become an unhandled error: the vendor's own code for it
            log.exception("platform.send failed (%s, account %r)", via, read.user_name)
            outcome = SendOutcome(code=ResultCode.InternalError)
        conformance.attach(environ, outcome.warnings, outcome.code)
        refusal = outcome.strict_refusal
        if refusal is not None and refusal.code in conformance.SOAP_SHAPE:
            raise _Fault(f"strict mode: {refusal.text()}", version=version)
        errors = list(outcome.errors)
        if refusal is not None:
            errors.append(f"strict:{refusal.text()}")
        body = reply_envelope(version, op, result_of(op, outcome, errors))
        if body is None:  # only text from the request itself (a strict-mode detail) can be unwritable
            raise _Fault(
                f"{_UNABLE_TO_PROCESS} ---> The reply cannot be written as XML (a character XML cannot carry)",
                "Server",
                version=version,
            )
        return self._respond(start_response, "200 OK", CONTENT_TYPES[version], body)


def result_of(op: Operation, outcome: SendOutcome, errors: list[str]) -> SendResultXml | HybridSendResultXml:
    """The reply's result for ``outcome``: what each member means in docs/contract.md §2 ("SendResultBase")."""
    msg_id = str(outcome.task_id) if outcome.ok and outcome.task_id else None
    if op.declared == "HybridSendResult":
        return HybridSendResultXml(
            status=outcome.code.name,
            description=outcome.code.description,
            msg_id=msg_id,
            amount=outcome.points,
            success_counts=outcome.success_count,
            billing_amount=Decimal(outcome.billing_amount),
            errors_code=errors or None,
        )
    return SendResultXml(
        status=outcome.code.name,
        description=outcome.code.description,
        msg_id=msg_id,
        pay_type=PAY_TYPES.get(outcome.pay_type or "", 0),
        success_counts=outcome.success_count,
        billing_count=outcome.billing_count,
        amount=outcome.points,
        balance=Decimal(outcome.balance),
        billing_amount=Decimal(outcome.billing_amount),
        errors=errors or None,
        type_name=op.xsi_type or op.declared,
    )


def _route(guess: int, action: str | None, doc: Document, warnings: list[ConformanceWarning]) -> Operation:
    """The operation, or the Fault ASMX routes the request to (``Initialize``: RouteRequest, then on a failure
    the version the envelope's namespace says, and VersionMismatch for one it does not know)."""
    if guess == 11 and action == BAD_QUOTES:
        raise _Fault(f"{_UNABLE_TO_PROCESS} ---> {QUOTE_ERROR}", "Server", version=11, warnings=warnings)
    routed = route(guess, action, None if guess == 11 else doc.body_child)
    if routed.operation is not None:
        return routed.operation
    read_root = guess == 12 and doc.root_tag is not None  # GetRequestElement read the root before it failed
    if guess == 12 and doc.routing_error is not None:
        message, code = f"{_UNABLE_TO_PROCESS} ---> {doc.routing_error}", "Server"
    else:
        message, code = routed.fault, "Client"
    if read_root:
        if doc.root_namespace not in _VERSION_OF:
            raise _version_mismatch(doc, warnings)
        raise _Fault(message, code, version=_VERSION_OF[doc.root_namespace or ""], warnings=warnings)
    raise _Fault(message, code, version=guess, warnings=warnings)


_MUST_UNDERSTAND = (f"{{{NS_SOAP11}}}mustUnderstand", f"{{{NS_SOAP12}}}mustUnderstand")


def _not_understood(doc: Document) -> str | None:
    """The local name of the first header marked mustUnderstand (this service understands none): the attribute of
    either SOAP version, ``1`` or ``true`` exactly, as ASMX's SoapUnknownHeader reads it."""
    if doc.header is None:
        return None
    for h in doc.header:
        if isinstance(h.tag, str) and any(h.get(name) in ("1", "true") for name in _MUST_UNDERSTAND):
            return str(etree.QName(h).localname)
    return None


def _version_mismatch(doc: Document, warnings: list[ConformanceWarning]) -> _Fault:
    """ASMX's CheckHelperVersion: an envelope namespace it does not know is a SOAP 1.1 VersionMismatch Fault."""
    return _Fault(
        f"Possible SOAP version mismatch: Envelope namespace {doc.root_namespace or ''} was unexpected. "
        f"Expecting {NS_SOAP11}.",
        "VersionMismatch",
        version=11,
        warnings=warnings,
    )


def _position(text: str, element: etree._Element) -> tuple[int, int]:
    """Where XmlSerializer's reader stands after reading ``element``: the node after its end tag (1-based line and
    column, as .NET reports them; an approximation from the element's start line)."""
    lines = text.split("\n")
    start = max((element.sourceline or 1) - 1, 0)
    local = etree.QName(element).localname
    for number in range(start, len(lines)):
        line = lines[number]
        end = line.find(f"{local}>", 0)
        while end >= 0:
            tag_start = line.rfind("<", 0, end)
            if tag_start >= 0 and line[tag_start + 1 : tag_start + 2] == "/" or line[end - 1 : end] in ("/",):
                column = end + len(local) + 1
                if column < len(line) and line[column] == "<":  # the next tag's name, 1-based
                    return number + 1, column + (3 if line[column + 1 : column + 2] == "/" else 2)
                return number + 1, column + 1
            end = line.find(f"{local}>", end + 1)
    return start + 1, 1


def _pretty(clark: str) -> str:
    namespace, _, local = clark[1:].partition("}") if clark.startswith("{") else ("", "", clark)
    return local if namespace == TNS else f"{{{namespace}}}{local}" if namespace else f"{local} (no namespace)"


def make_soap_app(platform: Any, *, max_body: int = DEFAULT_MAX_BODY) -> WsgiApp:
    """The /WebService.asmx WSGI app over ``platform`` (anything with ``send(SendRequest) -> SendOutcome`` and
    ``record_warnings``).

    Mount it at the path /WebService.asmx (matched case-insensitively, like IIS); other paths get 404.
    """
    return SoapFront(platform, max_body)
