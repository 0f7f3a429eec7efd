"""The WSGI middleware that applies the transport-level faults (every kind but ``code``) in front of the app,
before any vendor logic runs, so an injected failure costs nothing and changes no state; and the ``reset`` kind's
TCP abort, which needs the server's socket rather than a reply."""

from __future__ import annotations

import functools
import logging
import socket
import time
from typing import Any, Callable, Iterable

from ipyy_mock.core.exchange import Exchange
from ipyy_mock.core.validation import parse_count
from ipyy_mock.faults.bodies import content_type_for, malformed_body, soap_fault_body, soap_version
from ipyy_mock.faults.decision import _active, _fire, _label, _matches, forced_code
from ipyy_mock.faults.rules import SOAP12_TYPE, SOAP_PATH, XML_TYPE, _is_mock_path
from ipyy_mock.server.reset import send_rst
from ipyy_mock.server.wrapping import AppWrapper

log = logging.getLogger("ipyy_mock.faults")  # the name the fault log has always had


def reset_connection(environ: dict) -> bool:
    """Abort the client's TCP connection with an RST; False when there is no socket to abort.

    Under granian the server's edge (edge.py) puts ``abort_connection`` on the
    request's Exchange: it finds the connection's descriptor by its address pair and
    aborts it with server/reset.py's ``send_rst``. Under gunicorn, its socket is
    in the environ and ``send_rst`` aborts it directly: the connection goes away
    at once, while gunicorn, which still holds that descriptor, gets a quiet
    EPIPE when it tries to write the reply.
    """
    abort = Exchange.of(environ).abort_connection
    if abort is not None:
        return bool(abort())
    sock = environ.get("gunicorn.socket")
    if not isinstance(sock, socket.socket):
        return False
    try:
        send_rst(sock, sock.fileno())
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


class FaultMiddleware(AppWrapper):
    """WSGI middleware applying the transport-level faults (every kind but ``code``) before the app; what the
    edge and tests reach through it is forwarded by AppWrapper (server/wrapping.py), its own ``latency`` aside."""

    def __init__(self, app: Callable, store: Any, sleep: Callable[[float], None] = time.sleep) -> None:
        self.app = app
        self.store = store
        self.sleep = sleep

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        exchange = Exchange.of(environ)
        path = exchange.path
        if _is_mock_path(path):
            return self.app(environ, start_response)  # the admin API and inbox: never a fault
        # a vendor request: its faults, account and settings come from one reading of the store's generation
        # (the one latency() took, under the edge)
        generation, exchange.generation = exchange.generation, None  # taken once
        with self.store.one_generation(generation):
            reply = self._inject(environ, exchange, start_response, path)
            if reply is not None:
                return reply
            return self.app(environ, start_response)

    def latency(self, environ: dict) -> float:
        """Fire the latency faults for this request now and return their total, in seconds, to be waited
        by the caller (edge.py waits with ``asyncio.sleep``, holding no thread). The request then goes
        through ``__call__`` as usual, which fires no latency fault a second time."""
        exchange = Exchange.of(environ)
        path = exchange.path
        exchange.latency_done = True
        if _is_mock_path(path):
            return 0.0
        with self.store.one_generation() as generation:
            exchange.generation = generation  # __call__ goes on with this reading
            rows = exchange.fault_rows = _active(self.store)  # __call__ uses the same read
        names = exchange.faults
        method = (environ.get("REQUEST_METHOD") or "GET").upper()
        is_soap_call = path == SOAP_PATH and method == "POST"
        total = 0.0
        for row in rows:
            if row["kind"] == "latency" and _matches(row, method, path, is_soap_call) and _fire(self.store, row):
                names.append(_label(row))
                total += int(row["value"]) / 1000.0
        return total

    def _inject(self, environ: dict, exchange: Exchange, start_response: Callable, path: str) -> Iterable[bytes] | None:
        rows, exchange.fault_rows = exchange.fault_rows, None  # latency()'s reading, taken once
        if rows is None:
            rows = _active(self.store)
        if not rows:
            return None
        # the `code` kind is decided in Platform.send, after authentication, from this same reading
        exchange.code_fault = functools.partial(forced_code, self.store, rows, exchange.faults)
        latency_done = exchange.latency_done
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
            exchange.faults.append(_label(row))
            if kind == "latency":  # additive: wait, then keep looking (a later fault may still apply)
                self.sleep(int(row["value"]) / 1000.0)
                continue
            return self._reply(kind, row["id"], environ, start_response, path)
        return None

    def _reply(self, kind: str, fault_id: int, environ: dict, start_response: Callable, path: str) -> Iterable[bytes]:
        what = f"ipyy-mock injected fault #{fault_id} ({kind})"
        _read_small_body(environ)  # the app will not read it: read it here, so the journal shows what was sent
        if kind == "reset":
            Exchange.of(environ).reset = reset_connection(environ)
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
