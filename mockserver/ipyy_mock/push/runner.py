"""The push runner (docs/contract.md §5): POSTs report and uplink batches to accounts' push URLs, with retries.

Runner model. Every server worker starts a PushRunner thread, and a lease
row in SQLite (``lease.py``) lets exactly one of them run at a time, across
workers, restarts and even two servers on one file; the others only check
the lease once a second. Why not a dedicated child process of ``ipyy-mock
serve``: the server's main process owns signals and restarts of its workers but would
not supervise a side process, and a lease also covers a worker that dies or a
second server on the same database. Why not "every worker pushes, claims
decide": that works too, but one runner means one place that releases due
reports and one sender whose order a receiver can follow.

The runner thread is the only one that touches SQLite: it releases what is
due, claims batches (one transaction each, so no batch is pushed twice), and
hands each claimed batch to a short-lived daemon thread that does only the
HTTP POST, so a slow receiver delays neither sends nor other accounts' pushes.
Results come back through a queue and are settled by the runner thread.

Crash safety is at-least-once: a batch is claimed before it is posted and
settled after the answer, so a batch in flight when the mock is killed is
pushed again after the restart (its interrupted try is in the journal). A
stopping worker waits briefly for its pushes, then gives the unsettled ones
back; a killed one's claims are taken back by the next runner on this host at
once, or after the claim expires (2 × push_timeout + 30 s) on another host.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from typing import Any, cast

import requests

from ipyy_mock.core import delivery, retention, settings
from ipyy_mock.core.delivery import Attempt, Claim
from ipyy_mock.core.domain import Report, Uplink
from ipyy_mock.core.platform import Platform
from ipyy_mock.httpapi import replies
from ipyy_mock.httpapi.replies import XML_TYPE
from ipyy_mock.push import lease
from ipyy_mock.push.target import PushUrlError, check_push_url

log = logging.getLogger("ipyy_mock.push.runner")


def push_body(claim: Claim) -> bytes:
    """The push body: byte for byte the pull reply (statusApi.aspx / callApi.aspx) for the same rows."""
    if claim.kind == delivery.STATUSBOX:
        return replies.statusbox_xml(cast(list[Report], claim.records))
    return replies.callbox_xml(cast(list[Uplink], claim.records))


LEASE_NAME = "push-runner"
RETAIN_EVERY = 2.0  # seconds between two retention passes of the lease holder (core/retention.py)
POLL = 0.2  # seconds between two ticks while something may be due: releases, claims, pushes
ANSWER_LIMIT = 4096  # bytes of the receiver's answer we read: "1" or "error" is all that matters
DETAIL_LIMIT = delivery.DETAIL_LIMIT  # characters of an attempt's detail in the push journal (answer, error)


def _attempt(outcome: str, status: int | None, took: float, detail: str) -> Attempt:
    return Attempt(outcome, status, took, detail[:DETAIL_LIMIT])


def push(url: str, body: bytes, timeout: float) -> Attempt:
    """One POST, classified by docs/contract.md §5: ``1`` and any other answer deliver; ``error``, no connection
    and no answer in time mean try again. The HTTP status does not matter (a 5xx with a body delivers)."""
    started = time.monotonic()

    def took() -> float:
        return (time.monotonic() - started) * 1000

    try:  # a URL stored before the http(s) rule (or written into the file by hand) is never fetched
        check_push_url(url)
    except PushUrlError as exc:
        return _attempt(delivery.CONNECT_ERROR, None, 0.0, f"not pushed: {exc}")
    try:
        with requests.post(
            url,
            data=body,
            headers={"Content-Type": XML_TYPE},
            timeout=(timeout, timeout),
            allow_redirects=False,
            stream=True,
        ) as reply:
            answer = b""
            for chunk in reply.iter_content(1024):
                answer += chunk
                if len(answer) >= ANSWER_LIMIT:
                    break
            status = reply.status_code
    except requests.Timeout:
        return _attempt(delivery.TIMEOUT, None, took(), f"no answer within {timeout:g} s")
    except requests.RequestException as exc:
        outcome = delivery.TIMEOUT if "timed out" in str(exc).lower() else delivery.CONNECT_ERROR
        return _attempt(outcome, None, took(), f"{type(exc).__name__}: {exc}")
    text = answer.decode("utf-8", "replace").strip().lstrip("\ufeff").strip()
    shown = f"{text[:60]!r} (HTTP {status})"
    if text == "1":
        return _attempt(delivery.DELIVERED, status, took(), f"answered {shown}")
    if text.lower() == "error":
        return _attempt(delivery.ERROR, status, took(), f"answered {shown}: will try again")
    what = "no body" if not text else f"answered {text[:60]!r}"
    return _attempt(
        delivery.DELIVERED_OTHER, status, took(), f"{what} (HTTP {status}): counts as delivered (the vendor document)"
    )


class PushRunner:
    """One per worker process; only the lease holder releases and pushes."""

    def __init__(
        self,
        platform: Platform,
        *,
        poll: float = POLL,
        contend_every: float = 1.0,
        max_in_flight: int = 8,
        lease_ttl: float = 5.0,
    ) -> None:
        self.platform = platform
        self.store = platform.store
        self.owner = lease.new_owner()
        self.lease = lease.Lease(self.store, LEASE_NAME, self.owner, lease_ttl)
        self.poll = poll
        self.contend_every = contend_every
        self.max_in_flight = max_in_flight
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._results: queue.Queue[tuple[Claim, Attempt]] = queue.Queue()
        self._in_flight: dict[int, Claim] = {}
        self._thread: threading.Thread | None = None
        self._was_holder = False
        self._grace = 2.0
        self._next_retain = 0.0
        self._journal_store: Any = None

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> "PushRunner":
        self._thread = threading.Thread(target=self._run, name="ipyy-push-runner", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Something may be due now (the clock moved, a setting changed): do not wait for the next poll."""
        self._wake.set()

    def stop(self, grace: float = 2.0) -> None:
        """Finish what is in flight (up to ``grace`` seconds), give back the rest, let go of the lease."""
        self._grace = grace
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(grace + 5)
        self._thread = None

    # -- the loop ---------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                wait = self.poll
                try:
                    self._settle_results()  # even after losing the lease: settle() checks the claim is ours
                    if self.lease.hold():
                        if not self._was_holder:
                            self._took_over()
                        self._tick()
                        self._retain()
                    else:
                        self._was_holder = False
                        wait = self.poll if self._in_flight else self.contend_every
                except Exception:  # a locked or broken database must not end the runner
                    log.exception("push runner tick failed; trying again")
                    wait = self.contend_every
                self._wake.wait(wait)
                self._wake.clear()
            self._shutdown()
        finally:
            self.store.close()

    def _retain(self) -> None:
        """Every RETAIN_EVERY seconds the lease holder prunes what retention no longer keeps (core/retention.py):
        one holder, so two workers never prune at once; batches short enough that sends go between them."""
        now = time.monotonic()
        if now < self._next_retain:
            return
        self._next_retain = now + RETAIN_EVERY
        kept = retention.load(self.store)
        if kept.on:
            retention.prune(self.store, kept, self.platform.now())
            wall = time.time()
            journal = self._journal()
            if journal is not None:
                journal.trim(wall - kept.keep_days * retention.DAY if kept.keep_days else None)

    def _journal(self) -> Any:
        if self._journal_store is None:
            from ipyy_mock.journal import JournalStore, journal_path

            self._journal_store = JournalStore(journal_path(self.store.path))
        return self._journal_store

    def _took_over(self) -> None:
        """We just got the lease: take back claims of runners on this host whose process is gone."""
        with self.store.write() as db:
            dead = [o for o in delivery.claim_owners(db) if o != self.owner and lease.owner_is_dead(o)]
            if dead:
                n = delivery.release_claims(
                    db, dead, self.platform.now(), "the mock stopped while this try was in flight"
                )
                log.warning("took back %d push batch(es) from stopped runner(s) %s", n, ", ".join(dead))
        # only once the take-back is committed: set before it, a failed write (a locked
        # database) was never retried and the dead runner's batches waited out their claim (30 s and more).
        self._was_holder = True

    def _tick(self) -> None:
        now = self.platform.now()
        db = self.store.db
        if delivery.anything_due(db, now):
            with self.store.write() as tx:
                delivery.release_due(tx, self.platform.now())
        current: settings.DeliverySettings | None = None
        while len(self._in_flight) < self.max_in_flight:
            now, wall = self.platform.now(), time.time()
            if not delivery.claimable(db, now, wall):  # read-only: an idle tick takes no write lock
                break
            current = current or settings.load(self.store)
            hold = 2 * current.push_timeout + 30
            with self.store.write() as tx:
                claim = delivery.claim_next(tx, self.owner, now, wall, hold, self.platform.zone)
            if claim is None:
                break
            self._in_flight[claim.batch_id] = claim
            threading.Thread(
                target=self._post, args=(claim, current.push_timeout), name=f"ipyy-push-{claim.batch_id}", daemon=True
            ).start()

    def _post(self, claim: Claim, timeout: float) -> None:
        """Runs in its own thread: HTTP only, never SQLite."""
        try:
            attempt = push(claim.url, push_body(claim), timeout)
        except Exception as exc:  # a bug here must not strand the claim
            log.exception("push of batch %s failed unexpectedly", claim.batch_id)
            attempt = _attempt(delivery.CONNECT_ERROR, None, 0.0, f"{type(exc).__name__}: {exc}")
        self._results.put((claim, attempt))
        self._wake.set()

    def _settle_results(self) -> None:
        while True:
            try:
                claim, attempt = self._results.get_nowait()
            except queue.Empty:
                return
            try:
                self._settle(claim, attempt)
            except sqlite3.OperationalError:
                # a locked or busy database: keep the answer and settle it on the next tick.
                # Dropped, the batch stayed "sending" (its account blocked) until its claim expired
                # (2 x push_timeout + 30 s), then was pushed again.
                self._results.put((claim, attempt))
                raise

    def _settle(self, claim: Claim, attempt: Attempt) -> None:
        with self.store.write() as db:
            state = delivery.settle(db, claim, self.owner, attempt, self.platform.now(), settings.load(self.store))
        self._in_flight.pop(claim.batch_id, None)
        log.info(
            "push batch %s try %d to %s: %s -> %s", claim.batch_id, claim.try_no, claim.url, attempt.outcome, state
        )

    def _shutdown(self) -> None:
        """Settle what answers within the grace period; the rest is given back (at-least-once)."""
        deadline = time.monotonic() + self._grace
        try:
            while self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    self._settle(*self._results.get(timeout=left))
                except queue.Empty:
                    break
            self._settle_results()
            with self.store.write() as db:
                delivery.release_claims(
                    db, [self.owner], self.platform.now(), "the mock stopped while this try was in flight"
                )
            self.lease.release()
        except Exception:
            log.exception("push runner shutdown")
