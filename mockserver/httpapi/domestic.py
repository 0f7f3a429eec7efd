"""The vendor's domestic interface: ``/sms.aspx`` (XML) and ``/smsJson.aspx`` (JSON), docs/domestic.md.

The international HTTP interface's sibling: the same parameters except that
``content`` is plain text (not UTF-16BE hex) and ``mobile`` holds Chinese
11-digit numbers (read by the SendHybridSms rules, so ``8613800138000``
works too), the same send rules and codes (``Platform.send`` with
``via="domestic"``), and replies that count points instead of money
(``remainpoint``, ``overage``, ``sendTotal``; the mapping is
``core.points``). This module only translates; the request handling
(dispatch, login, the never-a-500 guard, sendTime parsing, the credential
messages) and the XML/JSON writers are the HTTP API's own, imported.
"""
from __future__ import annotations

from werkzeug.wrappers import Request, Response

from ipyy_client.codes import ResultCode

from ipyy_mock.core import points
from ipyy_mock.core.platform import Platform
from ipyy_mock.core.wire import SendRequest
from ipyy_mock.httpapi import replies as R
from ipyy_mock.httpapi.api import HttpApi, credential_message, parse_send_time

#: app.py's endpoint names: XML and JSON replies.
XML_ENDPOINT = "domestic"
JSON_ENDPOINT = "domestic_json"
ENDPOINTS = (XML_ENDPOINT, JSON_ENDPOINT)
#: Where ``sendTime`` did not parse (the same text as I18NSms.aspx).
BAD_SEND_TIME = "sendTime must look like 2010-10-24 09:08:10"


# --- reply bodies ---------------------------------------------------------------------
# One list of (name, text) pairs per reply, written by the HTTP API's XML writer or as a JSON
# object of strings (every value is a string on the wire: "remainpoint":"0").


def _body(fields: list[tuple[str, str]], json_reply: bool) -> bytes:
    return R._json(dict(fields)) if json_reply else R._returnsms(fields)


def send_reply(ok: bool, message: str, remain_points: int = 0, task_id: int = 0, count: int = 0, *,
               json_reply: bool) -> bytes:
    """``returnstatus, message, remainpoint, taskID, successCounts``; a refusal says 0, "", 0 (the vendor's)."""
    return _body([
        ("returnstatus", R.SUCCESS if ok else R.FAILED), ("message", message),
        ("remainpoint", str(remain_points) if ok else "0"), ("taskID", str(task_id) if ok and task_id else ""),
        ("successCounts", str(count) if ok else "0"),
    ], json_reply)


def overage_reply(message: str, figures: points.PointsOverage | None, *, json_reply: bool) -> bytes:
    """``returnstatus (Sucess, sic), message (empty), payinfo, overage, sendTotal``; None is a refusal: Faild, 0, 0."""
    if figures is None:
        return _body([("returnstatus", R.FAILED), ("message", message), ("payinfo", ""), ("overage", "0"),
                      ("sendTotal", "0")], json_reply)
    return _body([
        ("returnstatus", R.PWD_SUCCESS), ("message", message), ("payinfo", R.PAY_TYPES.get(figures.pay_type, "")),
        ("overage", str(figures.points)), ("sendTotal", str(figures.send_total)),
    ], json_reply)


def refusal_body(endpoint: str, message: str, action: str = "") -> tuple[str, bytes]:
    """(content type, body) of a refusal before the request was read (limits.py: size, encoding)."""
    json_reply = endpoint == JSON_ENDPOINT
    ctype = R.JSON_TYPE if json_reply else R.XML_TYPE
    if action == "overage":
        return ctype, overage_reply(message, None, json_reply=json_reply)
    return ctype, send_reply(False, message, json_reply=json_reply)


# --- the surface ----------------------------------------------------------------------


class DomesticApi(HttpApi):
    """``environ['ipyy.endpoint']`` (set by the router) is ``domestic`` (XML) or ``domestic_json`` (JSON).

    A subclass of the HTTP API for its request handling: ``__call__`` (an
    unexpected error answers in the endpoint's format), ``login`` and the
    reply helpers; only the handlers and the error reply are this surface's.
    """

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.handlers = {
            XML_ENDPOINT: lambda req: self.sms(req, json_reply=False),
            JSON_ENDPOINT: lambda req: self.sms(req, json_reply=True),
        }

    def reply(self, body: bytes, json_reply: bool) -> Response:
        return self.json(body) if json_reply else self.xml(body)

    def internal_error(self, endpoint: str) -> Response:
        json_reply = endpoint == JSON_ENDPOINT
        return self.reply(send_reply(False, ResultCode.InternalError.description, json_reply=json_reply), json_reply)

    def sms(self, request: Request, *, json_reply: bool) -> Response:
        action = (request.values.get("action") or "").strip().lower()
        if action == "send":
            return self.domestic_send(request, json_reply)
        if action == "overage":
            return self.domestic_overage(request, json_reply)
        return self.reply(send_reply(False, ResultCode.ParamError.description, json_reply=json_reply), json_reply)

    def domestic_send(self, request: Request, json_reply: bool) -> Response:
        values = request.values
        send_time, problem = None, None
        raw_time = (values.get("sendTime") or values.get("sendtime") or "").strip()
        if raw_time:
            try:
                send_time = parse_send_time(raw_time)
            except ValueError:
                problem = BAD_SEND_TIME
        outcome = self.platform.send(SendRequest(
            account=values.get("account"), password=values.get("password"), msisdns=values.get("mobile"),
            content=values.get("content"), plan_send_time=send_time, ext_number=values.get("extno"), hybrid=True,
            client_ip=request.remote_addr or "", via="domestic", param_error=problem,
        ))
        if not outcome.ok:
            message = credential_message(outcome.code)
            return self.reply(send_reply(False, message, json_reply=json_reply), json_reply)
        account = self.platform.store.get_account(values.get("account", "").strip())
        left = points.points(account, outcome.balance) if account is not None else 0
        return self.reply(send_reply(True, R.MSG_OK, left, outcome.task_id, outcome.success_count,
                                     json_reply=json_reply), json_reply)

    def domestic_overage(self, request: Request, json_reply: bool) -> Response:
        account = self.login(request)
        if isinstance(account, ResultCode):
            return self.reply(overage_reply(credential_message(account), None, json_reply=json_reply), json_reply)
        figures = points.overage(self.platform.store, account)
        return self.reply(overage_reply("", figures, json_reply=json_reply), json_reply)


def make_domestic_app(platform: Platform) -> DomesticApi:
    return DomesticApi(platform)
