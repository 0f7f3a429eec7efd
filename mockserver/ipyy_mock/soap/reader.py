"""Reads an operation's parameters the way ASMX binds them: .NET's XmlSerializer reader, step for step.

Why an emulation and not a schema check: the vendor's endpoint is ASMX, and
XmlSerializer's generated reader is both more lenient than the WSDL's schema
and odd in ways production clients meet (docs/contract.md §2 "Read the way
ASMX reads"). So the body is turned into the node stream an XmlReader gives
(start tags, end tags, text, comments) and read by the same loops the
generated code runs:

- members in any order; an unknown one (another name, case or namespace, an
  unqualified one included) skipped, so its value never arrives;
- a repeated member keeps its FIRST value (the reader marks a member read and
  hands later ones to UnknownNode); a repeated array appends;
- an absent member is null (a value type its default); ``xsi:nil`` is looked
  at only where the member is nillable (``PlanSendTime``, array items): on a
  string it reads as the empty string;
- an operation element that is not the routed operation's binds nothing;
- ``ReadElementString`` as .NET has it: a string member whose content is one
  child element reads that child's text, and its end tag then closes the
  parent early (the parent's later members are lost, and its parent reads
  them as its own); a comment or an element after text in it is an XML
  error;
- ``xsi:type`` on a complex member must name its own type.

What XmlSerializer refuses is a ``ReadError``: a value not of its type (a
malformed or empty ``PlanSendTime``, an ``ElementType`` outside its
enumeration, a foreign ``xsi:type``), answered with a Client Fault, or (with
``xml`` True) what the XmlReader refuses, answered with HTTP 400 and no body.
Each leniency the request relied on is a conformance warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable
from xml.sax.saxutils import unescape

from lxml import etree

from ipyy_mock.core.conformance import ConformanceWarning
from ipyy_mock.soap.envelope import NS_XSI, TNS, Operation
from ipyy_mock.soap.xsd import parse_xsd_datetime

#: The members of each request type, in the WSDL's order.
MEMBERS: dict[str, tuple[str, ...]] = {
    "SmsObject": ("Msisdns", "SMSContent", "ExtNumber", "PlanSendTime"),
    "MmsObject": ("Msisdns", "Subject", "ExtNumber", "PlanSendTime", "Elements"),
    "HybridSms": ("Account", "Password", "Sn", "SMSContent", "ExtNumber", "PlanSendTime"),
    "MmsElement": ("Name", "ElementType", "Base64Text"),
}
MMS_ELEMENT_TYPES = ("Unknown", "Jpg", "Gif", "Png", "Bmp", "Smil", "Wav", "Mid", "Amr", "Mp3", "Text", "Xml", "Mp4")
_NIL = f"{{{NS_XSI}}}nil"
_TYPE = f"{{{NS_XSI}}}type"
#: Each type's members by Clark name, for the member loops (the operations' own tuples added as they are read).
_INDEX: dict[tuple[str, ...], dict[str, int]] = {}
_STRINGS = {  # request member -> the OperationRequest attribute it binds
    "userName": "user_name",
    "password": "password",
    "Account": "user_name",
    "Password": "password",
    "Msisdns": "msisdns",
    "SMSContent": "content",
    "ExtNumber": "ext_number",
    "Subject": "subject",
    "Sn": "sn",
}

#: The first element naming the account (``userName``, HybridSms's ``Account``), any prefix, in any case.
_ACCOUNT_ELEMENT = re.compile(
    r"<(?:[\w.\-]+:)?(?:%s)(?:\s[^>]*)?>([^<]*)<" % "|".join(k for k, v in _STRINGS.items() if v == "user_name"),
    re.IGNORECASE,
)
_ENTITIES = {"&quot;": '"', "&apos;": "'"}


def account_hint(text: str) -> str:
    """The account a SOAP body names, looked for in its text, for a request no reading got to (an injected
    fault answered first, the XML did not parse, the action was unknown): the journal still shows whose request
    it was. A look, not a reading: what the reader binds (``OperationRequest.user_name``) wins whenever it ran."""
    m = _ACCOUNT_ELEMENT.search(text)
    return unescape(m.group(1), _ENTITIES).strip()[:100] if m else ""


class ReadError(ValueError):
    """What XmlSerializer would refuse: a value of the wrong type (a Client Fault), or with ``xml`` True what its
    XmlReader refuses (HTTP 400, no body). ``element`` is where: its position goes into the Fault's text."""

    def __init__(self, message: str, element: etree._Element | None, *, xml: bool = False) -> None:
        super().__init__(message)
        self.element = element
        self.xml = xml


@dataclass
class MmsElement:
    name: str | None = None
    element_type: str = "Unknown"
    base64_text: str | None = None


@dataclass
class OperationRequest:
    """The operation's values as XmlSerializer binds them (None = absent)."""

    user_name: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a repr
    msisdns: str | None = None
    content: str | None = None
    plan_send_time: datetime | None = None
    ext_number: str | None = None
    subject: str | None = None  # SendMms
    elements: list[MmsElement] | None = None  # SendMms
    sn: str | None = None  # HybridSend
    warnings: list[ConformanceWarning] = field(default_factory=list)


# -- the node stream -----------------------------------------------------------------------------------------

#: Node kinds. A node is ``(kind, element, text, empty)``: the element of a start or end tag (the comment or
#: processing instruction of an OTHER), the text of a TEXT, and for a start tag whether it has no content
#: (XmlReader's IsEmptyElement). Plain tuples: the stream is built and walked for every request.
START, END, TEXT, OTHER = 0, 1, 2, 3
_Node = tuple[int, Any, str, bool]
_NO_NODE: _Node = (END, None, "", False)  # past the last node: the loops see an end and stop


def _flatten(body: etree._Element) -> list[_Node]:
    """Body's content as an XmlReader's nodes (text merged, CDATA as text), closed by Body's own end tag."""
    nodes: list[_Node] = []
    append = nodes.append
    if body.text:
        append((TEXT, None, body.text, False))
    walk = etree.iterwalk(body, events=("start", "end", "comment", "pi"))
    next(walk)  # Body's own start tag
    for event, element in walk:
        if event == "start":
            empty = not len(element) and not element.text
            append((START, element, "", empty))
            if element.text:
                append((TEXT, None, element.text, False))
            continue
        if event == "end":
            if element is body:
                break
            if len(element) or element.text:
                append((END, element, "", False))
        else:  # a comment or a processing instruction
            append((OTHER, element, "", False))
        if element.tail:
            append((TEXT, None, element.tail, False))
    append((END, body, "", False))
    return nodes


class _Reader:
    """An XmlReader over the Body's content: the few calls the generated code makes."""

    __slots__ = ("nodes", "at", "count")

    def __init__(self, body: etree._Element) -> None:
        self.nodes = _flatten(body)
        self.at = 0
        self.count = len(self.nodes)

    @property
    def node(self) -> _Node:
        return self.nodes[self.at] if self.at < self.count else _NO_NODE

    def move_to_content(self) -> _Node:
        """Skip comments, processing instructions and white space."""
        nodes, at, count = self.nodes, self.at, self.count
        while at < count:
            node = nodes[at]
            kind = node[0]
            if kind == OTHER or (kind == TEXT and not node[2].strip()):
                at += 1
                continue
            self.at = at
            return node
        self.at = at
        return _NO_NODE

    def skip(self) -> None:
        """The node and, for a start tag, everything to its end tag."""
        node = self.node
        if node[0] == END:
            return
        self.at += 1
        if node[0] == START and not node[3]:
            nodes, depth = self.nodes, 1
            while depth and self.at < self.count:
                kind, _, _, empty = nodes[self.at]
                if kind == START and not empty:
                    depth += 1
                elif kind == END:
                    depth -= 1
                self.at += 1

    def read_end(self) -> None:
        """ReadEndElement: whatever end tag is there (.NET does not compare its name)."""
        node = self.move_to_content()
        if node[0] != END:
            raise ReadError("An end tag was expected where another node came.", node[1], xml=True)
        self.at += 1

    def read_element_string(self) -> str:
        """XmlReader.ReadElementString: a text-only element's text; .NET's own quirks kept (module docstring)."""
        nodes, count = self.nodes, self.count
        start = self.move_to_content()
        self.at += 1
        if start[3]:  # an empty element
            return ""
        # ReadString, from the first node inside: it steps into one element first
        node = nodes[self.at] if self.at < count else _NO_NODE
        if node[0] == START:
            if node[3]:
                return self._not_simple(start, node)
            self.at += 1
            node = nodes[self.at] if self.at < count else _NO_NODE
        parts = []
        while node[0] == TEXT:
            parts.append(node[2])
            self.at += 1
            node = nodes[self.at] if self.at < count else _NO_NODE
        if node[0] != END:
            return self._not_simple(start, node)
        self.at += 1
        return "".join(parts)

    @staticmethod
    def _not_simple(start: _Node, node: _Node) -> str:
        kind = "Element" if node[0] == START else "Comment"
        raise ReadError(
            f"Unexpected node type {kind}. ReadElementString method can only be called on elements with simple "
            "or empty content.",
            start[1],
            xml=True,
        )

    def read_null(self) -> bool:
        """ReadNull, for a nillable member: an ``xsi:nil`` element is read past and is null."""
        node = self.node
        if node[0] != START or node[1].get(_NIL, "").strip() not in ("true", "1"):
            return False
        self.skip()
        return True


# -- the generated code's loops ------------------------------------------------------------------------------


class _Binder:
    def __init__(self, reader: _Reader, today: Callable[[], date], warnings: list[ConformanceWarning]) -> None:
        self.reader = reader
        self.today = today
        self.warnings = warnings

    def unknown(self, where: str) -> None:
        """UnknownNode: an element the type does not have is skipped (and warned about); other nodes are read."""
        node = self.reader.node
        if node[0] == START:
            qname = etree.QName(node[1])
            self.warnings.append(
                ConformanceWarning("soap-unknown-element", f"<{_pretty(qname)}> in <{where}> was ignored")
            )
            self.reader.skip()
        elif node[0] != END:
            self.reader.at += 1

    def members(
        self, where: str, names: tuple[str, ...], bind: Callable[[str], None], repeatable: frozenset[str] = frozenset()
    ) -> None:
        """The member loop of a type: each known member once (``repeatable`` ones, arrays, each time), in any order."""
        reader = self.reader
        seen: list[int] = []
        read: set[str] = set()
        index_of = _INDEX.get(names)
        if index_of is None:
            index_of = _INDEX[names] = {f"{{{TNS}}}{name}": i for i, name in enumerate(names)}
        node = reader.move_to_content()
        while node[0] != END:
            if node[0] == START:
                index = index_of.get(node[1].tag)
                if index is None:
                    self.unknown(where)
                elif names[index] in read and names[index] not in repeatable:
                    self.warnings.append(
                        ConformanceWarning(
                            "soap-repeated-element",
                            f"<{names[index]}> occurs more than once in <{where}>; the first one was read",
                        )
                    )
                    reader.skip()
                else:
                    read.add(names[index])
                    seen.append(index)
                    bind(names[index])
            else:
                self.unknown(where)
            node = reader.move_to_content()
        if seen != sorted(seen):
            order = ", ".join(n for n in names if n in read)
            self.warnings.append(
                ConformanceWarning(
                    "soap-element-order",
                    f"<{where}> children came as {', '.join(names[i] for i in seen)}; the WSDL order is {order}",
                )
            )

    def complex(self, type_name: str, where: str, bind: Callable[[str], None], **kw: Any) -> None:
        """A complex member: its xsi:type checked, an empty element skipped, else its members, then its end tag."""
        reader = self.reader
        node = reader.node
        element = node[1]
        declared = element.get(_TYPE)
        if declared is not None:
            prefix, _, local = declared.strip().rpartition(":")
            namespace = element.nsmap.get(prefix or None)
            if (local, namespace) != (type_name, TNS):
                qname = etree.QName(element)
                raise ReadError(
                    f"The specified type was not recognized: name='{local}', namespace='{namespace or ''}', at "
                    f"<{qname.localname} xmlns='{qname.namespace or ''}'>.",
                    element,
                )
        reader.at += 1
        if node[3]:  # an empty element: no members
            return
        self.members(where, MEMBERS[type_name], bind, **kw)
        reader.read_end()

    def plan(self, out: OperationRequest, where: str) -> None:
        element = self.reader.node[1]
        if self.reader.read_null():
            out.plan_send_time = None
            return
        text = self.reader.read_element_string()
        try:
            out.plan_send_time = parse_xsd_datetime(text, self.today)
        except ValueError as exc:
            raise ReadError(str(exc), element) from None

    def body_object(self, out: OperationRequest, type_name: str, where: str) -> None:
        def bind(name: str) -> None:
            if name == "PlanSendTime":
                self.plan(out, where)
            elif name == "Elements":
                self.mms_elements(out)
            else:
                setattr(out, _STRINGS[name], self.reader.read_element_string())

        repeatable = frozenset({"Elements"}) if type_name == "MmsObject" else frozenset()
        self.complex(type_name, where, bind, repeatable=repeatable)

    def mms_elements(self, out: OperationRequest) -> None:
        reader = self.reader
        if reader.read_null():
            return
        items = out.elements if out.elements is not None else []
        out.elements = items
        empty = reader.node[3]
        reader.at += 1
        if empty:
            return
        node = reader.move_to_content()
        while node[0] != END:
            if node[0] == START and node[1].tag == f"{{{TNS}}}MmsElement":
                if not reader.read_null():
                    item = MmsElement()
                    items.append(item)
                    self.complex("MmsElement", "MmsElement", lambda name: self.mms_member(item, name))
            else:
                self.unknown("Elements")
            node = reader.move_to_content()
        reader.read_end()

    def mms_member(self, item: MmsElement, name: str) -> None:
        element = self.reader.node[1]
        value = self.reader.read_element_string()
        if name == "Name":
            item.name = value
        elif name == "Base64Text":
            item.base64_text = value
        else:
            if value not in MMS_ELEMENT_TYPES:
                raise ReadError(
                    f"Instance validation error: '{value}' is not a valid value for MmsElementType.", element
                )
            item.element_type = value


def _pretty(qname: etree.QName) -> str:
    if qname.namespace == TNS:
        return qname.localname
    if qname.namespace:
        return f"{{{qname.namespace}}}{qname.localname}"
    return f"{qname.localname} (no namespace)"


def read_operation(
    op: Operation, body: etree._Element | None, today: Callable[[], date] = date.today
) -> OperationRequest:
    """The parameters of ``op`` from the SOAP Body; ReadError for what ASMX refuses.

    The parameters' wrapper loop: every ``{TNS}<op>`` element in Body is read into the same parameters (another
    element binds nothing). ``today`` is the platform's date, for a PlanSendTime that is a time alone.
    """
    warnings: list[ConformanceWarning] = []
    out = OperationRequest(warnings=warnings)
    if body is None:
        return out
    reader = _Reader(body)
    binder = _Binder(reader, today, warnings)
    names = ("userName", "password", op.body) if op.credentials else (op.body,)

    def bind(name: str) -> None:
        if name == op.body:
            binder.body_object(out, op.body_type, op.body)
        else:
            setattr(out, _STRINGS[name], reader.read_element_string())

    wrapper = f"{{{TNS}}}{op.name}"
    node = reader.move_to_content()
    while node[0] != END:
        if node[0] == START and node[1].tag == wrapper:
            reader.at += 1
            if not node[3]:
                binder.members(op.name, names, bind)
                reader.read_end()
        else:  # UnknownNode: another element in Body binds nothing (the front warns of it)
            reader.skip()
        node = reader.move_to_content()
    return out
