"""The journal's tables, their columns in row order and its migration steps: what a journal file holds.

``journal`` keeps one row per request (trimmed to the newest rows); ``request_metrics`` counts every request
by surface, status, result and latency bucket and is never trimmed (GET /_mock/metrics reads it).
"""

from __future__ import annotations

from ipyy_mock.core.store.versions import Step, add_column

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
