"""Push under faults: nothing lost, nothing counted twice, whatever the receiver or the mock does.

Receivers (``chaosrecv.py``) answer ``1`` / ``error`` / another body, reset the
connection, answer after the mock's timeout, close their port, restart
mid-batch; the mock itself is killed with ``kill -9`` mid-batch and restarted.
Afterwards, per account, for reports (task id, mobile) and uplinks (task id,
mobile, content) alike:

- acknowledged (the rows of batches the mock settled as delivered) and pulled
  (statusApi.aspx / callApi.aspx) are disjoint, and their union is exactly what
  was sent and reports (``8613800000004`` never does; refused numbers are not
  sent), with no row stored twice and nothing left pending;
- every acknowledged batch was answered with a delivering body by its receiver;
  a receiver may also have seen batches it was not credited with (it answered
  after the timeout, or the mock died before settling): at-least-once at the
  receiver, exactly-once accounting on the platform;
- the journal (``GET /_mock/api/pushes``): every batch has at most 3 tries, at
  most one of them delivered and only the last; a returned batch failed 3 tries
  and its items are in the pull queue; a receiver saw a batch at most once per
  try, and answered it "delivered" more than once only for tries that timed out
  or were interrupted.

The last tests run the push runner in process against database faults (a
locked database, a batch deleted mid-flight, a killed worker nobody reaped).

Nothing here asserts on timing: waits are polls with generous deadlines, and a
loaded machine only changes which batches are delivered and which pulled.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections import Counter

import pytest
import requests
from lxml import etree

from ipyy_client.encoding import encode_content, md5_password
from support.chaosrecv import EMPTY_500, ERROR, HOLD, OK, OK_MARK, OTHER, RESET, RESTART, SLOW, ChaosReceiver
from support.mockproc import MockProcess
from support.pushrecv import HANG, PushReceiver, wait_until

CHAOS = {"push_timeout": 0.3, "push_retry_pauses": [0.05, 0.1], "report_delay": 0}
NO_REPORT, REPLIES, FAILS, BLACK = "8613800000004", "8613800000005", "8613800000001", "8613800000002"
DELIVERING = {"delivered", "delivered_other"}
FAILED_TRY = {"error", "connect_error", "timeout", "interrupted"}
DEADLINE = 50.0


# -- the platform side ----------------------------------------------------------------------
def admin(server: MockProcess, method: str, path: str, body=None, **kw) -> requests.Response:
    reply = requests.request(method, f"{server.base_url}/_mock/api/{path}", json=body, timeout=15, **kw)
    assert reply.status_code in (200, 201), reply.text
    return reply


class Ledger:
    """What the test sent, per account: the reports and uplinks the platform owes it."""

    def __init__(self, server: MockProcess, receivers: dict[str, ChaosReceiver]) -> None:
        self.server = server
        self.receivers = receivers  # account name -> its receiver
        self.reports: dict[str, set] = {name: set() for name in receivers}
        self.uplinks: dict[str, set] = {name: set() for name in receivers}
        self.pulled_reports: dict[str, list] = {name: [] for name in receivers}
        self.pulled_uplinks: dict[str, list] = {name: [] for name in receivers}
        self.passwords: dict[str, str] = {}

    def send(self, account, mobiles: list[str]) -> int:
        reply = requests.post(
            self.server.base_url + "/I18NSms.aspx",
            data=dict(
                action="send",
                userid="",
                account=account.name,
                password=md5_password(account.password),
                mobile=",".join(mobiles),
                code="8",
                content=encode_content("故障测试【华信】"),
                sendTime="",
                extno="",
            ),
            timeout=15,
        )
        fields = {c.tag: c.text or "" for c in etree.fromstring(reply.content)}
        assert fields["returnstatus"] == "Success", fields
        task = int(fields["taskID"])
        accepted = [m for m in mobiles if m not in (BLACK, "8613800000003")]
        assert int(fields["successCounts"]) == len(accepted), fields
        self.passwords[account.name] = account.password
        self.reports[account.name] |= {(task, m) for m in accepted if m != NO_REPORT}
        self.uplinks[account.name] |= {(task, m, "TD") for m in accepted if m == REPLIES}
        return task

    def inject_uplink(self, account, mobile: str, content: str) -> None:
        reply = admin(self.server, "POST", "uplinks", {"account": account.name, "mobile": mobile, "content": content})
        self.uplinks[account.name].add((reply.json()["task_id"], mobile, content))

    def pull_all(self) -> None:
        for name, password in self.passwords.items():
            self.pulled_reports[name] += self._pull(name, password, "/statusApi.aspx")
            self.pulled_uplinks[name] += self._pull(name, password, "/callApi.aspx")

    def _pull(self, name: str, password: str, path: str) -> list[tuple]:
        got: list[tuple] = []
        while True:
            reply = requests.get(
                self.server.base_url + path, params=dict(action="query", account=name, password=password), timeout=15
            )
            boxes = [{c.tag: c.text or "" for c in box} for box in etree.fromstring(reply.content)]
            if not boxes:
                return got
            for b in boxes:
                task = int(b["taskid"]) if b["taskid"] else None
                got.append((task, b["mobile"], b["content"]) if "content" in b else (task, b["mobile"]))

    # -- the database: ground truth of the platform's accounting ----------------------------
    def _db(self) -> sqlite3.Connection:
        """A plain reader on the mock's file (opening a Store would write its schema every poll)."""
        db = sqlite3.connect(self.server.db_path, timeout=30)
        db.row_factory = sqlite3.Row
        return db

    def settled(self) -> bool:
        """Every owed row exists, none waits for a batch, no batch is pending or in flight."""
        db = self._db()
        try:
            names = list(self.receivers)
            marks = ",".join("?" * len(names))
            reports = db.execute(f"SELECT COUNT(*) FROM reports WHERE account IN ({marks})", names).fetchone()[0]
            uplinks = db.execute(f"SELECT COUNT(*) FROM uplinks WHERE account IN ({marks})", names).fetchone()[0]
            busy = db.execute(
                f"SELECT COUNT(*) FROM push_batches WHERE account IN ({marks}) AND state IN ('pending', 'sending')",
                names,
            ).fetchone()[0]
            loose = sum(
                db.execute(
                    f"SELECT COUNT(*) FROM {t} WHERE account IN ({marks}) AND route='push' AND batch_id IS NULL", names
                ).fetchone()[0]
                for t in ("reports", "uplinks")
            )
            owed = sum(map(len, self.reports.values())), sum(map(len, self.uplinks.values()))
            return (reports, uplinks) == owed and busy == 0 and loose == 0
        finally:
            db.close()

    def wait_settled(self, deadline: float) -> None:
        while not self.settled():
            assert time.monotonic() < deadline, "timed out waiting for every report and uplink to settle"
            time.sleep(0.1)

    def rows(self) -> dict[str, dict]:
        """Per account: each batch's state and item keys, and every stored row's key (duplicates kept)."""
        db = self._db()
        try:
            out = {}
            for name in self.receivers:
                batches = {
                    b["id"]: {"state": b["state"], "kind": b["kind"], "keys": set()}
                    for b in db.execute("SELECT id, state, kind FROM push_batches WHERE account=?", (name,))
                }
                stored = {"reports": [], "uplinks": []}
                for table in stored:
                    cols = "task_id, mobile" + (", content" if table == "uplinks" else "")
                    for r in db.execute(
                        f"SELECT {cols}, route, consumed, batch_id FROM {table} WHERE account=?", (name,)
                    ):
                        key = tuple(r)[: 3 if table == "uplinks" else 2]
                        stored[table].append(key)
                        if r["batch_id"] is not None:
                            batch = batches[r["batch_id"]]
                            batch["keys"].add(key)
                            # a delivered batch's rows are consumed push rows; a returned one's joined the pull queue
                            assert (r["route"], r["consumed"]) == {"delivered": ("push", 1), "returned": ("pull", 1)}[
                                batch["state"]
                            ], (name, table, key, batch["state"], tuple(r))
                        else:
                            assert (r["route"], r["consumed"]) == ("pull", 1), (name, table, key, tuple(r))
                out[name] = {"batches": batches, "stored": stored}
            return out
        finally:
            db.close()


def journal(server: MockProcess, name: str) -> dict[int, dict]:
    batches = admin(server, "GET", "pushes", params={"account": name, "limit": 1000}).json()["batches"]
    return {b["id"]: b for b in batches}


# -- the invariant ----------------------------------------------------------------------------
def check_exactly_once(ledger: Ledger) -> Counter:
    """Everything the module docstring promises; returns the try outcomes and batch states seen, for coverage."""
    ledger.pull_all()
    seen: Counter = Counter()
    rows = ledger.rows()
    for name, receiver in ledger.receivers.items():
        batches, stored = rows[name]["batches"], rows[name]["stored"]
        log = journal(ledger.server, name)
        assert set(log) == set(batches), name
        for kind, owed, pulled_list, table in (
            ("statusbox", ledger.reports[name], ledger.pulled_reports[name], "reports"),
            ("callbox", ledger.uplinks[name], ledger.pulled_uplinks[name], "uplinks"),
        ):
            assert len(stored[table]) == len(set(stored[table])), f"{name}: a {table} row stored twice"
            assert set(stored[table]) == owed, f"{name}: stored {table} differ from what was sent"
            pulled = set(pulled_list)
            assert len(pulled_list) == len(pulled), f"{name}: a {table} row pulled twice"
            acked = set().union(
                *(b["keys"] for b in batches.values() if b["kind"] == kind and b["state"] == "delivered")
            )
            assert not acked & pulled, f"{name}: {table} both acknowledged and pulled: {sorted(acked & pulled)}"
            assert acked | pulled == owed, (
                f"{name}: {table} lost: {sorted(owed - acked - pulled)}, unexpected: {sorted((acked | pulled) - owed)}"
            )
        hits = receiver.hits
        for batch_id, batch in batches.items():
            entry = log[batch_id]
            tries = [a["outcome"] for a in entry["attempts"]]
            seen.update(tries)
            seen["batch " + entry["state"]] += 1
            assert entry["state"] == batch["state"] and entry["items"] == len(batch["keys"]) > 0, entry
            assert 1 <= entry["tries"] == len(tries) <= 3, entry
            assert [a["try"] for a in entry["attempts"]] == list(range(1, len(tries) + 1)), entry
            assert all(t in FAILED_TRY for t in tries[:-1]), entry  # posted again only after a failed try
            if batch["state"] == "delivered":
                assert tries[-1] in DELIVERING, entry
            else:  # returned: 3 failed tries, and its items went to the pull queue (checked above)
                assert entry["state"] == "returned" and len(tries) == 3 and tries[-1] in FAILED_TRY, entry
            mine = [h for h in hits if h.keys == batch["keys"]]
            assert len(mine) <= len(tries), (entry, mine)  # the receiver saw it at most once per try
            answered = sum(h.answered for h in mine)
            credited = sum(t in DELIVERING | {"timeout", "interrupted"} for t in tries)
            assert answered <= credited, (entry, mine)  # answered "1" twice only if the mock gave up or died
            if batch["state"] == "delivered":
                assert answered >= 1, (entry, mine)  # acknowledged means the receiver said so
        known = [b["keys"] for b in batches.values()]
        assert all(h.keys in known for h in hits), f"{name}: the receiver got a body that is no batch of this account"
    return seen


def mobiles(account_no: int, task_no: int) -> list[str]:
    """5 numbers: the auto-reply number, a failing or never-reporting test number, 3 ordinary ones."""
    special = FAILS if task_no % 2 else NO_REPORT
    return [REPLIES, special] + [f"86138{account_no}{task_no:03d}{j:04d}" for j in range(3)]


def start(tmp_path, workers: int) -> MockProcess:
    server = MockProcess(tmp_path / "faults.db", workers=workers).start()
    admin(server, "PUT", "settings", CHAOS)
    return server


# -- receivers misbehaving -------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 3])
def test_faulty_receivers_nothing_lost_nothing_twice(tmp_path, workers):
    """3 accounts x 40 messages (8 tasks each) against three receivers that fail in every way a receiver can."""
    deadline = time.monotonic() + DEADLINE
    server = start(tmp_path, workers)
    # one receiver per account, so each sees its requests in script order (an account has one batch in
    # flight; another of its batches may take a turn during a retry pause). ERROR, RESET, SLOW in a row
    # fail 3 tries; RESTART resets the try in flight (and a SLOW one still open) and closes the port 0.5 s
    flaky = ChaosReceiver([OK, ERROR, OK, RESET, OK, SLOW, OK, OTHER, ERROR, RESET, SLOW, EMPTY_500, OK], cycle=True)
    bouncing = ChaosReceiver([OK, SLOW, RESTART, OK, ERROR, OK, OTHER, ERROR, ERROR, OK], cycle=True, down=0.5)
    late = ChaosReceiver([OK, ERROR, EMPTY_500, RESET, OK, OTHER], cycle=True, listening=False)  # down at first
    receivers = (flaky, bouncing, late)
    try:
        accounts = [server.new_account(push_url=r.url) for r in receivers]
        ledger = Ledger(server, {a.name: r for a, r in zip(accounts, receivers)})
        for task_no in range(8):
            for account_no, account in enumerate(accounts, 1):
                ledger.send(account, mobiles(account_no, task_no))
            if task_no == 1:  # the closed port has returned a batch to the pull queue: the receiver comes up
                wait_until(
                    lambda: any(b["state"] == "returned" for b in journal(server, accounts[2].name).values()),
                    deadline - time.monotonic(),
                    "a batch returned from the closed port",
                )
                late.up()
            if task_no == 3:
                ledger.pull_all()  # pulling while batches are returned
                for account in accounts:
                    ledger.inject_uplink(account, "8613999990000", "hello <&> 你好")  # never sent to: no task
                    ledger.inject_uplink(account, REPLIES, "再见")
            time.sleep(0.1)
        ledger.wait_settled(deadline)
        seen = check_exactly_once(ledger)
    finally:
        for r in receivers:
            r.close()
        server.stop()
    # what the run went through: the closed port returns a batch, a SLOW answer is a timeout, whatever the load
    assert {"connect_error", "timeout", "batch returned", "batch delivered"} <= set(seen), seen


# -- the mock killed mid-batch ------------------------------------------------------------------------------
@pytest.mark.slow
def test_mock_killed_mid_batch_nothing_lost_nothing_twice(tmp_path):
    """``kill -9`` while a receiver holds a try unanswered, and again right after a receiver answered ``1``."""
    deadline = time.monotonic() + DEADLINE
    server = start(tmp_path, 2)
    admin(server, "PUT", "settings", {"push_timeout": 30})  # the held try must still be in flight at the kill
    holding = ChaosReceiver()
    marking = ChaosReceiver([OK, ERROR, OK, RESET, OK], cycle=True)
    flaky = ChaosReceiver([OK, ERROR, SLOW, OK, RESET, RESET, ERROR, OTHER], cycle=True)
    receivers = (holding, marking, flaky)
    try:
        accounts = [server.new_account(push_url=r.url) for r in receivers]
        ledger = Ledger(server, {a.name: r for a, r in zip(accounts, receivers)})

        def round_(task_no: int) -> None:
            for account_no, account in enumerate(accounts, 1):
                ledger.send(account, mobiles(account_no, task_no))

        # 1. a try in flight, unanswered, when the mock dies: pushed again after the restart
        holding.arm(HOLD)
        round_(0)
        round_(1)
        wait_until(holding.holding.is_set, deadline - time.monotonic(), "the receiver holding a try")
        held = holding.hits[0].keys
        server.stop(signal.SIGKILL)
        holding.release()  # it answers 1 to a mock that is gone: not acknowledged
        server.start()
        admin(server, "PUT", "settings", CHAOS)
        round_(2)
        round_(3)
        # 2. killed right after a receiver answered 1 (before or after the mock settled it: either is fine)
        marking.arm(OK_MARK)
        round_(4)
        wait_until(marking.marked.is_set, deadline - time.monotonic(), "an answer to kill the mock after")
        server.stop(signal.SIGKILL)
        server.start()
        round_(5)
        ledger.inject_uplink(accounts[2], REPLIES, "回复")
        round_(6)
        round_(7)
        ledger.wait_settled(deadline)
        seen = check_exactly_once(ledger)
        [held_id] = [i for i, b in ledger.rows()[accounts[0].name]["batches"].items() if b["keys"] == held]
        held_batch = journal(server, accounts[0].name)[held_id]
        assert held_batch["attempts"][0]["outcome"] == "interrupted", held_batch  # the try the mock died in
        assert len(held_batch["attempts"]) >= 2  # tried again after the restart ...
        assert sum(h.keys == held for h in holding.hits) >= 2  # ... and the receiver saw it again
    finally:
        for r in receivers:
            r.close()
        server.stop()
    assert seen["interrupted"] >= 1, seen


# -- the runner itself under faults, in process (each fails without its fix marked [push-faults] in mockserver/) --
@pytest.fixture
def runner_platform(tmp_path):
    from decimal import Decimal

    from ipyy_mock.core.platform import Platform
    from ipyy_mock.core.store import Account

    platform = Platform(tmp_path / "runner.db")
    with PushReceiver() as receiver:
        platform.store.insert_account(
            Account(name="a", password="x", push_url=receiver.url, prices={"*": Decimal("0.1")})
        )
        yield platform, receiver


def _batch_states(platform) -> list[str]:
    return [r[0] for r in platform.store.db.execute("SELECT state FROM push_batches ORDER BY id")]


def _failing_once(monkeypatch, module, name: str) -> list:
    """``module.name`` raises "database is locked" on its first call, then works."""
    real, calls = getattr(module, name), []

    def flaky(*args, **kwargs):
        calls.append(name)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, flaky)
    return calls


def test_a_settle_that_hits_a_locked_database_is_retried_not_dropped(runner_platform, monkeypatch):
    from ipyy_mock.core import delivery
    from ipyy_mock.push.runner import PushRunner

    platform, receiver = runner_platform
    calls = _failing_once(monkeypatch, delivery, "settle")
    runner = PushRunner(platform, poll=0.05).start()
    try:
        platform.inject_uplink("a", "8613800138000", "hi")
        # before the fix the answer was dropped: the batch stayed "sending" until its claim expired (30 s)
        wait_until(lambda: _batch_states(platform) == ["delivered"], 15, "the batch delivered")
        assert len(calls) >= 2 and len(receiver.pushes) == 1  # settled late, not pushed again
    finally:
        runner.stop()


def test_a_take_over_that_hits_a_locked_database_is_retried(runner_platform, monkeypatch):
    import socket
    import subprocess
    import sys

    from ipyy_mock.core import delivery
    from ipyy_mock.push.runner import PushRunner

    platform, receiver = runner_platform
    platform.inject_uplink("a", "8613800138000", "hi")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    ghost = f"{socket.gethostname()}:{child.pid}:x"  # a runner whose process is gone, its claim good for 300 s
    with platform.store.write() as db:
        assert delivery.claim_next(db, ghost, platform.now(), time.time(), 300, platform.zone) is not None
    calls = _failing_once(monkeypatch, delivery, "release_claims")
    runner = PushRunner(platform, poll=0.05, contend_every=0.05).start()
    try:
        # before the fix the take-back was not tried again: the batch waited out the ghost's 300 s claim
        wait_until(lambda: _batch_states(platform) == ["delivered"], 15, "the ghost's batch delivered")
        assert len(calls) >= 2 and len(receiver.pushes) == 1
        outcomes = [r[0] for r in platform.store.db.execute("SELECT outcome FROM push_attempts ORDER BY id")]
        assert outcomes == ["interrupted", "delivered"]
    finally:
        runner.stop()


def test_a_batch_deleted_while_in_flight_does_not_block_the_runner(runner_platform):
    """``POST /_mock/api/reset`` empties the push tables, maybe while a push is in flight."""
    from ipyy_mock.push.runner import PushRunner

    platform, receiver = runner_platform
    receiver.script = [HANG]
    runner = PushRunner(platform, poll=0.05, max_in_flight=1).start()
    try:
        platform.inject_uplink("a", "8613800138000", "before the reset")
        receiver.wait_for(1)
        with platform.store.write() as db:
            for table in ("push_attempts", "push_batches", "uplinks"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
        receiver.release()  # the in-flight push answers now, for a batch that no longer exists
        platform.inject_uplink("a", "8613800138000", "after the reset")
        # before the fix settle() failed on the missing row and its slot was never freed: with one slot,
        # nothing was pushed again
        wait_until(lambda: _batch_states(platform) == ["delivered"], 15, "the next batch delivered")
        assert [u.content for u in receiver.pushes[1].items] == ["after the reset"]
    finally:
        runner.stop()


def test_an_unreaped_dead_worker_counts_as_dead():
    """A ``kill -9``-ed worker that nobody reaped (no init in the container) is a zombie, not a live runner."""
    import socket
    import subprocess
    import sys

    from ipyy_mock.push import lease

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        stat = f"/proc/{child.pid}/stat"
        if not os.path.exists(stat):
            pytest.skip("no /proc: the zombie check is Linux only")
        wait_until(lambda: open(stat).read().rpartition(")")[2].split()[0] == "Z", 15, "the child a zombie")
        assert lease.owner_is_dead(f"{socket.gethostname()}:{child.pid}:x")
    finally:
        child.wait()
