"""Client of the vendor's HTTP interface: send, balance, delivery reports, uplinks, password.

Why these choices:

* Every call is a form POST (the vendor recommends POST; GET would put the
  password digest in proxy and server logs). The client does the wire's two
  encodings itself: ``content`` as UTF-16BE hex, ``password`` as uppercase MD5.
* Replies are parsed with lxml with DTDs refused outright and entities never
  resolved or fetched; JSON replies must be an object. Anything else is a
  ``ProtocolError`` carrying the HTTP status and the first bytes of the body.
* A send's failure is returned (``HttpSendResult``), like SOAP's; the queries
  (balance, reports, uplinks, password) raise the matching ``IpyyError``
  subclass, since they have no partial outcome to look at.
* Retries: a send is never retried (a retry after a lost reply can charge
  twice). Reports and uplinks are handed out once by the server, so retrying
  after a read timeout could silently drop what the lost reply carried. The
  other calls are therefore retried only when the connection could not be
  made at all (refused, DNS, connect timeout) -- then nothing reached the
  server and a retry is safe. The balance query changes nothing, so it is
  also retried when the connection broke after it was made (a reset, a kept-alive
  connection the server had just closed); not after a read timeout (that
  would multiply the wait). The rule itself is ``_wire.retry_delay``.
* Passwords and new passwords, plain or MD5, never appear in exception
  messages, bodies or reprs (``_masking.Secrets``), whatever the server echoed.
* One implementation for both flavours: ``HttpWire`` builds each request as a
  ``Call`` and reads its reply; ``HttpClient`` posts it with requests,
  ``ipyy_client.aio.AsyncHttpClient`` with httpx. Nothing else differs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

import requests
from lxml import etree

from ipyy_client._common import DEFAULT_BASE_URL, DEFAULT_ZONE, check_base_url, join_msisdns
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
from ipyy_client.encoding import encode_content, md5_password
from ipyy_client.errors import IpyyError, ProtocolError, ReportsNotAllowed, VendorError, error_for
from ipyy_client.results import (
    MSG_EMPTY_CREDENTIALS,
    MSG_REPORTS_NOT_ALLOWED,
    PAY_TYPES,
    SUCCESS_STATUSES,
    Balance,
    HttpSendResult,
    Report,
    Uplink,
    code_for_message,
)

T = TypeVar("T")
MAX_PULL = 4000
MAX_NEW_PASSWORD = 20
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
)
SEND_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
BOXES = ("statusbox", "callbox")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9]+")
_REFUSED_DTD = "reply has a DOCTYPE (refused: DTDs and entities are never processed)"
#: ``errorstatus`` numbers of the status/uplink pulls (the vendor's table); 3 is ReportsNotAllowed.
XML_ERRORS: dict[int, ResultCode] = {1: ResultCode.UserNameEmpty, 2: ResultCode.PasswordError, 4: ResultCode.ParamError}


# --- parsing, shared with push.py -------------------------------------------------------


def _zone(zone: str | tzinfo) -> tzinfo:
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def parse_xml(body: bytes, status_code: int | None = None, *, secrets: Secrets | None = None) -> etree._Element:
    """The ``<returnsms>`` root of a reply; ProtocolError for anything else.

    A DOCTYPE is refused before and after parsing (the second check catches
    encodings the byte scan cannot see); entities are never resolved and
    nothing is fetched from the network. ``secrets`` are masked in the error's
    message and body snippet.
    """
    if not body or not body.strip():
        raise _protocol("empty reply", status_code, body, secrets)
    if _DOCTYPE.search(body):
        raise _protocol(_REFUSED_DTD, status_code, body, secrets)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise _protocol(f"reply is not well-formed XML ({exc})", status_code, body, secrets) from None
    if root is None:
        raise _protocol("reply is not XML", status_code, body, secrets)
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise _protocol(_REFUSED_DTD, status_code, body, secrets)
    if not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "returnsms":
        raise _protocol(f"reply root is <{etree.QName(root).localname}>, not <returnsms>", status_code, body, secrets)
    return root


def _tag(element: etree._Element) -> str:
    return etree.QName(element).localname.lower() if isinstance(element.tag, str) else ""


def xml_fields(element: etree._Element) -> dict[str, str]:
    """Child elements as ``{lowercased tag: text}``; the first occurrence of a tag wins."""
    out: dict[str, str] = {}
    for child in element:
        tag = _tag(child)
        if tag and tag not in out:
            out[tag] = "".join(child.itertext())
    return out


def parse_time(text: str | None, zone: str | tzinfo = DEFAULT_ZONE) -> datetime | None:
    """``2011-12-02 22:12:11`` (platform time) → aware datetime; None when empty, unparseable or year 1."""
    text = (text or "").strip()
    if not text:
        return None
    for fmt in TIME_FORMATS:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if moment.year <= 1:  # .NET DateTime.MinValue: "no time"
            return None
        return moment.replace(tzinfo=_zone(zone))
    return None


def _int_or_none(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if _DIGITS.fullmatch(text) else None


def report_from(fields: dict[str, str], zone: str | tzinfo = DEFAULT_ZONE) -> Report:
    """A Report from one ``statusbox``'s fields; missing or malformed fields become None / ""."""
    return Report(
        mobile=(fields.get("mobile") or "").strip(),
        task_id=_int_or_none(fields.get("taskid")),
        status=_int_or_none(fields.get("status")),
        receive_time=parse_time(fields.get("receivetime"), zone),
        errorcode=(fields.get("errorcode") or "").strip(),
        extno=(fields.get("extno") or "").strip(),
    )


def uplink_from(fields: dict[str, str], zone: str | tzinfo = DEFAULT_ZONE) -> Uplink:
    """An Uplink from one ``callbox``'s fields; the content is kept as sent (not stripped)."""
    return Uplink(
        mobile=(fields.get("mobile") or "").strip(),
        task_id=_int_or_none(fields.get("taskid")),
        content=fields.get("content") or "",
        receive_time=parse_time(fields.get("receivetime"), zone),
        extno=(fields.get("extno") or "").strip(),
    )


def boxes_from_xml(
    root: etree._Element, zone: str | tzinfo = DEFAULT_ZONE, boxes: Iterable[str] = BOXES
) -> list[Report | Uplink]:
    """The ``statusbox`` / ``callbox`` items of a ``<returnsms>``, in document order; other children are ignored."""
    wanted = set(boxes)
    items: list[Report | Uplink] = []
    for child in root:
        tag = _tag(child)
        if tag not in wanted:
            continue
        fields = xml_fields(child)
        items.append(report_from(fields, zone) if tag == "statusbox" else uplink_from(fields, zone))
    return items


def xml_error(root: etree._Element, empty_code: ResultCode = ResultCode.UserNameEmpty) -> IpyyError | None:
    """The exception an ``<errorstatus>`` (or a ``Faild`` status) in a pull reply stands for, else None."""
    for child in root:
        if _tag(child) == "errorstatus":
            fields = xml_fields(child)
            raw = (fields.get("error") or "").strip()
            number = int(raw) if _DIGITS.fullmatch(raw) else None
            return pull_error(number, fields.get("remark") or "", json_numbers=False, empty_code=empty_code)
    fields = xml_fields(root)
    if "returnstatus" in fields and fields["returnstatus"].strip().lower() not in SUCCESS_STATUSES:
        return message_error(fields.get("message") or "", empty_code)
    return None


def narrow(code: ResultCode | None, message: str, empty_code: ResultCode) -> ResultCode | None:
    """``用户名或密码不能为空`` names no single code; the caller knows which credential it left empty."""
    if code is ResultCode.UserNameEmpty and message.strip() == MSG_EMPTY_CREDENTIALS:
        return empty_code
    return code


def pull_error(
    number: int | None, remark: str, *, json_numbers: bool, empty_code: ResultCode = ResultCode.UserNameEmpty
) -> IpyyError:
    """Error number + remark of a pull reply → exception.

    ``errorstatus`` 3, or its remark (which JSON sends with ParamError's
    number), is ReportsNotAllowed. JSON numbers are ResultCode numbers and
    decide; XML numbers are the vendor's 1-4, so there the remark decides when
    it names a code (``帐户已停用`` arrives as errorstatus 2), then the number.
    """
    remark = remark.strip()
    if remark == MSG_REPORTS_NOT_ALLOWED or (not json_numbers and number == 3):
        return ReportsNotAllowed(description=remark or MSG_REPORTS_NOT_ALLOWED)
    code: ResultCode | None = None
    if json_numbers and number is not None:
        try:
            code = ResultCode.from_code(number)
        except ValueError:
            code = None
    if code is None:
        code = code_for_message(remark)
        if code is None and not json_numbers and number is not None:
            code = XML_ERRORS.get(number)
            if code is ResultCode.UserNameEmpty:
                code = empty_code
        else:
            code = narrow(code, remark, empty_code)
    if code is None or code is ResultCode.OK:
        return VendorError(f"gateway error {number if number is not None else '?'}: {remark}", description=remark)
    return error_for(code)(description=remark or code.description)


def message_error(message: str, empty_code: ResultCode = ResultCode.UserNameEmpty) -> IpyyError:
    """A ``Faild`` reply's message → exception (the two credential messages as in HTTP_MESSAGES)."""
    message = message.strip()
    code = narrow(code_for_message(message), message, empty_code)
    if code is None or code is ResultCode.OK:
        return VendorError(f"request refused: {message}", description=message)
    return error_for(code)(description=message or code.description)


def parse_json_boxes(
    body: bytes,
    box: str,
    zone: str | tzinfo = DEFAULT_ZONE,
    *,
    status_code: int | None = None,
    empty_code: ResultCode = ResultCode.UserNameEmpty,
    secrets: Secrets | None = None,
) -> list[Report | Uplink]:
    """A ``statusJsonApi`` / ``callJsonApi`` reply → items; its ``error`` other than "1" → the matching exception."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _protocol(f"reply is not JSON ({type(exc).__name__})", status_code, body, secrets) from None
    if not isinstance(data, dict):
        raise _protocol(f"JSON reply is a {type(data).__name__}, not an object", status_code, body, secrets)
    data = {str(k).lower(): v for k, v in data.items()}
    raw_error = data.get("error")
    items = data.get(box)
    if raw_error is None and items is None:
        raise _protocol(f"JSON reply has neither 'error' nor '{box}'", status_code, body, secrets)
    if raw_error is not None:
        text = str(raw_error).strip()
        if not _DIGITS.fullmatch(text):
            raise _protocol(f"JSON 'error' is not a number: {text[:40]!r}", status_code, body, secrets)
        if int(text) != ResultCode.OK.code:
            remark = data.get("remark")
            raise pull_error(int(text), "" if remark is None else str(remark), json_numbers=True, empty_code=empty_code)
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise _protocol(f"JSON '{box}' is not a list of objects", status_code, body, secrets)
    build = report_from if box == "statusbox" else uplink_from
    return [build({str(k).lower(): "" if v is None else str(v) for k, v in item.items()}, zone) for item in items]


def _protocol(what: str, status_code: int | None, body: bytes | None, secrets: Secrets | None = None) -> ProtocolError:
    return protocol_error(what, status_code, body, secrets=secrets)


# --- the wire rules of one account: requests built, replies read (both flavours) ---------------------


class HttpWire:
    """What ``HttpClient`` and ``AsyncHttpClient`` share: settings, credentials, and for each method the
    ``Call`` to post and the reading of its reply. No I/O happens here.

    ``userid`` is the vendor's enterprise id (sent, not checked on send).
    ``zone`` is the platform's time zone: report and uplink times carry no
    offset on the wire and are returned aware in this zone; a naive
    ``send_time`` is taken as platform time. ``retries`` applies to the
    read-only calls and only to failures to connect (see the module doc).
    """

    def __init__(
        self,
        account: str,
        password: str,
        userid: str = "",
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        retries: int = 2,
        zone: str | tzinfo = DEFAULT_ZONE,
        retry_backoff: float = 0.5,
    ) -> None:
        if isinstance(userid, str) and re.match(r"^https?://", userid):
            raise ValueError("the third argument is userid; pass the gateway address as base_url=...")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        if timeout is None or timeout <= 0:
            raise ValueError("timeout must be positive (a call without one could wait forever)")
        self.account = account or ""
        self._password = password or ""
        self._secrets = Secrets(self._password)
        self.userid = "" if userid is None else str(userid)
        self.base_url = check_base_url(base_url)
        self.timeout = timeout
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.zone = _zone(zone)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account={self.account!r}, userid={self.userid!r}, base_url={self.base_url!r})"

    # -- the calls ---------------------------------------------------------------

    def _send_call(
        self, mobiles: str | Iterable[str | int], content: str, send_time: datetime | None, extno: str | int | None
    ) -> Call[HttpSendResult]:
        if not isinstance(content, str):
            raise TypeError(f"content must be str, not {type(content).__name__}")
        data = self._credentials() | {
            "action": "send",
            "mobile": join_msisdns(mobiles),
            "code": "8",
            "content": encode_content(content),
            "sendTime": self._send_time(send_time),
            "extno": "" if extno is None else str(extno).strip(),
        }
        return self._call("/I18NSms.aspx", data, "send", Retry.NEVER, self._read_send)

    def _read_send(self, reply: Reply) -> HttpSendResult:
        fields = xml_fields(self._root(reply))
        if "returnstatus" not in fields:
            raise self._protocol("send reply has no <returnstatus>", reply)
        status = fields["returnstatus"].strip()
        message = (fields.get("message") or "").strip()
        ok = status.lower() in SUCCESS_STATUSES
        try:
            task_id = _int_or_none(fields.get("taskid"))
            if ok and task_id is None:
                raise ValueError("no taskID")
            return HttpSendResult(
                status=status,
                message=self._secrets.text(message),
                balance=_money(fields.get("balance")),
                task_id=task_id,
                billing_amount=_money(fields.get("billingamount")),
                success_counts=int((fields.get("successcounts") or "0").strip() or 0),
                code=None if ok else narrow(code_for_message(message), message, self._empty_code()),
                mock_warnings=mock_warnings(reply),
            )
        except (ValueError, InvalidOperation) as exc:
            raise self._protocol(
                f"malformed send reply ({exc}); returnstatus was {status!r}, so the send "
                f"{'was accepted' if ok else 'was refused'} -- do not resend blindly",
                reply,
            ) from None

    def _balance_call(self) -> Call[Balance]:
        data = self._credentials() | {"action": "overage"}
        return self._call("/I18NSms.aspx", data, "balance query", Retry.IDEMPOTENT, self._read_balance)

    def _read_balance(self, reply: Reply) -> Balance:
        fields = xml_fields(self._root(reply))
        status = (fields.get("returnstatus") or "").strip()
        if status.lower() not in SUCCESS_STATUSES:
            if "returnstatus" not in fields:
                raise self._protocol("overage reply has no <returnstatus>", reply)
            raise message_error(fields.get("message") or "", self._empty_code())
        payinfo = (fields.get("payinfo") or "").strip()
        try:
            amount = _money(fields.get("balance"), required=True)
        except (ValueError, InvalidOperation) as exc:
            raise self._protocol(f"malformed balance ({exc})", reply) from None
        return Balance(pay_type=PAY_TYPES.get(payinfo, payinfo), balance=amount)

    def _reports_call(self, task_id: int | None, limit: int, fmt: str) -> Call[list[Report]]:
        path = "/statusApi.aspx" if _fmt(fmt) == "xml" else "/statusJsonApi.aspx"
        data = self._credentials() | {"action": "query", "statusNum": str(_limit(limit))}
        if task_id is not None:
            if isinstance(task_id, bool) or not isinstance(task_id, int) or task_id <= 0:
                raise ValueError(f"task_id must be a positive int, not {task_id!r}")
            data["taskid"] = str(task_id)

        def read(reply: Reply) -> list[Report]:
            return [item for item in self._read_boxes(reply, "statusbox", fmt) if isinstance(item, Report)]

        return self._call(path, data, "statusbox pull", Retry.UNSENT, read)

    def _uplinks_call(self, limit: int, fmt: str) -> Call[list[Uplink]]:
        path = "/callApi.aspx" if _fmt(fmt) == "xml" else "/callJsonApi.aspx"
        data = self._credentials() | {"action": "query", "statusNum": str(_limit(limit))}

        def read(reply: Reply) -> list[Uplink]:
            return [item for item in self._read_boxes(reply, "callbox", fmt) if isinstance(item, Uplink)]

        return self._call(path, data, "callbox pull", Retry.UNSENT, read)

    def _read_boxes(self, reply: Reply, box: str, fmt: str) -> list[Report | Uplink]:
        if fmt == "json":
            self._expect_200(reply)
            return parse_json_boxes(
                reply.content,
                box,
                self.zone,
                status_code=reply.status_code,
                empty_code=self._empty_code(),
                secrets=self._secrets,
            )
        root = self._root(reply)
        error = xml_error(root, self._empty_code())
        if error is not None:
            raise error
        return boxes_from_xml(root, self.zone, (box,))

    def _password_call(self, new: str) -> Call[None]:
        if not isinstance(new, str) or not 1 <= len(new) <= MAX_NEW_PASSWORD:
            raise ValueError(f"the new password must be 1-{MAX_NEW_PASSWORD} characters")
        self._secrets.add(new)  # masked from now on, whether or not the change goes through
        data = self._credentials() | {"newpassword": new}

        def read(reply: Reply) -> None:
            fields = xml_fields(self._root(reply))
            if "returnstatus" not in fields:
                raise self._protocol("pwd reply has no <returnstatus>", reply)
            if fields["returnstatus"].strip().lower() not in SUCCESS_STATUSES:
                raise message_error(fields.get("message") or "", self._empty_code())
            self._password = new

        return self._call("/pwd.aspx", data, "password change", Retry.UNSENT, read)

    # -- helpers -------------------------------------------------------------------

    def _call(self, path: str, form: dict[str, str], what: str, retry: Retry, read: Callable[[Reply], T]) -> Call[T]:
        url = self.base_url + path
        return Call(
            url=url,
            what=what,
            read=guarded(read, self._secrets),
            form=form,
            retry=retry,
            failed=failed_call(url=url, base_url=self.base_url, what=what, timeout=self.timeout, secrets=self._secrets),
        )

    def _credentials(self) -> dict[str, str]:
        # An empty password stays empty (its MD5 is not), so the server can say "empty".
        return {
            "userid": self.userid,
            "account": self.account,
            "password": md5_password(self._password) if self._password else "",
        }

    def _empty_code(self) -> ResultCode:
        """Which code ``用户名或密码不能为空`` means: this client knows whether its name was empty."""
        return ResultCode.PasswordEmpty if self.account.strip() and not self._password else ResultCode.UserNameEmpty

    def _send_time(self, send_time: datetime | None) -> str:
        if send_time is None:
            return ""
        if not isinstance(send_time, datetime):
            raise TypeError(f"send_time must be a datetime or None, not {type(send_time).__name__}")
        if send_time.tzinfo is not None and send_time.utcoffset() is not None:
            send_time = send_time.astimezone(self.zone).replace(tzinfo=None)
        return send_time.strftime(SEND_TIME_FORMAT)

    def _expect_200(self, reply: Reply) -> None:
        if reply.status_code != 200:
            raise self._protocol(f"unexpected HTTP status{redirect_note(reply)}", reply)

    def _root(self, reply: Reply) -> etree._Element:
        self._expect_200(reply)
        return parse_xml(reply.content, reply.status_code, secrets=self._secrets)

    def _protocol(self, what: str, reply: Reply) -> ProtocolError:
        return protocol_error(
            what,
            reply.status_code,
            reply.content,
            content_type=reply.headers.get("Content-Type", "?"),
            secrets=self._secrets,
        )


# --- the sync client -----------------------------------------------------------------------------------


class HttpClient(HttpWire):
    """A client of one account on the vendor's HTTP interface (``<base_url>/I18NSms.aspx`` and friends).

    >>> with HttpClient("demo", "demo123", base_url="http://127.0.0.1:8080") as c:   # doctest: +SKIP
    ...     c.send(["8613800138000"], "验证码 1234【华信】").raise_for_status().task_id
    ...     c.status_reports()

    See ``HttpWire`` for the options. ``session`` lets you share a
    ``requests.Session``; one passed in is left open by ``close()``, one
    created here is closed. The async twin is ``ipyy_client.aio.AsyncHttpClient``.
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

    def send(
        self,
        mobiles: str | Iterable[str | int],
        content: str,
        send_time: datetime | None = None,
        extno: str | int | None = None,
    ) -> HttpSendResult:
        """``I18NSms.aspx?action=send``: numbers with country code (``8613800138000``), ``code=8``.

        ``send_time``: None sends now; a naive datetime is platform time, an
        aware one is converted to it. A failure comes back as a result with
        ``ok`` False (``raise_for_status()`` raises it). Never retried: after a
        lost reply the platform may already have charged and queued the send.
        """
        return self._transport.run(self._send_call(mobiles, content, send_time, extno))

    def balance(self) -> Balance:
        """``I18NSms.aspx?action=overage``: pay type and balance. Raises the matching IpyyError on refusal."""
        return self._transport.run(self._balance_call())

    def status_reports(
        self, task_id: int | None = None, limit: int = MAX_PULL, fmt: Literal["xml", "json"] = "xml"
    ) -> list[Report]:
        """Pull delivery reports (``statusApi.aspx`` / ``statusJsonApi.aspx``), oldest first, at most ``limit``.

        The server hands each report out once: what this call returns is gone
        from the queue. So it is retried only when no connection was made; a
        read timeout raises TransportError and whatever that reply carried is lost.
        """
        return self._transport.run(self._reports_call(task_id, limit, fmt))

    def uplinks(self, limit: int = MAX_PULL, fmt: Literal["xml", "json"] = "xml") -> list[Uplink]:
        """Pull uplinks (MO replies; ``callApi.aspx`` / ``callJsonApi.aspx``), oldest first; each handed out once.

        Retried only when no connection was made, like ``status_reports``.
        """
        return self._transport.run(self._uplinks_call(limit, fmt))

    def change_password(self, new: str) -> None:
        """``pwd.aspx``: set a new password (1-20 characters) for HTTP and SOAP alike.

        On success this client uses the new password from now on. Retried only
        when no connection was made (a retry after a lost reply would present
        the old password to an account that already has the new one).
        """
        self._transport.run(self._password_call(new))

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        self._transport.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _money(text: str | None, *, required: bool = False) -> Decimal:
    text = (text or "").strip()
    if not text:
        if required:
            raise ValueError("empty amount")
        return Decimal("0")
    value = Decimal(text)
    if not value.is_finite():
        raise ValueError(f"not an amount: {text[:20]!r}")
    return value


def _fmt(fmt: str) -> str:
    if fmt not in ("xml", "json"):
        raise ValueError(f"fmt must be 'xml' or 'json', not {fmt!r}")
    return fmt


def _limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PULL:
        raise ValueError(f"limit must be an int from 1 to {MAX_PULL}, not {limit!r}")
    return limit
