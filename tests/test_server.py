"""The HTTP server in front of the mock (server.py, edge.py; docs/server.md), over the wire.

Slow clients cannot stall it: a connection whose headers are not in within
``--header-timeout`` is dropped, a body not in within ``--body-timeout`` gets
408, and neither (nor a latency fault) holds up the one Python thread that
serves everybody else in a worker. The ``reset`` fault really sends an RST.
A worker that dies is replaced; a stopped server hands back its push lease.
All traffic goes to 127.0.0.1, every loop is bounded in time and count.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import threading
import time
from decimal import Decimal

import pytest
import requests

from ipyy_client import HttpClient
from ipyy_mock.core import store as store_module
from ipyy_mock.core.store import Store
from support.mockproc import MockProcess

TEXT = "测试【华信】"
MOBILE = "8613800138000"


def send_once(server: MockProcess, account) -> float:
    """One real HTTP-interface send; its round-trip time in seconds (fails the test if refused)."""
    started = time.monotonic()
    with HttpClient(account.name, account.password, base_url=server.base_url, timeout=10) as http:
        http.send([MOBILE], TEXT).raise_for_status()
    return time.monotonic() - started


def closed_after(sock: socket.socket, limit: float, trickle: bytes = b"", every: float = 0.5) -> tuple[float, bytes]:
    """Trickle ``trickle`` every ``every`` s until the server closes the connection: (seconds, what it sent)."""
    started, got, next_send = time.monotonic(), b"", time.monotonic() + every
    sock.settimeout(0.05)
    while time.monotonic() - started < limit:
        try:
            data = sock.recv(4096)
            if not data:
                break
            got += data
        except socket.timeout:
            pass
        except OSError:
            break
        if trickle and time.monotonic() >= next_send:
            next_send += every
            try:
                sock.sendall(trickle)
            except OSError:
                break
    return time.monotonic() - started, got


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    """One worker with one Python thread: whatever stalls that thread stalls the whole server."""
    server = MockProcess(
        tmp_path_factory.mktemp("server") / "one.db", workers=1, args=("--header-timeout", "2", "--body-timeout", "2")
    ).start()
    yield server
    server.stop()


# -- slow headers ("slowloris") ----------------------------------------------------------------------


def test_a_client_that_never_finishes_its_headers_is_dropped_after_the_timeout(one_worker):
    with socket.create_connection(("127.0.0.1", one_worker.port), timeout=5) as sock:
        sock.sendall(b"POST /I18NSms.aspx HTTP/1.1\r\nHost: x\r\n")
        took, got = closed_after(sock, 10, trickle=b"X-Slow: 1\r\n", every=0.3)
    assert 1.5 <= took < 4, took  # --header-timeout 2, not the default 5 and never "as long as it trickles"
    assert b"200 OK" not in got


def test_an_idle_connection_is_dropped_after_the_timeout(one_worker):
    with socket.create_connection(("127.0.0.1", one_worker.port), timeout=5) as sock:
        took, got = closed_after(sock, 10)
    assert 1.5 <= took < 4 and got == b"", (took, got)


@pytest.mark.slow
def test_1500_idle_connections_do_not_lock_out_a_send(tmp_path):
    """Past granian's default connection limit (backlog / workers: 1,024 in all) a new connection waited for an idle
    one to be dropped (--header-timeout, 30 s here): the send must get through now, on a connection of its own.
    benchmarks/idle_connections.py measures the latency side by side."""
    server = MockProcess(tmp_path / "idle.db", workers=2, args=("--header-timeout", "30")).start()
    idle: list[socket.socket] = []
    try:
        for i in range(1500):
            conn = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            if i % 2:
                conn.sendall(b"POST /I18NSms.aspx HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # slow: headers never end
            idle.append(conn)
        time.sleep(0.5)  # let the workers accept what they will
        with HttpClient("demo", "demo123", "", server.base_url, timeout=10, retries=0) as client:
            assert client.send("8613800138000", "有人占着线【华信】").ok
    finally:
        for conn in idle:
            conn.close()
        server.stop()


def test_200_slowloris_connections_do_not_stall_sends(tmp_path):
    """200 connections trickle header lines for ~30 s (reconnecting when dropped) while one real send a
    second must be answered within 1 s, on the default settings (2 workers x 1 thread, 5 s header timeout)."""
    server = MockProcess(tmp_path / "slowloris.db", workers=2).start()
    stop = threading.Event()
    stats = {"opened": 0, "dropped": 0, "lived": []}
    try:
        account = server.new_account(balance=Decimal("1000"))
        send_once(server, account)  # warm: both workers have loaded

        def attack() -> None:
            sel = selectors.DefaultSelector()
            born: dict[socket.socket, float] = {}

            def open_one() -> None:
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
                sock.sendall(b"POST /I18NSms.aspx HTTP/1.1\r\nHost: x\r\n")
                sock.setblocking(False)
                sel.register(sock, selectors.EVENT_READ)
                born[sock] = time.monotonic()
                stats["opened"] += 1

            for _ in range(200):
                open_one()
            next_trickle = time.monotonic()
            while not stop.is_set():
                for key, _ in sel.select(timeout=0.1):
                    sock = key.fileobj
                    try:
                        data = sock.recv(4096)
                    except OSError:
                        data = b""
                    if not data:  # dropped by the server: note how long it lived, open another
                        stats["dropped"] += 1
                        stats["lived"].append(time.monotonic() - born.pop(sock))
                        sel.unregister(sock)
                        sock.close()
                        if not stop.is_set():
                            open_one()
                if time.monotonic() >= next_trickle:
                    next_trickle += 1.0
                    for sock in list(born):
                        try:
                            sock.send(b"X-Slow: 1\r\n")
                        except OSError:
                            pass
            for sock in list(born):
                sel.unregister(sock)
                sock.close()

        attacker = threading.Thread(target=attack, daemon=True)
        attacker.start()
        times = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            took = send_once(server, account)
            times.append(took)
            time.sleep(max(0.0, 1.0 - took))
        stop.set()
        attacker.join(15)
    finally:
        stop.set()
        server.stop()
    assert len(times) >= 25
    assert max(times) < 1.0, sorted(times)[-5:]
    assert stats["dropped"] >= 200, stats["dropped"]  # every one was dropped at least once in 30 s
    assert 4.0 <= min(stats["lived"]) and max(stats["lived"]) < 8.0, (min(stats["lived"]), max(stats["lived"]))


# -- slow bodies -----------------------------------------------------------------------------------------


def test_slow_body_senders_do_not_block_others_and_get_408(one_worker):
    """20 clients announce a body and trickle it (or send none): one worker, one thread, still serves."""
    account = one_worker.new_account()
    head = (
        b"POST /I18NSms.aspx HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    socks = [socket.create_connection(("127.0.0.1", one_worker.port), timeout=5) for _ in range(20)]
    results: list[tuple[float, bytes]] = []
    try:
        for sock in socks:
            sock.sendall(head + b"action=send")

        def trickle(sock: socket.socket, data: bytes) -> None:
            results.append(closed_after(sock, 10, trickle=data, every=0.2))

        threads = [
            threading.Thread(target=trickle, args=(s, b"a" if i % 2 else b""), daemon=True) for i, s in enumerate(socks)
        ]
        for t in threads:
            t.start()
        time.sleep(0.3)
        times = [send_once(one_worker, account) for _ in range(5)]
        for t in threads:
            t.join(15)
    finally:
        for sock in socks:
            sock.close()
    assert max(times) < 1.0, times
    assert len(results) == 20
    for took, got in results:
        assert got.startswith(b"HTTP/1.1 408 "), got[:80]
        assert 1.5 <= took < 4, took  # --body-timeout 2
    assert one_worker.balance(account.name) == account.balance - 5 * Decimal("0.05")


def test_a_body_cut_short_is_never_run(one_worker):
    """The client announces more than it sends, then stops: what arrived is a complete-looking send form,
    but the request was never finished, so nothing is stored or charged, and the answer is a 400."""
    from ipyy_client.encoding import encode_content

    account = one_worker.new_account()
    form = (
        f"action=send&account={account.name}&password={account.password}&mobile={MOBILE}"
        f"&content={encode_content(TEXT)}&code=8"
    ).encode()
    with socket.create_connection(("127.0.0.1", one_worker.port), timeout=5) as sock:
        sock.sendall(
            b"POST /I18NSms.aspx HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(form) + 50}\r\n\r\n".encode()
            + form
        )
        sock.shutdown(socket.SHUT_WR)
        took, got = closed_after(sock, 5)
    assert got.startswith(b"HTTP/1.1 400 ") and b"nothing was done" in got, got[:200]  # the edge's, not a 500
    time.sleep(0.3)
    assert one_worker.balance(account.name) == account.balance
    store = one_worker.platform().store
    try:
        assert store.messages(account=account.name) == []
    finally:
        store.close()


def test_a_body_over_the_limit_is_refused_from_its_header_without_waiting_for_it(tmp_path):
    server = MockProcess(tmp_path / "limit.db", workers=1, args=("--max-body", "1000")).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(
                b"POST /I18NSms.aspx HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
                b"\r\nContent-Length: 5000000\r\n\r\naction=send"
            )
            took, got = closed_after(sock, 5)
    finally:
        server.stop()
    assert got.startswith(b"HTTP/1.1 413 "), got[:80]
    assert took < 2


# -- latency faults and the one thread ------------------------------------------------------------------


def test_a_latency_fault_does_not_stall_other_requests(one_worker):
    account = one_worker.new_account()
    requests.post(
        one_worker.base_url + "/_mock/api/faults",
        json={"endpoint": "status", "kind": "latency", "value": 3000, "count": 1},
        timeout=10,
    ).raise_for_status()
    slow: dict[str, float] = {}

    def query() -> None:
        started = time.monotonic()
        with HttpClient(account.name, account.password, base_url=one_worker.base_url, timeout=10) as http:
            http.status_reports()
        slow["took"] = time.monotonic() - started

    waiter = threading.Thread(target=query)
    waiter.start()
    time.sleep(0.3)
    times = [send_once(one_worker, account) for _ in range(3)]
    waiter.join(10)
    assert slow["took"] >= 3.0
    assert max(times) < 1.0, times


# -- the reset fault ---------------------------------------------------------------------------------------


def _expect_rst(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /pwd.aspx?account=a&password=b&newpassword=c HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            for _ in range(50):  # an RST: recv raises; a FIN would return b"" instead
                if sock.recv(4096) == b"":
                    pytest.fail("the connection was closed (FIN), not reset (RST)")


def test_the_reset_fault_sends_an_rst(one_worker):
    requests.post(
        one_worker.base_url + "/_mock/api/faults", json={"endpoint": "pwd", "kind": "reset", "count": 1}, timeout=10
    ).raise_for_status()
    _expect_rst(one_worker.port)
    reply = requests.get(one_worker.base_url + "/pwd.aspx?account=a&password=b&newpassword=c", timeout=10)
    assert reply.status_code == 200  # spent: the server itself is fine


def test_the_reset_fault_on_a_server_listening_on_every_address(tmp_path):
    """granian reports 0.0.0.0 as the local address there; the connection is still found (and reset)."""
    server = MockProcess(tmp_path / "any.db", workers=1, args=("--host", "0.0.0.0")).start()
    try:
        requests.post(
            server.base_url + "/_mock/api/faults", json={"endpoint": "pwd", "kind": "reset", "count": 1}, timeout=10
        ).raise_for_status()
        _expect_rst(server.port)
    finally:
        server.stop()


def test_a_long_url_is_414(one_worker):
    reply = requests.get(one_worker.base_url + "/I18NSms.aspx?mobile=" + "1," * 3000, timeout=10)
    assert reply.status_code == 414 and "POST" in reply.text


# -- workers: crash, stop ------------------------------------------------------------------------------------


def _worker_pids(server: MockProcess) -> set[int]:
    out = open(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read().split()
    return {int(p) for p in out}


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads worker pids from /proc")
def test_a_killed_worker_is_replaced(tmp_path):
    server = MockProcess(tmp_path / "respawn.db", workers=2).start()
    try:
        account = server.new_account()
        before = _worker_pids(server)
        assert len(before) == 2
        os.kill(sorted(before)[0], signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = _worker_pids(server)
            if len(now) == 2 and now != before:
                break
            time.sleep(0.2)
        assert len(now) == 2 and now != before, (before, now)
        for _ in range(10):  # both workers answer (the kernel spreads connections over them)
            assert send_once(server, account) < 5
    finally:
        server.stop()


def test_a_stopped_server_lets_go_of_the_push_lease(tmp_path):
    """SIGTERM: each worker closes its app, so the runner deletes its lease row (no 5 s wait for a restart)."""
    db = tmp_path / "lease.db"
    server = MockProcess(db, workers=2).start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            store = Store(db)
            held = store.db.execute("SELECT owner FROM leases").fetchall()
            store.close()
            if held:
                break
            time.sleep(0.2)
        assert held, "no push runner took the lease"
    finally:
        server.stop(signal.SIGTERM)
    assert "Traceback" not in server.output_text()
    store = Store(db)
    try:
        assert store.db.execute("SELECT owner FROM leases").fetchall() == []
    finally:
        store.close()


# -- durability ---------------------------------------------------------------------------------------------------


def test_synchronous_normal_by_default_full_with_fsync(tmp_path):
    try:
        store_module.set_fsync(False)
        normal = Store(tmp_path / "n.db")
        assert normal.db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        normal.close()
        store_module.set_fsync(True)
        full = Store(tmp_path / "f.db")
        assert full.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        full.close()
    finally:
        store_module.set_fsync(False)


# -- gunicorn, still selectable --------------------------------------------------------------------------------


def test_gunicorn_is_still_selectable(tmp_path):
    db = tmp_path / "gunicorn.db"
    server = MockProcess(db, workers=2, args=("--server", "gunicorn", "--threads", "2")).start()
    try:
        assert "gunicorn" in server.banner
        account = server.new_account()
        assert send_once(server, account) < 5
        requests.post(
            server.base_url + "/_mock/api/faults", json={"endpoint": "pwd", "kind": "reset", "count": 1}, timeout=10
        ).raise_for_status()
        with pytest.raises(requests.ConnectionError):
            requests.get(server.base_url + "/pwd.aspx?account=a&password=b&newpassword=c", timeout=10)
        reply = requests.get(server.base_url + "/I18NSms.aspx?mobile=" + "1," * 3000, timeout=10)
        assert reply.status_code == 414  # gunicorn's own cap on the request line (4094 bytes)
    finally:
        server.stop(signal.SIGTERM)
    assert "Traceback" not in server.output_text()
    store = Store(db)
    try:
        assert store.db.execute("SELECT owner FROM leases").fetchall() == []  # handed back at the stop
    finally:
        store.close()


def test_ctrl_c_stops_cleanly(tmp_path):
    server = MockProcess(tmp_path / "int.db", workers=2).start()
    proc = server.proc
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends to the whole foreground group
    assert proc.wait(timeout=20) == 0
    server._drainer.join(5)
    server.proc = None
    assert "Traceback" not in server.output_text() and "KeyboardInterrupt" not in server.output_text()


def test_threads_above_one_run_the_app_in_a_pool(tmp_path):
    """--threads 2 on granian: the app runs in a pool of 2 threads per worker (not the loop's thread)."""
    server = MockProcess(tmp_path / "pool.db", workers=1, args=("--threads", "2")).start()
    try:
        assert "1 workers x 2 threads, granian" in server.banner
        account = server.new_account()
        senders = [threading.Thread(target=send_once, args=(server, account)) for _ in range(6)]
        for t in senders:
            t.start()
        for t in senders:
            t.join(30)
        assert server.balance(account.name) == account.balance - 6 * Decimal("0.05")
    finally:
        server.stop()
    assert "Traceback" not in server.output_text()
