"""The receiving half of the platform's push (docs/contract.md §5): parse a pushed body, answer ``1`` / ``error``.

A pushed body is the same ``<returnsms><statusbox>…`` / ``<callbox>…`` XML as a
pull reply, so it goes through the same parser (``ipyy_client.http``) and
gives the same Report / Uplink objects. The platform retries a batch when the
answer is ``error`` (at most 3 tries), so the receiver answers ``error`` only
when retrying can help: the body did not parse or the handler raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import tzinfo
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from ipyy_client._common import DEFAULT_ZONE
from ipyy_client.errors import IpyyError, ProtocolError
from ipyy_client.http import boxes_from_xml, parse_xml, xml_error
from ipyy_client.results import Report, Uplink

log = logging.getLogger("ipyy_client.push")

#: Larger pushed bodies are refused (answered ``error``); 4000 reports are far below this.
MAX_BODY = 16 * 1024 * 1024

Handler = Callable[[list[Report | Uplink]], object]


def parse_push(body: bytes, zone: str | tzinfo = DEFAULT_ZONE) -> list[Report | Uplink]:
    """A pushed body → its reports and uplinks, in document order.

    ProtocolError when the body is not a ``<returnsms>`` document (or carries
    an ``errorstatus``, which has no place in a push). Times are aware, in ``zone``.
    """
    root = parse_xml(body)
    error = xml_error(root)
    if error is not None:
        raise ProtocolError(f"pushed body carries an error, not reports/uplinks: {error}", body=body[:300])
    return boxes_from_xml(root, zone)


def push_receiver(handler: Handler, *, zone: str | tzinfo = DEFAULT_ZONE, max_body: int = MAX_BODY) -> WSGIApplication:
    """A WSGI app for the account's push URL: ``handler(items)`` per POST, then ``1``; ``error`` on failure.

    The whole body is read (the vendor pushes raw XML, not a form field).
    ``error`` (so the platform pushes the batch again) when the body does not
    parse or the handler raises; the handler should therefore be idempotent:
    a batch can arrive twice if the ``1`` is lost.
    """

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = max_body
        if request.method != "POST":
            response = Response(
                "POST the pushed XML here\n",
                status=405,
                headers={"Allow": "POST"},
                content_type="text/plain; charset=utf-8",
            )
            return response(environ, start_response)
        try:
            body = request.get_data(cache=False)
            items = parse_push(body, zone)
        except RequestEntityTooLarge:
            log.warning("pushed body over %d bytes refused", max_body)
            return _answer(b"error", environ, start_response, status=413)
        except IpyyError as exc:
            log.warning("pushed body refused: %s", exc)
            return _answer(b"error", environ, start_response)
        try:
            handler(items)
        except Exception:  # the handler's failure is the platform's cue to retry
            log.exception("push handler failed on %d item(s)", len(items))
            return _answer(b"error", environ, start_response)
        return _answer(b"1", environ, start_response)

    return app


def _answer(body: bytes, environ: WSGIEnvironment, start_response: StartResponse, status: int = 200) -> Iterable[bytes]:
    return Response(body, status=status, content_type="text/plain; charset=utf-8")(environ, start_response)
