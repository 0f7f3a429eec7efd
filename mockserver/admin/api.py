"""The mock's own admin API under ``/_mock/api/``: JSON in, JSON out, for tests and people with curl.

Why a separate surface: the vendor's paths must stay byte-exact, while a test
needs to move the clock, script outcomes and inject replies without
sleeping or touching the database file. Routing is a werkzeug Map whose
endpoints are method names, so a new route is one Rule plus one method.

Every error is ``{"error": "...", "hint": "..."}`` with a 4xx status; nothing
here answers 500. Only loopback callers are served, unless the server was
started with ``--admin-token T`` and the caller sends ``X-Admin-Token: T``
(or ``Authorization: Bearer T``): the admin API can rewrite any outcome, so
it is not for the network by default.
"""
from __future__ import annotations

import hmac
import json
import logging
import re
from dataclasses import asdict
from ipaddress import ip_address
from typing import Any, Callable, Iterable

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ipyy_mock.core import clock
from ipyy_mock.core import delivery
from ipyy_mock.core import scenarios
from ipyy_mock.core import settings
from ipyy_mock.core.platform import Platform

log = logging.getLogger("ipyy_mock.admin")

PREFIX = "/_mock/api"
JSON_TYPE = "application/json; charset=utf-8"
MAX_BODY = 1024 * 1024
RULE_FIELDS = ("pattern", "outcome", "errorcode", "delay", "reply")
DIGITS = re.compile(r"\+?[0-9]{3,20}")


class AdminError(Exception):
    """Becomes ``{"error": message, "hint": hint}`` with ``status``."""

    def __init__(self, status: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint


def is_loopback(addr: str | None) -> bool:
    try:
        ip = ip_address((addr or "").split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def presented_token(request: Request) -> str | None:
    token = request.headers.get("X-Admin-Token")
    if token:
        return token.strip()
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def refuse_cross_site(request: Request) -> None:
    """A page on another site must not drive the mock through the developer's browser (CSRF).

    Browsers mark every request with ``Sec-Fetch-Site`` and cross-origin ones
    with ``Origin``; curl, test clients and the inbox itself (same origin) pass.
    """
    site = (request.headers.get("Sec-Fetch-Site") or "").lower()
    origin = request.headers.get("Origin")
    if site in ("cross-site", "same-site") or (origin and origin != f"{request.scheme}://{request.host}"):
        raise AdminError(403, f"cross-site request refused (from {origin or site})",
                         "the admin API and the inbox answer same-origin pages and non-browser clients only")


def _json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, indent=1) + "\n", status=status, content_type=JSON_TYPE)


def _error(status: int, message: str, hint: str = "") -> Response:
    return _json_response({"error": message, "hint": hint}, status)


class AdminApi:
    """WSGI app for ``/_mock/api/...``; one per worker, sharing the worker's Platform."""

    url_map = Map([
        Rule(f"{PREFIX}/clock", methods=["GET"], endpoint="get_clock"),
        Rule(f"{PREFIX}/clock/advance", methods=["POST"], endpoint="advance_clock"),
        Rule(f"{PREFIX}/uplinks", methods=["POST"], endpoint="post_uplink"),
        Rule(f"{PREFIX}/rules", methods=["GET"], endpoint="get_rules"),
        Rule(f"{PREFIX}/rules", methods=["POST"], endpoint="post_rule"),
        Rule(f"{PREFIX}/rules", methods=["PUT"], endpoint="put_rules"),
        Rule(f"{PREFIX}/rules", methods=["DELETE"], endpoint="delete_rules"),
        Rule(f"{PREFIX}/rules/<int:index>", methods=["DELETE"], endpoint="delete_rule"),
        Rule(f"{PREFIX}/settings", methods=["GET"], endpoint="get_settings"),
        Rule(f"{PREFIX}/settings", methods=["PUT", "PATCH"], endpoint="put_settings"),
        Rule(f"{PREFIX}/pushes", methods=["GET"], endpoint="get_pushes"),
    ], strict_slashes=False)

    def __init__(self, platform: Platform, *, token: str | None = None,
                 wake: Callable[[], None] | None = None) -> None:
        self.platform = platform
        self.token = token or None
        self.wake = wake or (lambda: None)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY
        try:
            self.authorize(request)
            endpoint, args = self.url_map.bind_to_environ(environ).match()
            response = getattr(self, endpoint)(request, **args)
        except AdminError as exc:
            response = _error(exc.status, exc.message, exc.hint)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            response = _error(405, f"{request.method} is not allowed on {request.path}", f"use {allowed}")
        except NotFound:
            response = _error(404, f"no admin endpoint {request.path}", f"endpoints: {', '.join(self.endpoints())}")
        except HTTPException as exc:
            response = _error(exc.code or 400, exc.name, exc.description or "")
        except Exception as exc:  # a bug: say so in JSON rather than an HTML 500
            log.exception("admin API error on %s %s", request.method, request.path)
            response = _error(400, f"internal error: {type(exc).__name__}: {exc}",
                              "a bug in the mock; its log has the traceback")
        return response(environ, start_response)

    @classmethod
    def extend(cls, handlers: dict[str, Callable[..., Response]], routes: Iterable[tuple[str, str, str]]) -> None:
        """Add another module's endpoints: one handler method and one Rule each; calling it twice adds nothing."""
        known = {(r.rule, m) for r in cls.url_map.iter_rules() for m in (r.methods or ())}
        for name, handler in handlers.items():
            setattr(cls, name, handler)
        for path, method, endpoint in routes:
            if (PREFIX + path, method) not in known:
                cls.url_map.add(Rule(PREFIX + path, methods=[method], endpoint=endpoint))

    @classmethod
    def endpoints(cls) -> list[str]:
        return sorted({f"{m} {r.rule}" for r in cls.url_map.iter_rules() for m in (r.methods or ())
                       if m not in ("HEAD", "OPTIONS")})

    # -- plumbing ---------------------------------------------------------------
    def authorize(self, request: Request) -> None:
        refuse_cross_site(request)
        given = presented_token(request)
        if self.token and given is not None:
            if hmac.compare_digest(given.encode(), self.token.encode()):
                return
            raise AdminError(403, "wrong admin token", "send the token the server was started with "
                             "(--admin-token / $IPYY_MOCK_ADMIN_TOKEN) in X-Admin-Token")
        if is_loopback(request.remote_addr):
            return
        hint = ("send X-Admin-Token: <token> (or Authorization: Bearer <token>)" if self.token else
                "call from the mock's own host, or start it with --admin-token T and send X-Admin-Token: T")
        raise AdminError(403, f"the admin API serves loopback callers only, not {request.remote_addr}", hint)

    @staticmethod
    def body(request: Request, example: str) -> dict[str, Any]:
        raw = request.get_data(cache=True)
        if not raw.strip():
            raise AdminError(400, "empty body: a JSON object is needed", f"e.g. {example}")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise AdminError(400, f"body is not valid JSON: {exc}", f"send a JSON object, e.g. {example}") from None
        if not isinstance(data, dict):
            raise AdminError(400, f"body must be a JSON object, not {type(data).__name__}", f"e.g. {example}")
        try:  # [reliability] "\ud800" in JSON is a lone surrogate: SQLite (UTF-8) cannot store it
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise AdminError(400, "body has a lone surrogate escape (\\ud800-\\udfff without its pair)",
                             "send valid Unicode text") from None
        return data

    def clock_json(self) -> dict[str, Any]:
        now = self.platform.now_datetime()
        return {"now": now.isoformat(), "zone": str(self.platform.zone),
                "offset_seconds": self.platform.clock_offset()}

    # -- clock --------------------------------------------------------------------
    def get_clock(self, request: Request) -> Response:
        return _json_response(self.clock_json())

    def advance_clock(self, request: Request) -> Response:
        data = self.body(request, '{"seconds": 60}')
        seconds = data.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds != seconds:
            raise AdminError(400, f"seconds must be a number, got {seconds!r}", 'e.g. {"seconds": 3600}')
        if not 0 <= seconds <= 10 * 366 * 86400:
            raise AdminError(400, f"seconds must be between 0 and ten years, got {seconds!r}",
                             "the virtual clock only moves forward")
        before = self.platform.now()
        released = self.platform.advance(float(seconds))
        self.wake()
        return _json_response({**self.clock_json(), "advanced_seconds": float(seconds),
                               "from": clock.from_epoch(before, self.platform.zone).isoformat(),
                               "released": released.as_json()})

    # -- uplinks ------------------------------------------------------------------
    def post_uplink(self, request: Request) -> Response:
        example = '{"account": "demo", "mobile": "8613800138000", "content": "TD", "extno": ""}'
        data = self.body(request, example)
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
        if self.platform.store.get_account(account) is None:
            raise AdminError(404, f"no account {account!r}", "create it with `ipyy-mock account add NAME --password P`")
        injected = self.platform.inject_uplink(account, mobile.strip().lstrip("+"), content, extno)
        self.wake()
        return _json_response({"id": injected.id, "account": account, "mobile": mobile.strip().lstrip("+"),
                               "task_id": injected.task_id, "content": content, "extno": extno,
                               "route": injected.route}, 201)

    # -- rules ----------------------------------------------------------------------
    def rules_json(self) -> dict[str, Any]:
        return {"rules": [asdict(r) for r in self.platform.rules()],
                "outcomes": list(scenarios.OUTCOMES)}

    @staticmethod
    def parse_rule(data: Any) -> scenarios.Rule:
        example = '{"pattern": "86139\\\\d{8}", "outcome": "failed", "errorcode": "REJECTD", "delay": 60, "reply": ""}'
        if not isinstance(data, dict):
            raise AdminError(400, "a rule must be a JSON object", example)
        unknown = sorted(set(data) - set(RULE_FIELDS) - {"position"})
        if unknown:
            raise AdminError(400, f"unknown rule field(s): {', '.join(unknown)}", f"fields: {', '.join(RULE_FIELDS)}")
        pattern = data.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            raise AdminError(400, "pattern is required: a regular expression matched against the whole number",
                             example)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise AdminError(400, f"pattern is not a valid regular expression: {exc}",
                             'escape backslashes in JSON, e.g. "86139\\\\d{8}"; the pattern must match the '
                             "whole number, country code first") from None
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
                raise AdminError(400, str(exc).replace("report_delay", "delay"), "seconds from send to report, "
                                 "or null for the default report_delay") from None
        reply = data.get("reply", "") or ""
        if not isinstance(reply, str):
            raise AdminError(400, "reply must be a string: the uplink that number sends back after its report",
                             'e.g. "TD"')
        return scenarios.Rule(pattern, outcome, errorcode, delay, reply)

    def get_rules(self, request: Request) -> Response:
        return _json_response(self.rules_json())

    def post_rule(self, request: Request) -> Response:
        data = self.body(request, '{"pattern": "8613900000001", "outcome": "failed", "errorcode": "REJECTD"}')
        rule = self.parse_rule(data)
        position = data.get("position", 0)
        count = len(self.platform.rules())
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= count:
            raise AdminError(400, f"position must be an index from 0 to {count}", "0 (the default) puts the rule "
                             "first, so it wins over every other rule")
        self.platform.add_rule(rule, position)
        return _json_response({"rule": asdict(rule), **self.rules_json()}, 201)

    def put_rules(self, request: Request) -> Response:
        data = self.body(request, '{"rules": [{"pattern": "86138\\\\d{8}", "outcome": "delivered"}]}')
        rules = data.get("rules")
        if not isinstance(rules, list):
            raise AdminError(400, "rules must be a list of rules", "GET this endpoint to see the shape")
        parsed = [self.parse_rule({k: v for k, v in r.items() if k != "position"} if isinstance(r, dict) else r)
                  for r in rules]
        self.platform.set_rules(parsed)
        return _json_response(self.rules_json())

    def delete_rules(self, request: Request) -> Response:
        """Back to the default rules: the test numbers of DESIGN.md §3."""
        self.platform.set_rules(None)
        return _json_response(self.rules_json())

    def delete_rule(self, request: Request, index: int) -> Response:
        rules = list(self.platform.rules())
        if not 0 <= index < len(rules):
            raise AdminError(404, f"no rule at index {index}", f"indexes run from 0 to {len(rules) - 1}")
        del rules[index]
        self.platform.set_rules(rules)
        return _json_response(self.rules_json())

    # -- settings ---------------------------------------------------------------
    def get_settings(self, request: Request) -> Response:
        return _json_response(self.platform.delivery_settings().as_json())

    def put_settings(self, request: Request) -> Response:
        data = self.body(request, '{"report_delay": 5, "push_timeout": 5, "push_retry_pauses": [1, 4]}')
        try:
            current = settings.save(self.platform.store, data)
        except settings.SettingError as exc:
            raise AdminError(400, str(exc), exc.hint) from None
        self.wake()
        return _json_response(current.as_json())

    # -- push journal -------------------------------------------------------------
    def get_pushes(self, request: Request) -> Response:
        account = request.args.get("account") or None
        raw_limit = request.args.get("limit", "50")
        limit = parse_count(raw_limit, 1000)
        if not limit:
            raise AdminError(400, f"limit must be 1 to 1000, got {raw_limit!r}", "e.g. ?limit=20&account=demo")
        zone = self.platform.zone
        batches = delivery.list_batches(self.platform.store.db, account, limit,
                                        lambda t: clock.from_epoch(t, zone).isoformat())
        return _json_response({"batches": batches})


def make_admin_app(platform: Platform, token: str | None = None,
                   wake: Callable[[], None] | None = None) -> AdminApi:
    return AdminApi(platform, token=token, wake=wake)


# [journal] the request journal and fault-injection endpoints (devtools/instrument.py adds one Rule + one method each)
from ipyy_mock.devtools import instrument as _devtools  # noqa: E402  (devtools imports this module lazily: no cycle)

_devtools.register(AdminApi)

# [data] accounts, tasks, messages, reports, uplinks, conversations and reset (admin_data.py)
from ipyy_mock.admin import data as _admin_data  # noqa: E402
from ipyy_mock.core.validation import parse_count

_admin_data.register(AdminApi)

# [warnings] conformance warnings (admin/warnings.py)
from ipyy_mock.admin import warnings as _warnings  # noqa: E402

_warnings.register(AdminApi)
