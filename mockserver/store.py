"""SQLite persistence: accounts, tasks, messages, reports, uplinks, settings, push batches, leases.

Why SQLite in WAL mode with ``synchronous=FULL``: several worker processes
share one file, readers never block the writer, and a send is on disk before
its reply leaves (an acknowledged send survives ``kill -9``). Every write runs
in one ``BEGIN IMMEDIATE`` transaction so a send is all there or not at all.
Money is stored as decimal text and only ever handled as ``Decimal``.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

FIRST_TASK_ID = 1_000_001

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    password TEXT NOT NULL,
    userid TEXT NOT NULL DEFAULT '',
    balance TEXT NOT NULL DEFAULT '0',
    pay_type TEXT NOT NULL DEFAULT 'prepaid',
    prices TEXT NOT NULL DEFAULT '{}',
    segment_limit INTEGER NOT NULL DEFAULT 10,
    bind_ips TEXT NOT NULL DEFAULT '',
    stopped INTEGER NOT NULL DEFAULT 0,
    strict_auth INTEGER NOT NULL DEFAULT 0,
    can_read_reports INTEGER NOT NULL DEFAULT 1,
    push_url TEXT NOT NULL DEFAULT '',
    sensitive_words TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    via TEXT NOT NULL,
    content TEXT NOT NULL,
    ext_number TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    send_at REAL NOT NULL,
    scheduled INTEGER NOT NULL DEFAULT 0,
    recipients INTEGER NOT NULL,
    billing_count INTEGER NOT NULL,
    billing_amount TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    account TEXT NOT NULL,
    mobile TEXT NOT NULL,
    country TEXT NOT NULL,
    segments INTEGER NOT NULL,
    price TEXT NOT NULL,
    amount TEXT NOT NULL,
    status TEXT NOT NULL,
    report_due_at REAL,
    report_status INTEGER,
    report_errorcode TEXT,
    reply_text TEXT
);
CREATE INDEX IF NOT EXISTS messages_task ON messages(task_id);
CREATE INDEX IF NOT EXISTS messages_mobile ON messages(account, mobile);
CREATE INDEX IF NOT EXISTS messages_due ON messages(status, report_due_at);
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    mobile TEXT NOT NULL,
    status INTEGER NOT NULL,
    errorcode TEXT NOT NULL,
    extno TEXT NOT NULL DEFAULT '',
    receive_time REAL NOT NULL,
    consumed INTEGER NOT NULL DEFAULT 0,
    route TEXT NOT NULL DEFAULT 'pull',  -- pull: the pull queue; push: a push batch owns it (batch_id)
    batch_id INTEGER                     -- the push batch (kept after a failed batch returns it to pull)
);
CREATE INDEX IF NOT EXISTS reports_queue ON reports(account, consumed, id);
CREATE TABLE IF NOT EXISTS uplinks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    mobile TEXT NOT NULL,
    task_id INTEGER,
    content TEXT NOT NULL,
    extno TEXT NOT NULL DEFAULT '',
    receive_time REAL NOT NULL,
    consumed INTEGER NOT NULL DEFAULT 0,
    route TEXT NOT NULL DEFAULT 'pull',
    batch_id INTEGER
);
CREATE INDEX IF NOT EXISTS uplinks_queue ON uplinks(account, consumed, id);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS push_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    kind TEXT NOT NULL,              -- statusbox (reports) | callbox (uplinks)
    url TEXT NOT NULL,
    items INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',  -- pending | sending | delivered | returned (to the pull queue)
    tries INTEGER NOT NULL DEFAULT 0,
    next_try_at REAL NOT NULL,       -- platform time (moves with the virtual clock)
    claimed_by TEXT,                 -- the runner pushing it now
    claim_expires REAL,              -- wall time after which an unfinished claim may be taken over
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS push_batches_due ON push_batches(state, next_try_at);
CREATE TABLE IF NOT EXISTS push_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id INTEGER NOT NULL,
    account TEXT NOT NULL,
    url TEXT NOT NULL,
    try_no INTEGER NOT NULL,
    outcome TEXT NOT NULL,           -- sending | delivered | delivered_other | error | connect_error | timeout | interrupted
    http_status INTEGER,
    duration_ms REAL,
    at REAL NOT NULL,                -- platform time of the try
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS push_attempts_batch ON push_attempts(batch_id, id);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL         -- wall time
);
"""

# Columns added after the first release: (table, column, definition) for databases created before them.
MIGRATIONS = (
    ("reports", "route", "TEXT NOT NULL DEFAULT 'pull'"),
    ("reports", "batch_id", "INTEGER"),
    ("uplinks", "route", "TEXT NOT NULL DEFAULT 'pull'"),
    ("uplinks", "batch_id", "INTEGER"),
)
POST_MIGRATION = """
CREATE INDEX IF NOT EXISTS reports_batch ON reports(batch_id);
CREATE INDEX IF NOT EXISTS uplinks_batch ON uplinks(batch_id);
CREATE INDEX IF NOT EXISTS reports_unbatched ON reports(id) WHERE route='push' AND batch_id IS NULL;
CREATE INDEX IF NOT EXISTS uplinks_unbatched ON uplinks(id) WHERE route='push' AND batch_id IS NULL;
"""


@dataclass
class Account:
    """An account as the platform sees it; ``prices`` maps country code (or ``*``) to a per-segment price."""

    name: str
    password: str
    userid: str = ""
    balance: Decimal = Decimal("0")
    pay_type: str = "prepaid"  # prepaid | postpaid (postpaid may go below zero)
    prices: dict[str, Decimal] = field(default_factory=dict)
    segment_limit: int = 10
    bind_ips: list[str] = field(default_factory=list)
    stopped: bool = False
    strict_auth: bool = False
    can_read_reports: bool = True
    push_url: str = ""
    sensitive_words: list[str] = field(default_factory=list)
    created_at: float = 0.0

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Account":
        return cls(
            name=row["name"],
            password=row["password"],
            userid=row["userid"],
            balance=Decimal(row["balance"]),
            pay_type=row["pay_type"],
            prices={k: Decimal(v) for k, v in json.loads(row["prices"]).items()},
            segment_limit=row["segment_limit"],
            bind_ips=[ip for ip in row["bind_ips"].split(",") if ip],
            stopped=bool(row["stopped"]),
            strict_auth=bool(row["strict_auth"]),
            can_read_reports=bool(row["can_read_reports"]),
            push_url=row["push_url"],
            sensitive_words=json.loads(row["sensitive_words"]),
            created_at=row["created_at"],
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "password": self.password,
            "userid": self.userid,
            "balance": str(self.balance),
            "pay_type": self.pay_type,
            "prices": json.dumps({k: str(v) for k, v in self.prices.items()}, sort_keys=True),
            "segment_limit": self.segment_limit,
            "bind_ips": ",".join(self.bind_ips),
            "stopped": int(self.stopped),
            "strict_auth": int(self.strict_auth),
            "can_read_reports": int(self.can_read_reports),
            "push_url": self.push_url,
            "sensitive_words": json.dumps(self.sensitive_words, ensure_ascii=False),
            "created_at": self.created_at,
        }


ACCOUNT_COLUMNS = [f.name for f in fields(Account)]


class Store:
    """One SQLite file shared by every worker process; one connection per thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db.executescript(SCHEMA)
        with self.write() as db:
            for table, column, definition in MIGRATIONS:
                if column not in {r["name"] for r in db.execute(f"PRAGMA table_info({table})")}:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        self.db.executescript(POST_MIGRATION)
        with self.write() as db:
            if db.execute("SELECT 1 FROM sqlite_sequence WHERE name='tasks'").fetchone() is None:
                db.execute("INSERT INTO sqlite_sequence(name, seq) VALUES ('tasks', ?)", (FIRST_TASK_ID - 1,))

    # -- connections and transactions ------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken up front, so no upgrade deadlock."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        else:
            db.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- settings --------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return row["value"] if row else default

    def set_setting(self, key: str, value: str, db: sqlite3.Connection | None = None) -> None:
        (db or self.db).execute(
            "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    # -- accounts --------------------------------------------------------
    def get_account(self, name: str, db: sqlite3.Connection | None = None) -> Account | None:
        row = (db or self.db).execute("SELECT * FROM accounts WHERE name=?", (name,)).fetchone()
        return Account.from_row(row) if row else None

    def list_accounts(self) -> list[Account]:
        return [Account.from_row(r) for r in self.db.execute("SELECT * FROM accounts ORDER BY name")]

    def insert_account(self, account: Account) -> None:
        row = account.to_row()
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self.write() as db:
            db.execute(f"INSERT INTO accounts ({cols}) VALUES ({marks})", tuple(row.values()))

    def save_account(self, account: Account, db: sqlite3.Connection | None = None) -> None:
        row = account.to_row()
        assignments = ", ".join(f"{c}=?" for c in row if c != "name")
        values = [v for c, v in row.items() if c != "name"] + [account.name]
        if db is not None:
            db.execute(f"UPDATE accounts SET {assignments} WHERE name=?", values)
            return
        with self.write() as tx:
            tx.execute(f"UPDATE accounts SET {assignments} WHERE name=?", values)

    def set_balance(self, db: sqlite3.Connection, name: str, balance: Decimal) -> None:
        db.execute("UPDATE accounts SET balance=? WHERE name=?", (str(balance), name))

    # -- tasks and messages ---------------------------------------------
    def insert_task(self, db: sqlite3.Connection, **task: Any) -> int:
        cols = ", ".join(task)
        marks = ", ".join("?" for _ in task)
        cur = db.execute(f"INSERT INTO tasks ({cols}) VALUES ({marks})", tuple(task.values()))
        return int(cur.lastrowid)

    def insert_messages(self, db: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        cols = list(rows[0])
        sql = f"INSERT INTO messages ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
        db.executemany(sql, [tuple(r[c] for c in cols) for r in rows])

    def get_task(self, task_id: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM tasks WHERE id=?", (task_id,)).fetchone()

    def messages(self, account: str | None = None, mobile: str | None = None, task_id: int | None = None,
                 limit: int = 1000) -> list[sqlite3.Row]:
        where, args = [], []
        for col, val in (("m.account", account), ("m.mobile", mobile), ("m.task_id", task_id)):
            if val is not None:
                where.append(f"{col}=?")
                args.append(val)
        sql = ("SELECT m.*, t.content, t.ext_number, t.send_at, t.scheduled, t.via FROM messages m "
               "JOIN tasks t ON t.id = m.task_id")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY m.id DESC LIMIT ?"
        return self.db.execute(sql, (*args, limit)).fetchall()

    def last_task_to(self, db: sqlite3.Connection, account: str, mobile: str) -> int | None:
        row = db.execute(
            "SELECT task_id FROM messages WHERE account=? AND mobile=? AND status!='scheduled' ORDER BY id DESC LIMIT 1",
            (account, mobile)
        ).fetchone()
        return row["task_id"] if row else None

    # -- pull queues (delivery.py fills them) ----------------------------
    def take_reports(self, db: sqlite3.Connection, account: str, limit: int, task_id: int | None) -> list[sqlite3.Row]:
        """Hand out reports once, oldest first."""
        sql = "SELECT * FROM reports WHERE account=? AND consumed=0 AND route='pull'"
        args: list[Any] = [account]
        if task_id is not None:
            sql += " AND task_id=?"
            args.append(task_id)
        rows = db.execute(sql + " ORDER BY id LIMIT ?", (*args, limit)).fetchall()
        db.executemany("UPDATE reports SET consumed=1 WHERE id=?", [(r["id"],) for r in rows])
        return rows

    def take_uplinks(self, db: sqlite3.Connection, account: str, limit: int) -> list[sqlite3.Row]:
        rows = db.execute(
            "SELECT * FROM uplinks WHERE account=? AND consumed=0 AND route='pull' ORDER BY id LIMIT ?", (account, limit)
        ).fetchall()
        db.executemany("UPDATE uplinks SET consumed=1 WHERE id=?", [(r["id"],) for r in rows])
        return rows
