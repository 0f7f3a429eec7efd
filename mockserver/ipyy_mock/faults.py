"""Fault injection: make the next N (or a fraction of) requests fail the way real networks and servers do.

Faults live in the SQLite file (table ``faults``, in the store's schema) so every
worker process sees the same list and a "next 2 requests" fault fails exactly
two requests whichever worker serves them: the remaining count is decremented
in one write transaction that only succeeds while it is above zero.

A fault row: ``endpoint`` (which requests it matches, see ENDPOINTS), ``kind``
(what happens, see KINDS), ``value`` (milliseconds for ``latency``, a
ResultCode name for ``code``), ``remaining`` (NULL = unlimited) and
``probability`` (each matching request fires it with that chance; 0 never).

All kinds but ``code`` act in ``FaultMiddleware`` in front of the app, before
any vendor logic runs. ``code`` is a refusal from the platform itself:
``Platform.send`` calls ``forced_code`` right after authentication, so SOAP and
HTTP answer it through their normal reply path and nothing is charged.
``/_mock/`` paths never match a fault, so the admin API that removes them
always works.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import sqlite3
import struct
import time
from contextvars import ContextVar
from typing import Any, Callable, Iterable

from ipyy_client.codes import ResultCode
from ipyy_mock.core.validation import parse_count
from ipyy_mock.soap import envelope

log = logging.getLogger("ipyy_mock.faults")

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
# selector -> the lower-case paths it matches ("soap" matches POSTs only: a WSDL GET is not a call)
ENDPOINTS = {
    "soap": ("/webservice.asmx",),
    "send": ("/i18nsms.aspx",),
    "status": ("/statusapi.aspx", "/statusjsonapi.aspx"),
    "call": ("/callapi.aspx", "/calljsonapi.aspx"),
    "pwd": ("/pwd.aspx",),
    "domestic": ("/sms.aspx", "/smsjson.aspx"),
    "*": (),
}
SOAP_PATH = "/webservice.asmx"
SEND_PATH = "/i18nsms.aspx"
JSON_PATHS = ("/statusjsonapi.aspx", "/calljsonapi.aspx", "/smsjson.aspx")
MOCK_PREFIX = "/_mock"
MAX_LATENCY_MS = 60_000
MAX_COUNT = 1_000_000  # requests a counted fault applies to (null: every one)
ACTIVE = "SELECT * FROM faults WHERE remaining IS NULL OR remaining > 0 ORDER BY id"
# SendRequest.via -> the send surface whose `code` faults apply to it
VIA_SURFACES = {"http": "send", "domestic": "domestic"}
# the send surfaces, and the selectors that reach each
CODE_SELECTORS = {
    "soap": ("soap", "*", SOAP_PATH),
    "send": ("send", "*", SEND_PATH),
    "domestic": ("domestic", "*", *ENDPOINTS["domestic"]),
}

XML_TYPE = "text/xml; charset=utf-8"
SOAP12_TYPE = "application/soap+xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"


class FaultError(ValueError):
    """A fault definition that cannot be stored; ``hint`` says what would be accepted."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


# -- storage ---------------------------------------------------------------------


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


# -- validation ------------------------------------------------------------------

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


# -- matching and consuming ------------------------------------------------------

# The request being served (per greenlet under the server's edge, core/group.py, so not threading.local):
# the names of the faults fired for it (for the journal) and the fault rows FaultMiddleware read for it.
_applied_names: ContextVar[list[str] | None] = ContextVar("ipyy_fault_names", default=None)
_applied_rows: ContextVar[list[sqlite3.Row] | None] = ContextVar("ipyy_fault_rows", default=None)


def _note(text: str) -> None:
    names = _applied_names.get()
    if names is not None:
        names.append(text)


def _label(row: sqlite3.Row) -> str:
    value = f" {row['value']}{'ms' if row['kind'] == 'latency' else ''}" if row["value"] else ""
    return f"{row['kind']}{value} #{row['id']}"


def _is_mock_path(path: str) -> bool:
    """The mock's own paths (admin API, inbox): no fault ever matches them, so the API that removes faults works."""
    return path == MOCK_PREFIX or path.startswith(MOCK_PREFIX + "/")


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


# -- replies -----------------------------------------------------------------------


def soap_version(environ: dict) -> int:
    return 12 if (environ.get("CONTENT_TYPE") or "").strip().lower().startswith("application/soap+xml") else 11


def soap_fault_body(version: int, message: str) -> bytes:
    """An injected Server (SOAP 1.2: Receiver) Fault, written as the SOAP surface writes every Fault."""
    return envelope.fault(version, message, "Server")


def content_type_for(environ: dict, path: str) -> str:
    if path == SOAP_PATH and (environ.get("REQUEST_METHOD") or "").upper() == "POST":
        return SOAP12_TYPE if soap_version(environ) == 12 else XML_TYPE
    return JSON_TYPE if path in JSON_PATHS else XML_TYPE


def malformed_body(environ: dict, path: str) -> bytes:
    """A reply cut off in the middle, as a dropped proxy connection would leave it."""
    if path in JSON_PATHS:
        box = "statusbox" if path.startswith("/status") else "callbox"
        return f'{{"error":"1","remark":"成功","{box}":[{{"mobile":"86138'.encode("utf-8")
    if path == SOAP_PATH:
        ns = envelope.NS_SOAP12 if soap_version(environ) == 12 else envelope.NS_SOAP11
        return (
            f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}" '
            f'xmlns:xsi="{envelope.NS_XSI}" xmlns:xsd="{envelope.NS_XSD}"><soap:Body>'
            f'<SendSmsResponse xmlns="{envelope.TNS}"><SendSmsResult><PayType>1</PayType>'
            "<StatusCode>OK</StatusCode><Descr"
        ).encode("utf-8")
    return (
        '<?xml version="1.0" encoding="utf-8" ?>\n<returnsms><returnstatus>Success</returnstatus>'
        "<message>操作成功</message><bal"
    ).encode("utf-8")


def reset_connection(environ: dict) -> bool:
    """Abort the client's TCP connection with an RST; False when there is no socket to abort.

    Under granian the server's edge (edge.py) puts ``ipyy.abort_connection`` in
    the environ: it finds the connection's descriptor by its address pair and
    aborts it the same way as below. Under gunicorn, its socket is in the
    environ: SO_LINGER (on, 0 s) makes the close send RST instead of FIN. The
    socket is closed by putting an unconnected socket on its file descriptor
    (dup2): the connection goes away at once, while gunicorn, which still holds
    that descriptor, gets a quiet EPIPE when it tries to write the reply.
    """
    abort = environ.get("ipyy.abort_connection")
    if callable(abort):
        return bool(abort())
    sock = environ.get("gunicorn.socket")
    if not isinstance(sock, socket.socket):
        return False
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with socket.socket(
            sock.family if sock.family in (socket.AF_INET, socket.AF_INET6) else socket.AF_INET, socket.SOCK_STREAM
        ) as dummy:
            os.dup2(dummy.fileno(), sock.fileno())
        return True
    except OSError as exc:
        log.warning("reset fault: could not abort the connection (%s); closing it", exc)
        try:
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            return True
        except OSError:
            return False


def _read_small_body(environ: dict, limit: int = 64 * 1024) -> None:
    """Read a body announced at most ``limit`` bytes (a larger or chunked one is left alone: never wait on it)."""
    length = (environ.get("CONTENT_LENGTH") or "").strip()
    stream = environ.get("wsgi.input")
    announced = parse_count(length, limit)
    if stream is not None and announced:
        try:
            stream.read(announced)
        except Exception:
            pass


class FaultMiddleware:
    """WSGI middleware applying the transport-level faults (every kind but ``code``) before the app."""

    def __init__(self, app: Callable, store: Any, sleep: Callable[[float], None] = time.sleep) -> None:
        self.app = app
        self.store = store
        self.sleep = sleep

    def __getattr__(self, name: str) -> Any:  # close(), platform, endpoints ... of the wrapped MockApp
        return getattr(self.app, name)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        names: list[str] = environ.setdefault("ipyy.faults", [])
        names_token = _applied_names.set(names)
        rows_token = _applied_rows.set(None)
        path = (environ.get("PATH_INFO") or "/").lower()
        try:
            if _is_mock_path(path):
                return self.app(environ, start_response)  # the admin API and inbox: never a fault
            # a vendor request: its faults, account and settings come from one reading of the store's generation
            # (the one latency() took, under the edge)
            with self.store.one_generation(environ.pop("ipyy.generation", None)):
                reply = self._inject(environ, start_response, names, path)
                if reply is not None:
                    return reply
                return self.app(environ, start_response)
        finally:
            _applied_rows.reset(rows_token)
            _applied_names.reset(names_token)

    def latency(self, environ: dict) -> float:
        """Fire the latency faults for this request now and return their total, in seconds, to be waited
        by the caller (edge.py waits with ``asyncio.sleep``, holding no thread). The request then goes
        through ``__call__`` as usual, which fires no latency fault a second time."""
        path = (environ.get("PATH_INFO") or "/").lower()
        environ["ipyy.latency_done"] = True
        if _is_mock_path(path):
            return 0.0
        with self.store.one_generation() as generation:
            environ["ipyy.generation"] = generation  # __call__ goes on with this reading
            rows = environ["ipyy.fault_rows"] = _active(self.store)  # __call__ uses the same read
        names: list[str] = environ.setdefault("ipyy.faults", [])
        method = (environ.get("REQUEST_METHOD") or "GET").upper()
        is_soap_call = path == SOAP_PATH and method == "POST"
        total = 0.0
        for row in rows:
            if row["kind"] == "latency" and _matches(row, method, path, is_soap_call) and _fire(self.store, row):
                names.append(_label(row))
                total += int(row["value"]) / 1000.0
        return total

    def _inject(self, environ: dict, start_response: Callable, names: list[str], path: str) -> Iterable[bytes] | None:
        rows = environ.pop("ipyy.fault_rows", None)
        if rows is None:
            rows = _active(self.store)
        _applied_rows.set(rows)  # forced_code (the `code` kind, in Platform.send) uses the same read
        if not rows:
            return None
        latency_done = environ.get("ipyy.latency_done", False)
        method = (environ.get("REQUEST_METHOD") or "GET").upper()
        is_soap_call = path == SOAP_PATH and method == "POST"
        for row in rows:
            if row["kind"] == "code" or not _matches(row, method, path, is_soap_call):
                continue
            kind = row["kind"]
            if kind == "latency" and latency_done:  # fired and waited for by latency() already
                continue
            if not _fire(self.store, row):
                continue
            names.append(_label(row))
            if kind == "latency":  # additive: wait, then keep looking (a later fault may still apply)
                self.sleep(int(row["value"]) / 1000.0)
                continue
            return self._reply(kind, row["id"], environ, start_response, path)
        return None

    def _reply(self, kind: str, fault_id: int, environ: dict, start_response: Callable, path: str) -> Iterable[bytes]:
        what = f"ipyy-mock injected fault #{fault_id} ({kind})"
        _read_small_body(environ)  # the app will not read it: read it here, so the journal shows what was sent
        if kind == "reset":
            environ["ipyy.reset"] = reset_connection(environ)
            # never reaches the client when the reset worked; the fallback is an empty 502
            start_response("502 Bad Gateway", [("Content-Length", "0"), ("Connection", "close")])
            return []
        if kind in ("http_500", "http_503"):
            status = "500 Internal Server Error" if kind == "http_500" else "503 Service Unavailable"
            body = f"{status}: {what}\n".encode()
            headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
            if kind == "http_503":
                headers.append(("Retry-After", "1"))
            start_response(status, headers)
            return [body]
        if kind == "soap_fault":
            version = soap_version(environ)
            body = soap_fault_body(version, f"Server was unable to process request. ---&gt; {what}")
            start_response(
                "500 Internal Server Error",
                [("Content-Type", SOAP12_TYPE if version == 12 else XML_TYPE), ("Content-Length", str(len(body)))],
            )
            return [body]
        body = b"" if kind == "empty" else malformed_body(environ, path)
        start_response(
            "200 OK", [("Content-Type", content_type_for(environ, path)), ("Content-Length", str(len(body)))]
        )
        return [body]
