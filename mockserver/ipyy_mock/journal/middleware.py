"""The WSGI middleware that writes one journal row per request: the request body teed as the app reads it (or
taken whole from the Exchange when the edge read it), the reply captured, the row written before the reply's
body leaves."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterable

from ipyy_client._masking import mask_pairs, mask_text  # the one masker (client and mock)
from ipyy_mock.core.exchange import Exchange
from ipyy_mock.journal.rows import account_of, body_text, headers_text, warnings_json
from ipyy_mock.journal.store import JournalStore
from ipyy_mock.server.health import PATH as HEALTH_PATH  # polled every few seconds: not journaled
from ipyy_mock.server.request import surface_of
from ipyy_mock.server.wrapping import AppWrapper

log = logging.getLogger("ipyy_mock.journal")

BODY_LIMIT = 64 * 1024
JOURNAL_PATH = "/_mock/api/journal"
METRICS_PATHS = ("/_mock/metrics", "/_mock/api/metrics")  # scraped every few seconds: neither journaled nor counted


class TeeInput:
    """``wsgi.input`` that keeps the first ``limit`` bytes of whatever the app reads."""

    def __init__(self, stream: Any, limit: int = BODY_LIMIT) -> None:
        self._stream = stream
        self.limit = limit
        self.kept = bytearray()
        self.total = 0

    def _keep(self, data: bytes) -> bytes:
        if data:
            self.total += len(data)
            room = self.limit - len(self.kept)
            if room > 0:
                self.kept += data[:room]
        return data

    def read(self, size: int | None = -1) -> bytes:
        return self._keep(self._stream.read() if size is None or size < 0 else self._stream.read(size))

    def readline(self, size: int | None = -1) -> bytes:
        return self._keep(self._stream.readline() if size is None or size < 0 else self._stream.readline(size))

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        lines = self._stream.readlines() if hint is None or hint < 0 else self._stream.readlines(hint)
        for line in lines:
            self._keep(line)
        return lines

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line


class _Streaming:
    """A reply without Content-Length: passed through as it comes, journaled on close()."""

    def __init__(
        self, inner: Iterable[bytes], done: Callable[[list[bytes], int, BaseException | None], None], limit: int
    ) -> None:
        self.inner = inner
        self.done = done
        self.limit = limit
        self.kept: list[bytes] = []
        self.size = 0
        self.total = 0
        self.error: BaseException | None = None

    def __iter__(self):
        try:
            for chunk in self.inner:
                self.total += len(chunk)
                if self.size < self.limit:
                    self.kept.append(chunk[: self.limit - self.size])
                    self.size += len(self.kept[-1])
                yield chunk
        except BaseException as exc:
            self.error = exc
            raise

    def close(self) -> None:
        try:
            close = getattr(self.inner, "close", None)
            if close is not None:
                close()
        finally:
            self.done(self.kept, self.total, self.error)


class JournalMiddleware(AppWrapper):
    """WSGI middleware: one journal row per request (except the journal endpoint's own); what the edge and tests
    reach through it is forwarded by AppWrapper (server/wrapping.py), its own ``journal_store`` aside."""

    def __init__(self, app: Callable, store: JournalStore, limit: int = BODY_LIMIT) -> None:
        self.app = app
        self.store = store
        self.limit = limit

    @property
    def journal_store(self) -> JournalStore:
        """What the edge groups (core/group.py), by a name no wrapped app answers to (theirs is ``store``)."""
        return self.store

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        exchange = Exchange.of(environ)
        path = exchange.path.rstrip("/")
        if (
            path.startswith(JOURNAL_PATH)
            or path in METRICS_PATHS
            or environ.get("HTTP_X_IPYY_INBOX") == "poll"
            or path == HEALTH_PATH
        ):
            # the journal's own reads, the inbox's polling and health checks would crowd real traffic out
            return self.app(environ, start_response)
        # the server's edge (edge.py) starts the clock before it waits out a latency fault
        started, t0 = exchange.started
        tee = None
        stream = environ.get("wsgi.input")
        if stream is not None and exchange.body is None:  # the edge hands the whole body over: no tee
            tee = environ["wsgi.input"] = TeeInput(stream, self.limit)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        def record(chunks: list[bytes], total: int, error: BaseException | None = None) -> None:
            self._record(environ, exchange, tee, captured, chunks, total, started, t0, error)

        try:
            result = self.app(environ, capture)
        except BaseException as exc:
            record([], 0, exc)
            raise
        headers = captured.get("headers")
        if headers is not None and any(k.lower() == "content-length" for k, _ in headers):
            # a finite reply (all of the mock's are): journal it before the client can see its end,
            # so whoever reads the journal right after a reply finds the row
            try:
                chunks = list(result)
            except BaseException as exc:
                record([], 0, exc)
                raise
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            record(chunks, sum(len(c) for c in chunks))
            return chunks
        return _Streaming(result, record, self.limit)

    def _record(
        self,
        environ: dict,
        exchange: Exchange,
        tee: TeeInput | None,
        captured: dict[str, Any],
        chunks: list[bytes],
        total: int,
        started: float,
        t0: float,
        error: BaseException | None,
    ) -> None:
        try:
            duration = (time.perf_counter() - t0) * 1000.0
            method = (environ.get("REQUEST_METHOD") or "GET").upper()
            path = environ.get("PATH_INFO") or "/"
            req_type = environ.get("CONTENT_TYPE") or ""
            surface = surface_of(method, exchange.path, req_type)
            req_body, req_total = b"", 0
            buffered = exchange.body
            if buffered is not None:  # the server's edge read the whole body before the app ran
                req_body, req_total = buffered[: self.limit], len(buffered)
            elif tee is not None:  # only what the app read: reading more could wait on a client that sends no more
                req_body, req_total = bytes(tee.kept), tee.total
            soap_type = req_type if surface in ("soap11", "soap12") else None
            request_text = mask_text(body_text(req_body, req_total, soap_type))
            query = mask_pairs(environ.get("QUERY_STRING") or "")
            status = None
            status_line = captured.get("status")
            if status_line and not exchange.reset:
                try:
                    status = int(status_line.split(" ", 1)[0])
                except ValueError:
                    status = None
            resp_type = next((v for k, v in captured.get("headers") or () if k.lower() == "content-type"), "")
            kept = b"".join(chunks)[: self.limit]
            response_text = mask_text(body_text(kept, total)) if status is not None else ""
            row = (
                started,
                method,
                path,
                query,
                environ.get("REMOTE_ADDR") or "",
                req_type,
                headers_text(environ),
                request_text,
                req_total,
                status,
                resp_type,
                response_text,
                total if status is not None else 0,
                round(duration, 3),
                surface,
                account_of(exchange, surface, query, request_text, req_type),
                "; ".join(exchange.faults),
                "" if error is None else mask_text(f"{type(error).__name__}: {error}"[:500]),
                warnings_json(exchange.warnings),
                exchange.result,
            )
            self.store.insert(row)
        except Exception:  # the journal must never break a reply
            log.warning(
                "could not journal %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), exc_info=True
            )
