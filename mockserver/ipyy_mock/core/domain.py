"""Wire-neutral request and outcome objects that every surface translates to and from.

The SOAP service and the HTTP API both build a SendRequest from their own wire
format, hand it to ``Platform.send`` and translate the SendOutcome back; no send
rule lives in a surface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ipyy_client.codes import ResultCode
from ipyy_mock.core.conformance import ConformanceWarning


@dataclass
class SendRequest:
    account: str | None
    password: str | None = field(repr=False)  # never in a repr (logs, tracebacks)
    msisdns: str | None
    content: str | None
    plan_send_time: datetime | None = None  # naive = platform time zone
    ext_number: str | None = None
    hybrid: bool = False  # SendHybridSms: Chinese domestic 11-digit numbers allowed
    client_ip: str = ""
    via: str = "soap11"  # "soap11", "soap12", "http" or "domestic": recorded on the task, decides strict auth
    product: str = "sms"  # "sms", or a product the mock's accounts do not have ("mms": SendMms, "hybrid-send")
    param_error: str | None = None  # the surface could not translate a parameter: ParamError after the account checks
    warnings: list[ConformanceWarning] = field(default_factory=list)  # what the surface found off the document
    #: The fault decision for this send (an injected ``code`` fault): asked by ``Platform.send`` right after
    #: authentication, so a counted fault counts only sends that reach it; a result code to refuse with (nothing
    #: charged) or None. The surface hands on what the fault middleware put on the request's Exchange; None (no
    #: fault injection, in-process use): never forced. A callable, not a code: deciding consumes the fault.
    fault: Callable[[], ResultCode | None] | None = field(default=None, repr=False, compare=False)


@dataclass
class SendOutcome:
    code: ResultCode
    task_id: int = 0
    balance: Decimal = Decimal("0")
    billing_amount: Decimal = Decimal("0")
    billing_count: int = 0
    success_count: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[ConformanceWarning] = field(default_factory=list)  # the surface's and the core's, in order
    strict_refusal: ConformanceWarning | None = None  # strict mode refused the send for this warning
    pay_type: str | None = None  # the authenticated account's ("prepaid" / "postpaid"); None before authentication
    points: int = 0  # ``balance`` in whole points at the account's price (core/points.py); 0 before authentication

    @property
    def ok(self) -> bool:
        return self.code is ResultCode.OK


@dataclass(frozen=True)
class Report:
    """One delivery report as the pull (and push) replies carry it."""

    mobile: str
    task_id: int
    status: int  # 10 delivered, 20 failed
    receive_time: datetime  # aware, platform zone
    errorcode: str
    extno: str


@dataclass(frozen=True)
class Uplink:
    """One MO reply; task_id is the task last sent to that number, or None."""

    mobile: str
    task_id: int | None
    content: str
    receive_time: datetime
    extno: str
