"""The admin API's route table: every endpoint under ``/_mock/api/``, its handler, and how it is described.

Why one explicit table: the WSGI app (admin/api.py) routes from it, the
OpenAPI description (admin/openapi.py) is generated from it, and the 404 hint
lists it, so the three cannot drift apart. A handler is
``handler(admin, request, **path_args)`` returning a werkzeug Response, or any
JSON-able value (answered with 200). Adding an endpoint is one line here, e.g.::

    Route("GET", "/warnings/count", lambda admin, request: {"count": len(admin.platform.warnings())},
          "How many conformance warnings there are"),
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from ipyy_mock import faults
from ipyy_mock.admin import controls, diagnostics, events, metrics, records, warnings

PREFIX = "/_mock/api"

Handler = Callable[..., Any]


@dataclass(frozen=True)
class Route:
    method: str  # one HTTP method
    path: str  # under PREFIX, werkzeug syntax: /rules/<int:index>
    handler: Handler
    summary: str  # one line, for the OpenAPI description
    query: tuple[str, ...] = ()  # query parameters it reads
    body: str = ""  # an example JSON body; "" when it takes none
    name: str = ""  # the OpenAPI operationId; default: the handler's name, else method + path

    @property
    def rule(self) -> str:
        return PREFIX + self.path

    @property
    def operation_id(self) -> str:
        named = getattr(self.handler, "__name__", "")
        if self.name or named.isidentifier():
            return self.name or named
        return self.method.lower() + re.sub(
            r"[^a-z0-9]+", "_", re.sub(r"<(?:\w+:)?(\w+)>", r"by_\1", self.path.lower())
        ).rstrip("_")


LIST = ("account", "limit")

ROUTES: tuple[Route, ...] = (
    # the virtual clock
    Route("GET", "/clock", controls.get_clock, "Platform time (ISO 8601 with offset), zone and offset"),
    Route(
        "POST",
        "/clock/advance",
        controls.advance_clock,
        "Move the virtual clock forward; releases what became due",
        body='{"seconds": 60}',
    ),
    # scenario rules and delivery settings
    Route("GET", "/rules", controls.get_rules, "Scenario rules, first match wins"),
    Route(
        "POST",
        "/rules",
        controls.post_rule,
        "Add a scenario rule",
        body='{"pattern": "8613900000001", "outcome": "failed", "errorcode": "REJECTD", "position": 0}',
    ),
    Route(
        "PUT",
        "/rules",
        controls.put_rules,
        "Replace every rule",
        body='{"rules": [{"pattern": "86138\\\\d{8}", "outcome": "delivered"}]}',
    ),
    Route("DELETE", "/rules", controls.delete_rules, "Back to the default rules (the test numbers)"),
    Route("DELETE", "/rules/<int:index>", controls.delete_rule, "Remove one rule"),
    Route("GET", "/settings", controls.get_settings, "Delivery settings"),
    Route("PUT", "/settings", controls.put_settings, "Change delivery settings", body='{"report_delay": 5}'),
    Route(
        "PATCH",
        "/settings",
        controls.put_settings,
        "Change delivery settings",
        body='{"report_delay": 5}',
        name="patch_settings",
    ),
    # accounts
    Route("GET", "/accounts", records.list_accounts, "Every account (no passwords)"),
    Route(
        "POST",
        "/accounts",
        records.create_account,
        "Create an account",
        body='{"name": "shop", "password": "s3cret", "balance": "50.00"}',
    ),
    Route("GET", "/accounts/<name>", records.get_account, "One account (no password)"),
    Route(
        "PATCH",
        "/accounts/<name>",
        records.patch_account,
        "Change an account (balance, password, prices, flags, push URL...)",
        body='{"balance": "100.00"}',
    ),
    # what was sent and what came back
    Route(
        "GET",
        "/tasks",
        records.list_tasks,
        "Tasks, newest first",
        query=("account", "task_id", "since_id", "since", "until", "limit"),
    ),
    Route(
        "GET",
        "/messages",
        records.list_messages,
        "Messages, newest first, with report status",
        query=("account", "mobile", "task_id", "status", "since_id", "since", "until", "limit"),
    ),
    Route(
        "POST",
        "/messages/<int:message_id>/outcome",
        records.set_outcome,
        "Deliver or fail a waiting message now",
        body='{"status": "failed", "errorcode": "UNDELIV"}',
    ),
    Route(
        "GET", "/reports", records.list_reports, "Every report (consumed or not)", query=("account", "task_id", "limit")
    ),
    Route(
        "GET",
        "/uplinks",
        records.list_uplinks,
        "Every uplink (consumed or not), newest first",
        query=("account", "mobile", "limit"),
    ),
    Route(
        "POST",
        "/uplinks",
        controls.post_uplink,
        "Inject an MO reply from a phone, linked to the last task sent to it",
        body='{"account": "demo", "mobile": "8613800138000", "content": "TD"}',
    ),
    Route("GET", "/conversations", records.list_conversations, "One row per phone number", query=LIST),
    Route("GET", "/pushes", controls.get_pushes, "The push journal, newest batch first", query=LIST),
    # the vendor's sending limits per number
    Route(
        "GET",
        "/limits",
        records.list_limits,
        "Sending-limit counters per number (sent today, 验证码 sends in the window)",
        query=("account", "mobile", "limit"),
    ),
    Route(
        "DELETE",
        "/limits",
        records.reset_limits,
        "Reset the sending-limit counters (all, one account's, or one number's)",
        query=("account", "mobile"),
    ),
    # conformance warnings (what the vendor accepts but its document does not)
    Route(
        "GET",
        "/warnings",
        warnings.list_warnings,
        "Conformance warnings, newest first",
        query=("account", "code", "since", "task_id", "limit"),
    ),
    Route(
        "GET", "/warnings/codes", warnings.warning_codes, "Every warning code with its rule, fix and strict-mode answer"
    ),
    # developer tools
    Route(
        "GET",
        "/journal",
        diagnostics.get_journal,
        "The request journal, newest first (passwords masked)",
        query=("limit", "surface", "account", "path", "since", "method", "status"),
    ),
    Route("DELETE", "/journal", diagnostics.delete_journal, "Empty the journal"),
    Route("GET", "/faults", diagnostics.get_faults, "Injected faults with their hits"),
    Route("POST", "/faults", diagnostics.post_fault, "Inject a fault", body=faults.EXAMPLE),
    Route("DELETE", "/faults", diagnostics.delete_faults, "Remove every fault"),
    Route("DELETE", "/faults/<int:fault_id>", diagnostics.delete_fault, "Remove one fault"),
    # the whole mock
    Route(
        "GET",
        "/metrics",
        metrics.get_metrics,
        "Prometheus metrics (text format 0.0.4), also at /_mock/metrics: requests, sends, money, pushes, warnings, sizes",
    ),
    Route("POST", "/reset", records.reset, "Back to a first start (demo account, default rules, real time)"),
    Route(
        "GET",
        "/events",
        events.get_events,
        "Server-sent events (text/event-stream): `change` when a message, report, uplink or warning arrives",
    ),
    Route("GET", "/openapi.json", controls.get_openapi, "This description"),
)
