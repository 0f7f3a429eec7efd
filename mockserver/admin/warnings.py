"""Admin endpoints for conformance warnings: what clients sent that the vendor accepts but its document does not.

``GET /_mock/api/warnings`` lists recorded warnings (filters: account, code, since, task_id, limit), newest
first, each with its rule and fix; ``GET /_mock/api/warnings/codes`` is the table of codes
(core/conformance.py), with what strict mode answers for each.
"""
from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from ipyy_mock.admin import data
from ipyy_mock.core import conformance

ROUTES = (
    ("/warnings", "GET", "list_warnings"),
    ("/warnings/codes", "GET", "warning_codes"),
)


def list_warnings(self: Any, request: Request) -> Response:
    """Conformance warnings, newest first (filters: account, code, since, task_id, limit)"""
    code = request.args.get("code") or None
    if code is not None and code not in conformance.RULES:
        raise data._fail(400, f"unknown warning code {code!r}", "codes: " + ", ".join(conformance.RULES))
    items = self.platform.warnings(account=request.args.get("account") or None, code=code,
                                   since=data._time_arg(request, "since", self.platform.zone),
                                   task_id=data._int_arg(request, "task_id"), limit=data._limit(request))
    return data._ok({"warnings": items})


def warning_codes(self: Any, request: Request) -> Response:
    """Every warning code with its rule, fix and strict-mode answer"""
    return data._ok({"codes": conformance.codes_table()})


HANDLERS = {"list_warnings": list_warnings, "warning_codes": warning_codes}


def register(admin_cls: Any) -> None:
    admin_cls.extend(HANDLERS, ROUTES)
