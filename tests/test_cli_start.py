"""Start errors of ``ipyy-mock`` and ``ipyy``: one line on stderr, before any banner, no traceback.

Exit status 2 for a usage error (the parser's), 1 for anything else that stops a start (a port in use,
a database that cannot be opened). The banner is printed only once the server answers.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from ipyy_mock.testing.process import free_port
from support import disks
from support.mockproc import console_script


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess, code: int) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == "", proc.stdout  # no banner, no JSON
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


MOCK = console_script("ipyy-mock")


@pytest.mark.parametrize("port", ["80000", "0", "-1", "http"])
def test_a_bad_port_is_a_usage_error(tmp_path, port):
    line = one_line_error(run(MOCK, "serve", "--port", port, "--db", str(tmp_path / "x.db")), 2)
    assert "--port" in line and "1 to 65535" in line and "--help" in line
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("reuseport", [False, True])
def test_a_busy_port_says_so_and_suggests_the_next(tmp_path, reuseport):
    """Also when the holder set SO_REUSEPORT (as granian's workers do), which a second granian would share."""
    with socket.socket() as holder:
        if reuseport:
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        line = one_line_error(run(MOCK, "serve", "--port", str(port), "--db", str(tmp_path / "x.db")), 1)
    assert line == f"ipyy-mock: port {port} is in use: another ipyy-mock? try --port {port + 1}"


def test_a_host_that_is_not_this_machine(tmp_path):
    line = one_line_error(
        run(MOCK, "serve", "--host", "192.0.2.1", "--port", str(free_port()), "--db", str(tmp_path / "x.db")), 1
    )  # bind() only: nothing is sent anywhere
    assert "192.0.2.1 is not an address of this machine" in line and "--host 127.0.0.1" in line


def test_serve_on_a_file_that_is_not_a_database(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("not sqlite\n" * 100)
    line = one_line_error(run(MOCK, "serve", "--port", str(free_port()), "--db", str(bad)), 1)
    assert str(bad) in line and "not an SQLite database" in line


def damaged_database(path) -> None:
    """A mock database with pages past the first overwritten: SQLite still opens it, quick_check does not pass."""
    from ipyy_mock.core.store import Store

    store = Store(path)
    for i in range(300):
        store.db.execute("INSERT INTO health_probe(at) VALUES (?)", (i,))
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    data = bytearray(path.read_bytes())
    for offset in range(2 * 4096, len(data), 4096):
        data[offset : offset + 100] = bytes(range(100))
    path.write_bytes(bytes(data))


def test_serve_on_a_damaged_database_says_damaged(tmp_path):
    bad = tmp_path / "mock.db"
    damaged_database(bad)
    line = one_line_error(run(MOCK, "serve", "--port", str(free_port()), "--db", str(bad)), 1)
    assert line.startswith(f"ipyy-mock: the database {bad} is damaged (") and "restore it from a copy" in line, line
    assert "permission" not in line


def test_serve_on_a_full_disk_says_the_disk_is_full(tmp_path):
    with disks.tiny_tmpfs(tmp_path / "volume", "1m") as volume:
        disks.fill(volume)
        line = one_line_error(run(MOCK, "serve", "--port", str(free_port()), "--db", str(volume / "mock.db")), 1)
    assert "the disk is full" in line and "free space" in line, line
    assert "permission" not in line and "can write" not in line


def test_serve_on_an_immutable_database_says_read_only(tmp_path):
    from ipyy_mock.core.store import Store

    db = tmp_path / "mock.db"
    Store(db).close()
    with disks.immutable(db):
        line = one_line_error(run(MOCK, "serve", "--port", str(free_port()), "--db", str(db)), 1)
    assert f"cannot write the database {db}: it is read-only" in line, line


@pytest.mark.parametrize("action", [["show", "demo"], ["list"], ["set", "demo", "--balance", "5"]])
def test_account_commands_on_a_missing_database_name_it_and_what_creates_one(tmp_path, action):
    missing = tmp_path / "nowhere.db"
    line = one_line_error(run(MOCK, "account", *action, "--db", str(missing)), 1)
    assert str(missing) in line and "--create" in line and "account add" in line
    assert not missing.exists()  # nothing created behind the user's back


def test_account_create_and_add_make_the_database(tmp_path):
    listed = run(MOCK, "account", "list", "--create", "--db", str(tmp_path / "a.db"))
    assert listed.returncode == 0 and listed.stdout.strip() == "[]", listed.stderr
    added = run(MOCK, "account", "add", "acme", "--password", "pw", "--db", str(tmp_path / "b.db"))
    assert added.returncode == 0 and '"name": "acme"' in added.stdout, added.stderr


def test_account_commands_on_an_unreadable_database(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x00\xff" * 4096)
    line = one_line_error(run(MOCK, "account", "list", "--db", str(garbage)), 1)
    assert str(garbage) in line and "not an SQLite database" in line
    folder = tmp_path / "folder.db"
    folder.mkdir()
    line = one_line_error(run(MOCK, "account", "show", "demo", "--db", str(folder)), 1)
    assert line.startswith(f"ipyy-mock: cannot open the database {folder}")


@pytest.mark.parametrize("script, commands", [("ipyy", ["send", "balance"]), ("ipyy-mock", ["serve", "account"])])
def test_no_command_lists_the_commands(script, commands):
    proc = run(console_script(script))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    for command in commands:
        assert command in proc.stderr


def test_the_banner_comes_once_the_server_answers(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [MOCK, "serve", "--port", str(port), "--db", str(tmp_path / "b.db"), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        banner = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            banner += line
            if not line or line.lstrip().startswith("try"):
                break
        assert f"http://127.0.0.1:{port}" in banner and "granian" in banner, banner
        started = time.monotonic()
        for _ in range(6):  # at once, no retry: both workers have built their app and listen
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/WebService.asmx?WSDL", timeout=5) as reply:
                assert reply.status == 200
        assert time.monotonic() - started < 5
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


@pytest.mark.parametrize("server", ["granian", "gunicorn"])
def test_no_request_is_answered_before_the_banner(tmp_path, server):
    """A client polling the WSDL from the start: when its first answer arrives, the banner is already in the pipe
    (printed before any request is answered), so a reader of the output never meets a server it was not told of."""
    port = free_port()
    proc = subprocess.Popen(
        [MOCK, "serve", "--port", str(port), "--db", str(tmp_path / "b.db"), "--workers", "2", "--server", server],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/WebService.asmx?WSDL", timeout=30) as reply:
                    assert reply.status == 200
                    break
            except OSError:
                time.sleep(0.002)
        else:
            pytest.fail("the mock never answered")
        readable, _, _ = select.select([proc.stdout], [], [], 0)
        assert readable, "the WSDL was answered before the banner was printed"
        assert proc.stdout.read1(65536).decode().startswith("ipyy-mock ")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
