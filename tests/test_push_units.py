"""The push machinery in-process: the lease, batch claims, and how one POST's answer is read."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal

import pytest

from ipyy_mock.core import delivery
from ipyy_mock.core.platform import Platform
from ipyy_mock.core.settings import DeliverySettings
from ipyy_mock.core.store import Account
from ipyy_mock.push import lease
from ipyy_mock.push import runner as pusher
from support.pushrecv import HANG, PushReceiver


@pytest.fixture
def platform(tmp_path):
    p = Platform(tmp_path / "units.db")
    for name in ("a", "b"):
        p.store.insert_account(
            Account(name=name, password="x", push_url=f"http://127.0.0.1:9/{name}", prices={"*": Decimal("0.1")})
        )
    return p


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# -- lease ----------------------------------------------------------------------------------
def test_one_lease_holder_at_a_time(platform):
    first = lease.Lease(platform.store, "t", "me:1:a", ttl=30)
    second = lease.Lease(platform.store, "t", "me:2:b", ttl=30)
    assert first.hold() and not second.hold()
    assert first.hold()  # renewing is fine
    first.release()
    assert second.hold() and not first.hold()
    assert second.holder() == "me:2:b"


def test_expired_lease_is_taken_over(platform):
    first = lease.Lease(platform.store, "t", "elsewhere:1:a", ttl=0.05)
    assert first.hold()
    second = lease.Lease(platform.store, "t", "elsewhere:2:b", ttl=30)
    assert not second.hold()
    time.sleep(0.1)
    assert second.hold()


def test_lease_of_a_dead_local_process_is_taken_at_once(platform):
    import socket

    ghost = f"{socket.gethostname()}:{dead_pid()}:x"
    assert lease.owner_is_dead(ghost)
    assert not lease.owner_is_dead(lease.new_owner())
    assert not lease.owner_is_dead("other-host:1:x")
    assert lease.Lease(platform.store, "t", ghost, ttl=300).hold()
    assert lease.Lease(platform.store, "t", "me:1:a", ttl=30).hold()


# -- claims -------------------------------------------------------------------------------
def _inject(platform: Platform, account: str, text: str) -> None:
    assert platform.inject_uplink(account, "8613800138000", text).route == "push"


def _claim(platform: Platform, owner: str, hold: float = 60):
    with platform.store.write() as db:
        return delivery.claim_next(db, owner, platform.now(), time.time(), hold, platform.zone)


def test_a_batch_is_claimed_once_and_an_account_has_one_in_flight(platform):
    _inject(platform, "a", "one")
    _inject(platform, "a", "two")
    _inject(platform, "b", "three")
    first = _claim(platform, "r1")
    assert (first.account, first.kind, first.try_no) == (
        "a",
        "callbox",
        1,
    ) and b"<content>one</content>" in pusher.push_body(first)
    second = _claim(platform, "r2")
    assert second.account == "b"  # a's second batch waits for its first
    assert _claim(platform, "r3") is None
    with platform.store.write() as db:
        state = delivery.settle(
            db, first, "r1", delivery.Attempt(delivery.DELIVERED), platform.now(), DeliverySettings()
        )
    assert state == "delivered"
    assert _claim(platform, "r3").account == "a"


def test_failed_tries_pause_then_return_to_the_pull_queue(platform):
    _inject(platform, "a", "hello")
    settings = DeliverySettings(push_retry_pauses=(10.0, 20.0))
    for try_no, expected in ((1, "pending"), (2, "pending"), (3, "returned")):
        claim = _claim(platform, "r")
        assert claim is not None and claim.try_no == try_no
        with platform.store.write() as db:
            state = delivery.settle(db, claim, "r", delivery.Attempt(delivery.ERROR), platform.now(), settings)
        assert state == expected
        if expected == "pending":
            assert _claim(platform, "r") is None  # paused
            platform.advance_clock(settings.pause_after(try_no))
    account = platform.store.get_account("a")
    assert [u.content for u in platform.pull_uplinks(account)] == ["hello"]


def test_an_expired_claim_is_interrupted_and_taken_over(platform):
    _inject(platform, "a", "hello")
    stale = _claim(platform, "dead-runner", hold=-1)  # already expired
    fresh = _claim(platform, "r2")
    assert fresh.batch_id == stale.batch_id and fresh.try_no == 2
    with platform.store.write() as db:  # the stale runner's late answer changes nothing
        assert (
            delivery.settle(
                db, stale, "dead-runner", delivery.Attempt(delivery.DELIVERED), platform.now(), DeliverySettings()
            )
            == "sending"
        )
    rows = platform.store.db.execute("SELECT outcome FROM push_attempts ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["delivered", "sending"]  # the stale try is recorded as it answered


def test_release_claims_gives_batches_back(platform):
    _inject(platform, "a", "hello")
    _claim(platform, "stopping")
    with platform.store.write() as db:
        assert delivery.release_claims(db, ["stopping"], platform.now(), "stopped") == 1
    claim = _claim(platform, "next")
    assert claim.try_no == 2
    outcomes = [r[0] for r in platform.store.db.execute("SELECT outcome FROM push_attempts ORDER BY id")]
    assert outcomes == ["interrupted", "sending"]


# -- one POST ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "answer, outcome",
    [
        (b"1", delivery.DELIVERED),
        (b" 1\r\n", delivery.DELIVERED),
        (b"error", delivery.ERROR),
        (b"ERROR\n", delivery.ERROR),
        (b"", delivery.DELIVERED_OTHER),
        (b"ok", delivery.DELIVERED_OTHER),
        ((500, b""), delivery.DELIVERED_OTHER),
        ((500, b"error"), delivery.ERROR),
        ((302, b""), delivery.DELIVERED_OTHER),
    ],
)
def test_answers_are_read_as_the_vendor_document_says(answer, outcome):
    with PushReceiver([answer]) as receiver:
        attempt = pusher.push(receiver.url, b'<?xml version="1.0" encoding="utf-8" ?>\n<returnsms/>', 2)
    assert attempt.outcome == outcome, attempt
    assert attempt.delivered == (outcome in (delivery.DELIVERED, delivery.DELIVERED_OTHER))


def test_no_connection_and_no_answer_mean_try_again():
    with PushReceiver(listening=False) as dead:
        refused = pusher.push(dead.url, b"<returnsms/>", 2)
    assert refused.outcome == delivery.CONNECT_ERROR and not refused.delivered
    with PushReceiver([HANG]) as slow:
        started = time.monotonic()
        timed_out = pusher.push(slow.url, b"<returnsms/>", 0.2)
    assert timed_out.outcome == delivery.TIMEOUT and time.monotonic() - started < 2
