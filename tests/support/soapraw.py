"""Hand-written SOAP envelopes, no zeep: what any legacy client puts on the wire."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

import requests
from lxml import etree

TNS = "http://www.yysms.com/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


# A Fault's HTTP status: 500 for both versions, as ASMX sends every Fault.
FAULT_STATUS = {11: 500, 12: 500}


def envelope(
    op: str,
    user: str | None,
    password: str | None,
    msisdns: str | None,
    content: str | None,
    plan: str | None = None,
    ext: str | None = None,
    version: int = 11,
) -> bytes:
    def el(name: str, value: str | None) -> str:
        return "" if value is None else f"<{name}>{escape(value)}</{name}>"

    ns = SOAP11 if version == 11 else SOAP12
    plan_xml = '<PlanSendTime xsi:nil="true" />' if plan is None else el("PlanSendTime", plan)
    sms = f"<sms>{el('Msisdns', msisdns)}{el('SMSContent', content)}{el('ExtNumber', ext)}{plan_xml}</sms>"
    return (
        f'<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="{ns}">'
        f'<soap:Body><{op} xmlns="{TNS}">{el("userName", user)}{el("password", password)}{sms}</{op}>'
        f"</soap:Body></soap:Envelope>"
    ).encode("utf-8")


def post(base_url: str, body: bytes, op: str = "SendI18NSms", version: int = 11) -> requests.Response:
    if version == 11:
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{TNS}{op}"'}
    else:
        headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{TNS}{op}"'}
    return requests.post(base_url + "/WebService.asmx", data=body, headers=headers, timeout=30)


@dataclass
class RawResult:
    status: str
    description: str
    msg_id: int  # 0 when the reply has no MsgId (a refusal)
    balance: Decimal
    billing_amount: Decimal
    billing_count: int
    errors: list[str]
    success_counts: int = 0
    amount: int = 0
    pay_type: int = 0
    xsi_type: str | None = None

    @property
    def task_id(self) -> int:
        return self.msg_id


def parse_result(reply: requests.Response, op: str = "SendI18NSms") -> RawResult:
    root = etree.fromstring(reply.content)
    node = root.find(f".//{{{TNS}}}{op}Result")
    assert node is not None, reply.text

    def text(name: str) -> str:
        child = node.find(f"{{{TNS}}}{name}")
        return "" if child is None or child.text is None else child.text

    errors = [e.text or "" for e in node.findall(f"{{{TNS}}}Errors/{{{TNS}}}string")]
    return RawResult(
        text("StatusCode"),
        text("Description"),
        int(text("MsgId") or 0),
        Decimal(text("Balance")),
        Decimal(text("BillingAmount")),
        int(text("BillingCount")),
        errors,
        int(text("SuccessCounts")),
        int(text("Amount")),
        int(text("PayType")),
        node.get("{http://www.w3.org/2001/XMLSchema-instance}type"),
    )


def send(
    base_url: str,
    user: str | None,
    password: str | None,
    msisdns: str | None,
    content: str | None,
    plan: str | None = None,
    ext: str | None = None,
    version: int = 11,
    op: str = "SendI18NSms",
) -> RawResult:
    reply = post(base_url, envelope(op, user, password, msisdns, content, plan, ext, version), op, version)
    assert reply.status_code == 200, (reply.status_code, reply.text)
    return parse_result(reply, op)


def fault(reply: requests.Response) -> tuple[str, str]:
    """(code, reason) of a SOAP 1.1 or 1.2 Fault."""
    root = etree.fromstring(reply.content)
    f11 = root.find(f".//{{{SOAP11}}}Fault")
    if f11 is not None:
        return f11.findtext("faultcode") or "", f11.findtext("faultstring") or ""
    f12 = root.find(f".//{{{SOAP12}}}Fault")
    assert f12 is not None, reply.text
    code = f12.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value") or ""
    reason = f12.findtext(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text") or ""
    return code, reason
