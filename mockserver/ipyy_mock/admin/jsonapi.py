"""JSON in, JSON out: the admin API's error type, its replies, and how it reads a request's body and arguments.

Why a module of its own: every admin handler (admin/controls.py, admin/records.py,
admin/diagnostics.py) and the access check (admin/access.py) speak this one format,
and none of them may import the WSGI app (admin/api.py), which imports them all
through its route table. Every error is ``{"error": "...", "hint": "..."}``
with a 4xx status; a body nobody could mean (nested 100,000 deep, over the
size limit, not UTF-8) is a 400 or 413 that says so, never an internal error.
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Any

from werkzeug.wrappers import Request, Response

from ipyy_mock.core import clock
from ipyy_mock.core.exchange import Exchange
from ipyy_mock.core.validation import parse_count

JSON_TYPE = "application/json; charset=utf-8"
MAX_BODY = 1024 * 1024  # bytes of JSON the admin API takes: a rule list or an account is a few hundred
MAX_DEPTH = 32  # nesting of arrays/objects; the deepest real body (rules with a reply) is 3
MAX_LIMIT = 1000  # rows a list endpoint hands out at once


class AdminError(Exception):
    """Becomes ``{"error": message, "hint": hint}`` with ``status`` (and ``headers``, e.g. WWW-Authenticate)."""

    def __init__(self, status: int, message: str, hint: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint
        self.headers = headers or {}


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, indent=1) + "\n", status=status, content_type=JSON_TYPE)


def error_response(status: int, message: str, hint: str = "", headers: dict[str, str] | None = None) -> Response:
    response = json_response({"error": message, "hint": hint}, status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _depth(data: Any) -> int:
    """How deeply arrays and objects nest in ``data``, counted without recursion (so any depth is safe)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def body(request: Request, example: str) -> dict[str, Any]:
    """The request's JSON object; AdminError (400/413) with an example of what would do otherwise."""
    too_large = AdminError(
        413,
        f"body over {MAX_BODY} bytes",
        "the admin API takes JSON bodies of at most 1 MiB; send less (e.g. fewer rules at once)",
    )
    if (request.content_length or 0) > MAX_BODY:
        raise too_large
    # Read here, one byte past the limit: werkzeug's own limit cuts a chunked body short without a word.
    raw = request.stream.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise too_large
    if not raw.strip():
        raise AdminError(400, "empty body: a JSON object is needed", f"e.g. {example}")
    too_deep = AdminError(
        400, "body nested too deeply", f"arrays and objects nest at most {MAX_DEPTH} levels; e.g. {example}"
    )
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:  # the C parser gives up on ~1000 levels: the answer is the same as for 33
        raise too_deep from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise AdminError(400, f"body is not valid JSON: {exc}", f"send a JSON object, e.g. {example}") from None
    if not isinstance(data, dict):
        raise AdminError(400, f"body must be a JSON object, not {type(data).__name__}", f"e.g. {example}")
    if _depth(data) > MAX_DEPTH:
        raise too_deep
    exchange = Exchange.of(request.environ)
    if not exchange.account and isinstance(data.get("account"), str):  # the journal's account column
        exchange.account = data["account"][:100]
    try:  # "\ud800" in JSON is a lone surrogate: SQLite (UTF-8) cannot store it
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise AdminError(
            400, "body has a lone surrogate escape (\\ud800-\\udfff without its pair)", "send valid Unicode text"
        ) from None
    return data


# -- query arguments -------------------------------------------------------------------
def limit_arg(request: Request, default: int = 200, high: int = MAX_LIMIT) -> int:
    raw = request.args.get("limit", str(default))
    value = parse_count(raw, high)
    if value is None or value < 1:
        raise AdminError(400, f"limit must be 1 to {high}, got {raw!r}", "e.g. ?limit=50")
    return value


def int_arg(request: Request, name: str) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    value = parse_count(raw)
    if value is None:
        raise AdminError(
            400, f"{name} must be a whole number (at most 19 digits), got {raw!r}", f"e.g. ?{name}=1000001"
        )
    return value


def time_arg(request: Request, name: str, zone: tzinfo) -> float | None:
    """``since``/``until`` as ISO 8601; a time without a zone is platform time."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return clock.to_epoch(datetime.fromisoformat(raw.replace("Z", "+00:00")), zone)
    except ValueError:
        raise AdminError(
            400, f"{name} must be an ISO 8601 time, got {raw!r}", f"e.g. ?{name}=2026-11-25T09:00:00"
        ) from None
