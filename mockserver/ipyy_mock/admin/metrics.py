"""``GET /_mock/metrics``: the mock in the Prometheus text format (version 0.0.4), for a long-running mock.

Why derived from the files and not counted in memory: a mock runs several
worker processes (and the CLI writes the same database), so a per-process
counter would be one worker's share. Every number here is read from SQLite at
scrape time: the books (tasks, messages, push attempts, warnings, plus what
retention pruned, ``Store.book_totals``) and the journal's request counters
(``request_metrics``, written in the journal row's own transaction). So the
counters are the books: ``ipyy_mock_charged_total{account="demo"}`` is what
the demo account's sends were charged, to the fen.

The same access rule as the admin API (admin/access.py): served through it, at
``/_mock/metrics`` and ``/_mock/api/metrics``. Scrapes are not journaled, and
not counted as requests.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Iterable

from werkzeug.wrappers import Request, Response

from ipyy_mock.journal import LATENCY_BUCKETS

if TYPE_CHECKING:
    from ipyy_mock.admin.api import AdminApi

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PATH = "/_mock/metrics"

#: metric -> (Prometheus name, help) of the books' totals (Store.book_totals)
BOOKS = {
    "sends": ("ipyy_mock_sends_total", "Accepted sends (tasks) by account"),
    "messages": ("ipyy_mock_messages_total", "Accepted messages (one per recipient) by account"),
    "segments": ("ipyy_mock_segments_total", "Segments billed by account"),
    "charged": ("ipyy_mock_charged_total", "Money charged by account (the account's currency)"),
    "push_attempts": ("ipyy_mock_push_attempts_total", "Push attempts by account and outcome"),
    "warnings": ("ipyy_mock_warnings_total", "Conformance warnings by code"),
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _number(value: Decimal | float | int) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if value == float("inf"):
        return "+Inf"
    return repr(value) if isinstance(value, float) else str(value)


def _family(name: str, kind: str, help_text: str, samples: Iterable[str]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *samples]


def render(admin: AdminApi) -> str:
    """The whole exposition, read now."""
    store = admin.platform.store
    lines: list[str] = []
    totals = store.book_totals()
    for metric, (name, help_text) in BOOKS.items():
        samples = []
        for (kind, account, label), value in sorted(totals.items()):
            if kind != metric:
                continue
            if metric == "push_attempts":
                labels = _labels(account=account, outcome=label)
            elif metric == "warnings":
                labels = _labels(code=label)
            else:
                labels = _labels(account=account)
            samples.append(f"{name}{labels} {_number(value)}")
        lines += _family(name, "counter", help_text, samples)
    lines += _family(
        "ipyy_mock_balance",
        "gauge",
        "Account balance now",
        [f"ipyy_mock_balance{_labels(account=a)} {_number(b)}" for a, b in sorted(store.balances().items())],
    )
    lines += _requests(admin)
    rows, journal_bytes = admin.journal.size()
    size = store.size()
    lines += _family(
        "ipyy_mock_journal_rows", "gauge", "Rows in the request journal", [f"ipyy_mock_journal_rows {rows}"]
    )
    lines += _family(
        "ipyy_mock_journal_bytes",
        "gauge",
        "Bytes of the journal file and its WAL",
        [f"ipyy_mock_journal_bytes {journal_bytes}"],
    )
    lines += _family(
        "ipyy_mock_database_bytes",
        "gauge",
        "Bytes of the database file and its WAL",
        [f"ipyy_mock_database_bytes {size['bytes']}"],
    )
    lines += _family(
        "ipyy_mock_database_free_bytes",
        "gauge",
        "Bytes of free pages in the database file (reclaimed by incremental vacuum)",
        [f"ipyy_mock_database_free_bytes {size['free_pages'] * size['page_size']}"],
    )
    return "\n".join(lines) + "\n"


def _requests(admin: AdminApi) -> list[str]:
    counts: dict[tuple[str, str, str], int] = {}
    buckets: dict[str, dict[float, int]] = {}
    sums: dict[str, float] = {}
    for row in admin.journal.request_metrics():
        key = (row["surface"], row["status"], row["result"])
        counts[key] = counts.get(key, 0) + row["count"]
        le = float("inf") if row["le"] >= 1e308 else row["le"]
        per = buckets.setdefault(row["surface"], {})
        per[le] = per.get(le, 0) + row["count"]
        sums[row["surface"]] = sums.get(row["surface"], 0.0) + row["seconds"]
    lines = _family(
        "ipyy_mock_requests_total",
        "counter",
        "Requests by surface, HTTP status and (for sends) ResultCode",
        [
            f"ipyy_mock_requests_total{_labels(surface=s, status=st, result=r)} {n}"
            for (s, st, r), n in sorted(counts.items())
        ],
    )
    samples = []
    for surface, per in sorted(buckets.items()):
        running = 0
        for bound in LATENCY_BUCKETS:
            running += per.get(bound, 0)
            samples.append(
                f"ipyy_mock_request_duration_seconds_bucket{_labels(surface=surface, le=_number(bound))} {running}"
            )
        samples.append(f"ipyy_mock_request_duration_seconds_sum{_labels(surface=surface)} {sums[surface]!r}")
        samples.append(f"ipyy_mock_request_duration_seconds_count{_labels(surface=surface)} {running}")
    return lines + _family(
        "ipyy_mock_request_duration_seconds", "histogram", "Request latency (seconds) by surface", samples
    )


def get_metrics(admin: AdminApi, request: Request) -> Response:
    return Response(render(admin), content_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
