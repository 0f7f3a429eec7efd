"""The socket plumbing every test peer shares: a free loopback port, a reset instead of a close, a small HTTP server.

Why one module: the receivers and scripted servers of the suite all need the
same three things, and each hand-written copy was a chance for one of them to
send FIN where the test meant RST, or to log into the test output.
"""

from __future__ import annotations

import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ipyy_mock.testing.process import free_port

__all__ = ["LoopbackHTTPServer", "QuietHandler", "closed_port", "free_port", "reset"]


def closed_port() -> int:
    """A loopback port nothing listens on (a connection to it is refused at once)."""
    return free_port()


def reset(sock: socket.socket) -> None:
    """Close ``sock`` with a TCP RST rather than a FIN: linger on, 0 s."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps http.server's access log out of the test output."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # server_close() from a handler thread must not join that thread
    allow_reuse_address = True


class LoopbackHTTPServer:
    """A threading HTTP server on one loopback port that can go down and come back up on that same port.

    ``listening=False`` leaves the port closed until ``up()``: a connection to
    it is refused, like a receiver that is not running yet.
    """

    def __init__(self, handler_class: type[BaseHTTPRequestHandler], *, port: int = 0, listening: bool = True) -> None:
        self.handler_class = handler_class
        self.port = port or free_port()
        self._server: _Server | None = None
        self._server_lock = threading.Lock()
        if listening:
            self.up()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def up(self) -> "LoopbackHTTPServer":
        with self._server_lock:
            if self._server is None:
                server = _Server(("127.0.0.1", self.port), self.handler_class)
                threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
                self._server = server
        return self

    def down(self) -> None:
        """Close the port; requests already being handled finish (or are reset by their handler)."""
        with self._server_lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def close(self) -> None:
        self.down()

    def __enter__(self) -> "LoopbackHTTPServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
