"""Writes tests/data/replay/*.http: the HTTP, domestic, admin and error-path requests benchmarks/replay.py sends.

    python3 benchmarks/replay_corpus.py        # rewrites the folder; commit what changed
    python3 benchmarks/replay_corpus.py DIR    # writes them to DIR instead (tests/test_replay.py compares)

Why generated: each file must be the exact bytes of one request (Content-Length
right, form values encoded as the tests encode them), which is easier to get
right from the values the tests use (tests/test_http_api.py,
tests/test_domestic_api.py, tests/test_hostile_input.py, tests/test_admin_api.py)
than by hand. The order of the files is the order of the replay, so the
requests that change state come where later ones expect it: accounts first,
sends, the clock advance that releases their reports, the pulls, faults (each
with count 1, so it hits the next request and only it), the password change
last and back. The SOAP requests are tests/data/asmx/, sent before these.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "replay"
out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
out.mkdir(parents=True, exist_ok=True)
for p in out.glob("*.http"):
    p.unlink()
MD5 = hashlib.md5(b"demo123").hexdigest().upper()


def hexc(t):
    return t.encode("utf-16-be").hex().upper()


n = [0]


def raw(name, data: bytes):
    path = out / f"{n[0]:03d}-{name}.http"
    n[0] += 1
    path.write_bytes(data)


def req(name, method, target, body=b"", headers=(), ctype=None, length=True):
    h = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    if ctype:
        h.append(f"Content-Type: {ctype}")
    h += list(headers)
    if length and (body or method in ("POST", "PUT", "PATCH")):
        h.append(f"Content-Length: {len(body)}")
    h.append("Connection: close")
    raw(name, ("\r\n".join(h) + "\r\n\r\n").encode() + body)


FORM = "application/x-www-form-urlencoded"


def form(name, path, params, method="POST"):
    q = urlencode(params)
    if method == "GET":
        req(name, "GET", f"{path}?{q}")
    else:
        req(name, "POST", path, q.encode(), ctype=FORM)


def admin(name, method, path, obj=None):
    body = json.dumps(obj, ensure_ascii=False).encode() if obj is not None else b""
    req(name, method, "/_mock/api" + path, body, ctype="application/json" if obj is not None else None)


def i18n(**o):
    p = dict(
        action="send",
        userid="",
        account="demo",
        password=MD5,
        mobile="8613800138000",
        code="8",
        content=hexc("测试【华信】"),
        sendTime="",
        extno="",
    )
    p.update(o)
    return p


def dom(**o):
    p = dict(
        action="send",
        userid="",
        account="demo",
        password=MD5,
        mobile="13800138000",
        content="您的验证码是1234【华信】",
        sendTime="",
        extno="",
    )
    p.update(o)
    return p


def q(**o):
    p = dict(action="query", userid="", account="demo", password=MD5)
    p.update(o)
    return p


# -- admin reads of a fresh start
admin("admin-accounts", "GET", "/accounts")
admin("admin-clock", "GET", "/clock")
admin("admin-rules", "GET", "/rules")
admin("admin-settings", "GET", "/settings")
admin("admin-warning-codes", "GET", "/warnings/codes")
admin("admin-openapi", "GET", "/openapi.json")
admin(
    "admin-account-add-strict",
    "POST",
    "/accounts",
    {"name": "strict1", "password": "s3cret!", "balance": "10", "strict_auth": True},
)
admin("admin-account-add-poor", "POST", "/accounts", {"name": "poor1", "password": "s3cret!", "balance": "0.01"})
admin("admin-account-get", "GET", "/accounts/strict1")
admin("admin-account-unknown", "GET", "/accounts/nobody")
admin("admin-account-bad-json", "POST", "/accounts", None)
raw(
    "admin-account-broken-json",
    b'POST /_mock/api/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{"name": ',
)
admin("admin-unknown-route", "GET", "/nothing-here")
admin("admin-method-not-allowed", "DELETE", "/clock")

# -- I18NSms.aspx
form("i18n-send-post", "/I18NSms.aspx", i18n())
form("i18n-send-get", "/I18NSms.aspx", i18n(), "GET")
form("i18n-send-lowercase-path-plain-password", "/i18nsms.aspx", i18n(password="demo123"))
form("i18n-send-lowercase-md5", "/I18NSms.aspx", i18n(password=MD5.lower()))
form("i18n-send-two-reporting-numbers", "/I18NSms.aspx", i18n(mobile="8613800138000,8613800000001"))
form("i18n-send-never-reported", "/I18NSms.aspx", i18n(mobile="8613800000004"))
form("i18n-send-auto-reply", "/I18NSms.aspx", i18n(mobile="8613800000005"))
for i, o in enumerate(
    [
        dict(account=""),
        dict(password=""),
        dict(account="nobody"),
        dict(password="0" * 32),
        dict(content="6D4B8BD"),
        dict(content="ZZZZ"),
        dict(code="5"),
        dict(sendTime="tomorrow"),
        dict(action="launch"),
        dict(mobile=""),
        dict(extno="abc"),
        dict(content=hexc("no signature")),
        dict(mobile="8613800000002"),
        dict(password="wrong", content="XYZ"),
    ]
):
    form(f"i18n-refusal-{i:02d}-{'-'.join(o)}", "/I18NSms.aspx", i18n(**o))
form("i18n-strict-plain-password", "/I18NSms.aspx", i18n(account="strict1", password="s3cret!"))
form("i18n-strict-md5", "/I18NSms.aspx", i18n(account="strict1", password=hashlib.md5(b"s3cret!").hexdigest().upper()))
form("i18n-amount-not-enough", "/I18NSms.aspx", i18n(account="poor1", password="s3cret!"))
form("i18n-scheduled", "/I18NSms.aspx", i18n(sendTime="2030-01-01 08:00:00"))
form("i18n-overage", "/I18NSms.aspx", dict(action="overage", userid="", account="demo", password=MD5))
form("i18n-overage-bad-password", "/I18NSms.aspx", dict(action="overage", userid="", account="demo", password="x"))
form("i18n-vendor-example-url", "/I18Nsms.aspx", i18n(password="demo123", content="6D4B8BD53010534E4FE13011"), "GET")

# -- domestic
form("dom-send-xml", "/sms.aspx", dom())
form("dom-send-xml-get", "/sms.aspx", dom(), "GET")
form("dom-send-json", "/smsJson.aspx", dom())
form("dom-send-json-refusal-no-signature", "/smsJson.aspx", dom(content="测试"))
form("dom-path-case", "/SMS.aspx", dom())
form("dom-path-case-json", "/SMSJSON.ASPX", dom())
form("dom-hex-content", "/sms.aspx", dom(content=hexc("测试【华信】")))
form("dom-long-text", "/sms.aspx", dom(content="长" * 150 + "【华信】"))
form("dom-partly-blacklisted", "/sms.aspx", dom(mobile="13800138000,13800000002"))
form("dom-no-channel", "/sms.aspx", dom(mobile="13800000003"))
form("dom-bad-sendtime", "/sms.aspx", dom(sendTime="2026-13-45 99:00:00"))
form("dom-scheduled", "/smsJson.aspx", dom(sendTime="2030-01-01 08:00:00"))
form("dom-unknown-action", "/sms.aspx", dom(action="launch"))
form("dom-unknown-action-json", "/smsJson.aspx", dom(action="launch"))
form("dom-action-case", "/sms.aspx", dom(action="SEND"))
form("dom-overage-xml", "/sms.aspx", dict(action="overage", userid="", account="demo", password=MD5))
form("dom-overage-json-get", "/smsJson.aspx", dict(action="overage", userid="", account="demo", password=MD5), "GET")
form("dom-bad-password-json", "/smsJson.aspx", dom(password="bad"))
form("dom-poor-account", "/sms.aspx", dom(account="poor1", password="s3cret!"))

# -- reports and uplinks, after the clock moves
admin("admin-clock-advance", "POST", "/clock/advance", {"seconds": 120})
admin("admin-clock-after", "GET", "/clock")
admin(
    "admin-uplink-inject",
    "POST",
    "/uplinks",
    {"account": "demo", "mobile": "8613811112222", "content": "你好，我不需要 <b>&"},
)
admin("admin-uplink-bad", "POST", "/uplinks", {"account": "demo"})
form("status-xml", "/statusApi.aspx", q())
form("status-xml-again", "/statusApi.aspx", q())
form("status-json", "/statusJsonApi.aspx", q())
form("status-json-wrong-password", "/statusJsonApi.aspx", q(password="wrong"))
form("status-xml-wrong-password", "/statusApi.aspx", q(password="wrong"))
form("status-unknown-action", "/statusApi.aspx", q(action="fetch"))
form("call-xml", "/callApi.aspx", q())
form("call-json", "/callJsonApi.aspx", q())
form("call-json-again", "/callJsonApi.aspx", q())
admin("admin-tasks", "GET", "/tasks")
admin("admin-messages", "GET", "/messages")
admin("admin-reports", "GET", "/reports")
admin("admin-uplinks", "GET", "/uplinks")
admin("admin-warnings", "GET", "/warnings")
admin("admin-limits", "GET", "/limits")
admin("admin-conversations", "GET", "/conversations")

# -- hostile parameters and bodies
req(
    "aspx-non-utf8-query",
    "GET",
    "/I18NSms.aspx?action=send&account=demo&password=demo123&mobile=8613800138000&code=8&content=%FF%FE",
)
req(
    "aspx-non-utf8-form",
    "POST",
    "/sms.aspx",
    b"action=send&account=demo&password=demo123&mobile=13800138000&content=%B2%E2%CA%D4",
    ctype=FORM,
)
req(
    "aspx-nul-in-param",
    "POST",
    "/sms.aspx",
    b"action=send&account=demo&password=demo123&mobile=13800138000&content=a%00b%E3%80%90%E5%8D%8E%E4%BF%A1%E3%80%91",
    ctype=FORM,
)
req(
    "aspx-repeated-params",
    "POST",
    "/sms.aspx?mobile=13800138001&action=send",
    b"action=send&account=demo&password=demo123&mobile=13800138002&content=%E6%B5%8B%E8%AF%95%E3%80%90%E5%8D%8E%E4%BF%A1%E3%80%91",
    ctype=FORM,
)
req(
    "aspx-xml-body",
    "POST",
    "/sms.aspx",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>',
    ctype="text/xml; charset=utf-8",
)
req(
    "aspx-many-commas",
    "POST",
    "/sms.aspx",
    (
        "action=send&account=demo&password=demo123&content=%E6%B5%8B%E8%AF%95%E3%80%90%E5%8D%8E%E4%BF%A1%E3%80%91&mobile="
        + "," * 10000
    ).encode(),
    ctype=FORM,
)
mp = (
    b'--XyZ\r\nContent-Disposition: form-data; name="action"\r\n\r\nsend\r\n--XyZ\r\nContent-Disposition: form-data; name="account"\r\n\r\ndemo\r\n'
    b'--XyZ\r\nContent-Disposition: form-data; name="password"\r\n\r\ndemo123\r\n--XyZ\r\nContent-Disposition: form-data; name="mobile"\r\n\r\n13800138000\r\n'
    b'--XyZ\r\nContent-Disposition: form-data; name="content"\r\n\r\n\xb2\xe2\xca\xd4\r\n--XyZ--\r\n'
)
req("aspx-multipart-non-utf8", "POST", "/sms.aspx", mp, ctype="multipart/form-data; boundary=XyZ")
chunk = b"action=overage&account=demo&password=demo123"
raw(
    "aspx-chunked-body",
    b"POST /sms.aspx HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
    + FORM.encode()
    + b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    + f"{len(chunk):x}".encode()
    + b"\r\n"
    + chunk
    + b"\r\n0\r\n\r\n",
)
raw(
    "oversize-announced-soap",
    b'POST /WebService.asmx HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\nSOAPAction: "http://www.yysms.com/SendSms"\r\nContent-Length: 5000000\r\nConnection: close\r\n\r\n',
)
raw(
    "oversize-announced-aspx",
    b"POST /sms.aspx HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
    + FORM.encode()
    + b"\r\nContent-Length: 5000000\r\nConnection: close\r\n\r\n",
)
req("unknown-path", "GET", "/nothing.aspx")
req("root-path", "GET", "/")
req("soap-get-no-wsdl", "GET", "/WebService.asmx")
req("soap-put", "PUT", "/WebService.asmx", b"x", ctype="text/xml")
req("aspx-put", "PUT", "/sms.aspx", b"x", ctype=FORM)

# -- injected faults (count 1, probability 1: deterministic)
SOAP_OK = (ROOT / "tests/data/asmx" / "01-sendi18nsms-ok-soap11.http").read_bytes()
SOAP12_OK = (ROOT / "tests/data/asmx" / "02-sendi18nsms-ok-soap12.http").read_bytes()
admin("fault-add-soap-fault", "POST", "/faults", {"endpoint": "soap", "kind": "soap_fault", "count": 1})
raw("fault-soap-fault-hit", SOAP_OK)
raw("fault-soap-fault-spent", SOAP_OK)
admin("fault-add-soap-fault-12", "POST", "/faults", {"endpoint": "soap", "kind": "soap_fault", "count": 1})
raw("fault-soap-fault-12-hit", SOAP12_OK)
admin("fault-add-http-500", "POST", "/faults", {"endpoint": "send", "kind": "http_500", "count": 1})
form("fault-http-500-hit", "/I18NSms.aspx", i18n())
admin("fault-add-http-503-soap", "POST", "/faults", {"endpoint": "soap", "kind": "http_503", "count": 1})
raw("fault-http-503-hit", SOAP_OK)
for kind, value in (("empty", None), ("malformed", None), ("reset", None), ("latency", 50)):
    admin(
        f"fault-add-{kind}",
        "POST",
        "/faults",
        {"endpoint": "soap", "kind": kind, "count": 1, **({"value": value} if value else {})},
    )
    raw(f"fault-{kind}-hit", SOAP_OK)
admin("fault-add-bad-kind", "POST", "/faults", {"endpoint": "soap", "kind": "explode", "count": 1})
admin("fault-add-bad-endpoint", "POST", "/faults", {"endpoint": "nowhere", "kind": "http_500", "count": 1})
admin("fault-add-pending", "POST", "/faults", {"endpoint": "domestic", "kind": "http_500", "count": 5})
admin("faults-list", "GET", "/faults")
admin("faults-delete-one", "DELETE", "/faults/4")
admin("faults-delete-all", "DELETE", "/faults")
admin("faults-list-empty", "GET", "/faults")

# -- rules and settings
admin("rules-add", "POST", "/rules", {"pattern": "8613900000001", "outcome": "failed", "errorcode": "UNDELIV"})
admin("rules-after-add", "GET", "/rules")
admin("rules-reset", "DELETE", "/rules")
admin("settings-patch-bad", "PATCH", "/settings", {"no_such_setting": 1})

# -- password change last (it changes what later requests may do)
form("pwd-too-long", "/pwd.aspx", dict(account="demo", password="demo123", newpassword="x" * 21))
form("pwd-bad-password", "/pwd.aspx", dict(account="demo", password="bad", newpassword="fine"))
form("pwd-change", "/pwd.aspx", dict(userid="", account="demo", password="demo123", newpassword="n3w-密码"))
form("i18n-old-password-after-change", "/I18NSms.aspx", i18n())
form("pwd-change-back", "/pwd.aspx", dict(userid="", account="demo", password="n3w-密码", newpassword="demo123"))
admin("admin-accounts-end", "GET", "/accounts")
print(n[0], "requests")
