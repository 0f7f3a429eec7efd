"""A body is executed only when it arrived whole and well-formed, whatever its framing (docs/guarantees.md).

Over a raw socket against the real mock (``ipyy-mock serve``): a Content-Length body cut short, a chunked body
without its last chunk (the client vanished), a chunk size that is not one, a chunk not closed by CRLF; each is
a 400 in the surface's own format (ASMX: 400 with an empty body), and the books (balance, tasks) and the password
are as before. The same bodies whole, and a chunked body with (announced) trailers, are served.
"""

from __future__ import annotations

import json
import socket
import time
import types
from decimal import Decimal

import pytest

from ipyy_client.encoding import encode_content, md5_password
from support import soapraw
from support.mockproc import MockProcess

FORM = "application/x-www-form-urlencoded"
MOBILES = ",".join(f"86138001380{i:02d}" for i in range(10))  # ten recipients: a cut list would still be a send
SOAP_TYPES = {11: "text/xml; charset=utf-8", 12: "application/soap+xml; charset=utf-8"}


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def chunked(data: bytes, size: int = 40) -> bytes:
    """``data`` as chunks of ``size`` bytes, without the last chunk."""
    return b"".join(chunk(data[i : i + size]) for i in range(0, len(data), size))


def exchange(port: int, raw: bytes, vanish: bool) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw``; ``vanish``: then close the sending side, as a client that died mid-body. One reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        if vanish:
            sock.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            try:
                part = sock.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            data += part
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep and len(body) >= int(_headers(head).get("content-length", "1000000000")):
                break
    assert data, "no answer at all"
    head, _, body = data.partition(b"\r\n\r\n")
    headers = _headers(head)
    return int(head.split(b" ", 2)[1]), headers, body[: int(headers.get("content-length", len(body)))]


def _headers(head: bytes) -> dict[str, str]:
    out = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        out[name.decode().strip().lower()] = value.decode("utf-8", "replace").strip()
    return out


def send_form(account) -> bytes:
    return (
        f"action=send&account={account.name}&password={md5_password(account.password)}&mobile={MOBILES}"
        f"&content={encode_content('整包【华信】')}&code=8"
    ).encode()


def pwd_form(account, new: str) -> bytes:
    return f"account={account.name}&password={md5_password(account.password)}&newpassword={new}".encode()


def head(path: str, ctype: str, framing: str, extra: str = "") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n{extra}{framing}\r\n".encode()


CHUNKED = "Transfer-Encoding: chunked\r\n"


def task_count(server: MockProcess, account: str) -> int:
    store = server.platform().store
    try:
        return store.db.execute("SELECT count(*) FROM tasks WHERE account=?", (account,)).fetchone()[0]
    finally:
        store.close()


def assert_untouched(server: MockProcess, account) -> None:
    time.sleep(0.1)  # nothing may happen after the answer either
    assert task_count(server, account.name) == 0
    assert server.balance(account.name) == Decimal("100.00")
    assert server.account(account.name).password == account.password


def assert_aspx_400(status: int, headers: dict[str, str], body: bytes) -> None:
    """The send page's own reply shape (Faild, message), with 400 and the reason."""
    assert status == 400, (status, body[:300])
    assert headers["content-type"].startswith("text/xml"), headers
    assert b"<returnstatus>Faild</returnstatus>" in body and b"nothing was done" in body, body


def cut_bodies(form: bytes) -> dict[str, tuple[bytes, bool]]:
    """Framings that do not deliver ``form`` whole: name → (bytes after the headers, the client vanishes)."""
    return {
        "chunked, no last chunk": (chunked(form), True),
        "chunked, cut inside a chunk": (b"%x\r\n" % (len(form) + 10) + form, True),
        "chunked, last chunk without its CRLF": (chunked(form) + b"0\r\n", True),
        "chunk size not hex": (chunked(form[:20]) + b"zz\r\n" + form[20:] + b"\r\n0\r\n\r\n", False),
        "chunk size negative": (b"-5\r\n" + form + b"\r\n0\r\n\r\n", False),
        "chunk size over 64 bits": (b"ffffffffffffffffffff\r\n" + form + b"\r\n0\r\n\r\n", False),
        "chunk not closed by CRLF": (b"%x\r\n" % len(form) + form + b"XX0\r\n\r\n", False),
    }


@pytest.mark.parametrize("vanish", [True, False], ids=["client-vanishes", "client-waits"])
def test_content_length_short_is_400_and_nothing_is_done(mock_server, account, vanish):
    form = send_form(account)
    raw = head("/I18NSms.aspx", FORM, f"Content-Length: {len(form) + 30}\r\n") + form
    if vanish:
        assert_aspx_400(*exchange(mock_server.port, raw, vanish=True))
    else:  # a client that waits: the body deadline (--body-timeout) answers it, still without running it
        with socket.create_connection(("127.0.0.1", mock_server.port), timeout=30) as sock:
            sock.sendall(raw)
            sock.settimeout(0.5)
            with pytest.raises(socket.timeout):
                sock.recv(100)  # no answer yet: the body is not whole
    assert_untouched(mock_server, account)


@pytest.mark.parametrize("case", list(cut_bodies(b"")))
def test_a_chunked_send_not_whole_is_400_and_nothing_is_done(mock_server, account, case):
    """The recipients list cut after a few numbers would be a valid, smaller send: it must not be run."""
    body, vanish = cut_bodies(send_form(account))[case]
    assert_aspx_400(*exchange(mock_server.port, head("/I18NSms.aspx", FORM, CHUNKED) + body, vanish))
    assert_untouched(mock_server, account)


@pytest.mark.parametrize("case", list(cut_bodies(b"")))
def test_a_cut_new_password_never_becomes_the_password(mock_server, account, case):
    """``newpassword=longsecret`` cut to ``newpassword=lo``: the password stays as it was."""
    body, vanish = cut_bodies(pwd_form(account, "Longer-Secret-2024"))[case]
    status, headers, reply = exchange(mock_server.port, head("/pwd.aspx", FORM, CHUNKED) + body, vanish)
    assert status == 400 and b"<returnstatus>Faild</returnstatus>" in reply, (status, reply)
    assert_untouched(mock_server, account)


@pytest.mark.parametrize("version", [11, 12])
def test_a_chunked_soap_send_not_whole_is_an_empty_400(mock_server, account, version):
    envelope = soapraw.envelope("SendI18NSms", account.name, account.password, MOBILES, "整包【华信】", version=version)
    extra = f'SOAPAction: "{soapraw.TNS}SendI18NSms"\r\n' if version == 11 else ""
    request = head("/WebService.asmx", SOAP_TYPES[version], CHUNKED, extra)
    for case, (body, vanish) in cut_bodies(envelope).items():
        status, headers, reply = exchange(mock_server.port, request + body, vanish)
        assert (status, reply, headers["content-type"]) == (400, b"", SOAP_TYPES[version]), case
    assert_untouched(mock_server, account)
    status, _, reply = exchange(mock_server.port, request + chunked(envelope) + b"0\r\n\r\n", vanish=False)
    assert status == 200 and b"<StatusCode>OK</StatusCode>" in reply, reply
    assert task_count(mock_server, account.name) == 1


def test_a_chunked_admin_change_not_whole_is_a_json_400(mock_server, account):
    body = json.dumps({"balance": "100000.00"}).encode()
    request = f"PATCH /_mock/api/accounts/{account.name} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
    request += b"Content-Type: application/json\r\n" + CHUNKED.encode() + b"\r\n"
    for case, (cut, vanish) in cut_bodies(body).items():
        status, headers, reply = exchange(mock_server.port, request + cut, vanish)
        assert status == 400 and headers["content-type"].startswith("application/json"), (case, status, reply)
        assert "nothing was done" in json.loads(reply)["error"], reply
    assert_untouched(mock_server, account)


def test_the_same_requests_whole_are_served(mock_server, account):
    """The control: every framing above, whole, is served (a test that cannot fail is a defect)."""
    form = send_form(account)
    status, _, reply = exchange(
        mock_server.port, head("/I18NSms.aspx", FORM, CHUNKED) + chunked(form) + b"0\r\n\r\n", False
    )
    assert status == 200 and b"<successCounts>10</successCounts>" in reply, reply
    raw = head("/I18NSms.aspx", FORM, f"Content-Length: {len(form)}\r\n") + form
    assert exchange(mock_server.port, raw, vanish=False)[0] == 200
    assert task_count(mock_server, account.name) == 2
    assert mock_server.balance(account.name) == Decimal("100.00") - 2 * 10 * Decimal("0.05")
    new = "Longer-Secret-2024"
    raw = head("/pwd.aspx", FORM, CHUNKED) + chunked(pwd_form(account, new)) + b"0\r\n\r\n"
    status, _, reply = exchange(mock_server.port, raw, vanish=False)
    assert status == 200 and mock_server.account(account.name).password == new, reply


def test_a_chunked_body_with_announced_trailers_is_served(mock_server, account):
    form = send_form(account)
    trailers = b"0\r\nX-Checksum: 1234\r\nX-Other: a\r\n\r\n"
    raw = head("/I18NSms.aspx", FORM, CHUNKED, "Trailer: X-Checksum, X-Other\r\n") + chunked(form) + trailers
    status, _, reply = exchange(mock_server.port, raw, vanish=False)
    assert status == 200 and b"<successCounts>10</successCounts>" in reply, reply
    assert task_count(mock_server, account.name) == 1


def test_trailers_announced_but_the_client_vanishes_is_400(mock_server, account):
    raw = head("/I18NSms.aspx", FORM, CHUNKED, "Trailer: X-Checksum\r\n") + chunked(send_form(account))
    assert_aspx_400(*exchange(mock_server.port, raw, vanish=True))
    assert_untouched(mock_server, account)


def test_unannounced_trailers_are_400_with_the_way_out(mock_server, account):
    """granian tells trailers from a broken framing only by the announcement (edge.py): say so, run nothing."""
    raw = head("/I18NSms.aspx", FORM, CHUNKED) + chunked(send_form(account)) + b"0\r\nX-Checksum: 1\r\n\r\n"
    status, headers, body = exchange(mock_server.port, raw, vanish=False)
    assert_aspx_400(status, headers, body)
    assert_untouched(mock_server, account)


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    server = MockProcess(tmp_path_factory.mktemp("gunicorn") / "mock.db", workers=1, args=("--server", "gunicorn"))
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("case", list(cut_bodies(b"")))
def test_gunicorn_runs_no_body_that_is_not_whole_either(gunicorn_server, case):
    account = gunicorn_server.new_account()
    body, _ = cut_bodies(send_form(account))[case]  # then it goes: gunicorn waits out a chunk it was promised
    status, _, reply = exchange(gunicorn_server.port, head("/I18NSms.aspx", FORM, CHUNKED) + body, vanish=True)
    assert status == 400, (status, reply[:300])  # the page's format, or gunicorn's own page for a bad chunk size
    assert_untouched(gunicorn_server, account)


class _NoSecondRead:
    """A ``wsgi.input`` that fails the test when read: the body was read once, by the server's edge."""

    def read(self, *args):
        raise AssertionError("the request body was read a second time")

    readline = read


@pytest.mark.parametrize(
    "path, ctype, make",
    [
        (
            "/I18NSms.aspx",
            "application/x-www-form-urlencoded",
            lambda: send_form(types.SimpleNamespace(name="demo", password="demo123")),
        ),
        (
            "/sms.aspx",
            "application/x-www-form-urlencoded",
            lambda: (
                f"action=send&account=demo&password={md5_password('demo123')}&mobile=13900139000&content=您好【华信】"
            ).encode(),
        ),
        (
            "/WebService.asmx",
            "text/xml; charset=utf-8",
            lambda: soapraw.envelope("SendI18NSms", "demo", "demo123", "8613900139000", "您好【华信】"),
        ),
    ],
    ids=["http", "domestic", "soap"],
)
def test_a_body_the_edge_read_is_not_read_again(tmp_path, path, ctype, make):
    """Under the edge the body is read once, whole, into the request's Exchange: the body limit, the surfaces
    and the journal take it from there (a second read of ``wsgi.input`` fails here), and the send is served."""
    from werkzeug.test import EnvironBuilder

    from ipyy_mock.app import create_app
    from ipyy_mock.core.exchange import EXCHANGE_KEY, Exchange

    app = create_app(str(tmp_path / "mock.db"))
    app.platform.seed_demo()
    body = make()
    headers = {"SOAPAction": '"http://www.yysms.com/SendI18NSms"'} if path.endswith(".asmx") else {}
    environ = EnvironBuilder(path=path, method="POST", data=body, content_type=ctype, headers=headers).get_environ()
    environ["wsgi.input"] = _NoSecondRead()
    environ[EXCHANGE_KEY] = Exchange(path=path.lower(), body=body)
    replies: list[str] = []
    reply = b"".join(app(environ, lambda status, headers, exc_info=None: replies.append(status)))
    assert replies == ["200 OK"], reply
    assert app.platform.store.messages(account="demo"), reply  # served: the send was made
    (row,) = app.journal_store.entries()
    assert row["request_bytes"] == len(body) and row["status"] == 200
    assert "demo123" not in row["request_body"] and md5_password("demo123") not in row["request_body"]
