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

The package: schema (the tables, the row's columns, the migration steps), rows (the derived columns: headers,
bodies as text, warnings, account), store (the file: open, write, trim, read) and middleware (one row per
request). Callers import from ``ipyy_mock.journal``; the names below are the ones they use.
"""

from __future__ import annotations

from ipyy_mock.journal.middleware import BODY_LIMIT, JOURNAL_PATH, METRICS_PATHS, JournalMiddleware, TeeInput
from ipyy_mock.journal.rows import account_of, body_text, headers_text, warnings_json
from ipyy_mock.journal.schema import COLUMNS, JOURNAL_STEPS, LATENCY_BUCKETS, SCHEMA, SURFACES, bucket_of, metric_row
from ipyy_mock.journal.store import JOURNAL_SUFFIX, KEEP, TRIM_EVERY, JournalStore, file_bytes, journal_path, prepare

__all__ = [
    "BODY_LIMIT",
    "COLUMNS",
    "JOURNAL_PATH",
    "JOURNAL_STEPS",
    "JOURNAL_SUFFIX",
    "KEEP",
    "LATENCY_BUCKETS",
    "METRICS_PATHS",
    "SCHEMA",
    "SURFACES",
    "TRIM_EVERY",
    "JournalMiddleware",
    "JournalStore",
    "TeeInput",
    "account_of",
    "body_text",
    "bucket_of",
    "file_bytes",
    "headers_text",
    "journal_path",
    "metric_row",
    "prepare",
    "warnings_json",
]
