"""Real clients work unchanged: the request shapes production integrations send, and conformance warnings.

Every case goes over the wire to the real server. A deviation the vendor accepts
is answered as the vendor answers it and recorded as a warning (journal, admin
API, pytest fixture); strict mode refuses it in the surface's own format and
stores nothing; a request that follows the document has no warning.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
from lxml import etree

from ipyy_client.encoding import encode_content, md5_password
from ipyy_mock.testing.plugin import IpyyMock
from support import soapraw

TNS = soapraw.TNS


# ------------------------------------------------------------------ helpers


def fixture_for(mock_server, account) -> IpyyMock:
    return IpyyMock(mock_server.base_url, account=account.name, password=account.password)


def http_form(account, text="测试【华信】", mobile="8613800138000", **extra) -> dict[str, str]:
    form = dict(
        action="send",
        userid="",
        account=account.name,
        password=md5_password(account.password),
        mobile=mobile,
        code="8",
        content=encode_content(text),
        sendTime="",
        extno="",
    )
    form.update(extra)
    return form


def xml_fields(reply: requests.Response) -> dict[str, str]:
    assert reply.status_code == 200, reply.text
    return {child.tag: child.text or "" for child in etree.fromstring(reply.content)}


def i18n(mock_server, **kwargs) -> requests.Response:
    return requests.post(mock_server.base_url + "/I18NSms.aspx", timeout=30, **kwargs)


def soap_send(
    mock_server,
    account,
    msisdns="8613800138000",
    content="测试【华信】",
    version=11,
    op="SendI18NSms",
    plan=None,
    edit=None,
) -> requests.Response:
    body = soapraw.envelope(op, account.name, account.password, msisdns, content, plan=plan, version=version)
    if edit is not None:
        body = edit(body)
    return soapraw.post(mock_server.base_url, body, op, version)


def tasks_of(mock_server, account) -> int:
    store = mock_server.platform().store
    try:
        return store.db.execute("SELECT COUNT(*) FROM tasks WHERE account=?", (account.name,)).fetchone()[0]
    finally:
        store.close()


def journal_codes(mock, account) -> list[str]:
    """The warnings the journal shows on the account's vendor requests (admin calls carry none)."""
    entries = mock.requests(account=account.name, limit=20)
    return [w["code"] for e in entries if e["surface"] != "admin" for w in e["warnings"]]


def reorder(body: bytes) -> bytes:
    name_el = body[body.index(b"<userName>") : body.index(b"</userName>") + len(b"</userName>")]
    return body.replace(name_el, b"").replace(b"</password>", b"</password>" + name_el)


def unknown(body: bytes) -> bytes:
    return body.replace(b"<userName>", b"<userId>1</userId><userName>", 1)


def repeated(body: bytes) -> bytes:
    start = body.index(b"<userName>")
    end = body.index(b"</userName>") + len(b"</userName>")
    return body[:start] + body[start:end] + body[start:end] + body[end:]  # the same element twice


# ------------------------------------------------------- request shapes from production clients


def test_form_post_with_plain_password_and_prepended_signature(mock_server, account):
    mock = fixture_for(mock_server, account)
    reply = xml_fields(
        i18n(mock_server, data=http_form(account, text="【华信】您的验证码是 1234", password=account.password))
    )
    assert reply["returnstatus"] == "Success" and reply["successCounts"] == "1"
    assert sorted(w["code"] for w in mock.warnings(account=account.name)) == ["plain-password", "signature-at-start"]


def test_post_with_every_parameter_in_the_query_string_and_no_body(mock_server, account):
    mock = fixture_for(mock_server, account)
    reply = xml_fields(requests.post(mock_server.base_url + "/I18NSms.aspx", params=http_form(account), timeout=30))
    assert reply["returnstatus"] == "Success"
    mock.assert_no_warnings(account=account.name)


def test_body_with_empty_pairs_and_an_uppercase_md5(mock_server, account):
    form = http_form(account)
    body = "&&" + "&&".join(f"{k}={requests.utils.quote(v)}" for k, v in form.items()) + "&&"
    reply = xml_fields(
        i18n(mock_server, data=body.encode(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    )
    assert reply["returnstatus"] == "Success"
    assert form["password"] == form["password"].upper()


def test_multipart_form_with_lower_case_sendtime(mock_server, account):
    mock = fixture_for(mock_server, account)
    form = http_form(account)
    form.pop("sendTime")
    form["sendtime"] = "2030-01-01 09:00:00"
    reply = xml_fields(i18n(mock_server, files={k: (None, v) for k, v in form.items()}))
    assert reply["returnstatus"] == "Success"
    (message,) = mock.messages(task_id=int(reply["taskID"]))
    assert message["send_at"].startswith("2030-01-01T09:00:00")
    mock.assert_no_warnings(account=account.name)


@pytest.mark.parametrize("version", (11, 12))
def test_soap_children_in_another_order_and_an_unknown_element(mock_server, account, version):
    mock = fixture_for(mock_server, account)

    def edit(body: bytes) -> bytes:
        body = reorder(body).replace(b"<sms>", b"<sms><Priority>high</Priority>")
        return body.replace(b"<Msisdns>8613800138000</Msisdns>", b"").replace(
            b"</sms>", b"<Msisdns>8613800138000</Msisdns></sms>"
        )

    reply = soap_send(mock_server, account, version=version, edit=edit)
    result = soapraw.parse_result(reply)
    assert reply.status_code == 200 and result.status == "OK" and result.billing_amount == Decimal("0.05")
    codes = sorted(w["code"] for w in mock.warnings(account=account.name))
    assert codes == ["soap-element-order", "soap-element-order", "soap-unknown-element"]


def test_a_request_that_follows_the_document_has_no_warning(mock_server, account):
    mock = fixture_for(mock_server, account)
    assert soapraw.parse_result(soap_send(mock_server, account)).status == "OK"
    assert (
        soapraw.parse_result(
            soap_send(mock_server, account, version=12, op="SendHybridSms", msisdns="13800138000"), "SendHybridSms"
        ).status
        == "OK"
    )
    assert xml_fields(i18n(mock_server, data=http_form(account)))["returnstatus"] == "Success"
    reports = requests.post(
        mock_server.base_url + "/statusApi.aspx",
        timeout=30,
        data={"action": "query", "userid": "", "account": account.name, "password": md5_password(account.password)},
    )
    assert reports.status_code == 200
    mock.assert_no_warnings(account=account.name)
    assert all(not e["warnings"] for e in mock.requests(account=account.name))


# ------------------------------------------------------------------ each warning code


def _soap_case(edit=None, **kwargs):
    def run(mock_server, account):
        return soap_send(mock_server, account, edit=edit, **kwargs)

    return run


def _http_case(**overrides):
    def run(mock_server, account):
        form = http_form(account, **overrides)
        return i18n(mock_server, data=form)

    return run


def _repeated_param(mock_server, account):
    form = list(http_form(account).items()) + [("mobile", "8613900139000")]
    return i18n(mock_server, data=form)


def _soap_typed(content_type, edit=None, content="Hello [Acme]"):
    """A SOAP 1.1 send with its own Content-Type (an ASCII text with an ASCII signature, so that US-ASCII reading
    loses nothing unless ``edit`` puts other bytes in)."""

    def run(mock_server, account):
        body = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", content)
        if edit is not None:
            body = edit(body)
        headers = {"Content-Type": content_type, "SOAPAction": f'"{TNS}SendI18NSms"'}
        return requests.post(mock_server.base_url + "/WebService.asmx", data=body, headers=headers, timeout=30)

    return run


def _plain_password_send(mock_server, account):
    return i18n(mock_server, data=http_form(account, password=account.password))


def _plain_password_query(mock_server, account):
    return requests.post(
        mock_server.base_url + "/statusJsonApi.aspx",
        timeout=30,
        data={"action": "query", "account": account.name, "password": account.password},
    )


# code -> (request, how strict mode answers: "fault", or the ResultCode name / HTTP marker)
CASES = {
    "soap-element-order": (_soap_case(reorder), "fault"),
    "soap-unknown-element": (_soap_case(unknown), "fault"),
    "soap-repeated-element": (_soap_case(repeated), "fault"),
    "soap-charset": (_soap_typed("text/xml"), "fault"),
    "soap-bad-bytes": (_soap_typed("text/xml; charset=utf-8", lambda b: b.replace(b"Hello", b"Hel\xfflo")), "fault"),
    "signature-at-start": (_soap_case(content="【华信】验证码 1234"), "RequiredSuffix"),
    "number-country": (_soap_case(msisdns="13800138000"), "MsisdnError"),
    "send-time-past": (_soap_case(plan="2001-01-01T00:00:00"), "ParamError"),
    "duplicate-recipient": (_soap_case(msisdns="8613800138000,8613800138000"), "MsisdnError"),
    "plain-password": (_plain_password_send, "用户名或密码错误"),
    "code-not-8": (_http_case(code="0"), "参数错误"),
    "param-repeated": (_repeated_param, "参数错误"),
}


def _run(code, mock_server, account):
    return CASES[code][0](mock_server, account)


@pytest.mark.parametrize("code", CASES)
def test_each_warning_is_accepted_and_shown_in_journal_admin_api_and_fixture(mock_server, account, code):
    mock = fixture_for(mock_server, account)
    reply = _run(code, mock_server, account)
    assert reply.status_code == 200, reply.text
    if reply.headers["Content-Type"].startswith("text/xml") and b"returnsms" in reply.content:
        assert xml_fields(reply)["returnstatus"] == "Success"
    else:
        assert soapraw.parse_result(reply).status == "OK"
    assert tasks_of(mock_server, account) == 1
    listed = mock.warnings(account=account.name)
    assert code in [w["code"] for w in listed]
    item = next(w for w in listed if w["code"] == code)
    assert item["rule"] and item["fix"] and item["detail"] and item["task_id"]
    assert code in journal_codes(mock, account)
    admin = requests.get(
        mock_server.base_url + "/_mock/api/warnings", params={"code": code, "account": account.name}, timeout=30
    )
    assert [w["code"] for w in admin.json()["warnings"]] == [code]
    (message, *_) = mock.messages(account=account.name)
    assert code in [w["code"] for w in message["warnings"]]
    with pytest.raises(AssertionError, match=code):
        mock.assert_no_warnings(account=account.name)


@pytest.mark.parametrize("code", CASES)
def test_strict_account_refuses_each_warning_and_stores_nothing(mock_server, code):
    account = mock_server.new_account(strict=True)
    reply = _run(code, mock_server, account)
    answer = CASES[code][1]
    if answer == "fault":
        assert reply.status_code == 500
        fault_code, reason = soapraw.fault(reply)
        assert "Client" in fault_code and "strict mode" in reason and code in reason
    elif reply.headers["Content-Type"].startswith("text/xml") and b"returnsms" in reply.content:
        fields = xml_fields(reply)
        assert fields["returnstatus"] == "Faild"
        assert fields["message"].startswith(answer) and code in fields["message"]
    else:
        result = soapraw.parse_result(reply)
        assert result.status == answer and result.msg_id == 0
        assert any(code in e for e in result.errors)
    assert tasks_of(mock_server, account) == 0
    assert mock_server.balance(account.name) == Decimal("100.00")
    mock = fixture_for(mock_server, account)
    assert code in [w["code"] for w in mock.warnings(account=account.name)]


#: Codes whose requests the vendor does not answer with a plain OK: each has a test of its own below.
OWN_TESTS = {"soap-namespace", "soap-action-mismatch", "soap-must-understand", "frequency-limit", "daily-limit"}


def _fault_warned(mock, account, reply, code: str, fault_code: str, reason: str) -> None:
    assert reply.status_code == 500, reply.text
    assert soapraw.fault(reply) == (fault_code, reason)
    assert code in journal_codes(mock, account)


def test_the_old_namespace_is_answered_as_the_vendor_answers_it_with_a_warning(mock_server, account):
    """The requests of this project's clients before 0.2 (http://tempuri.org/): the vendor faults on the old
    SOAPAction, binds no parameter under the right one, and cannot route the old element without an action."""
    mock = fixture_for(mock_server, account)
    old = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "测试【华信】")
    old = old.replace(TNS.encode(), b"http://tempuri.org/")
    url = mock_server.base_url + "/WebService.asmx"
    reply = requests.post(
        url,
        data=old,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"http://tempuri.org/SendI18NSms"'},
        timeout=30,
    )
    message = "Server did not recognize the value of HTTP Header SOAPAction: http://tempuri.org/SendI18NSms."
    _fault_warned(mock, account, reply, "soap-namespace", "soap:Client", message)
    reply = requests.post(
        url, data=old, headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{TNS}SendI18NSms"'}
    )
    assert reply.status_code == 200 and soapraw.parse_result(reply).status == "UserNameEmpty"
    old12 = old.replace(soapraw.SOAP11.encode(), soapraw.SOAP12.encode())
    reply = requests.post(url, data=old12, headers={"Content-Type": "application/soap+xml; charset=utf-8"})
    reason = "Unable to handle request without a valid action parameter. Please supply a valid soap action."
    _fault_warned(mock, account, reply, "soap-namespace", "soap:Sender", reason)
    assert tasks_of(mock_server, account) == 0
    warned = requests.get(mock_server.base_url + "/_mock/api/warnings", params={"code": "soap-namespace"}).json()
    assert all("http://www.yysms.com/" in w["detail"] and w["fix"] for w in warned["warnings"][:3])
    assert len(warned["warnings"]) >= 3


def test_an_action_of_another_operation_runs_it_with_nothing_bound(mock_server, account):
    """ASMX routes SOAP 1.1 on the SOAPAction alone: SendSms runs, and the SendI18NSms element binds nothing."""
    mock = fixture_for(mock_server, account)
    body = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "测试【华信】")
    reply = soapraw.post(mock_server.base_url, body, "SendSms")
    assert reply.status_code == 200
    result = soapraw.parse_result(reply, "SendSms")
    assert (result.status, result.msg_id, result.xsi_type) == ("UserNameEmpty", 0, None)
    assert "soap-action-mismatch" in journal_codes(mock, account)
    assert tasks_of(mock_server, account) == 0


def _must_understand(body: bytes) -> bytes:
    header = b'<soap:Header><h:Trace xmlns:h="urn:trace" soap:mustUnderstand="1">7</h:Trace></soap:Header>'
    return body.replace(b"<soap:Body>", header + b"<soap:Body>")


def test_a_must_understand_header_is_refused_before_anything_runs(mock_server, account):
    """ASMX fills a method's header members before it runs the method: a header it does not know, marked
    mustUnderstand, is a MustUnderstand Fault without a detail element, and nothing is sent or charged."""
    mock = fixture_for(mock_server, account)
    reply = soap_send(mock_server, account, edit=_must_understand)
    assert reply.status_code == 500
    assert soapraw.fault(reply) == ("soap:MustUnderstand", "SOAP header Trace was not understood.")
    assert b"detail" not in reply.content.lower()
    assert tasks_of(mock_server, account) == 0 and mock_server.balance(account.name) == Decimal("100.00")
    assert "soap-must-understand" in journal_codes(mock, account)


def test_plain_password_on_a_query_is_a_warning_and_strict_refuses_it(mock_server, account):
    mock = fixture_for(mock_server, account)
    reply = _plain_password_query(mock_server, account)
    assert reply.json()["error"] == "1"
    assert [w["code"] for w in mock.warnings(account=account.name)] == ["plain-password"]
    strict = mock_server.new_account(strict=True)
    refused = _plain_password_query(mock_server, strict).json()
    assert refused["error"] == "1001" and "plain-password" in refused["remark"] and refused["statusbox"] == []


def test_warning_filters_and_codes_table(mock_server, account):
    base = mock_server.base_url + "/_mock/api/warnings"
    _run("code-not-8", mock_server, account)
    _run("signature-at-start", mock_server, account)
    both = requests.get(base, params={"account": account.name}, timeout=30).json()["warnings"]
    assert [w["code"] for w in both] == ["signature-at-start", "code-not-8"]  # newest first
    later = requests.get(base, params={"account": account.name, "since": both[0]["at"]}, timeout=30).json()
    assert [w["code"] for w in later["warnings"]] == ["signature-at-start"]
    bad = requests.get(base, params={"code": "no-such-code"}, timeout=30)
    assert bad.status_code == 400 and "codes:" in bad.json()["hint"]
    codes = requests.get(base + "/codes", timeout=30).json()["codes"]
    assert {c["code"] for c in codes} == set(CASES) | OWN_TESTS
    assert next(c for c in codes if c["code"] == "soap-unknown-element")["strict_refusal"] == "SOAP Fault"


def test_server_wide_strict_mode(tmp_path):
    from support.mockproc import MockProcess

    server = MockProcess(tmp_path / "strict.db", workers=1, args=("--strict",)).start()
    try:
        account = server.new_account()
        refused = soap_send(server, account, content="【华信】开头签名")
        assert soapraw.parse_result(refused).status == "RequiredSuffix"
        assert soapraw.parse_result(soap_send(server, account)).status == "OK"
    finally:
        server.stop()


# ------------------------------------------------------------------ numbers as sent


def test_hybrid_domestic_number_is_charged_as_86_and_reported_as_sent(mock_server, account):
    mock = fixture_for(mock_server, account)
    result = soapraw.parse_result(
        soap_send(mock_server, account, msisdns="13800138000", op="SendHybridSms"), "SendHybridSms"
    )
    assert result.status == "OK" and result.billing_amount == Decimal("0.05")
    (message,) = mock.messages(task_id=result.task_id)
    assert (message["mobile"], message["country"]) == ("13800138000", "86")
    mock.advance(60)
    form = {"action": "query", "account": account.name, "password": md5_password(account.password)}
    xml = etree.fromstring(requests.post(mock_server.base_url + "/statusApi.aspx", data=form, timeout=30).content)
    assert [m.text for m in xml.iter("mobile")] == ["13800138000"]
    soapraw.send(
        mock_server.base_url, account.name, account.password, "13800000005", "回复【华信】", op="SendHybridSms"
    )  # the test number that replies TD, as sent
    mock.advance(60)
    uplinks = requests.post(mock_server.base_url + "/callJsonApi.aspx", data=form, timeout=30).json()["callbox"]
    assert [u["mobile"] for u in uplinks] == ["13800000005"] and uplinks[0]["taskid"]
    injected = mock.inject_uplink("13800138000", "好的")
    assert injected["task_id"] == result.task_id


def test_i18n_domestic_looking_number_suggests_the_country_code(mock_server, account):
    mock = fixture_for(mock_server, account)
    result = soapraw.parse_result(soap_send(mock_server, account, msisdns="13800138000"))
    assert result.status == "OK" and result.billing_amount == Decimal("0.30")  # +1 380 ...: not country 86
    (warning,) = mock.warnings(account=account.name)
    assert warning["code"] == "number-country" and "8613800138000" in warning["detail"]


# ------------------------------------------------------------------ numeric overflow


@pytest.mark.parametrize(
    "param,value", [("taskid", "9" * 25), ("statusNum", "9" * 25), ("taskid", "9" * 5000), ("statusNum", "１２")]
)
def test_numbers_too_large_are_parameter_errors_and_consume_nothing(mock_server, account, param, value):
    assert soapraw.parse_result(soap_send(mock_server, account)).status == "OK"
    fixture_for(mock_server, account).advance(60)
    form = {"action": "query", "account": account.name, "password": md5_password(account.password), param: value}
    xml = etree.fromstring(requests.post(mock_server.base_url + "/statusApi.aspx", data=form, timeout=30).content)
    assert xml.findtext("errorstatus/error") == "4"
    js = requests.post(mock_server.base_url + "/statusJsonApi.aspx", data=form, timeout=30).json()
    assert (js["error"], js["statusbox"]) == ("1001", [])
    calls = requests.post(mock_server.base_url + "/callJsonApi.aspx", data=form, timeout=30).json()
    assert calls["error"] == "1001"
    form.pop(param)
    left = requests.post(mock_server.base_url + "/statusJsonApi.aspx", data=form, timeout=30).json()
    assert len(left["statusbox"]) == 1  # nothing was consumed by the refused pulls


@pytest.mark.parametrize(
    "path",
    [
        "/_mock/api/tasks?task_id=" + "9" * 30,
        "/_mock/api/messages?since_id=" + "9" * 4000,
        "/_mock/api/journal?limit=" + "9" * 4000,
        "/_mock/api/pushes?limit=" + "9" * 40,
        "/_mock/api/messages?limit=²",
    ],
)
def test_admin_numbers_too_large_are_400_not_internal_errors(mock_server, path):
    reply = requests.get(mock_server.base_url + path, timeout=30)
    assert reply.status_code == 400 and "internal" not in json.dumps(reply.json())


def test_the_docs_list_every_warning_code_as_the_code_table_says():
    from pathlib import Path

    from ipyy_mock.core.conformance import codes_table

    doc = (Path(__file__).resolve().parent.parent / "docs" / "conformance.md").read_text(encoding="utf-8")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for c in codes_table():
        assert f"| `{c['code']}` | {c['rule']} | {c['fix']} | {c['strict_refusal']} |" in doc, c["code"]
        assert f"| `{c['code']}` | {c['strict_refusal']} |" in readme, c["code"]
