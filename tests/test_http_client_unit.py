"""Offline unit tests of the HTTP client half: canned vendor replies, hostile bodies, retries, push, CLI bits.

No mock server here: a fake requests.Session (and, for AsyncHttpClient, an
httpx.AsyncClient on a MockTransport) hands back canned replies and records the
form fields, so every reply shape of the vendor document can be fed in. Every
test that goes through ``make`` runs through both flavours (the ``flavour``
fixture, tests/flavours.py); the canned library exceptions are the requests
ones, translated for httpx by ``FakeAsyncClient``.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
from dataclasses import FrozenInstanceError
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import httpx
import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError
from werkzeug.test import Client

import ipyy_client
from ipyy_client import (
    Balance,
    HttpClient,
    HttpSendResult,
    Report,
    ResultCode,
    Uplink,
    cli,
    errors,
    parse_push,
    push_receiver,
)
from ipyy_client.encoding import md5_password
from ipyy_client.http import parse_json_boxes, parse_xml
from ipyy_client.results import code_for_message
from support.net import closed_port

SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "pa55-w0rd!"
HEAD = '<?xml version="1.0" encoding="utf-8" ?>\n'

# --- the vendor document's own examples ----------------------------------------------

VENDOR_STATUS_XML = (
    HEAD
    + """<returnsms>
<statusbox>
<mobile>15023239810</mobile>
<taskid>1212</taskid>
<status>10</status>
<receivetime>2011-12-02 22:12:11</receivetime>
<errorcode>DELIVRD</errorcode>
<extno>01</extno>
</statusbox>
<statusbox>
<mobile>15023239811</mobile>
<taskid>1212</taskid>
<status>20</status>
<receivetime>2011-12-02 22:12:11</receivetime>
<errorcode>2</errorcode>
<extno></extno>
</statusbox>
</returnsms>"""
)

VENDOR_CALL_XML = (
    HEAD
    + """<returnsms>
<callbox>
<mobile>15023239810</mobile>
<taskid>1212</taskid>
<content>你好，我不需要</content>
<receivetime>2011-12-02 22:12:11</receivetime>
<extno>01</extno>
</callbox>
<callbox>
<mobile>15023239811</mobile>
<taskid>1212</taskid>
<content>你好，本次活动路线是怎么的</content>
<receivetime>2011-12-02 22:12:11</receivetime>
<extno>01</extno>
</callbox>
</returnsms>"""
)

VENDOR_STATUS_JSON = """{"error":"1",
"remark":"成功",
"statusbox":[
    {"mobile":"15510331875",
     "taskid":"123",
     "receivetime":"2015-01-01 00:00:00",
     "errorcode":"dEv"
    },{
    "mobile":"13483728958",
    "taskid":"124",
    "receivetime":"2015-02-01 00:00:00",
    "errorcode":"back"}
    ]
}"""

VENDOR_CALL_JSON = """{"error":"1",
"remark":"成功",
"callbox":[
  {"mobile":"15510331875",
  "taskid":"",
  "content":"a",
  "receivetime":"0001-01-01 00:00:00",
  "extno":"123"
  },{
  "mobile":"13483728958",
  "taskid":"",
  "content":"b",
  "receivetime":"0001-01-01 00:00:00",
  "extno":"456"
  }
 ]
}"""


def errorstatus(number: int, remark: str) -> str:
    return (
        HEAD
        + f"<returnsms>\n<errorstatus>\n<error>{number}</error>\n<remark>{remark}</remark>\n</errorstatus>\n</returnsms>"
    )


def send_reply(status="Success", message="操作成功", balance="99.95", task="1000123", amount="0.05", count="1"):
    return (
        HEAD + f"<returnsms><returnstatus>{status}</returnstatus><message>{message}</message>"
        f"<balance>{balance}</balance><taskID>{task}</taskID><BillingAmount>{amount}</BillingAmount>"
        f"<successCounts>{count}</successCounts></returnsms>"
    )


# --- a fake session --------------------------------------------------------------------


class FakeSession(requests.Session):
    """Answers every POST with the next canned reply (or raises it); records url and form."""

    def __init__(self, *replies) -> None:
        super().__init__()
        self.replies = list(replies)
        self.calls: list[tuple[str, dict]] = []

    def post(self, url, data=None, **kwargs):  # type: ignore[override]
        self.calls.append((url, dict(data or {})))
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, BaseException):
            raise reply
        status, ctype, body = reply if isinstance(reply, tuple) else (200, "text/xml; charset=utf-8", reply)
        response = requests.Response()
        response.status_code = status
        response.headers["Content-Type"] = ctype
        response._content = body.encode("utf-8") if isinstance(body, str) else body
        response.url = url
        return response


class FakeAsyncClient(httpx.AsyncClient):
    """FakeSession's twin for AsyncHttpClient: the same canned replies, served by an httpx MockTransport."""

    def __init__(self, *replies) -> None:
        self.replies = list(replies)
        self.calls: list[tuple[str, dict]] = []
        super().__init__(transport=httpx.MockTransport(self._answer))

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((str(request.url), dict(parse_qsl(request.content.decode(), keep_blank_values=True))))
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, BaseException):
            raise _as_httpx(reply, request)
        status, ctype, body = reply if isinstance(reply, tuple) else (200, "text/xml; charset=utf-8", reply)
        return httpx.Response(
            status, headers={"Content-Type": ctype}, content=body.encode("utf-8") if isinstance(body, str) else body
        )


def _as_httpx(exc: BaseException, request: httpx.Request) -> BaseException:
    """The httpx exception for the same failure as a canned requests exception."""
    if isinstance(exc, requests.ConnectTimeout):
        return httpx.ConnectTimeout(str(exc), request=request)
    if isinstance(exc, requests.Timeout):
        return httpx.ReadTimeout(str(exc), request=request)
    if isinstance(exc, requests.exceptions.SSLError):
        error = httpx.ConnectError(str(exc), request=request)
        error.__cause__ = ssl.SSLError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
        return error
    if isinstance(exc, requests.ConnectionError) and "Connection refused" in str(exc):
        error = httpx.ConnectError("All connection attempts failed", request=request)
        error.__cause__ = ConnectionRefusedError(111, "Connection refused")
        return error
    if isinstance(exc, requests.ConnectionError):
        return httpx.RemoteProtocolError(str(exc), request=request)
    return exc


@pytest.fixture
def make(flavour):
    """``make(*replies, **client options) -> (client, fake)``: a client of the test's flavour on canned replies."""

    def build(*replies, **kwargs):
        session = FakeAsyncClient(*replies) if flavour.is_async else FakeSession(*replies)
        values = dict(account="acct", password=PASSWORD, base_url="http://gw.invalid", session=session, retry_backoff=0)
        values.update(kwargs)
        return flavour.http(**values), session

    return build


def xml_reply(text: str) -> tuple[int, str, bytes]:
    return 200, "text/xml; charset=utf-8", text.encode("utf-8")


def json_reply(text: str) -> tuple[int, str, bytes]:
    return 200, "application/json; charset=utf-8", text.encode("utf-8")


def refused() -> requests.ConnectionError:
    inner = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.ConnectionError(MaxRetryError(None, "/x", inner))


# --- construction ----------------------------------------------------------------------


def test_construction_and_repr() -> None:
    client = HttpClient("acct", PASSWORD, "7", "http://gw.invalid/")
    assert client.base_url == "http://gw.invalid" and client.userid == "7"
    assert PASSWORD not in repr(client) and md5_password(PASSWORD) not in repr(client)
    assert HttpClient("a", "b").base_url == "https://dx.ipyy.net"
    with pytest.raises(ValueError, match="base_url="):
        HttpClient("a", "b", "http://127.0.0.1:8080")  # third positional is userid
    for bad in (dict(base_url="gw.invalid"), dict(retries=-1), dict(timeout=0)):
        with pytest.raises(ValueError):
            HttpClient("a", "b", **bad)


def test_public_exports() -> None:
    for name in (
        "HttpClient",
        "parse_push",
        "push_receiver",
        "encode_content",
        "decode_content",
        "md5_password",
        "HttpSendResult",
        "Balance",
        "Report",
        "Uplink",
        "SoapClient",
        "SendResult",
    ):
        assert hasattr(ipyy_client, name), name
        assert name in ipyy_client.__all__


def test_dataclasses_are_frozen() -> None:
    report = Report("1", 2, 10, None)
    with pytest.raises(FrozenInstanceError):
        report.status = 20  # type: ignore[misc]
    assert report.delivered and not Report("1", 2, 20, None).delivered and not Report("1", 2, None, None).delivered


# --- send --------------------------------------------------------------------------------


def test_send_builds_the_vendor_form(make) -> None:
    client, session = make(send_reply(), userid="12")
    result = client.send(
        ["8613800138000", 8613900139000],
        "测试【华信】",
        send_time=datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc),
        extno=123,
    )
    url, form = session.calls[0]
    assert url == "http://gw.invalid/I18NSms.aspx"
    assert form == {
        "action": "send",
        "userid": "12",
        "account": "acct",
        "password": md5_password(PASSWORD),
        "mobile": "8613800138000,8613900139000",
        "code": "8",
        "content": "6D4B8BD53010534E4FE13011",
        "sendTime": "2026-12-01 09:00:00",
        "extno": "123",
    }
    assert result == HttpSendResult("Success", "操作成功", Decimal("99.95"), 1000123, Decimal("0.05"), 1)
    assert result.ok and result.code is ResultCode.OK and result.msg_id == 1000123 and result.errors == ()


def test_send_naive_time_is_platform_time_and_empty_password_stays_empty(make) -> None:
    client, session = make(
        send_reply(status="Faild", message="用户名或密码不能为空", balance="0", task="", amount="0", count="0"),
        password="",
    )
    result = client.send("8613800138000", "x【y】", send_time=datetime(2026, 12, 1, 9, 0, 0, 500))
    form = session.calls[0][1]
    assert form["sendTime"] == "2026-12-01 09:00:00" and form["password"] == ""
    assert result.code is ResultCode.PasswordEmpty and result.task_id is None
    with pytest.raises(errors.PasswordEmpty):
        result.raise_for_status()


@pytest.mark.parametrize(
    "message, code",
    [
        ("用户名或密码错误", ResultCode.PasswordError),
        ("用户名或密码不能为空", ResultCode.UserNameEmpty),
        ("额度不足", ResultCode.AmountNotEnough),
        ("黑名单的手机号码", ResultCode.MsisdnBlack),
        ("UserId参数错误，该值必需要是数字，由供应商提供。", ResultCode.UserIdError),
        ("参数错误", ResultCode.ParamError),
    ],
)
def test_faild_send_messages_map_to_codes(make, message, code) -> None:
    client, _ = make(send_reply(status="Faild", message=message, task="", amount="0", count="0"), account="")
    result = client.send("8613800138000", "x【y】")
    assert not result.ok and result.code is code
    with pytest.raises(errors.error_for(code)) as info:
        result.raise_for_status()
    assert info.value.description == message


def test_unknown_failure_message_is_a_vendor_error_without_code() -> None:
    result = HttpSendResult("Faild", "服务器维护中", Decimal("0"), None, Decimal("0"), 0)
    assert result.code is None
    with pytest.raises(errors.VendorError, match="服务器维护中") as info:
        result.raise_for_status()
    assert info.value.code is None
    assert HttpSendResult("Faild", "操作成功", Decimal("0"), None, Decimal("0"), 0).code is None


def test_code_for_message() -> None:
    assert code_for_message("操作成功") is ResultCode.OK
    assert code_for_message(" 密码错了 ") is ResultCode.PasswordError
    assert code_for_message("参数不正确") is ResultCode.ParamError
    assert code_for_message("") is None and code_for_message("whatever") is None


@pytest.mark.parametrize(
    "body",
    [
        send_reply(balance="lots"),
        send_reply(task=""),  # Success without a task id
        send_reply(count="many"),
        HEAD + "<returnsms><message>操作成功</message></returnsms>",
    ],
)
def test_malformed_send_reply_is_protocol_error_and_says_what_happened(make, body) -> None:
    client, _ = make(body)
    with pytest.raises(errors.ProtocolError) as info:
        client.send("8613800138000", "x【y】")
    assert info.value.status_code == 200 and info.value.body


def test_send_content_must_be_text(make) -> None:
    client, session = make(send_reply())
    with pytest.raises(TypeError):
        client.send("8613800138000", b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.send("8613800138000", "x【y】", send_time="2026-01-01")  # type: ignore[arg-type]
    assert session.calls == []


# --- balance and password --------------------------------------------------------------


@pytest.mark.parametrize("payinfo, pay_type", [("预付费", "prepaid"), ("后付费", "postpaid"), ("月结", "月结")])
def test_balance(make, payinfo, pay_type) -> None:
    client, session = make(
        HEAD + f"<returnsms><returnstatus>Success</returnstatus><message>操作成功</message>"
        f"<payinfo>{payinfo}</payinfo><balance> 12.3400 </balance></returnsms>"
    )
    assert client.balance() == Balance(pay_type, Decimal("12.3400"))
    assert session.calls[0][1]["action"] == "overage"


def test_balance_refused_raises(make) -> None:
    client, _ = make(
        HEAD + "<returnsms><returnstatus>Faild</returnstatus><message>用户名或密码错误</message>"
        "<payinfo></payinfo><balance>0</balance></returnsms>"
    )
    with pytest.raises(errors.PasswordError):
        client.balance()


def test_change_password_accepts_sucess_and_uses_the_new_password(make) -> None:
    client, session = make(
        HEAD + "<returnsms><returnstatus>Sucess</returnstatus><message>操作成功</message></returnsms>"
    )
    client.change_password("n3w-pass")
    url, form = session.calls[0]
    assert url.endswith("/pwd.aspx")
    assert form["password"] == md5_password(PASSWORD) and form["newpassword"] == "n3w-pass"
    client.change_password("third")
    assert session.calls[1][1]["password"] == md5_password("n3w-pass")


def test_change_password_failure_keeps_the_old_one(make) -> None:
    client, session = make(
        HEAD + "<returnsms><returnstatus>Faild</returnstatus><message>新密码长度须为1到20位</message></returnsms>"
    )
    with pytest.raises(errors.VendorError, match="新密码"):
        client.change_password("abc")
    assert client._password == PASSWORD


# --- pulls: the vendor's examples --------------------------------------------------------


def test_vendor_status_xml(make) -> None:
    client, session = make(xml_reply(VENDOR_STATUS_XML))
    reports = client.status_reports(task_id=1212, limit=10)
    url, form = session.calls[0]
    assert url.endswith("/statusApi.aspx")
    assert (form["action"], form["statusNum"], form["taskid"]) == ("query", "10", "1212")
    when = datetime(2011, 12, 2, 22, 12, 11, tzinfo=SHANGHAI)
    assert reports == [
        Report("15023239810", 1212, 10, when, "DELIVRD", "01"),
        Report("15023239811", 1212, 20, when, "2", ""),
    ]
    assert reports[0].receive_time.utcoffset() == timedelta(hours=8)


def test_vendor_call_xml(make) -> None:
    client, session = make(xml_reply(VENDOR_CALL_XML))
    uplinks = client.uplinks()
    assert session.calls[0][0].endswith("/callApi.aspx") and "taskid" not in session.calls[0][1]
    when = datetime(2011, 12, 2, 22, 12, 11, tzinfo=SHANGHAI)
    assert uplinks == [
        Uplink("15023239810", 1212, "你好，我不需要", when, "01"),
        Uplink("15023239811", 1212, "你好，本次活动路线是怎么的", when, "01"),
    ]


def test_vendor_status_json_without_status_or_extno_is_kept(make) -> None:
    client, session = make(json_reply(VENDOR_STATUS_JSON))
    reports = client.status_reports(fmt="json")
    assert session.calls[0][0].endswith("/statusJsonApi.aspx")
    assert reports == [
        Report("15510331875", 123, None, datetime(2015, 1, 1, tzinfo=SHANGHAI), "dEv", ""),
        Report("13483728958", 124, None, datetime(2015, 2, 1, tzinfo=SHANGHAI), "back", ""),
    ]
    assert not reports[0].delivered


def test_vendor_call_json_with_no_task_and_no_time(make) -> None:
    client, session = make(json_reply(VENDOR_CALL_JSON))
    assert client.uplinks(fmt="json", limit=5) == [
        Uplink("15510331875", None, "a", None, "123"),
        Uplink("13483728958", None, "b", None, "456"),
    ]
    assert session.calls[0][0].endswith("/callJsonApi.aspx") and session.calls[0][1]["statusNum"] == "5"


def test_the_zone_is_a_client_option(make) -> None:
    client, _ = make(xml_reply(VENDOR_STATUS_XML), zone="UTC")
    assert client.status_reports()[0].receive_time == datetime(2011, 12, 2, 22, 12, 11, tzinfo=ZoneInfo("UTC"))


def test_lenient_items_keep_the_batch(make) -> None:
    body = HEAD + (
        "<returnsms><statusbox><mobile> 1 </mobile><taskid>x</taskid><status>ok</status>"
        "<receivetime>yesterday</receivetime></statusbox><other/><statusbox/></returnsms>"
    )
    client, _ = make(xml_reply(body))
    assert client.status_reports() == [Report("1", None, None, None), Report("", None, None, None)]
    client, _ = make(xml_reply(HEAD + "<returnsms></returnsms>"))
    assert client.status_reports() == []
    client, _ = make(
        json_reply(
            '{"error":1,"remark":"成功","statusbox":[{"mobile":8613800138000,"taskid":7,'
            '"status":10,"receivetime":null}]}'
        )
    )
    assert client.status_reports(fmt="json") == [Report("8613800138000", 7, 10, None)]


# --- pulls: errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, remark, exc",
    [
        (1, "用户名或密码不能为空", errors.UserNameEmpty),
        (2, "用户名或密码错误", errors.PasswordError),
        (2, "帐户已停用", errors.UserStop),
        (3, "该用户不允许查看状态报告", errors.ReportsNotAllowed),
        (4, "参数不正确", errors.ParamError),
        (4, "系统内部错误", errors.InternalError),
        (1, "", errors.UserNameEmpty),
        (7, "别的", errors.VendorError),
    ],
)
@pytest.mark.parametrize("pull", ["status_reports", "uplinks"])
def test_xml_errorstatus(make, number, remark, exc, pull) -> None:
    client, _ = make(xml_reply(errorstatus(number, remark)))
    with pytest.raises(exc) as info:
        getattr(client, pull)()
    assert isinstance(info.value, errors.VendorError)
    if remark:
        assert remark in str(info.value)


def test_xml_empty_credentials_names_the_empty_one(make) -> None:
    client, _ = make(xml_reply(errorstatus(1, "用户名或密码不能为空")), password="")
    with pytest.raises(errors.PasswordEmpty):
        client.status_reports()
    client, _ = make(xml_reply(errorstatus(1, "用户名或密码不能为空")), account="", password="")
    with pytest.raises(errors.UserNameEmpty):
        client.status_reports()


@pytest.mark.parametrize(
    "body, exc",
    [
        ('{"error":"1005","remark":"密码错了","statusbox":[]}', errors.PasswordError),
        ('{"error":"1002","remark":"用户名为空","statusbox":[]}', errors.UserNameEmpty),
        ('{"error":"1007","remark":"帐户已停用","statusbox":[]}', errors.UserStop),
        ('{"error":"1001","remark":"该用户不允许查看状态报告","statusbox":[]}', errors.ReportsNotAllowed),
        ('{"error":"1001","remark":"参数不正确","statusbox":[]}', errors.ParamError),
        ('{"error":"4242","remark":"新错误","statusbox":[]}', errors.VendorError),
        ('{"error":4242,"remark":"帐户已停用"}', errors.UserStop),
    ],
)
def test_json_errors(make, body, exc) -> None:
    client, _ = make(json_reply(body))
    with pytest.raises(exc):
        client.status_reports(fmt="json")


@pytest.mark.parametrize(
    "kwargs", [dict(limit=0), dict(limit=4001), dict(limit=True), dict(fmt="csv"), dict(task_id=0), dict(task_id="12")]
)
def test_pull_arguments_are_checked_before_sending(make, kwargs) -> None:
    client, session = make(xml_reply(VENDOR_STATUS_XML))
    with pytest.raises(ValueError):
        client.status_reports(**kwargs)
    assert session.calls == []


# --- garbage and hostile bodies -----------------------------------------------------------


GARBAGE = [
    pytest.param(200, "text/html", b"<!doctype html><html><body>Welcome to nginx!</body></html>", id="html-doctype"),
    pytest.param(200, "text/html", b"<html><body><p>Hello</p></body></html>", id="xhtml"),
    pytest.param(200, "text/xml", (HEAD + "<returnsms><statusbox><mobile>1</mob").encode(), id="truncated"),
    pytest.param(200, "text/xml", b"", id="empty"),
    pytest.param(200, "text/plain", b"\xff\xfe\x00garbage", id="binary"),
    pytest.param(500, "text/html", b"<h1>Server Error</h1>", id="http-500"),
    pytest.param(302, "text/html", b"", id="redirect"),
    pytest.param(413, "text/xml", (HEAD + "<returnsms/>").encode(), id="http-413-even-with-xml"),
]


@pytest.mark.parametrize("status, ctype, body", GARBAGE)
@pytest.mark.parametrize("call", ["send", "balance", "reports", "uplinks", "pwd"])
def test_garbage_is_protocol_error(make, status, ctype, body, call) -> None:
    client, _ = make((status, ctype, body))
    with pytest.raises(errors.ProtocolError) as info:
        {
            "send": lambda: client.send("1", "x【y】"),
            "balance": client.balance,
            "reports": client.status_reports,
            "uplinks": client.uplinks,
            "pwd": lambda: client.change_password("n"),
        }[call]()
    assert info.value.status_code == status
    assert info.value.body == body[:300]
    assert f"HTTP {status}" in str(info.value)


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>x</body></html>",
        b"[]",
        b'"text"',
        b"42",
        b"null",
        b"{",
        b'{"remark":"x"}',
        b'{"error":"abc","statusbox":[]}',
        b'{"error":"1","statusbox":{"mobile":"1"}}',
        b'{"error":"1","statusbox":["x"]}',
        b"\xff\xfe{}",
    ],
)
def test_json_garbage_is_protocol_error(make, body) -> None:
    client, _ = make((200, "application/json", body))
    with pytest.raises(errors.ProtocolError):
        client.status_reports(fmt="json")


def test_redirect_names_the_new_address() -> None:
    session = FakeSession((301, "text/html", b""))
    client = HttpClient("a", "b", base_url="http://gw.invalid", session=session)

    def post(url, data=None, **kwargs):
        response = FakeSession.post(session, url, data, **kwargs)
        response.headers["Location"] = "https://gw.invalid/I18NSms.aspx"
        assert kwargs["allow_redirects"] is False
        return response

    session.post = post  # type: ignore[method-assign]
    with pytest.raises(errors.ProtocolError, match="redirected to https://gw.invalid"):
        client.balance()


SECRET_FILE = Path(__file__)
HOSTILE = [
    pytest.param(
        HEAD + '<!DOCTYPE returnsms [<!ENTITY x "EXPANDED-ENTITY">]>'
        "<returnsms><statusbox><mobile>&x;</mobile></statusbox></returnsms>",
        id="internal-entity",
    ),
    pytest.param(
        HEAD + f'<!DOCTYPE returnsms [<!ENTITY x SYSTEM "file://{SECRET_FILE}">]>'
        "<returnsms><callbox><content>&x;</content></callbox></returnsms>",
        id="external-entity",
    ),
    pytest.param(
        HEAD + '<!DOCTYPE r [<!ENTITY a "EXPANDED-ENTITY"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><returnsms><statusbox><mobile>&c;</mobile>'
        "</statusbox></returnsms>",
        id="billion-laughs",
    ),
    pytest.param(HEAD + '<!DOCTYPE returnsms SYSTEM "http://127.0.0.1:9/evil.dtd"><returnsms/>', id="external-dtd"),
    pytest.param("<returnsms><statusbox><mobile>&x;</mobile></statusbox></returnsms>", id="undeclared-entity"),
]


@pytest.mark.parametrize("body", HOSTILE)
def test_doctype_and_entities_are_refused_never_expanded(make, body) -> None:
    client, _ = make(xml_reply(body))
    with pytest.raises(errors.ProtocolError) as info:
        client.status_reports()
    assert "EXPANDED-ENTITY" * 2 not in str(info.value)
    assert "from __future__" not in str(info.value)  # this file's text was not read in
    with pytest.raises(errors.ProtocolError):
        parse_push(body.encode())


def test_doctype_in_utf16_is_refused_after_parsing() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE returnsms [<!ENTITY x "EXPANDED-ENTITY">]>'
        "<returnsms><statusbox><mobile>&x;</mobile></statusbox></returnsms>"
    ).encode("utf-16")
    with pytest.raises(errors.ProtocolError, match="DOCTYPE"):
        parse_xml(body)


def test_wrong_root_is_protocol_error() -> None:
    with pytest.raises(errors.ProtocolError, match="<result>"):
        parse_xml(b"<result><statusbox/></result>")
    with pytest.raises(errors.ProtocolError):
        parse_json_boxes(b"[1]", "statusbox")


# --- passwords never leak --------------------------------------------------------------------


@pytest.mark.parametrize("echo", [PASSWORD, md5_password(PASSWORD), md5_password(PASSWORD).lower()])
def test_echoed_password_is_scrubbed(make, echo) -> None:
    client, _ = make(xml_reply(errorstatus(2, f"bad password {echo}")))
    with pytest.raises(errors.PasswordError) as info:
        client.status_reports()
    assert echo not in str(info.value) and echo not in info.value.description and echo not in repr(info.value)
    client, _ = make((500, "text/html", f"<h1>{echo}</h1>".encode()))
    with pytest.raises(errors.ProtocolError) as proto:
        client.balance()
    assert echo not in str(proto.value) and echo.encode() not in proto.value.body
    client, _ = make(send_reply(status="Faild", message=f"x {echo}", task=""))
    result = client.send("1", "x【y】")
    assert echo not in result.message and echo not in repr(result)


def test_new_password_is_scrubbed_too(make) -> None:
    client, _ = make((500, "text/html", b"<h1>Brand-New-9</h1>"))
    with pytest.raises(errors.ProtocolError) as info:
        client.change_password("Brand-New-9")
    assert "Brand-New-9" not in str(info.value)


# --- retries and transport ---------------------------------------------------------------


def test_send_is_never_retried(make) -> None:
    client, session = make(refused(), xml_reply(send_reply()))
    with pytest.raises(errors.TransportError, match="cannot connect"):
        client.send("1", "x【y】")
    assert len(session.calls) == 1


def test_queries_retry_connect_failures_only(make) -> None:
    client, session = make(refused(), requests.ConnectTimeout("connect timed out"), xml_reply(VENDOR_STATUS_XML))
    assert len(client.status_reports()) == 2
    assert len(session.calls) == 3
    client, session = make(refused())
    with pytest.raises(errors.TransportError, match="tried 3 times"):
        client.balance()
    assert len(session.calls) == 3
    client, session = make(refused(), retries=0)
    with pytest.raises(errors.TransportError):
        client.uplinks()
    assert len(session.calls) == 1


@pytest.mark.parametrize(
    "exc",
    [
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError("Connection aborted: RemoteDisconnected"),
        requests.exceptions.SSLError("certificate verify failed"),
    ],
)
def test_failures_after_connecting_are_not_retried(make, exc) -> None:
    client, session = make(exc, xml_reply(VENDOR_STATUS_XML))
    with pytest.raises(errors.TransportError) as info:
        client.status_reports()
    assert len(session.calls) == 1
    if isinstance(exc, requests.ReadTimeout):
        assert "handed out" in str(info.value)


def test_read_timeout_on_send_says_it_may_have_gone_out(make) -> None:
    client, _ = make(requests.ReadTimeout("read timed out"))
    with pytest.raises(errors.TransportError, match="may or may not have reached"):
        client.send("1", "x【y】")


def test_real_closed_port_is_transport_error() -> None:
    client = HttpClient("a", PASSWORD, base_url=f"http://127.0.0.1:{closed_port()}", timeout=2, retry_backoff=0)
    with pytest.raises(errors.TransportError) as info:
        client.balance()
    assert "Connection refused" in str(info.value) and PASSWORD not in str(info.value)


def test_own_session_closed_borrowed_left_open(make) -> None:
    closed = []
    own = HttpClient("a", "b")
    own._session.close = lambda: closed.append("own")  # type: ignore[method-assign]
    with own:
        pass
    client, session = make(xml_reply(VENDOR_STATUS_XML))
    session.close = lambda: closed.append("borrowed")  # type: ignore[method-assign]
    with client:
        pass
    assert closed == ["own"]


# --- push ---------------------------------------------------------------------------------


def test_parse_push_reports_and_uplinks() -> None:
    reports = parse_push(VENDOR_STATUS_XML.encode())
    assert [type(r) for r in reports] == [Report, Report] and reports[0].delivered
    uplinks = parse_push(VENDOR_CALL_XML.encode(), zone="UTC")
    assert uplinks[0].content == "你好，我不需要" and uplinks[0].receive_time.tzinfo == ZoneInfo("UTC")
    mixed = (
        HEAD + "<returnsms><callbox><mobile>1</mobile><content>hi</content></callbox>"
        "<statusbox><mobile>2</mobile><status>10</status></statusbox></returnsms>"
    )
    assert [type(i) for i in parse_push(mixed.encode())] == [Uplink, Report]
    with pytest.raises(errors.ProtocolError):
        parse_push(errorstatus(2, "用户名或密码错误").encode())


def test_push_receiver_answers_1_and_passes_items() -> None:
    seen: list = []
    client = Client(push_receiver(seen.append))
    reply = client.post("/push", data=VENDOR_STATUS_XML.encode(), content_type="text/xml; charset=utf-8")
    assert (reply.status_code, reply.get_data()) == (200, b"1")
    assert reply.headers["Content-Type"].startswith("text/plain")
    assert seen == [parse_push(VENDOR_STATUS_XML.encode())]
    # a form content type must not make the body disappear into form parsing
    reply = client.post("/", data=VENDOR_CALL_XML.encode(), content_type="application/x-www-form-urlencoded")
    assert reply.get_data() == b"1" and seen[-1][0].content == "你好，我不需要"


def test_push_receiver_answers_error_so_the_platform_retries() -> None:
    def boom(items):
        raise RuntimeError("database down")

    assert Client(push_receiver(boom)).post("/", data=VENDOR_STATUS_XML.encode()).get_data() == b"error"
    seen: list = []
    client = Client(push_receiver(seen.append))
    for body in (b"", b"<html>", b"not xml", HOSTILE[0].values[0].encode()):
        assert client.post("/", data=body, content_type="text/xml").get_data() == b"error"
    assert seen == []
    assert client.get("/").status_code == 405
    big = Client(push_receiver(seen.append, max_body=100))
    assert big.post("/", data=VENDOR_STATUS_XML.encode()).get_data() == b"error"


# --- CLI (offline parts) --------------------------------------------------------------------


def test_cli_parses_http_commands() -> None:
    parser = cli.build_parser()
    args = parser.parse_args(["--userid", "9", "reports", "--task", "5", "--limit", "10", "--json", "--format", "json"])
    assert (args.func, args.userid, args.task, args.limit, args.json, args.fmt) == (
        cli._cmd_reports,
        "9",
        5,
        10,
        True,
        "json",
    )
    args = parser.parse_args(["send", "--via", "http", "--to", "1", "--text", "x"])
    assert args.via == "http"
    assert parser.parse_args(["uplinks"]).limit == 4000
    assert parser.parse_args(["passwd"]).new_password is None
    args = parser.parse_args(["listen", "--port", "8099"])
    assert (args.host, args.port) == ("127.0.0.1", 8099)


@pytest.mark.parametrize(
    "argv",
    [
        ["reports", "--limit", "0"],
        ["reports", "--limit", "4001"],
        ["reports", "--task", "x"],
        ["reports", "--format", "csv"],
        ["listen"],
        ["listen", "--port", "70000"],
    ],
)
def test_cli_bad_options_exit_2(argv, capsys) -> None:
    assert cli.main(argv) == 2


def test_cli_passwd_too_long_is_usage_error(monkeypatch, capsys) -> None:
    monkeypatch.setenv("IPYY_ACCOUNT", "a")
    monkeypatch.setenv("IPYY_PASSWORD", "b")
    assert cli.main(["passwd", "x" * 21]) == 2


def test_cli_item_json_and_table() -> None:
    when = datetime(2011, 12, 2, 22, 12, 11, tzinfo=SHANGHAI)
    assert cli.item_to_json(Report("1", 2, 10, when, "DELIVRD", "")) == {
        "type": "report",
        "mobile": "1",
        "task_id": 2,
        "status": 10,
        "delivered": True,
        "receive_time": "2011-12-02T22:12:11+08:00",
        "errorcode": "DELIVRD",
        "extno": "",
    }
    assert cli.item_to_json(Uplink("1", None, "hi", None))["receive_time"] is None
    table = cli.format_table(["A", "BB", "C"], [["long-cell", "x", "last"], ["y", "zz", "z"]])
    lines = table.splitlines()
    assert lines[0] == "A          BB  C"
    assert lines[1].startswith("long-cell  x   last") and lines[2].startswith("y          zz  z")
    assert cli.item_line(Uplink("861", 5, "a\nb", when)).startswith("uplink  5  861")


def test_cli_listen_prints_pushed_items() -> None:
    exe = Path(sys.executable).parent / "ipyy"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "ipyy_client.cli"]
    proc = subprocess.Popen(
        [*cmd, "listen", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        banner = proc.stderr.readline()
        assert "listening on http://127.0.0.1:" in banner, banner
        url = banner.split()[2]
        reply = requests.post(url, data=VENDOR_CALL_XML.encode(), headers={"Content-Type": "text/xml"}, timeout=10)
        assert reply.text == "1"
        first = json.loads(proc.stdout.readline())
        second = json.loads(proc.stdout.readline())
        assert (first["type"], first["content"], second["content"]) == (
            "uplink",
            "你好，我不需要",
            "你好，本次活动路线是怎么的",
        )
        assert requests.post(url, data=b"junk", timeout=10).text == "error"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0
