"""The HTTP interface's reply bodies are joined strings now; these tests keep the lxml builder they replaced as
the reference and prove the bytes identical over hostile content (the pull reply, the push body, every
``returnsms`` reply and the error box)."""

from __future__ import annotations

import string
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from ipyy_mock.core.domain import Report, Uplink
from ipyy_mock.httpapi import replies as R

# -- the reference: the lxml builder as it was -------------------------------------------------------------------


def ref_xml(root) -> bytes:
    return R.XML_DECLARATION + etree.tostring(root, encoding="utf-8")


def ref_returnsms(fields) -> bytes:
    root = etree.Element("returnsms")
    for name, value in fields:
        etree.SubElement(root, name).text = R.xml_safe(value)
    return ref_xml(root)


def ref_xml_error(number: int, remark: str) -> bytes:
    root = etree.Element("returnsms")
    box = etree.SubElement(root, "errorstatus")
    etree.SubElement(box, "error").text = str(number)
    etree.SubElement(box, "remark").text = R.xml_safe(remark)
    return ref_xml(root)


def ref_boxes_xml(box: str, items) -> bytes:
    root = etree.Element("returnsms")
    for fields in items:
        node = etree.SubElement(root, box)
        for name, value in fields:
            etree.SubElement(node, name).text = R.xml_safe(value)
    return ref_xml(root)


# -- hostile values -----------------------------------------------------------------------------------------------

HOSTILE = [
    "",
    " ",
    "plain",
    "<b>bold</b>",
    "a & b",
    "&amp; already",
    "&#13;",
    "\"double\" 'single'",
    "]]>",
    "<![CDATA[x]]>",
    "line\nbreak",
    "cr\rlf\r\n",
    "tab\t",
    "nul\x00",
    "bell\x07",
    "\x0b\x0c",
    "esc\x1b[31m",
    "del\x7f",
    "c1\x85\x9f",
    "\ufffe\uffff",
    "lone \ud800 surrogate",
    "\udfff",
    "emoji 😀👍🏽",
    "中文【华信】",
    "\u2028\u2029",
    "\U0010ffff",
    "<?xml version='1.0'?>",
    "<!DOCTYPE x>",
    "&lt;&gt;",
    ">" * 5 + "<" * 5,
    string.printable,
]
ZONE = timezone(timedelta(hours=8))


def _report(text: str) -> list[tuple[str, str]]:
    return R.report_fields(Report(text, 1000001, 10, datetime(2026, 11, 25, 20, 18, 11, tzinfo=ZONE), text, text))


def _uplink(text: str) -> list[tuple[str, str]]:
    return R.uplink_fields(Uplink(text, None, text, datetime(2026, 1, 2, 3, 4, 5, tzinfo=ZONE), text))


@pytest.mark.parametrize("text", HOSTILE)
def test_returnsms_replies(monkeypatch, text):
    built = [
        R.send_reply(True, text, Decimal("1E+2"), 1000001, Decimal("0.05"), 1),
        R.send_reply(False, text, Decimal("-0.00"), 0, Decimal(0), 0),
        R.overage_reply(True, text, "prepaid", Decimal("99.95")),
        R.overage_reply(False, text, "", Decimal(0)),
        R.pwd_reply(True, text),
        R.pwd_reply(False, text),
    ]
    monkeypatch.setattr(R, "_returnsms", ref_returnsms)
    reference = [
        R.send_reply(True, text, Decimal("1E+2"), 1000001, Decimal("0.05"), 1),
        R.send_reply(False, text, Decimal("-0.00"), 0, Decimal(0), 0),
        R.overage_reply(True, text, "prepaid", Decimal("99.95")),
        R.overage_reply(False, text, "", Decimal(0)),
        R.pwd_reply(True, text),
        R.pwd_reply(False, text),
    ]
    assert built == reference


@pytest.mark.parametrize("text", HOSTILE)
def test_error_box(text):
    for number in (1, 2, 3, 4):
        assert R.xml_error(number, text) == ref_xml_error(number, text)


@pytest.mark.parametrize("box,make", [("statusbox", _report), ("callbox", _uplink)])
def test_pull_replies_and_push_bodies(box, make):
    assert R.boxes_xml(box, []) == ref_boxes_xml(box, []) == R.XML_DECLARATION + b"<returnsms/>"
    for text in HOSTILE:
        assert R.boxes_xml(box, [make(text)]) == ref_boxes_xml(box, [make(text)]), text
    everything = [make(t) for t in HOSTILE] * 3
    assert R.boxes_xml(box, everything) == ref_boxes_xml(box, everything)
    # what the client parses back is what went in (illegal characters as U+FFFD)
    parsed = etree.fromstring(R.boxes_xml(box, everything)[len(R.XML_DECLARATION) :])
    assert [[child.text or "" for child in node] for node in parsed] == [
        [R.xml_safe(v) for _, v in fields] for fields in everything
    ]


def _reports(texts: list[str]) -> list[Report]:
    shared = datetime(2026, 11, 25, 20, 18, 11, tzinfo=ZONE)  # one send's reports share their receive time
    return [
        Report(t, 1000001 + i, 10 if i % 2 else 20, shared if i % 3 else shared + timedelta(seconds=i), t, t)
        for i, t in enumerate(texts)
    ]


def test_one_pass_pull_builders_match_the_generic_one():
    reports = _reports(HOSTILE * 3)
    assert R.statusbox_xml(reports) == ref_boxes_xml("statusbox", [R.report_fields(r) for r in reports])
    assert R.statusbox_xml([]) == ref_boxes_xml("statusbox", [])
    uplinks = [
        Uplink(t, None if i % 2 else i, t, datetime(2026, 1, 2, 3, 4, i % 60, tzinfo=ZONE), t)
        for i, t in enumerate(HOSTILE)
    ]
    assert R.callbox_xml(uplinks) == ref_boxes_xml("callbox", [R.uplink_fields(u) for u in uplinks])
    assert R.callbox_xml([]) == ref_boxes_xml("callbox", [])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=8))
def test_random_reports(texts):
    reports = _reports(texts)
    assert R.statusbox_xml(reports) == ref_boxes_xml("statusbox", [R.report_fields(r) for r in reports])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(st.sampled_from(["mobile", "taskid", "content", "extno"]), st.text(max_size=30)), max_size=6
        ),
        max_size=5,
    ),
    st.sampled_from(["statusbox", "callbox"]),
)
def test_random_boxes(items, box):
    assert R.boxes_xml(box, items) == ref_boxes_xml(box, items)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_random_text(text):
    assert (
        R.send_reply(False, text, Decimal(0), 0, Decimal(0), 0)[len(R.XML_DECLARATION) :]
        == ref_returnsms(
            [
                ("returnstatus", R.FAILED),
                ("message", text),
                ("balance", "0"),
                ("taskID", ""),
                ("BillingAmount", "0"),
                ("successCounts", "0"),
            ]
        )[len(R.XML_DECLARATION) :]
    )
    assert R.xml_error(2, text) == ref_xml_error(2, text)


@settings(max_examples=500, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59), timezones=st.just(ZONE)))
def test_receive_time_text(moment):
    assert R.when(moment) == moment.strftime(R.TIME_FORMAT)
