"""Request parameters as the vendor's ASP.NET pages read them.

Why not werkzeug's ``request.values`` as it is: ASP.NET's ``Request["name"]``
finds a parameter whatever the case of its name (``sendtime``, ``SendTime``),
looks in the query string first and then the form (urlencoded or multipart),
and joins a parameter given more than once with commas. Production clients
rely on all three (a POST with every parameter in the query string and no
body, a multipart form with lower-case names), so the mock reads them the
same way, and records a repeated parameter as a conformance warning.

Why not werkzeug's Request on this path at all: the query string and an
urlencoded body are split here exactly as werkzeug splits them
(``parse_qsl`` with blank values kept, ``+`` as a space, ``%XX`` decoded as
UTF-8), in a fraction of its time (docs/benchmarks.md); only a multipart
body, which no send client in the field uses for speed, goes to werkzeug's
parser. The request guard (limits.py) has already buffered the body, bounded
it and refused what is not UTF-8.
"""

from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import unquote, unquote_plus

import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" error handler, as werkzeug's own parsing uses)

from ipyy_mock.core.conformance import ConformanceWarning
from ipyy_mock.core.exchange import Exchange
from ipyy_mock.core.validation import parse_count  # noqa: F401  (the surfaces' one whole-number reader)

FORM_METHODS = frozenset({"POST", "PUT", "PATCH"})  # the methods werkzeug reads a form body for
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


class PageRequest:
    """One request to an ``.aspx`` page: its WSGI environ and what the pages read of it besides parameters."""

    __slots__ = ("environ", "remote_addr", "path")

    def __init__(self, environ: dict) -> None:
        self.environ = environ
        self.remote_addr: str = environ.get("REMOTE_ADDR") or ""
        self.path: str = environ.get("PATH_INFO") or "/"


class Params:
    """The parameters of one request, looked up case-insensitively."""

    def __init__(self, request: PageRequest) -> None:
        self._values: dict[str, str] = {}
        self.warnings: list[ConformanceWarning] = []
        self.refusal: ConformanceWarning | None = None  # strict mode refused the request for this warning
        environ = request.environ
        seen: dict[str, str] = {}  # lower-case name -> where it was first found
        for where, source in (("query", split_pairs(query_text(environ))), ("form", _form(environ))):
            grouped: dict[str, list[str]] = {}
            for name, value in source:
                grouped.setdefault(name.lower(), []).append(value)
            for key, values in grouped.items():
                if len(values) > 1:
                    self.warnings.append(
                        ConformanceWarning(
                            "param-repeated",
                            f"{key} was given {len(values)} times in the {where}; read as {','.join(values)[:60]!r}",
                        )
                    )
                if key in seen:
                    self.warnings.append(
                        ConformanceWarning(
                            "param-repeated", f"{key} is in both the query string and the form; the query's is used"
                        )
                    )
                    continue
                seen[key] = where
                self._values[key] = ",".join(values)
        Exchange.of(environ).account = self.text("account")[:100]  # the journal's account, as the page read it

    def get(self, name: str) -> str | None:
        return self._values.get(name.lower())

    def text(self, name: str) -> str:
        """The value, or "" when absent."""
        return self._values.get(name.lower()) or ""


def account_hint(query: str, body: str, content_type: str) -> str:
    """The first ``account`` of a query string or urlencoded form no page read (the guard refused it, a fault
    answered first): the journal still shows whose request it was. What ``Params`` read wins whenever it ran."""
    for source in (query, body if "urlencoded" in content_type.lower() else ""):
        for part in source.split("&"):
            name, eq, value = part.partition("=")
            if eq and name.lower() == "account":
                try:
                    return unquote_plus(value)[:100]
                except Exception:  # noqa: BLE001 - a hint: the text as it came
                    return value[:100]
    return ""


def query_text(environ: dict) -> str:
    """The query string as text: PEP 3333 hands it over as latin-1, the bytes are UTF-8 (the guard checked)."""
    return (environ.get("QUERY_STRING") or "").encode("latin-1", "replace").decode("utf-8", "replace")


def split_pairs(text: str) -> list[tuple[str, str]]:
    """``a=1&b=&c`` → ``[("a", "1"), ("b", ""), ("c", "")]``: what ``parse_qsl(text, keep_blank_values=True)``
    returns (as werkzeug calls it), without its per-pair work where a name or value has no ``+`` or ``%``."""
    pairs = []
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((_unquote(name), _unquote(value)))
    return pairs


_ESCAPES = re.compile(rb"(?:%[0-9A-Fa-f]{2})+")


def unquote_bytes(raw: bytes) -> bytes:
    """``urllib.parse.unquote_to_bytes``, a run of ``%XX`` escapes at a time (one ``bytes.fromhex`` each) instead
    of one escape at a time: a Chinese text is nothing but escapes. What is not a valid escape stays as it is."""
    if b"%" not in raw:
        return raw
    return _ESCAPES.sub(lambda m: bytes.fromhex(m.group().replace(b"%", b"").decode("ascii")), raw)


def _unquote(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    if "%" in text:
        if text.isascii():  # one run of ASCII, as unquote() treats it: decoded as UTF-8 in one go
            return unquote_bytes(text.encode("ascii")).decode("utf-8", "werkzeug.url_quote")
        text = unquote(text, errors="werkzeug.url_quote")  # invalid bytes stay percent-encoded, as in werkzeug
    return text


def _form(environ: dict) -> Iterable[tuple[str, str]]:
    """The form body's pairs, in order: urlencoded read here, multipart by werkzeug, anything else none."""
    if (environ.get("REQUEST_METHOD") or "GET").upper() not in FORM_METHODS:
        return ()
    mimetype = (environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
    if mimetype == URLENCODED:
        stream = environ.get("wsgi.input")
        length = parse_count(environ.get("CONTENT_LENGTH") or "")
        if stream is None or not length:
            return ()
        held = Exchange.of(environ).body  # read once, by the server's edge or the body limit (server/limits.py)
        data = stream.read(length) if held is None else held[:length]
        return split_pairs(data.decode("utf-8", "replace"))
    if mimetype == MULTIPART:
        from werkzeug.wrappers import Request

        return Request(environ).form.items(multi=True)  # RequestEntityTooLarge past werkzeug's part limits
    return ()
