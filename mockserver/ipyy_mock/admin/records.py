"""Admin API endpoints that show and change the platform's data: accounts, tasks, messages, reports, uplinks, reset.

They are what the web inbox and the pytest fixture read and steer. Messages
can be marked delivered or failed by hand (the report is produced at once, on
the same path as a scripted outcome); reset brings the mock back to its first
start in one transaction, so a test suite gets fresh state without a restart.
Reading and writing is the Store's and the Platform's (no SQL here): these
handlers check the JSON and the query, and shape the answer.
"""

from __future__ import annotations

import sqlite3
import time
from decimal import Decimal
from ipaddress import ip_network
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from ipyy_mock.admin.jsonapi import AdminError, body, int_arg, json_response, limit_arg, time_arg
from ipyy_mock.core import clock, sendlimits
from ipyy_mock.core.billing import MAX_BALANCE, MAX_PRICE, MoneyError, parse_money
from ipyy_mock.core.platform import DEMO_ACCOUNT
from ipyy_mock.core.store import Account
from ipyy_mock.push.target import PushUrlError, check_push_url

if TYPE_CHECKING:  # the app imports this module through its route table
    from ipyy_mock.admin.api import AdminApi


def account_json(account: Account) -> dict[str, Any]:
    """An account without its password: the admin API, the inbox and ``ipyy-mock account show`` print this."""
    return {
        "name": account.name,
        "userid": account.userid,
        "balance": str(account.balance),
        "pay_type": account.pay_type,
        "prices": {k: str(v) for k, v in account.prices.items()},
        "segment_limit": account.segment_limit,
        "bind_ips": list(account.bind_ips),
        "stopped": account.stopped,
        "strict_auth": account.strict_auth,
        "strict": account.strict,
        "can_read_reports": account.can_read_reports,
        "push_url": account.push_url,
        "sensitive_words": list(account.sensitive_words),
        "limits": account.limits,
        "code_limit": account.code_limit,
        "code_window": account.code_window,
        "daily_limit": account.daily_limit,
    }


# -- account field validation -------------------------------------------------------
def _decimal(field: str, value: Any, low: Decimal = -MAX_BALANCE, high: Decimal = MAX_BALANCE) -> Decimal:
    """An amount within its bounds (core/billing.py): out of them is a 400 that names them."""
    try:
        return parse_money(value, field, low, high)
    except MoneyError as exc:
        raise AdminError(400, str(exc), f'e.g. "{field}": "100.00"') from None


def _text(field: str, value: Any, limit: int = 200) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise AdminError(400, f"{field} must be a string of at most {limit} characters", f'e.g. "{field}": "..."')
    return value


def _flag(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise AdminError(400, f"{field} must be true or false, got {value!r}", f'e.g. "{field}": true')
    return value


def _prices(value: Any) -> dict[str, Decimal]:
    if not isinstance(value, dict) or not all(k == "*" or (isinstance(k, str) and k.isdigit()) for k in value):
        raise AdminError(
            400,
            'prices must map country codes (or "*") to per-segment prices',
            'e.g. "prices": {"86": "0.05", "*": "0.30"}',
        )
    return {k: _decimal(f"prices[{k}]", v, Decimal(0), MAX_PRICE) for k, v in value.items()}


def _bind_ips(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise AdminError(400, "bind_ips must be a list of addresses or networks", 'e.g. "bind_ips": ["127.0.0.1"]')
    for entry in value:
        try:
            ip_network(str(entry), strict=False)
        except ValueError:
            raise AdminError(400, f"bind_ips: {entry!r} is not an address or network", "e.g. 10.0.0.0/8") from None
    return [str(e) for e in value]


def _words(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
        raise AdminError(400, "sensitive_words must be a list of non-empty strings", 'e.g. ["敏感词"]')
    return value


def _segment_limit(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise AdminError(400, "segment_limit must be a whole number from 1 to 1000", 'e.g. "segment_limit": 10')
    return value


def _limits(value: Any) -> str:
    if value not in sendlimits.MODES:
        raise AdminError(
            400, f"limits must be one of {', '.join(sendlimits.MODES)}, got {value!r}", 'e.g. "limits": "enforce"'
        )
    return value


def _count(field: str, upper: int) -> Any:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
            raise AdminError(400, f"{field} must be a whole number from 1 to {upper}", f'e.g. "{field}": 10')
        return value

    return check


def _pay_type(value: Any) -> str:
    if value not in ("prepaid", "postpaid"):
        raise AdminError(400, f"pay_type must be prepaid or postpaid, got {value!r}", 'e.g. "pay_type": "postpaid"')
    return value


def _password(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 20:
        raise AdminError(400, "password must be 1 to 20 characters", "as pwd.aspx allows")
    return value


def _push_url(value: Any) -> str:
    try:
        return check_push_url(value)
    except PushUrlError as exc:
        raise AdminError(400, str(exc), 'e.g. "push_url": "http://127.0.0.1:9000/" (or "" for none)') from None


FIELDS = {
    "password": _password,
    "userid": lambda v: _text("userid", v, 32),
    "balance": lambda v: _decimal("balance", v),
    "pay_type": _pay_type,
    "prices": _prices,
    "segment_limit": _segment_limit,
    "bind_ips": _bind_ips,
    "stopped": lambda v: _flag("stopped", v),
    "strict_auth": lambda v: _flag("strict_auth", v),
    "strict": lambda v: _flag("strict", v),
    "can_read_reports": lambda v: _flag("can_read_reports", v),
    "push_url": _push_url,
    "sensitive_words": _words,
    "limits": _limits,
    "code_limit": _count("code_limit", 1_000_000),
    "code_window": _count("code_window", 86400),
    "daily_limit": _count("daily_limit", 1_000_000),
}


def apply_changes(account: Account, data: dict[str, Any]) -> None:
    unknown = sorted(set(data) - set(FIELDS) - {"name"})
    if unknown:
        raise AdminError(400, f"unknown field(s): {', '.join(unknown)}", f"fields: {', '.join(FIELDS)}")
    for field, value in data.items():
        if field != "name":
            setattr(account, field, FIELDS[field](value))


def _iso(admin: AdminApi, epoch: float | None) -> str | None:
    return None if epoch is None else clock.from_epoch(epoch, admin.platform.zone).isoformat()


# -- accounts ---------------------------------------------------------------------------
TIME, FLAG = "time", "flag"  # how _shaped shows a column: an ISO time in the platform's zone, a boolean
#: the admin API's JSON of each kind of row: (column, how), in the order the keys are written
TASK_SHAPE = (
    *(("id", ""), ("account", ""), ("via", ""), ("content", ""), ("ext_number", "")),
    *(("created_at", TIME), ("send_at", TIME), ("scheduled", FLAG)),
    *(("recipients", ""), ("billing_count", ""), ("billing_amount", "")),
)
MESSAGE_SHAPE = (
    *(("id", ""), ("task_id", ""), ("account", ""), ("mobile", ""), ("country", ""), ("content", "")),
    *(("ext_number", ""), ("via", ""), ("segments", ""), ("price", ""), ("amount", ""), ("status", "")),
    *(("created_at", TIME), ("send_at", TIME), ("report_status", ""), ("report_errorcode", "")),
    *(("reported_at", TIME), ("report_due_at", TIME)),
)
DELIVERED_SHAPE = (("receive_time", TIME), ("consumed", FLAG), ("route", ""))
REPORT_FIELDS = ("id", "account", "task_id", "mobile", "status", "errorcode", "extno")
UPLINK_FIELDS = ("id", "account", "mobile", "task_id", "content", "extno")


def _shaped(admin: AdminApi, row: sqlite3.Row, shape: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """``row`` as JSON by ``shape``: one function writes every record the admin API lists, so a time is
    always shown the same way and a new column is one entry in a shape."""
    shown: dict[str, Any] = {}
    for name, how in shape:
        value = row[name]
        shown[name] = _iso(admin, value) if how == TIME else bool(value) if how == FLAG else value
    return shown


def list_accounts(admin: AdminApi, request: Request) -> Any:
    return {"accounts": [account_json(a) for a in admin.platform.store.list_accounts()]}


def _account(admin: AdminApi, name: str) -> Account:
    account = admin.platform.store.get_account(name)
    if account is None:
        raise AdminError(404, f"no account {name!r}", "GET /_mock/api/accounts lists them; POST creates one")
    return account


def get_account(admin: AdminApi, request: Request, name: str) -> Any:
    return account_json(_account(admin, name))


def create_account(admin: AdminApi, request: Request) -> Response:
    example = '{"name": "shop", "password": "s3cret", "balance": "50.00"}'
    data = body(request, example)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise AdminError(400, "name is required (1 to 64 characters)", example)
    if "password" not in data:
        raise AdminError(400, "password is required", example)
    if admin.platform.store.get_account(name) is not None:
        raise AdminError(409, f"account {name!r} exists", f"PATCH /_mock/api/accounts/{name} changes it")
    account = Account(
        name=name,
        password="",
        prices=dict(DEMO_ACCOUNT.prices),
        sensitive_words=list(DEMO_ACCOUNT.sensitive_words),
        created_at=time.time(),
    )
    apply_changes(account, data)
    admin.platform.store.insert_account(account)
    return json_response(account_json(account), 201)


def patch_account(admin: AdminApi, request: Request, name: str) -> Any:
    data = body(request, '{"balance": "100.00", "stopped": false}')
    store = admin.platform.store
    with store.write() as db:
        account = store.get_account(name, db)
        if account is None:
            raise AdminError(404, f"no account {name!r}", "POST /_mock/api/accounts creates one")
        apply_changes(account, data)
        store.save_account(account, db)
    admin.wake()
    return account_json(account)


# -- tasks and messages ------------------------------------------------------------------
def list_tasks(admin: AdminApi, request: Request) -> Any:
    zone = admin.platform.zone
    rows = admin.platform.store.list_tasks(
        account=request.args.get("account"),
        task_id=int_arg(request, "task_id"),
        since_id=int_arg(request, "since_id"),
        since=time_arg(request, "since", zone),
        until=time_arg(request, "until", zone),
        limit=limit_arg(request),
    )
    return {"tasks": [_task_json(admin, r) for r in rows]}


def _task_json(admin: AdminApi, r: sqlite3.Row) -> dict[str, Any]:
    return _shaped(admin, r, TASK_SHAPE)


def list_messages(admin: AdminApi, request: Request) -> Any:
    admin.platform.release_due()  # statuses as of now: reports are produced lazily
    args, zone = request.args, admin.platform.zone
    rows = admin.platform.store.list_messages(
        account=args.get("account"),
        mobile=(args.get("mobile") or "").lstrip("+"),
        task_id=int_arg(request, "task_id"),
        status=args.get("status"),
        since_id=int_arg(request, "since_id"),
        since=time_arg(request, "since", zone),
        until=time_arg(request, "until", zone),
        limit=limit_arg(request),
    )
    found = admin.platform.store.warnings_by_task([r["task_id"] for r in rows])
    messages = []
    for r in rows:
        item = _message_json(admin, r)
        item["warnings"] = [{"code": w["code"], "detail": w["detail"]} for w in found.get(r["task_id"], ())]
        messages.append(item)
    return {"messages": messages, "now": admin.platform.now_datetime().isoformat()}


def _message_json(admin: AdminApi, r: sqlite3.Row) -> dict[str, Any]:
    shown = _shaped(admin, r, MESSAGE_SHAPE)
    if r["status"] not in ("delivered", "failed"):  # no report yet: its columns hold nothing to show
        shown["report_status"] = shown["report_errorcode"] = None
    # a recipient the send left out: its code (MsisdnBlack...); the platform never sent to it
    shown["refusal"] = r["report_errorcode"] if r["status"] == "refused" else None
    return shown


def set_outcome(admin: AdminApi, request: Request, message_id: int) -> Any:
    """Deliver or fail a sent message now, whatever its rule said: the report follows at once."""
    data = body(request, '{"status": "failed", "errorcode": "UNDELIV"}')
    status = data.get("status")
    if status not in ("delivered", "failed"):
        raise AdminError(
            400,
            f"status must be delivered or failed, got {status!r}",
            '{"status": "delivered"} or {"status": "failed", "errorcode": "UNDELIV"}',
        )
    errorcode = data.get("errorcode") or ("DELIVRD" if status == "delivered" else "UNDELIV")
    _text("errorcode", errorcode, 20)
    before = admin.platform.set_outcome(message_id, status == "delivered", errorcode)
    if before is None:
        raise AdminError(404, f"no message {message_id}", "GET /_mock/api/messages lists them")
    if before != "sent":
        hint = (
            "advance the clock past its send time first"
            if before == "scheduled"
            else "its report has been produced already"
        )
        raise AdminError(409, f"message {message_id} is {before}, not waiting for a report", hint)
    admin.wake()
    [row] = admin.platform.store.list_messages(message_id=message_id, limit=1)
    return _message_json(admin, row)


# -- reports, uplinks, conversations --------------------------------------------------------
def _delivered_json(admin: AdminApi, row: sqlite3.Row, fields: tuple[str, ...]) -> dict[str, Any]:
    """A report or an uplink as the admin API shows it: its own fields, then when it arrived, whether the
    account has taken it and by which route (the two tables share the last three)."""
    return _shaped(admin, row, (*((name, "") for name in fields), *DELIVERED_SHAPE))


def list_reports(admin: AdminApi, request: Request) -> Any:
    """Every report produced (pulled or not): the mock's view, which never consumes anything."""
    admin.platform.release_due()
    rows = admin.platform.store.list_reports(
        account=request.args.get("account"), task_id=int_arg(request, "task_id"), limit=limit_arg(request)
    )
    return {"reports": [_delivered_json(admin, r, REPORT_FIELDS) for r in rows]}


def list_uplinks(admin: AdminApi, request: Request) -> Any:
    admin.platform.release_due()
    rows = admin.platform.store.list_uplinks(
        account=request.args.get("account"),
        mobile=(request.args.get("mobile") or "").lstrip("+"),
        limit=limit_arg(request),
    )
    return {"uplinks": [_delivered_json(admin, u, UPLINK_FIELDS) for u in rows]}


def list_conversations(admin: AdminApi, request: Request) -> Any:
    """One row per (account, phone number): the inbox's left-hand list, most recent first."""
    admin.platform.release_due()
    rows = admin.platform.store.conversations(account=request.args.get("account"), limit=limit_arg(request))
    return {
        "conversations": [
            {
                "account": r["account"],
                "mobile": r["mobile"],
                "last_at": _iso(admin, r["last_at"]),
                "sent": r["sent"],
                "received": r["received"],
            }
            for r in rows
        ]
    }


# -- reset -----------------------------------------------------------------------------------
def reset(admin: AdminApi, request: Request) -> Any:
    """Back to a first start: only the demo account, default rules and settings, real time, empty queues."""
    demo = admin.platform.reset()
    admin.journal.clear()
    admin.wake()
    return {"reset": True, "accounts": [account_json(demo)], "now": admin.platform.now_datetime().isoformat()}


# -- the vendor's sending limits (core/sendlimits.py) -------------------------------------
def _number_arg(request: Request) -> str | None:
    mobile = (request.args.get("mobile") or "").strip().lstrip("+")
    if mobile and not mobile.isdigit():
        raise AdminError(400, f"mobile must be digits, got {mobile!r}", "the international form, e.g. 8613800138000")
    return mobile or None


def list_limits(admin: AdminApi, request: Request) -> Any:
    counters = admin.platform.limit_counters(
        account=request.args.get("account") or None, mobile=_number_arg(request), limit=limit_arg(request)
    )
    return {"counters": counters}


def reset_limits(admin: AdminApi, request: Request) -> Any:
    reset = admin.platform.reset_limits(account=request.args.get("account") or None, mobile=_number_arg(request))
    return {"reset": reset}
