"""Admin endpoints for conformance warnings: what clients sent that the vendor accepts but its document does not.

``GET /_mock/api/warnings`` lists recorded warnings (filters: account, code, since, task_id, limit), newest
first, each with its rule and fix; ``GET /_mock/api/warnings/codes`` is the table of codes
(core/conformance.py), with what strict mode answers for each. Both are rows of the route table
(admin/routes.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from ipyy_mock.admin.jsonapi import AdminError, int_arg, limit_arg, time_arg
from ipyy_mock.core import conformance

if TYPE_CHECKING:  # the app imports this module through its route table
    from ipyy_mock.admin.api import AdminApi


def list_warnings(admin: AdminApi, request: Request) -> Any:
    """Conformance warnings, newest first (filters: account, code, since, task_id, limit)"""
    code = request.args.get("code") or None
    if code is not None and code not in conformance.RULES:
        raise AdminError(400, f"unknown warning code {code!r}", "codes: " + ", ".join(conformance.RULES))
    items = admin.platform.warnings(
        account=request.args.get("account") or None,
        code=code,
        since=time_arg(request, "since", admin.platform.zone),
        task_id=int_arg(request, "task_id"),
        limit=limit_arg(request),
    )
    return {"warnings": items}


def warning_codes(admin: AdminApi, request: Request) -> Any:
    """Every warning code with its rule, fix and strict-mode answer"""
    return {"codes": conformance.codes_table()}
