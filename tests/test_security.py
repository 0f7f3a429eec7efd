"""Who may drive the mock, over the wire: Host allow-list, admin token, cross-site headers, files at rest, odd bodies.

The threat: any web page the developer visits while the mock runs can make the
browser send requests to it. With DNS rebinding the page's own name
(``evil.example``) resolves to 127.0.0.1, so its requests are same-origin as far
as the browser knows and only the ``Host`` header gives them away. Every test
here starts a real server (``ipyy-mock serve``) and sends real requests; the
browser tests drive a headless Chromium whose resolver maps ``evil.test`` to
127.0.0.1 (``--host-resolver-rules``), which is exactly a rebound name.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests

from ipyy_client import HttpClient
from ipyy_mock.admin.api import AdminApi
from ipyy_mock.testing.process import console_script
from support.mockproc import MockProcess

TOKEN = "tok-3f9c2a71-very-secret"
EVIL = "evil.example"
INBOX_PATHS = (
    "/_mock",
    "/_mock/",
    "/_mock/index.html",
    "/_mock/static/inbox.js",
    "/_mock/static/inbox.css",
    "/_mock/static/favicon.svg",
    "/_mock/nope",
)


# -- helpers -----------------------------------------------------------------------------------
def raw(
    port: int, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b"", host: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request with exactly these headers (repeats kept, Host as given): what requests cannot send."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host if host is not None else f"127.0.0.1:{port}")
        for name, value in headers:
            conn.putheader(name, value)
        if body or method in ("POST", "PUT", "PATCH"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        reply = conn.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        conn.close()


def admin_calls() -> list[tuple[str, str, bytes]]:
    """Every route of the admin API with a body that would work: (method, path, body)."""
    calls = []
    for route in AdminApi.routes:
        path = re.sub(r"<int:\w+>", "1", route.rule)
        path = re.sub(r"<\w+>", "demo", path)
        calls.append((route.method, path, route.body.encode() if route.body else b""))
    return calls


def state(server: MockProcess, headers: dict | None = None) -> dict:
    """What an attacker would want to read or change, read from loopback."""

    def get(path: str) -> dict:
        reply = requests.get(f"{server.base_url}/_mock/api/{path}", headers=headers or {}, timeout=30)
        assert reply.status_code == 200, reply.text
        return reply.json()

    demo = get("accounts/demo")
    return {
        "balance": demo["balance"],
        "push_url": demo["push_url"],
        "rules": get("rules")["rules"],
        "messages": len(get("messages?account=demo")["messages"]),
        "clock": get("clock")["offset_seconds"],
        "journal": get("journal?limit=1000&surface=http")["count"],
    }


def send_one(server: MockProcess) -> None:
    with HttpClient("demo", "demo123", base_url=server.base_url) as http_client:
        assert http_client.send("8613800138000", "OTP 123456【华信】").ok


def group_cmdlines(pid: int) -> list[str]:
    """The command lines of every process in the server's process group (the master and its workers)."""
    lines = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) == pid:
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ProcessLookupError):
            continue
    return lines


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """A server without a token (loopback callers only), state an attacker would want in it."""
    server = MockProcess(tmp_path_factory.mktemp("sec") / "mock.db", workers=1).start()
    send_one(server)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tokened(tmp_path_factory):
    """A server with an admin token given the way that does not show in `ps` (the environment)."""
    server = MockProcess(tmp_path_factory.mktemp("sec-token") / "mock.db", workers=2, admin_token=TOKEN).start()
    yield server
    server.stop()


# -- 1. Host allow-list ----------------------------------------------------------------------------
def foreign_hosts(port: int) -> list[str]:
    return [
        f"{EVIL}:{port}",
        EVIL,
        f"EVIL.Example:{port}",
        f"localhost.{EVIL}:{port}",
        f"127.0.0.1.nip.io:{port}",
        f"[::2]:{port}",
        f"10.0.0.1:{port}",
        f"0.0.0.0:{port}",
        "",
        f"localhost:{port}x",
        f"localhost@{EVIL}",
    ]


def test_foreign_host_is_refused_on_every_admin_route(plain):
    """What a rebinding page sends: its own name in Host, a matching Origin, same-origin fetch metadata."""
    before = state(plain)
    port = plain.port
    for host in foreign_hosts(port):
        origin = [("Origin", f"http://{host}")] if host else []
        for method, path, body in admin_calls():
            headers = [("Sec-Fetch-Site", "same-origin"), ("Content-Type", "application/json"), *origin]
            status, reply_headers, text = raw(port, method, path, headers, body, host=host)
            assert status == 403, (host, method, path, text[:200])
            error = json.loads(text)
            assert "Host" in error["error"] and "--allowed-host" in error["hint"], error
            assert reply_headers["content-type"].startswith("application/json")
    assert state(plain) == before


def test_foreign_host_is_refused_on_every_inbox_path(plain):
    for host in foreign_hosts(plain.port):
        for path in INBOX_PATHS:
            for method in ("GET", "HEAD", "POST"):
                status, _, text = raw(plain.port, method, path, [], host=host)
                assert status == 403, (host, method, path)
                if method != "HEAD":
                    assert b"--allowed-host" in text


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{port}",
        "localhost:{port}",
        "LOCALHOST:{port}",
        "localhost.",
        "[::1]:{port}",
        "127.0.0.1",
        "localhost",
        "127.3.2.1:9",
        "[::ffff:127.0.0.1]",
    ],
)
def test_loopback_names_on_any_port_are_served(plain, host):
    host = host.format(port=plain.port)
    status, _, text = raw(plain.port, "GET", "/_mock/api/clock", [], host=host)
    assert status == 200, text
    assert raw(plain.port, "GET", "/_mock/", [], host=host)[0] == 200


def test_vendor_endpoints_stay_open_to_any_host(plain):
    for path in ("/WebService.asmx?WSDL", "/", "/statusApi.aspx?action=query&account=demo&password=demo123"):
        status, _, text = raw(plain.port, "GET", path, [], host=f"{EVIL}:{plain.port}")
        assert status == 200, (path, text[:200])


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    server = MockProcess(
        tmp_path_factory.mktemp("sec-hosts") / "mock.db",
        workers=1,
        args=("--allowed-host", "mock.internal", "--allowed-host", "Proxy.Example:8443"),
    ).start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    "host, served",
    [
        ("mock.internal", True),
        ("mock.internal:8080", True),
        ("MOCK.internal.:1", True),
        ("proxy.example:8443", True),
        ("proxy.example:9999", False),
        ("proxy.example", False),
        ("sub.mock.internal", False),
        (EVIL, False),
        ("127.0.0.1", True),
    ],
)
def test_allowed_host_flag(proxied, host, served):
    assert "mock.internal" in proxied.banner and "proxy.example:8443" in proxied.banner
    for method, path in (("GET", "/_mock/api/clock"), ("DELETE", "/_mock/api/rules"), ("GET", "/_mock/")):
        status = raw(proxied.port, method, path, [], host=host)[0]
        assert (status == 200) is served, (host, method, path, status)


def _own_address() -> str | None:
    """This machine's address on its default route (a UDP connect sends nothing), or None."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_listening_on_every_address_serves_the_address_it_was_reached_at(tmp_path):
    """--host 0.0.0.0 in a container: http://<its IP>:PORT works (an IP literal is the mock's own origin),
    a name still needs --allowed-host."""
    address = _own_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    server = MockProcess(tmp_path / "any.db", workers=1, admin_token=TOKEN, args=("--host", "0.0.0.0")).start()
    try:
        url = f"http://{address}:{server.port}/_mock/api/clock"
        token = {"X-Admin-Token": TOKEN}
        assert requests.get(url, headers=token, timeout=10).status_code == 200
        for host in (f"{EVIL}:{server.port}", f"10.255.0.1:{server.port}"):
            reply = requests.get(url, headers={**token, "Host": host}, timeout=10)
            assert reply.status_code == 403 and "--allowed-host" in reply.json()["hint"], host
    finally:
        server.stop()


@pytest.mark.parametrize(
    "flags, says",
    [
        (("--allowed-host", "bad host!"), "--allowed-host"),
        (("--allowed-host", "mock:99999"), "--allowed-host"),
        (("--admin-token", TOKEN, "--admin-token-file", "/nonexistent"), "not allowed with"),
        (("--admin-token-file", "/nonexistent/token"), "cannot read --admin-token-file"),
        (("--admin-token", "  "), "--admin-token is empty"),
    ],
)
def test_bad_access_flags_stop_the_start(tmp_path, flags, says):
    done = subprocess.run(
        [console_script("ipyy-mock"), "serve", "--db", str(tmp_path / "x.db"), "--port", "1", *flags],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert says in done.stderr and TOKEN not in done.stderr


def test_empty_token_file_stops_the_start(tmp_path):
    empty = tmp_path / "token"
    empty.write_text("\n")
    done = subprocess.run(
        [console_script("ipyy-mock"), "serve", "--db", str(tmp_path / "x.db"), "--admin-token-file", str(empty)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "is empty" in done.stderr


def _serve_with_token_file(tmp_path, content: bytes, mode: int = 0o600):
    token_file = tmp_path / "admin-token"
    token_file.write_bytes(content)
    token_file.chmod(mode)
    env = {k: v for k, v in os.environ.items() if k != "IPYY_MOCK_ADMIN_TOKEN"}
    return MockProcess(tmp_path / "file.db", workers=1, args=("--admin-token-file", str(token_file)), env=env)


def test_token_file_is_its_first_line_only(tmp_path):
    """As documented: the first line is the token; a second line (a note, an old token) is not part of it."""
    server = _serve_with_token_file(tmp_path, f"  {TOKEN}  \nold-token\n".encode()).start()
    try:
        url = server.base_url + "/_mock/api/clock"
        assert requests.get(url, headers={"X-Admin-Token": TOKEN}, timeout=10).status_code == 200
        assert requests.get(url, headers={"X-Admin-Token": "old-token"}, timeout=10).status_code == 403
        assert requests.get(url, headers={"X-Admin-Token": f"{TOKEN}\\nold-token"}, timeout=10).status_code == 403
    finally:
        server.stop()
    assert "warning" not in server.banner + server.output_text()  # 0600: nothing to say


def test_token_file_other_users_can_read_gets_a_warning(tmp_path):
    server = _serve_with_token_file(tmp_path, (TOKEN + "\n").encode(), mode=0o644).start()
    try:
        assert requests.get(server.base_url + "/_mock/api/clock", headers={"X-Admin-Token": TOKEN}, timeout=10).ok
    finally:
        server.stop()
    said = server.banner + server.output_text()
    assert "warning: --admin-token-file" in said and "mode 0644" in said and "chmod 600" in said
    assert TOKEN not in said


@pytest.mark.parametrize(
    "content, says",
    [
        ("tökén-hush\n".encode(), "U+00F6"),
        (b"abc\x01def\n", "U+0001"),
        (b"\nsecond-line-token\n", "is empty: write the token on its first line"),
        (b"\xff\xfe\n", "cannot read --admin-token-file"),
    ],
)
def test_token_file_an_http_header_cannot_carry_stops_the_start(tmp_path, content, says):
    token_file = tmp_path / "token"
    token_file.write_bytes(content)
    token_file.chmod(0o600)
    done = subprocess.run(
        [console_script("ipyy-mock"), "serve", "--db", str(tmp_path / "x.db"), "--admin-token-file", str(token_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], done.stderr
    assert "Traceback" not in done.stderr and "hush" not in done.stderr


def test_non_ascii_token_from_the_flag_or_environment_stops_the_start(tmp_path):
    for flags, env in ((("--admin-token", "pässwort"), {}), ((), {"IPYY_MOCK_ADMIN_TOKEN": "pässwort"})):
        done = subprocess.run(
            [console_script("ipyy-mock"), "serve", "--db", str(tmp_path / "x.db"), *flags],
            capture_output=True,
            text=True,
            timeout=60,
            env={**{k: v for k, v in os.environ.items() if k != "IPYY_MOCK_ADMIN_TOKEN"}, **env},
        )
        assert done.returncode == 2 and "printable ASCII only" in done.stderr, done.stderr
        assert "pässwort" not in done.stderr


# -- 2. token means token ------------------------------------------------------------------------------
def test_token_is_required_from_loopback_on_every_route(tokened):
    before = state(tokened, {"X-Admin-Token": TOKEN})
    for method, path, body in admin_calls():
        for headers in ([], [("X-Admin-Token", "")], [("Authorization", "Bearer ")], [("X-Admin-Token", " ")]):
            status, reply_headers, text = raw(
                tokened.port, method, path, [("Content-Type", "application/json"), *headers], body
            )
            assert status == 401, (method, path, headers, text[:200])
            assert json.loads(text)["error"] == "admin token required"
            assert reply_headers["www-authenticate"].startswith("Bearer")
        status, _, text = raw(tokened.port, method, path, [("X-Admin-Token", TOKEN[:-1])], body)
        assert status == 403 and json.loads(text)["error"] == "wrong admin token", (method, path)
    assert state(tokened, {"X-Admin-Token": TOKEN}) == before


def test_the_token_opens_every_route(tokened):
    for method, path, body in admin_calls():
        if path.endswith("/reset"):
            continue
        for headers in ([("X-Admin-Token", TOKEN)], [("Authorization", f"Bearer {TOKEN}")]):
            status, _, text = raw(tokened.port, method, path, [("Content-Type", "application/json"), *headers], body)
            assert status not in (401, 403), (method, path, text[:200])
            assert status < 500


def test_inbox_page_is_served_so_it_can_ask_for_the_token(tokened):
    for path in ("/_mock/", "/_mock/static/inbox.js"):
        assert requests.get(tokened.base_url + path, timeout=10).status_code == 200
    assert requests.get(tokened.base_url + "/_mock/api/messages", timeout=10).status_code == 401


def test_token_from_environment_or_file_is_not_in_ps_nor_in_the_output(tokened, tmp_path):
    assert "admin token on" in tokened.banner
    assert all(TOKEN not in line for line in group_cmdlines(tokened.proc.pid))
    token_file = tmp_path / "admin-token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if k != "IPYY_MOCK_ADMIN_TOKEN"}
    server = MockProcess(tmp_path / "file.db", workers=1, args=("--admin-token-file", str(token_file)), env=env).start()
    try:
        lines = group_cmdlines(server.proc.pid)
        assert any(str(token_file) in line for line in lines), lines
        assert all(TOKEN not in line for line in lines)
        url = server.base_url + "/_mock/api/clock"
        assert requests.get(url, timeout=10).status_code == 401
        assert requests.get(url, headers={"X-Admin-Token": TOKEN}, timeout=10).status_code == 200
        requests.get(url, headers={"X-Admin-Token": "wrong"}, timeout=10)
    finally:
        server.stop()
    assert "admin token on" in server.banner
    assert TOKEN not in server.banner + server.output_text()


def test_banner_says_when_there_is_no_token(plain):
    assert "no admin token: loopback callers only" in plain.banner


# -- 3. cross-site headers ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        [("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Site", "cross-site")],
        [("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Site", "same-origin")],
        [("Sec-Fetch-Site", "same-origin, cross-site")],
        [("Sec-Fetch-Site", "none"), ("Sec-Fetch-Site", "same-site")],
        [("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Site", "sideways")],
        [("Origin", "http://127.0.0.1:{port}"), ("Origin", "http://evil.example")],
        [("Origin", "null")],
    ],
)
def test_the_most_cross_of_several_headers_counts(plain, headers):
    headers = [(k, v.format(port=plain.port)) for k, v in headers]
    before = state(plain)
    for method, path in (("DELETE", "/_mock/api/rules"), ("GET", "/_mock/api/journal"), ("GET", "/_mock/")):
        status, _, text = raw(plain.port, method, path, headers)
        assert status == 403 and b"cross-site" in text, (method, path, text[:200])
    assert state(plain) == before


@pytest.mark.parametrize(
    "headers",
    [
        [("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Site", "same-origin")],
        [("Sec-Fetch-Site", "none")],
        [("Origin", "http://127.0.0.1:{port}"), ("Sec-Fetch-Site", "same-origin")],
    ],
)
def test_same_origin_headers_pass(plain, headers):
    headers = [(k, v.format(port=plain.port)) for k, v in headers]
    assert raw(plain.port, "GET", "/_mock/api/rules", headers)[0] == 200


# -- 4. bodies -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"a": ' * 100_000 + b"1" + b"}" * 100_000,
        b'{"rules": ' + b"[" * 40 + b"]" * 40 + b"}",
        b'{"pattern": "1", "reply": ' + b'{"x": ' * 33 + b"1" + b"}" * 33 + b"}",
    ],
)
def test_deep_json_is_400_never_an_internal_error(plain, body):
    for method, path in (
        ("PUT", "/_mock/api/rules"),
        ("POST", "/_mock/api/rules"),
        ("PATCH", "/_mock/api/accounts/demo"),
        ("POST", "/_mock/api/faults"),
    ):
        status, headers, text = raw(plain.port, method, path, [("Content-Type", "application/json")], body)
        assert status == 400, (path, text[:300])
        error = json.loads(text)
        assert error["error"] == "body nested too deeply", error
        assert "nest at most" in error["hint"]


def test_reasonable_nesting_still_works(plain):
    rules = requests.get(plain.base_url + "/_mock/api/rules", timeout=10).json()["rules"]
    reply = requests.put(plain.base_url + "/_mock/api/rules", json={"rules": rules}, timeout=10)
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 3 * 1024 * 1024])  # over 4 MiB: test_hostile_input
@pytest.mark.parametrize("chunked", [False, True])
def test_huge_json_is_413(plain, size, chunked):
    body = b'{"rules": [' + b'"x",' * (size // 4) + b'"x"]}'
    assert len(body) > size
    data = (body[i : i + 65536] for i in range(0, len(body), 65536)) if chunked else body
    reply = requests.put(
        plain.base_url + "/_mock/api/rules", data=data, timeout=60, headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 413, reply.text[:300]
    assert reply.headers["Content-Type"].startswith("application/json")
    assert "internal error" not in reply.json()["error"]


# -- 5. push URLs ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "ftp://x/",
        "//host/x",
        "http://",
        "http://user:pw@127.0.0.1:9/",
        "dict://127.0.0.1:11211/stats",
        "http://127.0.0.1:9/a b",
        "http://127.0.0.1:99999/",
        "javascript:alert(1)",
    ],
)
def test_push_url_must_be_http_or_https(plain, url):
    api = plain.base_url + "/_mock/api/"
    reply = requests.patch(api + "accounts/demo", json={"push_url": url}, timeout=10)
    assert reply.status_code == 400, reply.text
    assert "push_url" in reply.json()["error"]
    reply = requests.post(api + "accounts", json={"name": "px", "password": "p", "push_url": url}, timeout=10)
    assert reply.status_code == 400
    assert requests.get(api + "accounts/px", timeout=10).status_code == 404
    assert requests.get(api + "accounts/demo", timeout=10).json()["push_url"] == ""
    done = subprocess.run(
        [console_script("ipyy-mock"), "account", "set", "demo", "--db", str(plain.db_path), "--push-url", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "push_url" in done.stderr


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/reports", "https://receiver.example/x?y=1", "HTTP://LOCALHOST/", ""]
)
def test_http_and_https_push_urls_are_taken(plain, url):
    account = plain.new_account()
    reply = requests.patch(f"{plain.base_url}/_mock/api/accounts/{account.name}", json={"push_url": url}, timeout=10)
    assert reply.status_code == 200 and reply.json()["push_url"] == url


def _attempts(server: MockProcess, account: str, timeout: float = 20) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batches = requests.get(f"{server.base_url}/_mock/api/pushes", params={"account": account}, timeout=10).json()[
            "batches"
        ]
        attempts = [a for b in batches for a in b["attempts"] if a["outcome"] != "sending"]
        if attempts:
            return attempts
        time.sleep(0.1)
    raise AssertionError(f"no push attempt for {account} within {timeout} s")


def test_a_stored_non_http_push_url_is_never_fetched(plain):
    """A URL written before the rule (or into the file by hand) is refused by the runner itself."""
    account = plain.new_account(push_url="file:///etc/passwd")
    with HttpClient(account.name, account.password, base_url=plain.base_url) as http_client:
        assert http_client.send("8613800138000", "x【y】").ok
    attempt = _attempts(plain, account.name)[0]
    assert attempt["outcome"] == "connect_error" and attempt["detail"].startswith("not pushed: push_url must be")


def test_push_journal_keeps_at_most_200_characters(plain):
    account = plain.new_account(push_url="http://127.0.0.1:1/" + "a" * 1500)  # refused: a long error message
    with HttpClient(account.name, account.password, base_url=plain.base_url) as http_client:
        assert http_client.send("8613800138000", "x【y】").ok
    attempt = _attempts(plain, account.name)[0]
    assert attempt["outcome"] == "connect_error" and 50 < len(attempt["detail"]) <= 200


# -- 6. files at rest ------------------------------------------------------------------------------------------
def _modes(directory: Path) -> dict[str, str]:
    return {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in directory.iterdir() if p.is_file()}


def test_database_journal_and_lock_files_are_0600_whatever_the_umask(tmp_path):
    old = os.umask(0)  # the child inherits it: without an explicit mode every file would be 0666
    try:
        server = MockProcess(tmp_path / "mock.db", workers=2).start()
    finally:
        os.umask(old)
    try:
        send_one(server)
        requests.get(server.base_url + "/_mock/api/journal", timeout=10)
        modes = _modes(tmp_path)
    finally:
        server.stop()
    expected = {
        "mock.db",
        "mock.db-wal",
        "mock.db-shm",
        "mock.db-writelock",
        "mock.db.journal.sqlite",
        "mock.db.journal.sqlite-wal",
        "mock.db.journal.sqlite-shm",
        "mock.db.journal.sqlite-writelock",
    }
    assert expected <= set(modes), modes
    assert {name: mode for name, mode in modes.items() if mode != "0o600"} == {}


def test_files_an_older_version_left_readable_are_tightened(tmp_path):
    first = MockProcess(tmp_path / "old.db", workers=1).start()
    send_one(first)
    first.stop()
    for path in tmp_path.iterdir():
        path.chmod(0o644)
    server = MockProcess(tmp_path / "old.db", workers=1).start()
    try:
        send_one(server)
    finally:
        server.stop()
    assert {n: m for n, m in _modes(tmp_path).items() if m != "0o600"} == {}


def test_account_command_creates_a_private_database(tmp_path):
    old = os.umask(0)
    try:
        done = subprocess.run(
            [
                console_script("ipyy-mock"),
                "account",
                "add",
                "shop",
                "--password",
                "pw12345",
                "--db",
                str(tmp_path / "cli.db"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    assert "pw12345" not in done.stdout
    assert {n: m for n, m in _modes(tmp_path).items() if m != "0o600"} == {}


# -- 7. passwords and tokens never in a repr ------------------------------------------------------------------
def test_reprs_hold_no_password_or_token(tmp_path):
    from ipyy_mock.admin.access import AdminAccess
    from ipyy_mock.app import create_app
    from ipyy_mock.core.domain import SendRequest
    from ipyy_mock.core.store import Account
    from ipyy_mock.soap.reader import OperationRequest
    from ipyy_mock.testing.process import MockServerProcess

    secret = "pw-Zq81x"
    app = create_app(str(tmp_path / "r.db"), admin_token=TOKEN)
    shown = [
        repr(Account(name="a", password=secret)),
        repr(SendRequest("a", secret, "1", "x")),
        repr(OperationRequest(user_name="a", password=secret)),
        repr(AdminAccess(token=TOKEN)),
        repr(app.endpoints["admin"]),
        repr(MockServerProcess(tmp_path / "x.db", admin_token=TOKEN)),
    ]
    for text in shown:
        assert secret not in text and TOKEN not in text, text


# -- 8. a real browser on a rebound name ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def rebinding_browser(tmp_path_factory):
    from test_inbox import CHROMEDRIVER, CHROMIUM, FLAGS, require_browser

    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument("--host-resolver-rules=MAP evil.test 127.0.0.1")
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-rebind')}")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


ATTACK_JS = """
const done = arguments[arguments.length - 1];
const port = arguments[0];
(async () => {
  const out = {};
  const go = async (name, url, init) => {
    try {
      const r = await fetch(url, init);
      out[name] = [r.status, r.type, (await r.text()).slice(0, 400)];
    } catch (e) { out[name] = ['blocked', String(e)]; }
  };
  const json = (method, body) => ({ method, headers: { 'Content-Type': 'application/json' },
                                    body: JSON.stringify(body) });
  // same origin after the rebinding: evil.test:port is the mock
  await go('journal', '/_mock/api/journal?limit=1000');
  await go('messages', '/_mock/api/messages?account=demo');
  await go('accounts', '/_mock/api/accounts');
  await go('patch', '/_mock/api/accounts/demo', json('PATCH', { balance: '0', push_url: 'http://127.0.0.1:6379/' }));
  await go('rules', '/_mock/api/rules', { method: 'DELETE' });
  await go('clock', '/_mock/api/clock/advance', json('POST', { seconds: 86400 }));
  await go('reset', '/_mock/api/reset', { method: 'POST' });
  await go('inbox', '/_mock/');
  // cross origin, straight at the loopback address
  await go('xo_journal', `http://127.0.0.1:${port}/_mock/api/journal`);
  await go('xo_reset', `http://127.0.0.1:${port}/_mock/api/reset`, { method: 'POST', mode: 'no-cors' });
  await go('xo_patch', `http://127.0.0.1:${port}/_mock/api/accounts/demo`,
           { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: '{"balance": "0"}' });
  await go('xo_rules', `http://localhost:${port}/_mock/api/rules`, { method: 'DELETE' });  // preflighted
  done(out);
})();
"""


def test_a_rebound_page_in_chromium_can_neither_read_nor_change_anything(rebinding_browser, plain):
    from selenium.webdriver.common.by import By

    before = state(plain)
    assert before["journal"] >= 1 and before["messages"] >= 1
    driver = rebinding_browser
    driver.get(f"http://evil.test:{plain.port}/_mock/")
    shown = driver.find_element(By.TAG_NAME, "body").text
    assert "do not answer for Host" in shown and "--allowed-host" in shown
    driver.get(f"http://evil.test:{plain.port}/")  # any page of that origin: the vendor index is open to all
    out = driver.execute_async_script(ATTACK_JS, plain.port)
    for name in ("journal", "messages", "accounts", "patch", "rules", "clock", "reset", "inbox"):
        status, _, text = out[name]
        assert status == 403 and "Host" in text, (name, out[name])
        assert "OTP" not in text and "8613800138000" not in text
    for name in ("xo_journal", "xo_rules"):  # refused (the preflight too), and CORS would hide the answer anyway
        assert out[name][0] == "blocked", out[name]
    for name in ("xo_reset", "xo_patch"):
        assert out[name][:2] == [0, "opaque"], out[name]
    assert state(plain) == before
    refused = requests.get(
        plain.base_url + "/_mock/api/journal", params={"surface": "admin", "limit": 1000}, timeout=10
    ).json()["entries"]
    statuses = {(e["method"], e["path"]): e["status"] for e in refused if "evil.test" in e["request_headers"]}
    assert statuses.get(("POST", "/_mock/api/reset")) == 403, statuses


def test_the_inbox_asks_for_the_token_once_per_tab(rebinding_browser, tokened):
    from test_inbox import wait

    driver = rebinding_browser
    driver.get("about:blank")
    driver.get(f"{tokened.base_url}/_mock/#account=demo")
    wait(driver, lambda d: d.find_element("id", "token-form").is_displayed(), "the inbox did not ask for the token")
    assert driver.execute_script("return document.getElementById('live').dataset.state") != "live"
    field = driver.find_element("id", "token-input")
    field.send_keys("not-the-token")
    driver.find_element("id", "token-send").click()
    wait(driver, lambda d: "wrong" in d.find_element("id", "token-status").text, "a wrong token was not reported")
    field.send_keys(TOKEN)
    driver.find_element("id", "token-send").click()
    live = (
        "return document.getElementById('live').dataset.state === 'live'"
        " && document.getElementById('balance-value').textContent !== '…'"
    )
    wait(driver, lambda d: d.execute_script(live), "the inbox did not come up live with the token")
    assert not driver.find_element("id", "token-form").is_displayed()
    assert driver.execute_script("return sessionStorage.getItem('ipyy-mock-admin-token')") == TOKEN
    assert driver.execute_script("return localStorage.length") == 0
    driver.refresh()  # the same tab: not asked again
    wait(driver, lambda d: d.execute_script(live), "the inbox did not come up live after a reload")
    assert not driver.find_element("id", "token-form").is_displayed()
    driver.execute_script("sessionStorage.clear()")
