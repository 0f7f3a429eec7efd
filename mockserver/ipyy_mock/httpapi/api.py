"""The vendor's HTTP interface (docs/contract.md §4): form or query in, the vendor's XML or JSON out.

This module only translates: parameters become a SendRequest or a Platform
query, and ResultCodes become the vendor's reply shapes and message strings.
Every failure, expected or not, is answered in the endpoint's own format.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable, Iterable, NamedTuple

from werkzeug.exceptions import RequestEntityTooLarge

from ipyy_client.codes import ResultCode
from ipyy_client.encoding import decode_content
from ipyy_mock.core import conformance
from ipyy_mock.core.conformance import ConformanceWarning
from ipyy_mock.core.domain import SendRequest
from ipyy_mock.core.exchange import Exchange
from ipyy_mock.core.platform import MAX_PULL, Platform
from ipyy_mock.core.store import Account
from ipyy_mock.httpapi import replies as R
from ipyy_mock.httpapi.params import PageRequest, Params, parse_count, query_text, split_pairs
from ipyy_mock.httpapi.refusals import form_refusal, status_line

log = logging.getLogger("ipyy_mock.http")

EMPTY_CREDENTIALS = (ResultCode.UserNameEmpty, ResultCode.PasswordEmpty)
BAD_CREDENTIALS = (ResultCode.UserNameError, ResultCode.PasswordError)
SEND_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M")
MAX_NEW_PASSWORD = 20


def credential_message(code: ResultCode) -> str:
    """The vendor's two credential messages; any other code speaks its own description."""
    if code in EMPTY_CREDENTIALS:
        return R.MSG_EMPTY_CREDENTIALS
    if code in BAD_CREDENTIALS:
        return R.MSG_BAD_CREDENTIALS
    return code.description


def strict_message(message: str, refusal: ConformanceWarning) -> str:
    """A strict-mode refusal's message: the vendor's text, then the warning that refused it."""
    return f"{message} (strict: {refusal.text()})"


class Reply(NamedTuple):
    """A page's answer: always HTTP 200, as the vendor answers every outcome, in XML or JSON."""

    content_type: str
    body: bytes


def parse_send_time(text: str) -> datetime | None:
    if not text.isprintable():  # C's fromisoformat stops at a NUL: "…00:00\x00" would pass
        raise ValueError("sendTime has control characters")
    for fmt in SEND_TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return datetime.fromisoformat(text)  # ValueError when it is nothing we know


class HttpApi:
    """One instance per worker; the request's endpoint (its Exchange, set by the router) picks the handler."""

    via = "http"  # what the warnings and tasks of this surface are recorded as

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.handlers: dict[str, Callable[[PageRequest], Reply]] = {
            "send": self.i18nsms,
            "status": lambda req: self.queue(req, "statusbox", json_reply=False),
            "status_json": lambda req: self.queue(req, "statusbox", json_reply=True),
            "call": lambda req: self.queue(req, "callbox", json_reply=False),
            "call_json": lambda req: self.queue(req, "callbox", json_reply=True),
            "pwd": self.pwd,
        }

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = PageRequest(environ)
        endpoint = Exchange.of(environ).endpoint or "send"
        try:
            reply = self.handlers[endpoint](request)
        except RequestEntityTooLarge:  # werkzeug's multipart limits (over 1000 parts): say so, not 9999
            action = next((value for name, value in split_pairs(query_text(environ)) if name == "action"), "")
            text = "请求的参数太多 (too many form parts)"
            status, ctype, body = form_refusal(endpoint, text, text, 413, action.lower())
            start_response(status_line(413), [("Content-Type", ctype), ("Content-Length", str(len(body)))])
            return [body]
        except Exception:  # a bug must still answer in the vendor's format, never a bare 500
            log.exception("internal error on %s", request.path)
            reply = self.internal_error(endpoint)
        start_response("200 OK", [("Content-Type", reply.content_type), ("Content-Length", str(len(reply.body)))])
        return [reply.body]

    # -- helpers -----------------------------------------------------------
    @staticmethod
    def xml(body: bytes) -> Reply:
        return Reply(R.XML_TYPE, body)

    @staticmethod
    def json(body: bytes) -> Reply:
        return Reply(R.JSON_TYPE, body)

    def internal_error(self, endpoint: str) -> Reply:
        message = ResultCode.InternalError.description
        if endpoint == "pwd":
            return self.xml(R.pwd_reply(False, message))
        if endpoint in ("status", "call"):
            return self.xml(R.xml_error(4, message))
        if endpoint in ("status_json", "call_json"):
            box = "statusbox" if endpoint == "status_json" else "callbox"
            return self.json(R.json_error(ResultCode.InternalError.code, message, box))
        return self.xml(R.send_reply(False, message, 0, 0, 0, 0))

    def login(self, request: PageRequest, params: Params) -> Account | ResultCode:
        """Authenticate a request other than a send; its warnings are recorded (strict mode: see ``strict``)."""
        account = self.platform.authenticate(
            params.get("account"), params.get("password"), request.remote_addr, http=True
        )
        if not isinstance(account, ResultCode):
            params.refusal = self.platform.conform(account, self.via, params.get("password"), params.warnings)
        conformance.attach(request.environ, params.warnings)
        return account

    # -- I18NSms.aspx --------------------------------------------------------
    def i18nsms(self, request: PageRequest) -> Reply:
        params = Params(request)
        action = params.text("action").strip().lower()
        if action == "send":
            return self.send(request, params)
        if action == "overage":
            return self.overage(request, params)
        conformance.attach(request.environ, params.warnings)
        return self.xml(R.send_reply(False, ResultCode.ParamError.description, 0, 0, 0, 0))

    def send_request(
        self, request: PageRequest, params: Params, *, content: str | None, problem: str | None, via: str, hybrid: bool
    ) -> SendRequest:
        """The SendRequest of an HTTP send (I18NSms.aspx, and the domestic sms.aspx/smsJson.aspx): the fields
        every send page reads alike, sendTime's formats, and the page's parameter warnings."""
        send_time = None
        raw_time = params.text("sendTime").strip()
        if raw_time:
            try:
                send_time = parse_send_time(raw_time)
            except ValueError:
                problem = problem or "sendTime must look like 2010-10-24 09:08:10"
        return SendRequest(
            account=params.get("account"),
            password=params.get("password"),
            msisdns=params.get("mobile"),
            content=content,
            plan_send_time=send_time,
            ext_number=params.get("extno"),
            hybrid=hybrid,
            client_ip=request.remote_addr,
            via=via,
            param_error=problem,
            warnings=params.warnings,
            fault=Exchange.of(request.environ).send_fault(via),
        )

    def send(self, request: PageRequest, params: Params) -> Reply:
        problem = None
        content = None
        code = params.text("code").strip() or "8"
        if code not in ("8", "0"):
            problem = "code must be 8 or 0"
        elif code != "8":
            params.warnings.append(ConformanceWarning("code-not-8", f"code={code}"))
        try:
            content = decode_content(params.text("content"))
        except ValueError as exc:
            problem = problem or str(exc)
        outcome = self.platform.send(
            self.send_request(request, params, content=content, problem=problem, via="http", hybrid=False)
        )
        conformance.attach(request.environ, outcome.warnings, outcome.code)
        message = R.MSG_OK if outcome.ok else credential_message(outcome.code)
        if outcome.strict_refusal is not None:
            message = strict_message(message, outcome.strict_refusal)
        return self.xml(
            R.send_reply(
                outcome.ok, message, outcome.balance, outcome.task_id, outcome.billing_amount, outcome.success_count
            )
        )

    def overage(self, request: PageRequest, params: Params) -> Reply:
        account = self.login(request, params)
        if isinstance(account, ResultCode):
            return self.xml(R.overage_reply(False, credential_message(account), "", 0))
        if params.refusal is not None:
            return self.xml(
                R.overage_reply(False, strict_message(ResultCode.ParamError.description, params.refusal), "", 0)
            )
        return self.xml(R.overage_reply(True, R.MSG_OK, account.pay_type, account.balance))

    # -- statusApi.aspx / callApi.aspx and their JSON twins --------------------
    def queue(self, request: PageRequest, box: str, *, json_reply: bool) -> Reply:
        params = Params(request)
        account = self.login(request, params)
        if isinstance(account, ResultCode):
            return self.queue_error(box, json_reply, account, credential_message(account))
        if params.refusal is not None:
            return self.queue_error(
                box, json_reply, ResultCode.ParamError, strict_message(R.MSG_BAD_PARAMS, params.refusal)
            )
        if params.text("action").strip().lower() != "query":
            return self.queue_error(box, json_reply, ResultCode.ParamError, R.MSG_BAD_PARAMS)
        raw_num = params.text("statusNum").strip()
        raw_task = params.text("taskid").strip()
        num = parse_count(raw_num) if raw_num else MAX_PULL
        task = parse_count(raw_task) if raw_task else None
        if num is None or (raw_task and task is None):  # not digits, or beyond a 64-bit integer: parameter error
            return self.queue_error(box, json_reply, ResultCode.ParamError, R.MSG_BAD_PARAMS)
        limit = min(num, MAX_PULL)
        if box == "statusbox":
            if not account.can_read_reports:
                return self.queue_error(box, json_reply, None, R.MSG_NO_REPORTS)
            reports = self.platform.pull_reports(account, limit, task)
            if json_reply:
                return self.json(R.boxes_json(box, [R.report_fields(r) for r in reports]))
            return self.xml(R.statusbox_xml(reports))
        uplinks = self.platform.pull_uplinks(account, limit)
        if json_reply:
            return self.json(R.boxes_json(box, [R.uplink_fields(u) for u in uplinks]))
        return self.xml(R.callbox_xml(uplinks))

    def queue_error(self, box: str, json_reply: bool, code: ResultCode | None, remark: str) -> Reply:
        """XML numbers errors 1–4 (the vendor's table); JSON carries the ResultCode number."""
        if json_reply:
            number = (code or ResultCode.ParamError).code
            if code is ResultCode.PasswordError:
                remark = R.JSON_PASSWORD_REMARK
            elif code is not None and code is not ResultCode.ParamError:
                remark = code.description
            return self.json(R.json_error(number, remark, box))
        if code in EMPTY_CREDENTIALS:
            number = 1
        elif code is None:
            number = 3
        elif code is ResultCode.ParamError:
            number = 4
        else:
            number = 2
        return self.xml(R.xml_error(number, remark))

    # -- pwd.aspx -------------------------------------------------------------
    def pwd(self, request: PageRequest) -> Reply:
        params = Params(request)
        account = self.login(request, params)
        if isinstance(account, ResultCode):
            return self.xml(R.pwd_reply(False, credential_message(account)))
        if params.refusal is not None:
            return self.xml(R.pwd_reply(False, strict_message(ResultCode.ParamError.description, params.refusal)))
        new = params.text("newpassword")
        if not new or len(new) > MAX_NEW_PASSWORD:
            return self.xml(R.pwd_reply(False, f"新密码长度须为1到{MAX_NEW_PASSWORD}位"))
        if R.xml_problem(new):  # a password SOAP (XML) cannot carry would lock SOAP out
            return self.xml(R.pwd_reply(False, ResultCode.ParamError.description))
        self.platform.change_password(account, new)
        return self.xml(R.pwd_reply(True, R.MSG_OK))


def make_http_app(platform: Platform) -> HttpApi:
    return HttpApi(platform)
