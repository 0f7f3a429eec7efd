"""SQLite persistence: accounts, tasks, messages, reports, uplinks, settings, push batches, leases.

Why SQLite in WAL mode: several worker processes share one file and readers
never block the writer. Durability (docs/server.md): with the default
``synchronous=NORMAL`` a COMMIT has written the transaction to the WAL file
(the operating system's page cache) before it returns, so an acknowledged send
survives ``kill -9`` of the server; only an OS crash or power loss can lose the
last commits, because the WAL is fsynced at checkpoints, not at every commit.
``ipyy-mock serve --fsync`` (``set_fsync(True)``) selects ``synchronous=FULL``:
an fsync per commit, so a send is on the disk itself before its reply leaves.
Every write runs in one ``BEGIN IMMEDIATE`` transaction so a send is all there
or not at all; under the server's edge, the writes of the requests a worker has
in hand share one, each in a savepoint of its own (``core/group.py``).
Money is stored as decimal text and only ever handled as ``Decimal``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import weakref
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterable, Iterator, TypeVar, cast

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: processes queue in SQLite's busy handler only
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from ipyy_mock.core.group import GroupCommit

FIRST_TASK_ID = 1_000_001
CACHE_ENTRIES = 4096  # Store.cached() keys per process (accounts by name, settings, faults) before it starts again
T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS health_probe (id INTEGER PRIMARY KEY, at REAL NOT NULL);  -- GET /_mock/health writes here
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
CREATE TABLE IF NOT EXISTS warnings (  -- conformance warnings (core/conformance.py): diagnostics, not money
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,                -- platform time
    account TEXT NOT NULL DEFAULT '',
    task_id INTEGER,                 -- the send it was found on, when the send was accepted
    via TEXT NOT NULL,
    code TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS warnings_task ON warnings(task_id);
CREATE TABLE IF NOT EXISTS send_counters (  -- the vendor's sending limits (core/sendlimits.py): one row per number
    account TEXT NOT NULL,
    mobile TEXT NOT NULL,            -- the international form (country code first), as scenario rules match it
    day TEXT NOT NULL,               -- the platform-zone date `sent` counts (YYYY-MM-DD)
    sent INTEGER NOT NULL,           -- messages accepted for this number on `day`
    code_times TEXT NOT NULL DEFAULT '',  -- platform times of its recent sends with 验证码, space separated
    PRIMARY KEY (account, mobile)
);
CREATE TABLE IF NOT EXISTS pruned_totals (  -- what retention removed, summed: the books' totals stay exact
    metric TEXT NOT NULL,            -- sends | messages | segments | charged | push_attempts | warnings
    account TEXT NOT NULL DEFAULT '',
    label TEXT NOT NULL DEFAULT '',  -- push_attempts: the outcome; warnings: the code
    value TEXT NOT NULL,             -- a whole number, or decimal text (charged)
    PRIMARY KEY (metric, account, label)
);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL         -- wall time
);
CREATE TABLE IF NOT EXISTS faults (  -- injected faults (faults.py reads and fires them)
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint TEXT NOT NULL,          -- soap | send | status | call | pwd | domestic | * | a path such as /pwd.aspx
    kind TEXT NOT NULL,              -- see faults.py KINDS
    value TEXT,                      -- latency: milliseconds; code: a ResultCode name
    remaining INTEGER,               -- NULL = unlimited; a fault at 0 is spent (kept so hits stay visible)
    probability REAL NOT NULL DEFAULT 1.0,
    hits INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    last_hit REAL
);
CREATE TABLE IF NOT EXISTS generation (  -- bumped by the triggers below: what the per-worker caches check
    id INTEGER PRIMARY KEY CHECK (id = 0),
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO generation (id, value) VALUES (0, 0);
"""

# Columns added after the first release: (table, column, definition) for databases created before them.
MIGRATIONS = (
    ("reports", "route", "TEXT NOT NULL DEFAULT 'pull'"),
    ("reports", "batch_id", "INTEGER"),
    ("uplinks", "route", "TEXT NOT NULL DEFAULT 'pull'"),
    ("uplinks", "batch_id", "INTEGER"),
    ("accounts", "strict", "INTEGER NOT NULL DEFAULT 0"),
    ("accounts", "limits", "TEXT NOT NULL DEFAULT 'warn'"),
    ("accounts", "code_limit", "INTEGER NOT NULL DEFAULT 3"),
    ("accounts", "code_window", "INTEGER NOT NULL DEFAULT 180"),
    ("accounts", "daily_limit", "INTEGER NOT NULL DEFAULT 10"),
)
#: The account columns a worker may cache (every one but the balance, which every send changes): an UPDATE that
#: sets any of them bumps the generation (POST_MIGRATION's triggers); a debit, which sets the balance only, does not.
CACHED_ACCOUNT_COLUMNS = (
    "name",
    "password",
    "userid",
    "pay_type",
    "prices",
    "segment_limit",
    "bind_ips",
    "stopped",
    "strict_auth",
    "strict",
    "can_read_reports",
    "push_url",
    "sensitive_words",
    "created_at",
    "limits",
    "code_limit",
    "code_window",
    "daily_limit",
)
POST_MIGRATION = """
CREATE INDEX IF NOT EXISTS reports_task ON reports(task_id);
CREATE INDEX IF NOT EXISTS uplinks_task ON uplinks(task_id);
CREATE INDEX IF NOT EXISTS reports_batch ON reports(batch_id);
CREATE INDEX IF NOT EXISTS uplinks_batch ON uplinks(batch_id);
CREATE INDEX IF NOT EXISTS reports_unbatched ON reports(id) WHERE route='push' AND batch_id IS NULL;
CREATE INDEX IF NOT EXISTS uplinks_unbatched ON uplinks(id) WHERE route='push' AND batch_id IS NULL;
""" + "".join(
    f"CREATE TRIGGER IF NOT EXISTS {table}_{event.split()[0].lower()}_generation AFTER {event} ON {table} "
    "BEGIN UPDATE generation SET value = value + 1 WHERE id = 0; END;\n"
    for table, events in (
        # every column of an account but its balance: a send's debit must not empty every worker's cache
        ("accounts", ("INSERT", "DELETE", "UPDATE OF " + ", ".join(CACHED_ACCOUNT_COLUMNS))),
        ("settings", ("INSERT", "DELETE", "UPDATE")),
        ("faults", ("INSERT", "DELETE", "UPDATE")),
    )
    for event in events
)


@dataclass
class Account:
    """An account as the platform sees it; ``prices`` maps country code (or ``*``) to a per-segment price."""

    name: str
    password: str = field(repr=False)  # needed in clear for the MD5 check (auth.py); never printed
    userid: str = ""
    balance: Decimal = Decimal("0")
    pay_type: str = "prepaid"  # prepaid | postpaid (postpaid may go below zero)
    prices: dict[str, Decimal] = field(default_factory=dict)
    segment_limit: int = 10
    bind_ips: list[str] = field(default_factory=list)
    stopped: bool = False
    strict_auth: bool = False
    strict: bool = False  # strict mode: refuse what deviates from the document (core/conformance.py)
    can_read_reports: bool = True
    push_url: str = ""
    sensitive_words: list[str] = field(default_factory=list)
    created_at: float = 0.0
    limits: str = "warn"  # the vendor's sending limits (core/sendlimits.py): warn | enforce | off
    code_limit: int = 3  # at most this many messages with 验证码 to one number ...
    code_window: int = 180  # ... in this many seconds
    daily_limit: int = 10  # at most this many messages to one number per platform-zone day

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
            strict=bool(row["strict"]),
            can_read_reports=bool(row["can_read_reports"]),
            push_url=row["push_url"],
            sensitive_words=json.loads(row["sensitive_words"]),
            created_at=row["created_at"],
            limits=row["limits"],
            code_limit=row["code_limit"],
            code_window=row["code_window"],
            daily_limit=row["daily_limit"],
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
            "strict": int(self.strict),
            "can_read_reports": int(self.can_read_reports),
            "push_url": self.push_url,
            "sensitive_words": json.dumps(self.sensitive_words, ensure_ascii=False),
            "created_at": self.created_at,
            "limits": self.limits,
            "code_limit": self.code_limit,
            "code_window": self.code_window,
            "daily_limit": self.daily_limit,
        }


ACCOUNT_COLUMNS = [f.name for f in fields(Account)]

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


def write_queue(path: str) -> "_WriteQueue":
    """The writers' queue of the SQLite file ``path`` in this process (a context manager; see Store)."""
    return _WriteQueue.of(path)


class _WriteQueue:
    """Where the writers of one database wait, one per database file and process (see Store).

    Held by the Stores (and journals) of that file; when the last one is gone, so is the queue and its file
    descriptor (a test session opens many databases in one process).
    """

    _all: "weakref.WeakValueDictionary[tuple[int, str], _WriteQueue]" = weakref.WeakValueDictionary()
    _all_lock = threading.Lock()

    def __init__(self, path: str) -> None:
        self.pid = os.getpid()
        self.path = path
        self.lock = threading.RLock()
        self.depth = 0  # nested write() in one thread: the flock is taken once (and BEGIN fails, as it always did)
        self.fd: int | None = None  # opened at the first write (the database's directory exists by then)
        self._opened = fcntl is None or path == ":memory:"

    def __del__(self) -> None:
        if self.fd is not None and self.pid == os.getpid():
            try:
                os.close(self.fd)
            except OSError:
                pass

    def _lock_fd(self) -> int | None:
        if not self._opened:
            try:
                self.fd = os.open(self.path + LOCK_SUFFIX, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_MODE)
            except OSError:  # a read-only directory: SQLite's own lock still serializes the writers
                self.fd = None
            self._opened = True
        return self.fd

    @classmethod
    def of(cls, path: str) -> "_WriteQueue":
        key = (os.getpid(), path if path == ":memory:" else os.path.realpath(path))
        with cls._all_lock:
            queue = cls._all.get(key)
            if queue is None:
                for stale in [k for k in cls._all if k[0] != key[0]]:  # forked: the parent's queues are not ours
                    del cls._all[stale]
                queue = cls._all[key] = cls(key[1])
            return queue

    def __enter__(self) -> None:
        if not self.lock.acquire(timeout=WRITE_WAIT):
            raise sqlite3.OperationalError(
                f"database is locked (another thread of this process held the write lock for {WRITE_WAIT:g} s)"
            )
        self.depth += 1
        if self.depth == 1 and self._lock_fd() is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX)  # blocks without the GIL; the kernel wakes us at LOCK_UN
            except BaseException:
                self.depth -= 1
                self.lock.release()
                raise

    def __exit__(self, *exc: Any) -> None:
        self.depth -= 1
        try:
            if self.depth == 0 and self.fd is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.lock.release()


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
GENERATION = "SELECT value FROM generation WHERE id = 0"
BALANCE = "SELECT balance, pay_type FROM accounts WHERE name=?"
SET_BALANCE = "UPDATE accounts SET balance=? WHERE name=?"


def quick_check(path: str | Path) -> str | None:
    """The first problem ``PRAGMA quick_check`` finds in an existing database file (None: none, or no file yet).

    Run once at start (``ipyy-mock serve``): a damaged file is named as such in one line, instead of failing
    later in one send or another with "database disk image is malformed". Opened read-only: it changes nothing.
    A file that is not a database at all raises (the caller names it).
    """
    target = Path(path)
    if str(path) == ":memory:" or not target.exists() or target.stat().st_size == 0:
        return None
    conn = sqlite3.connect(target.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        try:
            rows = conn.execute("PRAGMA quick_check(1)").fetchall()
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                raise
            return str(exc)
    finally:
        conn.close()
    first = str(rows[0][0]) if rows else "ok"
    return None if first == "ok" else first.replace("\n", " ")


def _write_reason(exc: sqlite3.Error, wait: float) -> str:
    """One line for a write that failed: the cause SQLite names, and what to do about it."""
    code = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if code.startswith("SQLITE_FULL") or "full" in text:
        return f"the disk is full ({text}): free space on the database's volume"
    if code.startswith("SQLITE_READONLY") or "readonly" in text:
        return f"the database cannot be written ({text}): a read-only file, volume or mount"
    if code.startswith("SQLITE_BUSY") or "locked" in text:
        return f"another process held the write lock for over {wait:g} s ({text})"
    if code.startswith("SQLITE_CORRUPT") or "malformed" in text or "not a database" in text:
        return f"the database file is damaged ({text}): restore it from a copy or start with a new --db"
    if code.startswith("SQLITE_IOERR"):
        return f"writing the database failed ({code}: {text}): a file made read-only or immutable, or a failing disk"
    return f"the database cannot be written ({code or type(exc).__name__}: {text})"


PRIVATE_MODE = 0o600  # the database, its -wal/-shm and lock files: account passwords and every text sent are in them
WRITE_WAIT = 30.0  # seconds a writer waits for this process's write lock (as busy_timeout) before "database is locked"
#: PRAGMA synchronous of every connection opened from now on in this process: NORMAL (survives kill -9) or
#: FULL (also survives a power loss; ``serve --fsync``). See the module docstring.
SYNCHRONOUS = "NORMAL"
WAL_LIMIT = 64 * 1024 * 1024  # bytes a WAL file is truncated to after a checkpoint (a burst must not stay on disk)
LOCK_SUFFIX = "-writelock"  # next to the database, like SQLite's -wal and -shm: the writers' queue (flock)
# Tables a reset empties; accounts are reseeded, the runner's lease is left alone. "journal" is the table of a
# database made by an older version, which kept the request journal in the main file.
RESET_TABLES = (
    "push_attempts",
    "push_batches",
    "reports",
    "uplinks",
    "messages",
    "tasks",
    "journal",
    "faults",
    "warnings",
    "send_counters",
    "pruned_totals",
)


def make_private(path: str) -> None:
    """Create the SQLite file ``path`` readable and writable by its owner only, before SQLite opens it.

    Why before: SQLite creates a new database 0644 (less the umask), and gives the ``-wal`` and ``-shm``
    files it makes later the database file's own mode, so a file created 0600 here keeps all three private.
    Files an older version left group- or world-readable are tightened (when they are ours to change).

    Why never through ``open(path)``: closing any descriptor of a file drops every POSIX lock the process
    holds on it, SQLite's included. A second store in a process that already has the file open (the push
    runner's, the admin API's journal) would silently give up the worker's shared lock; the next reader in
    another process to close its connection then believes it is the last one, checkpoints and deletes the
    ``-wal`` the worker still writes to, and every later commit is invisible to other processes and lost at
    restart. So the file is made under a private temporary name and linked into place; ``path`` itself is
    only ever stat-ed and chmod-ed here.
    """
    if path == ":memory:" or path.startswith("file:"):
        return
    if not os.path.exists(path):
        _create_private(path)
    for suffix in ("", "-wal", "-shm", LOCK_SUFFIX):
        try:
            if os.stat(path + suffix).st_mode & 0o077:
                os.chmod(path + suffix, PRIVATE_MODE)
        except OSError:
            pass  # absent, or someone else's file


def _create_private(path: str) -> None:
    """An empty 0600 file at ``path`` unless one appeared meanwhile; no descriptor of ``path`` is opened."""
    fresh = f"{path}.{os.getpid()}-{threading.get_ident()}.new"
    try:
        _create_new(fresh)
    except OSError:
        return  # a read-only place, a directory...: SQLite's own error says what is wrong
    try:
        os.link(fresh, path)  # atomic, and fails (FileExistsError) rather than replace a file just made
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links: an exclusive create, of a file nobody can have open yet
        try:
            _create_new(path)
        except OSError:
            pass
    finally:
        try:
            os.unlink(fresh)
        except OSError:
            pass


def _create_new(path: str) -> None:
    """Create ``path`` empty and 0600; FileExistsError (an OSError) when it is there already."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_MODE))


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


def is_new_file(path: str) -> bool:
    """No database in the file yet (absent, or the empty file make_private created)."""
    if path == ":memory:":
        return True
    try:
        return os.path.getsize(path) == 0
    except OSError:
        return True


def reader(path: str) -> sqlite3.Connection:
    """A read-only connection that never writes, never waits long, and runs no migration: for a reader on the
    server edge's event loop (admin/events.py), where a wait for the write lock would stop the whole worker."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=100")
    return conn


def latest_ids(db: sqlite3.Connection) -> dict[str, int]:
    """The newest id of each table the inbox shows (an index lookup each): a change means something arrived."""
    return {
        table: int(db.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0])  # noqa: S608 (fixed names)
        for table in ("messages", "reports", "uplinks", "warnings")
    }


def set_fsync(fsync: bool) -> None:
    """``synchronous=FULL`` (an fsync per commit) for the connections this process opens from now on, else NORMAL."""
    global SYNCHRONOUS
    SYNCHRONOUS = "FULL" if fsync else "NORMAL"


class Store:
    """One SQLite file shared by every worker process; one connection per thread.

    Writers queue before ``BEGIN IMMEDIATE``: the threads of one process on a
    Python lock, the processes on an ``flock`` of ``<db>-writelock``. Both wake
    a waiter the moment the lock is free, while SQLite's own busy handler
    sleeps 1, 2, 5, 10 ... 100 ms between retries: under load a waiting writer
    often slept long after the lock was free (measured: request threads spent
    44-60% of their time in BEGIN IMMEDIATE, p99 above 600 ms; with the queue,
    +30-40% sends per second and p99 under 100 ms). SQLite's lock is still
    what guarantees correctness: a writer that does not take the queue (an
    older mock, the sqlite3 shell) is waited for by busy_timeout as before.
    The kernel drops an flock when its process dies, so a ``kill -9`` never
    leaves the queue locked; a process that is frozen (SIGSTOP, a debugger)
    while it writes holds up the other processes' writers until it goes on.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._pinned: ContextVar[int | None] = ContextVar("ipyy_generation", default=None)
        self.group: GroupCommit | None = None  # set when the server's edge groups this worker's writes (core/group.py)
        self._cache: dict[Hashable, tuple[int, Any]] = {}  # cached(): key -> (generation, value)
        self._queue = _WriteQueue.of(self.path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            make_private(self.path)
        self.db.executescript(SCHEMA)
        with self.write() as db:
            for table, column, definition in MIGRATIONS:
                if column not in {r["name"] for r in db.execute(f"PRAGMA table_info({table})")}:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        self._drop_stale_account_trigger()
        self.db.executescript(POST_MIGRATION)
        with self.write() as db:
            if db.execute("SELECT 1 FROM sqlite_sequence WHERE name='tasks'").fetchone() is None:
                db.execute("INSERT INTO sqlite_sequence(name, seq) VALUES ('tasks', ?)", (FIRST_TASK_ID - 1,))

    def _drop_stale_account_trigger(self) -> None:
        """A database made before a cached column existed has an UPDATE trigger that does not name it: without
        this, a change to that column alone would leave every worker's cached account as it was."""
        row = self.db.execute(
            "SELECT sql FROM sqlite_master WHERE type='trigger' AND name='accounts_update_generation'"
        ).fetchone()
        if row is not None and not all(column in row[0] for column in CACHED_ACCOUNT_COLUMNS):
            with self.write() as db:
                db.execute("DROP TRIGGER IF EXISTS accounts_update_generation")

    # -- connections and transactions ------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            if is_new_file(self.path):  # before WAL, and only on a new file (an existing one: make_incremental)
                conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")  # a checkpoint shrinks the WAL back to this
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken up front, so no upgrade deadlock."""
        db = self.db
        if self._queue.pid != os.getpid():  # a Store carried over a fork: the child's own queue
            self._queue = _WriteQueue.of(self.path)
        group = self.group
        if group is not None and group.joins():  # a request's write under the edge: one transaction per loop turn
            with group.turn(db):
                yield db
            return
        with self._queue:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            try:
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # a COMMIT that fails may leave the transaction open: never for the next
                    db.execute("ROLLBACK")
                raise

    def writable(self, wait: float) -> bool:
        """True when ``write_problem`` finds none."""
        return self.write_problem(wait) is None

    def write_problem(self, wait: float) -> str | None:
        """Why this thread's connection cannot store a send now (None: it can). For ``GET /_mock/health``.

        The probe is a real write: a row into ``health_probe`` committed, then deleted and committed, the way a
        send reaches the disk. A rolled-back change would say "writable" on a full disk (nothing is written
        before COMMIT) or a file made immutable under the running server. The write lock is waited for at most
        ``wait`` seconds, not the usual 30.
        """
        db = self.db
        previous = db.execute("PRAGMA busy_timeout").fetchone()[0]
        db.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
        try:
            for statement in ("INSERT INTO health_probe(at) VALUES (julianday('now'))", "DELETE FROM health_probe"):
                db.execute("BEGIN IMMEDIATE")
                try:
                    db.execute(statement)
                    db.execute("COMMIT")
                finally:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            return _write_reason(exc, wait)
        finally:
            db.execute(f"PRAGMA busy_timeout={int(previous)}")
        return None

    def close(self) -> None:
        """Close this thread's connection (the writers' queue file stays open for the other threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- what every request reads, cached per process -------------------------
    def generation(self) -> int:
        """The counter that every change to an account (but its balance), a setting or a fault bumps, in the same
        transaction, from any process or tool (SQLite triggers, POST_MIGRATION). Inside ``one_generation`` this
        request's one reading (a context variable: per thread, and per greenlet under the group commit)."""
        pinned = self._pinned.get()
        if pinned is not None:
            return pinned
        return int(self.db.execute(GENERATION).fetchone()[0])

    @contextmanager
    def one_generation(self, generation: int | None = None) -> Iterator[int]:
        """One reading of the generation (``generation``, or read now) for every lookup this request makes inside.

        Why: a request's lookups (its faults, then its account and settings) each started a read transaction of
        their own, and under load the other workers commit in between, so each one found SQLite's page cache
        stale and read its pages again. One reading per request, taken after the request arrived, is as
        current as the request needs: a change committed later is seen by the next request.
        """
        value = self.generation() if generation is None else generation
        token = self._pinned.set(value)
        try:
            yield value
        finally:
            self._pinned.reset(token)

    def cached(self, key: Hashable, load: Callable[[], T]) -> T:
        """``load()``'s value, kept in this process while the generation stays the same.

        Why: a request used to read its account, the settings and the faults (three SELECTs and the parsing of
        their rows) though they change rarely; now it reads one integer per lookup. The generation is read
        before ``load()`` runs, so a change committed between the two makes the next lookup load again: a
        cached value is never older than the generation it is filed under. Values must not be mutated.
        """
        generation = self.generation()
        hit = self._cache.get(key)
        if hit is not None and hit[0] == generation:
            return cast(T, hit[1])
        value = load()
        if len(self._cache) >= CACHE_ENTRIES:  # many account names (a scan of wrong ones): start again
            self._cache.clear()
        self._cache[key] = (generation, value)
        return value

    def forget_cached(self) -> None:
        """Drop this process's cached values (a grouped transaction that rolled back may have filled them)."""
        self._cache.clear()

    def cached_account(self, name: str) -> Account | None:
        """The account as ``get_account`` reads it, from this process's cache: every field is current except
        ``balance``, which may be older (read ``balance_of`` in the transaction that uses it)."""
        return self.cached(("account", name), lambda: self.get_account(name))

    # -- settings --------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return row["value"] if row else default

    def all_settings(self, db: sqlite3.Connection | None = None) -> dict[str, str]:
        """Every setting in one SELECT (a send needs the clock offset, the rules and the delivery settings)."""
        return {key: value for key, value in (db or self.db).execute("SELECT key, value FROM settings")}

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
        db.execute(SET_BALANCE, (str(balance), name))

    # -- tasks and messages ---------------------------------------------
    def balance_of(self, db: sqlite3.Connection, name: str) -> tuple[Decimal, str] | None:
        """The account's balance and pay type as they are now (inside a send's transaction: under the write
        lock, so nothing can change them before its debit); None when there is no such account."""
        row = db.execute(BALANCE, (name,)).fetchone()
        return None if row is None else (Decimal(row[0]), row[1])

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

    # -- the vendor's sending limits (core/sendlimits.py) ------------------
    def send_counters(self, db: sqlite3.Connection, account: str, mobiles: list[str]) -> dict[str, sqlite3.Row]:
        """The counter rows of these numbers of the account (inside the send's transaction: nothing can change
        them before ``save_send_counters`` in the same one)."""
        out: dict[str, sqlite3.Row] = {}
        for start in range(0, len(mobiles), 500):
            chunk = mobiles[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in db.execute(
                f"SELECT * FROM send_counters WHERE account=? AND mobile IN ({marks})", (account, *chunk)
            ):
                out[row["mobile"]] = row
        return out

    def save_send_counters(self, db: sqlite3.Connection, rows: list[tuple[str, str, str, int, str]]) -> None:
        """``rows``: (account, mobile, day, sent, code_times), replacing what each number had."""
        db.executemany(
            "INSERT INTO send_counters (account, mobile, day, sent, code_times) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(account, mobile) DO UPDATE SET day=excluded.day, sent=excluded.sent, "
            "code_times=excluded.code_times",
            rows,
        )

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
            return db.execute(f"DELETE FROM send_counters{clause}", args).rowcount

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

    def take_uplinks(self, db: sqlite3.Connection, account: str, limit: int) -> list[sqlite3.Row]:
        rows = db.execute(TAKE_UPLINKS, (account, limit)).fetchall()
        if rows:
            cur = db.execute(CONSUME_UPLINKS, (account, limit))
            _check_consumed(cur.rowcount, rows)
        return rows

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
