"""A request's body, read once and bounded: the one reader of ``wsgi.input`` that the body limit
(server/limits.py) and the SOAP front (which answers its refusals as SOAP Faults) share.

Why one reader: the limit's rules (a ``Content-Length`` over the limit refused before a byte is read, a chunked
body read at most one byte past it, a body shorter than its length or a broken framing never run) are the
vendor's contract for every surface; each surface only words the refusal in its own format. The body it
returns is kept on the request's Exchange, where the journal finds it.
"""

from __future__ import annotations

import io

from ipyy_mock.core.exchange import Exchange
from ipyy_mock.core.validation import parse_count


class BodyTooLarge(Exception):
    pass


class BodyNotWhole(Exception):
    """The body did not arrive whole: shorter than its Content-Length, or its chunked framing broke."""


def read_body(environ: dict, max_body: int) -> bytes:
    """The request body, never reading more than ``max_body + 1`` bytes; BodyTooLarge past the limit,
    BodyNotWhole when it did not arrive whole, ValueError for a Content-Length that is not a number.

    ``Content-Length`` over the limit is refused before reading; a chunked body
    (the server sets ``wsgi.input_terminated``) is read up to one byte past it. A body the server's edge already
    read whole (``Exchange.body``) is checked against the same rules and not read again.
    """
    raw_length = (environ.get("CONTENT_LENGTH") or "").strip()
    if raw_length:
        want = parse_count(raw_length)
        if want is None:
            raise ValueError(f"invalid Content-Length {raw_length[:40]!r}")
        if want > max_body:
            raise BodyTooLarge()
    elif environ.get("wsgi.input_terminated"):
        want = max_body + 1
    else:
        return b""
    exchange = Exchange.of(environ)
    if exchange.body is not None:  # the edge read it whole: the same checks, no second read
        body = exchange.body[:want]
    else:
        stream = environ.get("wsgi.input") or io.BytesIO()
        chunks, got = [], 0
        try:
            while got < want:
                chunk = stream.read(min(want - got, 64 * 1024))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
        except OSError:  # the server's reader (gunicorn's): a chunked framing that broke, a client gone mid-body
            raise BodyNotWhole() from None
        body = b"".join(chunks)
    if len(body) > max_body:
        raise BodyTooLarge()
    if raw_length and len(body) < want:
        raise BodyNotWhole()
    exchange.body = body  # read once: the surfaces and the journal take it from here
    return body
