"""Which fault fires for a request, consumed atomically so that "the next N requests" means N across workers.

The remaining count is decremented in one write transaction that only
succeeds while it is above zero, so a counted fault fails exactly that many
requests whichever worker serves them. ``code`` faults are asked for by
``Platform.send`` (``forced_code``) after authentication; the other kinds by
FaultMiddleware, which reads the active rows once per request and shares that
reading with ``forced_code``.
"""

from __future__ import annotations

import random
import sqlite3
import time
from contextvars import ContextVar
from typing import Any

from ipyy_client.codes import ResultCode
from ipyy_mock.faults.rules import ENDPOINTS, SEND_PATH, SOAP_PATH

ACTIVE = "SELECT * FROM faults WHERE remaining IS NULL OR remaining > 0 ORDER BY id"
# SendRequest.via -> the send surface whose `code` faults apply to it
VIA_SURFACES = {"http": "send", "domestic": "domestic"}
# the send surfaces, and the selectors that reach each
CODE_SELECTORS = {
    "soap": ("soap", "*", SOAP_PATH),
    "send": ("send", "*", SEND_PATH),
    "domestic": ("domestic", "*", *ENDPOINTS["domestic"]),
}

# The request being served (per greenlet under the server's edge, core/group.py, so not threading.local):
# the names of the faults fired for it (for the journal) and the fault rows FaultMiddleware read for it.
# Context variables because the `code` kind fires inside Platform.send (the forced_code hook the instrument
# layer injects), which takes a SendRequest and no environ: the core knows no faults, so the request's rows
# reach the hook, and its names come back, beside the call rather than through it.
_applied_names: ContextVar[list[str] | None] = ContextVar("ipyy_fault_names", default=None)
_applied_rows: ContextVar[list[sqlite3.Row] | None] = ContextVar("ipyy_fault_rows", default=None)


def _note(text: str) -> None:
    names = _applied_names.get()
    if names is not None:
        names.append(text)


def _label(row: sqlite3.Row) -> str:
    value = f" {row['value']}{'ms' if row['kind'] == 'latency' else ''}" if row["value"] else ""
    return f"{row['kind']}{value} #{row['id']}"


def _active(store: Any) -> list[sqlite3.Row]:
    """The faults that can still fire, oldest first: read once per change to the table, not per request (every
    request asks; the store's generation says when the list changed, in any process)."""
    return store.cached("faults", lambda: store.db.execute(ACTIVE).fetchall())  # type: ignore[no-any-return]


def _fire(store: Any, row: sqlite3.Row) -> bool:
    """Roll the fault's probability, then take one from its count (atomically); True if it fires now."""
    probability = row["probability"]
    if probability < 1.0 and not random.random() < probability:
        return False
    with store.write() as db:
        cur = db.execute(
            "UPDATE faults SET remaining = CASE WHEN remaining IS NULL THEN NULL ELSE remaining - 1 END, "
            "hits = hits + 1, last_hit = ? WHERE id = ? AND (remaining IS NULL OR remaining > 0)",
            (time.time(), row["id"]),
        )
        return cur.rowcount == 1


def forced_code(store: Any, via: str) -> ResultCode | None:
    """A ``code`` fault for the send surface of ``via`` (SendRequest.via), consumed; None when none fires.

    instrument() makes this the Platform's ``forced_code`` hook, which Platform.send asks after
    authentication: the send is then refused with the returned code through the surface's normal reply,
    nothing charged.
    """
    endpoint = VIA_SURFACES.get(via, "soap")
    selectors = CODE_SELECTORS.get(endpoint, (endpoint, "*"))
    rows = _applied_rows.get()  # read by FaultMiddleware for this request: no second SELECT
    for row in _active(store) if rows is None else rows:
        if row["kind"] == "code" and row["endpoint"] in selectors and _fire(store, row):
            _note(_label(row))
            return ResultCode[row["value"]]
    return None


def _matches(row: sqlite3.Row, method: str, path: str, is_soap_call: bool) -> bool:
    endpoint = row["endpoint"]
    if row["kind"] == "soap_fault" and not is_soap_call:
        return False
    if endpoint == "*":
        return True
    if endpoint == "soap":
        return is_soap_call
    paths = ENDPOINTS.get(endpoint)
    return path in paths if paths is not None else path == endpoint
