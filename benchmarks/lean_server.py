"""A measuring rig, not a server to use: the mock's worker app behind a minimal asyncio HTTP/1.1 server.

    .venv/bin/pip install httptools      # only this rig needs it
    .venv/bin/python benchmarks/lean_server.py --port 8091 --db /tmp/lean.db [--workers 2]
    .venv/bin/python benchmarks/lean_server.py --port 8092 --raw   # the edge over benchmarks/raw_app.py

Why it exists: granian hands each request from its Rust threads to the
worker's asyncio loop and back (RSGI), and on a bare app that costs about
twice what granian's own WSGI interface does (docs/server.md). This rig
answers "what would the mock gain if its request path had no hand-off at
all": the HTTP parsing is httptools (llhttp, C), on the worker's own uvloop,
and each complete request goes to the very objects a granian worker runs
(``load_app(config, edge=True)``: the edge, the journal, group commit, the
surfaces, the platform) through stand-ins for RSGI's scope and protocol.
``benchmarks/floors.py --lean`` measures it side by side with the mock as
shipped and WireMock.

What it leaves out, so never serve with it: header and body deadlines
(slow clients hold connections forever), request size limits before the app,
pipelining (one request in flight per connection), the ``reset`` fault,
graceful stop, worker respawn, the access log. Those are what ``ipyy-mock
serve`` gets from granian and the edge (docs/server.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
from typing import Any

import httptools  # type: ignore[import-not-found,unused-ignore]  # no type hints; only this rig needs it

from ipyy_mock.server import ServeConfig, load_app

REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 405: b"Method Not Allowed", 500: b"Error"}


class Headers:
    """RSGI's headers as the edge reads them: ``keys()`` and ``get_all(name)``, lower-case names."""

    __slots__ = ("_h",)

    def __init__(self, headers: dict[str, list[str]]) -> None:
        self._h = headers

    def keys(self) -> list[str]:
        return list(self._h)

    def get_all(self, key: str) -> list[str]:
        return self._h.get(key, [])


class Scope:
    """RSGI's scope: the fields the edge reads."""

    proto = "http"
    http_version = "1.1"
    scheme = "http"

    def __init__(self, server: str, client: str, method: str, url: bytes, headers: dict[str, list[str]]) -> None:
        parsed = httptools.parse_url(url)
        self.server = server
        self.client = client
        self.method = method
        self.path = parsed.path.decode("utf-8", "replace")
        self.query_string = (parsed.query or b"").decode("latin-1")
        self.authority = (headers.get("host") or [""])[0]
        self.headers = Headers(headers)


class Exchange:
    """RSGI's protocol for one request whose body is already in: the body, and the reply written back."""

    __slots__ = ("body", "conn")

    def __init__(self, body: bytes, conn: Connection) -> None:
        self.body = body
        self.conn = conn

    async def __call__(self) -> bytes:
        return self.body

    def __aiter__(self) -> Any:
        return self._chunks()

    async def _chunks(self) -> Any:
        yield self.body

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.conn.reply(status, headers, body)


class Connection(asyncio.Protocol):
    """One client connection: httptools calls back as the request arrives; a complete request runs the edge."""

    def __init__(self, edge: Any, server: str) -> None:
        self.edge = edge
        self.server = server
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        self.client = ""
        self.url = b""
        self.headers: dict[str, list[str]] = {}
        self.body: list[bytes] = []
        self.close_after = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        host, port = transport.get_extra_info("peername")[:2]
        self.client = f"{host}:{port}"

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()

    # httptools' callbacks
    def on_message_begin(self) -> None:
        self.url, self.headers, self.body = b"", {}, []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.close_after = not self.parser.should_keep_alive()
        scope = Scope(self.server, self.client, self.parser.get_method().decode(), self.url, self.headers)
        asyncio.get_running_loop().create_task(self.edge.__rsgi__(scope, Exchange(b"".join(self.body), self)))

    def reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        if self.transport.is_closing():
            return
        head = [b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, b"Status"))]
        head += [f"{k}: {v}\r\n".encode("latin-1") for k, v in headers]
        if self.close_after:
            head.append(b"Connection: close\r\n")
        self.transport.write(b"".join(head) + b"\r\n" + body)
        if self.close_after:
            self.transport.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--db", help="the mock's database (an account in it: ipyy-mock account add)")
    p.add_argument("--raw", action="store_true", help="the edge over the bare app of raw_app.py, no mock")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    if not args.raw and not args.db:
        p.error("give --db (the mock) or --raw (the bare app)")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(1024)
    children = []
    for _ in range(args.workers - 1):  # the workers share one listening socket, forked before any app exists
        pid = os.fork()
        if pid == 0:
            children = []
            break
        children.append(pid)

    def stop(signum: int, frame: Any) -> None:
        for pid in children:
            os.kill(pid, signal.SIGTERM)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    import uvloop

    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    if args.raw:  # what benchmarks/servers.sh runs as "granian-edge": the same edge over the same bare app
        from raw_app import app as raw

        from ipyy_mock.edge import Edge

        edge: Any = Edge(raw, max_body=4 << 20, body_timeout=15)
    else:
        edge = load_app(ServeConfig(host="127.0.0.1", port=args.port, db_path=args.db, workers=args.workers), True)
    server = f"127.0.0.1:{args.port}"
    loop.run_until_complete(loop.create_server(lambda: Connection(edge, server), sock=sock))
    try:
        loop.run_forever()
    finally:
        edge.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
