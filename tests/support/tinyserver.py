"""A raw TCP/HTTP server on a free port whose every connection follows a script.

For the tests that need a misbehaving peer: one that drops or resets the first
connection, never answers, or answers a canned (hostile) body; and a sentinel
that only counts connections (to prove that no external entity or DTD was
ever fetched). Each accepted connection's request bytes are kept.
"""

from __future__ import annotations

import socket
import threading
import time

from support.net import reset

DROP = "drop"  # read the request, close without a byte of reply
RESET = "reset"  # read the request, close with a TCP RST
HANG = "hang"  # read the request, say nothing until the server is closed


def http_reply(body: bytes, status: str = "200 OK", ctype: str = "text/xml; charset=utf-8") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode("ascii") + body


class TinyServer:
    """``script`` items: DROP, RESET, HANG, raw reply bytes, or a callable(request bytes) -> reply bytes.

    After the script runs out every connection gets ``default``.
    """

    def __init__(self, script: list | tuple = (), default: object = DROP, port: int = 0) -> None:
        self.script = list(script)
        self.default = default
        self.requests: list[bytes] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with self._lock:
                self.connections += 1
                action = self.script.pop(0) if self.script else self.default
            threading.Thread(target=self._handle, args=(conn, action), daemon=True).start()

    @staticmethod
    def _read_request(conn: socket.socket) -> bytes:
        conn.settimeout(5)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return data
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            return head + b"\r\n\r\n" + body
        except OSError:
            return data

    def _handle(self, conn: socket.socket, action: object) -> None:
        try:
            request = self._read_request(conn)
            with self._lock:
                self.requests.append(request)
            if action == DROP:
                pass
            elif action == RESET:
                reset(conn)
                return
            elif action == HANG:
                self._closed.wait()
            else:
                reply = action(request) if callable(action) else action
                conn.sendall(reply)
        except OSError:
            pass
        finally:
            conn.close()

    def wait_quiet(self, seconds: float = 0.5) -> None:
        """Give a client the chance to (wrongly) come back for another try."""
        time.sleep(seconds)

    def close(self) -> None:
        self._closed.set()
        self.sock.close()
        self.thread.join(timeout=2)

    def __enter__(self) -> "TinyServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
