"""SOAP client for ``WebService.asmx`` (SendI18NSms, SendHybridSms), built on zeep.

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
"""
from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import requests
import zeep
from zeep import exceptions as zexc
from zeep.wsdl import Document

from ipyy_client._common import DEFAULT_BASE_URL, join_msisdns
from ipyy_client._common import root_cause as _root_cause
from ipyy_client.codes import ResultCode
from ipyy_client.errors import IpyyError, ProtocolError, SoapFault, TransportError
from ipyy_client.results import SendResult

NAMESPACE = "http://tempuri.org/"
BINDINGS = {11: f"{{{NAMESPACE}}}WebServiceSoap", 12: f"{{{NAMESPACE}}}WebServiceSoap12"}
_BODY_SNIPPET = 300


def _settings() -> zeep.Settings:
    return zeep.Settings(
        strict=True,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
        force_https=False,  # the mock is plain http; the address is ours anyway
    )


@lru_cache(maxsize=1)
def _document() -> Document:
    """Parse the packaged WSDL once per process (lru_cache is thread-safe enough: at worst parsed twice)."""
    data = resources.files("ipyy_client").joinpath("WebService.wsdl").read_bytes()
    # A throw-away transport: the WSDL has no imports, so it is never used to fetch.
    return Document(io.BytesIO(data), zeep.Transport(), settings=_settings())


# XML 1.0 cannot carry most C0 controls; lxml would raise a bare ValueError deep inside zeep.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _check_xml_text(value: str, what: str) -> str:
    match = _XML_BAD.search(value)
    if match:
        raise ValueError(f"{what} contains U+{ord(match.group()):04X}, which XML (and so SOAP) cannot carry")
    return value


class _RecordingTransport(zeep.Transport):
    """zeep transport that remembers the last HTTP response (per thread) for error messages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        self._local.response = None
        response = super().post(address, message, headers)
        self._local.response = response
        return response

    @property
    def last_response(self) -> requests.Response | None:
        return getattr(self._local, "response", None)


class SoapClient:
    """A client of one account on ``<base_url>/WebService.asmx``.

    >>> with SoapClient("demo", "demo123", "http://127.0.0.1:8080") as c:   # doctest: +SKIP
    ...     c.send_i18n_sms(["8613800138000"], "验证码 1234【华信】").raise_for_status().msg_id

    ``session`` lets you share a ``requests.Session`` (proxies, TLS settings);
    a session passed in is left open by ``close()``, one created here is closed.
    A client may be used from several threads as far as requests allows.
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
        if soap_version not in BINDINGS:
            raise ValueError(f"soap_version must be 11 or 12, not {soap_version!r}")
        if not re.match(r"^https?://[^/\s]+", base_url or ""):
            raise ValueError(f"base_url must start with http:// or https:// and name a host, not {base_url!r}")
        self.account = account
        self._password = password
        self.base_url = base_url.rstrip("/")
        self.endpoint = self.base_url + "/WebService.asmx"
        self.soap_version = soap_version
        self.timeout = timeout
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._transport = _RecordingTransport(timeout=timeout, operation_timeout=timeout, session=self._session)
        if self._owns_session:
            self._session.headers["User-Agent"] = f"ipyy-sms/{_version()} {self._session.headers['User-Agent']}"
        self._client = zeep.Client(_document(), transport=self._transport, settings=_settings())
        self._service = self._client.create_service(BINDINGS[soap_version], self.endpoint)

    # -- public API ------------------------------------------------------------

    def send_i18n_sms(
        self,
        msisdns: str | Iterable[str | int],
        content: str,
        plan_send_time: datetime | None = None,
        ext_number: str | int | None = None,
    ) -> SendResult:
        """``SendI18NSms``: numbers with country code (``8613800138000``).

        ``plan_send_time``: None sends now; a naive datetime is platform time
        (Asia/Shanghai); an aware one is sent with its offset.
        """
        return self._call("SendI18NSms", msisdns, content, plan_send_time, ext_number)

    def send_hybrid_sms(
        self,
        msisdns: str | Iterable[str | int],
        content: str,
        plan_send_time: datetime | None = None,
        ext_number: str | int | None = None,
    ) -> SendResult:
        """``SendHybridSms``: like ``send_i18n_sms`` but also takes Chinese 11-digit numbers."""
        return self._call("SendHybridSms", msisdns, content, plan_send_time, ext_number)

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> "SoapClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SoapClient(account={self.account!r}, endpoint={self.endpoint!r}, soap_version={self.soap_version})"

    # -- internals -------------------------------------------------------------

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

    def _call(
        self,
        operation: str,
        msisdns: str | Iterable[str | int],
        content: str,
        plan_send_time: datetime | None,
        ext_number: str | int | None,
    ) -> SendResult:
        sms = self._sms_object(msisdns, content, plan_send_time, ext_number)
        _check_xml_text(self.account or "", "account")
        if _XML_BAD.search(self._password or ""):
            raise ValueError("password contains a character XML (and so SOAP) cannot carry")
        try:
            reply = getattr(self._service, operation)(userName=self.account, password=self._password, sms=sms)
        except IpyyError:
            raise
        except zexc.Fault as exc:
            raise self._from_fault(exc) from None
        except requests.Timeout as exc:
            raise TransportError(
                f"no reply from {self.endpoint} within {self.timeout:g}s ({_root_cause(exc)}). "
                "The send may or may not have reached the platform; it was not retried."
            ) from None
        except requests.exceptions.SSLError as exc:
            raise TransportError(f"TLS failure talking to {self.endpoint}: {_root_cause(exc)}") from None
        except requests.ConnectionError as exc:
            raise TransportError(
                f"cannot connect to {self.endpoint}: {_root_cause(exc)}. "
                f"Check the base URL ({self.base_url}) and that the server is running "
                "(for the offline mock: `ipyy-mock serve`)."
            ) from None
        except requests.RequestException as exc:
            raise TransportError(f"request to {self.endpoint} failed: {_root_cause(exc)}") from None
        except zexc.Error as exc:
            raise self._protocol_error(str(exc.message or exc)) from None
        except (ValueError, ArithmeticError) as exc:  # int() / Decimal / isodate on a malformed reply value
            raise self._protocol_error(f"malformed reply: {exc}") from None
        return self._to_result(reply)

    def _from_fault(self, exc: zexc.Fault) -> IpyyError:
        if exc.code is None and exc.message == "Unknown fault occured":
            # zeep says "fault" for any non-200 XML reply without a Fault element.
            return self._protocol_error("unexpected reply without a SOAP Fault")
        code = exc.code
        if exc.subcodes:
            code = f"{code} ({', '.join(str(s) for s in exc.subcodes)})"
        return SoapFault(self._scrub(str(code) if code else None), self._scrub(exc.message or ""), detail=exc.detail)

    def _protocol_error(self, what: str) -> ProtocolError:
        response = self._transport.last_response
        status = response.status_code if response is not None else None
        body = response.content[:_BODY_SNIPPET] if response is not None else None
        message = what.split("\nContent:")[0]  # zeep appends the whole body; we show a snippet
        if status is not None:
            ctype = response.headers.get("Content-Type", "?") if response is not None else "?"
            snippet = (body or b"").decode("utf-8", "replace").strip()
            message = f"HTTP {status} ({ctype}) from {self.endpoint}: {message}"
            if snippet:
                message += f"; body starts: {snippet[:120]!r}"
        if body and self._password and len(self._password) >= 3:  # [reliability] a server may echo the request
            from xml.sax.saxutils import escape

            for secret in {self._password, escape(self._password)}:  # as sent: XML-escaped inside the envelope
                body = body.replace(secret.encode("utf-8"), b"***")
        return ProtocolError(self._scrub(message), status_code=status, body=body)

    def _to_result(self, reply: Any) -> SendResult:
        if reply is None:
            raise self._protocol_error("empty SOAP reply (no SendResultBase)")
        try:
            status = ResultCode[reply.StatusCode]
            errors = reply.Errors.string if reply.Errors is not None else []
            return SendResult(
                status=status,
                description=reply.Description or "",
                msg_id=int(reply.MsgId),
                balance=Decimal(reply.Balance),
                billing_amount=Decimal(reply.BillingAmount),
                billing_count=int(reply.BillingCount),
                errors=tuple(e for e in (errors or []) if e is not None),
            )
        except (KeyError, AttributeError, TypeError, ValueError, InvalidOperation) as exc:
            raise self._protocol_error(f"reply does not match SendResultBase ({type(exc).__name__}: {exc})") from None

    def _scrub(self, text: str | None) -> str:
        """Remove the password from text that echoes server content (a hostile server could echo it)."""
        if text and self._password and len(self._password) >= 3:
            return text.replace(self._password, "***")
        return text or ""


def _version() -> str:
    from ipyy_client import __version__

    return __version__
