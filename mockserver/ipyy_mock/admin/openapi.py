"""The admin API's OpenAPI 3.1 description, generated from its route table (admin/routes.py).

Why generated and not hand-kept: a route added to the table is in the
description at once, with its summary, query parameters and example body, so
the description cannot fall behind the API (the test checks every route).
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from ipyy_mock import __version__

JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}


def _operation(route: Any) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "security": [{"adminToken": []}, {}],
        "responses": {
            "200": {"description": "JSON", "content": JSON_OBJECT},
            "4XX": {
                "description": '{"error": ..., "hint": ...}',
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
    params = [
        {"name": n, "in": "path", "required": True, "schema": {"type": "integer" if kind == "int" else "string"}}
        for kind, n in re.findall(r"<(?:(\w+):)?(\w+)>", route.path)
    ]
    params += [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in route.query]
    if params:
        op["parameters"] = params
    if route.body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}, "example": json.loads(route.body)}},
        }
    return op


def describe(routes: Iterable[Any]) -> dict[str, Any]:
    """The description of ``routes`` (admin/routes.py's Route objects)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.rule)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ipyy-mock admin API",
            "version": __version__,
            "description": "The mock's own API (not the vendor's). Served for loopback Host names, the "
            "address it listens on and --allowed-host names only; with an admin token, "
            "every caller sends X-Admin-Token, else only loopback callers are served.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "hint"],
                    "properties": {"error": {"type": "string"}, "hint": {"type": "string"}},
                }
            },
            "securitySchemes": {"adminToken": {"type": "apiKey", "in": "header", "name": "X-Admin-Token"}},
        },
    }
