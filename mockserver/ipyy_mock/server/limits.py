"""The request guard in front of every surface: body limit, bounded reads, UTF-8 forms (docs/contract.md §6).

Why a guard before routing to a surface: werkzeug reads a form body whole and
decodes it with ``errors="replace"``, so a huge body would be read into memory
and a non-UTF-8 byte would silently become U+FFFD (an account name that is
"almost" right, content that is garbled). The guard runs first, for every
path, and answers in the surface's own format:

* a body over ``max_body`` bytes (``ipyy-mock serve --max-body``) → HTTP 413,
  decided from ``Content-Length`` before a byte of the body is read; a chunked
  body (no length) is read at most ``max_body + 1`` bytes, never more;
* the ``.aspx`` surfaces get their (bounded) body buffered and checked: the
  query string and a form body must be UTF-8 once percent-decoded, else the
  endpoint's parameter error (``Faild``/``参数错误``, ``errorstatus`` 4, JSON
  ``1001``) with HTTP 200, as the vendor answers every parameter error.

``/WebService.asmx`` reads its body itself (with the same reader, core/body.py) because its
errors are SOAP Faults whose version depends on the Content-Type. The admin
API's body is read (bounded) here too, its 413 is JSON, and it checks the JSON
itself. Other paths read no body; only a length announced over the limit is
refused there.
"""

from __future__ import annotations

import io
import json
from typing import Callable, Iterable

from ipyy_client.codes import ResultCode
from ipyy_mock.core.body import BodyNotWhole, BodyTooLarge, read_body
from ipyy_mock.core.validation import parse_count
from ipyy_mock.httpapi import replies as R
from ipyy_mock.httpapi.params import unquote_bytes
from ipyy_mock.httpapi.refusals import FORM_ENDPOINTS, action_of, form_refusal, status_line

DEFAULT_MAX_BODY = 4 * 1024 * 1024  # 4 MiB: a send to 4000 recipients is ~60 kB; the SOAP front uses it too

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def _utf8_form(raw: bytes) -> bool:
    """True when a query string or urlencoded form is UTF-8 once its %XX escapes are decoded."""
    try:
        unquote_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _refusal(
    endpoint: str | None, status: int, message: str, remark: str, hint: str, action: str = ""
) -> tuple[int, str, bytes]:
    if endpoint in FORM_ENDPOINTS:
        return form_refusal(endpoint, message, remark, status, action)
    if endpoint == "admin":
        body = json.dumps({"error": f"{remark}", "hint": hint}, ensure_ascii=False, indent=1) + "\n"
        return status, "application/json; charset=utf-8", body.encode("utf-8")
    return status, "text/plain; charset=utf-8", f"{status} {remark}\n{hint}\n".encode("utf-8")


#: The answer to a body that did not arrive whole (cut short, a broken chunked framing): nothing was done.
BODY_NOT_WHOLE = "请求体不完整 (the request body did not arrive whole; nothing was done)"
BODY_NOT_WHOLE_HINT = (
    "send the whole request again: Content-Length must match, a chunked body ends with its last chunk "
    "(and names its trailers, if any, in a Trailer header)"
)


def not_whole(endpoint: str | None, environ: dict) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of the 400 for a body that did not arrive whole, in ``endpoint``'s format.

    The SOAP surface answers as ASMX answers a request it cannot read: 400 with an empty body and the
    content type of the version the request's Content-Type names. The connection is closed after it: what
    follows on it is no longer a request boundary anyone agreed on.
    """
    ctype = (environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
    if endpoint == "soap":
        version_type = "application/soap+xml" if ctype == "application/soap+xml" else "text/xml"
        body, content_type = b"", f"{version_type}; charset=utf-8"
    else:
        query = (environ.get("QUERY_STRING") or "").encode("latin-1", "replace")
        _, content_type, body = _refusal(
            endpoint, 400, BODY_NOT_WHOLE, BODY_NOT_WHOLE, BODY_NOT_WHOLE_HINT, action_of(query)
        )
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), ("Connection", "close")]
    return 400, headers, body


class RequestGuard:
    """``guard(environ, endpoint)`` → None (go on) or a WSGI app that answers the refusal."""

    def __init__(self, max_body: int = DEFAULT_MAX_BODY) -> None:
        if max_body < 1:
            raise ValueError("max_body must be at least 1 byte")
        self.max_body = max_body

    def __call__(self, environ: dict, endpoint: str | None) -> WSGIApp | None:
        if endpoint == "soap":
            return None  # the SOAP front reads with the same bound and answers with a Fault
        text = f"请求体超过 {self.max_body} 字节 (request body over the {self.max_body}-byte limit)"
        too_large = (text, text, "send less (ipyy-mock serve --max-body BYTES sets the limit)")
        if endpoint not in FORM_ENDPOINTS and endpoint != "admin":
            # Only a length announced over the limit is refused here; these surfaces read no body.
            raw_length = (environ.get("CONTENT_LENGTH") or "").strip()
            announced = parse_count(raw_length)
            if announced is not None and announced > self.max_body:
                return _answer(*_refusal(endpoint, 413, *too_large))
            return None
        query = (environ.get("QUERY_STRING") or "").encode("latin-1", "replace")  # PEP 3333: bytes as latin-1
        try:
            body = read_body(environ, self.max_body)
        except BodyTooLarge:
            return _answer(*_refusal(endpoint, 413, *too_large, action_of(query)))
        except BodyNotWhole:
            status, headers, reply = not_whole(endpoint, environ)
            return _answer(status, dict(headers)["Content-Type"], reply)
        except ValueError as exc:
            return _answer(
                *_refusal(endpoint, 400, ResultCode.ParamError.description, str(exc), "send a valid Content-Length")
            )
        # The surface reads the buffered copy: no second read of the socket, no unbounded read.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if endpoint == "admin":
            return None  # JSON, checked by the admin API itself
        ctype = (environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
        form_ok = True
        if ctype == "application/x-www-form-urlencoded":
            form_ok = _utf8_form(body)
        elif ctype == "multipart/form-data":  # the vendor takes no files: every part is text, so all of it is UTF-8
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                form_ok = False
        if not (_utf8_form(query) and form_ok):
            action = action_of(query, body if ctype == "application/x-www-form-urlencoded" else b"")
            return _answer(
                *_refusal(
                    endpoint,
                    200,
                    ResultCode.ParamError.description,
                    R.MSG_BAD_PARAMS,
                    "parameters must be UTF-8 (percent-encoded)",
                    action,
                )
            )
        return None


def _answer(status: int, ctype: str, body: bytes) -> WSGIApp:
    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        start_response(
            status_line(status),
            [("Content-Type", ctype), ("Content-Length", str(len(body)))],
        )
        return [body]

    return app
