"""The HTTP interface's reply bodies, byte for byte as docs/contract.md §4 and the vendor write them.

Typos are the contract (``Faild``, ``Sucess``), and so is the declaration
``<?xml version="1.0" encoding="utf-8" ?>`` with its space, which lxml does not
write. The bodies are joined strings with one escaping function (``xml_text``)
that writes exactly what lxml's serializer writes for element text: building a
4000-report pull with lxml took 130-240 ms, the joined string 26-36 ms.
``tests/test_reply_builders.py`` keeps the lxml builder as the reference and
proves the bytes identical over hostile content (markup, quotes, CR, control
characters, lone surrogates, emoji, empty values, empty lists).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Iterable

from ipyy_client.encoding import XML_ILLEGAL, escape_xml_text
from ipyy_mock.core.domain import Report, Uplink

XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8" ?>\n'
XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

SUCCESS = "Success"
FAILED = "Faild"
PWD_SUCCESS = "Sucess"
MSG_OK = "操作成功"
MSG_EMPTY_CREDENTIALS = "用户名或密码不能为空"
MSG_BAD_CREDENTIALS = "用户名或密码错误"
MSG_NO_REPORTS = "该用户不允许查看状态报告"
MSG_BAD_PARAMS = "参数不正确"
JSON_OK_REMARK = "成功"
JSON_PASSWORD_REMARK = "密码错了"
PAY_TYPES = {"prepaid": "预付费", "postpaid": "后付费"}

# What XML 1.0 cannot carry: C0 controls other than tab/CR/LF, U+FFFE/U+FFFF, lone surrogates.
# Text from outside (an uplink's content) may hold them; lxml would raise while building a reply
# *after* a pull has handed its items out, losing them. They are written as U+FFFD instead.


def xml_safe(text: str) -> str:
    """``text`` with every character XML cannot carry replaced by U+FFFD."""
    return XML_ILLEGAL.sub("\ufffd", text)


def xml_problem(text: str) -> str | None:
    """Names the first character XML cannot carry (``U+0001 at position 3``), or None when ``text`` is fine."""
    match = XML_ILLEGAL.search(text)
    return None if match is None else f"U+{ord(match.group()):04X} at position {match.start()}"


_XML_SPECIAL = re.compile("[&<>\r]|" + XML_ILLEGAL.pattern)


def xml_text(value: str) -> str:
    """Element text as lxml writes it: XML-illegal characters as U+FFFD (``xml_safe``), then ``&`` ``<`` ``>``
    and CR escaped (lxml writes CR as ``&#13;`` so that it survives line-end normalization)."""
    if _XML_SPECIAL.search(value) is None:  # the usual case: digits, names, times
        return value
    if XML_ILLEGAL.search(value):
        value = XML_ILLEGAL.sub("\ufffd", value)
    return escape_xml_text(value)


def money(value: Decimal | int) -> str:
    """Plain decimal notation, never an exponent (``Decimal('1E+2')`` → ``100``)."""
    return format(Decimal(value), "f")


def when(moment: datetime) -> str:
    """``TIME_FORMAT``; formatted by hand: strftime on an aware datetime was most of a large pull."""
    if moment.year < 1000:  # strftime's %Y does not pad on every platform: leave such dates to it
        return moment.strftime(TIME_FORMAT)
    return (
        f"{moment.year}-{moment.month:02d}-{moment.day:02d} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )


def _xml(body: str) -> bytes:
    return XML_DECLARATION + body.encode("utf-8")


def _elements(fields: Iterable[tuple[str, str]]) -> str:
    return "".join(f"<{name}>{xml_text(value)}</{name}>" for name, value in fields)


def _returnsms(fields: Iterable[tuple[str, str]]) -> bytes:
    inner = _elements(fields)
    return _xml(f"<returnsms>{inner}</returnsms>" if inner else "<returnsms/>")


def send_reply(ok: bool, message: str, balance: Decimal, task_id: int, amount: Decimal, count: int) -> bytes:
    return _returnsms(
        [
            ("returnstatus", SUCCESS if ok else FAILED),
            ("message", message),
            ("balance", money(balance)),
            ("taskID", str(task_id) if task_id else ""),
            ("BillingAmount", money(amount)),
            ("successCounts", str(count)),
        ]
    )


def overage_reply(ok: bool, message: str, pay_type: str, balance: Decimal) -> bytes:
    return _returnsms(
        [
            ("returnstatus", SUCCESS if ok else FAILED),
            ("message", message),
            ("payinfo", PAY_TYPES.get(pay_type, "") if ok else ""),
            ("balance", money(balance)),
        ]
    )


def pwd_reply(ok: bool, message: str) -> bytes:
    return _returnsms([("returnstatus", PWD_SUCCESS if ok else FAILED), ("message", message)])


def xml_error(number: int, remark: str) -> bytes:
    return _xml(
        f"<returnsms><errorstatus>{_elements([('error', str(number)), ('remark', remark)])}</errorstatus></returnsms>"
    )


def _json(body: dict) -> bytes:
    """Compact, like the vendor: ``{"error":"1005","remark":"密码错了","statusbox":[]}``."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_error(code: int, remark: str, box: str) -> bytes:
    return _json({"error": str(code), "remark": remark, box: []})


def report_fields(r: Report) -> list[tuple[str, str]]:
    return [
        ("mobile", r.mobile),
        ("taskid", str(r.task_id)),
        ("status", str(r.status)),
        ("receivetime", when(r.receive_time)),
        ("errorcode", r.errorcode),
        ("extno", r.extno),
    ]


def uplink_fields(u: Uplink) -> list[tuple[str, str]]:
    return [
        ("mobile", u.mobile),
        ("taskid", "" if u.task_id is None else str(u.task_id)),
        ("content", u.content),
        ("receivetime", when(u.receive_time)),
        ("extno", u.extno),
    ]


def boxes_xml(box: str, items: list[list[tuple[str, str]]]) -> bytes:
    """``<returnsms><statusbox>…</statusbox>…</returnsms>``: the pull reply and the push body."""
    if not items:
        return _xml("<returnsms/>")
    parts = ["<returnsms>"]
    for fields in items:
        parts.append(f"<{box}>{_elements(fields)}</{box}>" if fields else f"<{box}/>")
    parts.append("</returnsms>")
    return _xml("".join(parts))


def statusbox_xml(reports: list[Report]) -> bytes:
    """``boxes_xml("statusbox", [report_fields(r) for r in reports])`` in one pass (a pull hands out up to 4000)."""
    if not reports:
        return _xml("<returnsms/>")
    t = xml_text
    times: dict[int, str] = {}  # by the datetime object: the reports of one send share it (reports_from_rows)
    parts = ["<returnsms>"]
    for r in reports:
        moment = r.receive_time
        text = times.get(id(moment))
        if text is None:
            text = times[id(moment)] = t(when(moment))
        parts.append(
            f"<statusbox><mobile>{t(r.mobile)}</mobile><taskid>{t(str(r.task_id))}</taskid>"
            f"<status>{t(str(r.status))}</status><receivetime>{text}</receivetime>"
            f"<errorcode>{t(r.errorcode)}</errorcode><extno>{t(r.extno)}</extno></statusbox>"
        )
    parts.append("</returnsms>")
    return _xml("".join(parts))


def callbox_xml(uplinks: list[Uplink]) -> bytes:
    """``boxes_xml("callbox", [uplink_fields(u) for u in uplinks])``."""
    return boxes_xml("callbox", [uplink_fields(u) for u in uplinks])


def boxes_json(box: str, items: list[list[tuple[str, str]]]) -> bytes:
    return _json({"error": "1", "remark": JSON_OK_REMARK, box: [dict(fields) for fields in items]})
