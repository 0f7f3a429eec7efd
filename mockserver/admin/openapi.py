"""The admin API's OpenAPI 3.1 description, derived from its routing table.

Why derived and not hand-kept: a route added with ``AdminApi.extend`` is in
the description at once, with the first line of its handler's docstring (or
the summary below) as its summary; the test checks every route is described.
"""
from __future__ import annotations

import re
from typing import Any

from ipyy_mock import __version__

SUMMARIES = {
    "get_clock": "Platform time (ISO 8601 with offset), zone and offset",
    "advance_clock": "Move the virtual clock forward; releases what became due",
    "post_uplink": "Inject an MO reply from a phone, linked to the last task sent to it",
    "list_uplinks": "Every uplink (consumed or not), newest first",
    "get_rules": "Scenario rules, first match wins", "post_rule": "Add a scenario rule",
    "put_rules": "Replace every rule", "delete_rules": "Back to the default rules (the test numbers)",
    "delete_rule": "Remove one rule", "get_settings": "Delivery settings",
    "put_settings": "Change delivery settings", "get_pushes": "The push journal, newest batch first",
    "get_journal": "The request journal, newest first (passwords masked)", "delete_journal": "Empty the journal",
    "get_faults": "Injected faults with their hits", "post_fault": "Inject a fault",
    "delete_faults": "Remove every fault", "delete_fault": "Remove one fault",
    "list_accounts": "Every account (no passwords)", "create_account": "Create an account",
    "get_account": "One account", "patch_account": "Change an account (balance, password, prices, flags...)",
    "list_tasks": "Tasks, newest first", "list_messages": "Messages, newest first, with report status",
    "set_outcome": "Deliver or fail a waiting message now", "list_reports": "Every report (consumed or not)",
    "list_conversations": "One row per phone number", "reset": "Back to a first start",
    "get_openapi": "This description",
}
QUERY = {
    "list_tasks": ["account", "task_id", "since_id", "since", "until", "limit"],
    "list_messages": ["account", "mobile", "task_id", "status", "since_id", "since", "until", "limit"],
    "list_reports": ["account", "task_id", "limit"], "list_uplinks": ["account", "mobile", "limit"],
    "list_conversations": ["account", "limit"], "get_pushes": ["account", "limit"],
    "get_journal": ["limit", "surface", "account", "path", "since", "method", "status"],
    "list_warnings": ["account", "code", "since", "task_id", "limit"],
}
BODY = {"advance_clock", "post_uplink", "post_rule", "put_rules", "put_settings", "post_fault",
        "create_account", "patch_account", "set_outcome"}


def describe(admin_cls: Any) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in admin_cls.url_map.iter_rules():
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            handler = getattr(admin_cls, rule.endpoint, None)
            doc = (handler.__doc__ or "").strip().splitlines() if handler else []
            op: dict[str, Any] = {
                "operationId": rule.endpoint,
                "summary": SUMMARIES.get(rule.endpoint) or (doc[0] if doc else rule.endpoint),
                "responses": {
                    "200": {"description": "JSON", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "4XX": {"description": "{\"error\": ..., \"hint\": ...}",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            }
            params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                      for n in rule.arguments]
            params += [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                       for n in QUERY.get(rule.endpoint, [])]
            if params:
                op["parameters"] = params
            if rule.endpoint in BODY:
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "ipyy-mock admin API", "version": __version__,
                 "description": "The mock's own API (not the vendor's): loopback callers, or X-Admin-Token."},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Error": {"type": "object", "required": ["error", "hint"],
                                  "properties": {"error": {"type": "string"}, "hint": {"type": "string"}}}},
            "securitySchemes": {"adminToken": {"type": "apiKey", "in": "header", "name": "X-Admin-Token"}},
        },
    }
