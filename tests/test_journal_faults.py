"""The request journal and fault injection, over the wire against the real mock (gunicorn, 2 workers).

The client half matters as much as the mock half: under every injected fault
SoapClient and HttpClient raise a clear exception (TransportError,
ProtocolError, SoapFault, or a refused result whose raise_for_status raises),
never a silent success.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
import time
from decimal import Decimal

import pytest
import requests
from werkzeug.test import Client
from werkzeug.wrappers import Response

from ipyy_client import HttpClient, SoapClient, errors
from ipyy_client._masking import mask_pairs, mask_text
from ipyy_client.encoding import encode_content
from ipyy_mock import journal
from ipyy_mock.journal import JournalMiddleware, JournalStore
from support import soapraw
from support.mockproc import MockProcess

TEXT = "测试【华信】"
MOBILE = "8613800138000"
CLIENTS = ("soap11", "soap12", "http")


# -- helpers ----------------------------------------------------------------------------


def api(mock_server, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{mock_server.base_url}/_mock/api/{path}", timeout=10, **kwargs)


def add_fault(mock_server, **fault) -> dict:
    reply = api(mock_server, "POST", "faults", json=fault)
    assert reply.status_code == 201, reply.text
    return reply.json()["fault"]


def fault_state(mock_server, fault_id: int) -> dict:
    return next(f for f in api(mock_server, "GET", "faults").json()["faults"] if f["id"] == fault_id)


def entries(mock_server, **params) -> list[dict]:
    reply = api(mock_server, "GET", "journal", params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()["entries"]


def make_client(kind: str, mock_server, account, timeout: float = 10, flavour=None):
    """A client of ``kind``; of the given flavour (tests/flavours.py: sync or the async twin), else sync."""
    make_http = flavour.http if flavour is not None else HttpClient
    make_soap = flavour.soap if flavour is not None else SoapClient
    if kind == "http":
        return make_http(account.name, account.password, base_url=mock_server.base_url, timeout=timeout)
    return make_soap(
        account.name,
        account.password,
        mock_server.base_url,
        soap_version=12 if kind == "soap12" else 11,
        timeout=timeout,
    )


def send(client, text: str = TEXT):
    if hasattr(client, "send_i18n_sms"):
        return client.send_i18n_sms([MOBILE], text)
    return client.send([MOBILE], text)


def endpoint_for(kind: str) -> str:
    return "send" if kind == "http" else "soap"


@pytest.fixture(autouse=True)
def no_faults(mock_server):
    api(mock_server, "DELETE", "faults")
    yield
    api(mock_server, "DELETE", "faults")


# -- the journal ----------------------------------------------------------------------------


def test_journal_shows_soap_and_http_sends(mock_server, account):
    before = entries(mock_server, limit=1)
    since = before[0]["id"] if before else 0
    with SoapClient(account.name, account.password, mock_server.base_url) as soap:
        soap.send_i18n_sms([MOBILE], TEXT).raise_for_status()
    with SoapClient(account.name, account.password, mock_server.base_url, soap_version=12) as soap:
        soap.send_i18n_sms([MOBILE], TEXT).raise_for_status()
    with HttpClient(account.name, account.password, base_url=mock_server.base_url) as http:
        http.send([MOBILE], TEXT).raise_for_status()

    rows = entries(mock_server, account=account.name)
    assert [r["surface"] for r in rows] == ["http", "soap12", "soap11"]  # newest first
    for row in rows:
        assert row["id"] > since
        assert row["account"] == account.name
        assert row["method"] == "POST" and row["status"] == 200
        assert row["duration_ms"] > 0 and row["time"] > time.time() - 60 and row["at"]
        assert row["client_ip"] == "127.0.0.1"
        assert row["request_bytes"] > 0 and row["response_bytes"] > 0
    http_row, soap12_row, soap11_row = rows
    assert http_row["path"] == "/I18NSms.aspx"
    assert "<returnstatus>Success</returnstatus>" in http_row["response_body"]
    assert http_row["response_content_type"].startswith("text/xml")
    assert f"mobile={MOBILE}" in http_row["request_body"]
    assert soap11_row["path"] == "/WebService.asmx" and soap11_row["request_content_type"].startswith("text/xml")
    assert soap12_row["request_content_type"].startswith("application/soap+xml")
    assert "StatusCode>OK</" in soap11_row["response_body"]
    assert "SOAPAction: " in soap11_row["request_headers"]

    assert [r["surface"] for r in entries(mock_server, account=account.name, surface="soap11")] == ["soap11"]
    assert len(entries(mock_server, account=account.name, path="/i18nsms.ASPX")) == 1
    assert len(entries(mock_server, account=account.name, limit=2)) == 2
    assert [r["id"] for r in entries(mock_server, account=account.name, since=soap12_row["id"])] == [http_row["id"]]


def test_the_journal_account_is_the_one_the_surface_read_else_the_surfaces_look_at_the_text(mock_server, account):
    """The account column comes from the request object (what the surface bound), not a second parse; a request
    no surface read (an injected fault answered first) still shows whose it was."""
    name = account.name

    def soap_body(user_element: str) -> bytes:
        body = soapraw.envelope("SendI18NSms", name, account.password, MOBILE, TEXT).decode("utf-8")
        return body.replace(f"<userName>{name}</userName>", user_element).encode("utf-8")

    def post_soap(body: bytes) -> requests.Response:
        return soapraw.post(mock_server.base_url, body, "SendI18NSms")

    # an unqualified userName is no userName to ASMX (nothing is sent), yet the row is found under the account
    post_soap(soap_body(f'<userName xmlns="">{name}</userName>'))
    [unbound] = entries(mock_server, account=name, limit=1)
    assert 'xmlns="">' in unbound["request_body"] and "<StatusCode>OK<" not in unbound["response_body"]
    # what the reader bound wins over the text: a userName in a header ASMX ignores is not the account
    headed = soap_body(f"<userName>{name}</userName>").replace(
        b"<soap:Body>", b"<soap:Header><userName>zz</userName></soap:Header><soap:Body>"
    )
    assert "<StatusCode>OK<" in post_soap(headed).text
    assert entries(mock_server, limit=1)[0]["account"] == name
    # a fault answers before the surface reads anything: the SOAP surface's look at the text names the account
    add_fault(mock_server, endpoint="soap", kind="http_500", count=1)
    assert post_soap(soap_body(f"<userName>{name}</userName>")).status_code == 500
    [faulted] = entries(mock_server, account=name, limit=1)
    assert faulted["fault"] and faulted["status"] == 500 and faulted["surface"] == "soap11"
    # the HTTP pages: the account the page read; admin: the query's or the JSON body's
    with HttpClient(name, account.password, base_url=mock_server.base_url) as http:
        http.send([MOBILE], TEXT).raise_for_status()
    assert entries(mock_server, limit=1)[0]["account"] == name
    api(mock_server, "GET", "messages", params={"account": name})
    assert entries(mock_server, limit=1)[0]["account"] == name
    api(mock_server, "POST", "uplinks", json={"account": name, "mobile": MOBILE, "content": "好"})
    assert entries(mock_server, limit=1)[0]["account"] == name


def test_journal_does_not_record_itself_and_can_be_cleared(mock_server, account):
    for _ in range(3):
        entries(mock_server)
    assert not [r for r in entries(mock_server, limit=50) if r["path"].startswith("/_mock/api/journal")]
    requests.get(mock_server.base_url + "/WebService.asmx?WSDL", timeout=10)
    wsdl = entries(mock_server, limit=1)[0]
    assert (wsdl["method"], wsdl["path"], wsdl["query"], wsdl["status"], wsdl["surface"]) == (
        "GET",
        "/WebService.asmx",
        "WSDL",
        200,
        "other",
    )
    clock = api(mock_server, "GET", "clock")
    assert clock.status_code == 200
    assert entries(mock_server, limit=1)[0]["surface"] == "admin"

    cleared = api(mock_server, "DELETE", "journal")
    assert cleared.status_code == 200 and cleared.json()["deleted"] >= 2
    assert entries(mock_server) == []


def test_journal_bad_query_is_400_with_hint(mock_server):
    for query in ("limit=0", "limit=abc", "surface=ftp", "since=-1", "status=42"):
        reply = api(mock_server, "GET", f"journal?{query}")
        assert reply.status_code == 400, query
        assert reply.json()["error"] and reply.json()["hint"]


def test_passwords_never_reach_the_journal(mock_server):
    password, new_password = "Zq9-plain-secret", "Nw7-other-secret"
    token, bearer = "tok-8c1e5f-admin", "bearer-51d0aa"
    account = mock_server.new_account(password=password)
    md5 = hashlib.md5(password.encode()).hexdigest()
    new_md5 = hashlib.md5(new_password.encode()).hexdigest()
    secrets = [password, md5, md5.upper(), new_password, new_md5, new_md5.upper(), token, bearer]
    base, name, content = mock_server.base_url, account.name, encode_content(TEXT)

    with HttpClient(name, password, base_url=base) as http:  # MD5 in a POST form
        http.send([MOBILE], TEXT).raise_for_status()
        http.balance()
        http.status_reports(fmt="json")
        http.uplinks()
    for pw in (password, md5.lower(), md5.upper()):  # plain and MD5 in the query string
        reply = requests.get(
            f"{base}/I18NSms.aspx?action=send&account={name}&password={pw}&mobile={MOBILE}&content={content}",
            timeout=10,
        )
        assert "<returnstatus>Success</returnstatus>" in reply.text
    reply = requests.get(f"{base}/statusApi.aspx?action=query&account={name}&pass%77ord={password}", timeout=10)
    assert reply.status_code == 200
    reply = requests.post(
        f"{base}/I18NSms.aspx",
        files={"action": (None, "overage"), "account": (None, name), "password": (None, password)},
        timeout=10,
    )  # multipart
    assert "<returnstatus>Success</returnstatus>" in reply.text
    for version in (11, 12):  # SOAP, plain and MD5
        for pw in (password, md5):
            assert soapraw.send(base, name, pw, MOBILE, TEXT, version=version).status == "OK"
    prefixed = soapraw.envelope("SendI18NSms", name, password, MOBILE, TEXT).replace(
        f"<password>{password}</password>".encode(),
        f'<t:password xmlns:t="http://tempuri.org/">{password}</t:password>'.encode(),
    )
    soapraw.post(base, prefixed)
    plain = soapraw.envelope("SendI18NSms", name, password, MOBILE, TEXT).decode("utf-8")
    plain12 = soapraw.envelope("SendI18NSms", name, password, MOBILE, TEXT, version=12).decode("utf-8")
    for data, ctype in (  # other encodings ASMX reads (the masker must read them as ASMX does)
        (b"\xff\xfe" + plain.encode("utf-16-le"), "text/xml; charset=utf-16"),
        (b"\xfe\xff" + plain12.encode("utf-16-be"), "application/soap+xml"),
        (plain.encode("utf-16-le"), "text/xml; charset=utf-16"),
    ):
        headers = {"Content-Type": ctype, "SOAPAction": f'"{soapraw.TNS}SendI18NSms"'}
        assert requests.post(f"{base}/WebService.asmx", data=data, headers=headers, timeout=10).status_code == 200
    hybrid = (  # HybridSend carries its credentials as Account and Password
        f'<soap:Envelope xmlns:soap="{soapraw.SOAP11}"><soap:Body><HybridSend xmlns="{soapraw.TNS}"><body>'
        f"<Account>{name}</Account><Password>{password}</Password><SMSContent>x</SMSContent></body></HybridSend>"
        "</soap:Body></soap:Envelope>"
    ).encode()
    assert soapraw.post(base, hybrid, "HybridSend").status_code == 200
    requests.post(
        f"{base}/WebService.asmx",
        data=b"<oops><password>" + password.encode(),  # broken XML
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=10,
    )
    with HttpClient(name, password, base_url=base) as http:  # pwd.aspx: password and newpassword
        http.change_password(new_password)
        http.balance()
    with SoapClient(name, new_password, base) as soap:
        soap.send_i18n_sms([MOBILE], TEXT).raise_for_status()
    api(mock_server, "GET", "clock", headers={"X-Admin-Token": token})
    api(mock_server, "GET", "clock", headers={"Authorization": f"Bearer {bearer}"})
    api(mock_server, "POST", "uplinks", json={"account": name, "password": password, "mobile": MOBILE})

    rows = entries(mock_server, account=name, limit=1000)
    assert len(rows) >= 15
    assert any("password=***" in r["query"] for r in rows)
    assert any("password=***" in r["request_body"] for r in rows)
    assert any("<password>***</password>" in r["request_body"] for r in rows)
    assert any("<Password>***</Password>" in r["request_body"] for r in rows)
    assert any("newpassword=***" in r["request_body"] for r in rows)
    admin_rows = entries(mock_server, surface="admin", limit=5)
    assert any("X-Admin-Token: ***" in r["request_headers"] for r in admin_rows)
    assert any("Authorization: Bearer ***" in r["request_headers"] for r in admin_rows)

    db = sqlite3.connect(journal.journal_path(str(mock_server.db_path)))  # the journal's own file
    try:
        table = db.execute("SELECT * FROM journal").fetchall()
    finally:
        db.close()
    assert table
    spread = ["\x00".join(secret) for secret in secrets]  # a UTF-16 body read as UTF-8 would keep them so
    for row in table:
        for value in row:
            text = str(value)
            for secret in secrets + spread:
                assert secret not in text, (secret, row)


# -- faults: each kind, next N requests, then normal again ------------------------------------

EXPECTED = {
    "reset": errors.TransportError,
    "empty": errors.ProtocolError,
    "malformed": errors.ProtocolError,
    "http_500": errors.ProtocolError,
    "http_503": errors.ProtocolError,
    "soap_fault": errors.SoapFault,
}
CASES = [(client, kind) for client in CLIENTS for kind in EXPECTED if not (client == "http" and kind == "soap_fault")]


@pytest.mark.parametrize("client_kind, fault_kind", CASES)
def test_fault_for_next_n_requests_then_normal(flavour, mock_server, account, client_kind, fault_kind):
    fault = add_fault(mock_server, endpoint=endpoint_for(client_kind), kind=fault_kind, count=2)
    assert fault["count"] == 2 and fault["active"]
    with make_client(client_kind, mock_server, account, flavour=flavour) as client:
        for _ in range(2):
            with pytest.raises(EXPECTED[fault_kind]) as caught:
                send(client)
            assert account.password not in str(caught.value)
        assert mock_server.balance(account.name) == Decimal("100.00")  # the app never saw them
        result = send(client)
        assert result.ok, result
    assert mock_server.balance(account.name) == Decimal("99.95")
    state = fault_state(mock_server, fault["id"])
    assert (state["count"], state["hits"], state["active"]) == (0, 2, False)

    rows = entries(mock_server, account=account.name)
    assert len(rows) == 3 and rows[0]["status"] == 200 and rows[0]["fault"] == ""
    for row in rows[1:]:
        assert f"{fault_kind} #{fault['id']}" in row["fault"]
        expected_status = {"reset": None, "http_500": 500, "http_503": 503, "soap_fault": 500}.get(fault_kind, 200)
        assert row["status"] == expected_status


@pytest.mark.parametrize("client_kind", CLIENTS)
def test_code_fault_refuses_the_send_and_charges_nothing(flavour, mock_server, account, client_kind):
    fault = add_fault(mock_server, endpoint=endpoint_for(client_kind), kind="code", value="InternalError", count=1)
    with make_client(client_kind, mock_server, account, flavour=flavour) as client:
        result = send(client)
        assert not result.ok
        with pytest.raises(errors.InternalError):
            result.raise_for_status()
        assert mock_server.balance(account.name) == Decimal("100.00")
        store = mock_server.platform().store
        try:
            assert store.messages(account=account.name) == []
        finally:
            store.close()
        send(client).raise_for_status()  # the fault is spent
    assert fault_state(mock_server, fault["id"])["hits"] == 1
    assert entries(mock_server, account=account.name)[1]["fault"] == f"code InternalError #{fault['id']}"


def test_code_fault_on_one_surface_leaves_the_other_alone(mock_server, account):
    add_fault(mock_server, endpoint="soap", kind="code", value="AmountNotEnough")
    with make_client("http", mock_server, account) as http:
        http.send([MOBILE], TEXT).raise_for_status()
    with make_client("soap11", mock_server, account) as soap:
        with pytest.raises(errors.AmountNotEnough):
            soap.send_i18n_sms([MOBILE], TEXT).raise_for_status()


@pytest.mark.parametrize("client_kind", CLIENTS)
def test_a_code_fault_counts_only_sends_that_authenticate(mock_server, account, client_kind):
    """The decision travels in the SendRequest and the core asks it after authentication: a send with a wrong
    password gets the vendor's credential refusal and leaves a counted `code` fault untouched for the next one."""
    fault = add_fault(mock_server, endpoint=endpoint_for(client_kind), kind="code", value="AmountNotEnough", count=1)
    wrong = dataclasses.replace(account, password="not-" + account.password)
    with make_client(client_kind, mock_server, wrong) as client:
        refused = send(client)
        assert not refused.ok, refused
        with pytest.raises(errors.IpyyError) as caught:
            refused.raise_for_status()
        assert not isinstance(caught.value, errors.AmountNotEnough), caught.value
    state = fault_state(mock_server, fault["id"])
    assert (state["count"], state["hits"], state["active"]) == (1, 0, True)
    with make_client(client_kind, mock_server, account) as client:
        with pytest.raises(errors.AmountNotEnough):
            send(client).raise_for_status()
        send(client).raise_for_status()  # spent by the send that reached it
    assert fault_state(mock_server, fault["id"])["hits"] == 1
    rows = entries(mock_server, account=account.name)
    assert [row["fault"] for row in rows] == ["", f"code AmountNotEnough #{fault['id']}", ""]


@pytest.mark.parametrize("client_kind", CLIENTS)
def test_latency_fault_longer_than_the_client_timeout(flavour, mock_server, account, client_kind):
    add_fault(mock_server, endpoint=endpoint_for(client_kind), kind="latency", value=1200, count=1)
    with make_client(client_kind, mock_server, account, timeout=0.4, flavour=flavour) as client:
        started = time.monotonic()
        with pytest.raises(errors.TransportError):
            send(client)
        assert time.monotonic() - started < 1.1
        started = time.monotonic()
        send(client).raise_for_status()  # spent: back to normal speed
        assert time.monotonic() - started < 1.0


def test_latency_fault_within_the_timeout_only_delays(mock_server, account):
    add_fault(mock_server, endpoint="send", kind="latency", value=300, count=1)
    with make_client("http", mock_server, account) as client:
        started = time.monotonic()
        send(client).raise_for_status()
        assert time.monotonic() - started >= 0.3
    assert entries(mock_server, account=account.name)[0]["duration_ms"] >= 300


def test_query_endpoints_get_faults_in_their_own_format(mock_server, account):
    add_fault(mock_server, endpoint="status", kind="malformed", count=2)
    add_fault(mock_server, endpoint="call", kind="empty", count=1)
    add_fault(mock_server, endpoint="pwd", kind="http_503", count=1)
    json_reply = requests.get(
        f"{mock_server.base_url}/statusJsonApi.aspx?action=query&account=x&password=y", timeout=10
    )
    assert json_reply.headers["Content-Type"].startswith("application/json") and json_reply.status_code == 200
    with make_client("http", mock_server, account) as client:
        with pytest.raises(errors.ProtocolError):
            client.status_reports()
        with pytest.raises(errors.ProtocolError):
            client.uplinks()
        with pytest.raises(errors.ProtocolError):
            client.change_password("whatever1")
        assert client.status_reports() == [] and client.uplinks() == []
        client.send([MOBILE], TEXT).raise_for_status()  # "status", "call" and "pwd" left the send alone


def test_probability_one_always_and_zero_never(mock_server, account):
    always = add_fault(mock_server, endpoint="send", kind="http_503", probability=1.0)
    never = add_fault(mock_server, endpoint="soap", kind="http_503", probability=0.0)
    with make_client("http", mock_server, account) as http, make_client("soap11", mock_server, account) as soap:
        for _ in range(5):
            with pytest.raises(errors.ProtocolError):
                http.send([MOBILE], TEXT)
        for _ in range(20):
            soap.send_i18n_sms([MOBILE], TEXT).raise_for_status()
        assert fault_state(mock_server, always["id"])["hits"] == 5
        assert fault_state(mock_server, always["id"])["count"] is None  # unlimited
        assert fault_state(mock_server, never["id"])["hits"] == 0
        assert api(mock_server, "DELETE", f"faults/{always['id']}").status_code == 200
        http.send([MOBILE], TEXT).raise_for_status()
    assert api(mock_server, "DELETE", f"faults/{always['id']}").status_code == 404


def test_probability_half_fires_for_about_half(mock_server):
    add_fault(mock_server, endpoint="/callApi.aspx", kind="http_500", probability=0.5)
    url = f"{mock_server.base_url}/CALLAPI.aspx?action=query&account=x&password=y"
    with requests.Session() as session:
        statuses = [session.get(url, timeout=10).status_code for _ in range(80)]
    assert set(statuses) == {200, 500}
    assert 15 <= statuses.count(500) <= 65  # binomial(80, 0.5): outside this band about once in 10^8 runs


def test_star_matches_every_vendor_path_but_never_the_admin_api(mock_server):
    add_fault(mock_server, endpoint="*", kind="http_503")
    assert requests.get(mock_server.base_url + "/WebService.asmx?WSDL", timeout=10).status_code == 503
    assert requests.get(mock_server.base_url + "/pwd.aspx", timeout=10).status_code == 503
    listed = api(mock_server, "GET", "faults")
    assert listed.status_code == 200 and len(listed.json()["faults"]) == 1
    assert api(mock_server, "DELETE", "faults").json()["deleted"] == 1
    assert requests.get(mock_server.base_url + "/WebService.asmx?WSDL", timeout=10).status_code == 200


def test_soap_fault_with_star_only_hits_soap_calls(mock_server, account):
    add_fault(mock_server, endpoint="*", kind="soap_fault", count=1)
    with make_client("http", mock_server, account) as http:
        http.send([MOBILE], TEXT).raise_for_status()
    reply = soapraw.post(
        mock_server.base_url,
        soapraw.envelope("SendI18NSms", account.name, account.password, MOBILE, TEXT, version=12),
        version=12,
    )
    assert reply.status_code == 500 and reply.headers["Content-Type"].startswith("application/soap+xml")
    code, reason = soapraw.fault(reply)
    assert "Receiver" in code and "injected" in reason


BAD_FAULTS = [
    ({"endpoint": "send", "kind": "explode"}, "kind"),
    ({"endpoint": "nowhere", "kind": "http_500"}, "endpoint"),
    ({"endpoint": "/_mock/api/faults", "kind": "http_500"}, "/_mock"),
    ({"endpoint": "send", "kind": "latency"}, "latency"),
    ({"endpoint": "send", "kind": "latency", "value": 600000}, "latency"),
    ({"endpoint": "send", "kind": "code", "value": "OK"}, "code"),
    ({"endpoint": "send", "kind": "code", "value": "NoSuchCode"}, "code"),
    ({"endpoint": "status", "kind": "code", "value": "InternalError"}, "code"),
    ({"endpoint": "pwd", "kind": "soap_fault"}, "soap_fault"),
    ({"endpoint": "send", "kind": "http_500", "value": 3}, "value"),
    ({"endpoint": "send", "kind": "http_500", "count": 0}, "count"),
    ({"endpoint": "send", "kind": "http_500", "count": "2"}, "count"),
    ({"endpoint": "send", "kind": "http_500", "probability": 1.5}, "probability"),
    ({"endpoint": "send", "kind": "http_500", "probability": "half"}, "probability"),
    ({"endpoint": "send", "kind": "http_500", "colour": "red"}, "unknown"),
    ([1, 2], "object"),
]


@pytest.mark.parametrize("body, word", BAD_FAULTS)
def test_bad_fault_definitions_are_400_with_a_hint(mock_server, body, word):
    reply = api(mock_server, "POST", "faults", json=body)
    assert reply.status_code == 400, reply.text
    data = reply.json()
    assert word in data["error"] and data["hint"]
    assert api(mock_server, "GET", "faults").json()["faults"] == []


def test_fault_api_shapes(mock_server):
    assert api(mock_server, "POST", "faults", data=b"{nope").status_code == 400
    listed = api(mock_server, "GET", "faults").json()
    assert set(listed["kinds"]) == {
        "latency",
        "http_500",
        "http_503",
        "reset",
        "empty",
        "malformed",
        "soap_fault",
        "code",
    }
    assert {"soap", "send", "status", "call", "pwd", "*"} <= set(listed["endpoints"])
    fault = add_fault(mock_server, endpoint="/PWD.aspx", kind="latency", value="25", probability=0.5)
    assert (fault["endpoint"], fault["value"], fault["probability"], fault["count"]) == ("/pwd.aspx", 25, 0.5, None)
    code = add_fault(mock_server, endpoint="send", kind="code", value=1111)
    assert code["value"] == "AmountNotEnough"
    assert api(mock_server, "DELETE", "faults/999999").status_code == 404
    assert api(mock_server, "DELETE", "faults").json()["deleted"] == 2


# -- switching the journal off; trimming; masking --------------------------------------------


def test_no_journal_flag(tmp_path):
    server = MockProcess(tmp_path / "nojournal.db", workers=1, args=("--no-journal",)).start()
    try:
        account = server.new_account()
        with HttpClient(account.name, account.password, base_url=server.base_url) as http:
            http.send([MOBILE], TEXT).raise_for_status()
        reply = requests.get(server.base_url + "/_mock/api/journal", timeout=10).json()
        assert reply["enabled"] is False and reply["entries"] == []
        # faults still work without the journal
        requests.post(
            server.base_url + "/_mock/api/faults", json={"endpoint": "send", "kind": "reset", "count": 1}, timeout=10
        ).raise_for_status()
        with HttpClient(account.name, account.password, base_url=server.base_url) as http:
            with pytest.raises(errors.TransportError):
                http.send([MOBILE], TEXT)
    finally:
        server.stop()


def test_journal_has_a_file_of_its_own_and_reset_clears_it(tmp_path):
    """The journal is not in the mock's database (its own write lock, no fsync); reset empties it there too."""
    db = tmp_path / "own.db"
    server = MockProcess(db, workers=2).start()
    try:
        with HttpClient("demo", "demo123", base_url=server.base_url) as http:
            for _ in range(6):  # both workers: whoever answers the journal read sees every row at once
                sent = http.send([MOBILE], TEXT)
                rows = requests.get(server.base_url + "/_mock/api/journal", params={"limit": 1}, timeout=10).json()
                assert (
                    rows["entries"][0]["path"] == "/I18NSms.aspx"
                    and str(sent.task_id) in rows["entries"][0]["response_body"]
                )
        main = sqlite3.connect(db)
        try:
            tables = {r[0] for r in main.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            main.close()
        assert "journal" not in tables
        assert (tmp_path / ("own.db" + journal.JOURNAL_SUFFIX)).exists()
        requests.post(server.base_url + "/_mock/api/reset", timeout=10).raise_for_status()
        left = requests.get(server.base_url + "/_mock/api/journal", timeout=10).json()["entries"]
        assert [(e["method"], e["path"]) for e in left] == [("POST", "/_mock/api/reset")]
    finally:
        server.stop()


def test_journal_table_is_capped(tmp_path):
    def app(environ, start_response):
        environ["wsgi.input"].read()
        return Response(f"hello {environ['PATH_INFO']}")(environ, start_response)

    store = JournalStore(str(tmp_path / "cap.db"), keep=50, trim_every=10)
    client = Client(JournalMiddleware(app, store))
    for i in range(205):
        client.post(f"/n{i}", data={"password": "x" * 10, "i": str(i)})
    ids = [r["id"] for r in store.entries(limit=1000)]
    assert 50 <= len(ids) <= 60
    assert store.entries(limit=1)[0]["path"] == "/n204"
    assert store.entries(limit=1)[0]["request_body"] == "password=***&i=204"


def test_bodies_are_cut_at_64_kib(tmp_path):
    def app(environ, start_response):
        body = environ["wsgi.input"].read()
        return Response(body * 2, content_type="text/plain")(environ, start_response)

    store = JournalStore(str(tmp_path / "big.db"))
    client = Client(JournalMiddleware(app, store))
    reply = client.post("/echo", data=b"a" * 100_000, content_type="text/plain")
    assert len(reply.data) == 200_000
    row = store.entries(limit=1)[0]
    assert row["request_bytes"] == 100_000 and row["response_bytes"] == 200_000
    assert row["request_body"].startswith("a" * journal.BODY_LIMIT)
    assert "truncated: 100000 bytes" in row["request_body"]
    assert "truncated: 200000 bytes" in row["response_body"]


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("a=1&password=secret&b=2", "a=1&password=***&b=2"),
        ("newpassword=n3w&PassWord=old", "newpassword=***&PassWord=***"),
        ("pass%77ord=secret", "pass%77ord=***"),
        (
            "<soap:Body><x:password>secret</x:password><userName>u</userName>",
            "<soap:Body><x:password>***</x:password><userName>u</userName>",
        ),
        (
            '<password xmlns="http://tempuri.org/">s&amp;ecret</password>',
            '<password xmlns="http://tempuri.org/">***</password>',
        ),
        ("<password/><x>1</x><password>cut-off-sec", "<password/><x>1</x><password>***"),
        (
            '{"account": "a", "password": "se\\"cret", "token": 12}',
            '{"account": "a", "password": "***", "token": "***"}',
        ),
        (
            '--b\r\nContent-Disposition: form-data; name="password"\r\n\r\nsecret\r\n--b--',
            '--b\r\nContent-Disposition: form-data; name="password"\r\n\r\n***\r\n--b--',
        ),
    ],
)
def test_masking(raw, masked):
    assert mask_text(raw) == masked
    assert "secret" not in mask_text(raw)


def test_query_masking_keeps_everything_else():
    assert (
        mask_pairs("action=send&account=demo&password=E99A&mobile=1")
        == "action=send&account=demo&password=***&mobile=1"
    )
    assert mask_pairs("WSDL") == "WSDL"


def test_a_damaged_journal_file_is_set_aside_at_start(tmp_path):
    """The journal skips fsync (synchronous=OFF): after an OS crash its file may be damaged. The server then
    starts a new journal (the damaged file is kept aside) instead of failing to boot; the sends are elsewhere."""
    db = tmp_path / "crashed.db"
    damaged = tmp_path / ("crashed.db" + journal.JOURNAL_SUFFIX)
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4080)
    server = MockProcess(db, workers=1).start()
    try:
        with HttpClient("demo", "demo123", base_url=server.base_url) as http:
            http.send([MOBILE], TEXT).raise_for_status()
        rows = requests.get(server.base_url + "/_mock/api/journal", params={"surface": "http"}, timeout=10).json()
        assert [r["path"] for r in rows["entries"]] == ["/I18NSms.aspx"]
    finally:
        server.stop()
    assert [p.name.split(".damaged-")[0] for p in tmp_path.glob("*.damaged-*")] == [damaged.name]
