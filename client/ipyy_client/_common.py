"""Small helpers shared by the SOAP and HTTP clients (and the CLI).

Kept apart so neither client module has to import the other: ``soap.py``
pulls in zeep, ``http.py`` only needs requests and lxml.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_BASE_URL = "https://dx.ipyy.net"
#: The vendor's platform time zone; report and uplink times are written in it, without an offset.
DEFAULT_ZONE = "Asia/Shanghai"

_BASE_URL = re.compile(r"^https?://[^/\s]+")


def join_msisdns(msisdns: str | int | Iterable[str | int]) -> str:
    """Recipients as the wire wants them: one comma-separated string, items stripped, empties dropped.

    Accepts ``"861380..., 861390..."``, a list of strings/ints, or a list of such
    comma strings. Order is kept; duplicates are left for the platform (it sends once).
    """
    if isinstance(msisdns, (str, int)):
        items: Iterable[str | int] = [msisdns]
    else:
        items = msisdns
    out: list[str] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if part:
                out.append(part)
    return ",".join(out)


#: A Chinese mobile number written as at home: 11 digits, 1 and then 3-9 (13800138000), no country code.
_DOMESTIC_NUMBER = re.compile(r"1[3-9][0-9]{9}")


def domestic_looking(msisdns: str | int | Iterable[str | int]) -> list[str]:
    """The recipients that look like a Chinese mobile number without its country code.

    Why: an international send (SendI18NSms, I18NSms.aspx) reads the leading ``1`` of ``13800138000`` as the
    country code of North America and sends (and charges) to +1 380..., which is never what was meant.
    """
    return [number for number in join_msisdns(msisdns).split(",") if _DOMESTIC_NUMBER.fullmatch(number)]


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; ValueError unless it is ``http(s)://host…``."""
    if not isinstance(base_url, str) or not _BASE_URL.match(base_url):
        raise ValueError(f"base_url must start with http:// or https:// and name a host, not {base_url!r}")
    return base_url.rstrip("/")


def root_cause(exc: BaseException) -> str:
    """The innermost useful reason ("Connection refused", "Name or service not known"), not urllib3's novel."""
    seen = exc
    while seen.__cause__ is not None or seen.__context__ is not None:
        nxt = seen.__cause__ or seen.__context__
        if nxt is None or nxt is seen:
            break
        seen = nxt
    text = str(seen) or type(seen).__name__
    # asyncio words a refused connect "Connect call failed": name the errno the way requests does
    chain: BaseException | None = exc
    for _ in range(20):
        if chain is None:
            break
        if isinstance(chain, ConnectionRefusedError):
            return "Connection refused"
        if isinstance(chain, ConnectionResetError):
            return "Connection reset"
        chain = chain.__cause__ or chain.__context__
    for needle in (
        "Connection refused",
        "Name or service not known",
        "nodename nor servname",
        "Temporary failure in name resolution",
        "timed out",
        "No route to host",
        "Connection reset",
        "certificate verify failed",
    ):
        if needle in str(exc) or needle in text:
            return needle
    return text[:200]


def package_version() -> str:
    from ipyy_client import __version__

    return __version__
