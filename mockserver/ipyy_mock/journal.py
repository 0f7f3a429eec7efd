"""The request journal: every request and its reply, with timing, in SQLite (table ``journal``).

``JournalMiddleware`` wraps the whole mock app. It tees the request body as
the app reads it (no second read, no extra parse), captures the reply, and
writes one row per request before the reply's body leaves (so whoever reads
the journal right after a reply finds the row). Under the server's edge the
rows of the requests a worker finishes together go in one transaction
(core/group.py); otherwise each is one INSERT.

The table lives in a SQLite file of its own next to the database
(``<db>.journal.sqlite``, see ``journal_path``), in WAL mode with
``synchronous=OFF``: this is diagnostics, not money, so it never waits for an
fsync (a killed server loses nothing, the kernel has the writes; an OS crash
may lose or damage the journal, and ``prepare`` then starts a new one), and
above all it has its own write lock. In the database file itself every
request queued twice for the one write lock (once for its send, once for its
journal row); measured under load, the journal INSERT was a fifth to a third
of the request threads' time. Bodies are kept up to 64 KiB each, with a
marker when cut.

Secrets never reach the table: ``password`` / ``newpassword`` values (plain or
MD5, they are just the values) in the query string and in form, multipart and
JSON bodies, ``<password>`` elements in SOAP bodies (any prefix), and the
``X-Admin-Token`` / ``Authorization`` / ``Cookie`` headers are replaced by
``***`` before the row is written (by field name: ``ipyy_client._masking``, the one masker of the client
and the mock). The account column is what the surface read (the request's ``Exchange``), not a second parse.

Requests to the journal endpoint itself are not journaled (reading the
journal would otherwise fill it), nor health checks (``/_mock/health``). The
table keeps the newest ``keep`` rows (10,000): every ``trim_every`` inserts a
worker deletes the older ones.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from typing import Any, Callable, Iterable, Iterator

from ipyy_client._masking import MASK, mask_pairs, mask_text  # the one masker (client and mock)
from ipyy_mock.core.conformance import RULES, ConformanceWarning
from ipyy_mock.core.exchange import Exchange
from ipyy_mock.core.group import joined
from ipyy_mock.core.store import is_new_file, make_private, write_queue
from ipyy_mock.core.store.versions import Step, add_column, refuse_newer, upgrade
from ipyy_mock.httpapi import params
from ipyy_mock.server.health import PATH as HEALTH_PATH  # polled every few seconds: not journaled
from ipyy_mock.server.request import surface_of
from ipyy_mock.soap import reader
from ipyy_mock.soap.decoding import decode_body

log = logging.getLogger("ipyy_mock.journal")

BODY_LIMIT = 64 * 1024
KEEP = 10_000
TRIM_EVERY = 200
VACUUM_PAGES = 256  # free pages a trim gives back to the file system
JOURNAL_PATH = "/_mock/api/journal"
METRICS_PATHS = ("/_mock/metrics", "/_mock/api/metrics")  # scraped every few seconds: neither journaled nor counted
SECRET_HEADERS = frozenset({"HTTP_X_ADMIN_TOKEN", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "HTTP_COOKIE"})
KEPT_HEADERS = {
    "HTTP_HOST": "Host",
    "HTTP_USER_AGENT": "User-Agent",
    "HTTP_SOAPACTION": "SOAPAction",
    "HTTP_X_ADMIN_TOKEN": "X-Admin-Token",
    "HTTP_AUTHORIZATION": "Authorization",
    "HTTP_PROXY_AUTHORIZATION": "Proxy-Authorization",
    "HTTP_COOKIE": "Cookie",
    "HTTP_X_FORWARDED_FOR": "X-Forwarded-For",
    "HTTP_CONTENT_ENCODING": "Content-Encoding",
    "HTTP_TRANSFER_ENCODING": "Transfer-Encoding",
}
SURFACES = ("soap11", "soap12", "http", "admin", "inbox", "other")
SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,                  -- wall clock, epoch seconds, when the request arrived
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL DEFAULT '',      -- secrets masked
    client_ip TEXT NOT NULL DEFAULT '',
    request_content_type TEXT NOT NULL DEFAULT '',
    request_headers TEXT NOT NULL DEFAULT '',  -- a few useful ones, "Name: value" lines, secrets masked
    request_body TEXT NOT NULL DEFAULT '',     -- UTF-8 text, secrets masked, cut at 64 KiB
    request_bytes INTEGER NOT NULL DEFAULT 0,
    status INTEGER,                      -- NULL: no reply (connection reset by a fault, or the app failed)
    response_content_type TEXT NOT NULL DEFAULT '',
    response_body TEXT NOT NULL DEFAULT '',
    response_bytes INTEGER NOT NULL DEFAULT 0,
    duration_ms REAL NOT NULL,
    surface TEXT NOT NULL,               -- soap11 | soap12 | http | admin | inbox | other
    account TEXT NOT NULL DEFAULT '',
    fault TEXT NOT NULL DEFAULT '',      -- injected faults that fired for this request
    error TEXT NOT NULL DEFAULT '',
    warnings TEXT NOT NULL DEFAULT '',   -- conformance warnings, JSON [{"code", "detail"}], '' for none
    result TEXT NOT NULL DEFAULT ''      -- a send's ResultCode name ('' for other requests)
);
CREATE TABLE IF NOT EXISTS request_metrics (  -- GET /_mock/metrics: every request counted, kept when rows are trimmed
    surface TEXT NOT NULL,
    status TEXT NOT NULL,                -- the HTTP status, or 'none' (no reply)
    result TEXT NOT NULL,                -- a send's ResultCode name, or 'none'
    le REAL NOT NULL,                    -- the latency bucket: the smallest bound (seconds) the duration is within
    count INTEGER NOT NULL,
    seconds REAL NOT NULL,               -- the durations summed
    PRIMARY KEY (surface, status, result, le)
);
"""
#: The journal's migration steps (core/store/versions.py): the columns added since its first release.
JOURNAL_STEPS: tuple[Step, ...] = (
    add_column("journal", "warnings", "TEXT NOT NULL DEFAULT ''"),  # conformance warnings
    add_column("journal", "result", "TEXT NOT NULL DEFAULT ''"),  # a send's result code
)

#: The request latency histogram's bucket bounds in seconds (GET /_mock/metrics); the last one is +Inf.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf"))
COUNT_REQUEST = (
    "INSERT INTO request_metrics (surface, status, result, le, count, seconds) VALUES (?, ?, ?, ?, 1, ?) "
    "ON CONFLICT(surface, status, result, le) DO UPDATE SET count=count+1, seconds=seconds+excluded.seconds"
)


def bucket_of(seconds: float) -> float:
    return next(bound for bound in LATENCY_BUCKETS if seconds <= bound)


def metric_row(row: tuple) -> tuple:
    """The request_metrics key and duration of a journal row (COLUMNS order)."""
    status = row[COLUMNS.index("status")]
    seconds = row[COLUMNS.index("duration_ms")] / 1000.0
    le = bucket_of(seconds)
    return (
        row[COLUMNS.index("surface")],
        "none" if status is None else str(status),
        row[COLUMNS.index("result")] or "none",
        1e308 if le == float("inf") else le,  # SQLite has no infinity literal that survives a REAL round trip
        seconds,
    )


COLUMNS = (
    "time",
    "method",
    "path",
    "query",
    "client_ip",
    "request_content_type",
    "request_headers",
    "request_body",
    "request_bytes",
    "status",
    "response_content_type",
    "response_body",
    "response_bytes",
    "duration_ms",
    "surface",
    "account",
    "fault",
    "error",
    "warnings",
    "result",
)
INSERT = f"INSERT INTO journal ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"


def warnings_json(warnings: list[ConformanceWarning] | None) -> str:
    """The journal's warnings column: code and detail of each (the rule and fix come from the code table)."""
    if not warnings:
        return ""
    return json.dumps([{"code": w.code, "detail": w.detail} for w in warnings], ensure_ascii=False)


def headers_text(environ: dict) -> str:
    lines = []
    for key, name in KEPT_HEADERS.items():
        value = environ.get(key)
        if value is None:
            continue
        if key in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if key.endswith("AUTHORIZATION") and " " in value else ""
            value = f"{scheme} {MASK}".strip()
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def body_text(data: bytes, total: int, soap_type: str | None = None) -> str:
    """The body as text: UTF-8, or for a SOAP request (``soap_type``, its Content-Type) the text ASMX reads, so
    that a UTF-16 or otherwise encoded password is masked like any other."""
    text = decode_body(data, soap_type).text if soap_type is not None else data.decode("utf-8", "replace")
    # NULs dropped: a UTF-16 body read in another charset holds one between every two characters, which would
    # hide a password from the masker (the journal shows the text, not the bytes)
    text = text.replace("\x00", "")
    if total > len(data):
        text += f"\n…[truncated: {total} bytes, first {len(data)} kept]"
    return text


# -- derived columns ---------------------------------------------------------------


def _account(exchange: Exchange, surface: str, query: str, body: str, content_type: str) -> str:
    """The account as the surface bound it; where it bound none (refused at the edge, answered by an injected
    fault, unparsable, a userName ASMX does not bind), the surfaces' own look at the text, so that filtering the
    journal by account still finds the request its owner is trying to understand."""
    if exchange.account:
        return exchange.account
    hint = params.account_hint(query, body, content_type)
    if not hint and surface in ("soap11", "soap12"):
        hint = reader.account_hint(body)
    return hint


# -- storage -----------------------------------------------------------------------

JOURNAL_SUFFIX = ".journal.sqlite"


def file_bytes(path: str) -> int:
    """The bytes of an SQLite file with its -wal (0 for an in-memory database)."""
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += os.stat(path + suffix).st_size
        except OSError:
            pass
    return total


def journal_path(db_path: str) -> str:
    """The journal's own SQLite file for the mock database ``db_path`` (``:memory:`` stays in memory)."""
    return db_path if db_path == ":memory:" or db_path.startswith("file:") else db_path + JOURNAL_SUFFIX


def prepare(path: str) -> None:
    """Open the journal once before the workers start (the server's master): a file SQLite cannot read is moved
    aside (``<file>.damaged-<time>``) and a new journal is started, rather than every worker failing to boot."""
    try:
        store = JournalStore(path)
        store.make_incremental()
        store.close()
    except sqlite3.OperationalError:
        raise  # locked, read-only, no such directory: not damage, say so
    except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
        if path == ":memory:":
            raise
        aside = f"{path}.damaged-{int(time.time())}"
        log.warning("the request journal %s is damaged (%s): moved to %s, starting a new one", path, exc, aside)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.replace(path + suffix, aside + suffix)
        JournalStore(path).close()


class JournalStore:
    """The journal table on its own per-thread connections (``synchronous=OFF``).

    ``path`` is the journal's file (``journal_path(db)`` next to the mock's database).
    """

    def __init__(self, path: str, keep: int = KEEP, trim_every: int = TRIM_EVERY) -> None:
        self.path = path
        self.keep = keep
        self.trim_every = max(1, trim_every)
        self._local = threading.local()
        self._lock = threading.Lock()
        # writers queue here (threads on a lock, processes on an flock), not in SQLite's sleeping busy handler
        self._write_lock = write_queue(path)
        make_private(path)  # 0600: it holds every text sent (OTP codes); SQLite's -wal/-shm follow its mode
        self._inserts = 0
        refuse_newer(self.db, path, "request journal", JOURNAL_STEPS)  # before anything touches a newer file
        self.db.executescript(SCHEMA)
        with self._transaction() as db:
            upgrade(db, path, "request journal", JOURNAL_STEPS)
        self.trim()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on this thread's connection, queued on the write lock (threads and processes)
        rather than in SQLite's busy handler; rolled back when anything in it raises."""
        db = self.db
        with self._write_lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=10.0, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            if is_new_file(self.path):  # before WAL, and only on a new file (an existing one: make_incremental)
                conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # diagnostics: no fsync, not even at checkpoints
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("PRAGMA journal_size_limit=16777216")  # a checkpoint truncates the WAL back to 16 MiB
            self._local.conn = conn
        return conn

    def insert(self, row: tuple) -> None:
        """One row; from a request under the server's edge, written with the others of its loop turn (before its
        reply leaves, still)."""
        group = joined(self)
        if group is not None:  # a request's row under the edge: written with the others of its loop turn
            group.add_row(row)
            return
        self.insert_many([row])

    def insert_many(self, rows: list[tuple]) -> None:
        """Rows in one transaction; every ``trim_every`` rows, the old ones go."""
        with self._transaction() as db:  # the rows and their request metrics in one transaction
            db.executemany(INSERT, rows)
            db.executemany(COUNT_REQUEST, [metric_row(row) for row in rows])
        with self._lock:
            before = self._inserts
            self._inserts += len(rows)
            due = self._inserts // self.trim_every != before // self.trim_every
        if due:
            self.trim()

    def trim(self, before: float | None = None) -> int:
        """Keep the newest ``keep`` rows (and none from before ``before``, wall time, when given), then give
        some free pages back to the file system (an incremental journal file: see ``make_incremental``)."""
        db = self.db
        with self._write_lock:
            removed = db.execute(
                "DELETE FROM journal WHERE id <= (SELECT MAX(id) FROM journal) - ?", (self.keep,)
            ).rowcount
            if before is not None:
                removed += db.execute(
                    "DELETE FROM journal WHERE id IN (SELECT id FROM journal WHERE time < ? ORDER BY id LIMIT 1000)",
                    (before,),
                ).rowcount
            db.execute(f"PRAGMA incremental_vacuum({VACUUM_PAGES})").fetchall()
        return removed

    def make_incremental(self) -> bool:
        """A journal file made without ``auto_vacuum=INCREMENTAL`` gets it (one VACUUM, at `serve` start)."""
        if int(self.db.execute("PRAGMA auto_vacuum").fetchone()[0]) == 2:
            return False
        with self._write_lock:
            self.db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self.db.execute("VACUUM")
        return True

    def clear(self) -> int:
        db = self.db
        with self._write_lock:
            return db.execute("DELETE FROM journal").rowcount

    def entries(
        self,
        limit: int = 100,
        surface: str | None = None,
        account: str | None = None,
        path: str | None = None,
        since: int | None = None,
        method: str | None = None,
        status: int | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first; path matches case-insensitively (``*`` is a wildcard)."""
        where, args = [], []
        if surface:
            where.append("surface = ?")
            args.append(surface)
        if account:
            where.append("account = ?")
            args.append(account)
        if path:
            if "*" in path:
                where.append("lower(path) GLOB ?")
                args.append(path.lower())
            else:
                where.append("lower(path) = ?")
                args.append(path.lower())
        if since is not None:
            where.append("id > ?")
            args.append(since)
        if method:
            where.append("method = ?")
            args.append(method.upper())
        if status is not None:
            where.append("status = ?")
            args.append(status)
        sql = "SELECT * FROM journal"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        out = []
        for r in self.db.execute(sql, (*args, limit)):
            entry = {k: r[k] for k in r.keys()}
            entry["warnings"] = [
                ConformanceWarning(w["code"], w["detail"]).to_json()
                for w in json.loads(entry["warnings"] or "[]")
                if w.get("code") in RULES
            ]
            out.append(entry)
        return out

    def request_metrics(self) -> list[sqlite3.Row]:
        """Every (surface, status, result, latency bucket) counted: GET /_mock/metrics."""
        return self.db.execute("SELECT * FROM request_metrics ORDER BY surface, status, result, le").fetchall()

    def size(self) -> tuple[int, int]:
        """(rows, bytes of the file and its WAL) of the journal."""
        rows = int(self.db.execute("SELECT COUNT(*) FROM journal").fetchone()[0])
        return rows, file_bytes(self.path)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


# -- the middleware ----------------------------------------------------------------


class TeeInput:
    """``wsgi.input`` that keeps the first ``limit`` bytes of whatever the app reads."""

    def __init__(self, stream: Any, limit: int = BODY_LIMIT) -> None:
        self._stream = stream
        self.limit = limit
        self.kept = bytearray()
        self.total = 0

    def _keep(self, data: bytes) -> bytes:
        if data:
            self.total += len(data)
            room = self.limit - len(self.kept)
            if room > 0:
                self.kept += data[:room]
        return data

    def read(self, size: int | None = -1) -> bytes:
        return self._keep(self._stream.read() if size is None or size < 0 else self._stream.read(size))

    def readline(self, size: int | None = -1) -> bytes:
        return self._keep(self._stream.readline() if size is None or size < 0 else self._stream.readline(size))

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        lines = self._stream.readlines() if hint is None or hint < 0 else self._stream.readlines(hint)
        for line in lines:
            self._keep(line)
        return lines

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line


class _Streaming:
    """A reply without Content-Length: passed through as it comes, journaled on close()."""

    def __init__(
        self, inner: Iterable[bytes], done: Callable[[list[bytes], int, BaseException | None], None], limit: int
    ) -> None:
        self.inner = inner
        self.done = done
        self.limit = limit
        self.kept: list[bytes] = []
        self.size = 0
        self.total = 0
        self.error: BaseException | None = None

    def __iter__(self):
        try:
            for chunk in self.inner:
                self.total += len(chunk)
                if self.size < self.limit:
                    self.kept.append(chunk[: self.limit - self.size])
                    self.size += len(self.kept[-1])
                yield chunk
        except BaseException as exc:
            self.error = exc
            raise

    def close(self) -> None:
        try:
            close = getattr(self.inner, "close", None)
            if close is not None:
                close()
        finally:
            self.done(self.kept, self.total, self.error)


class JournalMiddleware:
    """WSGI middleware: one journal row per request (except the journal endpoint's own)."""

    def __init__(self, app: Callable, store: JournalStore, limit: int = BODY_LIMIT) -> None:
        self.app = app
        self.store = store
        self.limit = limit

    @property
    def journal_store(self) -> JournalStore:
        """What the edge groups (core/group.py), by a name no wrapped app answers to (theirs is ``store``)."""
        return self.store

    # What callers reach through the journal, the app create_app() hands out: the wrapped app's platform,
    # endpoints and url_map (the edge, tests), FaultMiddleware's latency() (the edge) and close(). Named rather
    # than a __getattr__, so a misspelt or new name fails here instead of passing through.
    platform = property(lambda self: self.app.platform, doc="The wrapped app's Platform (the edge, tests).")
    endpoints = property(lambda self: self.app.endpoints, doc="The wrapped app's surfaces (the edge finds admin).")
    url_map = property(lambda self: self.app.url_map, doc="The wrapped app's werkzeug routes (tests).")
    latency = property(lambda self: self.app.latency, doc="FaultMiddleware.latency, which the edge awaits.")

    def close(self) -> None:
        """Close the wrapped app (its push runner) when the worker stops."""
        close = getattr(self.app, "close", None)
        if close is not None:
            close()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        exchange = Exchange.of(environ)
        path = exchange.path.rstrip("/")
        if (
            path.startswith(JOURNAL_PATH)
            or path in METRICS_PATHS
            or environ.get("HTTP_X_IPYY_INBOX") == "poll"
            or path == HEALTH_PATH
        ):
            # the journal's own reads, the inbox's polling and health checks would crowd real traffic out
            return self.app(environ, start_response)
        # the server's edge (edge.py) starts the clock before it waits out a latency fault
        started, t0 = exchange.started
        tee = None
        stream = environ.get("wsgi.input")
        if stream is not None and exchange.body is None:  # the edge hands the whole body over: no tee
            tee = environ["wsgi.input"] = TeeInput(stream, self.limit)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        def record(chunks: list[bytes], total: int, error: BaseException | None = None) -> None:
            self._record(environ, exchange, tee, captured, chunks, total, started, t0, error)

        try:
            result = self.app(environ, capture)
        except BaseException as exc:
            record([], 0, exc)
            raise
        headers = captured.get("headers")
        if headers is not None and any(k.lower() == "content-length" for k, _ in headers):
            # a finite reply (all of the mock's are): journal it before the client can see its end,
            # so whoever reads the journal right after a reply finds the row
            try:
                chunks = list(result)
            except BaseException as exc:
                record([], 0, exc)
                raise
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            record(chunks, sum(len(c) for c in chunks))
            return chunks
        return _Streaming(result, record, self.limit)

    def _record(
        self,
        environ: dict,
        exchange: Exchange,
        tee: TeeInput | None,
        captured: dict[str, Any],
        chunks: list[bytes],
        total: int,
        started: float,
        t0: float,
        error: BaseException | None,
    ) -> None:
        try:
            duration = (time.perf_counter() - t0) * 1000.0
            method = (environ.get("REQUEST_METHOD") or "GET").upper()
            path = environ.get("PATH_INFO") or "/"
            req_type = environ.get("CONTENT_TYPE") or ""
            surface = surface_of(method, exchange.path, req_type)
            req_body, req_total = b"", 0
            buffered = exchange.body
            if buffered is not None:  # the server's edge read the whole body before the app ran
                req_body, req_total = buffered[: self.limit], len(buffered)
            elif tee is not None:  # only what the app read: reading more could wait on a client that sends no more
                req_body, req_total = bytes(tee.kept), tee.total
            soap_type = req_type if surface in ("soap11", "soap12") else None
            request_text = mask_text(body_text(req_body, req_total, soap_type))
            query = mask_pairs(environ.get("QUERY_STRING") or "")
            status = None
            status_line = captured.get("status")
            if status_line and not exchange.reset:
                try:
                    status = int(status_line.split(" ", 1)[0])
                except ValueError:
                    status = None
            resp_type = next((v for k, v in captured.get("headers") or () if k.lower() == "content-type"), "")
            kept = b"".join(chunks)[: self.limit]
            response_text = mask_text(body_text(kept, total)) if status is not None else ""
            row = (
                started,
                method,
                path,
                query,
                environ.get("REMOTE_ADDR") or "",
                req_type,
                headers_text(environ),
                request_text,
                req_total,
                status,
                resp_type,
                response_text,
                total if status is not None else 0,
                round(duration, 3),
                surface,
                _account(exchange, surface, query, request_text, req_type),
                "; ".join(exchange.faults),
                "" if error is None else mask_text(f"{type(error).__name__}: {error}"[:500]),
                warnings_json(exchange.warnings),
                exchange.result,
            )
            self.store.insert(row)
        except Exception:  # the journal must never break a reply
            log.warning(
                "could not journal %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), exc_info=True
            )
