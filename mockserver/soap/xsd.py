"""The WSDL as the mock serves it, and xs:dateTime as .NET reads it.

The packaged ``WebService.wsdl`` is the one source of the SOAP contract
(``ipyy_client.wsdl``); the mock serves it byte for byte with the request's
own host in the two addresses.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

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
        url = f"{scheme}://{host}{prefix}/WebService.asmx".encode("ascii")
        parts = self._parts
        out = [parts[0]]
        for i in range(1, len(parts), 3):
            out += [parts[i], url, parts[i + 1], parts[i + 2]]
        return b"".join(out)


_XSD_DATETIME = re.compile(r"(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?\Z")
_DT_MIN, _DT_MAX = datetime(1, 1, 2), datetime(9999, 12, 30)


def parse_xsd_datetime(text: str) -> datetime:
    """xs:dateTime -> datetime: naive without a zone, aware (fixed offset) with ``Z`` or an offset.

    Replaces spyne's parser, which gets negative half-hour offsets wrong
    (``-03:30`` becomes -02:30) and ignores trailing text. Raises ValueError for
    text that is not an xs:dateTime or lies outside what Python (and .NET) can
    hold: 0001-01-02 to 9999-12-30 in UTC, a day's margin so that no later
    zone conversion (spyne's own range check included) can overflow.
    """
    m = _XSD_DATETIME.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not an xs:dateTime (like 2024-05-01T09:30:00, zone optional)")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    micro = round(Decimal("0" + m.group(7)) * 1_000_000) if m.group(7) else 0
    zone = m.group(8)
    tz = None
    if zone == "Z":
        tz = timezone.utc
    elif zone:
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        extra = timedelta(0)
        if hour == 24 and minute == second == micro == 0:  # xs:dateTime allows 24:00:00
            hour, extra = 0, timedelta(days=1)
        if micro == 1_000_000:  # .9999999 rounds up
            micro, extra = 0, extra + timedelta(seconds=1)
        value = datetime(year, month, day, hour, minute, second, micro, tzinfo=tz) + extra
        utc = value.astimezone(timezone.utc).replace(tzinfo=None) if tz else value
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    if not _DT_MIN <= utc <= _DT_MAX:
        raise ValueError(f"{text!r} is out of range (0001-01-02 to 9999-12-30)")
    return value
