"""The domestic interface (/sms.aspx, /smsJson.aspx) over the wire: exact bytes, points, every refusal class."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
import requests
from lxml import etree

from ipyy_client.encoding import encode_content, md5_password
from support.mockproc import MockProcess
from support.pushrecv import PushReceiver, wait_until

XML_HEAD = '<?xml version="1.0" encoding="utf-8" ?>\n'
TEXT = "测试【华信】"
MOBILE = "13800138000"
PATHS = {"xml": "/sms.aspx", "json": "/smsJson.aspx"}
SEND_KEYS = ["returnstatus", "message", "remainpoint", "taskID", "successCounts"]
OVERAGE_KEYS = ["returnstatus", "message", "payinfo", "overage", "sendTotal"]


def call(server, path, method="POST", **params) -> requests.Response:
    url = server.base_url + path
    if method == "GET":
        return requests.get(url, params=params, timeout=30)
    return requests.post(url, data=params, timeout=30)


def values(reply: requests.Response, fmt: str) -> dict[str, str]:
    """The reply's fields in wire order, after its content type, declaration and shape are checked."""
    assert reply.status_code == 200, reply.text
    if fmt == "json":
        assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
        body = json.loads(reply.content)
        assert all(isinstance(v, str) for v in body.values()), body  # every value a string
        return body
    assert reply.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert reply.text.startswith(XML_HEAD)
    return {child.tag: child.text or "" for child in etree.fromstring(reply.content)}


def form(acct, **params) -> dict[str, str]:
    return dict(userid="", account=acct.name, password=md5_password(acct.password), **params)


def send(server, acct, fmt="xml", text=TEXT, mobile=MOBILE, method="POST", **extra) -> dict[str, str]:
    params = form(acct, action="send", mobile=mobile, content=text, sendTime="", extno="")
    params.update(extra)
    return values(call(server, PATHS[fmt], method, **params), fmt)


def overage(server, acct, fmt="xml", **extra) -> dict[str, str]:
    params = form(acct, action="overage")
    params.update(extra)
    return values(call(server, PATHS[fmt], **params), fmt)


def tasks_of(server, acct) -> list:
    store = server.platform().store
    try:
        return store.messages(account=acct.name)
    finally:
        store.close()


# --- send: the exact replies -----------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_xml_send_reply_is_byte_exact(mock_server, account, method):
    params = form(account, action="send", mobile=MOBILE, content=TEXT, sendTime="", extno="")
    reply = call(mock_server, "/sms.aspx", method, **params)
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "text/xml; charset=utf-8"
    task = re.search(r"<taskID>(\d+)</taskID>", reply.text).group(1)
    assert reply.text == (
        f"{XML_HEAD}<returnsms><returnstatus>Success</returnstatus><message>操作成功</message>"
        f"<remainpoint>1999</remainpoint><taskID>{task}</taskID>"
        "<successCounts>1</successCounts></returnsms>"
    )
    assert int(task) >= 1_000_001
    assert mock_server.balance(account.name) == Decimal("99.95")  # one point = one segment to 86 at 0.05


def test_json_send_reply_is_byte_exact(mock_server, account):
    reply = call(mock_server, "/smsJson.aspx", **form(account, action="send", mobile=MOBILE, content=TEXT))
    task = reply.json()["taskID"]
    assert reply.text == (
        f'{{"returnstatus":"Success","message":"操作成功","remainpoint":"1999","taskID":"{task}","successCounts":"1"}}'
    )
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"


def test_json_refusal_is_the_recorded_reply(mock_server, account):
    reply = call(mock_server, "/smsJson.aspx", **form(account, action="send", mobile=MOBILE, content="测试"))
    assert reply.text == (
        '{"returnstatus":"Faild","message":"需要签名","remainpoint":"0","taskID":"","successCounts":"0"}'
    )


@pytest.mark.parametrize("path", ["/SMS.aspx", "/Sms.ASPX", "/smsjson.aspx", "/SMSJSON.ASPX"])
def test_paths_are_case_insensitive(mock_server, account, path):
    fmt = "json" if "json" in path.lower() else "xml"
    reply = values(call(mock_server, path, **form(account, action="send", mobile=MOBILE, content=TEXT)), fmt)
    assert reply["returnstatus"] == "Success"


def test_content_is_plain_text_stored_as_sent_with_via_domestic(mock_server, account):
    text = '验证码 <1234> & "ok" 😀【华信】'
    reply = send(mock_server, account, text=text, extno="01234")
    task = mock_server.platform().store.get_task(int(reply["taskID"]))
    assert (task["content"], task["via"], task["ext_number"]) == (text, "domestic", "01234")


def test_hex_content_is_just_text_here(mock_server, account):
    """The I18NSms.aspx encoding is not decoded: hex digits have no signature, so they are refused as such."""
    assert send(mock_server, account, text="6D4B8BD53010534E4FE13011")["message"] == "需要签名"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_numbers_follow_the_hybrid_rules(mock_server, account, fmt):
    reply = send(mock_server, account, fmt, mobile="13800138000, 8613900139000,13800138000,8613800138000")
    assert list(reply) == SEND_KEYS
    assert (reply["returnstatus"], reply["successCounts"], reply["remainpoint"]) == ("Success", "2", "1998")
    mobiles = sorted(m["mobile"] for m in tasks_of(mock_server, account))
    assert mobiles == ["13800138000", "8613900139000"]  # stored as sent; a duplicate (in either form) sent once


def test_long_text_costs_one_point_per_segment(mock_server, account):
    reply = send(mock_server, account, text="长" * 71 + "【华信】", mobile="13800138000,13900139000")
    assert (reply["successCounts"], reply["remainpoint"]) == ("2", "1996")  # 2 numbers x 2 segments
    assert mock_server.balance(account.name) == Decimal("99.80")


def test_a_blacklisted_number_is_left_out_and_the_rest_is_sent(mock_server, account):
    reply = send(mock_server, account, mobile="13800138000,13800000002")
    assert (reply["returnstatus"], reply["successCounts"], reply["remainpoint"]) == ("Success", "1", "1999")


def test_plain_and_lowercase_md5_passwords(mock_server, account):
    assert send(mock_server, account, password=account.password)["returnstatus"] == "Success"
    assert send(mock_server, account, password=md5_password(account.password).lower())["returnstatus"] == "Success"
    strict = mock_server.new_account(strict_auth=True)
    assert send(mock_server, strict, "json", password=strict.password)["message"] == "用户名或密码错误"
    assert send(mock_server, strict, "json")["returnstatus"] == "Success"


def test_scheduled_send_uses_platform_time(mock_server, account):
    reply = send(mock_server, account, sendTime="2099-01-01 09:00:00")
    task = mock_server.platform().store.get_task(int(reply["taskID"]))
    assert task["scheduled"] == 1 and task["send_at"] == 4070912400.0  # 2099-01-01T01:00:00Z


# --- send: every refusal, in both formats, nothing charged ----------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    "override,message",
    [
        (dict(account=""), "用户名或密码不能为空"),
        (dict(password=""), "用户名或密码不能为空"),
        (dict(account="nobody-at-all"), "用户名或密码错误"),
        (dict(password="wrong"), "用户名或密码错误"),
        (dict(password="wrong", content=""), "用户名或密码错误"),  # credentials first
        (dict(mobile=""), "手机号码为空"),
        (dict(mobile="1380013800"), "错误的手机号码"),
        (dict(mobile="13800138000,abc"), "错误的手机号码"),
        (dict(extno="123456"), "扩展错误"),
        (dict(extno="12a"), "扩展错误"),
        (dict(content=""), "内容为空"),
        (dict(content="测试"), "需要签名"),
        (dict(content="测试【】"), "签名错误"),
        (dict(content="测试【一二三四五六七八九】"), "签名错误"),
        (dict(content="这是敏感词【华信】"), "敏感词汇"),
        (dict(content="长" * 700 + "【华信】"), "内容太长"),
        (dict(mobile="13800000002"), "黑名单的手机号码"),
        (dict(mobile="13800000003"), "没有通道的手机号码"),
        (dict(sendTime="tomorrow"), "参数错误"),
        (dict(sendTime="2026-13-45 99:00:00"), "参数错误"),
    ],
)
def test_send_refusals(mock_server, account, fmt, override, message):
    reply = send(mock_server, account, fmt, **override)
    assert list(reply) == SEND_KEYS
    assert reply == {
        "returnstatus": "Faild",
        "message": message,
        "remainpoint": "0",
        "taskID": "",
        "successCounts": "0",
    }
    assert mock_server.balance(account.name) == Decimal("100.00")
    assert tasks_of(mock_server, account) == []


@pytest.mark.parametrize(
    "overrides,message",
    [
        (dict(balance=Decimal("0.04")), "额度不足"),
        (dict(stopped=True), "帐户已停用"),
        (dict(bind_ips=["10.9.9.9"]), "IP绑定错误"),
        (dict(prices={}), "没有配置产品"),
        (dict(prices={"44": Decimal("0.30")}), "没有通道的手机号码"),
    ],
)
@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_account_refusals(mock_server, fmt, overrides, message):
    acct = mock_server.new_account(**overrides)
    before = acct.balance
    assert send(mock_server, acct, fmt) == {
        "returnstatus": "Faild",
        "message": message,
        "remainpoint": "0",
        "taskID": "",
        "successCounts": "0",
    }
    assert mock_server.balance(acct.name) == before and tasks_of(mock_server, acct) == []


def test_the_last_point_can_be_spent_and_then_no_more(mock_server):
    acct = mock_server.new_account(balance=Decimal("0.05"))
    assert send(mock_server, acct)["remainpoint"] == "0"
    assert send(mock_server, acct)["message"] == "额度不足"


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize("action", ["", "query", "SENDX"])
def test_unknown_action_is_a_param_error(mock_server, account, fmt, action):
    reply = values(call(mock_server, PATHS[fmt], **form(account, action=action, mobile=MOBILE, content=TEXT)), fmt)
    assert reply == {
        "returnstatus": "Faild",
        "message": "参数错误",
        "remainpoint": "0",
        "taskID": "",
        "successCounts": "0",
    }
    assert tasks_of(mock_server, account) == []


def test_action_is_case_insensitive(mock_server, account):
    assert send(mock_server, account, action=" Send ")["returnstatus"] == "Success"
    assert overage(mock_server, account, action="OVERAGE")["returnstatus"] == "Sucess"


# --- overage -----------------------------------------------------------------------------


def test_xml_overage_is_byte_exact(mock_server, account):
    reply = call(mock_server, "/sms.aspx", **form(account, action="overage"))
    assert reply.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert reply.text == (
        f"{XML_HEAD}<returnsms><returnstatus>Sucess</returnstatus><message></message>"
        "<payinfo>预付费</payinfo><overage>2000</overage><sendTotal>2000</sendTotal></returnsms>"
    )


def test_json_overage_is_byte_exact(mock_server, account):
    reply = call(mock_server, "/smsJson.aspx", "GET", **form(account, action="overage"))
    assert reply.text == (
        '{"returnstatus":"Sucess","message":"","payinfo":"预付费","overage":"2000","sendTotal":"2000"}'
    )


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_points_fall_with_sends_and_send_total_stays(mock_server, account, fmt):
    send(mock_server, account, mobile="13800138000,13900139000")
    send(mock_server, account, text="长" * 71 + "【华信】")
    reply = overage(mock_server, account, fmt)
    assert list(reply) == OVERAGE_KEYS
    assert (reply["overage"], reply["sendTotal"]) == ("1996", "2000")
    top_up(mock_server, account, Decimal("100.00"))
    reply = overage(mock_server, account, fmt)
    assert (reply["overage"], reply["sendTotal"]) == ("3996", "4000")


def top_up(server, acct, amount: Decimal) -> None:
    """A recharge as the mock does one: the admin API sets the new balance."""
    balance = server.balance(acct.name) + amount
    reply = requests.patch(
        f"{server.base_url}/_mock/api/accounts/{acct.name}", json={"balance": str(balance)}, timeout=10
    )
    assert reply.status_code == 200, reply.text


def test_an_international_send_costs_points_at_the_86_price(mock_server, account):
    """Money is one balance: 0.30 to another country is 6 points gone; sendTotal (money put in) stays."""
    params = dict(
        action="send",
        account=account.name,
        password=account.password,
        mobile="447700900123",
        code="8",
        content=encode_content(TEXT),
    )
    assert values(call(mock_server, "/I18NSms.aspx", **params), "xml")["returnstatus"] == "Success"
    reply = overage(mock_server, account)
    assert (reply["overage"], reply["sendTotal"]) == ("1994", "2000")


def test_points_round_down_at_the_accounts_price(mock_server):
    acct = mock_server.new_account(balance=Decimal("10.00"), prices={"86": Decimal("0.03"), "*": Decimal("0.3")})
    assert (overage(mock_server, acct)["overage"], overage(mock_server, acct)["sendTotal"]) == ("333", "333")
    assert send(mock_server, acct)["remainpoint"] == "332"  # 9.97 / 0.03 = 332.33


def test_star_price_counts_when_86_has_none(mock_server):
    acct = mock_server.new_account(prices={"*": Decimal("0.10")})
    assert overage(mock_server, acct)["overage"] == "1000"


@pytest.mark.parametrize("prices", [{"44": Decimal("0.3")}, {"86": Decimal("0")}])
def test_no_positive_price_for_86_means_no_points(mock_server, prices):
    acct = mock_server.new_account(prices=prices)
    reply = overage(mock_server, acct, "json")
    assert (reply["returnstatus"], reply["overage"], reply["sendTotal"]) == ("Sucess", "0", "0")


def test_postpaid_goes_below_zero_points(mock_server):
    acct = mock_server.new_account(pay_type="postpaid", balance=Decimal("0"))
    assert send(mock_server, acct)["remainpoint"] == "-1"
    reply = overage(mock_server, acct)
    assert (reply["payinfo"], reply["overage"], reply["sendTotal"]) == ("后付费", "-1", "0")


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    "override,message",
    [
        (dict(account=""), "用户名或密码不能为空"),
        (dict(password=""), "用户名或密码不能为空"),
        (dict(password="bad"), "用户名或密码错误"),
        (dict(account="nobody-at-all"), "用户名或密码错误"),
    ],
)
def test_overage_refusals(mock_server, account, fmt, override, message):
    reply = overage(mock_server, account, fmt, **override)
    assert list(reply) == OVERAGE_KEYS
    assert reply == {"returnstatus": "Faild", "message": message, "payinfo": "", "overage": "0", "sendTotal": "0"}


def test_overage_of_a_stopped_account(mock_server):
    acct = mock_server.new_account(stopped=True)
    assert overage(mock_server, acct)["message"] == "帐户已停用"


# --- reports, uplinks and push of domestic sends -----------------------------------------


def boxes(reply: requests.Response) -> list[dict[str, str]]:
    return [{c.tag: c.text or "" for c in node} for node in etree.fromstring(reply.content)]


def test_reports_come_from_status_api_in_both_formats(mock_server, account):
    first = int(send(mock_server, account, mobile="13800138000,13800000001", extno="77")["taskID"])
    second = int(send(mock_server, account, "json", mobile="13800000004")["taskID"])
    reports = boxes(call(mock_server, "/statusApi.aspx", **form(account, action="query", statusNum="1")))
    assert [(r["taskid"], r["status"], r["errorcode"], r["extno"]) for r in reports] == [
        (str(first), "10", "DELIVRD", "77")
    ]
    assert reports[0]["mobile"] == "13800138000"  # as the client sent it
    rest = call(mock_server, "/statusJsonApi.aspx", **form(account, action="query")).json()["statusbox"]
    assert [(r["taskid"], r["status"], r["errorcode"]) for r in rest] == [(str(first), "20", "UNDELIV")]
    assert second  # 13800000004 never reports


def test_uplink_of_a_domestic_send_comes_from_call_api(mock_server, account):
    task = send(mock_server, account, mobile="13800000005")["taskID"]
    [uplink] = boxes(call(mock_server, "/callApi.aspx", **form(account, action="query")))
    assert (uplink["mobile"], uplink["taskid"], uplink["content"]) == ("13800000005", task, "TD")
    assert call(mock_server, "/callJsonApi.aspx", **form(account, action="query")).json()["callbox"] == []


def test_reports_and_uplinks_of_a_domestic_send_are_pushed(mock_server):
    with PushReceiver() as receiver:
        acct = mock_server.new_account(push_url=receiver.url)
        task = int(send(mock_server, acct, "json", mobile="13800000005")["taskID"])
        receiver.wait_for(2)
        kinds = {etree.fromstring(p.body)[0].tag: p.items for p in receiver.pushes}
        assert set(kinds) == {"statusbox", "callbox"}
        [report], [uplink] = kinds["statusbox"], kinds["callbox"]
        assert (report.task_id, report.status, uplink.task_id, uplink.content) == (task, 10, task, "TD")
        assert report.mobile == uplink.mobile == "13800000005"
    assert boxes(call(mock_server, "/statusApi.aspx", **form(acct, action="query"))) == []


# --- bad input: the endpoint's own format, never a 500 ---------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_non_utf8_form_is_a_param_error_in_the_endpoints_format(mock_server, fmt):
    reply = requests.post(
        mock_server.base_url + PATHS[fmt],
        data=b"action=send&account=\xff\xfe&content=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert values(reply, fmt) == {
        "returnstatus": "Faild",
        "message": "参数错误",
        "remainpoint": "0",
        "taskID": "",
        "successCounts": "0",
    }


def test_non_utf8_overage_query_keeps_the_overage_shape(mock_server):
    reply = requests.get(mock_server.base_url + "/smsJson.aspx?action=overage&account=%FF", timeout=30)
    assert values(reply, "json") == {
        "returnstatus": "Faild",
        "message": "参数错误",
        "payinfo": "",
        "overage": "0",
        "sendTotal": "0",
    }


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_an_oversize_body_is_413_in_the_endpoints_format(mock_server, account, fmt):
    big = "1" * (4 * 1024 * 1024 + 10)
    reply = requests.post(
        mock_server.base_url + PATHS[fmt], data=form(account, action="send", mobile=big, content=TEXT), timeout=60
    )
    assert reply.status_code == 413
    body = (
        json.loads(reply.content) if fmt == "json" else {c.tag: c.text or "" for c in etree.fromstring(reply.content)}
    )
    assert list(body) == SEND_KEYS and body["returnstatus"] == "Faild"
    assert tasks_of(mock_server, account) == []


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_hostile_values_are_refused_cleanly(mock_server, account, fmt):
    for override in (
        dict(mobile="1" * 5000),
        dict(mobile=",,, ,"),
        dict(extno="\x00"),
        dict(sendTime="\x00"),
        dict(content="\x00\x01【华信】"),
        dict(account="a" * 10000),
        dict(mobile="+" * 30),
    ):
        reply = send(mock_server, account, fmt, **override)
        assert list(reply) == SEND_KEYS, override
    multipart = requests.post(
        mock_server.base_url + PATHS[fmt],
        files={"action": (None, "overage"), "account": (None, account.name), "password": (None, account.password)},
        timeout=30,
    )
    assert values(multipart, fmt)["returnstatus"] == "Sucess"


def test_an_unexpected_error_answers_in_the_endpoints_format(tmp_path, monkeypatch):
    """A bug in the core still gets the surface's own Faild reply (in process: a bug cannot be sent over the wire)."""
    from werkzeug.test import Client

    from ipyy_mock.app import create_app

    app = create_app(str(tmp_path / "boom.db"), journal=False)
    monkeypatch.setattr(app.platform, "send", lambda req: 1 / 0)
    client = Client(app)
    for path, ctype in (("/sms.aspx", "text/xml; charset=utf-8"), ("/smsJson.aspx", "application/json; charset=utf-8")):
        reply = client.post(path, data={"action": "send", "account": "x", "password": "y"})
        assert (reply.status_code, reply.headers["Content-Type"]) == (200, ctype)
        assert "系统内部错误" in reply.get_data(as_text=True) and "Faild" in reply.get_data(as_text=True)
    app.platform.store.close()


# --- the mock's own tools see these paths ------------------------------------------------


def admin(server, method, path, body=None, **kw) -> requests.Response:
    return requests.request(method, f"{server.base_url}/_mock/api/{path}", json=body, timeout=10, **kw)


def test_a_code_fault_refuses_domestic_sends(mock_server, account):
    reply = admin(
        mock_server, "POST", "faults", {"endpoint": "domestic", "kind": "code", "value": "InternalError", "count": 1}
    )
    assert reply.status_code in (200, 201), reply.text
    try:
        assert send(mock_server, account, "json")["message"] == "系统内部错误"
        assert send(mock_server, account, "json")["returnstatus"] == "Success"  # count 1: used up
    finally:
        admin(mock_server, "DELETE", "faults")


def test_a_malformed_fault_on_sms_json_is_cut_json(mock_server, account):
    reply = admin(mock_server, "POST", "faults", {"endpoint": "/smsJson.aspx", "kind": "malformed", "count": 1})
    assert reply.status_code in (200, 201), reply.text
    try:
        cut = call(mock_server, "/smsJson.aspx", **form(account, action="overage"))
        assert cut.headers["Content-Type"] == "application/json; charset=utf-8"
        with pytest.raises(ValueError):
            json.loads(cut.content)
    finally:
        admin(mock_server, "DELETE", "faults")


def test_the_journal_records_domestic_calls_as_http_with_the_password_masked(mock_server, account):
    send(mock_server, account, "json")
    found = journal_entry(mock_server, account, "/smsjson.aspx")
    assert found["surface"] == "http"
    assert md5_password(account.password) not in json.dumps(found, ensure_ascii=False)


def journal_entry(server, acct, path: str) -> dict:
    def entry():
        reply = admin(server, "GET", "journal", params={"account": acct.name})
        assert reply.status_code == 200, reply.text
        found = [e for e in reply.json()["entries"] if e["path"].lower() == path]
        return found[0] if found else None

    return wait_until(entry, 10, f"the journal entry of {path}")


def test_the_http_apis_conformance_warnings_apply_to_domestic_sends(mock_server, account):
    """Parameters read as ASP.NET does (any case), and the send warnings of the core, like I18NSms.aspx's."""
    reply = values(
        call(
            mock_server,
            "/smsJson.aspx",
            ACTION="send",
            Account=account.name,
            PASSWORD=account.password,
            Mobile="13800138000,13800138000",
            CONTENT="【华信】验证码 1234",
        ),
        "json",
    )
    assert (reply["returnstatus"], reply["successCounts"]) == ("Success", "1")
    codes = [w["code"] for w in journal_entry(mock_server, account, "/smsjson.aspx")["warnings"]]
    assert {"plain-password", "duplicate-recipient", "signature-at-start"} <= set(codes), codes


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_strict_mode_refuses_a_domestic_send_and_overage_in_the_endpoints_format(mock_server, fmt):
    acct = mock_server.new_account(strict=True)
    reply = send(mock_server, acct, fmt, password=acct.password)  # plain password: documented is the MD5
    assert list(reply) == SEND_KEYS and reply["returnstatus"] == "Faild"
    assert reply["message"].startswith("用户名或密码错误 (strict: plain-password")
    assert tasks_of(mock_server, acct) == [] and mock_server.balance(acct.name) == Decimal("100.00")
    refused = overage(mock_server, acct, fmt, password=acct.password)
    assert list(refused) == OVERAGE_KEYS and refused["returnstatus"] == "Faild" and "strict" in refused["message"]
    assert send(mock_server, acct, fmt)["returnstatus"] == "Success"  # the MD5 form passes


def test_the_index_page_lists_the_domestic_paths(mock_server):
    assert "/sms.aspx /smsJson.aspx" in requests.get(mock_server.base_url + "/", timeout=10).text


def test_vendor_paths_shortcut_includes_the_domestic_paths(tmp_path):
    from werkzeug.test import EnvironBuilder

    from ipyy_mock.app import VENDOR_PATHS, create_app

    assert VENDOR_PATHS["/sms.aspx"] == "domestic" and VENDOR_PATHS["/smsjson.aspx"] == "domestic_json"
    app = create_app(str(tmp_path / "routes.db"), journal=False)
    for path in ("/sms.aspx", "/smsjson.aspx"):
        assert (
            app.url_map.bind_to_environ(EnvironBuilder(path=path).get_environ()).match(path_info=path)[0]
            == VENDOR_PATHS[path]
        )
    app.platform.store.close()


def test_a_fresh_server_serves_the_domestic_paths(tmp_path):
    """Started as users start it: ``ipyy-mock serve`` on a new database, the demo account seeded."""
    server = MockProcess(tmp_path / "fresh.db").start()
    try:
        reply = call(server, "/smsJson.aspx", action="overage", account="demo", password="demo123")
        assert reply.json()["overage"] == "2000"  # 100.00 at 0.05
    finally:
        server.stop()


# --- fuzz: any parameters, the endpoint's own shape, points consistent with the balance ----------

FUZZ_EXAMPLES = 60


def test_fuzz_domestic_send_and_overage(mock_server):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    acct = mock_server.new_account(balance=Decimal("2.00"))
    pieces = st.sampled_from(
        [
            "13800138000",
            "13900139000",
            "8613800138000",
            "13800000002",
            "13800000003",
            "1380013800",
            "+8613800138000",
            " 139 0013 9000",
            "",
            "abc",
            "１３８００１３８０００",
        ]
    )
    mobiles = st.lists(pieces, max_size=4).map(",".join)
    texts = st.one_of(st.text(max_size=80), st.text(max_size=80).map(lambda t: t + "【华信】"))
    junk = st.text(max_size=12)

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        fmt=st.sampled_from(["xml", "json"]),
        method=st.sampled_from(["GET", "POST"]),
        action=st.sampled_from(["send", "send", "send", "overage", "Overage", ""]) | junk,
        right=st.sampled_from([True, True, True, False]),
        mobile=mobiles,
        text=texts,
        extno=st.sampled_from(["", "1", "01234", "123456"]) | junk,
        when=st.sampled_from(["", "2099-01-01 09:00:00", "2020-01-01 00:00:00"]) | junk,
    )
    def run(fmt, method, action, right, mobile, text, extno, when):
        before = mock_server.balance(acct.name)
        params = dict(
            action=action,
            account=acct.name,
            password=acct.password if right else "nope",
            mobile=mobile,
            content=text,
            extno=extno,
            sendTime=when,
        )
        reply = values(call(mock_server, PATHS[fmt], method, **params), fmt)
        after = mock_server.balance(acct.name)
        if action.strip().lower() == "overage":
            assert list(reply) == OVERAGE_KEYS
            if reply["returnstatus"] == "Sucess":
                assert reply["overage"] == str(int(after / Decimal("0.05"))) and reply["sendTotal"] == "40"
            assert after == before
            return
        assert list(reply) == SEND_KEYS
        if reply["returnstatus"] == "Success":
            assert action.strip().lower() == "send" and right
            assert reply["remainpoint"] == str(int(after / Decimal("0.05"))) and after < before
            assert int(reply["taskID"]) > 0 and int(reply["successCounts"]) >= 1
        else:
            assert reply["returnstatus"] == "Faild" and reply["message"]
            assert (reply["remainpoint"], reply["taskID"], reply["successCounts"]) == ("0", "", "0")
            assert after == before

    run()
