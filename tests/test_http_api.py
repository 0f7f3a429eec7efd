"""The vendor's HTTP interface over the wire: exact reply bytes, every error path, both formats."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from lxml import etree

from ipyy_client.encoding import encode_content, md5_password
from support import soapraw

XML_HEAD = '<?xml version="1.0" encoding="utf-8" ?>'


def call(mock_server, path, method="POST", **params):
    url = mock_server.base_url + path
    if method == "GET":
        return requests.get(url, params=params, timeout=30)
    return requests.post(url, data=params, timeout=30)


def fields(reply) -> dict[str, str]:
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert reply.text.startswith(XML_HEAD)
    root = etree.fromstring(reply.content)
    return {child.tag: child.text or "" for child in root}


def send(mock_server, acct, text="测试【华信】", mobile="8613800138000", method="POST", **extra):
    params = dict(
        action="send",
        userid="",
        account=acct.name,
        password=md5_password(acct.password),
        mobile=mobile,
        code="8",
        content=encode_content(text),
        sendTime="",
        extno="",
    )
    params.update(extra)
    return fields(call(mock_server, "/I18NSms.aspx", method, **params))


def test_vendor_document_examples():
    assert encode_content("test message[HuaXin]") == (
        "00740065007300740020006D006500730073006100670065005B00480075006100580069006E005D"
    )
    assert encode_content("测试【华信】") == "6D4B8BD53010534E4FE13011"
    assert md5_password("abc123") == "E99A18C428CB38D5F260853678922E03"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_send_ok(mock_server, account, method):
    reply = send(mock_server, account, method=method)
    assert reply["returnstatus"] == "Success"
    assert reply["message"] == "操作成功"
    assert reply["balance"] == "99.95"
    assert int(reply["taskID"]) >= 1_000_001
    assert reply["BillingAmount"] == "0.05"
    assert reply["successCounts"] == "1"
    assert list(reply) == ["returnstatus", "message", "balance", "taskID", "BillingAmount", "successCounts"]


def test_send_path_is_case_insensitive_and_plain_password_works(mock_server, account):
    reply = fields(
        call(
            mock_server,
            "/I18Nsms.aspx",
            "GET",
            action="send",
            userid="",
            account=account.name,
            password=account.password,
            mobile="8613800138000",
            code="0",
            content=encode_content("test message[HuaXin]【HuaXin】"),
            sendTime="",
            extno="",
        )
    )
    assert reply["returnstatus"] == "Success"


def test_lowercase_md5_is_accepted(mock_server, account):
    assert send(mock_server, account, password=md5_password(account.password).lower())["returnstatus"] == "Success"


def test_strict_account_refuses_plain_password(mock_server):
    account = mock_server.new_account(strict_auth=True)
    reply = send(mock_server, account, password=account.password)
    assert (reply["returnstatus"], reply["message"]) == ("Faild", "用户名或密码错误")
    assert send(mock_server, account)["returnstatus"] == "Success"


@pytest.mark.parametrize(
    "override,message",
    [
        (dict(account=""), "用户名或密码不能为空"),
        (dict(password=""), "用户名或密码不能为空"),
        (dict(account="nobody"), "用户名或密码错误"),
        (dict(password="0" * 32), "用户名或密码错误"),
        (dict(content="6D4B8BD"), "参数错误"),
        (dict(content="ZZZZ"), "参数错误"),
        (dict(code="5"), "参数错误"),
        (dict(sendTime="tomorrow"), "参数错误"),
        (dict(action="launch"), "参数错误"),
        (dict(mobile=""), "手机号码为空"),
        (dict(extno="abc"), "扩展错误"),
        (dict(content=encode_content("no signature")), "需要签名"),
        (dict(mobile="8613800000002"), "黑名单的手机号码"),
    ],
)
def test_send_failures(mock_server, account, override, message):
    reply = send(mock_server, account, **override)
    assert reply["returnstatus"] == "Faild"
    assert reply["message"] == message
    assert reply["taskID"] == "" and reply["BillingAmount"] == "0" and reply["successCounts"] == "0"
    assert mock_server.balance(account.name) == Decimal("100.00")


def test_credentials_are_checked_before_parameters(mock_server, account):
    reply = send(mock_server, account, password="wrong", content="XYZ")
    assert reply["message"] == "用户名或密码错误"


def test_amount_not_enough(mock_server):
    account = mock_server.new_account(balance=Decimal("0.01"))
    reply = send(mock_server, account)
    assert (reply["returnstatus"], reply["message"], reply["balance"]) == ("Faild", "额度不足", "0.01")


def test_scheduled_http_send_uses_platform_time(mock_server, account):
    reply = send(mock_server, account, sendTime="2099-01-01 09:00:00")
    task = mock_server.platform().store.get_task(int(reply["taskID"]))
    assert task["scheduled"] == 1
    assert task["send_at"] == 4070912400.0  # 2099-01-01T01:00:00Z


def test_overage(mock_server, account):
    reply = fields(
        call(
            mock_server,
            "/I18NSms.aspx",
            action="overage",
            userid="12",
            account=account.name,
            password=md5_password(account.password),
        )
    )
    assert reply == {"returnstatus": "Success", "message": "操作成功", "payinfo": "预付费", "balance": "100.00"}
    postpaid = mock_server.new_account(pay_type="postpaid")
    reply = fields(
        call(mock_server, "/I18NSms.aspx", action="overage", account=postpaid.name, password=postpaid.password)
    )
    assert reply["payinfo"] == "后付费"


@pytest.mark.parametrize(
    "override,message", [(dict(account=""), "用户名或密码不能为空"), (dict(password="bad"), "用户名或密码错误")]
)
def test_overage_failures(mock_server, account, override, message):
    params = dict(action="overage", account=account.name, password=account.password)
    params.update(override)
    reply = fields(call(mock_server, "/I18NSms.aspx", **params))
    assert (reply["returnstatus"], reply["message"]) == ("Faild", message)


def query(mock_server, path, acct, **extra):
    params = dict(action="query", userid="", account=acct.name, password=md5_password(acct.password))
    params.update(extra)
    return call(mock_server, path, **params)


def boxes(reply, box):
    root = etree.fromstring(reply.content)
    return [{c.tag: c.text or "" for c in node} for node in root.findall(box)]


def test_reports_xml_once_oldest_first(mock_server, account):
    first = int(send(mock_server, account, mobile="8613800138000,8613800000001")["taskID"])
    second = int(send(mock_server, account, mobile="8613800000004")["taskID"])
    reply = query(mock_server, "/statusApi.aspx", account)
    assert reply.text.startswith(XML_HEAD)
    items = boxes(reply, "statusbox")
    assert [(i["mobile"], i["taskid"], i["status"], i["errorcode"]) for i in items] == [
        ("8613800138000", str(first), "10", "DELIVRD"),
        ("8613800000001", str(first), "20", "UNDELIV"),
    ]
    assert list(items[0]) == ["mobile", "taskid", "status", "receivetime", "errorcode", "extno"]
    assert len(items[0]["receivetime"]) == 19
    assert boxes(query(mock_server, "/statusApi.aspx", account), "statusbox") == []
    assert second  # 8613800000004 never reports


def test_reports_limit_and_taskid(mock_server, account):
    a = int(send(mock_server, account, mobile="8613800138001,8613800138002,8613800138003")["taskID"])
    b = int(send(mock_server, account, mobile="8613800138004")["taskID"])
    only_b = boxes(query(mock_server, "/statusApi.aspx", account, taskid=str(b)), "statusbox")
    assert [i["taskid"] for i in only_b] == [str(b)]
    two = boxes(query(mock_server, "/statusApi.aspx", account, statusNum="2"), "statusbox")
    assert [i["mobile"] for i in two] == ["8613800138001", "8613800138002"]
    rest = boxes(query(mock_server, "/statusApi.aspx", account), "statusbox")
    assert [(i["mobile"], i["taskid"]) for i in rest] == [("8613800138003", str(a))]


def test_reports_json_and_xml_agree(mock_server, account):
    send(mock_server, account, mobile="8613800138000", extno="77")
    send(mock_server, account, mobile="8613800138000", extno="77")
    xml_items = boxes(query(mock_server, "/statusApi.aspx", account, statusNum="1"), "statusbox")
    reply = query(mock_server, "/statusJsonApi.aspx", account)
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    body = reply.json()
    assert (body["error"], body["remark"]) == ("1", "成功")
    assert len(xml_items) == 1 and len(body["statusbox"]) == 1
    assert set(body["statusbox"][0]) == set(xml_items[0])
    assert all(isinstance(v, str) for v in body["statusbox"][0].values())
    assert body["statusbox"][0]["extno"] == xml_items[0]["extno"] == "77"


@pytest.mark.parametrize("path", ["/statusApi.aspx", "/callApi.aspx"])
@pytest.mark.parametrize(
    "override,error,remark",
    [
        (dict(account=""), "1", "用户名或密码不能为空"),
        (dict(password="bad"), "2", "用户名或密码错误"),
        (dict(statusNum="ten"), "4", "参数不正确"),
        (dict(action="fetch"), "4", "参数不正确"),
    ],
)
def test_queue_xml_errors(mock_server, account, path, override, error, remark):
    reply = query(mock_server, path, account, **override)
    assert reply.text == (
        f"{XML_HEAD}\n<returnsms><errorstatus><error>{error}</error><remark>{remark}</remark></errorstatus></returnsms>"
    )


def test_account_not_allowed_to_read_reports(mock_server):
    account = mock_server.new_account(can_read_reports=False)
    reply = query(mock_server, "/statusApi.aspx", account)
    assert "<error>3</error><remark>该用户不允许查看状态报告</remark>" in reply.text
    body = query(mock_server, "/statusJsonApi.aspx", account).json()
    assert body == {"error": "1001", "remark": "该用户不允许查看状态报告", "statusbox": []}


@pytest.mark.parametrize("path,box", [("/statusJsonApi.aspx", "statusbox"), ("/callJsonApi.aspx", "callbox")])
def test_json_wrong_password_is_byte_exact(mock_server, account, path, box):
    reply = query(mock_server, path, account, password="bad")
    assert reply.text == '{"error":"1005","remark":"密码错了","%s":[]}' % box


def test_json_other_errors(mock_server, account):
    assert query(mock_server, "/statusJsonApi.aspx", account, account="").json()["error"] == "1002"
    assert query(mock_server, "/statusJsonApi.aspx", account, password="").json()["error"] == "1003"
    assert query(mock_server, "/callJsonApi.aspx", account, statusNum="x").json() == {
        "error": "1001",
        "remark": "参数不正确",
        "callbox": [],
    }


def test_uplink_from_auto_reply_number(mock_server, account):
    task = int(send(mock_server, account, mobile="8613800000005")["taskID"])
    items = boxes(query(mock_server, "/callApi.aspx", account), "callbox")
    assert [(i["mobile"], i["taskid"], i["content"]) for i in items] == [("8613800000005", str(task), "TD")]
    assert list(items[0]) == ["mobile", "taskid", "content", "receivetime", "extno"]
    assert boxes(query(mock_server, "/callApi.aspx", account), "callbox") == []


def test_injected_uplink_json(mock_server, account):
    platform = mock_server.platform()
    platform.inject_uplink(account.name, "8613811112222", "你好，我不需要 <b>&")
    body = query(mock_server, "/callJsonApi.aspx", account).json()
    assert body["callbox"] == [
        {
            "mobile": "8613811112222",
            "taskid": "",
            "content": "你好，我不需要 <b>&",
            "receivetime": body["callbox"][0]["receivetime"],
            "extno": "",
        }
    ]
    assert query(mock_server, "/callJsonApi.aspx", account).json()["callbox"] == []


def test_soap_send_is_visible_over_http(mock_server, account):
    result = soapraw.send(mock_server.base_url, account.name, account.password, "8613800138000", "hi【华信】")
    items = boxes(query(mock_server, "/statusApi.aspx", account), "statusbox")
    assert [i["taskid"] for i in items] == [str(result.msg_id)]
    overage = fields(
        call(mock_server, "/I18NSms.aspx", action="overage", account=account.name, password=account.password)
    )
    assert overage["balance"] == str(result.balance) == "99.95"


def test_change_password_for_both_surfaces(mock_server, account):
    reply = fields(
        call(
            mock_server, "/pwd.aspx", userid="", account=account.name, password=account.password, newpassword="n3w-密码"
        )
    )
    assert reply == {"returnstatus": "Sucess", "message": "操作成功"}
    assert send(mock_server, account)["message"] == "用户名或密码错误"
    assert (
        soapraw.send(mock_server.base_url, account.name, account.password, "8613800138000", "hi【华信】").status
        == "PasswordError"
    )
    assert soapraw.send(mock_server.base_url, account.name, "n3w-密码", "8613800138000", "hi【华信】").status == "OK"


@pytest.mark.parametrize(
    "override,message",
    [
        (dict(newpassword="x" * 21), "新密码长度须为1到20位"),
        (dict(newpassword=""), "新密码长度须为1到20位"),
        (dict(password="bad"), "用户名或密码错误"),
        (dict(account=""), "用户名或密码不能为空"),
    ],
)
def test_change_password_failures(mock_server, account, override, message):
    params = dict(account=account.name, password=account.password, newpassword="fine")
    params.update(override)
    reply = fields(call(mock_server, "/pwd.aspx", **params))
    assert reply == {"returnstatus": "Faild", "message": message}
    assert mock_server.account(account.name).password == account.password


def test_twenty_character_password_is_fine(mock_server, account):
    reply = fields(
        call(mock_server, "/pwd.aspx", account=account.name, password=account.password, newpassword="x" * 20)
    )
    assert reply["returnstatus"] == "Sucess"


@pytest.mark.parametrize(
    "code,content",
    [
        ("0", "00740065007300740020006D006500730073006100670065005B00480075006100580069006E005D"),
        ("8", "6D4B8BD53010534E4FE13011"),
    ],
)
def test_vendor_example_urls_with_demo_credentials(mock_server, code, content):
    """The vendor document's two example GET URLs, with the demo account and two real numbers for m1,m2."""
    url = (
        f"{mock_server.base_url}/I18Nsms.aspx?action=send&userid=&account=demo&password=demo123"
        f"&mobile=8613800138000,8613900139000&code={code}&content={content}&sendTime=&extno="
    )
    reply = fields(requests.get(url, timeout=30))
    assert (reply["returnstatus"], reply["message"], reply["successCounts"]) == ("Success", "操作成功", "2")
    assert reply["BillingAmount"] == "0.10"


def test_ascii_bracket_signature_as_in_the_vendor_example(mock_server, account):
    assert send(mock_server, account, text="test message[HuaXin]")["returnstatus"] == "Success"
    assert send(mock_server, account, text="test message[]")["message"] == "签名错误"


def test_vendor_paths_shortcut_routes_as_the_url_map_does(tmp_path):
    """MockApp looks the exact vendor paths up in a dict before werkzeug's routing: the same endpoints."""
    from werkzeug.test import EnvironBuilder

    from ipyy_mock.app import VENDOR_PATHS, create_app

    app = create_app(str(tmp_path / "routes.db"))
    for path, endpoint in VENDOR_PATHS.items():
        env = EnvironBuilder(path=path).get_environ()
        assert app.url_map.bind_to_environ(env).match(path_info=path)[0] == endpoint
    app.platform.store.close()
