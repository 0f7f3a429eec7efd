"""GET /_mock/health over the wire: ok, version, database_writable; any caller, any Host; never journaled or faulted."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import requests

from ipyy_client import HttpClient
from ipyy_client.errors import IpyyError
from ipyy_mock import __version__
from ipyy_mock.core.store import Store
from ipyy_mock.server import health
from ipyy_mock.testing.process import free_port
from support import disks
from support.mockproc import MockProcess

HEALTHY = {
    "ok": True,
    "version": __version__,
    "database_writable": True,
    "retention": {"keep_messages": 200_000, "keep_days": 90.0},  # the serve defaults
}


def get(mock_server, method="GET", **kwargs) -> requests.Response:
    return requests.request(method, mock_server.base_url + health.PATH, timeout=30, **kwargs)


def test_healthy_reply(mock_server):
    reply = get(mock_server)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.json() == HEALTHY
    head = get(mock_server, "HEAD")
    assert head.status_code == 200 and head.content == b""


@pytest.mark.parametrize("path", ["/_mock/health", "/_MOCK/Health", "/_mock/health/"])
def test_any_host_and_path_case(mock_server, path):
    reply = requests.get(mock_server.base_url + path, headers={"Host": "evil.example:8080"}, timeout=30)
    assert reply.status_code == 200 and reply.json() == HEALTHY


def test_other_methods_are_405_in_json(mock_server):
    reply = get(mock_server, "POST", data="x")
    assert reply.status_code == 405
    assert reply.headers["Allow"] == "GET, HEAD"
    assert reply.json() == {"error": "POST is not allowed on /_mock/health", "hint": "GET /_mock/health"}


def test_not_journaled(mock_server):
    requests.delete(mock_server.base_url + "/_mock/api/journal", timeout=30)
    for _ in range(3):
        get(mock_server)
    requests.get(mock_server.base_url + "/WebService.asmx?WSDL", timeout=30)
    entries = requests.get(mock_server.base_url + "/_mock/api/journal", timeout=30).json()["entries"]
    paths = [e["path"] for e in entries]
    assert "/WebService.asmx" in paths and not [p for p in paths if "health" in p.lower()]


def test_faults_never_apply(mock_server):
    api = mock_server.base_url + "/_mock/api/faults"
    requests.post(api, json={"endpoint": "*", "kind": "http_503"}, timeout=30).raise_for_status()
    try:
        assert requests.get(mock_server.base_url + "/WebService.asmx?WSDL", timeout=30).status_code == 503
        assert get(mock_server).json() == HEALTHY
    finally:
        requests.delete(api, timeout=30).raise_for_status()


def test_a_locked_database_is_503_and_recovers(mock_server):
    """Another writer holds the write lock past LOCK_WAIT: the mock cannot store a send now, so it is not healthy."""
    locker = sqlite3.connect(mock_server.db_path, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN IMMEDIATE")
    released = threading.Timer(health.LOCK_WAIT + 3.0, lambda: locker.execute("ROLLBACK"))
    try:
        started = time.monotonic()
        reply = get(mock_server)
        assert health.LOCK_WAIT <= time.monotonic() - started < health.LOCK_WAIT + 2.5
        assert reply.status_code == 503
        data = reply.json()
        assert data.pop("reason").startswith("another process held the write lock for over 2 s"), data
        assert data == {**HEALTHY, "ok": False, "database_writable": False}
        released.start()
        released.join()
        assert get(mock_server).json() == HEALTHY
    finally:
        released.cancel()
        if locker.in_transaction:
            locker.execute("ROLLBACK")
        locker.close()


def test_store_writable_cases(tmp_path):
    store = Store(tmp_path / "ok.db")
    db_file = tmp_path / "ok.db"
    assert store.write_problem(health.LOCK_WAIT) is None and store.writable(health.LOCK_WAIT) is True
    assert store.db.execute("SELECT count(*) FROM health_probe").fetchone()[0] == 0, "the probe's row is gone"
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 30000, "the usual lock wait is back"
    store.close()
    # a connection SQLite opened read-only (what a file its user cannot write gives; root can write any file)
    store._local.conn = sqlite3.connect(db_file.as_uri() + "?mode=ro", uri=True, isolation_level=None)
    problem = store.write_problem(health.LOCK_WAIT)
    assert problem is not None and problem.startswith("the database cannot be written (attempt to write a readonly")
    assert not store.db.in_transaction
    store.close()


def served_health(server) -> tuple[int, dict]:
    reply = requests.get(server.base_url + health.PATH, timeout=30)
    return reply.status_code, reply.json()


def test_a_full_disk_is_503_with_the_reason_and_recovers(tmp_path):
    """Every send would fail on COMMIT: the check commits too (a write rolled back never reaches the disk)."""
    with disks.tiny_tmpfs(tmp_path / "volume") as volume:
        server = MockProcess(volume / "mock.db", workers=1).start()
        try:
            account = server.new_account()
            assert served_health(server) == (200, HEALTHY)
            filler = disks.fill(volume)
            status, data = served_health(server)
            assert status == 503 and data["ok"] is False and data["database_writable"] is False, data
            assert data["reason"].startswith("the disk is full (database or disk is full)"), data
            send = HttpClient(account.name, account.password, base_url=server.base_url)
            many = ",".join(f"86138{i:08d}" for i in range(2000))  # a send that needs new pages, as any would soon
            with pytest.raises(IpyyError):
                send.send(many, "满了【华信】").raise_for_status()
            filler.unlink()
            assert served_health(server) == (200, HEALTHY)
        finally:
            server.stop()


def test_an_immutable_database_is_503_with_the_reason_and_recovers(tmp_path):
    """``chattr +i`` under the running server (root ignores chmod, not this): the probe's commit fails."""
    server = MockProcess(tmp_path / "mock.db", workers=1).start()
    try:
        assert served_health(server) == (200, HEALTHY)
        with disks.immutable(tmp_path / "mock.db", tmp_path / "mock.db-wal"):
            status, data = served_health(server)
            assert status == 503 and data["ok"] is False, data
            assert data["reason"].startswith("writing the database failed (SQLITE_IOERR"), data
        assert served_health(server) == (200, HEALTHY)
    finally:
        server.stop()


def test_probe_exit_codes(mock_server, capsys):
    assert health.main([mock_server.base_url + health.PATH]) == 0
    assert '"database_writable": true' in capsys.readouterr().out
    assert health.main([mock_server.base_url + "/WebService.asmx?WSDL"]) == 1
    assert "not the mock's health reply" in capsys.readouterr().err
    assert health.main([mock_server.base_url + "/_mock/nothing"]) == 1
    assert "HTTP 404" in capsys.readouterr().err
    assert health.main([f"http://127.0.0.1:{free_port()}{health.PATH}"]) == 1  # nobody listens there
    assert "is the mock running on that host and port?" in capsys.readouterr().err


@pytest.mark.parametrize(
    "env, url",
    [
        ({}, "http://127.0.0.1:8080/_mock/health"),
        ({"IPYY_MOCK_HOST": "0.0.0.0", "IPYY_MOCK_PORT": "9000"}, "http://127.0.0.1:9000/_mock/health"),
        ({"IPYY_MOCK_HOST": "::"}, "http://[::1]:8080/_mock/health"),
        ({"IPYY_MOCK_HOST": "10.1.2.3", "IPYY_MOCK_PORT": "81"}, "http://10.1.2.3:81/_mock/health"),
    ],
)
def test_probe_default_url(env, url):
    assert health.default_url(env) == url
