"""The request document as ASMX's XmlReader meets it: the tree, and how far each of its two readings got.

Why this matters: ASMX reads the body twice. Routing by the body's element
(``GetRequestElement``: SOAP 1.2, and SOAP 1.1 without SOAPAction) reads from
the start to the first element inside ``Body``, skipping whatever comes
before ``Body``. Reading the parameters (``ReadParameters``) reads the root,
an optional ``Header``, then wants ``Body`` at once, and on to the end. An
XML error or a missing Envelope or Body that the first reading meets is a
Fault ("Server was unable to process request."); one that only the second
reading meets is HTTP 400 with an empty body (an XML error) or a Client Fault
("Server was unable to read request."). So the document records, for each
reading, what it reached before it broke (docs/contract.md §2 and §6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from lxml import etree

from ipyy_mock.soap.decoding import Decoded, parser, pull_parser

__all__ = ["Document", "read_document", "MISSING_ENVELOPE", "MISSING_BODY"]

MISSING_ENVELOPE = "Request format is invalid: Missing required soap:Envelope element."
MISSING_BODY = "Request format is invalid: Missing required soap:Body element."
_DTD = "DTD is prohibited in this XML document."
#: A DTD as .NET's reader meets it: any ``<!`` in the prolog that does not open a comment (``<!doctype`` too), seen
#: before lxml parses (which may stop inside an entity bomb first).
_PROLOG_DTD = re.compile(rb"\A\s*(?:<\?xml\b.*?\?>)?(?:\s+|<!--.*?-->|<\?.*?\?>)*<!(?!--)", re.DOTALL)


@dataclass
class Document:
    """What reading the body gave.

    ``root`` is the tree of a well-formed document (None otherwise); ``error`` the XML error, in .NET's words
    where they are known; ``root_tag`` the root element's Clark name once it was read.

    For routing (GetRequestElement): ``body_child`` is the Clark name of the first element in Body (``""`` for
    an empty Body), None when the reading did not get there, and then ``routing_problem`` says which element was
    missing (else the XML error stopped it). For the parameters (ReadParameters): ``read_problem`` is a missing
    Envelope or Body met before any XML error.
    """

    root: etree._Element | None = None
    error: str | None = None
    root_tag: str | None = None
    body_child: str | None = None
    routing_problem: str | None = None
    read_problem: str | None = None
    #: The Body and the Header as ReadParameters reads them (in a well-formed document).
    body: etree._Element | None = None
    header: etree._Element | None = None

    @property
    def root_namespace(self) -> str | None:
        if self.root_tag is None:
            return None
        return self.root_tag[1:].partition("}")[0] if self.root_tag.startswith("{") else ""

    @property
    def envelope_ns(self) -> str:
        """The root's namespace in Clark form (``{ns}``), ``""`` for none."""
        namespace = self.root_namespace
        return f"{{{namespace}}}" if namespace else ""

    @property
    def routing_error(self) -> str | None:
        """Why GetRequestElement found no element to route on (a missing element or the XML error), or None."""
        if self.body_child is not None:
            return None
        return self.routing_problem or self.error


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class _Readings:
    """Both readings, fed the document's elements in order (start and end events, depth counted from 1)."""

    def __init__(self, out: Document) -> None:
        self.out = out
        self.envelope_ns = ""
        self.in_body = False
        self.read_state = "header"  # ReadParameters: "header" (a Header may come), "body" (Body must), "done"

    def root(self, tag: str | None) -> bool:
        out = self.out
        out.root_tag = tag
        if tag is None or _local(tag) != "Envelope":
            out.routing_problem = out.read_problem = MISSING_ENVELOPE
            return False
        self.envelope_ns = out.envelope_ns
        return True

    def child(self, tag: str | None) -> bool:
        """A child of the Envelope; False once both readings are settled."""
        out = self.out
        if self.read_state == "header" and tag == f"{self.envelope_ns}Header":
            self.read_state = "body"
        elif self.read_state != "done":
            if tag != f"{self.envelope_ns}Body":
                out.read_problem = MISSING_BODY
            self.read_state = "done"
        if tag == f"{self.envelope_ns}Body" and out.body_child is None:
            self.in_body = True
        return True

    def end_of_envelope(self) -> None:
        out = self.out
        if out.body_child is None:
            out.routing_problem = MISSING_BODY
        if self.read_state != "done":
            out.read_problem = MISSING_BODY


def _walk(out: Document, events: Iterable[tuple[str, etree._Element]]) -> None:
    readings = _Readings(out)
    depth = 0
    for event, element in events:
        tag = element.tag if isinstance(element.tag, str) else None
        if event == "start":
            depth += 1
            if depth == 1 and not readings.root(tag):
                return
            if depth == 2:
                readings.child(tag)
            elif depth == 3 and readings.in_body:
                out.body_child = tag or ""
                readings.in_body = False
        else:
            if depth == 2 and readings.in_body:  # Body closed before any element in it
                out.body_child = ""
                readings.in_body = False
            if depth == 1:
                readings.end_of_envelope()
            depth -= 1


def read_document(decoded: Decoded, xml_parser: etree.XMLParser | None = None) -> Document:
    """Parse ``decoded`` (DTDs, entities and the network off) and note what each of ASMX's readings reached."""
    if decoded.error is not None:
        return Document(error=decoded.error)
    data = decoded.xml_bytes()
    if not decoded.text.strip():
        return Document(error="Root element is missing.")
    if _PROLOG_DTD.match(data):
        return Document(error=_DTD)
    try:
        root = etree.fromstring(data, xml_parser or parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        return _broken(data, exc)
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        return Document(error=_DTD)  # in the prolog: nothing after it was read
    out = Document(root=root)
    _walk(out, _tree_events(root))
    if out.read_problem is None:  # an optional Header, then Body: what ReadParameters reads
        children = [c for c in root if isinstance(c.tag, str)]
        if children[0].tag == f"{out.envelope_ns}Header":
            out.header = children.pop(0)
        out.body = children[0]
    return out


def _tree_events(root: etree._Element) -> Iterable[tuple[str, etree._Element]]:
    """The start and end events of a parsed tree, as far as the readings look (the Envelope's children and the
    first element inside Body): cheap for a well-formed document of any size."""
    yield "start", root
    for child in root:
        if not isinstance(child.tag, str):
            continue
        yield "start", child
        if _local(child.tag) == "Body":
            first = next((c for c in child if isinstance(c.tag, str)), None)
            if first is not None:
                yield "start", first
                yield "end", first
        yield "end", child
    yield "end", root


def _broken(data: bytes, exc: Exception) -> Document:
    """A malformed document: the error, and what the readings met before it."""
    pull = pull_parser()
    try:
        pull.feed(data)
    except (etree.XMLSyntaxError, ValueError):
        pass
    events = list(pull.read_events())  # what was read before the error (closing would add end events: not read)
    out = Document()
    _walk(out, events)
    out.error = _message(data, exc, events)
    return out


_MISMATCH = re.compile(r"Opening and ending tag mismatch: (\S+) line (\d+) and ([^,\s]+)")


def _message(data: bytes, exc: Exception, events: list[tuple[str, etree._Element]]) -> str:
    """An XML error in .NET's words for the common cases (text at the root, a tag mismatch, a document cut
    short), else the parser's own; positions 1-based, as XmlException reports them."""
    line, column = getattr(exc, "position", (1, 1)) or (1, 1)
    if not data.lstrip().startswith(b"<"):
        return f"Data at the root level is invalid. Line {line}, position {column}."
    message = str(exc).split(" (", 1)[0] if isinstance(exc, etree.XMLSyntaxError) else str(exc)
    lines = data.decode("utf-8", "replace").split("\n")
    mismatch = _MISMATCH.match(message)
    if mismatch is not None:
        start, start_line, end = mismatch.group(1), int(mismatch.group(2)), mismatch.group(3)
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        end_at = text.rfind(f"</{end}", 0, max(column - 1, 0)) + 3
        before = end_at - 3 if start_line == line else len(lines[start_line - 1]) if start_line <= len(lines) else 0
        start_text = lines[start_line - 1] if 0 < start_line <= len(lines) else ""
        start_at = start_text.rfind(f"<{start}", 0, max(before, 0)) + 2
        return (
            f"The '{start}' start tag on line {start_line} position {start_at} does not match the end tag of "
            f"'{end}'. Line {line}, position {end_at}."
        )
    if message.startswith("Premature end of data") or "not found" in message and message.startswith("EndTag"):
        open_tags: list[str] = []
        for event, element in events:
            if not isinstance(element.tag, str):
                continue
            if event == "start":
                local = etree.QName(element).localname
                open_tags.append(f"{element.prefix}:{local}" if element.prefix else local)
            elif open_tags:
                open_tags.pop()
        names = ", ".join(reversed(open_tags))
        return f"Unexpected end of file has occurred. The following elements are not closed: {names}. Line {line}, position {column}."
    return f"{message}. Line {line}, position {column}."
