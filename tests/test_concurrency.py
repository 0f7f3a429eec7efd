"""Concurrency, durability and the clients' transport rules.

* 32 concurrent senders (SOAP 1.1/1.2 clients, HTTP clients, raw requests)
  against 4 worker processes for a few seconds: the balance is exactly the
  start minus every acknowledged charge, task ids are unique, the messages are
  exactly the accepted recipients, no reply is a 500 or mentions a locked
  database.
* ``kill -9`` of the whole server (master and workers) under load, restart on
  the same database: every acknowledged send is there with its charge, nothing
  is half there (each task has all its messages and its debit), the balance is
  the start minus every stored task's charge, ids keep increasing.
* Clients: timeouts on by default, a clear TransportError when the connection
  fails, a send never retried (the server sees exactly one request) whether
  the connection broke or ASMX refused it (an empty 400 or 415, a Fault on
  HTTP 500), the balance query retried.

Every SOAP operation that sends is in the mix (SendSms, SendI18NSms,
SendHybridSms): the books are kept by the task id each reply names (``MsgId``,
a decimal string; absent on a refusal), and a refusal must carry no MsgId and
no charge.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
import requests
from lxml import etree

from ipyy_client import HttpClient, SoapClient
from ipyy_client.encoding import encode_content, md5_password
from ipyy_client.errors import IpyyError, ProtocolError, SoapFault, TransportError
from support import soapraw
from support.mockproc import MockProcess
from support.net import free_port
from support.tinyserver import DROP, HANG, RESET, TinyServer, http_reply

START = Decimal("100000.00")
POOL = [
    "8613800138000",
    "8613912345678",
    "8613800000001",
    "8613800000002",
    "8613800000004",
    "447911123456",
    "12025550123",
    "8613800000005",
]
TEXT = "并发 {n}【华信】"  # one segment: BillingCount == accepted recipients
SOAP_SENDS = ("SendSms", "SendI18NSms", "SendHybridSms")  # every SOAP operation that sends (§2)
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass
class Tally:
    """What the senders were told, shared by all threads."""

    acked: dict[int, tuple[Decimal, int]] = field(default_factory=dict)  # task id -> (charge, accepted)
    duplicate_ids: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unknown: int = 0  # sends whose outcome is unknown (transport failure)
    refused: int = 0  # non-OK replies
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, task_id: int, amount: Decimal, accepted: int) -> None:
        with self.lock:
            if task_id in self.acked:
                self.duplicate_ids.append(task_id)
            self.acked[task_id] = (amount, accepted)

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text[:500])

    def count(self, **kw: int) -> None:
        with self.lock:
            for key, value in kw.items():
                setattr(self, key, getattr(self, key) + value)


def check_text(tally: Tally, text: str) -> None:
    lowered = text.lower()
    if "database is locked" in lowered or "database is busy" in lowered or "系统内部错误" in text:
        tally.problem(f"reply mentions an internal/locked error: {text[:300]}")


class Sender(threading.Thread):
    """One concurrent caller; ``kind`` picks the surface. Runs until ``stop`` is set."""

    def __init__(
        self,
        kind: str,
        base_url: str,
        account,
        tally: Tally,
        stop: threading.Event,
        seed: int,
        timeout: float = 30.0,
        quit_on_transport_error: bool = False,
    ) -> None:
        super().__init__(daemon=True)
        self.kind, self.base_url, self.acct, self.tally, self.stop = kind, base_url, account, tally, stop
        self.rng = random.Random(seed)
        self.timeout = timeout
        self.quit_on_transport_error = quit_on_transport_error

    def recipients(self) -> list[str]:
        return self.rng.sample(POOL, self.rng.randint(1, 3))

    def run(self) -> None:
        soap = http = None
        session = requests.Session()
        try:
            if self.kind in ("soap11", "soap12"):
                soap = SoapClient(
                    self.acct.name,
                    self.acct.password,
                    self.base_url,
                    soap_version=11 if self.kind == "soap11" else 12,
                    timeout=self.timeout,
                )
            if self.kind == "http":
                http = HttpClient(
                    self.acct.name, self.acct.password, base_url=self.base_url, timeout=self.timeout, retries=0
                )
            n = 0
            while not self.stop.is_set():
                n += 1
                try:
                    self.once(soap, http, session, n)
                except TransportError:
                    self.tally.count(unknown=1)
                    if self.quit_on_transport_error and self.stop.is_set():
                        return
                    if self.quit_on_transport_error:
                        time.sleep(0.05)
                except requests.RequestException:
                    self.tally.count(unknown=1)
                    if self.quit_on_transport_error:
                        time.sleep(0.05)
                except Exception as exc:  # noqa: BLE001 - any other failure is a finding
                    self.tally.problem(f"{self.kind}: {type(exc).__name__}: {exc}")
        finally:
            session.close()
            if soap is not None:
                soap.close()
            if http is not None:
                http.close()

    def once(self, soap, http, session: requests.Session, n: int) -> None:
        to = self.recipients()
        text = TEXT.format(n=n)
        self.tally.count(calls=1)
        if soap is not None:
            op = self.rng.choice([soap.send_sms, soap.send_i18n_sms, soap.send_hybrid_sms])
            result = op(to, text)
            check_text(self.tally, result.description)
            if result.ok:
                if result.task_id is None or result.msg_id != str(result.task_id):
                    self.tally.problem(f"{self.kind}: OK with MsgId {result.msg_id!r}")
                if result.billing_count != result.success_counts or result.success_counts + len(result.errors) != len(
                    to
                ):
                    self.tally.problem(f"{self.kind}: counts do not add up for {to}: {result}")
                self.tally.ok(result.task_id, result.billing_amount, result.success_counts)
            else:
                self.refused(result.msg_id is not None, result.billing_amount, result)
        elif http is not None:
            result = http.send(to, text)
            check_text(self.tally, result.message)
            if result.ok:
                self.tally.ok(result.task_id, result.billing_amount, result.success_counts)
            else:
                self.refused(result.task_id is not None, result.billing_amount, result)
        else:  # raw requests: a hand-written envelope, a GET form, and read-only calls in between
            choice = self.rng.random()
            if choice < 0.4:
                version = self.rng.choice([11, 12])
                op = self.rng.choice(SOAP_SENDS)
                reply = soapraw.post(
                    self.base_url,
                    soapraw.envelope(op, self.acct.name, self.acct.password, ",".join(to), text, version=version),
                    op,
                    version=version,
                )
                self.raw_status(reply)
                result = soapraw.parse_result(reply, op)
                check_text(self.tally, reply.text)
                if result.status == "OK":
                    if result.billing_count != result.success_counts:
                        self.tally.problem(f"raw {op}: BillingCount {result.billing_count} != {result.success_counts}")
                    self.tally.ok(result.msg_id, result.billing_amount, result.success_counts)
                else:
                    self.refused(result.msg_id != 0, result.billing_amount, result)
            elif choice < 0.8:
                reply = session.get(
                    self.base_url + "/I18NSms.aspx",
                    timeout=self.timeout,
                    params={
                        "action": "send",
                        "account": self.acct.name,
                        "password": md5_password(self.acct.password),
                        "mobile": ",".join(to),
                        "content": encode_content(text),
                    },
                )
                self.raw_status(reply)
                check_text(self.tally, reply.text)
                fields = {c.tag: c.text or "" for c in etree.fromstring(reply.content, SAFE)}
                if fields["returnstatus"] == "Success":
                    self.tally.ok(int(fields["taskID"]), Decimal(fields["BillingAmount"]), int(fields["successCounts"]))
                else:
                    self.refused(fields["taskID"] != "", Decimal(fields["BillingAmount"]), fields)
            else:  # reads and queue pulls take the write lock too (pulls hand items out)
                path = self.rng.choice(["/statusJsonApi.aspx", "/callApi.aspx", "/I18NSms.aspx"])
                reply = session.post(
                    self.base_url + path,
                    timeout=self.timeout,
                    data={
                        "action": "overage" if path == "/I18NSms.aspx" else "query",
                        "account": self.acct.name,
                        "password": self.acct.password,
                    },
                )
                self.raw_status(reply)
                check_text(self.tally, reply.text)

    def refused(self, has_task: bool, charged: Decimal, result: object) -> None:
        """A refusal names no task and charges nothing (docs/contract.md §3: nothing stored or charged)."""
        self.tally.count(refused=1)
        if has_task or charged != 0:
            self.tally.problem(f"{self.kind}: a refusal with a task id or a charge: {result}")

    def raw_status(self, reply: requests.Response) -> None:
        if reply.status_code >= 500:
            self.tally.problem(f"HTTP {reply.status_code}: {reply.text[:300]}")
        elif reply.status_code != 200:
            self.tally.problem(f"unexpected HTTP {reply.status_code}: {reply.text[:300]}")


def stored_tasks(server: MockProcess, account: str) -> dict[int, dict]:
    """Every task of ``account`` with its messages' sum and count."""
    store = server.platform().store
    try:
        db = store.db
        out = {}
        for row in db.execute(
            "SELECT id, billing_amount, billing_count, recipients FROM tasks WHERE account=?", (account,)
        ):
            msgs = db.execute(
                "SELECT amount, segments FROM messages WHERE task_id=? AND status!='refused'", (row["id"],)
            ).fetchall()
            out[row["id"]] = {
                "amount": Decimal(row["billing_amount"]),
                "recipients": row["recipients"],
                "billing_count": row["billing_count"],
                "messages": len(msgs),
                "message_sum": sum((Decimal(m["amount"]) for m in msgs), Decimal(0)),
                "segments": sum(m["segments"] for m in msgs),
            }
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return out
    finally:
        store.close()


def assert_whole(tasks: dict[int, dict]) -> None:
    """Nothing half there: every task has all its messages and they add up to its charge."""
    for task_id, t in tasks.items():
        assert t["messages"] == t["recipients"] >= 1, (task_id, t)
        assert t["message_sum"] == t["amount"], (task_id, t)
        assert t["segments"] == t["billing_count"], (task_id, t)


KINDS = ["soap11", "soap12", "http", "raw"]


# --------------------------------------------------------------------------- (a) concurrent senders


@pytest.mark.slow
def test_32_concurrent_senders_on_4_workers_keep_the_books_exact(tmp_path):
    server = MockProcess(tmp_path / "conc.db", workers=4).start()
    try:
        acct = server.new_account(balance=START)
        tally, stop = Tally(), threading.Event()
        senders = [Sender(KINDS[i % 4], server.base_url, acct, tally, stop, seed=i) for i in range(32)]
        for s in senders:
            s.start()
        time.sleep(6)
        stop.set()
        for s in senders:
            s.join(timeout=60)
        assert not any(s.is_alive() for s in senders)
        assert tally.problems == []
        assert tally.unknown == 0  # no transport failure at all under this load
        assert tally.duplicate_ids == []
        assert len(tally.acked) > 50, f"only {len(tally.acked)} sends in 6 s"  # the test did load the server
        assert tally.refused > 0  # some sends went only to the blacklisted number: refusals were checked too
        tasks = stored_tasks(server, acct.name)
        assert set(tasks) == set(tally.acked)  # exactly the acknowledged sends, no more
        assert_whole(tasks)
        for task_id, (amount, accepted) in tally.acked.items():
            assert tasks[task_id]["amount"] == amount and tasks[task_id]["messages"] == accepted
        charged = sum((a for a, _ in tally.acked.values()), Decimal(0))
        assert server.balance(acct.name) == START - charged
        assert sum(t["messages"] for t in tasks.values()) == sum(c for _, c in tally.acked.values())
    finally:
        server.stop()
    output = server.output_text()
    assert "database is locked" not in output.lower(), output[-3000:]
    assert "Traceback" not in output, output[-3000:]


# --------------------------------------------------------------------------- (b) kill -9 under load


@pytest.mark.slow
@pytest.mark.parametrize("round_, args", [(1, ()), (2, ()), (1, ("--fsync",))], ids=["1", "2", "1-fsync"])
def test_kill_9_under_load_loses_no_acknowledged_send_and_leaves_nothing_half_done(tmp_path, round_, args):
    """The default, SQLite synchronous=NORMAL, survives kill -9 (a COMMIT has written the WAL before it
    returns); --fsync (FULL) adds an fsync per commit, for power loss, which no test here can cause."""
    server = MockProcess(tmp_path / "kill.db", workers=2, args=args)
    server.start()
    acct = server.new_account(balance=START)
    all_acked: dict[int, tuple[Decimal, int]] = {}
    for cycle in range(round_):  # round 2: kill, restart, load again, kill again
        tally, stop = Tally(), threading.Event()
        senders = [
            Sender(
                KINDS[i % 4],
                server.base_url,
                acct,
                tally,
                stop,
                seed=100 * round_ + 10 * cycle + i,
                timeout=5,
                quit_on_transport_error=True,
            )
            for i in range(8)
        ]
        for s in senders:
            s.start()
        deadline = time.monotonic() + 20
        while len(tally.acked) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(random.Random(round_ + cycle).uniform(0.05, 0.4))  # kill at some point mid-flight
        server.stop(signal.SIGKILL)  # the whole process group: master and every worker
        stop.set()
        for s in senders:
            s.join(timeout=30)
        assert not any(s.is_alive() for s in senders)
        assert tally.problems == [], tally.problems
        assert tally.duplicate_ids == []
        assert len(tally.acked) >= 10
        all_acked.update(tally.acked)

        tasks = stored_tasks(server, acct.name)  # read the file the dead server left
        for task_id, (amount, accepted) in all_acked.items():  # every acknowledged send is there, whole
            assert task_id in tasks, f"acknowledged task {task_id} lost by kill -9"
            assert tasks[task_id]["amount"] == amount and tasks[task_id]["messages"] == accepted
        assert_whole(tasks)  # including the ones committed whose reply was lost
        total = sum((t["amount"] for t in tasks.values()), Decimal(0))
        assert server.balance(acct.name) == START - total

        server.start()  # same database, same port
    # after the restart(s): serving, and ids keep increasing
    with HttpClient(acct.name, acct.password, base_url=server.base_url) as http:
        result = http.send("8613800138000", "重启后【华信】").raise_for_status()
    tasks = stored_tasks(server, acct.name)
    assert result.task_id > max(t for t in tasks if t != result.task_id)
    assert server.balance(acct.name) == START - sum((t["amount"] for t in tasks.values()), Decimal(0))
    server.stop()


# --------------------------------------------------------------------------- client transport


def valid_send_reply() -> bytes:
    return http_reply(
        '<?xml version="1.0" encoding="utf-8" ?><returnsms><returnstatus>Success</returnstatus>'
        "<message>操作成功</message><balance>9</balance><taskID>1000001</taskID>"
        "<BillingAmount>0.05</BillingAmount><successCounts>1</successCounts><remainpoint>9</remainpoint>"
        "</returnsms>".encode()
    )  # (remainpoint: the domestic send's points; HttpClient ignores it)


def valid_soap_reply(request: bytes) -> bytes:
    """An accepted send as ASMX writes it (docs/contract.md §2): every member, ``xsi:type`` where the declared
    result type is the abstract SendResultBase, in the version of the request."""
    version = 12 if b"application/soap+xml" in request.split(b"\r\n\r\n")[0] else 11
    ns = soapraw.SOAP12 if version == 12 else soapraw.SOAP11
    op = next(name for name in ("SendHybridSms", "SendI18NSms", "SendSms") if name.encode() in request)
    xsi_type = {"SendI18NSms": ' xsi:type="I18NSendResult"', "SendHybridSms": ' xsi:type="SendResult"'}.get(op, "")
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f'<soap:Body><{op}Response xmlns="{soapraw.TNS}"><{op}Result{xsi_type}><PayType>1</PayType>'
        "<StatusCode>OK</StatusCode><Description>操作成功</Description><MsgId>1000001</MsgId>"
        "<SuccessCounts>1</SuccessCounts><BillingCount>1</BillingCount><Amount>180</Amount><Balance>9.00</Balance>"
        f"<BillingAmount>0.05</BillingAmount></{op}Result></{op}Response></soap:Body></soap:Envelope>"
    ).encode()
    return http_reply(body, ctype="application/soap+xml; charset=utf-8" if version == 12 else "text/xml; charset=utf-8")


def test_timeouts_are_on_by_default(flavour):
    soap = flavour.soap("a", "b", "http://127.0.0.1:9")
    assert soap.timeout == 30 and soap._transport.timeout == 30
    http = flavour.http("a", "b", base_url="http://127.0.0.1:9")
    assert http.timeout == 30 and http._transport.timeout == 30
    for make in (
        lambda: flavour.soap("a", "b", "http://127.0.0.1:9", timeout=None),
        lambda: flavour.http("a", "b", base_url="http://127.0.0.1:9", timeout=0),
    ):
        with pytest.raises(ValueError, match="timeout"):
            make()


def test_a_silent_server_times_out_into_a_transport_error_and_the_send_is_not_repeated(flavour):
    with TinyServer(default=HANG) as server:
        started = time.monotonic()
        with pytest.raises(TransportError, match="not retried"):
            flavour.http("a", "pw-123", base_url=server.base_url, timeout=0.5).send("8613800138000", "x【y】")
        with pytest.raises(TransportError, match="not retried"):
            flavour.soap("a", "pw-123", server.base_url, timeout=0.5).send_i18n_sms("8613800138000", "x【y】")
        with pytest.raises(TransportError, match="not retried"):
            flavour.soap("a", "pw-123", server.base_url, soap_version=12, timeout=0.5).send_sms("13800138000", "x【y】")
        assert time.monotonic() - started < 15
        server.wait_quiet(0.3)
        assert server.connections == 3 and len(server.requests) == 3


SENDS = {
    "http": lambda f, url: f.http("a", "pw-123", base_url=url, timeout=5).send("8613800138000", "x【y】"),
    "soap11 sendsms": lambda f, url: f.soap("a", "pw-123", url, timeout=5).send_sms("13800138000", "x【y】"),
    "soap12 sendsms": lambda f, url: f.soap("a", "pw-123", url, soap_version=12, timeout=5).send_sms(
        "13800138000", "x【y】"
    ),
    "soap11 i18n": lambda f, url: f.soap("a", "pw-123", url, timeout=5).send_i18n_sms("8613800138000", "x【y】"),
    "soap11 hybrid": lambda f, url: f.soap("a", "pw-123", url, timeout=5).send_hybrid_sms("13800138000", "x【y】"),
    "soap12 i18n": lambda f, url: f.soap("a", "pw-123", url, soap_version=12, timeout=5).send_i18n_sms(
        "8613800138000", "x【y】"
    ),
    "domestic": lambda f, url: f.domestic("a", "pw-123", base_url=url, timeout=5).send("13800138000", "x【y】"),
}


@pytest.mark.parametrize("first", [DROP, RESET])
@pytest.mark.parametrize("name", list(SENDS))
def test_a_send_is_never_retried_when_the_connection_breaks(flavour, name, first):
    default = valid_soap_reply if name.startswith("soap") else valid_send_reply()
    with TinyServer(script=[first], default=default) as server:
        with pytest.raises(TransportError) as info:
            SENDS[name](flavour, server.base_url)
        server.wait_quiet(0.5)  # time enough for a (wrong) second try
        assert server.connections == 1 and len(server.requests) == 1
        assert b"8613800138000" in server.requests[0] or b"13800138000" in server.requests[0]
        assert "pw-123" not in str(info.value) and md5_password("pw-123") not in str(info.value)
        assert "may or may not have reached the platform" in str(info.value)
        # the same call against the now-answering server works: the failure was the connection, not the call
        result = SENDS[name](flavour, server.base_url)
        assert result.ok and result.task_id == 1000001, result


def asmx_reply(status: str, version: int, body: bytes = b"") -> bytes:
    ctype = "application/soap+xml; charset=utf-8" if version == 12 else "text/xml; charset=utf-8"
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nCache-Control: private\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body


def asmx_fault(version: int, code: str, text: str) -> bytes:
    """A Fault as ASMX writes it (docs/contract.md §2): HTTP 500, the empty detail element."""
    ns = soapraw.SOAP12 if version == 12 else soapraw.SOAP11
    if version == 12:
        fault = (
            f"<soap:Code><soap:Value>soap:{code}</soap:Value></soap:Code><soap:Reason>"
            f'<soap:Text xml:lang="en">{text}</soap:Text></soap:Reason><soap:Detail />'
        )
    else:
        fault = f"<faultcode>soap:{code}</faultcode><faultstring>{text}</faultstring><detail />"
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f"<soap:Body><soap:Fault>{fault}</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()
    return asmx_reply("500 Internal Server Error", version, body)


ASMX_REFUSALS = {  # name: (reply, SOAP version, the error the client raises)
    "400 empty": (asmx_reply("400 Bad Request", 11), 11, ProtocolError),
    "415 empty": (asmx_reply("415 Unsupported Media Type", 12), 12, ProtocolError),
    "500 Client fault": (
        asmx_fault(11, "Client", "Server did not recognize the value of HTTP Header SOAPAction: x."),
        11,
        SoapFault,
    ),
    "500 Receiver fault": (
        asmx_fault(
            12, "Receiver", "Server was unable to process request. ---&gt; DTD is prohibited in this XML document."
        ),
        12,
        SoapFault,
    ),
}


@pytest.mark.parametrize("name", list(ASMX_REFUSALS))
def test_a_send_asmx_refuses_is_not_retried(flavour, name):
    """ASMX's refusals of a request (an empty 400 or 415, a Fault on HTTP 500) are errors the caller sees once:
    the client neither retries the send nor hides the status, and never shows the password."""
    reply, version, error = ASMX_REFUSALS[name]
    with TinyServer(default=reply) as server:
        client = flavour.soap("a", "pw-123", server.base_url, soap_version=version, timeout=5)
        for send in (client.send_sms, client.send_i18n_sms, client.send_hybrid_sms):
            with pytest.raises(error) as info:
                send("8613800138000", "x【y】")
            assert "pw-123" not in str(info.value) and md5_password("pw-123") not in str(info.value)
            if error is ProtocolError:
                assert info.value.status_code == int(name.split()[0]), info.value
            else:
                assert info.value.faultcode == f"soap:{name.split()[1]}", info.value
        server.wait_quiet(0.3)
        assert server.connections == 3 and len(server.requests) == 3  # one request per send


def test_a_closed_port_is_a_clear_transport_error(flavour):
    url = f"http://127.0.0.1:{free_port()}"
    for call in (
        lambda: flavour.http("a", "pw-123", base_url=url, retries=0).send("1", "x"),
        lambda: flavour.http("a", "pw-123", base_url=url, retries=1, retry_backoff=0).balance(),
        lambda: flavour.domestic("a", "pw-123", base_url=url, retries=0).balance(),
        lambda: flavour.soap("a", "pw-123", url).send_i18n_sms("1", "x"),
    ):
        with pytest.raises(TransportError, match="cannot connect") as info:
            call()
        assert url in str(info.value) and "Connection refused" in str(info.value)


BALANCE_REPLY = http_reply(
    '<?xml version="1.0" encoding="utf-8" ?><returnsms><returnstatus>Success'
    "</returnstatus><message>操作成功</message><payinfo>预付费</payinfo><balance>12.50"
    "</balance></returnsms>".encode()
)
EMPTY_PULL_REPLY = http_reply(b'<?xml version="1.0" encoding="utf-8" ?><returnsms/>')
PWD_REPLY = http_reply(
    '<?xml version="1.0" encoding="utf-8" ?><returnsms><returnstatus>Sucess</returnstatus>'
    "<message>操作成功</message></returnsms>".encode()
)


def test_balance_is_retried_after_a_reset_and_after_a_refused_connection(flavour):
    with TinyServer(script=[RESET], default=BALANCE_REPLY) as server:
        client = flavour.http("a", "pw-123", base_url=server.base_url, retries=2, retry_backoff=0.05)
        assert client.balance().balance == Decimal("12.50")
        assert server.connections == 2
    # a port that refuses first and accepts later (the server comes up during the back-off)
    port = free_port()
    box: dict = {}

    def late_server() -> None:
        time.sleep(0.3)
        box["server"] = TinyServer(default=BALANCE_REPLY, port=port)

    starter = threading.Thread(target=late_server)
    starter.start()
    try:
        client = flavour.http("a", "pw-123", base_url=f"http://127.0.0.1:{port}", retries=3, retry_backoff=0.5)
        assert client.balance().balance == Decimal("12.50")
    finally:
        starter.join()
        box["server"].close()
    assert box["server"].connections == 1


READ_ONLY = {
    "balance": lambda c: c.balance(),
    "domestic-points": lambda c: c.balance(fmt="json"),
    "reports": lambda c: c.status_reports(),
    "reports-json": lambda c: c.status_reports(fmt="json"),
    "uplinks": lambda c: c.uplinks(),
    "pwd": lambda c: c.change_password("n3w-pass"),
}
READ_ONLY_REPLIES = {
    "balance": BALANCE_REPLY,
    "reports": EMPTY_PULL_REPLY,
    "uplinks": EMPTY_PULL_REPLY,
    "pwd": PWD_REPLY,
    "domestic-points": http_reply(
        b'{"returnstatus":"Sucess","message":"","payinfo":"prepaid","overage":"25","sendTotal":"30"}',
        ctype="application/json",
    ),
    "reports-json": http_reply(b'{"error":"1","remark":"ok","statusbox":[]}', ctype="application/json"),
}


def make_for(flavour, name: str, url: str, **kwargs):
    """The client a READ_ONLY call belongs to (the domestic points query is DomesticClient's)."""
    if name.startswith("domestic"):
        return flavour.domestic("a", "pw-123", base_url=url, **kwargs)
    return flavour.http("a", "pw-123", base_url=url, **kwargs)


@pytest.mark.parametrize("name", list(READ_ONLY))
def test_calls_are_retried_exactly_while_no_connection_was_made(flavour, monkeypatch, name):
    """Refused twice, then the server is up: two back-offs, one request, and the call works.

    The server is started from inside the client's own back-off (``_transport._pause``), so the test
    sees every retry the client decides on, and nothing depends on timing.
    """
    from ipyy_client import _transport

    port = free_port()
    pauses: list[float] = []
    box: dict = {}

    def up_on_second_pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2 and "never" not in box:
            box["server"] = TinyServer(default=READ_ONLY_REPLIES[name], port=port)

    async def async_pause(seconds: float) -> None:
        up_on_second_pause(seconds)

    monkeypatch.setattr(_transport, "_pause", up_on_second_pause)
    monkeypatch.setattr(_transport, "_async_pause", async_pause)
    try:
        client = make_for(flavour, name, f"http://127.0.0.1:{port}", retries=2, retry_backoff=0.25)
        READ_ONLY[name](client)  # it returned: the third try reached the server
        assert pauses == [0.25, 0.5]  # exponential back-off
        assert box["server"].connections == 1
    finally:
        if "server" in box:
            box["server"].close()
    pauses.clear()
    box["never"] = True  # from now on nobody listens
    port = free_port()
    client = make_for(flavour, name, f"http://127.0.0.1:{port}", retries=2, retry_backoff=0.25)
    with pytest.raises(TransportError, match="tried 3 times"):  # nobody ever listens: gives up after 2 retries
        READ_ONLY[name](client)
    assert pauses == [0.25, 0.5]


def test_sends_are_not_retried_even_when_no_connection_was_made(flavour, monkeypatch):
    from ipyy_client import _transport

    pauses: list[float] = []

    async def async_pause(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(_transport, "_pause", pauses.append)
    monkeypatch.setattr(_transport, "_async_pause", async_pause)
    url = f"http://127.0.0.1:{free_port()}"
    for send in (
        lambda: flavour.http("a", "pw-123", base_url=url, retries=5).send("1", "x"),
        lambda: flavour.domestic("a", "pw-123", base_url=url, retries=5).send("1", "x"),
        lambda: flavour.soap("a", "pw-123", url).send_i18n_sms("1", "x"),
        lambda: flavour.soap("a", "pw-123", url).send_sms("1", "x"),
        lambda: flavour.soap("a", "pw-123", url, soap_version=12).send_hybrid_sms("1", "x"),
    ):
        with pytest.raises(TransportError, match="cannot connect") as info:
            send()
        assert "tried" not in str(info.value)
    assert pauses == []


@pytest.mark.parametrize("name", ["reports", "reports-json", "uplinks", "pwd"])
def test_pulls_and_password_are_not_retried_after_the_connection_broke(flavour, name):
    """A pull whose reply was lost may already have handed its reports out: not repeated (nor a password change,
    which may already have taken effect)."""
    reply = READ_ONLY_REPLIES[name]
    with TinyServer(script=[RESET, reply, DROP], default=reply) as srv:
        client = flavour.http("a", "pw-123", base_url=srv.base_url, retries=2, retry_backoff=0)
        with pytest.raises(TransportError):
            READ_ONLY[name](client)
        READ_ONLY[name](client)  # the next call (a new request) works
        with pytest.raises(TransportError):
            READ_ONLY[name](client)
        srv.wait_quiet(0.3)
        assert srv.connections == 3


def test_pulls_are_not_retried_after_a_read_timeout(flavour):
    with TinyServer(default=HANG) as srv:
        client = flavour.http("a", "pw-123", base_url=srv.base_url, retries=2, retry_backoff=0, timeout=0.3)
        for name in ("status_reports", "uplinks", "balance"):
            with pytest.raises(TransportError, match="no reply .* within 0.3s") as info:
                getattr(client, name)()
            assert ("handed out" in str(info.value)) == (name != "balance")
        srv.wait_quiet(0.3)
        assert srv.connections == 3


def test_transport_errors_are_ipyy_errors_never_raw_library_exceptions(flavour):
    with TinyServer(default=lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort") as server:
        for call in (
            lambda: flavour.http("a", "pw-123", base_url=server.base_url, timeout=2).send("1", "x"),
            lambda: flavour.soap("a", "pw-123", server.base_url, timeout=2).send_i18n_sms("1", "x"),
        ):
            with pytest.raises(IpyyError):
                call()
    with TinyServer(default=b"\x00\xff garbage, not HTTP\r\n\r\n") as server:  # not HTTP at all
        with pytest.raises(IpyyError):
            flavour.http("a", "pw-123", base_url=server.base_url, timeout=2).send("1", "x")
