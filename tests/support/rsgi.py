"""granian's side of the RSGI interface, as far as the mock's edge (``ipyy_mock/edge.py``) reads it.

For driving the edge in process with a known number of requests in hand (tests/test_group_commit.py) and
for the in-process profile (benchmarks/profile_send.py): the scope's fields, its headers, and a protocol
that hands over a body and keeps the reply.
"""

from __future__ import annotations

import asyncio


class Headers:
    """The scope's headers: ``keys()`` and ``get_all(name)``, lower-case names."""

    def __init__(self, headers: dict[str, str]) -> None:
        self._h = headers

    def keys(self) -> list[str]:
        return list(self._h)

    def get_all(self, key: str) -> list[str]:
        return [self._h[key]]


class Scope:
    """One HTTP/1.1 request's scope: the fields the edge reads."""

    proto = "http"
    http_version = "1.1"
    scheme = "http"
    server = "127.0.0.1:8080"
    authority = "127.0.0.1:8080"
    method = "POST"
    query_string = ""

    def __init__(self, path: str, headers: dict[str, str], client_port: int = 50000) -> None:
        self.path = path
        self.client = f"127.0.0.1:{client_port}"
        self.headers = Headers(headers)


class Protocol:
    """The request's protocol: ``await protocol()`` gives the body (``later``: a loop turn later, as from a
    socket, so that requests started together interleave); ``response_bytes`` keeps the reply."""

    def __init__(self, body: bytes, later: bool = True) -> None:
        self.body = body
        self.later = later
        self.reply: tuple[int, bytes] | None = None

    async def __call__(self) -> bytes:
        if self.later:
            await asyncio.sleep(0)
        return self.body

    def response_bytes(self, status: int, headers: list, body: bytes) -> None:
        self.reply = (status, body)
