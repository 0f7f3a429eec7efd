"""One scenario for every client generated from the served WSDL: the same calls, and what the mock must answer.

Why one scenario: each stack (Mono's ``wsdl``, Axis's ``WSDL2Java``, zeep,
suds, PHP's SoapClient) reads the WSDL its own way and reads replies its own way
(``xsi:type`` on the abstract ``SendResultBase``, ``minOccurs``, ``nillable``,
member order, decimals). When all of them make the same calls and one function
checks the answers, a failure names a difference in that stack, not in its test.

The calls cover the five operations twice: with the account's password (three
sends that go out, SendMms and HybridSend that the mock refuses with NoProduct)
and with a wrong one (PasswordError everywhere). The sends go to a Chinese
number written without the country code (SendSms, SendHybridSms), a
blacklisted test number, and a number abroad at the higher price, and one of
them is scheduled, so billing, partial refusal and time handling all show.

Each runner turns its stack's results into plain dicts with the WSDL's member
names (``normalize()`` below holds the rules shared by more than one stack);
``check()`` compares them with the expected answers, then checks the books:
the account's balance and each task as the mock recorded it (admin API).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import requests

TNS = "http://www.yysms.com/"
START_BALANCE = Decimal("100.00")
POINT = Decimal("0.05")  # Amount is the balance in points of this size (docs/contract.md)
PRICE_86 = Decimal("0.05")
PRICE_ABROAD = Decimal("0.30")
OK_TEXT = "操作成功"
TEXTS = {"PasswordError": "密码错误", "NoProduct": "没有配置产品"}
WRONG_PASSWORD = "not-the-password"
BLACKLISTED = "8613800000002"

# The three result types of the schema; a runner reports under "type" which of them its stack built.
SUBTYPE = {"SendSms": "SendResult", "SendMms": "SendResult", "SendI18NSms": "I18NSendResult"}
SUBTYPE |= {"SendHybridSms": "SendResult", "HybridSend": "HybridSendResult"}


@dataclass(frozen=True)
class Call:
    """One operation as a client makes it; ``plan`` is None (``xsi:nil``) or platform time ``YYYY-MM-DDTHH:MM:SS``."""

    op: str
    user: str
    password: str
    msisdns: str
    content: str
    plan: str | None

    def argv(self) -> list[str]:
        """The six arguments the command-line drivers (Driver.cs, AxisDriver.java, php_client.php) take per call."""
        return [self.op, self.user, self.password, self.msisdns, self.content, self.plan or "-"]


@dataclass(frozen=True)
class Step:
    """A call of the scenario and the answer it must get."""

    op: str
    right_password: bool
    msisdns: str
    scheduled: bool = False
    code: str = "OK"
    accepted: int = 0
    segments: int = 0
    charged: Decimal = Decimal("0")
    refused: tuple[str, ...] = ()

    @property
    def sends(self) -> bool:
        return self.code == "OK"


STEPS: tuple[Step, ...] = (
    Step(
        "SendSms",
        True,
        f"13800138000,{BLACKLISTED}",
        accepted=1,
        segments=1,
        charged=PRICE_86,
        refused=(f"{BLACKLISTED}:MsisdnBlack",),
    ),
    Step("SendI18NSms", True, "8613800138000,447911123456", accepted=2, segments=2, charged=PRICE_86 + PRICE_ABROAD),
    Step("SendHybridSms", True, "13800138000", scheduled=True, accepted=1, segments=1, charged=PRICE_86),
    Step("SendMms", True, "13800138000", code="NoProduct"),
    Step("HybridSend", True, "13800138000", code="NoProduct"),
    Step("SendSms", False, "13800138000", code="PasswordError"),
    Step("SendI18NSms", False, "8613800138000", code="PasswordError"),
    Step("SendHybridSms", False, "13800138000", code="PasswordError"),
    Step("SendMms", False, "13800138000", code="PasswordError"),
    Step("HybridSend", False, "13800138000", code="PasswordError"),
)


def content(label: str, step: Step) -> str:
    """The text of a step's message: names the stack and the operation, Chinese, signed, one segment."""
    return f"{label} {step.op} 你好【华信】"


def tomorrow(base_url: str) -> str:
    """Tomorrow at 08:09:10 on the mock's clock (platform time), for the scheduled send."""
    clock = requests.get(base_url + "/_mock/api/clock", timeout=30)
    clock.raise_for_status()
    now = dt.datetime.fromisoformat(clock.json()["now"])
    return (now.date() + dt.timedelta(days=1)).isoformat() + "T08:09:10"


def calls(account: Any, label: str, plan: str) -> list[Call]:
    """The scenario's calls for one account; ``label`` names the stack in each message's text."""
    made = []
    for step in STEPS:
        password = account.password if step.right_password else WRONG_PASSWORD
        when = plan if step.scheduled else None
        made.append(Call(step.op, account.name, password, step.msisdns, content(label, step), when))
    return made


def points(balance: Decimal) -> int:
    return int((balance / POINT).to_integral_value(rounding=ROUND_FLOOR))


# -- normalizing a stack's values ---------------------------------------------------------------------------------
def strings(value: Any) -> list[str] | None:
    """An ArrayOfString as a list: stacks give a list, a one-item string (PHP), or a wrapper with ``string``."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        value = value.get("string")
    elif hasattr(value, "string"):
        value = value.string
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def normalize(result: Mapping[str, Any]) -> dict[str, Any]:
    """A result as ``check()`` reads it: decimals as Decimal, arrays as lists, every other member as given."""
    out = dict(result)
    for name in ("Balance", "BillingAmount"):
        if name in out:
            out[name] = decimal(out[name])
    for name in ("Errors", "ErrorsCode"):
        if name in out:
            out[name] = strings(out[name])
    return out


# -- checking ----------------------------------------------------------------------------------------------------
def _expect(problems: list[str], where: str, name: str, got: Any, want: Any) -> None:
    if got != want:
        problems.append(f"{where}: {name} is {got!r}, expected {want!r}")


def check_reply(problems: list[str], where: str, step: Step, result: Mapping[str, Any], balance: Decimal) -> None:
    """Compare one normalized result with the step's expected answer; ``balance`` is the balance after the call."""
    if "error" in result:
        problems.append(f"{where}: the call raised {result['error']}")
        return
    _expect(problems, where, "type", result.get("type"), SUBTYPE[step.op])
    _expect(problems, where, "StatusCode", result.get("StatusCode"), step.code)
    _expect(problems, where, "Description", result.get("Description"), OK_TEXT if step.sends else TEXTS[step.code])
    hybrid = step.op == "HybridSend"
    if step.sends:
        msg_id = result.get("MsgId")
        if not (isinstance(msg_id, str) and msg_id.isdigit() and int(msg_id) >= 1_000_001):
            problems.append(f"{where}: MsgId is {msg_id!r}, expected a task id (digits, at least 1000001)")
        _expect(problems, where, "PayType", result.get("PayType"), 1)
        _expect(problems, where, "SuccessCounts", result.get("SuccessCounts"), step.accepted)
        _expect(problems, where, "BillingCount", result.get("BillingCount"), step.segments)
        _expect(problems, where, "BillingAmount", result.get("BillingAmount"), step.charged)
        _expect(problems, where, "Balance", result.get("Balance"), balance)
        _expect(problems, where, "Amount", result.get("Amount"), points(balance))
        _expect(problems, where, "Errors", result.get("Errors") or [], list(step.refused))
        return
    _expect(problems, where, "MsgId", result.get("MsgId"), None)
    zeros = ["SuccessCounts", "BillingAmount"] + ([] if hybrid else ["BillingCount"])
    if step.code == "PasswordError":  # nothing is known of the account: every number is 0
        zeros += ["Amount", "JobType"] if hybrid else ["PayType", "Amount", "Balance"]
    for name in zeros:
        _expect(problems, where, name, result.get(name), 0)


def task_list(base_url: str, account: str | None = None, task_id: str | None = None) -> list[dict[str, Any]]:
    """Tasks as the mock recorded them (admin API ``GET /_mock/api/tasks``), newest first."""
    params = {key: value for key, value in (("account", account), ("task_id", task_id)) if value is not None}
    reply = requests.get(base_url + "/_mock/api/tasks", params=params, timeout=30)
    reply.raise_for_status()
    return list(reply.json()["tasks"])


def task(base_url: str, task_id: str) -> dict[str, Any] | None:
    found = task_list(base_url, task_id=task_id)
    return found[0] if found else None


def check(
    results: Sequence[Mapping[str, Any]],
    made: Sequence[Call],
    mock_server: Any,
    account: Any,
    *,
    via: str | None = None,
) -> None:
    """Check every answer of the scenario, then the books; fail once, listing every difference found.

    ``via`` is the protocol the mock must have recorded for each task
    (``soap11`` / ``soap12``). ``type`` is checked for every stack: each one
    builds the result class that ``xsi:type`` names, so a reply without it
    shows as ``SendResultBase``, an error, or (Axis) no result at all.
    """
    steps = list(STEPS)
    problems: list[str] = []
    if len(results) != len(steps):
        raise AssertionError(f"{len(results)} results for {len(steps)} calls: {results!r}")
    balance = START_BALANCE
    msg_ids = []
    for index, (step, call, raw) in enumerate(zip(steps, made, results, strict=True), 1):
        balance -= step.charged
        where = f"call {index} {step.op}{'' if step.right_password else ' (wrong password)'}"
        result = normalize(raw)
        check_reply(problems, where, step, result, balance)
        if not step.sends or "error" in result or not str(result.get("MsgId") or "").isdigit():
            continue
        msg_ids.append(result["MsgId"])
        recorded = task(mock_server.base_url, result["MsgId"])
        if recorded is None:
            problems.append(f"{where}: the mock has no task {result['MsgId']}")
            continue
        _expect(problems, where, "task content", recorded["content"], call.content)
        _expect(problems, where, "task account", recorded["account"], account.name)
        _expect(problems, where, "task recipients", recorded["recipients"], step.accepted)
        _expect(problems, where, "task billing_amount", decimal(recorded["billing_amount"]), step.charged)
        _expect(problems, where, "task scheduled", recorded["scheduled"], step.scheduled)
        if step.scheduled and not str(recorded["send_at"]).startswith(str(call.plan)):
            problems.append(f"{where}: task send_at is {recorded['send_at']!r}, expected {call.plan} platform time")
        if via is not None:
            _expect(problems, where, "task via", recorded["via"], via)
    if len(set(msg_ids)) != len(msg_ids):
        problems.append(f"the sends share message ids: {msg_ids}")
    _expect(problems, "the books", "balance", mock_server.balance(account.name), balance)
    if problems:
        raise AssertionError(f"{len(problems)} difference(s):\n" + "\n".join(problems))
