"""Property-based fuzzing of every endpoint over the wire (Hypothesis, against the real server).

Invariants, per reply: no unhandled error; the reply parses in the surface's
own format (XML with a DTD-free lxml parser for the ``.aspx`` XML replies,
JSON for ``*JsonApi``) and has the documented shape, and the ``.aspx`` pages
never answer 500; SOAP answers only as Microsoft's ASMX answers (an empty 400
or 415, a Fault of the right version on 500 with an empty detail element, or
the routed operation's reply, docs/contract.md §2); a prepaid balance is
never negative. Per run, against the database: the account's balance is its
start minus the sum of ``BillingAmount`` over the OK replies, the tasks are
exactly the acknowledged ones, and each task's messages add up to its charge,
so nothing is charged by a request the vendor refuses.

Bounded for CI: a fixed number of examples per endpoint (``IPYY_FUZZ_EXAMPLES``,
default 100), derandomized (the same inputs every run), no example database,
no deadline (a shared 2-core machine has hiccups); the whole module takes well
under a minute.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import event as _event
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from lxml import etree

from ipyy_client.codes import ResultCode
from ipyy_client.encoding import encode_content, md5_password
from support import soapraw

EXAMPLES = int(os.environ.get("IPYY_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
)
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
GET_LIMIT = 3000  # the server refuses path + query over 4094 bytes itself (414); longer forms go by POST
SEND_FIELDS = ["returnstatus", "message", "balance", "taskID", "BillingAmount", "successCounts"]
REPORT_FIELDS = ["mobile", "taskid", "status", "receivetime", "errorcode", "extno"]
UPLINK_FIELDS = ["mobile", "taskid", "content", "receivetime", "extno"]
CODE_NAMES = {c.name for c in ResultCode}


# --------------------------------------------------------------------------- the ledger


@dataclass
class Ledger:
    """What the replies said; compared with the database at the end of a run."""

    name: str
    start: Decimal
    balance: Decimal
    password: str
    tasks: dict[int, tuple[Decimal, int | None]] = field(default_factory=dict)  # id -> (amount, recipients)

    def ok(self, task_id: int, amount: Decimal, count: int | None, balance: Decimal) -> None:
        """``count`` None: the surface does not say (SOAP); the store's count is checked against the messages."""
        assert task_id not in self.tasks, f"task id {task_id} handed out twice"
        assert amount > 0 and (count is None or count >= 1)
        assert balance == self.balance - amount, (balance, self.balance, amount)
        self.tasks[task_id] = (amount, count)
        self.balance = balance

    def check_store(self, server) -> None:
        store = server.platform().store
        try:
            db = store.db
            acct = store.get_account(self.name)
            assert acct.balance >= 0
            assert acct.balance == self.balance == self.start - sum((a for a, _ in self.tasks.values()), Decimal(0))
            rows = db.execute("SELECT id, billing_amount, recipients FROM tasks WHERE account=?", (self.name,))
            stored = {r["id"]: (Decimal(r["billing_amount"]), r["recipients"]) for r in rows}
            assert stored == {
                t: (a, stored.get(t, (0, None))[1] if c is None else c) for t, (a, c) in self.tasks.items()
            }
            for task_id, (amount, count) in stored.items():
                msgs = db.execute(
                    "SELECT amount FROM messages WHERE task_id=? AND status!='refused'", (task_id,)
                ).fetchall()
                assert len(msgs) == count
                assert sum((Decimal(m["amount"]) for m in msgs), Decimal(0)) == amount
        finally:
            store.close()


@pytest.fixture
def ledger(mock_server):
    def make(balance: str = "3.00") -> Ledger:
        acct = mock_server.new_account(balance=Decimal(balance))
        return Ledger(acct.name, acct.balance, acct.balance, acct.password)

    return make


@pytest.fixture
def http(mock_server):
    with requests.Session() as session:
        yield session


# --------------------------------------------------------------------------- strategies


def event(text: str) -> None:
    """Hypothesis' event (what kinds of replies a run saw), also callable outside a given test."""
    try:
        _event(text)
    except InvalidArgument:
        pass


def mostly(good: st.SearchStrategy, *bad: st.SearchStrategy, weight: int = 4) -> st.SearchStrategy:
    """``good`` ``weight`` times as often as each of ``bad`` (so money moves and the deep rules are reached)."""
    return st.sampled_from([good] * weight + list(bad)).flatmap(lambda strategy: strategy)


NUMBERS = [
    "8613800138000",
    "8613912345678",
    "8613800000001",
    "8613800000002",
    "8613800000003",
    "8613800000004",
    "8613800000005",
    "447911123456",
    "12025550123",
    "13800138000",
    "+8613800138000",
]
junk = st.text(max_size=40)
numbers = mostly(
    st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=6).flatmap(
        lambda items: st.sampled_from([",", ", ", ",,", " , "]).map(lambda sep: sep.join(items))
    ),
    st.text(alphabet="0123456789+, ", max_size=40),
    junk,
)
texts = mostly(
    st.sampled_from(
        ["验证码 1234【华信】", "👋🏽 مرحبا שלום【华信】", "\u202eRTL\u202c【华信】", "<b>&amp;</b>【华信】"]
    ),
    st.text(max_size=80).map(lambda t: t + "【华信】"),
    st.text(max_size=80).map(lambda t: t + "[Brand]"),
    st.sampled_from(
        [
            "敏感词【华信】",
            "x" * 700 + "【华信】",
            "x" * 71 + "【华信】",
            "no signature",
            "【】",
            "text【signature too long】",
            "\x00【华信】",
        ]
    ),
    st.text(max_size=40),
    weight=6,
)
ext_numbers = mostly(st.just(""), st.from_regex(r"[0-9]{1,6}", fullmatch=True), junk)
send_times = mostly(
    st.just(""),
    st.sampled_from(
        [
            "2000-01-01 00:00:00",
            "2999-12-31 23:59:59",
            "2010/10/24 09:08:10",
            "2010-10-24T09:08:10",
            "2024-02-30 00:00:00",
            "9999-99-99",
        ]
    ),
    junk,
    weight=6,
)


def credentials(ledger: Ledger, *, http: bool) -> st.SearchStrategy[tuple[str, str]]:
    """Mostly right (so sends go through and money moves), sometimes wrong in every way."""
    right = [ledger.password, md5_password(ledger.password)] if http else [ledger.password]
    if http:
        right.append(md5_password(ledger.password).lower())
    good = st.tuples(st.just(ledger.name), st.sampled_from(right))
    bad = st.tuples(st.one_of(st.just(ledger.name), st.just(""), junk), st.one_of(st.just(""), st.just("wrong"), junk))
    return mostly(good, bad, weight=5)


def extra_params() -> st.SearchStrategy[dict[str, str]]:
    return mostly(st.just({}), st.dictionaries(st.text(min_size=1, max_size=10), junk, max_size=3))


# --------------------------------------------------------------------------- reply checks


def xml_root(reply: requests.Response) -> etree._Element:
    assert reply.status_code != 500
    assert reply.headers["Content-Type"] == "text/xml; charset=utf-8", reply.headers
    assert reply.content.startswith(b'<?xml version="1.0" encoding="utf-8" ?>')
    assert b"<!DOCTYPE" not in reply.content
    root = etree.fromstring(reply.content, SAFE)
    assert root.tag == "returnsms"
    return root


def json_body(reply: requests.Response) -> dict:
    assert reply.status_code != 500
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    data = json.loads(reply.content.decode("utf-8"))
    assert isinstance(data, dict)
    return data


def children(root: etree._Element) -> dict[str, str]:
    return {c.tag: c.text or "" for c in root}


def call(session: requests.Session, base: str, path: str, form: dict[str, str], use_get: bool) -> requests.Response:
    url = base + path
    if use_get and len(requests.models.RequestEncodingMixin._encode_params(form)) < GET_LIMIT:
        return session.get(url, params=form, timeout=30)
    return session.post(url, data=form, timeout=30)


def check_send_reply(reply: requests.Response, ledger: Ledger) -> None:
    assert reply.status_code == 200, reply.content[:300]
    fields = children(xml_root(reply))
    assert list(fields) == SEND_FIELDS
    balance = Decimal(fields["balance"])
    assert balance >= 0
    event(f"send: {fields['returnstatus']} {fields['message']}")
    if fields["returnstatus"] == "Success":
        assert fields["message"] == "操作成功"
        ledger.ok(int(fields["taskID"]), Decimal(fields["BillingAmount"]), int(fields["successCounts"]), balance)
    else:
        assert fields["returnstatus"] == "Faild" and fields["message"]
        assert fields["taskID"] == "" and fields["BillingAmount"] == "0" and fields["successCounts"] == "0"


# --------------------------------------------------------------------------- .aspx


def test_fuzz_http_send(mock_server, http, ledger):
    led = ledger("3.00")

    @FUZZ
    @given(
        creds=credentials(led, http=True),
        mobile=numbers,
        text=texts,
        raw_content=st.sampled_from([False] * 8 + [True]),
        bad_hex=junk,
        ext=ext_numbers,
        when=send_times,
        code=st.sampled_from(["8"] * 6 + ["0", "", "7", "８"]),
        use_get=st.booleans(),
        extra=extra_params(),
    )
    def run(creds, mobile, text, raw_content, bad_hex, ext, when, code, use_get, extra):
        form = {
            **extra,
            "action": "send",
            "userid": "",
            "account": creds[0],
            "password": creds[1],
            "mobile": mobile,
            "code": code,
            "content": bad_hex if raw_content else encode_content(text),
            "sendTime": when,
            "extno": ext,
        }
        check_send_reply(call(http, mock_server.base_url, "/I18NSms.aspx", form, use_get), led)

    run()
    led.check_store(mock_server)


def test_fuzz_http_overage_and_unknown_actions(mock_server, http, ledger):
    led = ledger("7.25")

    @FUZZ
    @given(
        creds=credentials(led, http=True),
        action=st.one_of(st.sampled_from(["overage", "OVERAGE", " overage "]), junk),
        use_get=st.booleans(),
        extra=extra_params(),
    )
    def run(creds, action, use_get, extra):
        form = {**extra, "action": action, "account": creds[0], "password": creds[1]}
        reply = call(http, mock_server.base_url, "/I18NSms.aspx", form, use_get)
        assert reply.status_code == 200
        fields = children(xml_root(reply))
        assert fields["returnstatus"] in ("Success", "Faild")
        if action.strip().lower() == "overage":
            assert list(fields) == ["returnstatus", "message", "payinfo", "balance"]
            if fields["returnstatus"] == "Success":
                assert fields["payinfo"] == "预付费" and Decimal(fields["balance"]) == led.balance
        elif action.strip().lower() != "send":
            assert fields["returnstatus"] == "Faild" and fields["message"] == "参数错误"
        else:  # action "send" with these parameters: a refused send (no mobile)
            assert list(fields) == SEND_FIELDS and fields["returnstatus"] == "Faild"

    run()
    led.check_store(mock_server)


@pytest.mark.parametrize(
    "path,box",
    [
        ("/statusApi.aspx", "statusbox"),
        ("/statusJsonApi.aspx", "statusbox"),
        ("/callApi.aspx", "callbox"),
        ("/callJsonApi.aspx", "callbox"),
    ],
)
def test_fuzz_pulls(mock_server, http, ledger, path, box):
    led = ledger("5.00")
    # something to hand out: a few sends, then pulls in every shape
    for number in ("8613800138000", "8613800000001", "8613800000005"):
        check_send_reply(
            http.post(
                mock_server.base_url + "/I18NSms.aspx",
                timeout=30,
                data={
                    "action": "send",
                    "account": led.name,
                    "password": led.password,
                    "mobile": number,
                    "content": encode_content("拉取【华信】"),
                },
            ),
            led,
        )
    fields_expected = REPORT_FIELDS if box == "statusbox" else UPLINK_FIELDS
    is_json = "Json" in path

    @FUZZ
    @given(
        creds=credentials(led, http=True),
        action=st.one_of(st.just("query"), st.just("QUERY"), junk),
        num=st.one_of(st.just(""), st.integers(0, 10_000).map(str), junk),
        task=st.one_of(st.just(""), st.sampled_from([str(t) for t in led.tasks] or ["1"]), junk),
        use_get=st.booleans(),
        extra=extra_params(),
    )
    def run(creds, action, num, task, use_get, extra):
        form = {**extra, "action": action, "account": creds[0], "password": creds[1], "statusNum": num, "taskid": task}
        reply = call(http, mock_server.base_url, path, form, use_get)
        assert reply.status_code == 200
        if is_json:
            data = json_body(reply)
            assert isinstance(data.get("error"), str) and data["error"].isdigit()
            assert isinstance(data.get("remark"), str) and isinstance(data.get(box), list)
            if data["error"] != "1":
                assert data[box] == []
            for item in data[box]:
                assert list(item) == fields_expected and all(isinstance(v, str) for v in item.values())
            return
        root = xml_root(reply)
        error = root.find("errorstatus")
        if error is not None:
            assert len(root) == 1 and error.findtext("error") in ("1", "2", "3", "4") and error.findtext("remark")
            return
        for item in root:
            assert item.tag == box and [c.tag for c in item] == fields_expected

    run()
    led.check_store(mock_server)


def test_fuzz_pwd(mock_server, http, ledger):
    led = ledger("1.00")
    state = {"password": led.password}

    @FUZZ
    @given(
        right=st.booleans(),
        md5=st.booleans(),
        account=st.one_of(st.just(led.name), junk),
        new=st.one_of(st.text(min_size=1, max_size=20), st.text(max_size=40), st.just("")),
        use_get=st.booleans(),
    )
    def run(right, md5, account, new, use_get):
        old = state["password"] if right else "not-" + state["password"]
        form = {"account": account, "password": md5_password(old) if md5 else old, "newpassword": new}
        reply = call(http, mock_server.base_url, "/pwd.aspx", form, use_get)
        assert reply.status_code == 200
        fields = children(xml_root(reply))
        assert list(fields) == ["returnstatus", "message"] and fields["returnstatus"] in ("Sucess", "Faild")
        if fields["returnstatus"] == "Sucess":
            assert right and account == led.name and 1 <= len(new) <= 20
            state["password"] = new
        # the account's password is whatever the replies said it is, never anything else
        assert mock_server.account(led.name).password == state["password"]

    run()


def test_fuzz_aspx_raw_bodies(mock_server, http):
    """Arbitrary bytes under any content type: every .aspx endpoint answers in its format."""
    paths = {
        "/I18NSms.aspx": "xml",
        "/statusApi.aspx": "xml",
        "/callApi.aspx": "xml",
        "/pwd.aspx": "xml",
        "/statusJsonApi.aspx": "json",
        "/callJsonApi.aspx": "json",
    }

    @FUZZ
    @given(
        path=st.sampled_from(sorted(paths)),
        body=st.binary(max_size=2000),
        ctype=st.sampled_from(
            [
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=b",
                "multipart/form-data",
                "text/xml",
                "application/json",
                "",
                "text/plain; charset=gbk",
            ]
        ),
        query=st.binary(max_size=200),
    )
    def run(path, body, ctype, query):
        url = (
            mock_server.base_url
            + path
            + "?"
            + query.decode("latin-1").encode("ascii", "ignore").decode().replace(" ", "%20").replace("#", "%23")
        )
        headers = {"Content-Type": ctype} if ctype else {}
        reply = http.post(url, data=body, headers=headers, timeout=30)
        if reply.status_code == 400 and reply.headers.get("Server") == "gunicorn" and b"<html>" in reply.content:
            return  # gunicorn's own answer to a request line it cannot parse: never reached the app
        assert reply.status_code in (200, 413), reply.content[:300]
        if paths[path] == "json":
            json_body(reply)
        else:
            xml_root(reply)

    run()


# --------------------------------------------------------------------------- SOAP

SOAP_CTYPE = {11: "text/xml; charset=utf-8", 12: "application/soap+xml; charset=utf-8"}
SOAP_ENV = {11: soapraw.SOAP11, 12: soapraw.SOAP12}
SOAP_OPS = ["SendSms", "SendMms", "SendI18NSms", "SendHybridSms", "HybridSend"]
BODY_PARAM = {"SendSms": "sms", "SendMms": "mms", "SendI18NSms": "sms", "SendHybridSms": "sms", "HybridSend": "body"}
#: The run-time type a reply names (docs/contract.md §2); None: the declared type is concrete.
XSI_TYPE = {"SendI18NSms": "I18NSendResult", "SendHybridSms": "SendResult"}
POINT = Decimal("0.05")  # the fuzz accounts' price for country 86: Amount is the balance in points at it
MMS_ELEMENTS = "<Elements><MmsElement><Name>a.txt</Name><ElementType>Text</ElementType></MmsElement></Elements>"
NIL = "nil"


def soap_body(
    op: str,
    user: str | None,
    password: str | None,
    msisdns: str | None,
    content: str | None,
    plan: str | None,
    ext: str | None,
    version: int,
    reverse: bool = False,
) -> bytes:
    """An operation's request as a hand-written client sends it: the members given (None: left out), in schema
    order or (``reverse``) the other way round, which ASMX reads just the same."""

    def el(name: str, value: str | None) -> str:
        return "" if value is None else f"<{name}>{escape(value)}</{name}>"

    param = BODY_PARAM[op]
    plan_xml = "" if plan is None else ('<PlanSendTime xsi:nil="true"/>' if plan == NIL else el("PlanSendTime", plan))
    if param == "sms":
        members = [el("Msisdns", msisdns), el("SMSContent", content), el("ExtNumber", ext), plan_xml]
    elif param == "mms":
        members = [el("Msisdns", msisdns), el("Subject", content), el("ExtNumber", ext), plan_xml, MMS_ELEMENTS]
    else:
        members = [el("Account", user), el("Password", password), el("Sn", "1"), el("SMSContent", content)]
        members += [el("ExtNumber", ext), plan_xml]
    if reverse:
        members.reverse()
    inner = f"<{param}>{''.join(members)}</{param}>"
    if param != "body":
        inner = el("userName", user) + el("password", password) + inner
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_ENV[version]}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<soap:Body><{op} xmlns="{soapraw.TNS}">{inner}</{op}></soap:Body></soap:Envelope>'
    ).encode("utf-8")


def root_namespace(body: bytes, content_type: str) -> str | None:
    """The namespace of the request's root element as a forward XML reader meets it, the body decoded as ASMX
    decodes it (US-ASCII for text/* without a charset, replacement characters under a charset, XML's own reading
    for application/* without one); None when the reader never got there. Once the root was read, its namespace
    decides the version of ASMX's answer."""
    if "charset" not in content_type and not content_type.startswith("application/"):
        text = body.translate(bytes(range(128)) + b"?" * 128).decode("ascii")
    elif "charset" in content_type:
        text = body.decode("utf-8", "replace")
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True, load_dtd=False)
    try:
        parser.feed(text.encode("utf-8", "surrogatepass"))
        parser.close()
    except (etree.XMLSyntaxError, ValueError):
        pass
    for _, element in parser.read_events():
        return etree.QName(element).namespace or ""
    return None


def soap_fault(reply: requests.Response, root: etree._Element, version: int) -> str:
    """The Fault's code, after checking it is ASMX's: HTTP 500, its version's envelope, an empty detail element
    (none on a MustUnderstand Fault), a text that is never the mock's own failure."""
    assert reply.status_code == 500
    ns = SOAP_ENV[version]
    fault = root.find(f"{{{ns}}}Body/{{{ns}}}Fault")
    assert fault is not None, reply.content[:300]
    code, text = soapraw.fault(reply)
    detail = fault.find("detail" if version == 11 else f"{{{ns}}}Detail")
    if code == "soap:MustUnderstand":
        assert detail is None
    else:
        assert detail is not None and len(detail) == 0 and not detail.text, reply.content[:300]
    assert text and "The mock failed" not in text, text
    if code == "soap:VersionMismatch":
        assert version == 11
    return code


def soap_check(
    reply: requests.Response,
    body: bytes,
    version: int | None,
    op: str | None,
    ledger: Ledger | None,
) -> None:
    """Whatever the request, the answer is one ASMX gives: 400 or 415 with an empty body; a Fault of the right
    version on 500; or the routed operation's reply, every member consistent with the ledger. ``version`` and
    ``op`` are what a well-formed request must be answered in (None: whatever the document turned out to say)."""
    assert reply.status_code in (200, 400, 413, 415, 500), (reply.status_code, reply.content[:300])
    ctype = reply.headers["Content-Type"]
    assert ctype in SOAP_CTYPE.values(), ctype
    answered = 11 if ctype == SOAP_CTYPE[11] else 12
    if reply.status_code in (400, 415):
        assert reply.content == b"", reply.content[:300]
        event(f"soap: HTTP {reply.status_code}, empty")
        return
    assert b"<!DOCTYPE" not in reply.content
    root = etree.fromstring(reply.content, SAFE)
    assert root.tag == f"{{{SOAP_ENV[answered]}}}Envelope"  # the Content-Type and the envelope agree
    if reply.status_code != 200:
        code = soap_fault(reply, root, answered)
        event(f"soap: HTTP {reply.status_code} {code}")
        if version is not None:  # a well-formed envelope is answered in its own version, by a Client Fault
            assert answered == version and code in ("soap:Client", "soap:Sender"), reply.content[:300]
        elif code != "soap:VersionMismatch":  # SOAP 1.1 once the reader met a SOAP 1.1 root, else the routing's 1.2
            root_ns = root_namespace(body, reply.request.headers.get("Content-Type", ""))
            assert (answered == 11) == (root_ns == soapraw.SOAP11), (root_ns, reply.content[:300])
        return
    if version is not None:
        assert answered == version
    (response,) = root.find(f"{{{SOAP_ENV[answered]}}}Body")
    routed = etree.QName(response).localname.removesuffix("Response")
    assert routed in SOAP_OPS and (op is None or routed == op), routed
    (result,) = response
    assert result.tag == f"{{{soapraw.TNS}}}{routed}Result"
    assert result.get("{http://www.w3.org/2001/XMLSchema-instance}type") == XSI_TYPE.get(routed)
    fields = {etree.QName(c).localname: c for c in result}
    status = fields["StatusCode"].text
    event(f"soap: {routed} {status}")
    assert status in CODE_NAMES
    assert fields["Description"].text == ResultCode(status).description
    errors = fields.get("ErrorsCode" if routed == "HybridSend" else "Errors")
    for item in [] if errors is None else errors:
        number, _, code = (item.text or "").rpartition(":")
        assert code in CODE_NAMES, item.text
    if routed == "HybridSend":  # no account of the mock has the product: never a send
        assert status != "OK" and "MsgId" not in fields and Decimal(fields["BillingAmount"].text) == 0
        assert fields["JobType"].text == "0"
        return
    pay_type, amount, balance = int(fields["PayType"].text), int(fields["Amount"].text), Decimal(fields["Balance"].text)
    billing, count = Decimal(fields["BillingAmount"].text), int(fields["BillingCount"].text)
    successes = int(fields["SuccessCounts"].text)
    assert pay_type in (0, 1) and balance >= 0  # the fuzz accounts are prepaid
    if pay_type == 0:  # not authenticated: nothing known about the account
        assert balance == 0 and amount == 0
    else:
        assert amount == int(balance / POINT)
    if status == "OK":
        assert ledger is not None and count >= 1 and successes >= 1
        ledger.ok(int(fields["MsgId"].text), billing, successes, balance)
    else:
        assert "MsgId" not in fields and billing == 0 and count == 0 and successes == 0


def well_formed(body: bytes) -> bool:
    try:
        etree.fromstring(body, SAFE)
    except etree.XMLSyntaxError:
        return False
    return True


def test_fuzz_soap(mock_server, http, ledger):
    """Every operation, both versions, routed by its action, on the body, or by another operation's action, with
    values right and wrong: an ASMX answer each time, and the money moved only by the OK replies (enough money
    that most sends get past the balance check to the deeper rules)."""
    led = ledger("20.00")

    @FUZZ
    @given(
        version=st.sampled_from([11, 12]),
        op=mostly(
            st.sampled_from(["SendSms", "SendI18NSms", "SendHybridSms"]), st.sampled_from(["SendMms", "HybridSend"])
        ),
        creds=credentials(led, http=False),
        mobile=mostly(numbers, st.none()),
        text=mostly(texts, st.none()),
        plan=mostly(
            st.one_of(st.none(), st.just(NIL)),
            st.sampled_from(
                [
                    "2000-01-01T00:00:00",
                    "2999-01-01T00:00:00Z",
                    "2024-05-01T09:30:00-03:30",
                    "2030-01-01",
                    "10:00:00",
                    "2030-05",
                    "--05-01",
                    "2030-01-01T24:00:00",
                    "2030-01-01 10:00:00",
                    "0001-01-01T00:00:00",
                    "bad",
                    "",
                ]
            ),
            junk,
        ),
        ext=mostly(st.none(), ext_numbers),
        routing=st.sampled_from(["action"] * 3 + ["body", "another action"]),
        reverse=st.booleans(),
    )
    def run(version, op, creds, mobile, text, plan, ext, routing, reverse):
        try:
            body = soap_body(op, creds[0], creds[1], mobile, text, plan, ext, version, reverse)
        except ValueError:  # text Python cannot encode (a lone surrogate): no client can send it either
            return
        routed = {"action": op, "body": None, "another action": "SendSms" if op != "SendSms" else "SendHybridSms"}[
            routing
        ]
        headers = {"Content-Type": SOAP_CTYPE[version]}
        if routed is not None and version == 11:
            headers["SOAPAction"] = f'"{soapraw.TNS}{routed}"'
        elif routed is not None:
            headers["Content-Type"] += f'; action="{soapraw.TNS}{routed}"'
        reply = http.post(mock_server.base_url + "/WebService.asmx", data=body, headers=headers, timeout=30)
        if well_formed(body):
            soap_check(reply, body, version, routed or op, led)
        else:  # a character XML forbids, from the junk: ASMX's XML error
            assert reply.status_code in (400, 500), (reply.status_code, reply.content[:300])
            soap_check(reply, body, None, routed or op, led)

    run()
    led.check_store(mock_server)


def test_fuzz_soap_mutated_envelopes(mock_server, http, ledger):
    """A valid envelope with bytes inserted, replaced or cut, sent as each content type ASMX routes differently:
    an ASMX answer each time (an empty 400 or 415, a Fault of the right version, or a reply), never a crash,
    and the money moved only by the OK replies."""
    led = ledger("2.00")
    base = {
        v: soap_body("SendI18NSms", led.name, led.password, "8613800138000", "变异【华信】", NIL, "", v)
        for v in (11, 12)
    }

    @FUZZ
    @given(
        version=st.sampled_from([11, 12]),
        ctype=st.sampled_from(["its own", "its own", "text/xml", "application/soap+xml", "text/plain", "none"]),
        action=st.booleans(),
        data=st.data(),
    )
    def run(version, ctype, action, data):
        body = bytearray(base[version])
        for _ in range(data.draw(st.integers(1, 4))):
            kind = data.draw(st.sampled_from(["insert", "replace", "cut", "delete"]))
            at = data.draw(st.integers(0, len(body)))
            if kind == "insert":
                body[at:at] = data.draw(
                    st.binary(min_size=1, max_size=30)
                    | st.sampled_from(
                        [
                            b"<!DOCTYPE x>",
                            b"&e;",
                            b"]]>",
                            b"<![CDATA[",
                            b"\x00",
                            b"<a>",
                            b"</sms>",
                            b"\xed\xa0\x80",
                            b"&#0;",
                            b"<!-- -->",
                            b'<soap:Header><h soap:mustUnderstand="1"/></soap:Header>',
                        ]
                    )
                )
            elif kind == "replace" and at < len(body):
                body[at] = data.draw(st.integers(0, 255))
            elif kind == "cut":
                del body[at:]
            else:
                del body[at : at + data.draw(st.integers(1, 40))]
        headers = {} if ctype == "none" else {"Content-Type": SOAP_CTYPE[version] if ctype == "its own" else ctype}
        if action:
            headers["SOAPAction"] = f'"{soapraw.TNS}SendI18NSms"'
        reply = http.post(mock_server.base_url + "/WebService.asmx", data=bytes(body), headers=headers, timeout=30)
        soap_check(reply, bytes(body), None, None, led)

    run()
    led.check_store(mock_server)


# --------------------------------------------------------------------------- admin API (in process)

ADMIN_FIELDS = [
    "account",
    "mobile",
    "content",
    "extno",
    "pattern",
    "outcome",
    "errorcode",
    "delay",
    "reply",
    "position",
    "rules",
    "seconds",
    "report_delay",
    "push_timeout",
    "push_retry_pauses",
    "name",
    "password",
    "balance",
    "status",
    "pay_type",
    "prices",
    "stopped",
    "push_url",
    "limit",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["demo", "8613800138000", "delivered", "failed", "86\\d+", "(", "1e999", "-1", "NaN"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)


def test_fuzz_admin_api(tmp_path):
    """Every admin route with random JSON, random bytes and random path arguments: a JSON answer, never a 500.

    In process, on a private database: the admin API can reset and rewrite everything, so it does not
    touch the session's shared server. Fault injection is left out (its faults are meant to misbehave).
    """
    import re
    from urllib.parse import quote

    from werkzeug.test import Client

    from ipyy_mock.app import create_app

    app = create_app(str(tmp_path / "admin.db"))
    app.platform.seed_demo()
    client = Client(app)
    routes = [tuple(e.split(" ", 1)) for e in type(app.endpoints["admin"]).endpoints()]
    routes = [r for r in routes if r != ("POST", "/_mock/api/faults")]
    bodies = st.one_of(
        st.dictionaries(st.sampled_from(ADMIN_FIELDS), json_values, max_size=5).map(json.dumps),
        json_values.map(json.dumps),
        st.binary(max_size=100),
        st.just(""),
    )

    @FUZZ
    @given(
        route=st.sampled_from(routes),
        body=bodies,
        number=st.integers(-5, 2**63),
        name=st.text(max_size=12),
        query=st.dictionaries(
            st.sampled_from(["limit", "account", "mobile", "task_id", "since", "status", "surface", "method", "path"]),
            st.text(max_size=8),
            max_size=3,
        ),
    )
    def run(route, body, number, name, query):
        method, path = route
        path = re.sub(r"<int:\w+>", str(number), path)
        path = re.sub(r"<\w+>", quote(name, safe="") or "x", path)
        reply = client.open(
            path,
            method=method,
            data=body,
            query_string=query,
            headers={"Content-Type": "application/json"},
            environ_overrides={"REMOTE_ADDR": "127.0.0.1"},
        )
        assert reply.status_code < 500, (method, path, body, reply.get_data()[:300])
        assert reply.headers["Content-Type"].startswith("application/json")
        data = json.loads(reply.get_data())
        if reply.status_code >= 400:
            assert isinstance(data, dict) and "error" in data
            # the admin API turns its own bugs into 400 "internal error: ..." rather than 500: none expected
            assert not str(data["error"]).startswith("internal error"), (method, path, body, data)

    run()
