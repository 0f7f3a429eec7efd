"""Fault rules as data: what a fault row may say, how a POSTed one is checked, and how rows are stored.

A fault row: ``endpoint`` (which requests it matches, see ENDPOINTS), ``kind``
(what happens, see KINDS), ``value`` (milliseconds for ``latency``, a
ResultCode name for ``code``), ``remaining`` (NULL = unlimited) and
``probability`` (each matching request fires it with that chance; 0 never).
Rows live in the SQLite file (table ``faults``, in the store's schema) so that
every worker process sees the same list. Checking happens here, once, when a
fault is stored, so the code that fires faults never meets a row it cannot act on.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from ipyy_client.codes import ResultCode
from ipyy_mock.core.validation import parse_count
from ipyy_mock.server.request import JSON_PATHS as JSON_PATHS  # re-exported: the JSON replies' paths
from ipyy_mock.server.request import SELECTOR_PATHS

KINDS = {
    "latency": "wait value ms, then handle the request normally",
    "http_500": "HTTP 500, text/plain body",
    "http_503": "HTTP 503 with Retry-After: 1, text/plain body",
    "reset": "close the TCP connection abruptly (RST), no reply at all",
    "empty": "HTTP 200 with an empty body",
    "malformed": "HTTP 200 with truncated XML (JSON for the JSON endpoints) in the endpoint's content type",
    "soap_fault": "a SOAP Fault (Server/Receiver) in the request's SOAP version with HTTP 500, as ASMX does",
    "code": "the send is refused with the ResultCode named by value (e.g. InternalError); nothing is charged",
}
# selector -> the lower-case paths it matches ("soap" matches POSTs only: a WSDL GET is not a call), from the
# one vendor path table (server/request.py), so a new vendor path gets a selector without a second list; "*"
# (every vendor path) last, as the admin API and the error hint list them
ENDPOINTS: dict[str, tuple[str, ...]] = {**SELECTOR_PATHS, "*": ()}
(SOAP_PATH,) = SELECTOR_PATHS["soap"]  # one path each: unpacking says so if the table ever changes
(SEND_PATH,) = SELECTOR_PATHS["send"]
MOCK_PREFIX = "/_mock"
MAX_LATENCY_MS = 60_000
MAX_COUNT = 1_000_000  # requests a counted fault applies to (null: every one)
# the content types of the vendor replies a fault imitates
XML_TYPE = "text/xml; charset=utf-8"
SOAP12_TYPE = "application/soap+xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"


class FaultError(ValueError):
    """A fault definition that cannot be stored; ``hint`` says what would be accepted."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _is_mock_path(path: str) -> bool:
    """The mock's own paths (admin API, inbox): no fault ever matches them, so the API that removes faults works."""
    return path == MOCK_PREFIX or path.startswith(MOCK_PREFIX + "/")


def _row_json(row: sqlite3.Row) -> dict[str, Any]:
    data = {k: row[k] for k in row.keys()}
    data["count"] = data.pop("remaining")
    if data["kind"] == "latency" and data["value"] is not None:
        data["value"] = int(data["value"])
    data["active"] = data["count"] is None or data["count"] > 0
    return data


def list_faults(db: sqlite3.Connection) -> list[dict[str, Any]]:
    return [_row_json(r) for r in db.execute("SELECT * FROM faults ORDER BY id")]


def add_fault(store: Any, fault: dict[str, Any]) -> dict[str, Any]:
    """Store a fault from ``parse_fault``'s output; returns it as the API shows it."""
    with store.write() as db:
        cur = db.execute(
            "INSERT INTO faults (endpoint, kind, value, remaining, probability, created) VALUES (?, ?, ?, ?, ?, ?)",
            (fault["endpoint"], fault["kind"], fault["value"], fault["count"], fault["probability"], time.time()),
        )
        row = db.execute("SELECT * FROM faults WHERE id=?", (cur.lastrowid,)).fetchone()
    return _row_json(row)


def delete_faults(store: Any, fault_id: int | None = None) -> int:
    """Delete one fault (by id) or all of them; returns how many went."""
    with store.write() as db:
        if fault_id is None:
            return db.execute("DELETE FROM faults").rowcount
        return db.execute("DELETE FROM faults WHERE id=?", (fault_id,)).rowcount


FIELDS = ("endpoint", "kind", "value", "count", "probability")
EXAMPLE = '{"endpoint": "send", "kind": "http_503", "count": 2}'


def _selector_paths(endpoint: str) -> tuple[str, ...] | None:
    """The paths a selector can match (None: every vendor path)."""
    if endpoint == "*":
        return None
    return ENDPOINTS.get(endpoint, (endpoint,))


def parse_fault(data: Any) -> dict[str, Any]:
    """A POSTed fault → the normalized row; FaultError (message + hint) when it cannot be stored."""
    if not isinstance(data, dict):
        raise FaultError("a fault must be a JSON object", f"e.g. {EXAMPLE}")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise FaultError(f"unknown field(s): {', '.join(unknown)}", f"fields: {', '.join(FIELDS)}; e.g. {EXAMPLE}")

    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise FaultError(
            f"kind must be one of {', '.join(KINDS)}, got {kind!r}", "; ".join(f"{k}: {v}" for k, v in KINDS.items())
        )

    endpoint = data.get("endpoint", "*")
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise FaultError(
            f"endpoint must be a string, got {endpoint!r}",
            f"one of {', '.join(ENDPOINTS)} or a path such as /statusApi.aspx",
        )
    endpoint = endpoint.strip()
    if endpoint.startswith("/"):
        endpoint = endpoint.split("?", 1)[0].lower()
        if _is_mock_path(endpoint):
            raise FaultError(
                f"faults cannot target the mock's own {endpoint}",
                "the admin API and inbox stay reachable so that faults can be removed",
            )
    elif endpoint.lower() in ENDPOINTS:
        endpoint = endpoint.lower()
    else:
        raise FaultError(
            f"unknown endpoint {endpoint!r}",
            "soap (POST /WebService.asmx), send (/I18NSms.aspx), status (/statusApi.aspx and "
            "/statusJsonApi.aspx), call (/callApi.aspx and /callJsonApi.aspx), pwd (/pwd.aspx), "
            "domestic (/sms.aspx and /smsJson.aspx), "
            "* (every vendor path) or a path starting with /",
        )

    paths = _selector_paths(endpoint)
    if kind == "soap_fault" and paths is not None and SOAP_PATH not in paths:
        raise FaultError(
            f"soap_fault needs a SOAP endpoint, not {endpoint!r}",
            "use endpoint soap, /WebService.asmx or * (with *, only SOAP calls get it)",
        )
    if kind == "code" and paths is not None and not {SOAP_PATH, SEND_PATH, *ENDPOINTS["domestic"]} & set(paths):
        raise FaultError(
            f"code faults refuse sends: endpoint {endpoint!r} has none",
            "use endpoint soap (SendI18NSms/SendHybridSms), send (I18NSms.aspx action=send), "
            "domestic (sms.aspx / smsJson.aspx action=send) or *",
        )

    value = data.get("value")
    if kind == "latency":
        if isinstance(value, str) and parse_count(value) is not None:
            value = parse_count(value)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or value != value
            or not 0 < value <= MAX_LATENCY_MS
        ):
            raise FaultError(
                f"latency needs value = milliseconds from 1 to {MAX_LATENCY_MS}, got {value!r}",
                '{"endpoint": "soap", "kind": "latency", "value": 1500, "count": 1}',
            )
        value = str(int(round(value)))
    elif kind == "code":
        value = _code_name(value)
    elif value is not None:
        raise FaultError(f"{kind} takes no value (got {value!r})", "value is for latency (ms) and code (a ResultCode)")

    count = data.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT):
        raise FaultError(
            f"count must be a whole number from 1 to {MAX_COUNT} or null (unlimited), got {count!r}",
            '"count": 2 fails the next two matching requests; leave it out for every one',
        )

    probability = data.get("probability", 1.0)
    if (
        isinstance(probability, bool)
        or not isinstance(probability, (int, float))
        or probability != probability
        or not 0 <= probability <= 1
    ):
        raise FaultError(
            f"probability must be a number from 0 to 1, got {probability!r}",
            '"probability": 0.25 fires for about a quarter of the matching requests; 1 (default) always',
        )
    return {"endpoint": endpoint, "kind": kind, "value": value, "count": count, "probability": float(probability)}


def _code_name(value: Any) -> str:
    hint = 'value names a ResultCode other than OK, e.g. "InternalError", "AmountNotEnough" (or its number, 9999)'
    code = None
    if isinstance(value, int) and not isinstance(value, bool):
        code = next((c for c in ResultCode if c.code == value), None)
    elif isinstance(value, str):
        text = value.strip()
        number = parse_count(text)
        if number is not None:
            code = next((c for c in ResultCode if c.code == number), None)
        else:
            code = next((c for c in ResultCode if c.name.lower() == text.lower()), None)
    if code is None or code is ResultCode.OK:
        raise FaultError(f"code needs value = a ResultCode name other than OK, got {value!r}", hint)
    return code.name
