"""What the gateway answers, as plain values: send results (SOAP, HTTP, domestic), balance, reports, uplinks.

Why a plain value instead of raising: a non-OK reply is still a reply (the
vendor never uses SOAP Faults for business errors), and a partly accepted send
(some numbers blacklisted) is OK *and* carries per-recipient errors. The caller
decides; ``raise_for_status()`` is there for those who want exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Self

from ipyy_client.codes import ResultCode
from ipyy_client.errors import VendorError, error_for


@dataclass(frozen=True)
class MockWarning:
    """A conformance warning the offline mock recorded for the request (``X-Ipyy-Mock-Warnings``): the request
    worked there but deviates from the vendor's document, and the real gateway may answer it differently.
    The vendor sends no such header, so against it every result's ``mock_warnings`` is empty."""

    code: str
    detail: str
    fix: str = ""

    def text(self) -> str:
        """One line: the code, what was found, what to do."""
        return f"{self.code}: {self.detail}" + (f". {self.fix}" if self.fix else "")


#: The prefix the mock's strict mode gives the line it adds to ``errors`` (a refusal by rule, not a recipient).
STRICT_PREFIX = "strict:"


@dataclass(frozen=True)
class SendResult:
    """A SOAP send reply (``SendResultBase``: a ``SendResult`` or an ``I18NSendResult``). Money is Decimal.

    Every member of the vendor's type is here (docs/contract.md §2 says what each means and what the mock
    puts in the ones the vendor never documented). ``msg_id`` is the wire's string, None when the reply has
    none (a refusal); ``task_id`` is it as a number, as reports carry it.
    """

    status: ResultCode
    description: str
    msg_id: str | None
    balance: Decimal
    billing_amount: Decimal
    billing_count: int
    #: One ``"<msisdn>:<ResultCodeName>"`` line per recipient that was left out.
    errors: tuple[str, ...] = field(default=())
    #: Recipients accepted (``SuccessCounts``).
    success_counts: int = 0
    #: ``Amount``: the account's balance in points (whole messages), as the vendor's demos print it.
    amount: int = 0
    #: ``PayType``: how the account pays (the mock: 1 prepaid, 2 postpaid, 0 not authenticated).
    pay_type: int = 0
    custom_id: str | None = None
    #: ``Mark``: only an ``I18NSendResult`` has it.
    mark: str | None = None
    #: ``AlterSendResult``: a second result the platform may attach (never seen filled).
    alter_send_result: SendResult | None = None
    #: The reply's ``xsi:type`` (``SendResult`` or ``I18NSendResult``; the declared type when there is none).
    result_type: str = "SendResult"
    #: What the offline mock warned about this send (never sent by the vendor).
    mock_warnings: tuple[MockWarning, ...] = ()

    def __post_init__(self) -> None:
        # Accept any iterable (zeep hands lists) but keep the value immutable.
        object.__setattr__(self, "errors", tuple(self.errors))
        object.__setattr__(self, "mock_warnings", tuple(self.mock_warnings))

    @property
    def ok(self) -> bool:
        return self.status is ResultCode.OK

    @property
    def task_id(self) -> int | None:
        """The task id as a number (``MsgId`` on SOAP, ``taskID`` on HTTP, ``taskid`` in reports); None when
        the reply has no MsgId or one that is not a decimal number."""
        text = (self.msg_id or "").strip()
        return int(text) if text.isascii() and text.isdigit() else None

    def raise_for_status(self) -> "SendResult":
        """Raise the exception named after ``status`` unless it is OK; return self so calls chain."""
        if self.ok:
            return self
        raise error_for(self.status)(result=self)

    @property
    def strict_refusals(self) -> list[str]:
        """The rules the mock's strict mode refused this send by, one line each (``signature-at-start: ...``):
        the ``strict:`` lines of ``errors``, which name a rule, not a recipient."""
        return [line[len(STRICT_PREFIX) :].strip() for line in self.errors if line.startswith(STRICT_PREFIX)]

    def recipient_errors(self) -> list[tuple[str, ResultCode | None]]:
        """The left-out recipients as ``(msisdn, ResultCode)`` pairs.

        A code name this client does not know is still a ``ResultCode`` (not ``known``; the vendor adds
        codes); a line that names no code at all gives ``None`` rather than failing: the send itself has
        happened and must stay readable. The mock's strict-mode lines are no recipient: see
        ``strict_refusals``.
        """
        pairs: list[tuple[str, ResultCode | None]] = []
        for line in self.errors:
            if line.startswith(STRICT_PREFIX):
                continue
            msisdn, sep, name = line.rpartition(":")
            if not sep:
                pairs.append((line.strip(), None))
                continue
            name = name.strip()
            pairs.append((msisdn.strip(), ResultCode(name) if name.isidentifier() else None))
        return pairs


# --- the HTTP interface (I18NSms.aspx, statusApi.aspx, callApi.aspx, pwd.aspx) ----------

#: ``returnstatus`` values meaning success: the send reply says ``Success``, pwd.aspx ``Sucess`` (sic).
SUCCESS_STATUSES = frozenset({"success", "sucess"})

#: The HTTP interface's own messages, which are not ResultCode descriptions.
#: The credential messages merge two codes each; ``用户名或密码不能为空`` maps to
#: UserNameEmpty here and the client narrows it to PasswordEmpty when it knows
#: its account name was not empty. ``用户名或密码错误`` maps to PasswordError:
#: the client cannot tell a wrong name from a wrong password, and a wrong
#: password is the usual cause (e.g. after a pwd.aspx change elsewhere).
HTTP_MESSAGES: dict[str, ResultCode] = {
    "操作成功": ResultCode.OK,
    "成功": ResultCode.OK,
    "用户名或密码不能为空": ResultCode.UserNameEmpty,
    "用户名或密码错误": ResultCode.PasswordError,
    "密码错了": ResultCode.PasswordError,
    "参数不正确": ResultCode.ParamError,
}
MSG_EMPTY_CREDENTIALS = "用户名或密码不能为空"
#: The remark of ``errorstatus`` 3; it has no ResultCode (see errors.ReportsNotAllowed).
MSG_REPORTS_NOT_ALLOWED = "该用户不允许查看状态报告"
_BY_DESCRIPTION = sorted(((c.description, c) for c in ResultCode), key=lambda pair: -len(pair[0]))


def code_for_message(message: str | None) -> ResultCode | None:
    """The ResultCode an HTTP ``message`` / ``remark`` names, or None when it names none.

    Exact matches first (the HTTP messages, then the ResultCode descriptions);
    then a message that starts with a description (the vendor's table has
    longer texts such as ``UserId参数错误，该值必需要是数字…``), longest first.
    """
    text = (message or "").strip()
    if not text:
        return None
    if text in HTTP_MESSAGES:
        return HTTP_MESSAGES[text]
    for description, code in _BY_DESCRIPTION:
        if text == description:
            return code
    for description, code in _BY_DESCRIPTION:
        if text.startswith(description):
            return code
    return None


def send_code(ok: bool, message: str) -> ResultCode | None:
    """The ResultCode of an HTTP send reply, which carries only a status and a message."""
    if ok:
        return ResultCode.OK
    derived = code_for_message(message)
    return None if derived is ResultCode.OK else derived  # "Faild" with 操作成功 is no success: no code


class _StatusMessageReply:
    """What the HTTP and domestic send replies share: they carry only ``returnstatus`` and ``message``, so
    success, the ResultCode and the exception to raise are all read from those two."""

    status: str
    message: str
    task_id: int | None
    code: ResultCode | None

    def __post_init__(self) -> None:
        if self.code is None:
            object.__setattr__(self, "code", send_code(self.ok, self.message))

    @property
    def ok(self) -> bool:
        return self.status.strip().lower() in SUCCESS_STATUSES

    @property
    def description(self) -> str:
        """The same as ``message`` (the name SendResult and IpyyError use)."""
        return self.message

    @property
    def msg_id(self) -> int | None:
        """The same as ``task_id`` (SOAP calls it MsgId)."""
        return self.task_id

    @property
    def errors(self) -> tuple[str, ...]:
        """Always empty: these send replies name no left-out recipients."""
        return ()

    def raise_for_status(self) -> Self:
        """Raise the exception named after ``code`` unless the send succeeded; return self so calls chain.

        A failure whose message names no known code raises a plain ``VendorError``.
        """
        if self.ok:
            return self
        if self.code is None or self.code is ResultCode.OK:
            raise VendorError(f"send failed ({self.status}): {self.message}", description=self.message)
        raise error_for(self.code)(result=self)  # type: ignore[arg-type]


@dataclass(frozen=True)
class HttpSendResult(_StatusMessageReply):
    """The ``I18NSms.aspx?action=send`` reply. Money is Decimal, never float.

    ``code`` is derived from ``message`` (the HTTP reply carries no code) unless
    given; it is None for a message this client does not know.
    """

    #: ``returnstatus`` as sent: ``Success`` or ``Faild``.
    status: str
    message: str
    balance: Decimal
    task_id: int | None
    billing_amount: Decimal
    success_counts: int
    code: ResultCode | None = None
    #: What the offline mock warned about this send (never sent by the vendor).
    mock_warnings: tuple[MockWarning, ...] = ()


PAY_TYPES = {"预付费": "prepaid", "后付费": "postpaid"}


@dataclass(frozen=True)
class Balance:
    """The ``action=overage`` reply: ``pay_type`` is ``prepaid`` or ``postpaid`` (or the vendor's text if neither)."""

    pay_type: str
    balance: Decimal


# --- the domestic interface (sms.aspx, smsJson.aspx) -------------------------------------


@dataclass(frozen=True)
class DomesticSendResult(_StatusMessageReply):
    """The ``sms.aspx`` / ``smsJson.aspx`` ``action=send`` reply.

    A domestic account counts points (messages), not money, so there is no
    amount here: ``remain_points`` is what is left after the send (the
    vendor's ``remainpoint``; ``0`` in a refusal). ``code`` is derived from
    ``message`` unless given, as for ``HttpSendResult``.
    """

    #: ``returnstatus`` as sent: ``Success`` or ``Faild``.
    status: str
    message: str
    remain_points: int
    task_id: int | None
    success_counts: int
    code: ResultCode | None = None
    #: What the offline mock warned about this send (never sent by the vendor).
    mock_warnings: tuple[MockWarning, ...] = ()


@dataclass(frozen=True)
class PointsBalance:
    """The domestic ``action=overage`` reply: points (messages), not money.

    ``points`` is the vendor's ``overage`` (points left), ``send_total`` its
    ``sendTotal`` (points recharged in total, for a prepaid account);
    ``pay_type`` as in ``Balance``.
    """

    pay_type: str
    points: int
    send_total: int


@dataclass(frozen=True)
class Report:
    """One delivery report (``statusbox``), pulled or pushed.

    ``receive_time`` is aware, in the platform's zone (the wire has no offset);
    None when the reply has none or the .NET "no time" ``0001-01-01 00:00:00``.
    Fields the reply leaves out are None / "" (the vendor's own JSON sample
    has no ``status`` nor ``extno``): a pulled report is gone from the server,
    so a sparse one is kept rather than refused.
    """

    mobile: str
    task_id: int | None
    #: 10 delivered, 20 failed (None when the reply has no usable status).
    status: int | None
    receive_time: datetime | None
    errorcode: str = ""
    extno: str = ""

    @property
    def delivered(self) -> bool:
        return self.status == 10


@dataclass(frozen=True)
class Uplink:
    """One mobile-originated reply (``callbox``), pulled or pushed; ``task_id`` is the task last sent to that number."""

    mobile: str
    task_id: int | None
    content: str
    receive_time: datetime | None
    extno: str = ""
