"""The WSDL as the mock serves it, and xs:dateTime as .NET reads it.

The packaged ``WebService.wsdl`` is the one source of the SOAP contract
(``ipyy_client.wsdl``); the mock serves it byte for byte with the request's
own address in the two ports, as ASMX does (the path as the caller wrote it:
``/webservice.asmx`` stays lower case).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Callable

from ipyy_client.wsdl import packaged_wsdl

__all__ = ["static_wsdl", "parse_xsd_datetime"]

_ADDRESS = re.compile(rb'(<soap(?:12)?:address\s+location=")[^"]*(")')
_HOST_OK = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")
_PREFIX_OK = re.compile(r"[A-Za-z0-9._~/\-]*")


def static_wsdl() -> bytes:
    """The packaged contract, byte for byte."""
    return packaged_wsdl()


class WsdlServer:
    """The static WSDL split once around its two addresses, filled with each request's host."""

    def __init__(self, wsdl: bytes | None = None) -> None:
        self.wsdl = wsdl if wsdl is not None else static_wsdl()
        self._parts = _ADDRESS.split(self.wsdl)  # [text, open, close, text, open, close, text]

    def for_environ(self, environ: dict) -> bytes:
        host = environ.get("HTTP_HOST", "")
        if not _HOST_OK.fullmatch(host):  # the Host header goes into XML: only plain host[:port]
            host = environ.get("SERVER_NAME", "localhost")
            port = environ.get("SERVER_PORT", "")
            if port and port not in ("80", "443"):
                host = f"{host}:{port}"
            if not _HOST_OK.fullmatch(host):
                host = "localhost"
        scheme = "https" if environ.get("wsgi.url_scheme") == "https" else "http"
        prefix = environ.get("SCRIPT_NAME", "").rstrip("/")
        if not _PREFIX_OK.fullmatch(prefix):
            prefix = ""
        path = environ.get("PATH_INFO", "")
        if path.lower() != "/webservice.asmx":
            path = "/WebService.asmx"
        url = f"{scheme}://{host}{prefix}{path}".encode("ascii")
        parts = self._parts
        out = [parts[0]]
        for i in range(1, len(parts), 3):
            out += [parts[i], url, parts[i + 1], parts[i + 2]]
        return b"".join(out)


_ZONE = r"(?P<zone>[Zz]|[+-]\d\d:\d\d)?"
_TIME = r"(?P<hour>\d\d):(?P<minute>\d\d):(?P<second>\d\d)(?P<fraction>\.\d+)?"
#: The forms of .NET's XsdDateTime parser with the flags XmlSerializer uses (AllXsd), each a kind of value.
_ALL_XSD = [
    ("dateTime", re.compile(rf"(?P<year>\d{{4}})-(?P<month>\d\d)-(?P<day>\d\d)T{_TIME}{_ZONE}")),
    ("date", re.compile(rf"(?P<year>\d{{4}})-(?P<month>\d\d)-(?P<day>\d\d){_ZONE}")),
    ("time", re.compile(rf"{_TIME}{_ZONE}")),
    ("gYearMonth", re.compile(rf"(?P<year>\d{{4}})-(?P<month>\d\d){_ZONE}")),
    ("gYear", re.compile(rf"(?P<year>\d{{4}}){_ZONE}")),
    ("gMonthDay", re.compile(rf"--(?P<month>\d\d)-(?P<day>\d\d){_ZONE}")),
    ("gMonth", re.compile(rf"--(?P<month>\d\d){_ZONE}")),
    ("gDay", re.compile(rf"---(?P<day>\d\d){_ZONE}")),
]
#: The year .NET gives the g* kinds that have none (a leap year, so that --02-29 is a date).
_NO_YEAR = 1904
_DT_MIN, _DT_MAX = datetime(1, 1, 2), datetime(9999, 12, 30)


def parse_xsd_datetime(text: str, today: Callable[[], date] = date.today) -> datetime:
    """An ``xs:dateTime`` member as XmlSerializer reads it (``XmlConvert.ToDateTime``, RoundtripKind, AllXsd).

    Besides a full dateTime it takes what .NET's parser takes: a date alone (midnight), a time alone (on
    ``today()``), and the g-kinds (``2024-05``, ``2024``, ``--05-01``, ``--05``, ``---01``, their missing
    parts as .NET fills them), with a zone ``Z`` or ``±hh:mm`` of up to 99 hours and 99 minutes. A value without
    a zone is naive (platform time); one with a zone is aware, with that offset (in UTC when Python cannot hold it; .NET converts it to the server's time). Leading
    and trailing white space is allowed; the year has exactly four digits; ``24:00:00`` is refused. Raises
    ValueError with .NET's message (``The string 'x' is not a valid AllXsd value.``) for anything else.

    .NET takes every DateTime from 0001-01-01 to 9999-12-31 (a zone conversion past either end is clamped to
    it); the mock takes them too but keeps a day's margin at both ends (0001-01-02, 9999-12-30), so that no
    report time computed from a schedule can leave what Python's datetime holds.
    """
    refused = ValueError(f"The string '{text}' is not a valid AllXsd value.")
    stripped = text.strip()
    for kind, pattern in _ALL_XSD:  # noqa: B007 (kind is used after the loop)
        m = pattern.fullmatch(stripped)
        if m is not None:
            break
    else:
        raise refused
    parts = m.groupdict()
    year = int(parts.get("year") or _NO_YEAR)
    month = int(parts.get("month") or 1)
    day = int(parts.get("day") or 1)
    if kind == "time":
        base = today()
        year, month, day = base.year, base.month, base.day
    hour, minute, second = (int(parts.get(k) or 0) for k in ("hour", "minute", "second"))
    fraction = parts.get("fraction")
    micro = round(Decimal("0" + fraction) * 1_000_000) if fraction else 0
    try:
        value = datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise refused from None
    value = _add(value, timedelta(microseconds=micro))  # .9999999 rounds up into the next second
    zone = parts.get("zone")
    if not zone:
        return min(max(value, _DT_MIN), _DT_MAX)
    offset = timedelta(0)
    if zone not in ("Z", "z"):
        offset = (-1 if zone[0] == "-" else 1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    utc = min(max(_add(value, -offset), _DT_MIN), _DT_MAX).replace(tzinfo=timezone.utc)
    if abs(offset) < timedelta(hours=24) and utc.replace(tzinfo=None) == _add(value, -offset):
        return value.replace(tzinfo=timezone(offset) if offset else timezone.utc)  # the caller's own offset, kept
    return utc


def _add(value: datetime, delta: timedelta) -> datetime:
    """``value + delta``, clamped to what datetime holds (as .NET clamps a conversion to its DateTime range)."""
    try:
        return value + delta
    except OverflowError:
        return datetime.max if delta > timedelta(0) else datetime.min
