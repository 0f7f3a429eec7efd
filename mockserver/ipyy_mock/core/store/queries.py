"""What the admin API, the inbox and the metrics read: newest-first lists, the books' totals, and reset.

Why a module of its own: these queries serve people and tools looking at the mock, never a send; they
read outside any write transaction (reset and the counters' reset excepted, each one short write).
"""

from __future__ import annotations

import os
import sqlite3
from decimal import Decimal
from typing import Any, Iterable

from ipyy_mock.core.store.accounts import Account
from ipyy_mock.core.store.schema import RESET_TABLES
from ipyy_mock.core.store.writes import Connections


def where(filters: Iterable[tuple[str, Any]]) -> tuple[str, list[Any]]:
    """`` WHERE a=? AND b>?`` and its values, from (condition, value) pairs whose value is given."""
    parts = [(sql, value) for sql, value in filters if value not in (None, "")]
    clause = (" WHERE " + " AND ".join(sql for sql, _ in parts)) if parts else ""
    return clause, [value for _, value in parts]


MESSAGE_VIEW = (
    "SELECT m.*, t.content, t.ext_number, t.created_at, t.send_at, t.via, r.receive_time AS reported_at "
    "FROM messages m JOIN tasks t ON t.id=m.task_id "
    "LEFT JOIN reports r ON r.task_id=m.task_id AND r.mobile=m.mobile"
)
CONVERSATIONS = (
    "SELECT account, mobile, MAX(at) AS last_at, SUM(sent) AS sent, SUM(received) AS received FROM ("
    " SELECT m.account, m.mobile, t.created_at AS at, 1 AS sent, 0 AS received"
    " FROM messages m JOIN tasks t ON t.id=m.task_id"
    " UNION ALL SELECT account, mobile, receive_time, 0, 1 FROM uplinks)"
)


def latest_ids(db: sqlite3.Connection) -> dict[str, int]:
    """The newest id of each table the inbox shows (an index lookup each): a change means something arrived."""
    return {
        table: int(db.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0])  # noqa: S608 (fixed names)
        for table in ("messages", "reports", "uplinks", "warnings")
    }


class Queries(Connections):
    """Admin lists and totals."""

    # -- what the live inbox watches (admin/events.py) ---------------------
    def latest_ids(self) -> dict[str, int]:
        return latest_ids(self.db)

    # -- the books' totals (GET /_mock/metrics) ---------------------------
    def book_totals(self) -> dict[tuple[str, str, str], Decimal]:
        """(metric, account, label) -> total, over every row ever written: the live rows plus what retention
        pruned (``pruned_totals``). One read transaction, so the totals agree with each other.

        Why derived and not counted per process: every worker process (and the CLI) writes the same file, so
        the file is the one place where a total is right; and the totals are the books themselves.
        """
        totals: dict[tuple[str, str, str], Decimal] = {}

        def add(key: tuple[str, str, str], value: Any) -> None:
            totals[key] = totals.get(key, Decimal(0)) + Decimal(value)

        db = self.db
        db.execute("BEGIN")
        try:
            for account, amount, count, segments in db.execute(
                "SELECT account, billing_amount, COUNT(*), SUM(billing_count) FROM tasks GROUP BY account, billing_amount"
            ):
                add(("sends", account, ""), count)
                add(("segments", account, ""), segments or 0)
                add(("charged", account, ""), Decimal(amount) * count)  # decimal text times a count: exact
            for account, count in db.execute("SELECT account, COUNT(*) FROM messages GROUP BY account"):
                add(("messages", account, ""), count)
            for account, outcome, count in db.execute(
                "SELECT account, outcome, COUNT(*) FROM push_attempts WHERE outcome != 'sending' "
                "GROUP BY account, outcome"
            ):
                add(("push_attempts", account, outcome), count)
            for code, count in db.execute("SELECT code, COUNT(*) FROM warnings GROUP BY code"):
                add(("warnings", "", code), count)
            for metric, account, label, value in db.execute("SELECT metric, account, label, value FROM pruned_totals"):
                add((metric, account, label), value)
        finally:
            db.execute("COMMIT")
        return totals

    def balances(self) -> dict[str, Decimal]:
        return {row[0]: Decimal(row[1]) for row in self.db.execute("SELECT name, balance FROM accounts")}

    def size(self) -> dict[str, int]:
        """The database's pages and free pages, and its bytes with the WAL (metrics and health)."""
        page_size = int(self.db.execute("PRAGMA page_size").fetchone()[0])
        pages = int(self.db.execute("PRAGMA page_count").fetchone()[0])
        free = int(self.db.execute("PRAGMA freelist_count").fetchone()[0])
        total = 0
        for suffix in ("", "-wal"):
            try:
                total += os.stat(self.path + suffix).st_size
            except OSError:
                pass
        return {"page_size": page_size, "pages": pages, "free_pages": free, "bytes": total}

    def list_send_counters(
        self, *, account: str | None = None, mobile: str | None = None, limit: int = 200
    ) -> list[sqlite3.Row]:
        clause, args = where([("account=?", account), ("mobile=?", mobile)])
        return self.db.execute(
            f"SELECT * FROM send_counters{clause} ORDER BY account, mobile LIMIT ?", (*args, limit)
        ).fetchall()

    def reset_send_counters(self, *, account: str | None = None, mobile: str | None = None) -> int:
        """Forget the counters (of one account, one number, or all); how many numbers were reset."""
        clause, args = where([("account=?", account), ("mobile=?", mobile)])
        with self.write() as db:
            db.execute(f"DELETE FROM code_sends{clause}", args)
            return db.execute(f"DELETE FROM send_counters{clause}", args).rowcount

    def code_sends_since(self, account: str, mobile: str, since: float) -> int:
        """How many sends with 验证码 the number got after ``since`` (the window as the next send sees it)."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM code_sends WHERE account=? AND mobile=? AND time > ?", (account, mobile, since)
        ).fetchone()
        return int(row[0])

    def list_warnings(
        self,
        *,
        account: str | None = None,
        code: str | None = None,
        since: float | None = None,
        task_id: int | None = None,
        limit: int = 200,
    ) -> list[sqlite3.Row]:
        """Newest first; every filter optional."""
        where, args = [], []  # type: ignore[var-annotated]
        since = None if since is None else since - 1e-6  # an ISO time (microseconds) read back as a float
        for column, op, value in (
            ("account", "=", account),
            ("code", "=", code),
            ("at", ">=", since),
            ("task_id", "=", task_id),
        ):
            if value is not None:
                where.append(f"{column} {op} ?")
                args.append(value)
        sql = (
            "SELECT * FROM warnings" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?"
        )
        return self.db.execute(sql, (*args, limit)).fetchall()

    def warnings_by_task(self, task_ids: list[int]) -> dict[int, list[sqlite3.Row]]:
        """The warnings of each of these tasks (the inbox and the admin API show them on their messages)."""
        out: dict[int, list[sqlite3.Row]] = {}
        ids = sorted(set(task_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(f"SELECT * FROM warnings WHERE task_id IN ({marks}) ORDER BY id", chunk):
                out.setdefault(row["task_id"], []).append(row)
        return out

    # -- what the admin API lists (read only; newest first) ---------------
    def list_tasks(
        self,
        *,
        account: str | None = None,
        task_id: int | None = None,
        since_id: int | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 200,
    ) -> list[sqlite3.Row]:
        clause, args = where(
            [
                ("account=?", account),
                ("id=?", task_id),
                ("id>?", since_id),
                ("created_at>=?", since),
                ("created_at<?", until),
            ]
        )
        return self.db.execute(f"SELECT * FROM tasks{clause} ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()

    def list_messages(
        self,
        *,
        account: str | None = None,
        mobile: str | None = None,
        task_id: int | None = None,
        status: str | None = None,
        since_id: int | None = None,
        since: float | None = None,
        until: float | None = None,
        message_id: int | None = None,
        limit: int = 200,
    ) -> list[sqlite3.Row]:
        """Messages with their task's text and times, and when their report was produced (``reported_at``)."""
        clause, args = where(
            [
                ("m.account=?", account),
                ("m.mobile=?", mobile),
                ("m.task_id=?", task_id),
                ("m.status=?", status),
                ("m.id>?", since_id),
                ("m.id=?", message_id),
                ("t.created_at>=?", since),
                ("t.created_at<?", until),
            ]
        )
        return self.db.execute(f"{MESSAGE_VIEW}{clause} ORDER BY m.id DESC LIMIT ?", (*args, limit)).fetchall()

    def list_reports(
        self, *, account: str | None = None, task_id: int | None = None, limit: int = 200
    ) -> list[sqlite3.Row]:
        """Every report produced, pulled or not (the mock's view: nothing is consumed)."""
        clause, args = where([("account=?", account), ("task_id=?", task_id)])
        return self.db.execute(
            f"SELECT * FROM reports{clause} ORDER BY receive_time DESC, id DESC LIMIT ?", (*args, limit)
        ).fetchall()

    def list_uplinks(
        self, *, account: str | None = None, mobile: str | None = None, limit: int = 200
    ) -> list[sqlite3.Row]:
        clause, args = where([("account=?", account), ("mobile=?", mobile)])
        return self.db.execute(
            f"SELECT * FROM uplinks{clause} ORDER BY receive_time DESC, id DESC LIMIT ?", (*args, limit)
        ).fetchall()

    def conversations(self, *, account: str | None = None, limit: int = 200) -> list[sqlite3.Row]:
        """One row per (account, phone number) with its last activity and counts sent and received."""
        clause, args = where([("account=?", account)])
        return self.db.execute(
            f"{CONVERSATIONS}{clause} GROUP BY account, mobile ORDER BY last_at DESC LIMIT ?", (*args, limit)
        ).fetchall()

    # -- outcomes and reset ------------------------------------------------

    def reset(self, settings: Iterable[str], accounts: Iterable[Account]) -> None:
        """Empty every data table, delete these settings, and make ``accounts`` the only ones: one transaction."""
        existing = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        with self.write() as db:
            for table in RESET_TABLES:
                if table in existing:
                    db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
            db.execute("DELETE FROM accounts")
            db.executemany("DELETE FROM settings WHERE key=?", [(k,) for k in settings])
            for account in accounts:
                row = account.to_row()
                db.execute(
                    f"INSERT INTO accounts ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                    tuple(row.values()),
                )
