"""Passwords kept out of sight, one module for the client and the mock: the two ways a text is masked.

Why two ways: the client knows the passwords it sends, so ``Secrets`` masks those values in every form they
travel in (plain, MD5, escaped, encoded) wherever an error, snippet or repr could show them; the mock's
journal stores requests of every account, right and wrong passwords alike, so ``mask_text`` and
``mask_pairs`` mask by field name (``password``, ``newpassword``, ``token``, ``admin_token``) in forms,
multipart, SOAP/XML and JSON bodies. Both write ``MASK``. Only the standard library and the client's
encoding and error types: a mock worker imports this without any client transport.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, unquote, unquote_plus
from xml.sax.saxutils import escape

from ipyy_client.encoding import md5_password
from ipyy_client.errors import IpyyError, ProtocolError, SoapFault

E = TypeVar("E", bound=IpyyError)

MASK = "***"
#: The field names whose values the journal never shows (compared stripped, in any case, once decoded).
SECRET_KEYS = frozenset({"password", "newpassword", "token", "admin_token"})


# -- known values (the client) ------------------------------------------------------


class Secrets:
    """The strings no error, body snippet or repr may show: each password as typed and as it travels.

    A server may echo the request (an error page quoting the form, a proxy's debug reply), so each secret
    is masked in every form the clients put on the wire or a server would write back: plain, MD5 (upper
    and lower hex), XML-escaped (the SOAP envelope), URL-encoded (the HTTP form) and JSON- and
    repr-escaped. Plain values shorter than 3 characters are not masked (they cannot be told apart from
    ordinary text); their MD5 always is. A password once known stays a secret after it changed.
    """

    MIN_PLAIN = 3
    MASK = MASK

    def __init__(self, *values: str) -> None:
        self._forms: list[str] = []
        self._bytes: list[tuple[bytes, bytes]] = []
        self._entities: list[re.Pattern[str]] = []  # the password with any characters as &#NN; / &#xHH; references
        self._entity_bytes: list[re.Pattern[bytes]] = []
        for value in values:
            self.add(value)

    def add(self, value: str | None) -> None:
        """Add a secret (a new password, a password being set) with all its wire forms."""
        if not value or not isinstance(value, str):
            return
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: it cannot travel, so only the typed form can show up
            forms = {value} if len(value) >= self.MIN_PLAIN else set()
        else:
            forms = {md5_password(value), md5_password(value).lower()}
            if len(value) >= self.MIN_PLAIN:
                forms.update(_wire_forms(value))
                pattern = _entity_pattern(value)
                self._entities.append(re.compile(pattern))
                self._entity_bytes.append(re.compile(pattern.encode("utf-8")))
        merged = set(self._forms) | {f for f in forms if f}
        self._forms = sorted(merged, key=lambda f: (-len(f), f))  # longest first: a form inside another
        self._bytes = [(f.encode("utf-8", "surrogatepass"), self.MASK.encode()) for f in self._forms]

    def __bool__(self) -> bool:
        return bool(self._forms)

    def __repr__(self) -> str:
        return f"Secrets({len(self._forms)} forms)"

    def text(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, self.MASK)
        if "&#" in text:  # an HTML or XML echo that wrote some characters as references (&#x27; for ')
            for pattern in self._entities:
                text = pattern.sub(self.MASK, text)
        return text

    def data(self, data: bytes) -> bytes:
        for form, mask in self._bytes:
            if form in data:
                data = data.replace(form, mask)
        if b"&#" in data:
            for pattern in self._entity_bytes:
                data = pattern.sub(self.MASK.encode(), data)
        return data

    def holds(self, exc: BaseException) -> bool:
        """True when ``exc`` or an exception it chains to (cause or context) shows a secret anywhere."""
        seen: set[int] = set()
        link: BaseException | None = exc
        while link is not None and id(link) not in seen:
            seen.add(id(link))
            texts = [str(link), repr(link.args), *(str(v) for v in vars(link).values() if isinstance(v, (str, bytes)))]
            if any(self.text(t) != t for t in texts):
                return True
            link = link.__cause__ or link.__context__
        return False

    def error(self, exc: E) -> E:
        """The same exception with every secret masked in its message, description, body and fault fields."""
        if not self._forms:
            return exc
        chained = exc.__cause__ or exc.__context__
        if chained is not None and self.holds(chained):  # e.g. zeep's Fault behind a SoapFault, quoting the request
            exc.__cause__ = exc.__context__ = None
            exc.__suppress_context__ = True
        exc.args = tuple(self.text(a) if isinstance(a, str) else a for a in exc.args)
        exc.description = self.text(exc.description or "")
        if isinstance(exc, ProtocolError) and isinstance(exc.body, bytes):
            exc.body = self.data(exc.body)
        if isinstance(exc, SoapFault):
            exc.faultstring = self.text(exc.faultstring or "")
            exc.faultcode = self.text(exc.faultcode) if exc.faultcode else exc.faultcode
            exc.detail = self._scrub_detail(exc.detail)
        return exc

    def _scrub_detail(self, detail: Any) -> Any:
        """A Fault's ``<detail>`` element (lxml) with secrets masked in its text, tails and attribute values."""
        iterator = getattr(detail, "iter", None)
        if iterator is None:
            return self.text(detail) if isinstance(detail, str) else detail
        for node in iterator():
            if isinstance(node.text, str):
                node.text = self.text(node.text)
            if isinstance(node.tail, str):
                node.tail = self.text(node.tail)
            attrib = getattr(node, "attrib", None)
            if attrib is not None:
                for key, value in list(attrib.items()):
                    attrib[key] = self.text(value)
        return detail


def _entity_pattern(value: str) -> str:
    """A regex of ``value`` with each character as itself or as a character reference (decimal, hex in any case,
    leading zeros, or its named entity): how an HTML error page or an XML writer may echo it."""
    named = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
    parts = []
    for ch in value:
        code = ord(ch)
        hex_digits = "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{code:x}")
        alternatives = [re.escape(ch), f"&#0*{code};", f"&#[xX]0*{hex_digits};"]
        if ch in named:
            alternatives.append(named[ch])
        parts.append("(?:" + "|".join(alternatives) + ")")
    return "".join(parts)


def _wire_forms(value: str) -> Iterable[str]:
    """``value`` as it may appear in a request or an echo of one."""
    yield value
    yield escape(value)  # XML text (&amp; &lt; &gt;)
    yield escape(value, {'"': "&quot;", "'": "&apos;"})
    yield value.replace("&", "&#38;").replace("<", "&#60;")
    yield quote_plus(value)
    yield quote(value, safe="")
    yield quote_plus(value).lower()  # %2f as well as %2F
    yield json.dumps(value)[1:-1]
    yield json.dumps(value, ensure_ascii=False)[1:-1]
    yield json.dumps(value, ensure_ascii=False)[1:-1].replace("/", "\\/")  # PHP's json_encode escapes "/"
    yield repr(value)[1:-1]
    yield repr(value.encode("utf-8"))[2:-1]


# -- field names (the journal) -----------------------------------------------------


def _secret_key(raw: str) -> bool:
    if "%" not in raw and "+" not in raw:  # nothing to decode (the usual key): no unquote_plus per pair
        return raw.strip().lower() in SECRET_KEYS
    try:
        return unquote_plus(raw).strip().lower() in SECRET_KEYS
    except Exception:
        return False


# What _JSON_SECRET needs to find anything: one of these keys, quoted.
_JSON_SECRET_KEYS = ('"password"', '"newpassword"', '"token"', '"admin_token"')


def _may_name_secret(text: str, lower: str | None = None) -> bool:
    """False when no pair of ``text`` can be a secret's, so the pair-by-pair pass can be skipped: every secret key
    ends in "password" or "token", and a key is stripped of spaces ("+" too, once decoded) before the comparison,
    so one of the words must stand right before an "=" (unless something is percent-encoded)."""
    if "%" in text:  # a key may be percent-encoded (pass%77ord=...)
        return True
    lower = text.lower() if lower is None else lower
    end = len(lower)
    for word in ("password", "token"):
        at = lower.find(word)
        while at >= 0:
            i = at + len(word)
            while i < end and (lower[i] == "+" or lower[i].isspace()):
                i += 1
            if i < end and lower[i] == "=":
                return True
            at = lower.find(word, at + 1)
    return False


def mask_pairs(text: str, lower: str | None = None) -> str:
    """``a=1&password=x`` → ``a=1&password=***``, for query strings and urlencoded bodies (keys decoded).
    ``lower``: ``text.lower()``, when the caller has it."""
    if "=" not in text or not _may_name_secret(text, lower):
        return text
    parts = text.split("&")
    changed = False
    for i, part in enumerate(parts):
        key, sep, _ = part.partition("=")
        if sep and _secret_key(key):
            parts[i] = f"{key}={MASK}"
            changed = True
    return "&".join(parts) if changed else text


_XML_SECRET = re.compile(
    r"(<(?:[\w.\-]+:)?(?:new)?password(?=[\s>/])[^>]*(?<!/)>)(.*?)(</(?:[\w.\-]+:)?(?:new)?password\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_JSON_SECRET = re.compile(
    r'("(?:new)?password"|"(?:admin_)?token")(\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)', re.IGNORECASE
)
# One part of a multipart body: its boundary line, its header lines (folded ones included), the blank line and
# its value up to the next boundary.
_MULTIPART_PART = re.compile(r"(^|\n)(--[^\r\n]*\r?\n)((?:[^\r\n]+\r?\n)*?)(\r?\n)(.*?)(?=\r?\n--|\Z)", re.DOTALL)
_PARAM = re.compile(r';\s*([\w*!#$%&\'+.^`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')
_FOLD = re.compile(r"\r?\n[ \t]+")


def _part_name(headers: str) -> str:
    """The ``name`` a part's Content-Disposition gives, however it is spelled: quoted or not, folded over lines,
    RFC 2231/5987 (``name*=UTF-8''password``, ``name*0=pass; name*1=word``), percent-encoded, in any case."""
    for line in _FOLD.sub(" ", headers).splitlines():
        if not line.lower().lstrip().startswith("content-disposition"):
            continue
        plain, pieces = "", {}
        for key, value in _PARAM.findall(line):
            key = key.lower()
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            if key == "name":
                plain = value
            elif key.startswith("name*"):
                number, _, encoded = key[5:].partition("*")
                extended = key.endswith("*")
                if extended and (key == "name*" or number == "0") and value.count("'") >= 2:
                    value = value.split("'", 2)[2]  # charset'language'value
                if extended:
                    try:
                        value = unquote(value, errors="replace")
                    except Exception:
                        pass
                pieces[int(number) if number.isdigit() else -1] = value
        name = "".join(pieces[k] for k in sorted(pieces)) if pieces else plain
        return unquote_plus(name).strip().lower() if "%" in name else name.strip().lower()
    return ""


def _mask_multipart(text: str) -> str:
    def mask(m: re.Match[str]) -> str:
        if _part_name(m.group(3)) in SECRET_KEYS:
            return m.group(1) + m.group(2) + m.group(3) + m.group(4) + MASK
        return m.group(0)

    return _MULTIPART_PART.sub(mask, text)


def _mask_json(text: str) -> str:
    """A JSON body whose secret keys are spelled with escapes (``"pass\\u0077ord"``) or in any case: parsed, each
    secret's value masked, written again (only when it held one the patterns could not see)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return text
    found = False

    def walk(node: object) -> object:
        nonlocal found
        if isinstance(node, dict):
            out: dict[Any, object] = {}
            for key, value in node.items():
                if isinstance(key, str) and key.strip().lower() in SECRET_KEYS and value != MASK:
                    found = True
                    out[key] = MASK
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    try:
        masked = walk(data)
    except RecursionError:
        return MASK  # nested past the stack: no way to show it without what it may hide
    return json.dumps(masked, ensure_ascii=False) if found else text


def mask_text(text: str) -> str:
    """Mask every password / token value in a body of any kind (form, multipart, SOAP/XML, JSON)."""
    lower = text.lower()
    named = "password" in lower or "token" in lower
    if named or "%" in text:
        masked = mask_pairs(text, lower)
        if masked is not text:
            text, lower = masked, masked.lower()
    if "content-disposition" in lower:  # before `named`: name*=UTF-8''pass%77ord names no secret in clear
        text = _mask_multipart(text)
        lower = text.lower()
    escaped = "\\u" in lower and '"' in text  # a JSON key may be spelled with \uXXXX escapes
    if not named and not escaped:
        return text
    if "<" in text and "password" in lower:
        text = _XML_SECRET.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    if '"' in text and any(key in lower for key in _JSON_SECRET_KEYS):
        text = _JSON_SECRET.sub(lambda m: m.group(1) + m.group(2) + f'"{MASK}"', text)
    if escaped and text.lstrip()[:1] in ("{", "["):
        text = _mask_json(text)
    return text
