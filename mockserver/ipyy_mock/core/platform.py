"""The platform: every domain rule the surfaces share, in the vendor's order.

SOAP and HTTP both call ``Platform.send`` with a wire-neutral SendRequest; the
checks run in the order of docs/contract.md §3 and the first failure is the reply.
Nothing is written until every check has passed, and then everything (task,
messages, debit) is written in one write block (``Store.write``: a transaction,
or a savepoint of the group commit's, core/group.py), so a refused or
interrupted send leaves no trace and an acknowledged one is on disk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ipyy_client.billing import segment_count
from ipyy_client.codes import ResultCode
from ipyy_mock.core import clock, delivery, points, scenarios, sendlimits, settings
from ipyy_mock.core.auth import authenticate, password_warnings
from ipyy_mock.core.billing import Charge, charge_for
from ipyy_mock.core.conformance import ConformanceWarning
from ipyy_mock.core.domain import Report, SendOutcome, SendRequest, Uplink
from ipyy_mock.core.store import REFUSED, Account, Store
from ipyy_mock.core.validation import check_content, check_ext_number, parse_recipients

Released = delivery.Released

DEMO_ACCOUNT = Account(
    name="demo",
    password="demo123",
    userid="1",
    balance=Decimal("100.00"),
    pay_type="prepaid",
    prices={"86": Decimal("0.05"), "*": Decimal("0.30")},
    sensitive_words=["敏感词"],
)
DEFAULT_REPORT_DELAY = settings.DEFAULT_REPORT_DELAY
MAX_PULL = 4000
HTTP_VIAS = frozenset({"http", "domestic"})  # the surfaces whose documented password is the MD5 form
PAST_GRACE = 1.0  # seconds: a "now" computed by the client a moment ago is not in the past


@dataclass(frozen=True)
class Accepted:
    charge: Charge
    rule: scenarios.Rule
    number: str = ""  # the international form: what the sending limits count by (core/sendlimits.py)


@dataclass(frozen=True)
class Snapshot:
    """The settings one send uses (clock offset, scenario rules, delivery settings), read in one SELECT."""

    clock_offset: float
    rules: tuple[scenarios.Rule, ...]
    delivery: settings.DeliverySettings
    strict: bool = False  # `serve --strict` (a setting, so that every worker process sees it)


@dataclass(frozen=True)
class InjectedUplink:
    id: int
    task_id: int | None  # the task last sent to that number, or None
    route: str  # "pull" or "push"


class Platform:
    """The mock gateway's state and rules over one SQLite store."""

    def __init__(self, store: Store | str | Path, zone: str = clock.DEFAULT_ZONE, *, strict: bool = False) -> None:
        self.store = store if isinstance(store, Store) else Store(store)
        self.zone = clock.platform_zone(zone)
        self.strict = strict  # `serve --strict`: every account refuses what deviates from the document

    def settings_snapshot(self) -> Snapshot:
        """Every setting a send needs, parsed; read again only when the store's generation says they changed
        (any worker, the CLI or the admin API may change a setting at any time)."""
        return self.store.cached("settings", self._load_snapshot)

    def _load_snapshot(self) -> Snapshot:
        stored = self.store.all_settings()
        return Snapshot(
            float(stored.get("clock_offset", "0") or 0),
            scenarios.load_rules(stored.get("rules")),
            settings.from_raw(stored),
            stored.get("strict") == "1",
        )

    # -- time ------------------------------------------------------------
    def now(self) -> float:
        """Platform time in epoch seconds: the wall clock plus the virtual clock's offset."""
        return clock.wall_seconds() + self.clock_offset()

    def now_datetime(self) -> datetime:
        return clock.from_epoch(self.now(), self.zone)

    def clock_offset(self) -> float:
        return float(self.store.get_setting("clock_offset", "0") or 0)

    def advance(self, seconds: float) -> Released:
        """Move platform time forward and release what became due (pull queues and push batches)."""
        with self.store.write() as db:
            offset = float(self.store.get_setting("clock_offset", "0") or 0) + seconds
            self.store.set_setting("clock_offset", repr(offset), db)
            return delivery.release_due(db, clock.wall_seconds() + offset)

    def advance_clock(self, seconds: float) -> datetime:
        self.advance(seconds)
        return self.now_datetime()

    # -- settings --------------------------------------------------------
    def rules(self) -> tuple[scenarios.Rule, ...]:
        return scenarios.load_rules(self.store.get_setting("rules"))

    def set_rules(self, rules: list[scenarios.Rule] | tuple[scenarios.Rule, ...] | None) -> tuple[scenarios.Rule, ...]:
        """Replace the rules; None goes back to the defaults (the test numbers of docs/contract.md §3)."""
        with self.store.write() as db:
            if rules is None:
                db.execute("DELETE FROM settings WHERE key='rules'")
            else:
                self.store.set_setting("rules", scenarios.dump_rules(rules), db)
        return self.rules()

    def add_rule(self, rule: scenarios.Rule, position: int = 0) -> tuple[scenarios.Rule, ...]:
        """Insert a rule (first by default, so it wins over the defaults); one transaction, no lost update."""
        with self.store.write() as db:
            rules = list(scenarios.load_rules(self.store.get_setting("rules")))
            rules.insert(position, rule)
            self.store.set_setting("rules", scenarios.dump_rules(rules), db)
        return self.rules()

    def delivery_settings(self) -> settings.DeliverySettings:
        return settings.load(self.store)

    def report_delay(self) -> float:
        return self.delivery_settings().report_delay

    def seed_demo(self) -> bool:
        """Create the demo account on first start; True when it was created now."""
        if self.store.get_account(DEMO_ACCOUNT.name) is not None:
            return False
        demo = Account(**{**DEMO_ACCOUNT.__dict__, "created_at": time.time()})
        self.store.insert_account(demo)
        return True

    # -- sending ---------------------------------------------------------
    def send(self, req: SendRequest) -> SendOutcome:
        # One reading of the store's generation for the whole send (its account and settings come from this
        # worker's cache; under the fault middleware, the request's own reading).
        with self.store.one_generation():
            outcome, account = self._send(req)
        if account is not None:  # every reply after authentication says how the account pays and its points
            outcome.pay_type = account.pay_type
            outcome.points = points.points(account, outcome.balance)
        return outcome

    def _send(self, req: SendRequest) -> tuple[SendOutcome, Account | None]:
        http = req.via in HTTP_VIAS
        warnings = list(req.warnings)
        # the cached account: its balance may be older than the row's; the debit and a refusal read it again
        account = authenticate(self.store, req.account, req.password, req.client_ip, http=http, cached=True)
        if isinstance(account, ResultCode):
            self.record_warnings(req.account or "", req.via, warnings)
            return SendOutcome(account, warnings=warnings), None
        if http:
            warnings += password_warnings(req.password)
        forced = req.fault() if req.fault is not None else None
        if forced is not None:  # an injected `code` fault: refused, nothing charged
            return self._refused(req, account, SendOutcome(forced, balance=account.balance), warnings), account
        if req.param_error:
            return self._refused(
                req,
                account,
                SendOutcome(ResultCode.ParamError, balance=account.balance, errors=[req.param_error]),
                warnings,
            ), account
        if req.product != "sms":  # SendMms, HybridSend: no account of the mock has these products (contract §2)
            return self._refused(req, account, SendOutcome(ResultCode.NoProduct, balance=account.balance), warnings), (
                account
            )
        checked = self._check(req, account, warnings)
        if isinstance(checked, SendOutcome):
            return self._refused(req, account, checked, warnings), account
        if warnings and self.is_strict(account):
            refusal = warnings[0]
            return self._refused(
                req, account, SendOutcome(refusal.refusal, balance=account.balance, strict_refusal=refusal), warnings
            ), account
        recipients, ext, accepted, errors, snap = checked
        return self._commit(req, account, ext, accepted, errors, snap, warnings), account

    # -- conformance (core/conformance.py) --------------------------------
    def is_strict(self, account: Account | None) -> bool:
        """Strict mode for this account: the server's `--strict`, or the account's own ``strict``."""
        if account is not None and account.strict:
            return True
        return self.strict or self.settings_snapshot().strict

    def set_strict(self, strict: bool) -> None:
        """Server-wide strict mode (`serve --strict` sets it at every start, on or off)."""
        with self.store.write() as db:
            self.store.set_setting("strict", "1" if strict else "0", db)

    def conform(
        self, account: Account, via: str, password: str | None, warnings: list[ConformanceWarning]
    ) -> ConformanceWarning | None:
        """For a request other than a send (queries, overage, password change) by an authenticated account: adds
        the password warning, records every warning, and returns the one strict mode refuses it for, if any."""
        warnings.extend(password_warnings(password) if via in HTTP_VIAS else [])
        self.record_warnings(account.name, via, warnings)
        return warnings[0] if warnings and self.is_strict(account) else None

    def record_warnings(
        self,
        account: str,
        via: str,
        warnings: list[ConformanceWarning],
        task_id: int | None = None,
        db: Any = None,
        now: float | None = None,
    ) -> None:
        """Warnings are diagnostics kept beside the data; written only when there are any (never on the happy
        path), in the send's own transaction when ``db`` is given, at the send's platform time when ``now``
        is (reading the clock's offset again would cost a query per send that warns)."""
        if not warnings:
            return
        at = self.now() if now is None else now
        rows = [(at, account, task_id, via, w.code, w.detail) for w in warnings]
        if db is not None:
            self.store.insert_warnings(db, rows)
            return
        with self.store.write() as own:
            self.store.insert_warnings(own, rows)

    def warnings(
        self,
        account: str | None = None,
        code: str | None = None,
        since: float | None = None,
        task_id: int | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Recorded warnings, newest first, each with its rule and fix (admin API, fixture, inbox)."""
        out = []
        for row in self.store.list_warnings(account=account, code=code, since=since, task_id=task_id, limit=limit):
            item = ConformanceWarning(row["code"], row["detail"]).to_json()
            item.update(
                id=row["id"],
                at=clock.from_epoch(row["at"], self.zone).isoformat(),
                account=row["account"],
                task_id=row["task_id"],
                via=row["via"],
            )
            out.append(item)
        return out

    def _refused(
        self, req: SendRequest, account: Account, outcome: SendOutcome, warnings: list[ConformanceWarning]
    ) -> SendOutcome:
        """A refusal after authentication: it reports the balance as it is now (the account came from the cache)."""
        outcome.warnings = warnings
        current = self.store.balance_of(self.store.db, account.name)
        if current is not None:
            outcome.balance = current[0]
        self.record_warnings(account.name, req.via, warnings)
        return outcome

    def _check(self, req: SendRequest, account: Account, warnings: list[ConformanceWarning]):
        def fail(code: ResultCode, errors: list[str] | None = None) -> SendOutcome:
            return SendOutcome(code, balance=account.balance, errors=errors or [])

        recipients = parse_recipients(req.msisdns, req.hybrid, warnings)
        if isinstance(recipients, ResultCode):
            return fail(recipients)
        ext = check_ext_number(req.ext_number)
        if isinstance(ext, ResultCode):
            return fail(ext)
        content = req.content or ""
        problem = check_content(content, account.sensitive_words, warnings)
        if problem is not None:
            return fail(problem)
        if segment_count(content) > account.segment_limit:
            return fail(ResultCode.ContentLong)
        if not account.prices:
            return fail(ResultCode.NoProduct)
        snap = self.settings_snapshot()
        if req.plan_send_time is not None:
            now = clock.wall_seconds() + snap.clock_offset
            if clock.to_epoch(req.plan_send_time, self.zone) < now - PAST_GRACE:
                warnings.append(
                    ConformanceWarning(
                        "send-time-past",
                        f"{req.plan_send_time.isoformat()} is before the platform time "
                        f"{clock.from_epoch(now, self.zone).isoformat(timespec='seconds')}",
                    )
                )
        rules = snap.rules
        accepted: list[Accepted] = []
        errors: list[str] = []
        first_refusal: ResultCode | None = None
        segments = segment_count(content)
        charges: dict[str, Charge | None] = {}  # per country: every recipient of one country costs the same
        for recipient in recipients:
            rule = scenarios.rule_for(recipient.international, rules)
            if rule is scenarios.FALLBACK and recipient.mobile != recipient.international:
                rule = scenarios.rule_for(recipient.mobile, rules)  # a rule may name the number as sent
            code = scenarios.REFUSALS.get(rule.outcome)
            charge = None
            if not code:
                country = recipient.country
                if country not in charges:
                    charges[country] = charge_for(recipient.mobile, country, content, account.prices, segments)
                per_country = charges[country]
                if per_country is not None:
                    charge = Charge(
                        recipient.mobile, country, per_country.segments, per_country.price, per_country.amount
                    )
            if charge is None:
                code = code or ResultCode.MsisdnNoChannel
                errors.append(f"{recipient.mobile}:{code.name}")
                first_refusal = first_refusal or code
                continue
            accepted.append(Accepted(charge, rule, recipient.international))
        if not accepted:
            return fail(first_refusal or ResultCode.MsisdnNoChannel, errors)
        return recipients, ext, accepted, errors, snap

    def _commit(
        self,
        req: SendRequest,
        account: Account,
        ext: str,
        accepted: list[Accepted],
        errors: list[str],
        snap: Snapshot,
        warnings: list[ConformanceWarning],
    ) -> SendOutcome:
        billing_count = sum(a.charge.segments for a in accepted)
        amount = sum((a.charge.amount for a in accepted), Decimal("0"))
        now = clock.wall_seconds() + snap.clock_offset
        send_at = now
        if req.plan_send_time is not None:
            send_at = max(now, clock.to_epoch(req.plan_send_time, self.zone))
        scheduled = send_at > now
        default_delay = snap.delivery.report_delay
        rows = self._message_rows(account.name, accepted, send_at, default_delay, scheduled)
        rows += self._refused_rows(account.name, errors)
        with self.store.write() as db:
            # The checks used the cached account; its balance and pay type are read here, under the write lock,
            # so nothing can change them between this read and the debit.
            current = self.store.balance_of(db, account.name)
            if current is None:  # deleted between the checks and now
                return SendOutcome(ResultCode.UserNameError)
            old_balance, pay_type = current
            counted = self._count_limits(db, account, accepted, req.content or "", now)
            if counted is not None and counted.warnings:
                warnings = warnings + counted.warnings
                if account.limits == sendlimits.ENFORCE or self.is_strict(account):
                    refusal = counted.warnings[0]
                    self.record_warnings(account.name, req.via, warnings, None, db, now)
                    return SendOutcome(
                        sendlimits.REFUSAL,
                        balance=old_balance,
                        errors=errors,
                        warnings=warnings,
                        strict_refusal=refusal,
                    )
            if pay_type == "prepaid" and old_balance < amount:
                return SendOutcome(ResultCode.AmountNotEnough, balance=old_balance, errors=errors)
            if counted is not None:
                self.store.save_send_counters(db, counted.rows, counted.code_sends)
            balance = old_balance - amount
            self.store.set_balance(db, account.name, balance)
            task_id = self.store.insert_task(
                db,
                account=account.name,
                via=req.via,
                content=req.content or "",
                ext_number=ext,
                created_at=now,
                send_at=send_at,
                scheduled=int(scheduled),
                recipients=len(accepted),
                billing_count=billing_count,
                billing_amount=str(amount),
            )
            self.store.insert_messages(db, [(task_id, *row) for row in rows])
            self.record_warnings(account.name, req.via, warnings, task_id, db, now)
        return SendOutcome(
            ResultCode.OK,
            task_id=task_id,
            balance=balance,
            billing_amount=amount,
            billing_count=billing_count,
            success_count=len(accepted),
            errors=errors,
            warnings=warnings,
        )

    def _count_limits(
        self, db: Any, account: Account, accepted: list[Accepted], content: str, now: float
    ) -> sendlimits.Decision | None:
        """The sending limits' decision on this send, inside its transaction; None when the account has them off."""
        if account.limits == sendlimits.OFF:
            return None
        numbers = [a.number or a.charge.mobile for a in accepted]
        limits = sendlimits.Limits(account.limits, account.code_limit, account.code_window, account.daily_limit)
        since = now - limits.code_window if sendlimits.has_code(content) else None
        counters = self.store.send_counters(db, account.name, numbers, since)
        return sendlimits.decide(account.name, numbers, content, limits, counters, now, self.zone)

    def limit_counters(
        self, account: str | None = None, mobile: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Each number's counters as the next send would see them (admin API, fixture)."""
        now = self.now()
        today = sendlimits.day_of(now, self.zone)
        out = []
        for row in self.store.list_send_counters(account=account, mobile=mobile, limit=limit):
            current = self.store.cached_account(row["account"])
            window = current.code_window if current is not None else sendlimits.Limits().code_window
            out.append(
                {
                    "account": row["account"],
                    "mobile": row["mobile"],
                    "sent_today": row["sent"] if row["day"] == today else 0,
                    "day": today,
                    "code_sends_in_window": self.store.code_sends_since(row["account"], row["mobile"], now - window),
                }
            )
        return out

    def reset_limits(self, account: str | None = None, mobile: str | None = None) -> int:
        """Forget the sending limits' counters (all, one account's, or one number's); how many numbers."""
        return self.store.reset_send_counters(account=account, mobile=mobile)

    @staticmethod
    def _refused_rows(account: str, errors: list[str]) -> list[tuple]:
        """store.MESSAGE_COLUMNS after task_id for each recipient the send left out (``"<mobile>:<Code>"``): status
        ``refused``, nothing charged, the code in ``report_errorcode``, never delivered or reported. Why stored at
        all: the inbox shows every recipient of a send, so a blacklisted number is seen refused, not missing."""
        rows = []
        for line in errors:
            mobile, sep, code = line.rpartition(":")
            if sep and mobile and not line.startswith("strict:"):
                rows.append((account, mobile, "", 0, "0", "0", REFUSED, None, None, code, None))
        return rows

    @staticmethod
    def _message_rows(
        account: str, accepted: list[Accepted], send_at: float, default_delay: float, scheduled: bool
    ) -> list[tuple]:
        """store.MESSAGE_COLUMNS after task_id, one tuple per accepted recipient (built before the write lock)."""
        status = "scheduled" if scheduled else "sent"
        rows = []
        for a in accepted:
            rule, charge = a.rule, a.charge
            reported = rule.outcome != scenarios.NO_REPORT
            delay = default_delay if rule.delay is None else rule.delay
            rows.append(
                (
                    account,
                    charge.mobile,
                    charge.country,
                    charge.segments,
                    str(charge.price),
                    str(charge.amount),
                    status,
                    send_at + delay if reported else None,
                    rule.report_status if reported else None,
                    rule.report_errorcode if reported else None,
                    rule.reply or None,
                )
            )
        return rows

    # -- account queries -------------------------------------------------
    def authenticate(
        self, name: str | None, password: str | None, client_ip: str, *, http: bool = True
    ) -> Account | ResultCode:
        return authenticate(self.store, name, password, client_ip, http=http)

    def change_password(self, account: Account, new_password: str) -> None:
        """Takes effect at once for SOAP and HTTP alike: there is one password."""
        with self.store.write() as db:
            db.execute("UPDATE accounts SET password=? WHERE name=?", (new_password, account.name))

    # -- delivery queues -------------------------------------------------
    def release_due(self) -> Released:
        """Lazily turn what time made due into reports, uplinks and push batches (pulls call this too)."""
        with self.store.write() as db:
            return delivery.release_due(db, self.now())

    def pull_reports(self, account: Account, limit: int = MAX_PULL, task_id: int | None = None) -> list[Report]:
        """Reports due by now, oldest first, each handed out once (pushed ones only after a failed push)."""
        with self.store.write() as db:
            delivery.release_due(db, self.now())
            rows = self.store.take_reports(db, account.name, min(limit, MAX_PULL), task_id)
        return delivery.reports_from_rows(rows, self.zone)

    def pull_uplinks(self, account: Account, limit: int = MAX_PULL) -> list[Uplink]:
        with self.store.write() as db:
            delivery.release_due(db, self.now())
            rows = self.store.take_uplinks(db, account.name, min(limit, MAX_PULL))
        return delivery.uplinks_from_rows(rows, self.zone)

    def inject_uplink(self, account: str, mobile: str, content: str, extno: str = "") -> InjectedUplink:
        """An MO reply from ``mobile``, linked to the last task sent to it (admin API and tests).

        It goes where the account's reports go: the push URL if it has one, else the pull queue.
        """
        with self.store.write() as db:
            current = self.store.get_account(account, db)
            push_url = current.push_url if current else ""
            task_id = self.store.last_task_to(db, account, mobile)
            uplink_id, route = delivery.add_uplink(db, account, push_url, mobile, task_id, content, extno, self.now())
        return InjectedUplink(uplink_id, task_id, route)

    # -- the admin API's levers ------------------------------------------
    def set_outcome(self, message_id: int, delivered: bool, errorcode: str) -> str | None:
        """Deliver or fail a sent message now, whatever its rule said; the report is produced at once.

        Returns the message's status before: only ``sent`` (waiting for its report) is changed; None when
        there is no such message.
        """
        with self.store.write() as db:
            status = self.store.message_status(db, message_id)
            if status == "sent":
                self.store.set_report(db, message_id, 10 if delivered else 20, errorcode, self.now())
        if status == "sent":
            self.release_due()
        return status

    def reset(self) -> Account:
        """Back to a first start in one transaction: only the demo account, default rules and settings, real
        time, empty queues (the request journal has a file of its own: its owner clears it). Returns the demo."""
        demo = Account(
            **{
                **DEMO_ACCOUNT.__dict__,
                "prices": dict(DEMO_ACCOUNT.prices),
                "sensitive_words": list(DEMO_ACCOUNT.sensitive_words),
                "created_at": time.time(),
            }
        )
        self.store.reset(("rules", "clock_offset", *settings.VALIDATORS), [demo])
        return demo
