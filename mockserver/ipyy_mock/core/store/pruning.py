"""Retention's queries (core/retention.py): which tasks and loose rows may go, removing them, and vacuum.

Why a module of its own: pruning must keep the books exact (``pruned_totals``) and never remove a row a
delivery still needs; its rules are read together here.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from ipyy_mock.core.store.writes import Connections


class Pruning(Connections):
    """Retention and vacuum."""

    # -- retention (core/retention.py) -------------------------------------
    def keep_bound(self, keep_messages: int) -> int | None:
        """The task of the ``keep_messages``-th newest message: tasks before it are beyond the count (a read, outside
        any write transaction: an OFFSET over a million rows must not hold the write lock)."""
        if keep_messages <= 0:
            return None
        row = self.db.execute(
            "SELECT task_id FROM messages ORDER BY id DESC LIMIT 1 OFFSET ?", (keep_messages - 1,)
        ).fetchone()
        return None if row is None else int(row[0])

    def first_task_since(self, since: float) -> int | None:
        """The first task created at or after ``since`` (a read outside the write lock; task ids grow with
        platform time, which only moves forward): tasks before it are older than ``since``."""
        row = self.db.execute("SELECT id FROM tasks WHERE created_at >= ? ORDER BY id LIMIT 1", (since,)).fetchone()
        if row is not None:
            return int(row[0])
        last = self.db.execute("SELECT MAX(id) FROM tasks").fetchone()[0]
        return None if last is None else int(last) + 1

    def prunable_tasks(self, db: sqlite3.Connection, below_task: int, max_messages: int) -> list[int]:
        """The oldest tasks below ``below_task`` that retention may remove now, up to about ``max_messages``
        messages (at least one task): never a task with a message still scheduled or waiting for its report,
        nor one whose report a push batch holds that has not finished."""
        rows = db.execute(
            "SELECT id, recipients FROM tasks WHERE id < ? AND NOT EXISTS ("
            "SELECT 1 FROM messages m WHERE m.task_id = tasks.id AND m.status IN ('scheduled', 'sent') "
            "AND m.report_due_at IS NOT NULL) AND NOT EXISTS ("
            "SELECT 1 FROM reports r JOIN push_batches b ON b.id = r.batch_id "
            "WHERE r.task_id = tasks.id AND b.state IN ('pending', 'sending')) AND NOT EXISTS ("
            "SELECT 1 FROM reports r WHERE r.task_id = tasks.id AND r.route = 'push' AND r.batch_id IS NULL) "
            "ORDER BY id LIMIT ?",
            (below_task, max(1, min(max_messages, 500))),
        ).fetchall()
        out: list[int] = []
        messages = 0
        for task_id, recipients in rows:
            if out and messages + recipients > max_messages:
                break
            out.append(task_id)
            messages += recipients
        return out

    def prune_tasks(self, db: sqlite3.Connection, task_ids: list[int]) -> dict[str, int]:
        """Remove these tasks with their messages, reports, uplinks and warnings, adding what they counted to
        ``pruned_totals`` first (in the caller's transaction): no row is left pointing at a removed task, and
        the books' totals (GET /_mock/metrics) do not move."""
        if not task_ids:
            return {}
        marks = ",".join("?" * len(task_ids))
        bump = (
            "INSERT INTO pruned_totals (metric, account, label, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(metric, account, label) DO UPDATE SET value = ?"
        )
        current = {
            (m, a, lab): Decimal(v)
            for m, a, lab, v in db.execute("SELECT metric, account, label, value FROM pruned_totals")
        }
        adds: dict[tuple[str, str, str], Decimal] = {}

        def add(key: tuple[str, str, str], value: Any) -> None:
            adds[key] = adds.get(key, Decimal(0)) + Decimal(value)

        for account, amount, count, segments in db.execute(
            f"SELECT account, billing_amount, COUNT(*), SUM(billing_count) FROM tasks WHERE id IN ({marks}) "
            "GROUP BY account, billing_amount",
            task_ids,
        ):
            add(("sends", account, ""), count)
            add(("segments", account, ""), segments or 0)
            add(("charged", account, ""), Decimal(amount) * count)
        for account, count in db.execute(
            f"SELECT account, COUNT(*) FROM messages WHERE task_id IN ({marks}) GROUP BY account", task_ids
        ):
            add(("messages", account, ""), count)
        for code, count in db.execute(
            f"SELECT code, COUNT(*) FROM warnings WHERE task_id IN ({marks}) GROUP BY code", task_ids
        ):
            add(("warnings", "", code), count)
        for key, value in adds.items():
            total = str(current.get(key, Decimal(0)) + value)
            db.execute(bump, (*key, total, total))
        removed = {}
        for table, column in (
            ("warnings", "task_id"),
            ("uplinks", "task_id"),
            ("reports", "task_id"),
            ("messages", "task_id"),
            ("tasks", "id"),
        ):
            removed[table] = db.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", task_ids).rowcount
        return removed

    def prune_loose(self, db: sqlite3.Connection, before: float, limit: int = 500) -> dict[str, int]:
        """Rows no task holds, older than ``before``: uplinks from numbers never sent to, warnings of refused
        requests, finished push batches no report or uplink points at any more (with their attempts, counted
        into ``pruned_totals``), and spent sending-limit counters."""
        removed = {}
        removed["uplinks"] = db.execute(
            "DELETE FROM uplinks WHERE id IN (SELECT id FROM uplinks WHERE task_id IS NULL AND receive_time < ? "
            "AND (batch_id IS NULL OR batch_id NOT IN (SELECT id FROM push_batches WHERE state IN "
            "('pending', 'sending'))) ORDER BY id LIMIT ?)",
            (before, limit),
        ).rowcount
        counted = list(
            db.execute(
                "SELECT code, COUNT(*) FROM (SELECT code FROM warnings WHERE task_id IS NULL AND at < ? "
                "ORDER BY id LIMIT ?) GROUP BY code",
                (before, limit),
            )
        )
        attempts = list(
            db.execute(
                "SELECT a.account, a.outcome, COUNT(*) FROM push_attempts a JOIN ("
                "SELECT id FROM push_batches b WHERE state IN ('delivered', 'returned') AND created_at < ? "
                "AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.batch_id = b.id) "
                "AND NOT EXISTS (SELECT 1 FROM uplinks u WHERE u.batch_id = b.id) ORDER BY id LIMIT ?"
                ") gone ON gone.id = a.batch_id WHERE a.outcome != 'sending' GROUP BY a.account, a.outcome",
                (before, limit),
            )
        )
        for metric, rows in (("warnings", [("", code, n) for code, n in counted]), ("push_attempts", attempts)):
            for account, label, count in rows:
                old = db.execute(
                    "SELECT value FROM pruned_totals WHERE metric=? AND account=? AND label=?", (metric, account, label)
                ).fetchone()
                total = str(Decimal(old[0] if old else 0) + count)
                db.execute(
                    "INSERT INTO pruned_totals (metric, account, label, value) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(metric, account, label) DO UPDATE SET value = excluded.value",
                    (metric, account, label, total),
                )
        removed["warnings"] = db.execute(
            "DELETE FROM warnings WHERE id IN (SELECT id FROM warnings WHERE task_id IS NULL AND at < ? "
            "ORDER BY id LIMIT ?)",
            (before, limit),
        ).rowcount
        batches = [
            row[0]
            for row in db.execute(
                "SELECT id FROM push_batches b WHERE state IN ('delivered', 'returned') AND created_at < ? "
                "AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.batch_id = b.id) "
                "AND NOT EXISTS (SELECT 1 FROM uplinks u WHERE u.batch_id = b.id) ORDER BY id LIMIT ?",
                (before, limit),
            )
        ]
        marks = ",".join("?" * len(batches))
        removed["push_attempts"] = (
            db.execute(f"DELETE FROM push_attempts WHERE batch_id IN ({marks})", batches).rowcount if batches else 0
        )
        removed["push_batches"] = (
            db.execute(f"DELETE FROM push_batches WHERE id IN ({marks})", batches).rowcount if batches else 0
        )
        return removed

    def free_pages(self) -> int:
        return int(self.db.execute("PRAGMA freelist_count").fetchone()[0])

    def oldest_kept(self) -> float | None:
        """When the oldest task still kept was created (what count-based retention prunes loose rows before)."""
        row = self.db.execute("SELECT created_at FROM tasks ORDER BY id LIMIT 1").fetchone()
        return None if row is None else float(row[0])

    def incremental_vacuum(self, pages: int) -> int:
        """Give up to ``pages`` free pages back to the file system (one short write); the free pages left."""
        with self.write() as db:
            db.execute(f"PRAGMA incremental_vacuum({int(pages)})").fetchall()
        return self.free_pages()

    def auto_vacuum(self) -> str:
        return {0: "none", 1: "full", 2: "incremental"}[int(self.db.execute("PRAGMA auto_vacuum").fetchone()[0])]

    def make_incremental(self) -> bool:
        """Switch the file to ``auto_vacuum=INCREMENTAL`` (a database made without it needs one VACUUM, which
        rewrites the whole file: done at start, before the workers). True when it changed."""
        if self.auto_vacuum() == "incremental":
            return False
        with self._queue:
            self.db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self.db.execute("VACUUM")
        return True
