"""The platform: every domain rule the surfaces share, in the vendor's order.

SOAP and HTTP both call ``Platform.send`` with a wire-neutral SendRequest; the
checks run in the order of DESIGN.md §3 and the first failure is the reply.
Nothing is written until every check has passed, and then everything (task,
messages, debit) is written in one transaction, so a refused or interrupted
send leaves no trace and an acknowledged one is on disk.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from ipyy_client.billing import segment_count
from ipyy_client.codes import ResultCode

from ipyy_mock import clock, scenarios
from ipyy_mock.auth import authenticate
from ipyy_mock.billing import Charge, charge_for
from ipyy_mock.store import Account, Store
from ipyy_mock.validation import check_content, check_ext_number, parse_recipients
from ipyy_mock.wire import Report, SendOutcome, SendRequest, Uplink

DEMO_ACCOUNT = Account(
    name="demo",
    password="demo123",
    userid="1",
    balance=Decimal("100.00"),
    pay_type="prepaid",
    prices={"86": Decimal("0.05"), "*": Decimal("0.30")},
    sensitive_words=["敏感词"],
)
DEFAULT_REPORT_DELAY = 0.0
MAX_PULL = 4000


@dataclass(frozen=True)
class Accepted:
    charge: Charge
    rule: scenarios.Rule


class Platform:
    """The mock gateway's state and rules over one SQLite store."""

    def __init__(self, store: Store | str | Path, zone: str = clock.DEFAULT_ZONE) -> None:
        self.store = store if isinstance(store, Store) else Store(store)
        self.zone = clock.platform_zone(zone)

    # -- time ------------------------------------------------------------
    def now(self) -> float:
        """Platform time in epoch seconds: the wall clock plus the virtual clock's offset."""
        return clock.wall_seconds() + float(self.store.get_setting("clock_offset", "0") or 0)

    def now_datetime(self) -> datetime:
        return clock.from_epoch(self.now(), self.zone)

    def advance_clock(self, seconds: float) -> datetime:
        with self.store.write() as db:
            offset = float(self.store.get_setting("clock_offset", "0") or 0) + seconds
            self.store.set_setting("clock_offset", repr(offset), db)
        return self.now_datetime()

    # -- settings --------------------------------------------------------
    def rules(self) -> tuple[scenarios.Rule, ...]:
        return scenarios.load_rules(self.store.get_setting("rules"))

    def report_delay(self) -> float:
        return float(self.store.get_setting("report_delay", repr(DEFAULT_REPORT_DELAY)) or 0)

    def seed_demo(self) -> bool:
        """Create the demo account on first start; True when it was created now."""
        if self.store.get_account(DEMO_ACCOUNT.name) is not None:
            return False
        demo = Account(**{**DEMO_ACCOUNT.__dict__, "created_at": time.time()})
        self.store.insert_account(demo)
        return True

    # -- sending ---------------------------------------------------------
    def send(self, req: SendRequest) -> SendOutcome:
        http = req.via == "http"
        account = authenticate(self.store, req.account, req.password, req.client_ip, http=http)
        if isinstance(account, ResultCode):
            return SendOutcome(account)
        if req.param_error:
            return SendOutcome(ResultCode.ParamError, balance=account.balance, errors=[req.param_error])
        refused = self._check(req, account)
        if isinstance(refused, SendOutcome):
            return refused
        recipients, ext, accepted, errors = refused
        return self._commit(req, account, ext, accepted, errors)

    def _check(self, req: SendRequest, account: Account):
        def fail(code: ResultCode, errors: list[str] | None = None) -> SendOutcome:
            return SendOutcome(code, balance=account.balance, errors=errors or [])

        recipients = parse_recipients(req.msisdns, req.hybrid)
        if isinstance(recipients, ResultCode):
            return fail(recipients)
        ext = check_ext_number(req.ext_number)
        if isinstance(ext, ResultCode):
            return fail(ext)
        content = req.content or ""
        problem = check_content(content, account.sensitive_words)
        if problem is not None:
            return fail(problem)
        if segment_count(content) > account.segment_limit:
            return fail(ResultCode.ContentLong)
        if not account.prices:
            return fail(ResultCode.NoProduct)
        rules = self.rules()
        accepted: list[Accepted] = []
        errors: list[str] = []
        first_refusal: ResultCode | None = None
        for recipient in recipients:
            rule = scenarios.rule_for(recipient.mobile, rules)
            code = scenarios.REFUSALS.get(rule.outcome)
            charge = None if code else charge_for(recipient.mobile, recipient.country, content, account.prices)
            if charge is None:
                code = code or ResultCode.MsisdnNoChannel
                errors.append(f"{recipient.mobile}:{code.name}")
                first_refusal = first_refusal or code
                continue
            accepted.append(Accepted(charge, rule))
        if not accepted:
            return fail(first_refusal or ResultCode.MsisdnNoChannel, errors)
        return recipients, ext, accepted, errors

    def _commit(self, req: SendRequest, account: Account, ext: str, accepted: list[Accepted],
                errors: list[str]) -> SendOutcome:
        billing_count = sum(a.charge.segments for a in accepted)
        amount = sum((a.charge.amount for a in accepted), Decimal("0"))
        now = self.now()
        send_at = now
        if req.plan_send_time is not None:
            send_at = max(now, clock.to_epoch(req.plan_send_time, self.zone))
        scheduled = send_at > now
        default_delay = self.report_delay()
        with self.store.write() as db:
            current = self.store.get_account(account.name, db)
            if current is None:  # deleted between the checks and now
                return SendOutcome(ResultCode.UserNameError)
            if current.pay_type == "prepaid" and current.balance < amount:
                return SendOutcome(ResultCode.AmountNotEnough, balance=current.balance, errors=errors)
            task_id = self.store.insert_task(
                db, account=account.name, via=req.via, content=req.content or "", ext_number=ext,
                created_at=now, send_at=send_at, scheduled=int(scheduled), recipients=len(accepted),
                billing_count=billing_count, billing_amount=str(amount),
            )
            self.store.insert_messages(db, [self._message_row(task_id, account.name, a, send_at, default_delay,
                                                              scheduled) for a in accepted])
            balance = current.balance - amount
            self.store.set_balance(db, account.name, balance)
        return SendOutcome(ResultCode.OK, task_id=task_id, balance=balance, billing_amount=amount,
                           billing_count=billing_count, success_count=len(accepted), errors=errors)

    @staticmethod
    def _message_row(task_id: int, account: str, a: Accepted, send_at: float, default_delay: float,
                     scheduled: bool) -> dict:
        rule = a.rule
        reported = rule.outcome != scenarios.NO_REPORT
        delay = default_delay if rule.delay is None else rule.delay
        return {
            "task_id": task_id, "account": account, "mobile": a.charge.mobile, "country": a.charge.country,
            "segments": a.charge.segments, "price": str(a.charge.price), "amount": str(a.charge.amount),
            "status": "scheduled" if scheduled else "sent",
            "report_due_at": send_at + delay if reported else None,
            "report_status": rule.report_status if reported else None,
            "report_errorcode": rule.report_errorcode if reported else None,
            "reply_text": rule.reply or None,
        }

    # -- account queries -------------------------------------------------
    def authenticate(self, name: str | None, password: str | None, client_ip: str, *,
                     http: bool = True) -> Account | ResultCode:
        return authenticate(self.store, name, password, client_ip, http=http)

    def change_password(self, account: Account, new_password: str) -> None:
        """Takes effect at once for SOAP and HTTP alike: there is one password."""
        with self.store.write() as db:
            db.execute("UPDATE accounts SET password=? WHERE name=?", (new_password, account.name))

    # -- delivery queues -------------------------------------------------
    def release_due(self) -> None:
        with self.store.write() as db:
            self.store.release_due(db, self.now())

    def pull_reports(self, account: Account, limit: int = MAX_PULL, task_id: int | None = None) -> list[Report]:
        """Reports due by now, oldest first, each handed out once."""
        with self.store.write() as db:
            self.store.release_due(db, self.now())
            rows = self.store.take_reports(db, account.name, min(limit, MAX_PULL), task_id)
        return [Report(r["mobile"], r["task_id"], r["status"], clock.from_epoch(r["receive_time"], self.zone),
                       r["errorcode"], r["extno"]) for r in rows]

    def pull_uplinks(self, account: Account, limit: int = MAX_PULL) -> list[Uplink]:
        with self.store.write() as db:
            self.store.release_due(db, self.now())
            rows = self.store.take_uplinks(db, account.name, min(limit, MAX_PULL))
        return [Uplink(r["mobile"], r["task_id"], r["content"], clock.from_epoch(r["receive_time"], self.zone),
                       r["extno"]) for r in rows]

    def inject_uplink(self, account: str, mobile: str, content: str, extno: str = "") -> int:
        """An MO reply from ``mobile``, linked to the last task sent to it (admin API and tests)."""
        with self.store.write() as db:
            return self.store.insert_uplink(db, account, mobile, content, extno, self.now())
