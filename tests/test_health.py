"""GET /_mock/health over the wire: ok, version, database_writable; any caller, any Host; never journaled or faulted."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import requests

from ipyy_mock import __version__, health
from ipyy_mock.core.store import Store
from ipyy_mock.testing import free_port

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
        assert reply.json() == {**HEALTHY, "ok": False, "database_writable": False}
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
    before = db_file.read_bytes(), (tmp_path / "ok.db-wal").read_bytes()
    assert store.writable(health.LOCK_WAIT) is True
    assert (db_file.read_bytes(), (tmp_path / "ok.db-wal").read_bytes()) == before, "nothing written"
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 30000, "the usual lock wait is back"
    store.close()
    # a connection SQLite opened read-only (what a file its user cannot write gives; root can write any file)
    store._local.conn = sqlite3.connect(db_file.as_uri() + "?mode=ro", uri=True, isolation_level=None)
    assert store.writable(health.LOCK_WAIT) is False
    assert not store.db.in_transaction
    store.close()


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
