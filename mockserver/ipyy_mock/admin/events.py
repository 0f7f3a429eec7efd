"""``GET /_mock/api/events``: server-sent events that tell the open inbox something arrived, within 100 ms.

Why in the server's edge (edge.py) and not in the WSGI app: the edge runs the
WSGI app on one thread per worker process (or a pool of ``--threads``), and a
WSGI response that stays open holds that thread for as long as it is open, so
two open inbox tabs would stop a worker's sends. Here a stream is an asyncio
task on the edge's loop: it holds no thread at all. Each worker has one
``EventHub``: while at least one stream is open it reads the newest ids of
messages, reports, uplinks and warnings (four ``MAX(id)`` lookups on their
own connection) every ``POLL`` seconds and wakes every stream when one moved;
the page then asks the admin API for what changed, as its polling does.

Bounds, so that streams can never crowd out sends: at most ``MAX_STREAMS``
per worker process (more are answered 429 in the admin API's JSON, and the
page keeps polling), and each stream ends after ``STREAM_SECONDS`` with a
``retry:`` field, so a client (EventSource, or the page's own reader)
reconnects: a stream a tab forgot is gone within a minute, and a reconnect
goes to whichever worker the kernel hands it to.

The access rule is the admin API's (admin/access.py), checked before the
stream starts. The page reads the stream with ``fetch`` (which can send the
``X-Admin-Token`` header, which EventSource cannot); the format is plain
``text/event-stream``. Under ``--server gunicorn`` (no edge) the WSGI route
answers 404 (no stream here; never a 5xx, docs/contract.md §6) and the page
polls once a second as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from werkzeug.wrappers import Request

from ipyy_mock.admin.jsonapi import AdminError

log = logging.getLogger("ipyy_mock.admin.events")

PATH = "/_mock/api/events"
POLL = 0.05  # seconds between two looks at the newest ids, while a stream is open
MAX_STREAMS = 8  # open streams per worker process
STREAM_SECONDS = 55.0  # a stream ends after this long; the client reconnects after RETRY_MS
RETRY_MS = 500
KEEPALIVE = 15.0  # seconds: a comment line, so proxies and the client see the stream alive
HEADERS = [
    ("Content-Type", "text/event-stream; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Accel-Buffering", "no"),
]


def _json_error(status: int, message: str, hint: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = (json.dumps({"error": message, "hint": hint}) + "\n").encode()
    return (
        status,
        [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))],
        body,
    )


class EventHub:
    """One per worker process (the edge's): the open streams and the watcher that wakes them."""

    def __init__(self, db_path: str, access: Any) -> None:
        self.db_path = db_path
        self.access = access
        self.streams: set[asyncio.Event] = set()
        self._reader: Any = None
        self._watcher: asyncio.Task | None = None
        self.ids: dict[str, int] = {}

    def _latest(self) -> dict[str, int]:
        from ipyy_mock.core import store

        if self._reader is None:  # read-only, outside the group commit's transaction: never waits for a writer
            self._reader = store.reader(self.db_path)
        return store.latest_ids(self._reader)

    async def _watch(self) -> None:
        try:
            while self.streams:
                try:
                    ids = self._latest()
                except Exception:  # a locked or missing database: the streams stay open, the page polls too
                    log.debug("event watcher could not read the ids", exc_info=True)
                    ids = self.ids
                if ids != self.ids:
                    self.ids = ids
                    for wake in self.streams:
                        wake.set()
                await asyncio.sleep(POLL)
        finally:
            self._watcher = None

    def refusal(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """The admin API's answer when this caller may not open a stream (or there are enough open)."""
        request = Request(environ)
        try:
            if self.access is not None:
                self.access.authorize(request)
        except AdminError as exc:
            status, headers, body = _json_error(exc.status, exc.message, exc.hint)
            return status, headers + list((exc.headers or {}).items()), body
        if request.method != "GET":
            status, headers, body = _json_error(405, f"{request.method} is not allowed on {PATH}", "use GET")
            return status, headers + [("Allow", "GET")], body
        if len(self.streams) >= MAX_STREAMS:
            status, headers, body = _json_error(
                429,
                f"{MAX_STREAMS} live streams are open in this worker",
                "the page polls instead; close inbox tabs you do not use",
            )
            return status, headers + [("Retry-After", str(int(STREAM_SECONDS)))], body
        return None

    async def serve(self, environ: dict[str, Any], protocol: Any) -> None:
        refused = self.refusal(environ)
        if refused is not None:
            protocol.response_bytes(*refused)
            return
        wake = asyncio.Event()
        self.streams.add(wake)
        if self._watcher is None:
            try:
                self.ids = self._latest()
            except Exception:  # the watcher tries again; the stream opens anyway
                log.debug("event hub could not read the ids", exc_info=True)
            self._watcher = asyncio.get_running_loop().create_task(self._watch())
        ends = time.monotonic() + STREAM_SECONDS
        gone = asyncio.ensure_future(protocol.client_disconnect())
        try:
            transport = protocol.response_stream(200, HEADERS)
            await transport.send_str(f"retry: {RETRY_MS}\nevent: hello\ndata: {json.dumps(self.ids)}\n\n")
            while not gone.done():
                left = ends - time.monotonic()
                if left <= 0:
                    await transport.send_str("event: bye\ndata: {}\n\n")  # the client reconnects after `retry`
                    break
                waiter = asyncio.ensure_future(wake.wait())
                await asyncio.wait({waiter, gone}, timeout=min(left, KEEPALIVE), return_when=asyncio.FIRST_COMPLETED)
                if not waiter.done():
                    waiter.cancel()
                    if not gone.done() and time.monotonic() < ends:
                        await transport.send_str(": keepalive\n\n")
                    continue
                wake.clear()
                await transport.send_str(f"event: change\ndata: {json.dumps(self.ids)}\n\n")
        except Exception:  # the client went away mid-write: nothing to tell it
            pass
        finally:
            gone.cancel()
            self.streams.discard(wake)


def get_events(admin: Any, request: Request) -> Any:
    """The WSGI route (no edge: ``--server gunicorn``, or an app without the server): no stream, poll instead."""
    raise AdminError(
        404,
        "live events need the granian server (ipyy-mock serve --server granian, the default)",
        "the inbox polls the admin API once a second instead",
    )
