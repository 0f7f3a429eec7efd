"""Group commit (ipyy_mock/core/group.py): the requests a worker has in hand share one transaction per file.

The server's edge is driven here in process, the way granian drives it: many
requests started on one event loop before any of them is answered. That is the
only way to have a known number of requests in hand at once; over the wire,
tests/test_concurrency.py (exact books under 32 senders) and the kill -9
tests in tests/test_persistence.py run the same code on the real server.

What must hold: every reply leaves after its send and its journal row are
committed (looked at from another connection at the moment the reply is
handed over); a write that fails is undone alone; a COMMIT or BEGIN that fails
fails the sends that waited for it and stores nothing; what a request keeps
for itself (its fault names, its reading of the generation) stays its own
while other requests run in between.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from ipyy_client.encoding import encode_content, md5_password
from ipyy_mock.app import create_app
from ipyy_mock.core.store import writes as store_writes
from ipyy_mock.journal import journal_path
from ipyy_mock.server.edge import Edge
from support import rsgi

TEXT = "验证码123456【华信】"


def http_send(mobile: str, password: str = "demo123") -> bytes:
    return urlencode(
        [
            ("action", "send"),
            ("account", "demo"),
            ("password", md5_password(password)),
            ("mobile", mobile),
            ("code", "8"),
            ("content", encode_content(TEXT)),
        ]
    ).encode("ascii")


def form_headers(body: bytes) -> dict[str, str]:
    return {
        "host": "127.0.0.1:8080",
        "content-type": "application/x-www-form-urlencoded",
        "content-length": str(len(body)),
    }


class CheckingProtocol(rsgi.Protocol):
    """At the moment the reply is handed over, looks at what is committed from a connection of its own (as
    another process would)."""

    def __init__(self, body: bytes, db: Path) -> None:
        super().__init__(body)
        self.db = db
        self.status: int | None = None
        self.seen_task = False
        self.seen_journal_rows = 0

    @property
    def text(self) -> bytes:
        return self.reply[1] if self.reply else b""

    def response_bytes(self, status: int, headers: list, body: bytes) -> None:
        super().response_bytes(status, headers, body)
        self.status = status
        task = self.task_id()
        with sqlite3.connect(self.db) as other:
            if task:
                self.seen_task = other.execute("SELECT 1 FROM tasks WHERE id=?", (task,)).fetchone() is not None
        with sqlite3.connect(journal_path(str(self.db))) as other:
            self.seen_journal_rows = other.execute("SELECT COUNT(*) FROM journal").fetchone()[0]

    def task_id(self) -> int:
        m = re.search(rb"<taskID>(\d+)</taskID>", self.text)
        return int(m.group(1)) if m else 0


@pytest.fixture
def edge(tmp_path):
    db = tmp_path / "mock.db"
    app = create_app(str(db))
    app.platform.seed_demo()
    edge = Edge(app, max_body=1 << 20, body_timeout=5)
    yield edge, db
    edge.close()


def serve_together(edge: Edge, db: Path, bodies: list[bytes], path: str = "/I18NSms.aspx") -> list[CheckingProtocol]:
    """Every request started on one loop before any is answered (as a worker's connections arrive)."""
    protocols = [CheckingProtocol(body, db) for body in bodies]

    async def main() -> None:
        scopes = [rsgi.Scope(path, form_headers(p.body), 40000 + i) for i, p in enumerate(protocols)]
        await asyncio.gather(*(edge.__rsgi__(scope, p) for scope, p in zip(scopes, protocols)))

    asyncio.run(main())
    return protocols


def balance(db: Path) -> Decimal:
    with sqlite3.connect(db) as conn:
        return Decimal(conn.execute("SELECT balance FROM accounts WHERE name='demo'").fetchone()[0])


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608 (fixed names)


def test_sends_in_hand_commit_in_one_transaction_and_each_reply_leaves_after_it(edge):
    edge, db = edge
    group = edge.group
    assert group is not None
    n = 12
    protocols = serve_together(edge, db, [http_send(f"86139{i:08d}") for i in range(n)])
    assert all(b"<returnstatus>Success</returnstatus>" in p.text for p in protocols), protocols[0].text
    assert group.stats.transactions == 1 and group.stats.writes == n
    assert group.stats.journal_batches == 1 and group.stats.journal_rows == n
    # committed before any reply was handed over: the task, and every journal row of the group
    assert all(p.seen_task for p in protocols)
    assert all(p.seen_journal_rows == n for p in protocols)
    ids = sorted(p.task_id() for p in protocols)
    assert len(set(ids)) == n
    assert balance(db) == Decimal("100.00") - n * Decimal("0.05")
    assert count(db, "messages") == n


def test_the_debits_of_a_group_run_in_order_under_the_lock_and_refuse_what_the_balance_cannot_pay(edge):
    edge, db = edge
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE accounts SET balance='0.20' WHERE name='demo'")  # four sends' worth
    protocols = serve_together(edge, db, [http_send(f"86139{i:08d}") for i in range(7)])
    ok = [p for p in protocols if b"Success" in p.text]
    refused = [p for p in protocols if b"Success" not in p.text]
    assert len(ok) == 4 and len(refused) == 3, [p.text for p in protocols]
    assert balance(db) == Decimal("0.00")
    assert count(db, "tasks") == 4
    assert all(b"<balance>0</balance>" in p.text or b"<balance>0.00</balance>" in p.text for p in refused)


def test_a_write_that_fails_is_undone_alone(edge, monkeypatch):
    edge, db = edge
    store = edge.group.store
    real = store.insert_messages

    def insert_messages(conn: sqlite3.Connection, rows: list[tuple]) -> None:
        real(conn, rows)  # its rows are in, then it fails: the savepoint takes them back out
        if any(row[2] == "8613900000003" for row in rows):
            raise sqlite3.IntegrityError("simulated failure of one send")

    monkeypatch.setattr(store, "insert_messages", insert_messages)
    protocols = serve_together(edge, db, [http_send(f"86139{i:08d}") for i in range(6)])
    failed = protocols[3]
    assert b"Success" not in failed.text and failed.status == 200, failed.text  # the vendor's format, not a 500
    assert all(b"Success" in p.text for i, p in enumerate(protocols) if i != 3)
    assert edge.group.stats.transactions == 1 and edge.group.stats.writes == 6
    assert count(db, "tasks") == 5 and count(db, "messages") == 5
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM messages WHERE mobile='8613900000003'").fetchone()[0] == 0
    assert balance(db) == Decimal("100.00") - 5 * Decimal("0.05")


def test_a_commit_that_fails_fails_every_send_of_its_group_and_stores_nothing(edge, monkeypatch):
    edge, db = edge
    store = edge.group.store
    real = store.insert_messages

    def insert_messages(conn: sqlite3.Connection, rows: list[tuple]) -> None:
        real(conn, rows)
        if any(row[2] == "8613900000002" for row in rows):
            # a row that only COMMIT can refuse (as a full disk refuses it): a deferred foreign key
            conn.execute("PRAGMA defer_foreign_keys=ON")
            conn.execute(
                "INSERT INTO messages (task_id, account, mobile, country, segments, price, amount, status) "
                "VALUES (999, 'demo', '1', '86', 1, '0', '0', 'sent')"
            )

    monkeypatch.setattr(store, "insert_messages", insert_messages)
    store.cached_account("demo")
    protocols = serve_together(edge, db, [http_send(f"86139{i:08d}") for i in range(4)])
    assert all(b"Success" not in p.text and p.status == 200 for p in protocols), [p.text for p in protocols]
    assert count(db, "tasks") == 0 and count(db, "messages") == 0
    assert balance(db) == Decimal("100.00")
    assert store._cache == {}  # what a rolled-back block may have cached is gone
    assert edge.group.stats.transactions == 0
    monkeypatch.setattr(store, "insert_messages", real)
    again = serve_together(edge, db, [http_send("8613900000009")])  # the worker goes on
    assert b"Success" in again[0].text and again[0].seen_task


def test_a_begin_that_fails_fails_the_sends_waiting_for_it(edge, monkeypatch):
    edge, db = edge
    store = edge.group.store
    monkeypatch.setattr(store_writes, "WRITE_WAIT", 0.2)
    held, done = threading.Event(), threading.Event()

    def hold() -> None:  # another thread of this worker (its push runner, say) holds the write lock past the wait
        with store.write():
            held.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    try:
        protocols = serve_together(edge, db, [http_send(f"86139{i:08d}") for i in range(3)])
    finally:
        done.set()
        holder.join()
    assert all(b"Success" not in p.text and p.status == 200 for p in protocols), [p.text for p in protocols]
    assert count(db, "tasks") == 0
    again = serve_together(edge, db, [http_send("8613900000009")])
    assert b"Success" in again[0].text


def test_each_request_keeps_its_own_fault_names_while_others_run_in_between(edge):
    """A ``code`` fault that fires once: the journal names it on the row of the one send it refused. The names
    were per thread before; with requests interleaved on one thread they would land on another's row."""
    edge, db = edge
    from ipyy_mock import faults

    fault = faults.parse_fault({"endpoint": "send", "kind": "code", "value": "AmountNotEnough", "count": 1})
    faults.add_fault(edge.group.store, fault)
    protocols = serve_together(edge, db, [http_send(f"86139{i:08d}") for i in range(5)])
    refused = [i for i, p in enumerate(protocols) if b"Success" not in p.text]
    assert len(refused) == 1
    with sqlite3.connect(journal_path(str(db))) as conn:
        rows = conn.execute("SELECT client_ip, fault, response_body FROM journal ORDER BY id").fetchall()
    named = [r for r in rows if r[1]]
    assert len(named) == 1 and named[0][1].startswith("code AmountNotEnough"), rows
    assert "Success" not in named[0][2]


def test_a_change_between_groups_is_seen_by_the_next_one(edge):
    """The generation each request pins is its own (a context variable): after a group, nothing stays pinned,
    and a password changed by another process refuses the next send."""
    edge, db = edge
    assert all(b"Success" in p.text for p in serve_together(edge, db, [http_send("8613900000001")] * 3))
    assert edge.group.store._pinned.get() is None
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE accounts SET password='changed' WHERE name='demo'")
    assert all(b"Success" not in p.text for p in serve_together(edge, db, [http_send("8613900000001")] * 2))
    assert all(b"Success" in p.text for p in serve_together(edge, db, [http_send("8613900000001", "changed")]))


def test_requests_that_write_nothing_still_wait_only_for_their_journal_row(edge):
    edge, db = edge
    query = urlencode([("action", "overage"), ("account", "demo"), ("password", md5_password("demo123"))]).encode()
    protocols = serve_together(edge, db, [query] * 4, path="/I18NSms.aspx")
    assert all(b"Success" in p.text or b"<returnstatus>" in p.text for p in protocols)
    assert edge.group.stats.transactions == 0
    assert edge.group.stats.journal_rows == 4 and all(p.seen_journal_rows == 4 for p in protocols)


def test_without_the_journal_and_with_a_thread_pool(tmp_path):
    db = tmp_path / "nj.db"
    app: Any = create_app(str(db), journal=False)
    app.platform.seed_demo()
    edge = Edge(app, max_body=1 << 20, body_timeout=5)
    assert edge.group is not None and edge.group.journal is None
    protocols = serve_together(edge, db, [http_send(f"86139{i:08d}") for i in range(3)])
    assert all(b"Success" in p.text and p.seen_task for p in protocols)
    edge.close()
    pooled = Edge(create_app(str(tmp_path / "pool.db")), max_body=1 << 20, body_timeout=5, threads=2)
    assert pooled.group is None  # threads of their own: each write its own transaction, as before
    pooled.close()


def test_the_store_and_the_journal_hold_no_reference_to_the_group(edge):
    """The group is found through one hook (core/group.py ``joined``) from the request's greenlet: no
    back-pointer on the store or the journal, and a write from outside a request's greenlet writes alone."""
    from ipyy_mock.core.group import joined

    edge, _ = edge
    group = edge.group
    assert group is not None
    for holder in (group.store, group.journal):
        assert holder is not None
        assert not [name for name, value in vars(holder).items() if value is group], type(holder).__name__
    assert joined(group.store) is None  # this test's own thread: not a request's greenlet
