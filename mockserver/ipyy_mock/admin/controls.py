"""The admin API's own levers: the virtual clock, scenario rules, delivery settings, uplink injection, pushes.

Each handler is ``handler(admin, request, **path_args)`` and is named in the
route table (admin/routes.py); it checks the JSON, calls the Platform, and
answers JSON. Errors are AdminError (admin/jsonapi.py): a 4xx with a hint.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from ipyy_mock.admin.jsonapi import AdminError, body, json_response, limit_arg
from ipyy_mock.admin.openapi import describe
from ipyy_mock.core import clock, delivery, scenarios, settings
from ipyy_mock.core.validation import parse_count

if TYPE_CHECKING:  # the app imports this module through its route table
    from ipyy_mock.admin.api import AdminApi

RULE_FIELDS = ("pattern", "outcome", "errorcode", "delay", "reply")
DIGITS = re.compile(r"\+?[0-9]{3,20}")


def clock_json(admin: AdminApi) -> dict[str, Any]:
    now = admin.platform.now_datetime()
    return {"now": now.isoformat(), "zone": str(admin.platform.zone), "offset_seconds": admin.platform.clock_offset()}


# -- clock --------------------------------------------------------------------
def get_clock(admin: AdminApi, request: Request) -> Response:
    return json_response(clock_json(admin))


def advance_clock(admin: AdminApi, request: Request) -> Response:
    data = body(request, '{"seconds": 60}')
    seconds = data.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds != seconds:
        raise AdminError(400, f"seconds must be a number, got {seconds!r}", 'e.g. {"seconds": 3600}')
    if not 0 <= seconds <= 10 * 366 * 86400:
        raise AdminError(
            400, f"seconds must be between 0 and ten years, got {seconds!r}", "the virtual clock only moves forward"
        )
    before = admin.platform.now()
    released = admin.platform.advance(float(seconds))
    admin.wake()
    return json_response(
        {
            **clock_json(admin),
            "advanced_seconds": float(seconds),
            "from": clock.from_epoch(before, admin.platform.zone).isoformat(),
            "released": released.as_json(),
        }
    )


# -- uplinks ------------------------------------------------------------------
def post_uplink(admin: AdminApi, request: Request) -> Response:
    example = '{"account": "demo", "mobile": "8613800138000", "content": "TD", "extno": ""}'
    data = body(request, example)
    unknown = sorted(set(data) - {"account", "mobile", "content", "extno"})
    if unknown:
        raise AdminError(400, f"unknown field(s): {', '.join(unknown)}", f"fields: {example}")
    account, mobile = data.get("account"), data.get("mobile")
    content, extno = data.get("content"), data.get("extno", "") or ""
    if not isinstance(account, str) or not account:
        raise AdminError(400, "account is required", example)
    if not isinstance(mobile, str) or not DIGITS.fullmatch(mobile.strip()):
        raise AdminError(400, f"mobile must be a phone number (digits), got {mobile!r}", example)
    if not isinstance(content, str) or not content:
        raise AdminError(400, "content must be a non-empty string", example)
    if not isinstance(extno, str) or (extno and parse_count(extno) is None):
        raise AdminError(400, f"extno must be digits or empty, got {extno!r}", example)
    if admin.platform.store.get_account(account) is None:
        raise AdminError(404, f"no account {account!r}", "create it with `ipyy-mock account add NAME --password P`")
    injected = admin.platform.inject_uplink(account, mobile.strip().lstrip("+"), content, extno)
    admin.wake()
    return json_response(
        {
            "id": injected.id,
            "account": account,
            "mobile": mobile.strip().lstrip("+"),
            "task_id": injected.task_id,
            "content": content,
            "extno": extno,
            "route": injected.route,
        },
        201,
    )


# -- rules ----------------------------------------------------------------------
def rules_json(admin: AdminApi) -> dict[str, Any]:
    return {"rules": [asdict(r) for r in admin.platform.rules()], "outcomes": list(scenarios.OUTCOMES)}


def parse_rule(data: Any) -> scenarios.Rule:
    example = '{"pattern": "86139\\\\d{8}", "outcome": "failed", "errorcode": "REJECTD", "delay": 60, "reply": ""}'
    if not isinstance(data, dict):
        raise AdminError(400, "a rule must be a JSON object", example)
    unknown = sorted(set(data) - set(RULE_FIELDS) - {"position"})
    if unknown:
        raise AdminError(400, f"unknown rule field(s): {', '.join(unknown)}", f"fields: {', '.join(RULE_FIELDS)}")
    pattern = data.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        raise AdminError(400, "pattern is required: a regular expression matched against the whole number", example)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise AdminError(
            400,
            f"pattern is not a valid regular expression: {exc}",
            'escape backslashes in JSON, e.g. "86139\\\\d{8}"; the pattern must match the '
            "whole number, country code first",
        ) from None
    outcome = data.get("outcome", scenarios.DELIVERED)
    if outcome not in scenarios.OUTCOMES:
        raise AdminError(400, f"unknown outcome {outcome!r}", f"one of: {', '.join(scenarios.OUTCOMES)}")
    errorcode = data.get("errorcode", "") or ""
    if not isinstance(errorcode, str) or len(errorcode) > 20:
        raise AdminError(400, "errorcode must be a short string (the report's errorcode)", 'e.g. "UNDELIV"')
    delay = data.get("delay")
    if delay is not None:
        try:
            delay = settings.VALIDATORS["report_delay"](delay)
        except settings.SettingError as exc:
            raise AdminError(
                400,
                str(exc).replace("report_delay", "delay"),
                "seconds from send to report, or null for the default report_delay",
            ) from None
    reply = data.get("reply", "") or ""
    if not isinstance(reply, str):
        raise AdminError(400, "reply must be a string: the uplink that number sends back after its report", 'e.g. "TD"')
    return scenarios.Rule(pattern, outcome, errorcode, delay, reply)


def get_rules(admin: AdminApi, request: Request) -> Response:
    return json_response(rules_json(admin))


def post_rule(admin: AdminApi, request: Request) -> Response:
    data = body(request, '{"pattern": "8613900000001", "outcome": "failed", "errorcode": "REJECTD"}')
    rule = parse_rule(data)
    position = data.get("position", 0)
    count = len(admin.platform.rules())
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= count:
        raise AdminError(
            400,
            f"position must be an index from 0 to {count}",
            "0 (the default) puts the rule first, so it wins over every other rule",
        )
    admin.platform.add_rule(rule, position)
    return json_response({"rule": asdict(rule), **rules_json(admin)}, 201)


def put_rules(admin: AdminApi, request: Request) -> Response:
    data = body(request, '{"rules": [{"pattern": "86138\\\\d{8}", "outcome": "delivered"}]}')
    rules = data.get("rules")
    if not isinstance(rules, list):
        raise AdminError(400, "rules must be a list of rules", "GET this endpoint to see the shape")
    parsed = [parse_rule({k: v for k, v in r.items() if k != "position"} if isinstance(r, dict) else r) for r in rules]
    admin.platform.set_rules(parsed)
    return json_response(rules_json(admin))


def delete_rules(admin: AdminApi, request: Request) -> Response:
    """Back to the default rules: the test numbers of docs/contract.md."""
    admin.platform.set_rules(None)
    return json_response(rules_json(admin))


def delete_rule(admin: AdminApi, request: Request, index: int) -> Response:
    rules = list(admin.platform.rules())
    if not 0 <= index < len(rules):
        raise AdminError(404, f"no rule at index {index}", f"indexes run from 0 to {len(rules) - 1}")
    del rules[index]
    admin.platform.set_rules(rules)
    return json_response(rules_json(admin))


# -- settings ---------------------------------------------------------------
def get_settings(admin: AdminApi, request: Request) -> Response:
    return json_response(admin.platform.delivery_settings().as_json())


def put_settings(admin: AdminApi, request: Request) -> Response:
    data = body(request, '{"report_delay": 5, "push_timeout": 5, "push_retry_pauses": [1, 4]}')
    try:
        current = settings.save(admin.platform.store, data)
    except settings.SettingError as exc:
        raise AdminError(400, str(exc), exc.hint) from None
    admin.wake()
    return json_response(current.as_json())


# -- push journal -------------------------------------------------------------
def get_pushes(admin: AdminApi, request: Request) -> Response:
    account = request.args.get("account") or None
    limit = limit_arg(request, 50)
    zone = admin.platform.zone
    batches = delivery.list_batches(
        admin.platform.store.db, account, limit, lambda t: clock.from_epoch(t, zone).isoformat()
    )
    return json_response({"batches": batches})


# -- this API ------------------------------------------------------------------------------------
def get_openapi(admin: AdminApi, request: Request) -> Any:
    return describe(admin.routes)
