"""What a send and its delivery write and hand out: tasks, messages, reports, uplinks, warnings, counters.

Why a module of its own: these are the hot paths, run inside a send's (or a pull's) transaction with the
connection passed in; their SQL is constant so sqlite3 keeps it prepared.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from ipyy_mock.core.store.writes import Connections

TAKE_REPORTS = "SELECT * FROM reports WHERE account=? AND consumed=0 AND route='pull' ORDER BY id LIMIT ?"
TAKE_TASK_REPORTS = (
    "SELECT * FROM reports WHERE account=? AND consumed=0 AND route='pull' AND task_id=? ORDER BY id LIMIT ?"
)
TAKE_UPLINKS = "SELECT * FROM uplinks WHERE account=? AND consumed=0 AND route='pull' ORDER BY id LIMIT ?"
# The same rows, marked consumed in one UPDATE (a pull of 4000 was 4000 UPDATEs). Both statements run in one
# IMMEDIATE transaction, so nothing can change between them: the subquery selects exactly the rows handed out.
CONSUME_REPORTS = (
    "UPDATE reports SET consumed=1 WHERE id IN (SELECT id FROM reports WHERE account=? AND consumed=0 "
    "AND route='pull' ORDER BY id LIMIT ?)"
)
CONSUME_TASK_REPORTS = (
    "UPDATE reports SET consumed=1 WHERE id IN (SELECT id FROM reports WHERE account=? "
    "AND consumed=0 AND route='pull' AND task_id=? ORDER BY id LIMIT ?)"
)
CONSUME_UPLINKS = (
    "UPDATE uplinks SET consumed=1 WHERE id IN (SELECT id FROM uplinks WHERE account=? AND consumed=0 "
    "AND route='pull' ORDER BY id LIMIT ?)"
)


def _check_consumed(updated: int, rows: list[sqlite3.Row]) -> None:
    if updated != len(rows):  # only possible outside a write transaction: roll back rather than hand out twice
        raise sqlite3.OperationalError(f"marked {updated} rows consumed for {len(rows)} handed out")


TASK_COLUMNS = (
    "account",
    "via",
    "content",
    "ext_number",
    "created_at",
    "send_at",
    "scheduled",
    "recipients",
    "billing_count",
    "billing_amount",
)
MESSAGE_COLUMNS = (
    "task_id",
    "account",
    "mobile",
    "country",
    "segments",
    "price",
    "amount",
    "status",
    "report_due_at",
    "report_status",
    "report_errorcode",
    "reply_text",
)
# Constant SQL in the hot paths: sqlite3 caches the prepared statement per connection by its text.
INSERT_TASK = f"INSERT INTO tasks ({', '.join(TASK_COLUMNS)}) VALUES ({', '.join('?' for _ in TASK_COLUMNS)})"
INSERT_MESSAGE = (
    f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) VALUES ({', '.join('?' for _ in MESSAGE_COLUMNS)})"
)
#: A message row for a recipient the send left out (blacklisted, a bad number): in the inbox, never delivered.
REFUSED = "refused"


class Records(Connections):
    """Send records."""

    def insert_task(self, db: sqlite3.Connection, **task: Any) -> int:
        if tuple(task) == TASK_COLUMNS:
            cur = db.execute(INSERT_TASK, tuple(task.values()))
        else:
            cols = ", ".join(task)
            marks = ", ".join("?" for _ in task)
            cur = db.execute(f"INSERT INTO tasks ({cols}) VALUES ({marks})", tuple(task.values()))
        return int(cur.lastrowid)

    def insert_messages(self, db: sqlite3.Connection, rows: list[dict[str, Any]] | list[tuple]) -> None:
        """Rows as dicts (any columns) or as tuples in MESSAGE_COLUMNS order (the send path)."""
        if not rows:
            return
        if isinstance(rows[0], tuple):
            db.executemany(INSERT_MESSAGE, rows)
            return
        cols = list(rows[0])
        sql = f"INSERT INTO messages ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
        db.executemany(sql, [tuple(r[c] for c in cols) for r in rows])

    def total_charged(self, account: str) -> Decimal:
        """What the account's sends have been charged in all (summed as Decimal: SQLite's SUM would use floats)."""
        rows = self.db.execute("SELECT billing_amount FROM tasks WHERE account=?", (account,))
        return sum((Decimal(row[0]) for row in rows), Decimal("0"))

    def get_task(self, task_id: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM tasks WHERE id=?", (task_id,)).fetchone()

    def messages(
        self, account: str | None = None, mobile: str | None = None, task_id: int | None = None, limit: int = 1000
    ) -> list[sqlite3.Row]:
        where, args = [], []
        for col, val in (("m.account", account), ("m.mobile", mobile), ("m.task_id", task_id)):
            if val is not None:
                where.append(f"{col}=?")
                args.append(val)
        sql = (
            "SELECT m.*, t.content, t.ext_number, t.send_at, t.scheduled, t.via FROM messages m "
            "JOIN tasks t ON t.id = m.task_id"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY m.id DESC LIMIT ?"
        return self.db.execute(sql, (*args, limit)).fetchall()

    def last_task_to(self, db: sqlite3.Connection, account: str, mobile: str) -> int | None:
        row = db.execute(
            "SELECT task_id FROM messages WHERE account=? AND mobile=? AND status NOT IN ('scheduled', 'refused') "
            "ORDER BY id DESC LIMIT 1",
            (account, mobile),
        ).fetchone()
        return row["task_id"] if row else None

    # -- the vendor's sending limits (core/sendlimits.py) ------------------
    def send_counters(
        self, db: sqlite3.Connection, account: str, mobiles: list[str], since: float | None = None
    ) -> dict[str, sqlite3.Row]:
        """The counter rows of these numbers of the account (inside the send's transaction: nothing can change
        them before ``save_send_counters`` in the same one). With ``since``, first forget their sends with
        验证码 at or before it and take them off ``code_count``, so the count is the window's; each send
        leaves the window once, so a send costs the same however many the window holds."""
        out: dict[str, sqlite3.Row] = {}
        for start in range(0, len(mobiles), 500):
            chunk = mobiles[start : start + 500]
            marks = ",".join("?" * len(chunk))
            if since is not None:
                self._expire_code_sends(db, account, chunk, marks, since)
            for row in db.execute(
                f"SELECT * FROM send_counters WHERE account=? AND mobile IN ({marks})", (account, *chunk)
            ):
                out[row["mobile"]] = row
        return out

    @staticmethod
    def _expire_code_sends(db: sqlite3.Connection, account: str, chunk: list[str], marks: str, since: float) -> None:
        where = f"account=? AND mobile IN ({marks}) AND time <= ?"
        args = (account, *chunk, since)
        left = db.execute(f"SELECT mobile, COUNT(*) FROM code_sends WHERE {where} GROUP BY mobile", args).fetchall()
        if left:
            db.execute(f"DELETE FROM code_sends WHERE {where}", args)
            db.executemany(
                "UPDATE send_counters SET code_count = MAX(code_count - ?, 0) WHERE account=? AND mobile=?",
                [(count, account, mobile) for mobile, count in left],
            )

    def save_send_counters(
        self,
        db: sqlite3.Connection,
        rows: list[tuple[str, str, str, int, int]],
        code_sends: list[tuple[str, str, float]],
    ) -> None:
        """``rows``: (account, mobile, day, sent, code_count), replacing what each number had; ``code_sends``:
        (account, mobile, time) of this send to each number, when it has 验证码."""
        db.executemany(
            "INSERT INTO send_counters (account, mobile, day, sent, code_count) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(account, mobile) DO UPDATE SET day=excluded.day, sent=excluded.sent, "
            "code_count=excluded.code_count",
            rows,
        )
        db.executemany("INSERT INTO code_sends (account, mobile, time) VALUES (?, ?, ?)", code_sends)

    # -- pull queues (delivery.py fills them) ----------------------------
    def take_reports(self, db: sqlite3.Connection, account: str, limit: int, task_id: int | None) -> list[sqlite3.Row]:
        """Hand out reports once, oldest first."""
        args = (account, limit) if task_id is None else (account, task_id, limit)
        rows = db.execute(TAKE_REPORTS if task_id is None else TAKE_TASK_REPORTS, args).fetchall()
        if rows:
            cur = db.execute(CONSUME_REPORTS if task_id is None else CONSUME_TASK_REPORTS, args)
            _check_consumed(cur.rowcount, rows)
        return rows

    # -- conformance warnings ---------------------------------------------
    def insert_warnings(self, db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
        """``rows``: (at, account, task_id, via, code, detail)."""
        db.executemany("INSERT INTO warnings (at, account, task_id, via, code, detail) VALUES (?, ?, ?, ?, ?, ?)", rows)

    def take_uplinks(self, db: sqlite3.Connection, account: str, limit: int) -> list[sqlite3.Row]:
        rows = db.execute(TAKE_UPLINKS, (account, limit)).fetchall()
        if rows:
            cur = db.execute(CONSUME_UPLINKS, (account, limit))
            _check_consumed(cur.rowcount, rows)
        return rows

    def message_status(self, db: sqlite3.Connection, message_id: int) -> str | None:
        row = db.execute("SELECT status FROM messages WHERE id=?", (message_id,)).fetchone()
        return row["status"] if row else None

    def set_report(
        self, db: sqlite3.Connection, message_id: int, report_status: int, errorcode: str, due_at: float
    ) -> None:
        """The report this message will get, and when (release_due produces it)."""
        db.execute(
            "UPDATE messages SET report_status=?, report_errorcode=?, report_due_at=? WHERE id=?",
            (report_status, errorcode, due_at, message_id),
        )
