"""A named lease in SQLite: at most one holder at a time across every process on one database file.

Why a lease and not "the first worker runs the pusher": server workers come
and go (a crash, ``kill -9``, a restart with the same file, even two servers
on one file), and exactly one of them must push. The holder renews its lease
while it runs; when it dies the lease expires (``ttl`` seconds of the real
clock, never the virtual one) and another process takes over. A holder on
this host whose process is gone is taken over at once, so a restarted server
resumes pushing without waiting out the old lease.
"""

from __future__ import annotations

import os
import secrets
import socket
import time

from ipyy_mock.core.store import Store


def new_owner() -> str:
    """``host:pid:random``: unique per runner, and says which process to check for liveness."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def owner_is_dead(owner: str) -> bool:
    """True only when ``owner`` ran on this host and its process no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """[push-faults] A killed worker nobody has reaped yet (a container whose PID 1 does not reap
    orphans) still answers ``kill(pid, 0)``, but it is gone: its lease and claims are taken at once,
    not after the claim expires (2 x push_timeout + 30 s). Linux only; elsewhere, False."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state in (b"Z", b"X")


class Lease:
    def __init__(self, store: Store, name: str, owner: str, ttl: float = 5.0) -> None:
        self.store = store
        self.name = name
        self.owner = owner
        self.ttl = ttl
        self._expires = 0.0  # our own view of our lease's expiry (real clock)

    @property
    def held(self) -> bool:
        return time.time() < self._expires

    def hold(self) -> bool:
        """Take or renew the lease if we may; True while we hold it.

        A holder writes only when half the ttl is gone, and a contender reads
        before it writes, so an idle server does not take the write lock often.
        """
        now = time.time()
        if self.held and self._expires - now > self.ttl / 2:
            return True
        row = self.store.db.execute("SELECT owner, expires_at FROM leases WHERE name=?", (self.name,)).fetchone()
        if row is not None and not self._may_take(row["owner"], row["expires_at"], now):
            self._expires = 0.0
            return False
        with self.store.write() as db:
            row = db.execute("SELECT owner, expires_at FROM leases WHERE name=?", (self.name,)).fetchone()
            now = time.time()
            if row is not None and not self._may_take(row["owner"], row["expires_at"], now):
                self._expires = 0.0
                return False
            db.execute(
                "INSERT INTO leases(name, owner, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET owner=excluded.owner, expires_at=excluded.expires_at",
                (self.name, self.owner, now + self.ttl),
            )
        self._expires = now + self.ttl
        return True

    def _may_take(self, owner: str, expires_at: float, now: float) -> bool:
        return owner == self.owner or expires_at < now or owner_is_dead(owner)

    def release(self) -> None:
        with self.store.write() as db:
            db.execute("DELETE FROM leases WHERE name=? AND owner=?", (self.name, self.owner))
        self._expires = 0.0

    def holder(self) -> str | None:
        row = self.store.db.execute("SELECT owner, expires_at FROM leases WHERE name=?", (self.name,)).fetchone()
        return row["owner"] if row and row["expires_at"] >= time.time() else None
