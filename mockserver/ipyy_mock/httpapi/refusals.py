"""A refusal before an ``.aspx`` page's own handler runs, written in that page's format.

Why here: the request guard in front of every surface (server/limits.py) refuses a body that is too
large, not whole or not UTF-8 before the page reads it, and the page itself refuses a form werkzeug
cannot parse; both must answer as the page would (``Faild``/``参数错误``, ``errorstatus`` 4, JSON
``1001``), and the page's wire format is this package's to write.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl

from ipyy_client.codes import ResultCode
from ipyy_mock.httpapi import replies as R
from ipyy_mock.httpapi.domestic_replies import ENDPOINTS as DOMESTIC_ENDPOINTS
from ipyy_mock.httpapi.domestic_replies import refusal_body as domestic_refusal

#: Endpoints (app.py's names) of the vendor's form-based HTTP interface.
FORM_ENDPOINTS = ("send", "status", "status_json", "call", "call_json", "pwd", "domestic", "domestic_json")

_NONE = Decimal(0)  # the balance and amount a refusal reports


def _number(code: ResultCode) -> int:
    """The document's number of ``code`` (ParamError is 1001); the JSON replies carry it."""
    number = code.code
    assert number is not None, code
    return number


_PARAM_ERROR = _number(ResultCode.ParamError)


def action_of(*sources: bytes) -> str:
    """The ``action`` parameter (first wins, query before form), read leniently: only to pick a reply shape."""
    for raw in sources:
        for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            if key == "action":
                return value.strip().lower()
    return ""


def form_refusal(endpoint: str, message: str, remark: str, status: int, action: str = "") -> tuple[int, str, bytes]:
    """(status, content type, body) of a parameter-level refusal in ``endpoint``'s own format."""
    if endpoint == "pwd":
        return status, R.XML_TYPE, R.pwd_reply(False, message)
    if endpoint in DOMESTIC_ENDPOINTS:
        return (status, *domestic_refusal(endpoint, message, action))
    if endpoint in ("status", "call"):
        return status, R.XML_TYPE, R.xml_error(4, remark)
    if endpoint in ("status_json", "call_json"):
        box = "statusbox" if endpoint == "status_json" else "callbox"
        return status, R.JSON_TYPE, R.json_error(_PARAM_ERROR, remark, box)
    if action == "overage":
        return status, R.XML_TYPE, R.overage_reply(False, message, "", _NONE)
    return status, R.XML_TYPE, R.send_reply(False, message, _NONE, 0, _NONE, 0)  # I18NSms.aspx (send/overage)


#: The reason phrases of the statuses the guard and the surfaces answer with (limits.py, api.py).
REASONS = {200: "OK", 400: "Bad Request", 413: "Content Too Large"}


def status_line(status: int) -> str:
    """``413`` → ``"413 Content Too Large"`` (just the number for a status without a phrase here)."""
    return f"{status} {REASONS.get(status, '')}".strip()
