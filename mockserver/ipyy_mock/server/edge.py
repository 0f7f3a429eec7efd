"""The asynchronous edge between granian and the mock's WSGI app (docs/server.md).

Why not granian's own WSGI interface: there a request gets a Python thread as
soon as its headers are in, and ``wsgi.input.read()`` blocks that thread until
the client has sent its body, with no deadline. One client that announces a
body and trickles it (or sends none) holds a thread for as long as it likes;
a few of them stall a worker. A latency fault (``time.sleep``) holds one too.
And granian's WSGI environ has no client port, which the ``reset`` fault
needs to find the connection it aborts.

So granian runs this object on its RSGI interface (an asyncio loop per
worker process), and it:

1. buffers the request body asynchronously: no thread waits on a slow sender,
   and a body not complete within ``body_timeout`` seconds is answered 408 and
   the connection closed; a ``Content-Length`` over ``max_body`` is not read at
   all (limits.py then answers 413 from the header alone), a chunked body is
   read at most ``max_body + 1`` bytes; a body that did not arrive whole (cut
   short of its Content-Length, a chunked body without its last chunk or with
   a broken chunk size) is answered 400 in the surface's format and never run;
2. waits out latency faults with ``asyncio.sleep`` (``FaultMiddleware.latency``)
   instead of blocking the thread that serves everybody else;
3. then calls the WSGI app with a complete PEP 3333 environ, on the loop's own
   thread (``threads=1``: one Python thread per worker, the fastest measured),
   each request in a greenlet so that the writes and journal rows of the
   requests in hand commit together (core/group.py), or in a pool of
   ``threads`` threads.

Headers are granian's (Rust) job: a request line and headers not complete
within ``--header-timeout`` seconds drop the connection before Python sees it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable

from ipyy_mock.admin.events import PATH as EVENTS_PATH
from ipyy_mock.admin.events import EventHub
from ipyy_mock.core.exchange import EXCHANGE_KEY, Exchange
from ipyy_mock.core.group import GroupCommit
from ipyy_mock.server.limits import not_whole
from ipyy_mock.server.request import endpoint_of
from ipyy_mock.server.reset import send_rst

log = logging.getLogger("ipyy_mock.server.edge")

REQUEST_TIMEOUT_BODY = (
    b"408 Request Timeout\nthe request body did not arrive in time; send it at once "
    b"(ipyy-mock serve --body-timeout SECONDS)\n"
)
URI_TOO_LONG_BODY = (
    b"414 URI Too Long\nthe path and query string are over 4094 bytes; send long recipient lists by POST\n"
)
MAX_TARGET = 4094  # bytes of path + query string, as gunicorn capped the request line (IIS refuses long URLs too)
SWEEP_EVERY = 0.25  # seconds between looks at the body deadlines
WILDCARDS = ("0.0.0.0", "::", "")  # what granian reports as the local address of a server on every address


def _split_addr(text: str) -> tuple[str, int]:
    """``"127.0.0.1:5000"`` / ``"[::1]:5000"`` → (host, port)."""
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port) if port.isdigit() else 0


def find_connection_fd(local: tuple[str, int], peer: tuple[str, int]) -> int | None:
    """The descriptor, in this process, of the TCP connection ``local`` ↔ ``peer``; None if there is none.

    Looks at each socket descriptor in ``/proc/self/fd`` (``/dev/fd`` elsewhere) through a duplicate, so
    nothing about the original changes. The connection's 4-tuple is unique while it is open. A wildcard
    local address (``0.0.0.0``, ``::``: what granian reports for a server listening on every address)
    matches any local address on that port.
    """
    fd_dir = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return None
    for name in names:
        if not name.isdigit():
            continue
        fd = int(name)
        try:
            if sys.platform.startswith("linux") and not os.readlink(f"{fd_dir}/{name}").startswith("socket:"):
                continue
            probe = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            if probe.type != socket.SOCK_STREAM or probe.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            if _same(probe.getsockname(), local) and _same(probe.getpeername(), peer):
                return fd
        except OSError:
            continue
        finally:
            probe.close()
    return None


def _same(address: Any, wanted: tuple[str, int]) -> bool:
    host, port = address[0], address[1]
    if host.startswith("::ffff:"):
        host = host[7:]
    want_host = wanted[0][7:] if wanted[0].startswith("::ffff:") else wanted[0]
    return port == wanted[1] and (host == want_host or want_host in WILDCARDS)


def local_address(local: tuple[str, int], peer: tuple[str, int]) -> str | None:
    """The address of this machine that the connection ``local`` ↔ ``peer`` reached (``local`` may be a
    wildcard); None if the connection is gone. For the admin API's Host check on a server listening on
    every address (admin/access.py): an IP literal in Host is allowed only when it is this address."""
    fd = find_connection_fd(local, peer)
    if fd is None:
        return None
    try:
        with socket.socket(fileno=os.dup(fd)) as conn:
            host = str(conn.getsockname()[0])
    except OSError:
        return None
    return host[7:] if host.startswith("::ffff:") else host


def abort_connection(local: tuple[str, int], peer: tuple[str, int]) -> bool:
    """Abort the TCP connection ``local`` ↔ ``peer`` with an RST (the ``reset`` fault); False if not found.

    ``SO_LINGER`` (on, 0 s) makes the last close send RST instead of FIN. The
    server's descriptor gets an unconnected socket put on it (``dup2``) and our
    duplicate, the last reference to the connection, is closed: the RST goes
    out at once, and granian, still holding that descriptor number, gets a
    quiet error when it tries to write the reply and drops it.
    """
    fd = find_connection_fd(local, peer)
    if fd is None:
        return False
    try:
        conn = socket.socket(fileno=os.dup(fd))
    except OSError:
        return False
    try:
        send_rst(conn, fd)
        return True
    except OSError as exc:
        log.warning("reset fault: could not abort the connection (%s)", exc)
        return False
    finally:
        conn.close()


class Edge:
    """An RSGI application (granian ``--interface rsgi``) in front of a WSGI app."""

    def __init__(self, app: Callable, *, max_body: int, body_timeout: float, threads: int = 1) -> None:
        self.app = app
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.latency: Callable[[dict], float] | None = getattr(app, "latency", None)  # FaultMiddleware's
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="ipyy-app") if threads > 1 else None
        self._deadlines: dict[asyncio.Task, float] = {}
        self._expired: set[asyncio.Task] = set()
        self._sweeping = False
        # One Python thread: the writes and journal rows of the requests in hand commit together (core/group.py).
        platform = getattr(app, "platform", None)
        self.group = (
            GroupCommit(platform.store, getattr(app, "journal_store", None))
            if threads <= 1 and platform is not None
            else None
        )
        # the live inbox's event streams: asyncio tasks here, never a thread (admin/events.py)
        admin = getattr(app, "endpoints", {}).get("admin") if platform is not None else None
        self.events = EventHub(platform.store.path, getattr(admin, "access", None)) if platform is not None else None

    # No pass-through to the wrapped app (there was a __getattr__): nothing reaches it through the edge, and
    # tests and benchmarks that want the app name ``edge.app``.
    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False)
        close = getattr(self.app, "close", None)
        if callable(close):
            close()

    # -- RSGI -------------------------------------------------------------------------------
    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return
        started = (time.time(), time.perf_counter())
        environ = self._environ(scope)
        exchange = environ[EXCHANGE_KEY]
        exchange.started = started  # the journal's clock starts here (a latency fault is waited below)
        if len(environ["PATH_INFO"]) + len(environ["QUERY_STRING"]) + 1 > MAX_TARGET:
            protocol.response_bytes(414, _plain(URI_TOO_LONG_BODY), URI_TOO_LONG_BODY)
            return
        if self.events is not None and exchange.path.rstrip("/") == EVENTS_PATH:
            await self.events.serve(environ, protocol)  # a stream, not a WSGI call
            return
        try:
            body: bytes | None = await self._body(scope, protocol, environ)
        except _BodyTimeout:
            protocol.response_bytes(408, _plain(REQUEST_TIMEOUT_BODY), REQUEST_TIMEOUT_BODY)
            return
        except Exception:  # granian: the body ended before its Content-Length, or its chunked framing broke
            body = None
        length = (environ.get("CONTENT_LENGTH") or "").strip()
        if body is None or (length.isdigit() and 0 < int(length) <= self.max_body and len(body) < int(length)):
            # never run a request the client did not finish; tell it in its surface's format, should it listen
            try:
                protocol.response_bytes(*not_whole(endpoint_of(environ["PATH_INFO"]), environ))
            except Exception:
                pass
            return
        environ["wsgi.input"] = io.BytesIO(body)
        exchange.body = body  # the journal keeps it from here
        if self.latency is not None:
            delay = self.latency(environ)
            if delay > 0:
                await asyncio.sleep(delay)
        if self.group is not None:
            status, headers, reply = await self.group.serve(self._call, environ)
        elif self.pool is None:
            status, headers, reply = self._call(environ)
        else:
            status, headers, reply = await asyncio.get_running_loop().run_in_executor(self.pool, self._call, environ)
        if exchange.reset:
            headers = [("Content-Length", "0"), ("Connection", "close")]  # never reaches the client
            reply = b""
        try:
            protocol.response_bytes(status, headers, reply)
        except Exception:  # the client is gone (or the reset fault took its connection): nothing to tell it
            pass

    # -- the request ----------------------------------------------------------------------------
    def _environ(self, scope: Any) -> dict[str, Any]:
        server_host, server_port = _split_addr(scope.server)
        client_host, client_port = _split_addr(scope.client)
        path = scope.path
        try:  # PEP 3333: PATH_INFO is the percent-decoded bytes as latin-1 (granian hands over UTF-8 text)
            path = path.encode("utf-8").decode("latin-1")
        except UnicodeError:
            pass
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scope.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server_host,
            "SERVER_PORT": str(server_port),
            "SERVER_PROTOCOL": "HTTP/1.0" if scope.http_version == "1" else f"HTTP/{scope.http_version}",
            "REMOTE_ADDR": client_host,
            "REMOTE_PORT": str(client_port),
            "SERVER_SOFTWARE": "ipyy-mock (granian)",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.scheme,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": self.pool is not None,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        environ[EXCHANGE_KEY] = Exchange(
            path=path.lower(),
            caller=client_host,
            local_address=lambda: local_address((server_host, server_port), (client_host, client_port)),
            abort_connection=lambda: abort_connection((server_host, server_port), (client_host, client_port)),
        )
        headers = scope.headers
        for key in headers.keys():
            values = headers.get_all(key)
            value = ";".join(values) if key == "cookie" else ",".join(values)
            if key == "content-type":
                environ["CONTENT_TYPE"] = value
            elif key == "content-length":
                environ["CONTENT_LENGTH"] = value
            else:
                environ["HTTP_" + key.upper().replace("-", "_")] = value
        if "HTTP_HOST" not in environ and scope.authority:
            environ["HTTP_HOST"] = scope.authority
        return environ

    async def _body(self, scope: Any, protocol: Any, environ: dict[str, Any]) -> bytes:
        """The whole body (bounded), read without holding a thread; _BodyTimeout past the deadline."""
        length = (environ.get("CONTENT_LENGTH") or "").strip()
        chunked = "chunked" in (environ.get("HTTP_TRANSFER_ENCODING") or "").lower()
        if length.isdigit():
            if int(length) == 0 or int(length) > self.max_body:
                return b""  # nothing to read, or refused from the header alone (limits.py: 413)
        elif not chunked:
            return b""
        task = asyncio.current_task()
        assert task is not None
        self._deadlines[task] = time.monotonic() + self.body_timeout
        self._sweep_soon()
        try:
            if not chunked:
                return await protocol()
            environ["wsgi.input_terminated"] = True
            parts, got, empty = [], 0, 0
            async for chunk in protocol:
                if not chunk:
                    empty += 1
                    continue
                if empty:  # data after granian's end of body: nothing to trust
                    raise _NotWhole()
                parts.append(chunk)
                got += len(chunk)
                if got > self.max_body:  # enough to refuse it (limits.py: 413); the rest is never read
                    return b"".join(parts)
            if empty > 1 and not self._trailers_ended(scope, environ):
                raise _NotWhole()
            return b"".join(parts)
        except asyncio.CancelledError:
            if task in self._expired:
                self._expired.discard(task)
                task.uncancel()
                raise _BodyTimeout() from None
            raise
        finally:
            self._deadlines.pop(task, None)

    @staticmethod
    def _trailers_ended(scope: Any, environ: dict[str, Any]) -> bool:
        """True when a chunked body's extra empty frame can only be its trailers.

        granian's body iterator ends with one empty frame; it turns both a trailer section and an error of
        the framing (the connection closed before the last chunk, a chunk size that is not hex, a chunk not
        followed by CRLF) into one more empty frame and does not say which. Trailers are taken when the
        request announced them (``Trailer``, which RFC 9110 asks of their sender) and the client is still
        there: a connection that is gone, reset or at its end of file is a client that stopped mid-body.
        """
        if not environ.get("HTTP_TRAILER", "").strip():
            return False
        fd = find_connection_fd(_split_addr(scope.server), _split_addr(scope.client))
        if fd is None:
            return False
        try:
            with socket.socket(fileno=os.dup(fd)) as conn:
                conn.setblocking(False)
                return bool(conn.recv(1, socket.MSG_PEEK))  # the client's next request already waits
        except BlockingIOError:
            return True  # open, nothing more sent: the client waits for the answer
        except OSError:
            return False

    def _sweep_soon(self) -> None:
        if not self._sweeping:
            self._sweeping = True
            asyncio.get_running_loop().call_later(SWEEP_EVERY, self._sweep)

    def _sweep(self) -> None:
        """Cancel the body reads past their deadline (one timer per worker, not one per request)."""
        self._sweeping = False
        now = time.monotonic()
        for task, deadline in list(self._deadlines.items()):
            if deadline <= now and task not in self._expired:
                self._expired.add(task)
                task.cancel()
        if self._deadlines:
            self._sweep_soon()

    def _call(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        """Run the WSGI app to the end: (status, headers, body)."""
        captured: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            captured[:] = [status, headers]
            return _no_write

        result: Iterable[bytes] = self.app(environ, start_response)
        try:
            reply = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status_line, headers = captured
        return int(status_line.split(" ", 1)[0]), [(str(k), str(v)) for k, v in headers], reply


def _plain(body: bytes) -> list[tuple[str, str]]:
    """Headers of the edge's own refusals: plain text, and the connection closed after it."""
    return [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), ("Connection", "close")]


def _no_write(data: bytes) -> None:
    raise RuntimeError("the mock's WSGI app returns its body; write() is not supported")


class _BodyTimeout(Exception):
    pass


class _NotWhole(Exception):
    """The body's framing broke: it did not arrive whole."""
