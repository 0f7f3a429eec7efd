"""Which fault fires for a request, consumed atomically so that "the next N requests" means N across workers.

The remaining count is decremented in one write transaction that only
succeeds while it is above zero, so a counted fault fails exactly that many
requests whichever worker serves them. ``code`` faults are decided by
``forced_code``, which FaultMiddleware binds to the request's reading of the
active rows (read once per request) and puts on its Exchange; the surface hands
it on in SendRequest.fault, and ``Platform.send`` asks it after authentication.
The other kinds FaultMiddleware fires itself.
"""

from __future__ import annotations

import random
import sqlite3
import time
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


def forced_code(store: Any, rows: list[sqlite3.Row], names: list[str], via: str) -> ResultCode | None:
    """A ``code`` fault for the send surface of ``via`` (SendRequest.via), consumed; None when none fires.

    ``rows``: the active faults FaultMiddleware read for this request (no second SELECT); ``names``: the
    request's fired faults (Exchange.faults), for the journal. FaultMiddleware binds the first three and puts
    the rest on the Exchange (``code_fault``); Platform.send asks it after authentication, and the send is then
    refused with the returned code through the surface's normal reply, nothing charged.
    """
    endpoint = VIA_SURFACES.get(via, "soap")
    selectors = CODE_SELECTORS.get(endpoint, (endpoint, "*"))
    for row in rows:
        if row["kind"] == "code" and row["endpoint"] in selectors and _fire(store, row):
            names.append(_label(row))
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
