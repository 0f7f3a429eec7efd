"""The vendor's domestic interface: ``/sms.aspx`` (XML) and ``/smsJson.aspx`` (JSON), docs/domestic.md.

The international HTTP interface's sibling: the same parameters except that
``content`` is plain text (not UTF-16BE hex) and ``mobile`` holds Chinese
11-digit numbers (read by the SendHybridSms rules, so ``8613800138000``
works too), the same send rules and codes (``Platform.send`` with
``via="domestic"``), and replies that count points instead of money
(``remainpoint``, ``overage``, ``sendTotal``; the mapping is
``core.points``). This module only translates; the request handling
(parameters read as ASP.NET reads them, the SendRequest with sendTime and
the parameter warnings, login, the never-a-500 guard, the credential and
strict-mode messages) and the XML/JSON writers are the HTTP API's own.
"""

from __future__ import annotations

from ipyy_client.codes import ResultCode
from ipyy_mock.core import conformance, points
from ipyy_mock.core.platform import Platform
from ipyy_mock.httpapi import replies as R
from ipyy_mock.httpapi.api import HttpApi, Reply, credential_message, strict_message
from ipyy_mock.httpapi.domestic_replies import ENDPOINTS, JSON_ENDPOINT, XML_ENDPOINT, overage_reply, send_reply
from ipyy_mock.httpapi.params import PageRequest, Params

__all__ = ["DomesticApi", "make_domestic_app", "ENDPOINTS"]


# --- the surface ----------------------------------------------------------------------


class DomesticApi(HttpApi):
    """The request's endpoint (its Exchange, set by the router) is ``domestic`` (XML) or ``domestic_json`` (JSON).

    A subclass of the HTTP API for its request handling: ``__call__`` (an
    unexpected error answers in the endpoint's format), ``login`` and the
    reply helpers; only the handlers and the error reply are this surface's.
    """

    via = "domestic"

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.handlers = {
            XML_ENDPOINT: lambda req: self.sms(req, json_reply=False),
            JSON_ENDPOINT: lambda req: self.sms(req, json_reply=True),
        }

    def reply(self, body: bytes, json_reply: bool) -> Reply:
        return self.json(body) if json_reply else self.xml(body)

    def internal_error(self, endpoint: str) -> Reply:
        json_reply = endpoint == JSON_ENDPOINT
        return self.reply(send_reply(False, ResultCode.InternalError.description, json_reply=json_reply), json_reply)

    def sms(self, request: PageRequest, *, json_reply: bool) -> Reply:
        params = Params(request)  # read as ASP.NET reads them, with the page's parameter warnings
        action = params.text("action").strip().lower()
        if action == "send":
            return self.domestic_send(request, params, json_reply)
        if action == "overage":
            return self.domestic_overage(request, params, json_reply)
        conformance.attach(request.environ, params.warnings)
        return self.reply(send_reply(False, ResultCode.ParamError.description, json_reply=json_reply), json_reply)

    def domestic_send(self, request: PageRequest, params: Params, json_reply: bool) -> Reply:
        outcome = self.platform.send(
            self.send_request(request, params, content=params.get("content"), problem=None, via="domestic", hybrid=True)
        )
        conformance.attach(request.environ, outcome.warnings, outcome.code)
        if not outcome.ok:
            message = credential_message(outcome.code)
            if outcome.strict_refusal is not None:
                message = strict_message(message, outcome.strict_refusal)
            return self.reply(send_reply(False, message, json_reply=json_reply), json_reply)
        # its price makes the points (prices as current as the send's own checks; the balance is the send's)
        account = self.platform.store.cached_account(params.text("account").strip())
        left = points.points(account, outcome.balance) if account is not None else 0
        return self.reply(
            send_reply(True, R.MSG_OK, left, outcome.task_id, outcome.success_count, json_reply=json_reply), json_reply
        )

    def domestic_overage(self, request: PageRequest, params: Params, json_reply: bool) -> Reply:
        account = self.login(request, params)
        if isinstance(account, ResultCode):
            return self.reply(overage_reply(credential_message(account), None, json_reply=json_reply), json_reply)
        if params.refusal is not None:
            message = strict_message(ResultCode.ParamError.description, params.refusal)
            return self.reply(overage_reply(message, None, json_reply=json_reply), json_reply)
        figures = points.overage(self.platform.store, account)
        return self.reply(overage_reply("", figures, json_reply=json_reply), json_reply)


def make_domestic_app(platform: Platform) -> DomesticApi:
    return DomesticApi(platform)
