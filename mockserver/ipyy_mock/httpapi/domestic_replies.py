"""The domestic interface's reply bodies (``sms.aspx`` XML, ``smsJson.aspx`` JSON), docs/domestic.md.

Apart from the surface (httpapi/domestic.py) so that the request guard
(limits.py) can answer a refusal in this format without importing the
surface, which imports the HTTP API: no import cycle.
"""

from __future__ import annotations

from ipyy_mock.core import points
from ipyy_mock.httpapi import replies as R

#: app.py's endpoint names: XML and JSON replies.
XML_ENDPOINT = "domestic"
JSON_ENDPOINT = "domestic_json"
ENDPOINTS = (XML_ENDPOINT, JSON_ENDPOINT)


# --- reply bodies ---------------------------------------------------------------------
# One list of (name, text) pairs per reply, written by the HTTP API's XML writer or as a JSON
# object of strings (every value is a string on the wire: "remainpoint":"0").


def _body(fields: list[tuple[str, str]], json_reply: bool) -> bytes:
    return R._json(dict(fields)) if json_reply else R._returnsms(fields)


def send_reply(
    ok: bool, message: str, remain_points: int = 0, task_id: int = 0, count: int = 0, *, json_reply: bool
) -> bytes:
    """``returnstatus, message, remainpoint, taskID, successCounts``; a refusal says 0, "", 0 (the vendor's)."""
    return _body(
        [
            ("returnstatus", R.SUCCESS if ok else R.FAILED),
            ("message", message),
            ("remainpoint", str(remain_points) if ok else "0"),
            ("taskID", str(task_id) if ok and task_id else ""),
            ("successCounts", str(count) if ok else "0"),
        ],
        json_reply,
    )


def overage_reply(message: str, figures: points.PointsOverage | None, *, json_reply: bool) -> bytes:
    """``returnstatus (Sucess, sic), message (empty), payinfo, overage, sendTotal``; None is a refusal: Faild, 0, 0."""
    if figures is None:
        return _body(
            [("returnstatus", R.FAILED), ("message", message), ("payinfo", ""), ("overage", "0"), ("sendTotal", "0")],
            json_reply,
        )
    return _body(
        [
            ("returnstatus", R.PWD_SUCCESS),
            ("message", message),
            ("payinfo", R.PAY_TYPES.get(figures.pay_type, "")),
            ("overage", str(figures.points)),
            ("sendTotal", str(figures.send_total)),
        ],
        json_reply,
    )


def refusal_body(endpoint: str, message: str, action: str = "") -> tuple[str, bytes]:
    """(content type, body) of a refusal before the request was read (limits.py: size, encoding)."""
    json_reply = endpoint == JSON_ENDPOINT
    ctype = R.JSON_TYPE if json_reply else R.XML_TYPE
    if action == "overage":
        return ctype, overage_reply(message, None, json_reply=json_reply)
    return ctype, send_reply(False, message, json_reply=json_reply)
