"""Admin API endpoints that show and change the platform's data: accounts, tasks, messages, reports, uplinks, reset.

They are what the web inbox and the pytest fixture read and steer. Messages
can be marked delivered or failed by hand (the report is produced at once, on
the same path as a scripted outcome); reset brings the mock back to its first
start in one transaction, so a test suite gets fresh state without a restart.
"""
from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal, InvalidOperation
from ipaddress import ip_network
from typing import Any

from werkzeug.wrappers import Request, Response

from ipyy_mock.core import clock
from ipyy_mock.core.platform import DEMO_ACCOUNT
from ipyy_mock.core.store import Account
from ipyy_mock.core.validation import parse_count

PREFIX = "/_mock/api"
ROUTES = [
    ("/accounts", "GET", "list_accounts"),
    ("/accounts", "POST", "create_account"),
    ("/accounts/<name>", "GET", "get_account"),
    ("/accounts/<name>", "PATCH", "patch_account"),
    ("/tasks", "GET", "list_tasks"),
    ("/messages", "GET", "list_messages"),
    ("/messages/<int:message_id>/outcome", "POST", "set_outcome"),
    ("/reports", "GET", "list_reports"),
    ("/uplinks", "GET", "list_uplinks"),
    ("/conversations", "GET", "list_conversations"),
    ("/reset", "POST", "reset"),
    ("/openapi.json", "GET", "get_openapi"),
]
# Tables emptied by a reset; accounts are reseeded, the runner's lease is left alone. The request journal has a
# file of its own (journal.journal_path) and is cleared there; "journal" here is the table of a database made by
# an older version, which kept it in the main file.
RESET_TABLES = ("push_attempts", "push_batches", "reports", "uplinks", "messages", "tasks", "journal", "faults",
                "warnings")
RESET_SETTINGS = ("rules", "clock_offset", "report_delay", "push_timeout", "push_retry_pauses")
MAX_LIMIT = 1000


def _api():
    from ipyy_mock.admin import api as admin_api  # imported late: admin_api registers this module at its end

    return admin_api


def _ok(data: Any, status: int = 200) -> Response:
    return _api()._json_response(data, status)


def _fail(status: int, message: str, hint: str = "") -> Exception:
    return _api().AdminError(status, message, hint)


def account_json(account: Account) -> dict[str, Any]:
    """An account without its password: the admin API, the inbox and ``ipyy-mock account show`` print this."""
    return {
        "name": account.name, "userid": account.userid, "balance": str(account.balance),
        "pay_type": account.pay_type, "prices": {k: str(v) for k, v in account.prices.items()},
        "segment_limit": account.segment_limit, "bind_ips": list(account.bind_ips), "stopped": account.stopped,
        "strict_auth": account.strict_auth, "strict": account.strict, "can_read_reports": account.can_read_reports,
        "push_url": account.push_url, "sensitive_words": list(account.sensitive_words),
    }


# -- account field validation -------------------------------------------------------
def _decimal(field: str, value: Any) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _fail(400, f"{field} must be a decimal number, got {value!r}", f'e.g. "{field}": "100.00"') from None
    if not number.is_finite() or isinstance(value, bool):
        raise _fail(400, f"{field} must be a finite decimal number", f'e.g. "{field}": "100.00"')
    return number


def _text(field: str, value: Any, limit: int = 200) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise _fail(400, f"{field} must be a string of at most {limit} characters", f'e.g. "{field}": "..."')
    return value


def _flag(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(400, f"{field} must be true or false, got {value!r}", f'e.g. "{field}": true')
    return value


def _prices(value: Any) -> dict[str, Decimal]:
    if not isinstance(value, dict) or not all(k == "*" or (isinstance(k, str) and k.isdigit()) for k in value):
        raise _fail(400, "prices must map country codes (or \"*\") to per-segment prices",
                    'e.g. "prices": {"86": "0.05", "*": "0.30"}')
    return {k: _decimal(f"prices[{k}]", v) for k, v in value.items()}


def _bind_ips(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise _fail(400, "bind_ips must be a list of addresses or networks", 'e.g. "bind_ips": ["127.0.0.1"]')
    for entry in value:
        try:
            ip_network(str(entry), strict=False)
        except ValueError:
            raise _fail(400, f"bind_ips: {entry!r} is not an address or network", "e.g. 10.0.0.0/8") from None
    return [str(e) for e in value]


def _words(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
        raise _fail(400, "sensitive_words must be a list of non-empty strings", 'e.g. ["敏感词"]')
    return value


def _segment_limit(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise _fail(400, "segment_limit must be a whole number from 1 to 1000", 'e.g. "segment_limit": 10')
    return value


def _pay_type(value: Any) -> str:
    if value not in ("prepaid", "postpaid"):
        raise _fail(400, f"pay_type must be prepaid or postpaid, got {value!r}", 'e.g. "pay_type": "postpaid"')
    return value


def _password(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 20:
        raise _fail(400, "password must be 1 to 20 characters", "as pwd.aspx allows")
    return value


FIELDS = {
    "password": _password, "userid": lambda v: _text("userid", v, 32), "balance": lambda v: _decimal("balance", v),
    "pay_type": _pay_type, "prices": _prices, "segment_limit": _segment_limit, "bind_ips": _bind_ips,
    "stopped": lambda v: _flag("stopped", v), "strict_auth": lambda v: _flag("strict_auth", v),
    "strict": lambda v: _flag("strict", v),
    "can_read_reports": lambda v: _flag("can_read_reports", v), "push_url": lambda v: _text("push_url", v, 2000),
    "sensitive_words": _words,
}


def apply_changes(account: Account, data: dict[str, Any]) -> None:
    unknown = sorted(set(data) - set(FIELDS) - {"name"})
    if unknown:
        raise _fail(400, f"unknown field(s): {', '.join(unknown)}", f"fields: {', '.join(FIELDS)}")
    for field, value in data.items():
        if field != "name":
            setattr(account, field, FIELDS[field](value))


# -- query helpers -------------------------------------------------------------------
def _limit(request: Request, default: int = 200) -> int:
    raw = request.args.get("limit", str(default))
    value = parse_count(raw, MAX_LIMIT)
    if value is None or value < 1:
        raise _fail(400, f"limit must be 1 to {MAX_LIMIT}, got {raw!r}", "e.g. ?limit=50")
    return value


def _int_arg(request: Request, name: str) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    value = parse_count(raw)
    if value is None:
        raise _fail(400, f"{name} must be a whole number (at most 19 digits), got {raw!r}", f"e.g. ?{name}=1000001")
    return value


def _time_arg(request: Request, name: str, zone) -> float | None:
    """``since``/``until`` as ISO 8601; a time without a zone is platform time."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return clock.to_epoch(datetime.fromisoformat(raw.replace("Z", "+00:00")), zone)
    except ValueError:
        raise _fail(400, f"{name} must be an ISO 8601 time, got {raw!r}", f"e.g. ?{name}=2026-11-25T09:00:00") from None


def _where(filters: list[tuple[str, Any]]) -> tuple[str, list[Any]]:
    parts = [(sql, value) for sql, value in filters if value not in (None, "")]
    clause = (" WHERE " + " AND ".join(sql for sql, _ in parts)) if parts else ""
    return clause, [value for _, value in parts]


class DataEndpoints:
    """Handlers mixed into AdminApi by ``register``; ``self.platform`` and ``self.wake`` come from it."""

    def _iso(self, epoch: float | None) -> str | None:
        return None if epoch is None else clock.from_epoch(epoch, self.platform.zone).isoformat()

    # -- accounts ---------------------------------------------------------------
    def list_accounts(self, request: Request) -> Response:
        return _ok({"accounts": [account_json(a) for a in self.platform.store.list_accounts()]})

    def _account(self, name: str) -> Account:
        account = self.platform.store.get_account(name)
        if account is None:
            raise _fail(404, f"no account {name!r}", "GET /_mock/api/accounts lists them; POST creates one")
        return account

    def get_account(self, request: Request, name: str) -> Response:
        return _ok(account_json(self._account(name)))

    def create_account(self, request: Request) -> Response:
        example = '{"name": "shop", "password": "s3cret", "balance": "50.00"}'
        data = self.body(request, example)
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise _fail(400, "name is required (1 to 64 characters)", example)
        if "password" not in data:
            raise _fail(400, "password is required", example)
        if self.platform.store.get_account(name) is not None:
            raise _fail(409, f"account {name!r} exists", f"PATCH /_mock/api/accounts/{name} changes it")
        account = Account(name=name, password="", prices=dict(DEMO_ACCOUNT.prices),
                          sensitive_words=list(DEMO_ACCOUNT.sensitive_words), created_at=time.time())
        apply_changes(account, data)
        self.platform.store.insert_account(account)
        return _ok(account_json(account), 201)

    def patch_account(self, request: Request, name: str) -> Response:
        data = self.body(request, '{"balance": "100.00", "stopped": false}')
        with self.platform.store.write() as db:
            account = self.platform.store.get_account(name, db)
            if account is None:
                raise _fail(404, f"no account {name!r}", "POST /_mock/api/accounts creates one")
            apply_changes(account, data)
            self.platform.store.save_account(account, db)
        self.wake()
        return _ok(account_json(account))

    # -- tasks and messages ------------------------------------------------------
    def list_tasks(self, request: Request) -> Response:
        zone = self.platform.zone
        clause, args = _where([("account=?", request.args.get("account")), ("id=?", _int_arg(request, "task_id")),
                               ("id>?", _int_arg(request, "since_id")),
                               ("created_at>=?", _time_arg(request, "since", zone)),
                               ("created_at<?", _time_arg(request, "until", zone))])
        rows = self.platform.store.db.execute(
            f"SELECT * FROM tasks{clause} ORDER BY id DESC LIMIT ?", (*args, _limit(request))).fetchall()
        return _ok({"tasks": [self._task_json(r) for r in rows]})

    def _task_json(self, r) -> dict[str, Any]:
        return {"id": r["id"], "account": r["account"], "via": r["via"], "content": r["content"],
                "ext_number": r["ext_number"], "created_at": self._iso(r["created_at"]),
                "send_at": self._iso(r["send_at"]), "scheduled": bool(r["scheduled"]),
                "recipients": r["recipients"], "billing_count": r["billing_count"],
                "billing_amount": r["billing_amount"]}

    def list_messages(self, request: Request) -> Response:
        self.platform.release_due()  # statuses as of now: reports are produced lazily
        args = request.args
        clause, values = _where([
            ("m.account=?", args.get("account")), ("m.mobile=?", (args.get("mobile") or "").lstrip("+")),
            ("m.task_id=?", _int_arg(request, "task_id")), ("m.status=?", args.get("status")),
            ("m.id>?", _int_arg(request, "since_id")),
            ("t.created_at>=?", _time_arg(request, "since", self.platform.zone)),
            ("t.created_at<?", _time_arg(request, "until", self.platform.zone)),
        ])
        rows = self.platform.store.db.execute(
            "SELECT m.*, t.content, t.ext_number, t.created_at, t.send_at, t.via, "
            "r.receive_time AS reported_at FROM messages m JOIN tasks t ON t.id=m.task_id "
            "LEFT JOIN reports r ON r.task_id=m.task_id AND r.mobile=m.mobile"
            f"{clause} ORDER BY m.id DESC LIMIT ?", (*values, _limit(request))).fetchall()
        found = self.platform.store.warnings_by_task([r["task_id"] for r in rows])
        messages = []
        for r in rows:
            item = self._message_json(r)
            item["warnings"] = [{"code": w["code"], "detail": w["detail"]} for w in found.get(r["task_id"], ())]
            messages.append(item)
        return _ok({"messages": messages, "now": self.platform.now_datetime().isoformat()})

    def _message_json(self, r) -> dict[str, Any]:
        reported = r["status"] in ("delivered", "failed")
        return {"id": r["id"], "task_id": r["task_id"], "account": r["account"], "mobile": r["mobile"],
                "country": r["country"], "content": r["content"], "ext_number": r["ext_number"], "via": r["via"],
                "segments": r["segments"], "price": r["price"], "amount": r["amount"], "status": r["status"],
                "created_at": self._iso(r["created_at"]), "send_at": self._iso(r["send_at"]),
                "report_status": r["report_status"] if reported else None,
                "report_errorcode": r["report_errorcode"] if reported else None,
                "reported_at": self._iso(r["reported_at"]), "report_due_at": self._iso(r["report_due_at"])}

    def set_outcome(self, request: Request, message_id: int) -> Response:
        """Deliver or fail a sent message now, whatever its rule said: the report follows at once."""
        data = self.body(request, '{"status": "failed", "errorcode": "UNDELIV"}')
        status = data.get("status")
        if status not in ("delivered", "failed"):
            raise _fail(400, f"status must be delivered or failed, got {status!r}",
                        '{"status": "delivered"} or {"status": "failed", "errorcode": "UNDELIV"}')
        errorcode = data.get("errorcode") or ("DELIVRD" if status == "delivered" else "UNDELIV")
        _text("errorcode", errorcode, 20)
        now = self.platform.now()
        with self.platform.store.write() as db:
            row = db.execute("SELECT status FROM messages WHERE id=?", (message_id,)).fetchone()
            if row is None:
                raise _fail(404, f"no message {message_id}", "GET /_mock/api/messages lists them")
            if row["status"] != "sent":
                hint = ("advance the clock past its send time first" if row["status"] == "scheduled"
                        else "its report has been produced already")
                raise _fail(409, f"message {message_id} is {row['status']}, not waiting for a report", hint)
            db.execute("UPDATE messages SET report_status=?, report_errorcode=?, report_due_at=? WHERE id=?",
                       (10 if status == "delivered" else 20, errorcode, now, message_id))
        self.platform.release_due()
        self.wake()
        row = self.platform.store.db.execute(
            "SELECT m.*, t.content, t.ext_number, t.created_at, t.send_at, t.via, r.receive_time AS reported_at "
            "FROM messages m JOIN tasks t ON t.id=m.task_id LEFT JOIN reports r ON r.task_id=m.task_id "
            "AND r.mobile=m.mobile WHERE m.id=?", (message_id,)).fetchone()
        return _ok(self._message_json(row))

    # -- reports, uplinks, conversations --------------------------------------------
    def list_reports(self, request: Request) -> Response:
        """Every report produced (pulled or not): the mock's view, which never consumes anything."""
        self.platform.release_due()
        clause, args = _where([("account=?", request.args.get("account")),
                               ("task_id=?", _int_arg(request, "task_id"))])
        rows = self.platform.store.db.execute(
            f"SELECT * FROM reports{clause} ORDER BY receive_time DESC, id DESC LIMIT ?", (*args, _limit(request))).fetchall()
        return _ok({"reports": [{
            "id": r["id"], "account": r["account"], "task_id": r["task_id"], "mobile": r["mobile"],
            "status": r["status"], "errorcode": r["errorcode"], "extno": r["extno"],
            "receive_time": self._iso(r["receive_time"]), "consumed": bool(r["consumed"]), "route": r["route"],
        } for r in rows]})

    def list_uplinks(self, request: Request) -> Response:
        self.platform.release_due()
        clause, args = _where([("account=?", request.args.get("account")),
                               ("mobile=?", (request.args.get("mobile") or "").lstrip("+"))])
        rows = self.platform.store.db.execute(
            f"SELECT * FROM uplinks{clause} ORDER BY receive_time DESC, id DESC LIMIT ?", (*args, _limit(request))).fetchall()
        return _ok({"uplinks": [{
            "id": u["id"], "account": u["account"], "mobile": u["mobile"], "task_id": u["task_id"],
            "content": u["content"], "extno": u["extno"], "receive_time": self._iso(u["receive_time"]),
            "consumed": bool(u["consumed"]), "route": u["route"],
        } for u in rows]})

    def list_conversations(self, request: Request) -> Response:
        """One row per (account, phone number): the inbox's left-hand list, most recent first."""
        self.platform.release_due()
        clause, args = _where([("account=?", request.args.get("account"))])
        rows = self.platform.store.db.execute(
            "SELECT account, mobile, MAX(at) AS last_at, SUM(sent) AS sent, SUM(received) AS received FROM ("
            " SELECT m.account, m.mobile, t.created_at AS at, 1 AS sent, 0 AS received"
            " FROM messages m JOIN tasks t ON t.id=m.task_id"
            " UNION ALL SELECT account, mobile, receive_time, 0, 1 FROM uplinks)"
            f"{clause} GROUP BY account, mobile ORDER BY last_at DESC LIMIT ?", (*args, _limit(request))).fetchall()
        return _ok({"conversations": [{"account": r["account"], "mobile": r["mobile"], "last_at": self._iso(r["last_at"]),
                                       "sent": r["sent"], "received": r["received"]} for r in rows]})

    def get_openapi(self, request: Request) -> Response:
        from ipyy_mock.admin.openapi import describe

        return _ok(describe(type(self)))

    # -- reset -------------------------------------------------------------------------
    def reset(self, request: Request) -> Response:
        """Back to a first start: only the demo account, default rules and settings, real time, empty queues."""
        store = self.platform.store
        existing = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        with store.write() as db:
            for table in RESET_TABLES:
                if table in existing:
                    db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
            db.execute("DELETE FROM accounts")
            db.executemany("DELETE FROM settings WHERE key=?", [(k,) for k in RESET_SETTINGS])
            demo = Account(**{**DEMO_ACCOUNT.__dict__, "prices": dict(DEMO_ACCOUNT.prices),
                              "sensitive_words": list(DEMO_ACCOUNT.sensitive_words), "created_at": time.time()})
            row = demo.to_row()
            db.execute(f"INSERT INTO accounts ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                       tuple(row.values()))
        journal_store = getattr(self, "journal_store", None)  # set by devtools.instrument
        if journal_store is not None:
            journal_store.clear()
        self.wake()
        return _ok({"reset": True, "accounts": [account_json(demo)], "now": self.platform.now_datetime().isoformat()})


def register(admin_cls: Any) -> None:
    """Add these endpoints to the admin API."""
    handlers = {name: member for name, member in vars(DataEndpoints).items()
                if callable(member) and not name.startswith("__")}
    admin_cls.extend(handlers, ROUTES)
