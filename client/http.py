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
  would multiply the wait).
* Passwords, plain or MD5, never appear in exception messages or reprs.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

import requests
from lxml import etree

from ipyy_client._common import (
    DEFAULT_BASE_URL,
    DEFAULT_ZONE,
    check_base_url,
    join_msisdns,
    package_version,
    root_cause,
)
from ipyy_client.codes import ResultCode
from ipyy_client.encoding import encode_content, md5_password
from ipyy_client.errors import IpyyError, ProtocolError, ReportsNotAllowed, TransportError, VendorError, error_for
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
_BODY_SNIPPET = 300
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9]+")
#: ``errorstatus`` numbers of the status/uplink pulls (the vendor's table); 3 is ReportsNotAllowed.
XML_ERRORS: dict[int, ResultCode] = {1: ResultCode.UserNameEmpty, 2: ResultCode.PasswordError, 4: ResultCode.ParamError}


# --- parsing, shared with push.py -------------------------------------------------------


def _zone(zone: str | tzinfo) -> tzinfo:
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def parse_xml(body: bytes, status_code: int | None = None) -> etree._Element:
    """The ``<returnsms>`` root of a reply; ProtocolError for anything else.

    A DOCTYPE is refused before and after parsing (the second check catches
    encodings the byte scan cannot see); entities are never resolved and
    nothing is fetched from the network.
    """
    if not body or not body.strip():
        raise _protocol("empty reply", status_code, body)
    if _DOCTYPE.search(body):
        raise _protocol("reply has a DOCTYPE (refused: DTDs and entities are never processed)", status_code, body)
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
        raise _protocol(f"reply is not well-formed XML ({exc})", status_code, body) from None
    if root is None:
        raise _protocol("reply is not XML", status_code, body)
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise _protocol("reply has a DOCTYPE (refused: DTDs and entities are never processed)", status_code, body)
    if not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "returnsms":
        raise _protocol(f"reply root is <{etree.QName(root).localname}>, not <returnsms>", status_code, body)
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
) -> list[Report | Uplink]:
    """A ``statusJsonApi`` / ``callJsonApi`` reply → items; its ``error`` other than "1" → the matching exception."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _protocol(f"reply is not JSON ({type(exc).__name__})", status_code, body) from None
    if not isinstance(data, dict):
        raise _protocol(f"JSON reply is a {type(data).__name__}, not an object", status_code, body)
    data = {str(k).lower(): v for k, v in data.items()}
    raw_error = data.get("error")
    items = data.get(box)
    if raw_error is None and items is None:
        raise _protocol(f"JSON reply has neither 'error' nor '{box}'", status_code, body)
    if raw_error is not None:
        text = str(raw_error).strip()
        if not _DIGITS.fullmatch(text):
            raise _protocol(f"JSON 'error' is not a number: {text[:40]!r}", status_code, body)
        if int(text) != ResultCode.OK.code:
            remark = data.get("remark")
            raise pull_error(int(text), "" if remark is None else str(remark), json_numbers=True, empty_code=empty_code)
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise _protocol(f"JSON '{box}' is not a list of objects", status_code, body)
    build = report_from if box == "statusbox" else uplink_from
    return [build({str(k).lower(): "" if v is None else str(v) for k, v in item.items()}, zone) for item in items]


def _protocol(what: str, status_code: int | None, body: bytes | None) -> ProtocolError:
    snippet = (body or b"")[:_BODY_SNIPPET]
    message = what
    if status_code is not None:
        message = f"HTTP {status_code}: {what}"
    text = snippet.decode("utf-8", "replace").strip()
    if text:
        message += f"; body starts: {text[:120]!r}"
    return ProtocolError(message, status_code=status_code, body=snippet)


# --- the client -----------------------------------------------------------------------


class HttpClient:
    """A client of one account on the vendor's HTTP interface (``<base_url>/I18NSms.aspx`` and friends).

    >>> with HttpClient("demo", "demo123", base_url="http://127.0.0.1:8080") as c:   # doctest: +SKIP
    ...     c.send(["8613800138000"], "验证码 1234【华信】").raise_for_status().task_id
    ...     c.status_reports()

    ``userid`` is the vendor's enterprise id (sent, not checked on send).
    ``zone`` is the platform's time zone: report and uplink times carry no
    offset on the wire and are returned aware in this zone; a naive
    ``send_time`` is taken as platform time. ``retries`` applies to the
    read-only calls and only to failures to connect (see the module doc).
    ``session`` lets you share a ``requests.Session``; one passed in is left
    open by ``close()``, one created here is closed.
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
        if isinstance(userid, str) and re.match(r"^https?://", userid):
            raise ValueError("the third argument is userid; pass the gateway address as base_url=...")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.account = account or ""
        self._password = password or ""
        self.userid = "" if userid is None else str(userid)
        self.base_url = check_base_url(base_url)
        self.timeout = timeout
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.zone = _zone(zone)
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        if self._owns_session:
            self._session.headers["User-Agent"] = f"ipyy-sms/{package_version()} {self._session.headers['User-Agent']}"

    # -- public API ------------------------------------------------------------

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
        response = self._post("/I18NSms.aspx", data, retry=False, what="send")
        root = parse_xml(response.content, response.status_code)
        fields = xml_fields(root)
        if "returnstatus" not in fields:
            raise self._protocol("send reply has no <returnstatus>", response)
        status = fields["returnstatus"].strip()
        message = (fields.get("message") or "").strip()
        ok = status.lower() in SUCCESS_STATUSES
        try:
            task_id = _int_or_none(fields.get("taskid"))
            if ok and task_id is None:
                raise ValueError("no taskID")
            result = HttpSendResult(
                status=status,
                message=self._scrub(message),
                balance=_money(fields.get("balance")),
                task_id=task_id,
                billing_amount=_money(fields.get("billingamount")),
                success_counts=int((fields.get("successcounts") or "0").strip() or 0),
                code=None if ok else narrow(code_for_message(message), message, self._empty_code()),
            )
        except (ValueError, InvalidOperation) as exc:
            raise self._protocol(
                f"malformed send reply ({exc}); returnstatus was {status!r}, so the send "
                f"{'was accepted' if ok else 'was refused'} -- do not resend blindly",
                response,
            ) from None
        return result

    def balance(self) -> Balance:
        """``I18NSms.aspx?action=overage``: pay type and balance. Raises the matching IpyyError on refusal."""
        data = self._credentials() | {"action": "overage"}
        response = self._post("/I18NSms.aspx", data, retry="idempotent", what="balance query")
        fields = xml_fields(parse_xml(response.content, response.status_code))
        status = (fields.get("returnstatus") or "").strip()
        if status.lower() not in SUCCESS_STATUSES:
            if "returnstatus" not in fields:
                raise self._protocol("overage reply has no <returnstatus>", response)
            raise self._scrubbed(message_error(fields.get("message") or "", self._empty_code()))
        payinfo = (fields.get("payinfo") or "").strip()
        try:
            amount = _money(fields.get("balance"), required=True)
        except (ValueError, InvalidOperation) as exc:
            raise self._protocol(f"malformed balance ({exc})", response) from None
        return Balance(pay_type=PAY_TYPES.get(payinfo, payinfo), balance=amount)

    def status_reports(
        self, task_id: int | None = None, limit: int = MAX_PULL, fmt: Literal["xml", "json"] = "xml"
    ) -> list[Report]:
        """Pull delivery reports (``statusApi.aspx`` / ``statusJsonApi.aspx``), oldest first, at most ``limit``.

        The server hands each report out once: what this call returns is gone
        from the queue. So it is retried only when no connection was made; a
        read timeout raises TransportError and whatever that reply carried is lost.
        """
        path = "/statusApi.aspx" if _fmt(fmt) == "xml" else "/statusJsonApi.aspx"
        data = self._credentials() | {"action": "query", "statusNum": str(_limit(limit))}
        if task_id is not None:
            if isinstance(task_id, bool) or not isinstance(task_id, int) or task_id <= 0:
                raise ValueError(f"task_id must be a positive int, not {task_id!r}")
            data["taskid"] = str(task_id)
        return self._pull(path, data, "statusbox", fmt)  # type: ignore[return-value]

    def uplinks(self, limit: int = MAX_PULL, fmt: Literal["xml", "json"] = "xml") -> list[Uplink]:
        """Pull uplinks (MO replies; ``callApi.aspx`` / ``callJsonApi.aspx``), oldest first; each handed out once.

        Retried only when no connection was made, like ``status_reports``.
        """
        path = "/callApi.aspx" if _fmt(fmt) == "xml" else "/callJsonApi.aspx"
        data = self._credentials() | {"action": "query", "statusNum": str(_limit(limit))}
        return self._pull(path, data, "callbox", fmt)  # type: ignore[return-value]

    def change_password(self, new: str) -> None:
        """``pwd.aspx``: set a new password (1-20 characters) for HTTP and SOAP alike.

        On success this client uses the new password from now on. Retried only
        when no connection was made (a retry after a lost reply would present
        the old password to an account that already has the new one).
        """
        if not isinstance(new, str) or not 1 <= len(new) <= MAX_NEW_PASSWORD:
            raise ValueError(f"the new password must be 1-{MAX_NEW_PASSWORD} characters")
        data = self._credentials() | {"newpassword": new}
        response = self._post("/pwd.aspx", data, retry=True, what="password change", secrets=(new,))
        fields = xml_fields(parse_xml(response.content, response.status_code))
        if "returnstatus" not in fields:
            raise self._protocol("pwd reply has no <returnstatus>", response, secrets=(new,))
        if fields["returnstatus"].strip().lower() not in SUCCESS_STATUSES:
            raise self._scrubbed(message_error(fields.get("message") or "", self._empty_code()), (new,))
        self._password = new

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"HttpClient(account={self.account!r}, userid={self.userid!r}, base_url={self.base_url!r})"

    # -- internals -------------------------------------------------------------

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

    def _pull(self, path: str, data: dict[str, str], box: str, fmt: str) -> list[Report | Uplink]:
        response = self._post(path, data, retry=True, what=f"{box} pull")
        try:
            if fmt == "json":
                return parse_json_boxes(
                    response.content, box, self.zone, status_code=response.status_code, empty_code=self._empty_code()
                )
            root = parse_xml(response.content, response.status_code)
            error = xml_error(root, self._empty_code())
            if error is not None:
                raise error
            return boxes_from_xml(root, self.zone, (box,))
        except IpyyError as exc:
            raise self._scrubbed(exc) from None

    def _post(
        self, path: str, data: dict[str, str], *, retry: bool | str, what: str, secrets: tuple[str, ...] = ()
    ) -> requests.Response:
        """``retry``: False, True (only when nothing was sent) or "idempotent" (also after a broken connection)."""
        url = self.base_url + path
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            try:
                response = self._session.post(url, data=data, timeout=self.timeout, allow_redirects=False)
            except requests.RequestException as exc:
                unsent = _never_sent(exc)
                broken = (
                    retry == "idempotent"
                    and isinstance(exc, requests.ConnectionError)  # [reliability]
                    and not isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.ProxyError))
                )
                if (unsent or broken) and attempt + 1 < attempts:
                    time.sleep(self.retry_backoff * (2**attempt))
                    continue
                raise self._transport_error(exc, url, what, unsent, attempt + 1) from None
            break
        if response.status_code != 200:
            where = response.headers.get("Location")
            extra = (
                f" (redirected to {where}; use that base URL)" if where and 300 <= response.status_code < 400 else ""
            )
            raise self._protocol(f"unexpected HTTP status from {url}{extra}", response, secrets=secrets)
        return response

    def _transport_error(
        self, exc: requests.RequestException, url: str, what: str, unsent: bool, tries: int
    ) -> TransportError:
        cause = self._scrub(root_cause(exc))
        if unsent:
            tried = f" (tried {tries} times)" if tries > 1 else ""
            return TransportError(
                f"cannot connect to {url}: {cause}{tried}. Check the base URL ({self.base_url}) and that the "
                "server is running (for the offline mock: `ipyy-mock serve`)."
            )
        if isinstance(exc, requests.Timeout):
            if what == "send":
                after = "The send may or may not have reached the platform; it was not retried."
            elif what.endswith("pull"):
                after = (
                    "The server may have handed out items in the lost reply (each is handed out once); "
                    "it was not retried."
                )
            else:
                after = "It was not retried."
            return TransportError(f"no reply from {url} within {self.timeout:g}s ({cause}). {after}")
        if isinstance(exc, requests.exceptions.SSLError):
            return TransportError(f"TLS failure talking to {url}: {cause}")
        return TransportError(f"{what} to {url} failed: {cause}")

    def _protocol(self, what: str, response: requests.Response, secrets: tuple[str, ...] = ()) -> ProtocolError:
        ctype = response.headers.get("Content-Type", "?")
        return self._scrubbed(_protocol(f"{what} ({ctype})", response.status_code, response.content), secrets)

    def _secrets(self, extra: tuple[str, ...] = ()) -> list[str]:
        found = [s for s in (self._password, *extra) if s and len(s) >= 3]
        found += [md5_password(s) for s in list(found)]
        found += [s.lower() for s in found if s != s.lower()]
        return found

    def _scrub(self, text: str, extra: tuple[str, ...] = ()) -> str:
        """Remove the password (plain or MD5) from text that echoes server content."""
        for secret in self._secrets(extra):
            text = text.replace(secret, "***")
        return text

    def _scrubbed(self, exc: IpyyError, extra: tuple[str, ...] = ()) -> Any:
        """The same exception with the password scrubbed from its message, description and body."""
        secrets = self._secrets(extra)
        if not secrets:
            return exc
        exc.args = tuple(self._scrub(a, extra) if isinstance(a, str) else a for a in exc.args)
        exc.description = self._scrub(exc.description or "", extra)
        body = getattr(exc, "body", None)
        if isinstance(body, bytes):
            for secret in secrets:
                body = body.replace(secret.encode("utf-8"), b"***")
            exc.body = body  # type: ignore[attr-defined]
        return exc


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


def _never_sent(exc: BaseException) -> bool:
    """True when the request cannot have reached the server: the connection itself failed.

    A read timeout, a reset after connecting or a TLS failure are not
    counted: the request (or part of it) may have been sent.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or isinstance(
        exc, (requests.exceptions.SSLError, requests.exceptions.ProxyError)
    ):
        return False
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (NewConnectionError, ConnectTimeoutError)):
            return True
        if isinstance(item, BaseException):
            stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None), *item.args])
    return False
