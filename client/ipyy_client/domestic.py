"""Client of the vendor's domestic interface: ``sms.aspx`` (XML) and ``smsJson.aspx`` (JSON).

Why a client of its own: the domestic interface is the international HTTP
interface's sibling with a different wire -- ``content`` is plain text (not
UTF-16BE hex), the numbers are Chinese 11-digit ones, and a domestic account
counts points (messages) instead of money, so its replies carry
``remainpoint`` / ``overage`` / ``sendTotal`` where the international ones
carry amounts. Everything else is the same gateway and the same account:
delivery reports, uplinks and the password change are the shared
``statusApi.aspx`` / ``callApi.aspx`` / ``pwd.aspx`` endpoints, so
``DomesticWire`` extends ``HttpWire``: the same credentials, form POST, MD5
password, retry rule and password masking, plus the two domestic calls. Each
call picks its reply format with ``fmt`` ("xml" → ``sms.aspx``, "json" →
``smsJson.aspx``); the result types are the same for both.

Retries, as for ``HttpClient``: a send is never retried; the points query
changes nothing and is retried after a connect failure or a broken connection.
``DomesticClient`` posts with requests; its async twin,
``ipyy_client.aio.AsyncDomesticClient``, with httpx: nothing else differs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Literal

import requests

from ipyy_client._common import DEFAULT_BASE_URL, DEFAULT_ZONE, join_msisdns
from ipyy_client._transport import SyncTransport
from ipyy_client._wire import Call, Reply, Retry, mock_warnings
from ipyy_client.http import MAX_PULL, HttpWire, _fmt, _int_or_none, message_error, narrow, xml_fields
from ipyy_client.results import (
    PAY_TYPES,
    SUCCESS_STATUSES,
    DomesticSendResult,
    PointsBalance,
    Report,
    Uplink,
    code_for_message,
)

PATHS = {"xml": "/sms.aspx", "json": "/smsJson.aspx"}
_WHOLE = re.compile(r"-?[0-9]+")


class DomesticWire(HttpWire):
    """What ``DomesticClient`` and ``AsyncDomesticClient`` share: ``HttpWire`` (reports, uplinks, password,
    credentials) plus the domestic send and points query, built and read here. No I/O happens here."""

    def _domestic_send_call(
        self,
        mobiles: str | Iterable[str | int],
        content: str,
        send_time: datetime | None,
        extno: str | int | None,
        fmt: str,
    ) -> Call[DomesticSendResult]:
        if not isinstance(content, str):
            raise TypeError(f"content must be str, not {type(content).__name__}")
        path = PATHS[_fmt(fmt)]
        data = self._credentials() | {
            "action": "send",
            "mobile": join_msisdns(mobiles),
            "content": content,
            "sendTime": self._send_time(send_time),
            "extno": "" if extno is None else str(extno).strip(),
        }

        def read(reply: Reply) -> DomesticSendResult:
            fields = self._domestic_fields(reply, fmt)
            if "returnstatus" not in fields:
                raise self._protocol("send reply has no returnstatus", reply)
            status = fields["returnstatus"].strip()
            message = (fields.get("message") or "").strip()
            ok = status.lower() in SUCCESS_STATUSES
            try:
                task_id = _int_or_none(fields.get("taskid"))
                if ok and task_id is None:
                    raise ValueError("no taskID")
                return DomesticSendResult(
                    status=status,
                    message=self._secrets.text(message),
                    remain_points=_whole(fields.get("remainpoint"), "remainpoint", required=ok),
                    task_id=task_id,
                    success_counts=_whole(fields.get("successcounts"), "successCounts"),
                    code=None if ok else narrow(code_for_message(message), message, self._empty_code()),
                    mock_warnings=mock_warnings(reply),
                )
            except ValueError as exc:
                raise self._protocol(
                    f"malformed send reply ({exc}); returnstatus was {status!r}, so the send "
                    f"{'was accepted' if ok else 'was refused'} -- do not resend blindly",
                    reply,
                ) from None

        return self._call(path, data, "send", Retry.NEVER, read)

    def _points_call(self, fmt: str) -> Call[PointsBalance]:
        path = PATHS[_fmt(fmt)]
        data = self._credentials() | {"action": "overage"}

        def read(reply: Reply) -> PointsBalance:
            fields = self._domestic_fields(reply, fmt)
            status = (fields.get("returnstatus") or "").strip()
            if status.lower() not in SUCCESS_STATUSES:
                if "returnstatus" not in fields:
                    raise self._protocol("overage reply has no returnstatus", reply)
                raise message_error(fields.get("message") or "", self._empty_code())
            payinfo = (fields.get("payinfo") or "").strip()
            try:
                points = _whole(fields.get("overage"), "overage", required=True)
                send_total = _whole(fields.get("sendtotal"), "sendTotal")
            except ValueError as exc:
                raise self._protocol(f"malformed overage reply ({exc})", reply) from None
            return PointsBalance(pay_type=PAY_TYPES.get(payinfo, payinfo), points=points, send_total=send_total)

        return self._call(path, data, "balance query", Retry.IDEMPOTENT, read)

    def _domestic_fields(self, reply: Reply, fmt: str) -> dict[str, str]:
        """The reply's values as ``{lowercased name: text}``, from ``<returnsms>`` or from the JSON object."""
        if fmt == "xml":
            return xml_fields(self._root(reply))
        self._expect_200(reply)
        try:
            data = json.loads(reply.content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise self._protocol(f"reply is not JSON ({type(exc).__name__})", reply) from None
        if not isinstance(data, dict):
            raise self._protocol(f"JSON reply is a {type(data).__name__}, not an object", reply)
        fields: dict[str, str] = {}
        for key, value in data.items():
            if isinstance(value, (dict, list, bool)):
                raise self._protocol(f"JSON {key!r} is a {type(value).__name__}, not a string", reply)
            fields.setdefault(str(key).lower(), "" if value is None else str(value))
        return fields


class DomesticClient(DomesticWire):
    """A client of one account on the domestic interface (``<base_url>/sms.aspx`` and ``/smsJson.aspx``).

    >>> with DomesticClient("demo", "demo123", base_url="http://127.0.0.1:8080") as c:   # doctest: +SKIP
    ...     c.send(["13800138000"], "验证码 1234【华信】").raise_for_status().remain_points
    ...     c.balance(fmt="json").points

    The arguments are ``HttpClient``'s (``userid`` is the enterprise id, sent
    and not checked; ``zone`` the platform's time zone, for ``send_time`` and
    report times; ``retries`` for the read-only calls and connect failures
    only; a ``session`` passed in is left open by ``close()``).
    """

    def __init__(
        self,
        account: str,
        password: str,
        userid: str = "",
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        session: requests.Session | None = None,
        retries: int = 2,
        zone: str | tzinfo = DEFAULT_ZONE,
        retry_backoff: float = 0.5,
    ) -> None:
        super().__init__(
            account,
            password,
            userid,
            base_url,
            timeout=timeout,
            retries=retries,
            zone=zone,
            retry_backoff=retry_backoff,
        )
        self._transport = SyncTransport(session, timeout=timeout, retries=retries, backoff=retry_backoff)
        self._session = self._transport.session

    # -- the domestic calls ------------------------------------------------------

    def send(
        self,
        mobiles: str | Iterable[str | int],
        content: str,
        send_time: datetime | None = None,
        extno: str | int | None = None,
        *,
        fmt: Literal["xml", "json"] = "xml",
    ) -> DomesticSendResult:
        """``action=send``: domestic 11-digit numbers (``13800138000``), ``content`` as plain text.

        ``send_time``: None sends now; a naive datetime is platform time, an
        aware one is converted to it. A refusal comes back as a result with
        ``ok`` False (``raise_for_status()`` raises it). Never retried: after
        a lost reply the platform may already have charged and queued the send.
        """
        return self._transport.run(self._domestic_send_call(mobiles, content, send_time, extno, fmt))

    def balance(self, *, fmt: Literal["xml", "json"] = "xml") -> PointsBalance:
        """``action=overage``: pay type, points left and points recharged. Raises the matching IpyyError on refusal.

        Both ``Sucess`` (what the vendor sends here) and ``Success`` are success.
        """
        return self._transport.run(self._points_call(fmt))

    # -- the shared endpoints: reports, uplinks, password -------------------------

    def status_reports(
        self, task_id: int | None = None, limit: int = MAX_PULL, fmt: Literal["xml", "json"] = "xml"
    ) -> list[Report]:
        """Delivery reports of domestic and international sends alike (``HttpClient.status_reports``)."""
        return self._transport.run(self._reports_call(task_id, limit, fmt))

    def uplinks(self, limit: int = MAX_PULL, fmt: Literal["xml", "json"] = "xml") -> list[Uplink]:
        """Uplinks (MO replies), each handed out once (``HttpClient.uplinks``)."""
        return self._transport.run(self._uplinks_call(limit, fmt))

    def change_password(self, new: str) -> None:
        """``pwd.aspx`` (``HttpClient.change_password``); this client uses the new password from now on."""
        self._transport.run(self._password_call(new))

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        self._transport.close()

    def __enter__(self) -> DomesticClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _whole(text: str | None, what: str, *, required: bool = False) -> int:
    """A whole number of points or messages; empty is 0 unless required (a success must say it)."""
    text = (text or "").strip()
    if not text:
        if required:
            raise ValueError(f"empty {what}")
        return 0
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"{what} is not a whole number: {text[:20]!r}")
    return int(text)
