"""Admin API endpoints over the developer tools: the request journal and fault injection.

The tools themselves are journal/ (records) and faults/ (injects);
create_app (app.py) wraps the app in both. These handlers only read and change them
for the admin API, so neither needs the admin API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from ipyy_mock import faults, journal
from ipyy_mock.admin.jsonapi import AdminError, body, json_response
from ipyy_mock.core import clock
from ipyy_mock.core.validation import parse_count

if TYPE_CHECKING:  # the app imports this module through its route table
    from ipyy_mock.admin.api import AdminApi

MAX_LIMIT = journal.KEEP


def _int_arg(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = parse_count(raw, high)
    if value is None or value < low:
        raise AdminError(
            400,
            f"{name} must be a whole number from {low} to {high}, got {raw!r}",
            "e.g. /_mock/api/journal?limit=20&surface=http&account=demo",
        )
    return value


# -- the request journal -------------------------------------------------------------------
def get_journal(admin: AdminApi, request: Request) -> Any:
    limit = _int_arg(request, "limit", 100, 1, MAX_LIMIT)
    since = _int_arg(request, "since", None, 0, 2**62)
    status = _int_arg(request, "status", None, 100, 599)
    surface = request.args.get("surface") or None
    if surface is not None and surface not in journal.SURFACES:
        raise AdminError(400, f"unknown surface {surface!r}", f"one of: {', '.join(journal.SURFACES)}")
    entries = admin.journal.entries(
        limit=limit or 100,
        surface=surface,
        account=request.args.get("account") or None,
        path=request.args.get("path") or None,
        since=since,
        method=request.args.get("method") or None,
        status=status,
    )
    zone = admin.platform.zone
    for entry in entries:
        entry["at"] = clock.from_epoch(entry["time"], zone).isoformat(timespec="milliseconds")
    return {"enabled": admin.journal_enabled, "count": len(entries), "entries": entries}


def delete_journal(admin: AdminApi, request: Request) -> Any:
    return {"deleted": admin.journal.clear()}


# -- injected faults -------------------------------------------------------------------------
def _faults_json(admin: AdminApi) -> dict[str, Any]:
    return {
        "faults": faults.list_faults(admin.platform.store.db),
        "kinds": faults.KINDS,
        "endpoints": {k: list(v) or ["every vendor path"] for k, v in faults.ENDPOINTS.items()},
    }


def get_faults(admin: AdminApi, request: Request) -> Any:
    return _faults_json(admin)


def post_fault(admin: AdminApi, request: Request) -> Response:
    data = body(request, faults.EXAMPLE)
    try:
        parsed = faults.parse_fault(data)
    except faults.FaultError as exc:
        raise AdminError(400, exc.message, exc.hint) from None
    fault = faults.add_fault(admin.platform.store, parsed)
    return json_response({"fault": fault, **_faults_json(admin)}, 201)


def delete_faults(admin: AdminApi, request: Request) -> Any:
    deleted = faults.delete_faults(admin.platform.store)
    return {"deleted": deleted, **_faults_json(admin)}


def delete_fault(admin: AdminApi, request: Request, fault_id: int) -> Any:
    if not faults.delete_faults(admin.platform.store, fault_id):
        raise AdminError(404, f"no fault {fault_id}", "GET /_mock/api/faults lists them")
    return {"deleted": 1, **_faults_json(admin)}
