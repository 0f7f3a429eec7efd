"""SOAP client for ``WebService.asmx`` (SendSms, SendI18NSms, SendHybridSms), built on zeep.

Why these choices:

* The WSDL is the packaged copy (``ipyy_client/WebService.wsdl``), parsed once
  per process: no network is needed to build a client, and the vendor's
  endpoint can be swapped for the mock's by ``base_url`` alone.
* DTDs, entities and external fetches are forbidden: replies come from the
  network and must never make the parser read files or URLs.
* A non-OK StatusCode is returned, not raised (see ``SendResult``); only wire
  failures raise, and only as ``ipyy_client.errors`` classes.
* A send is never retried automatically: after a read timeout the platform may
  already have charged and queued it.
* zeep renders the request envelope and parses replies with its secure
  parser, but never does I/O: ``SoapClient`` posts with requests (what zeep's
  sync transport wraps), ``ipyy_client.aio.AsyncSoapClient`` with httpx (what
  zeep's async transport wraps); both share ``SoapWire`` for everything else.
  (zeep's own transports would log the whole envelope, password included, at
  DEBUG, and its async one replaces a borrowed httpx client's headers.) The envelope of
  an ordinary send is zeep's own, rendered once per operation with
  placeholders and filled per call (``_EnvelopeTemplate``; zeep's per-call
  serialization cost ~0.2-0.35 ms of CPU); tests/test_client_reply.py proves
  the bytes and headers identical to zeep's. A well-formed reply is
  validated against the packaged WSDL's schema (lxml ``XMLSchema``, stricter
  than zeep's own mapping: enumerations and integer ranges are checked too)
  and read field by field. zeep's generic mapping of the reply into value
  objects cost ~0.3 ms of CPU per send, a quarter of the client's overhead
  over a bare POST. Faults, non-200 replies and anything unexpected still go
  through zeep's own ``process_reply``, so they raise exactly as before.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

import requests
import zeep
from lxml import etree
from zeep import exceptions as zexc
from zeep.loader import parse_xml
from zeep.utils import get_media_type
from zeep.wsdl import Document

from ipyy_client import wsdl
from ipyy_client._common import DEFAULT_BASE_URL, join_msisdns
from ipyy_client._masking import Secrets
from ipyy_client._transport import SyncTransport
from ipyy_client._wire import (
    Call,
    Reply,
    Retry,
    failed_call,
    guarded,
    mock_warnings,
    protocol_error,
    redirect_note,
)
from ipyy_client.codes import ResultCode
from ipyy_client.encoding import escape_xml_text
from ipyy_client.errors import IpyyError, ProtocolError, SoapFault
from ipyy_client.results import SendResult

NAMESPACE = wsdl.TNS
BINDINGS = {11: f"{{{NAMESPACE}}}WebServiceSoap", 12: f"{{{NAMESPACE}}}WebServiceSoap12"}


def _settings(raw_response: bool = False) -> zeep.Settings:
    return zeep.Settings(
        strict=True,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
        force_https=False,  # the mock is plain http; the address is ours anyway
        raw_response=raw_response,
    )


class _NoNetwork(zeep.Transport):
    """The transport zeep's objects are built with. The clients post requests themselves (``_transport.py``),
    so zeep never needs the network: the packaged WSDL has no imports and nothing else is fetched. Any
    attempt raises instead of silently reaching out."""

    def __init__(self) -> None:
        super().__init__(timeout=30, operation_timeout=30)  # type: ignore[no-untyped-call]

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise zexc.TransportError("ipyy_client never lets zeep do network I/O")

    get = post = post_xml = load = _refuse


@lru_cache(maxsize=1)
def _offline_transport() -> _NoNetwork:
    return _NoNetwork()


@lru_cache(maxsize=1)
def _document() -> Document:
    """Parse the packaged WSDL once per process (lru_cache is thread-safe enough: at worst parsed twice)."""
    data = wsdl.packaged_wsdl()
    # The WSDL has no imports: the transport is never asked to fetch anything (and would refuse).
    # (zeep annotates the transport as a class; it takes an instance)
    return Document(io.BytesIO(data), _offline_transport(), settings=_settings())  # type: ignore[arg-type]


_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
#: The result type each operation declares (SendResultBase is abstract: its replies name their type in xsi:type).
_DECLARED = {"SendSms": "SendResult", "SendI18NSms": "SendResultBase", "SendHybridSms": "SendResultBase"}


def _reply_schema() -> etree.XMLSchema:
    """The packaged WSDL's ``wsdl:types`` schema, compiled once per thread (ipyy_client.wsdl)."""
    return wsdl.schema()


class _EnvelopeTemplate:
    """zeep's request for one operation, rendered once with placeholder values and split around them.

    ``render`` fills in the values with the escaping lxml's serializer applies to element text (``&``, ``<``,
    ``>``, CR), so the bytes are what zeep would have written; None when a value needs zeep itself.
    """

    _MARK = "\ue000{}\ue001"  # private-use characters: written as they are, and never in a value it fills
    _UNSAFE = re.compile("[\ud800-\udfff\ue000\ue001]")  # surrogates (zeep's own error) and the marks

    def __init__(self, binding: Any, client: Any, options: dict[str, Any], operation: str, ext_number: bool) -> None:
        from zeep.wsdl.utils import etree_to_string

        names = ["userName", "password", "Msisdns", "SMSContent"] + (["ExtNumber"] if ext_number else [])
        marks = {name: self._MARK.format(i) for i, name in enumerate(names)}
        sms = {"Msisdns": marks["Msisdns"], "SMSContent": marks["SMSContent"]}
        if ext_number:
            sms["ExtNumber"] = marks["ExtNumber"]
        envelope, headers = binding._create(
            operation,
            (),
            {"userName": marks["userName"], "password": marks["password"], "sms": sms},
            client=client,
            options=options,
        )
        text = etree_to_string(envelope).decode("utf-8")
        parts: list[str] = []
        for name in names:
            before, found, text = text.partition(marks[name])
            if not found or marks[name] in text:
                raise ValueError(f"zeep's envelope for {operation} does not hold {name} once")
            parts.append(before)
        parts.append(text)
        self.parts = parts
        self.headers = dict(headers)

    def render(self, values: list[str]) -> bytes | None:
        out = [self.parts[0]]
        for value, part in zip(values, self.parts[1:]):
            if self._UNSAFE.search(value):
                return None
            out.append(escape_xml_text(value))
            out.append(part)
        return "".join(out).encode("utf-8")


# XML 1.0 cannot carry most C0 controls; lxml would raise a bare ValueError deep inside zeep.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _check_xml_text(value: str, what: str) -> str:
    match = _XML_BAD.search(value)
    if match:
        raise ValueError(f"{what} contains U+{ord(match.group()):04X}, which XML (and so SOAP) cannot carry")
    return value


class SoapWire:
    """What ``SoapClient`` and ``AsyncSoapClient`` share: the account, zeep's binding for the SOAP version,
    the request of each send and the reading of its reply. No I/O happens here.

    zeep renders the envelope (or its once-rendered template, ``_EnvelopeTemplate``) and parses Faults and
    unusual replies; an ordinary reply is schema-validated and read field by field (``_result_from``).
    """

    def __init__(
        self,
        account: str,
        password: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        soap_version: Literal[11, 12] = 11,
        timeout: float = 30.0,
    ) -> None:
        if soap_version not in BINDINGS:
            raise ValueError(f"soap_version must be 11 or 12, not {soap_version!r}")
        if not re.match(r"^https?://[^/\s]+", base_url or ""):
            raise ValueError(f"base_url must start with http:// or https:// and name a host, not {base_url!r}")
        if timeout is None or timeout <= 0:
            raise ValueError("timeout must be positive (a call without one could wait forever)")
        self.account = account
        self._password = password
        self._secrets = Secrets(password if isinstance(password, str) else "")
        self.base_url = base_url.rstrip("/")
        self.endpoint = self.base_url + "/WebService.asmx"
        self.soap_version = soap_version
        self.timeout = timeout
        self._client = zeep.Client(_document(), transport=_offline_transport(), settings=_settings())
        self._service = self._client.create_service(BINDINGS[soap_version], self.endpoint)
        # the proxy's own layers, resolved once: zeep's binding, with the service's options (the address)
        self._binding = self._service._binding
        self._binding_options = self._service._binding_options
        self._envelope_ns = self._binding.nsmap["soap-env"]
        self._templates: dict[tuple[str, bool], _EnvelopeTemplate | None] = {}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(account={self.account!r}, endpoint={self.endpoint!r}, "
            f"soap_version={self.soap_version})"
        )

    # -- the request -------------------------------------------------------------

    def _send_call(
        self,
        operation: str,
        msisdns: str | Iterable[str | int],
        content: str,
        plan_send_time: datetime | None,
        ext_number: str | int | None,
    ) -> Call[SendResult]:
        """The POST of one send: checked and rendered here, so nothing is sent that XML cannot carry."""
        sms = self._sms_object(msisdns, content, plan_send_time, ext_number)
        _check_xml_text(self.account or "", "account")
        if _XML_BAD.search(self._password or ""):
            raise ValueError("password contains a character XML (and so SOAP) cannot carry")
        body, headers = self._request(operation, sms)
        url = str(self._binding_options["address"])

        def read(reply: Reply) -> SendResult:
            return self._read(operation, reply)

        return Call(
            url=url,
            what="send",
            read=guarded(read, self._secrets),
            body=body,
            headers=headers,
            retry=Retry.NEVER,
            failed=failed_call(
                url=url, base_url=self.base_url, what="send", timeout=self.timeout, secrets=self._secrets
            ),
        )

    def _sms_object(
        self,
        msisdns: str | Iterable[str | int],
        content: str,
        plan_send_time: datetime | None,
        ext_number: str | int | None,
    ) -> dict[str, Any]:
        if not isinstance(content, str):
            raise TypeError(f"content must be str, not {type(content).__name__}")
        sms: dict[str, Any] = {
            "Msisdns": _check_xml_text(join_msisdns(msisdns), "msisdns"),
            "SMSContent": _check_xml_text(content, "content"),
        }
        if plan_send_time is not None:
            if not isinstance(plan_send_time, datetime):
                raise TypeError(f"plan_send_time must be a datetime or None, not {type(plan_send_time).__name__}")
            # The platform schedules to the second (HTTP sendTime has no fraction either).
            sms["PlanSendTime"] = plan_send_time.replace(microsecond=0)
        if ext_number is not None and str(ext_number) != "":
            sms["ExtNumber"] = _check_xml_text(str(ext_number).strip(), "ext_number")
        return sms

    def _request(self, operation: str, sms: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The envelope's bytes and HTTP headers: the template's, or zeep's own rendering (what
        ``binding.send`` would post)."""
        message = self._envelope(operation, sms)
        if message is not None:
            return message
        from zeep.wsdl.utils import etree_to_string

        try:
            envelope, headers = self._binding._create(
                operation,
                (),
                {"userName": self.account, "password": self._password, "sms": sms},
                client=self._client,
                options=self._binding_options,
            )
            return etree_to_string(envelope), dict(headers)
        except (zexc.Error, ValueError, TypeError) as exc:  # a value zeep/lxml cannot serialize (a lone surrogate)
            raise ValueError(self._secrets.text(f"cannot build the SOAP request: {exc}")) from None

    def _envelope(self, operation: str, sms: dict[str, Any]) -> tuple[bytes, dict[str, str]] | None:
        """zeep's request bytes and headers for an ordinary send (no PlanSendTime), from the operation's template."""
        if "PlanSendTime" in sms or not isinstance(self.account, str) or not isinstance(self._password, str):
            return None
        ext = "ExtNumber" in sms
        key = (operation, ext)
        if key not in self._templates:
            try:
                self._templates[key] = _EnvelopeTemplate(
                    self._binding, self._client, self._binding_options, operation, ext
                )
            except Exception:  # a zeep that renders differently: it renders every call itself
                self._templates[key] = None
        template = self._templates[key]
        if template is None:
            return None
        values = [self.account, self._password, sms["Msisdns"], sms["SMSContent"]] + ([sms["ExtNumber"]] if ext else [])
        body = template.render(values)
        return None if body is None else (body, template.headers)

    # -- the reply ---------------------------------------------------------------

    def _read(self, operation: str, reply: Reply) -> SendResult:
        """The reply as a SendResult, or the IpyyError it stands for (never a zeep exception)."""
        try:
            if 300 <= reply.status_code < 400:
                raise self._protocol_error(f"unexpected HTTP status{redirect_note(reply)}", reply)
            result = self._read_reply(operation, reply)
            warnings = mock_warnings(reply)
            return dataclasses.replace(result, mock_warnings=warnings) if warnings else result
        except IpyyError:
            raise
        except zexc.Fault as exc:
            raise self._from_fault(exc, reply) from None
        except zexc.Error as exc:
            raise self._protocol_error(str(exc.message or exc), reply) from None
        except (ValueError, ArithmeticError) as exc:  # int() / Decimal / isodate on a malformed reply value
            raise self._protocol_error(f"malformed reply: {exc}", reply) from None

    def _read_reply(self, operation: str, reply: Reply) -> SendResult:
        """The reply of ``operation`` as a SendResult.

        A 200 reply with an XML envelope whose Body holds exactly the operation's response element is
        validated against the WSDL schema and read here; everything else (a Fault, another status, a
        multipart or unparseable body, an unexpected element) is left to zeep's ``process_reply``, which
        raises as it always did.
        """
        ctype = reply.headers.get("Content-Type", "text/xml")
        if reply.status_code == 200 and reply.content and get_media_type(ctype) != "multipart/related":
            try:
                # (zeep annotates the content as str; it parses bytes, as its own process_reply hands it)
                doc = parse_xml(
                    reply.content,  # type: ignore[arg-type]
                    _offline_transport(),
                    settings=self._client.settings,
                )
            except (etree.XMLSyntaxError, zexc.XMLSyntaxError):
                doc = None  # zeep says so, in its own words (process_reply below)
            if doc is not None:
                element = self._response_element(doc, operation)
                if element is not None:
                    return self._result_from(element, operation, reply)
        zeep_reply = self._binding.process_reply(self._client, self._binding.get(operation), reply)
        return self._to_result(zeep_reply, reply)

    def _response_element(self, doc: etree._Element, operation: str) -> etree._Element | None:
        ns = self._envelope_ns
        if doc.tag != f"{{{ns}}}Envelope":
            return None
        children = [c for c in doc if isinstance(c.tag, str)]
        if children and children[0].tag == f"{{{ns}}}Header":
            children.pop(0)
        if len(children) != 1 or children[0].tag != f"{{{ns}}}Body":
            return None
        parts = [c for c in children[0] if isinstance(c.tag, str)]
        if len(parts) != 1 or parts[0].tag != f"{{{NAMESPACE}}}{operation}Response":
            return None  # a Fault, or something zeep should judge
        return parts[0]

    def _result_from(self, element: etree._Element, operation: str, reply: Reply | None = None) -> SendResult:
        schema = _reply_schema()
        if not schema.validate(element):
            error = schema.error_log.last_error
            raise self._protocol_error(
                f"reply does not match the WSDL ({error.message if error is not None else 'schema validation failed'})",
                reply,
            )
        result = element.find(f"{{{NAMESPACE}}}{operation}Result")
        if result is None or result.get(_XSI_NIL) in ("true", "1"):  # minOccurs=0: a null result
            raise self._protocol_error(f"reply has no {operation}Result", reply)
        return self._read_result(result, _DECLARED.get(operation, "SendResultBase"))

    def _read_result(self, node: etree._Element, declared: str) -> SendResult:
        """One ``SendResultBase`` element (the schema checked it) as a SendResult, its ``AlterSendResult`` too."""
        t = f"{{{NAMESPACE}}}"
        errors = node.find(f"{t}Errors")
        # as zeep mapped them: a nil or empty <string/> is None there, and None items are dropped
        items = (
            ()
            if errors is None
            else tuple(
                self._secrets.text(item.text)
                for item in errors.iterfind(f"{t}string")
                if item.text is not None and item.get(_XSI_NIL) not in ("true", "1")
            )
        )
        alter = node.find(f"{t}AlterSendResult")
        msg_id = node.findtext(f"{t}MsgId")
        return SendResult(
            status=ResultCode(_text(node, f"{t}StatusCode").strip()),
            description=self._secrets.text(node.findtext(f"{t}Description") or ""),
            msg_id=msg_id,  # an xs:string, as written (task_id reads the number out of it)
            balance=Decimal(_text(node, f"{t}Balance").strip()),
            billing_amount=Decimal(_text(node, f"{t}BillingAmount").strip()),
            billing_count=int(_text(node, f"{t}BillingCount")),
            errors=items,
            success_counts=int(_text(node, f"{t}SuccessCounts")),
            amount=int(_text(node, f"{t}Amount")),
            pay_type=int(_text(node, f"{t}PayType")),
            custom_id=node.findtext(f"{t}CustomId"),
            mark=node.findtext(f"{t}Mark"),
            alter_send_result=(
                self._read_result(alter, "SendResultBase")
                if alter is not None and alter.get(_XSI_NIL) not in ("true", "1")
                else None
            ),
            result_type=(node.get(_XSI_TYPE) or declared).rpartition(":")[2],
        )

    def _from_fault(self, exc: zexc.Fault, reply: Reply | None = None) -> IpyyError:
        if exc.code is None and exc.message == "Unknown fault occured":
            # zeep says "fault" for any non-200 XML reply without a Fault element.
            return self._protocol_error("unexpected reply without a SOAP Fault", reply)
        code = exc.code
        if exc.subcodes:
            code = f"{code} ({', '.join(str(s) for s in exc.subcodes)})"
        return self._secrets.error(SoapFault(str(code) if code else None, exc.message or "", detail=exc.detail))

    def _protocol_error(self, what: str, reply: Reply | None = None) -> ProtocolError:
        message = what.split("\nContent:")[0]  # zeep appends the whole body; we show a snippet
        if reply is None:
            return protocol_error(message, secrets=self._secrets)
        return protocol_error(
            message,
            reply.status_code,
            reply.content,
            content_type=reply.headers.get("Content-Type", "?"),
            where=self.endpoint,
            secrets=self._secrets,
        )

    def _to_result(self, value: Any, reply: Reply | None = None) -> SendResult:
        if value is None:
            raise self._protocol_error("empty SOAP reply (no SendResultBase)", reply)
        try:
            errors = value.Errors.string if value.Errors is not None else []
            alter = getattr(value, "AlterSendResult", None)
            return SendResult(
                status=ResultCode(str(value.StatusCode)),
                description=self._secrets.text(value.Description or ""),
                msg_id=None if value.MsgId is None else str(value.MsgId),
                balance=Decimal(value.Balance),
                billing_amount=Decimal(value.BillingAmount),
                billing_count=int(value.BillingCount),
                errors=tuple(self._secrets.text(e) for e in (errors or []) if e is not None),
                success_counts=int(value.SuccessCounts),
                amount=int(value.Amount),
                pay_type=int(value.PayType),
                custom_id=getattr(value, "CustomId", None),
                mark=getattr(value, "Mark", None),
                alter_send_result=None if alter is None else self._to_result(alter, reply),
                result_type=type(value).__name__ if hasattr(value, "_xsd_type") else "SendResult",
            )
        except (KeyError, AttributeError, TypeError, ValueError, InvalidOperation) as exc:
            raise self._protocol_error(
                f"reply does not match SendResultBase ({type(exc).__name__}: {exc})", reply
            ) from None


def _text(element: etree._Element, path: str) -> str:
    """A required child's text (the schema made sure it is there; None would be a schema bug)."""
    text = element.findtext(path)
    if text is None:
        raise ValueError(f"no {path.rpartition('}')[2]} in the reply")
    return str(text)


class SoapClient(SoapWire):
    """A client of one account on ``<base_url>/WebService.asmx``.

    >>> with SoapClient("demo", "demo123", "http://127.0.0.1:8080") as c:   # doctest: +SKIP
    ...     c.send_i18n_sms(["8613800138000"], "验证码 1234【华信】").raise_for_status().msg_id

    ``session`` lets you share a ``requests.Session`` (proxies, TLS settings);
    a session passed in is left open by ``close()``, one created here is closed.
    A client may be used from several threads as far as requests allows.
    The async twin is ``ipyy_client.aio.AsyncSoapClient``.
    """

    def __init__(
        self,
        account: str,
        password: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        soap_version: Literal[11, 12] = 11,
        timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(account, password, base_url, soap_version=soap_version, timeout=timeout)
        self._transport = SyncTransport(session, timeout=timeout)
        self._session = self._transport.session

    def send_sms(
        self,
        msisdns: str | Iterable[str | int],
        content: str,
        plan_send_time: datetime | None = None,
        ext_number: str | int | None = None,
    ) -> SendResult:
        """``SendSms``: the domestic send (Chinese 11-digit numbers, ``13800138000``; with country code too), the
        operation the vendor's own demos call. Arguments as ``send_i18n_sms``. Never retried."""
        return self._transport.run(self._send_call("SendSms", msisdns, content, plan_send_time, ext_number))

    def send_i18n_sms(
        self,
        msisdns: str | Iterable[str | int],
        content: str,
        plan_send_time: datetime | None = None,
        ext_number: str | int | None = None,
    ) -> SendResult:
        """``SendI18NSms``: numbers with country code (``8613800138000``).

        ``plan_send_time``: None sends now; a naive datetime is platform time
        (Asia/Shanghai); an aware one is sent with its offset. Never retried.
        """
        return self._transport.run(self._send_call("SendI18NSms", msisdns, content, plan_send_time, ext_number))

    def send_hybrid_sms(
        self,
        msisdns: str | Iterable[str | int],
        content: str,
        plan_send_time: datetime | None = None,
        ext_number: str | int | None = None,
    ) -> SendResult:
        """``SendHybridSms``: like ``send_i18n_sms`` but also takes Chinese 11-digit numbers."""
        return self._transport.run(self._send_call("SendHybridSms", msisdns, content, plan_send_time, ext_number))

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        self._transport.close()

    def __enter__(self) -> SoapClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
