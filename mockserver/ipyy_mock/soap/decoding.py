"""How ASMX turns a request's bytes into text, and the parser the text is read with.

Why its own module: the front reads a request this way, and the journal must
read (and mask) the same text; a UTF-16 body read as UTF-8 would hide its
password from the masker.

ASMX (System.Web.Services on .NET) picks the encoding from the Content-Type
(docs/contract.md §2, "Encodings"):

- a ``charset`` parameter names it (``utf-8``, ``utf-16``, ``us-ascii``, ...);
  a byte-order mark at the start of the body overrides it;
- ``text/xml`` without a charset is read as US-ASCII (RFC 3023's default,
  which .NET applies to text types): every byte above 0x7F becomes ``?``, so
  Chinese text arrives as question marks (a conformance warning,
  ``soap-charset``);
- ``application/soap+xml`` without a charset is read as XML reads itself: a
  byte-order mark, else the XML declaration's encoding, else UTF-8;
- bytes that are not valid in the encoding become U+FFFD, as .NET's decoders
  replace them (a conformance warning, ``soap-bad-bytes``).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from lxml import etree

from ipyy_mock.core.conformance import ConformanceWarning

__all__ = ["PARSER_KWARGS", "Decoded", "decode_body", "media_type", "content_type_parameter", "parser", "pull_parser"]

# CDATA as text, no DTD, no entities, no network.
PARSER_KWARGS = dict(
    attribute_defaults=False,
    dtd_validation=False,
    load_dtd=False,
    no_network=True,
    ns_clean=False,
    recover=False,
    remove_blank_text=False,
    remove_comments=False,  # kept: a comment inside a string member is malformed to XmlSerializer (soap/reader.py)
    remove_pis=False,
    strip_cdata=True,
    resolve_entities=False,
    huge_tree=False,
    compact=True,
    # what lxml is given is always UTF-8 (Decoded.xml_bytes): it must not detect UTF-16 in it by itself, where
    # ASMX's reader, held to the Content-Type's charset, finds no XML
    encoding="utf-8",
)

_MEDIA_PARAM = re.compile(r';\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_DECLARATION = re.compile(r"\A\s*<\?xml\b[^>]*?\?>")
_DECLARED_ENCODING = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._\-]{1,40})[\"']")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts with UTF-16 LE's
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: bytes above 0x7F as .NET's ASCIIEncoding reads them: "?"
_ASCII = bytes(range(128)) + b"?" * 128


def media_type(header: str) -> tuple[str, dict[str, str]]:
    """``type/subtype`` in lower case and the parameters (names lower case, values unquoted)."""
    kind, _, rest = header.partition(";")
    params = {k.lower(): v.strip().strip('"') for k, v in _MEDIA_PARAM.findall(";" + rest)}
    return kind.strip().lower(), params


def content_type_parameter(header: str, name: str) -> str | None:
    """A Content-Type parameter as ASMX reads one (``ContentType.GetParameter``): the first ``;``-separated part
    whose start matches ``name`` in any case, its value after ``=`` with spaces, tabs and quotes trimmed."""
    for part in header.split(";")[1:]:
        part = part.lstrip()
        if part[: len(name)].lower() == name.lower():
            equals = part.find("=", len(name))
            if equals >= 0:
                return part[equals + 1 :].strip(" '\"\t")
    return None


@dataclass
class Decoded:
    """The request as text, and what reading it found off the document."""

    text: str
    encoding: str
    warnings: list[ConformanceWarning] = field(default_factory=list)
    #: The body itself when lxml reads it as this text already (UTF-8 that says so, or says nothing).
    raw: bytes | None = field(default=None, repr=False)
    #: What the XML reader refused in the bytes themselves (an XML error: HTTP 400 or a Fault, soap/front.py).
    error: str | None = None

    def xml_bytes(self) -> bytes:
        """The text as UTF-8 for lxml, its declaration dropped (it may name the encoding the bytes had)."""
        if self.raw is not None:
            return self.raw
        return _DECLARATION.sub("", self.text, count=1).encode("utf-8", "surrogatepass")


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_body(body: bytes, content_type: str) -> Decoded:
    """``body`` as ASMX reads it under ``content_type`` (module docstring)."""
    kind, _ = media_type(content_type)
    charset = (content_type_parameter(content_type, "charset") or "").strip()
    warnings: list[ConformanceWarning] = []
    bom = next(((mark, name) for mark, name in _BOMS if body.startswith(mark)), None)
    declared = _DECLARED_ENCODING.match(body)
    if bom is not None:  # a StreamReader and XML's own detection both take a byte-order mark first
        encoding, data = bom[1], body[len(bom[0]) :]
    elif charset and _codec(charset) is not None:
        encoding, data = _codec(charset) or "utf-8", body
    elif not kind.startswith("application/"):  # text/* (and no type at all): US-ASCII, RFC 3023's default
        encoding, data = "ascii", body
        what = f"charset={charset!r}, which ASMX does not know," if charset else "no charset"
        lost = any(b > 0x7F for b in body)
        warnings.append(
            ConformanceWarning(
                "soap-charset",
                f"{kind or 'a request'} with {what} is read as US-ASCII"
                + (": every non-ASCII byte arrived as '?'" if lost else ""),
            )
        )
    else:  # application/* without a (known) charset: the XML reader detects the encoding itself
        return _self_described(body, declared)
    if encoding == "ascii":
        return Decoded(data.translate(_ASCII).decode("ascii"), encoding, warnings)
    if encoding in ("utf-16", "utf-32"):  # no BOM (a BOM was taken above): .NET's default byte order is little-endian
        encoding += "-le"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:  # .NET's decoders replace what is not valid in their encoding
        warnings.append(
            ConformanceWarning(
                "soap-bad-bytes", f"the body holds bytes that are not {encoding}: ASMX read each as U+FFFD"
            )
        )
        return Decoded(data.decode(encoding, "replace"), encoding, warnings)
    raw = None
    if encoding == "utf-8" and data is body:
        if declared is None or _codec(declared.group(1).decode("ascii")) == "utf-8":
            raw = body  # lxml reads these bytes as this text: no copy
    return Decoded(text, encoding, warnings, raw)


def _self_described(body: bytes, declared: re.Match[bytes] | None) -> Decoded:
    """XmlTextReader over the bytes: UTF-16 recognised from ``<?`` itself, else the declaration's encoding (UTF-16
    without a byte-order mark refused), else UTF-8; a byte that is not valid in it is an XML error."""
    if body.startswith(b"<\x00?\x00"):
        encoding = "utf-16-le"
    elif body.startswith(b"\x00<\x00?"):
        encoding = "utf-16-be"
    elif declared is not None:
        name = declared.group(1).decode("ascii")
        found = _codec(name)
        if found is None:
            return Decoded("", "utf-8", error=f"System does not support '{name}' encoding.")
        if found.startswith(("utf-16", "utf-32")):
            return Decoded("", found, error="There is no Unicode byte order mark. Cannot switch to Unicode.")
        encoding = found
    else:
        encoding = "utf-8"
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        return Decoded("", encoding, error=f"Invalid character in the given encoding (byte {exc.start}).")
    return Decoded(text, encoding, raw=body if encoding == "utf-8" else None)


def parser() -> etree.XMLParser:
    """A parser with the settings above (one per thread or greenlet: lxml parsers are not shareable)."""
    return etree.XMLParser(**PARSER_KWARGS)


def pull_parser() -> etree.XMLPullParser:
    """The same settings as a pull parser: where a malformed document breaks, and what was read before it."""
    return etree.XMLPullParser(events=("start", "end"), **PARSER_KWARGS)
