"""Retention: a mock that runs for months keeps the newest messages and days, not everything.

Why: tasks, messages, reports, uplinks, warnings and push attempts were never
removed, so a mock on a laptop or a staging host grew without bound. With
``serve --keep-messages N`` and ``--keep-days D`` (settings ``keep_messages``
and ``keep_days``, so every worker sees them) the push runner's lease holder
removes the oldest tasks beyond either limit, with everything that points at
them, in small batches: each batch is one short write transaction (a few
hundred messages), and the writers waiting for the lock (sends) go between
two batches. What a removed task counted (sends, segments, money, messages,
warnings, push attempts) is added to ``pruned_totals`` in the same
transaction, so the books' totals and the metrics (GET /_mock/metrics) do not
move; balances are never touched.

Space: the file is ``auto_vacuum=INCREMENTAL`` (a new one from its first page;
an older one is converted by one VACUUM when ``serve`` starts, before the
workers), and each pass gives the freed pages back in small steps
(``PRAGMA incremental_vacuum``), so the file shrinks while sends go on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ipyy_mock.core.store import Store

DEFAULT_KEEP_MESSAGES = 200_000  # `serve` default: enough for weeks of a team's tests, a few hundred MB at most
DEFAULT_KEEP_DAYS = 90.0
BATCH_MESSAGES = (
    200  # messages removed per write transaction: short enough for sends to go between (docs/benchmarks.md)
)
VACUUM_PAGES = 256  # free pages given back per write transaction
PAUSE = 0.002  # seconds between two batches: the writers queued behind one go first
DAY = 86400.0


@dataclass(frozen=True)
class Retention:
    keep_messages: int = 0  # 0: no count limit
    keep_days: float = 0.0  # 0: no age limit

    @property
    def on(self) -> bool:
        return self.keep_messages > 0 or self.keep_days > 0

    def describe(self) -> str:
        parts = []
        if self.keep_messages:
            parts.append(f"the newest {self.keep_messages:,} messages")
        if self.keep_days:
            parts.append(f"{self.keep_days:g} days")
        return "keeps " + " and ".join(parts) if parts else "keeps everything"

    def as_json(self) -> dict[str, float | int]:
        return {"keep_messages": self.keep_messages, "keep_days": self.keep_days}


@dataclass
class Pruned:
    batches: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    vacuumed_pages: int = 0
    longest_batch_ms: float = 0.0

    def add(self, removed: dict[str, int]) -> None:
        for table, n in removed.items():
            self.removed[table] = self.removed.get(table, 0) + n


def load(store: Store) -> Retention:
    stored = store.all_settings()
    try:
        return Retention(int(stored.get("keep_messages", "0")), float(stored.get("keep_days", "0")))
    except ValueError:
        return Retention()


def save(store: Store, retention: Retention) -> None:
    """What `serve` was started with (every start sets both, so an earlier run's values do not linger)."""
    with store.write() as db:
        store.set_setting("keep_messages", str(int(retention.keep_messages)), db)
        store.set_setting("keep_days", repr(float(retention.keep_days)), db)


def prune(store: Store, retention: Retention, now: float, budget: float = 0.25) -> Pruned:
    """Remove what is beyond the limits, batch by batch, for at most ``budget`` seconds; then give free pages
    back. ``now`` is platform time (the virtual clock ages the data too)."""
    done = Pruned()
    if not retention.on:
        return done
    deadline = time.monotonic() + budget
    bounds = []
    if retention.keep_messages:
        bounds.append(store.keep_bound(retention.keep_messages))
    before = now - retention.keep_days * DAY if retention.keep_days else None
    if before is not None:
        bounds.append(store.first_task_since(before))
    below = min((b for b in bounds if b is not None), default=None)
    while below is not None and time.monotonic() < deadline:
        with store.write() as db:
            started = time.perf_counter()  # the lock held from here: what a send may wait behind
            ids = store.prunable_tasks(db, below, BATCH_MESSAGES)
            removed = store.prune_tasks(db, ids)
        if not ids:
            break
        done.batches += 1
        done.add(removed)
        done.longest_batch_ms = max(done.longest_batch_ms, (time.perf_counter() - started) * 1000)
        time.sleep(PAUSE)
    loose_before = before
    if retention.keep_messages:
        oldest = store.oldest_kept()
        if oldest is not None:
            loose_before = oldest if loose_before is None else max(loose_before, oldest)
    while loose_before is not None and time.monotonic() < deadline:
        with store.write() as db:
            started = time.perf_counter()
            removed = store.prune_loose(db, loose_before)
        done.add(removed)
        done.longest_batch_ms = max(done.longest_batch_ms, (time.perf_counter() - started) * 1000)
        if not any(removed.values()):
            break
        time.sleep(PAUSE)
    while time.monotonic() < deadline:
        before_free = store.free_pages()
        if before_free == 0:
            break
        started = time.perf_counter()
        left = store.incremental_vacuum(VACUUM_PAGES)
        done.vacuumed_pages += before_free - left
        done.longest_batch_ms = max(done.longest_batch_ms, (time.perf_counter() - started) * 1000)
        time.sleep(PAUSE)
    return done
