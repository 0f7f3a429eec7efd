"""Reads the two operations the way ASMX (.NET XmlSerializer) reads them, straight from the parsed tree.

Why not the WSDL schema: the real endpoint is ASMX, and XmlSerializer is
more lenient than the schema. The children of ``SendI18NSms`` /
``SendHybridSms`` and of ``sms`` may come in any order, an unknown child (a
wrong name, case or namespace) is ignored, a repeated one keeps its last
value, and an absent one is empty. Production clients rely on that, so the
mock does too, and records each such leniency as a conformance warning.
What XmlSerializer refuses stays a Fault: a value not of its type (an empty
or malformed ``PlanSendTime``) or a string element holding elements.

Reading the tree here is also the hot path: no schema validation and no
spyne deserialization per request (docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from ipyy_mock.core.conformance import ConformanceWarning
from ipyy_mock.soap.envelope import NS_XSI, TNS
from ipyy_mock.soap.xsd import parse_xsd_datetime

OPERATION_CHILDREN: tuple[str, ...] = ("userName", "password", "sms")
SMS_CHILDREN: tuple[str, ...] = ("Msisdns", "SMSContent", "PlanSendTime", "ExtNumber")
_NIL = f"{{{NS_XSI}}}nil"
# Clark-notation tag -> index in its tuple: a child is matched by one dict lookup (no QName per element)
_KNOWN = {
    names: {f"{{{TNS}}}{name}": i for i, name in enumerate(names)} for names in (OPERATION_CHILDREN, SMS_CHILDREN)
}


class ReadError(ValueError):
    """What XmlSerializer would refuse: the front answers it with a Client Fault."""


@dataclass
class OperationRequest:
    """The operation's values as XmlSerializer would bind them (None = absent or nil)."""

    user_name: str | None = None
    password: str | None = field(default=None, repr=False)  # [security] never in a repr
    msisdns: str | None = None
    content: str | None = None
    plan_send_time: datetime | None = None
    ext_number: str | None = None
    warnings: list[ConformanceWarning] = field(default_factory=list)


def _is_nil(element: etree._Element) -> bool:
    return element.get(_NIL) in ("true", "1")


def _string(element: etree._Element, where: str) -> str | None:
    if _is_nil(element):
        return None
    for child in element:
        if isinstance(child.tag, str):
            raise ReadError(f"{where} is an xs:string: it cannot hold the element {child.tag}")
    return element.text or ""


def _children(
    parent: etree._Element, names: tuple[str, ...], where: str, warnings: list[ConformanceWarning]
) -> dict[str, etree._Element]:
    """The known children by local name (the last of a repeated one wins), with order/unknown/repeat warnings."""
    found: dict[str, etree._Element] = {}
    order: list[int] = []
    known = _KNOWN[names]
    for child in parent:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        index = known.get(tag)
        if index is None:
            warnings.append(
                ConformanceWarning("soap-unknown-element", f"<{_pretty(etree.QName(child))}> in <{where}> was ignored")
            )
            continue
        name = names[index]
        if name in found:
            warnings.append(ConformanceWarning("soap-repeated-element", f"<{name}> occurs more than once in <{where}>"))
        found[name] = child
        order.append(index)
    if order != sorted(order):
        sent = [names[i] for i in order]
        warnings.append(
            ConformanceWarning(
                "soap-element-order",
                f"<{where}> children came as {', '.join(sent)}; the WSDL order is "
                f"{', '.join(n for n in names if n in found)}",
            )
        )
    return found


def _pretty(qname: etree.QName) -> str:
    if qname.namespace == TNS:
        return qname.localname
    if qname.namespace:
        return f"{{{qname.namespace}}}{qname.localname}"
    return f"{qname.localname} (no namespace)"


def read_operation(op_element: etree._Element, op: str) -> OperationRequest:
    """The request of ``op`` from its element; ReadError for what the real endpoint refuses."""
    warnings: list[ConformanceWarning] = []
    top = _children(op_element, OPERATION_CHILDREN, op, warnings)
    out = OperationRequest(warnings=warnings)
    if "userName" in top:
        out.user_name = _string(top["userName"], "userName")
    if "password" in top:
        out.password = _string(top["password"], "password")
    sms = top.get("sms")
    if sms is None or _is_nil(sms):
        return out
    fields = _children(sms, SMS_CHILDREN, "sms", warnings)
    for name, attr in (("Msisdns", "msisdns"), ("SMSContent", "content"), ("ExtNumber", "ext_number")):
        if name in fields:
            setattr(out, attr, _string(fields[name], f"sms/{name}"))
    plan = fields.get("PlanSendTime")
    if plan is not None and not _is_nil(plan):
        text = _string(plan, "sms/PlanSendTime") or ""
        try:
            out.plan_send_time = parse_xsd_datetime(text)
        except ValueError as exc:
            raise ReadError(f"PlanSendTime: {exc}") from None
    return out
