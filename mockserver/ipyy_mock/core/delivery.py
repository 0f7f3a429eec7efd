"""Delivery: what time has made due, and which way it leaves (the pull queue or a push batch).

Why one module for both: three callers release (every pull, the admin clock,
the push runner) and the push runner claims and settles batches; they must all
agree on one small state machine. Every function here runs inside a
transaction its caller opened (``Store.write``), so two workers, or a crash
half-way, can never leave a report in two places or in none.

    message      scheduled → sent → delivered | failed       (its report was released)
    report/uplink  route 'pull' (consumed 0 → 1 when pulled)
                   route 'push' → batch_id → consumed 1 when the batch is delivered,
                   or back to route 'pull' when the batch is returned
    push batch   pending → sending → delivered
                                   → pending (a retry, after a pause) → ...
                                   → returned (3 tries failed: its rows join the pull queue)

Times: ``now`` is platform time (wall clock + the virtual clock's offset), so
report delays, sendTime and retry pauses all move when a test advances the
clock; ``wall`` is the real clock, used only for claim expiry, which must not
jump with the virtual clock.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, tzinfo
from itertools import groupby
from typing import Callable, Iterable

from ipyy_mock.core import clock
from ipyy_mock.core.domain import Report, Uplink
from ipyy_mock.core.settings import MAX_TRIES, DeliverySettings

log = logging.getLogger("ipyy_mock.core.delivery")


def _row_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just made (sqlite3 types ``lastrowid`` Optional: None only before any)."""
    assert cursor.lastrowid is not None
    return cursor.lastrowid


PULL, PUSH = "pull", "push"
STATUSBOX, CALLBOX = "statusbox", "callbox"
TABLES = {STATUSBOX: "reports", CALLBOX: "uplinks"}
MAX_BATCH = 4000  # the pull reply's own maximum; a push batch is never bigger

# push_attempts.outcome values
DELIVERED = "delivered"  # the receiver answered 1
DELIVERED_OTHER = "delivered_other"  # no body or another body: delivered, as the vendor document says
ERROR = "error"  # the receiver answered error: try again
CONNECT_ERROR = "connect_error"  # no connection: try again
TIMEOUT = "timeout"  # no answer in time: try again
SENDING = "sending"  # in flight now
INTERRUPTED = "interrupted"  # the mock stopped while this try was in flight


@dataclass(frozen=True)
class Released:
    reports: int = 0
    uplinks: int = 0
    batches: int = 0

    def as_json(self) -> dict[str, int]:
        return {"reports": self.reports, "uplinks": self.uplinks, "push_batches": self.batches}


DETAIL_LIMIT = 200  # characters of an attempt's detail the push journal keeps: a receiver's answer is not ours to store


@dataclass(frozen=True)
class Attempt:
    """What one push try came to."""

    outcome: str
    http_status: int | None = None
    duration_ms: float = 0.0
    detail: str = ""

    @property
    def delivered(self) -> bool:
        return self.outcome in (DELIVERED, DELIVERED_OTHER)


@dataclass(frozen=True)
class Claim:
    """A batch one runner owns until it settles it (or until ``claim_expires``)."""

    batch_id: int
    account: str
    kind: str
    url: str
    items: int
    try_no: int
    attempt_id: int
    #: what the batch holds, as wire objects: the push runner renders them (the pull reply's format is the
    #: HTTP surface's, httpapi/replies.py), so the core knows no wire format
    records: list[Report] | list[Uplink]


# -- rows to wire objects (pull replies and push bodies alike) ----------------
def uplink_from_row(row: sqlite3.Row, zone: tzinfo) -> Uplink:
    return Uplink(
        row["mobile"], row["task_id"], row["content"], clock.from_epoch(row["receive_time"], zone), row["extno"]
    )


def reports_from_rows(rows: Iterable[sqlite3.Row], zone: tzinfo) -> list[Report]:
    """Reports from their rows; the reports of one send share their receive time, converted once."""
    moments: dict[float, datetime] = {}
    reports = []
    for row in rows:
        epoch = row["receive_time"]
        moment = moments.get(epoch)
        if moment is None:
            moment = moments[epoch] = clock.from_epoch(epoch, zone)
        reports.append(Report(row["mobile"], row["task_id"], row["status"], moment, row["errorcode"], row["extno"]))
    return reports


def uplinks_from_rows(rows: Iterable[sqlite3.Row], zone: tzinfo) -> list[Uplink]:
    return [uplink_from_row(row, zone) for row in rows]


# -- release ------------------------------------------------------------------
# The push-bound rows without a batch are few (usually none): the partial indexes reports_unbatched and
# uplinks_unbatched (core/store/schema.py) hold exactly them. INDEXED BY, because without statistics SQLite prefers the
# batch_id index, where "batch_id IS NULL" also matches every pull-queue row of the whole history.
_ANYTHING_DUE = (
    "SELECT EXISTS(SELECT 1 FROM messages WHERE status='sent' AND report_due_at<=?) "
    "OR EXISTS(SELECT 1 FROM messages m JOIN tasks t ON t.id=m.task_id "
    "          WHERE m.status='scheduled' AND t.send_at<=?) "
    "OR EXISTS(SELECT 1 FROM reports INDEXED BY reports_unbatched WHERE route='push' AND batch_id IS NULL) "
    "OR EXISTS(SELECT 1 FROM uplinks INDEXED BY uplinks_unbatched WHERE route='push' AND batch_id IS NULL)"
)
# Scheduled messages whose task's time has come (a lookup per scheduled message, not a scan of every task).
_RELEASE_SCHEDULED = (
    "UPDATE messages SET status='sent' WHERE status='scheduled' AND EXISTS "
    "(SELECT 1 FROM tasks t WHERE t.id=messages.task_id AND t.scheduled=1 AND t.send_at<=?)"
)
# Due reports (and the auto-replies of the numbers that answer) enter their route in three set-based
# statements, in due order (ids ascending in that order, as the row-by-row loop gave them).
_DUE = (
    "FROM messages m JOIN tasks t ON t.id=m.task_id LEFT JOIN accounts a ON a.name=m.account "
    "WHERE m.status='sent' AND m.report_due_at IS NOT NULL AND m.report_due_at<=?"
)
_ROUTE = "CASE WHEN COALESCE(a.push_url, '')!='' THEN 'push' ELSE 'pull' END"
_RELEASE_REPORTS = (
    "INSERT INTO reports(account, task_id, mobile, status, errorcode, extno, receive_time, route) "
    f"SELECT m.account, m.task_id, m.mobile, m.report_status, m.report_errorcode, t.ext_number, m.report_due_at, "
    f"{_ROUTE} {_DUE} ORDER BY m.report_due_at, m.id"
)
_RELEASE_REPLIES = (
    "INSERT INTO uplinks(account, mobile, task_id, content, extno, receive_time, route) "
    f"SELECT m.account, m.mobile, m.task_id, m.reply_text, t.ext_number, m.report_due_at, {_ROUTE} {_DUE} "
    "AND m.reply_text IS NOT NULL AND m.reply_text!='' ORDER BY m.report_due_at, m.id"
)
_SETTLE_DUE = (
    "UPDATE messages SET status=CASE WHEN report_status=10 THEN 'delivered' ELSE 'failed' END "
    "WHERE status='sent' AND report_due_at IS NOT NULL AND report_due_at<=?"
)


def anything_due(db: sqlite3.Connection, now: float) -> bool:
    """A read-only check, so the idle push runner does not take the write lock every tick."""
    return bool(db.execute(_ANYTHING_DUE, (now, now)).fetchone()[0])


def release_due(db: sqlite3.Connection, now: float) -> Released:
    """Scheduled tasks whose time has come go out; due reports (and auto-replies) enter their route."""
    db.execute(_RELEASE_SCHEDULED, (now,))
    reports = db.execute(_RELEASE_REPORTS, (now,)).rowcount
    uplinks = db.execute(_RELEASE_REPLIES, (now,)).rowcount if reports else 0
    if reports:
        db.execute(_SETTLE_DUE, (now,))
    return Released(reports, uplinks, form_batches(db, now))


def add_uplink(
    db: sqlite3.Connection,
    account: str,
    push_url: str,
    mobile: str,
    task_id: int | None,
    content: str,
    extno: str,
    now: float,
) -> tuple[int, str]:
    """An MO reply arrives now: the pull queue, or a push batch of its own. Returns (id, route)."""
    route = PUSH if push_url else PULL
    uplink_id = _insert_uplink(db, account, mobile, task_id, content, extno, now, route)
    form_batches(db, now)
    return uplink_id, route


def _insert_uplink(
    db: sqlite3.Connection,
    account: str,
    mobile: str,
    task_id: int | None,
    content: str,
    extno: str,
    receive_time: float,
    route: str,
) -> int:
    cur = db.execute(
        "INSERT INTO uplinks(account, mobile, task_id, content, extno, receive_time, route) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (account, mobile, task_id, content, extno, receive_time, route),
    )
    return _row_id(cur)


_UNBATCHED = {
    table: (
        f"SELECT r.id, r.account, COALESCE(a.push_url, '') AS url FROM {table} r INDEXED BY {table}_unbatched "
        f"LEFT JOIN accounts a ON a.name=r.account WHERE r.route='push' AND r.batch_id IS NULL ORDER BY r.id"
    )
    for table in TABLES.values()
}
_TO_PULL = {table: f"UPDATE {table} SET route='pull' WHERE id=?" for table in TABLES.values()}
_TO_BATCH = {table: f"UPDATE {table} SET batch_id=? WHERE id=?" for table in TABLES.values()}


def form_batches(db: sqlite3.Connection, now: float) -> int:
    """Every push-bound row without a batch joins a new one: one batch per account and kind, oldest first.

    The URL is the account's push URL now; an account whose URL was cleared
    meanwhile gets its rows back in the pull queue instead.
    """
    batches = 0
    for kind, table in TABLES.items():
        rows = db.execute(_UNBATCHED[table]).fetchall()
        if not rows:
            continue
        by_account = sorted(rows, key=lambda r: (r["account"], r["id"]))
        for account, grouped in groupby(by_account, key=lambda r: r["account"]):
            group = list(grouped)
            ids = [r["id"] for r in group]
            url = group[0]["url"]
            if not url:
                db.executemany(_TO_PULL[table], [(i,) for i in ids])
                continue
            for start in range(0, len(ids), MAX_BATCH):
                chunk = ids[start : start + MAX_BATCH]
                cur = db.execute(
                    "INSERT INTO push_batches(account, kind, url, items, next_try_at, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (account, kind, url, len(chunk), now, now),
                )
                db.executemany(_TO_BATCH[table], [(cur.lastrowid, i) for i in chunk])
                batches += 1
    return batches


# -- claims ---------------------------------------------------------------------
_CLAIMABLE = (
    "((b.state='pending' AND b.next_try_at<=:now) OR (b.state='sending' AND b.claim_expires<:wall)) "
    "AND NOT EXISTS (SELECT 1 FROM push_batches o WHERE o.account=b.account AND o.id!=b.id "
    "                AND o.state='sending' AND o.claim_expires>=:wall)"
)


def claimable(db: sqlite3.Connection, now: float, wall: float) -> bool:
    return (
        db.execute(f"SELECT 1 FROM push_batches b WHERE {_CLAIMABLE} LIMIT 1", {"now": now, "wall": wall}).fetchone()
        is not None
    )


def claim_next(db: sqlite3.Connection, owner: str, now: float, wall: float, hold: float, zone: tzinfo) -> Claim | None:
    """The oldest due batch, now owned by ``owner`` until ``wall + hold``; None when nothing is due.

    One account has at most one batch in flight, so a receiver sees its
    batches one at a time. A batch whose claim expired (its runner died
    mid-try) counts that try as interrupted and is taken over.
    """
    while True:
        row = db.execute(
            f"SELECT * FROM push_batches b WHERE {_CLAIMABLE} ORDER BY b.id LIMIT 1", {"now": now, "wall": wall}
        ).fetchone()
        if row is None:
            return None
        if row["state"] != "sending":
            break
        _interrupt(db, row, now, f"the claim of {row['claimed_by']} expired before it settled the try")
    try_no = row["tries"] + 1
    db.execute(
        "UPDATE push_batches SET state='sending', tries=?, claimed_by=?, claim_expires=? WHERE id=?",
        (try_no, owner, wall + hold, row["id"]),
    )
    cur = db.execute(
        "INSERT INTO push_attempts(batch_id, account, url, try_no, outcome, at) VALUES (?, ?, ?, ?, ?, ?)",
        (row["id"], row["account"], row["url"], try_no, SENDING, now),
    )
    return Claim(
        row["id"],
        row["account"],
        row["kind"],
        row["url"],
        row["items"],
        try_no,
        _row_id(cur),
        batch_records(db, row["id"], row["kind"], zone),
    )


def batch_records(db: sqlite3.Connection, batch_id: int, kind: str, zone: tzinfo) -> list[Report] | list[Uplink]:
    """The batch's reports or uplinks, in the order the pull reply lists them."""
    rows = db.execute(f"SELECT * FROM {TABLES[kind]} WHERE batch_id=? ORDER BY id", (batch_id,)).fetchall()
    if kind == STATUSBOX:
        return reports_from_rows(rows, zone)
    return uplinks_from_rows(rows, zone)


def settle(
    db: sqlite3.Connection, claim: Claim, owner: str, attempt: Attempt, now: float, settings: DeliverySettings
) -> str:
    """Record the try and move the batch on; returns the batch's state afterwards."""
    db.execute(
        "UPDATE push_attempts SET outcome=?, http_status=?, duration_ms=?, detail=? WHERE id=?",
        (
            attempt.outcome,
            attempt.http_status,
            round(attempt.duration_ms, 1),
            attempt.detail[:DETAIL_LIMIT],
            claim.attempt_id,
        ),
    )
    row = db.execute("SELECT * FROM push_batches WHERE id=?", (claim.batch_id,)).fetchone()
    if row is None:  # deleted while in flight (POST /_mock/api/reset): nothing left to settle
        return "gone"
    if row["state"] != "sending" or row["claimed_by"] != owner:
        return row["state"]  # our claim expired and another runner took the batch over: it decides
    if attempt.delivered:
        db.execute(
            "UPDATE push_batches SET state='delivered', finished_at=?, claimed_by=NULL, claim_expires=NULL WHERE id=?",
            (now, claim.batch_id),
        )
        db.execute(f"UPDATE {TABLES[claim.kind]} SET consumed=1 WHERE batch_id=?", (claim.batch_id,))
        return "delivered"
    if claim.try_no >= MAX_TRIES:
        _return_to_pull(db, row, now)
        return "returned"
    db.execute(
        "UPDATE push_batches SET state='pending', next_try_at=?, claimed_by=NULL, claim_expires=NULL WHERE id=?",
        (now + settings.pause_after(claim.try_no), claim.batch_id),
    )
    return "pending"


def release_claims(db: sqlite3.Connection, owners: Iterable[str], now: float, why: str) -> int:
    """The batches these runners were pushing become due again (their try counts, as interrupted)."""
    released = 0
    for owner in owners:
        for row in db.execute("SELECT * FROM push_batches WHERE state='sending' AND claimed_by=?", (owner,)).fetchall():
            _interrupt(db, row, now, why)
            released += 1
    return released


def claim_owners(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT DISTINCT claimed_by FROM push_batches WHERE state='sending'")}


def _interrupt(db: sqlite3.Connection, row: sqlite3.Row, now: float, why: str) -> None:
    db.execute(
        "UPDATE push_attempts SET outcome=?, detail=? WHERE batch_id=? AND outcome=?",
        (INTERRUPTED, why, row["id"], SENDING),
    )
    if row["tries"] >= MAX_TRIES:
        _return_to_pull(db, row, now)
        return
    db.execute(
        "UPDATE push_batches SET state='pending', next_try_at=?, claimed_by=NULL, claim_expires=NULL WHERE id=?",
        (now, row["id"]),
    )


def _return_to_pull(db: sqlite3.Connection, row: sqlite3.Row, now: float) -> None:
    """3 tries failed: the batch's rows join the pull queue (not lost), and the journal says so."""
    db.execute(
        "UPDATE push_batches SET state='returned', finished_at=?, claimed_by=NULL, claim_expires=NULL WHERE id=?",
        (now, row["id"]),
    )
    db.execute(f"UPDATE {TABLES[row['kind']]} SET route='pull' WHERE batch_id=?", (row["id"],))
    log.warning(
        "push batch %s (%s %s item(s) of account %s) failed %d tries to %s: moved to the pull queue",
        row["id"],
        row["items"],
        row["kind"],
        row["account"],
        MAX_TRIES,
        row["url"],
    )


# -- the journal's view ---------------------------------------------------------
def list_batches(db: sqlite3.Connection, account: str | None, limit: int, to_iso: Callable[[float], str]) -> list[dict]:
    """Newest batches first, each with its tries (for the admin API and the journal)."""
    where, args = ("WHERE account=?", [account]) if account else ("", [])
    batches = db.execute(f"SELECT * FROM push_batches {where} ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
    result = []
    for b in batches:
        attempts = db.execute("SELECT * FROM push_attempts WHERE batch_id=? ORDER BY id", (b["id"],)).fetchall()
        result.append(
            {
                "id": b["id"],
                "account": b["account"],
                "kind": b["kind"],
                "url": b["url"],
                "items": b["items"],
                "state": b["state"],
                "tries": b["tries"],
                "next_try_at": to_iso(b["next_try_at"]),
                "created_at": to_iso(b["created_at"]),
                "finished_at": to_iso(b["finished_at"]) if b["finished_at"] is not None else None,
                "attempts": [
                    {
                        "try": a["try_no"],
                        "outcome": a["outcome"],
                        "http_status": a["http_status"],
                        "duration_ms": a["duration_ms"],
                        "at": to_iso(a["at"]),
                        "detail": a["detail"],
                    }
                    for a in attempts
                ],
            }
        )
    return result
