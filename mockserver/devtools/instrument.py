"""Developer tools around the mock app: the request journal and fault injection, wired and exposed.

``instrument(app, platform)`` wraps the MockApp: the journal outermost (so the
replies of injected faults are journaled too), then the fault middleware,
then the app. ``register()`` adds the endpoints below to the admin API
(``/_mock/api/``, same loopback-or-token rule, same JSON error shape):

    GET    /_mock/api/journal?limit=&surface=&account=&path=&since=&method=&status=   newest first
    DELETE /_mock/api/journal
    GET    /_mock/api/faults
    POST   /_mock/api/faults        {"endpoint", "kind", "value", "count", "probability"}
    DELETE /_mock/api/faults
    DELETE /_mock/api/faults/<id>
"""
from __future__ import annotations

from typing import Any, Callable

from werkzeug.wrappers import Request, Response

from ipyy_mock.core import clock
from ipyy_mock.devtools import faults
from ipyy_mock.devtools import journal
from ipyy_mock.core.validation import parse_count

PREFIX = "/_mock/api"
MAX_LIMIT = journal.KEEP


def instrument(app: Any, platform: Any, *, journal_enabled: bool = True) -> Any:
    """The app wrapped in fault injection and (unless disabled) the journal; attributes pass through."""
    register()
    store = journal.JournalStore(journal.journal_path(platform.store.path))
    admin = getattr(app, "endpoints", {}).get("admin")
    if admin is not None:
        admin.journal_store = store
        admin.journal_enabled = journal_enabled
    wrapped: Any = faults.FaultMiddleware(app, platform.store)
    if journal_enabled:
        wrapped = journal.JournalMiddleware(wrapped, store)
    return wrapped


# -- admin endpoints (methods of admin_api.AdminApi once registered) ---------------------

def _admin() -> Any:
    from ipyy_mock.admin import api as admin_api  # imported late: admin_api imports the platform, which imports faults

    return admin_api


def _journal_store(self: Any) -> journal.JournalStore:
    store = getattr(self, "journal_store", None)
    if store is None:
        store = self.journal_store = journal.JournalStore(journal.journal_path(self.platform.store.path))
    return store


def _int_arg(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = parse_count(raw, high)
    if value is None or value < low:
        raise _admin().AdminError(400, f"{name} must be a whole number from {low} to {high}, got {raw!r}",
                                  "e.g. /_mock/api/journal?limit=20&surface=http&account=demo")
    return value


def get_journal(self: Any, request: Request) -> Response:
    admin = _admin()
    limit = _int_arg(request, "limit", 100, 1, MAX_LIMIT)
    since = _int_arg(request, "since", None, 0, 2**62)
    status = _int_arg(request, "status", None, 100, 599)
    surface = request.args.get("surface") or None
    if surface is not None and surface not in journal.SURFACES:
        raise admin.AdminError(400, f"unknown surface {surface!r}", f"one of: {', '.join(journal.SURFACES)}")
    entries = _journal_store(self).entries(limit=limit, surface=surface, account=request.args.get("account") or None,
                                           path=request.args.get("path") or None, since=since,
                                           method=request.args.get("method") or None, status=status)
    zone = self.platform.zone
    for entry in entries:
        entry["at"] = clock.from_epoch(entry["time"], zone).isoformat(timespec="milliseconds")
    return admin._json_response({"enabled": getattr(self, "journal_enabled", None), "count": len(entries),
                                 "entries": entries})


def delete_journal(self: Any, request: Request) -> Response:
    return _admin()._json_response({"deleted": _journal_store(self).clear()})


def _faults_json(self: Any) -> dict[str, Any]:
    return {"faults": faults.list_faults(self.platform.store.db), "kinds": faults.KINDS,
            "endpoints": {k: list(v) or ["every vendor path"] for k, v in faults.ENDPOINTS.items()}}


def get_faults(self: Any, request: Request) -> Response:
    return _admin()._json_response(_faults_json(self))


def post_fault(self: Any, request: Request) -> Response:
    admin = _admin()
    data = self.body(request, faults.EXAMPLE)
    try:
        parsed = faults.parse_fault(data)
    except faults.FaultError as exc:
        raise admin.AdminError(400, exc.message, exc.hint) from None
    fault = faults.add_fault(self.platform.store, parsed)
    return admin._json_response({"fault": fault, **_faults_json(self)}, 201)


def delete_faults(self: Any, request: Request) -> Response:
    deleted = faults.delete_faults(self.platform.store)
    return _admin()._json_response({"deleted": deleted, **_faults_json(self)})


def delete_fault(self: Any, request: Request, fault_id: int) -> Response:
    admin = _admin()
    if not faults.delete_faults(self.platform.store, fault_id):
        raise admin.AdminError(404, f"no fault {fault_id}", "GET /_mock/api/faults lists them")
    return admin._json_response({"deleted": 1, **_faults_json(self)})


HANDLERS: dict[str, Callable[..., Response]] = {
    "get_journal": get_journal,
    "delete_journal": delete_journal,
    "get_faults": get_faults,
    "post_fault": post_fault,
    "delete_faults": delete_faults,
    "delete_fault": delete_fault,
}
ROUTES = (
    ("/journal", "GET", "get_journal"),
    ("/journal", "DELETE", "delete_journal"),
    ("/faults", "GET", "get_faults"),
    ("/faults", "POST", "post_fault"),
    ("/faults", "DELETE", "delete_faults"),
    ("/faults/<int:fault_id>", "DELETE", "delete_fault"),
)


def register(admin_cls: Any = None) -> None:
    """Add the journal and fault endpoints to the admin API."""
    (admin_cls or _admin().AdminApi).extend(HANDLERS, ROUTES)
