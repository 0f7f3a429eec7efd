"""The request checks of docs/contract.md §3 steps 2–4: recipients, extension number, content.

Each check returns the ResultCode of the first failure, or the cleaned value;
the order of the checks is the vendor's and is fixed in ``platform.Platform.send``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from ipyy_client.codes import ResultCode
from ipyy_mock.core.conformance import ConformanceWarning

# 【签名】, or [Signature] as the vendor's own English example signs ("test message[HuaXin]"), at the end as the
# document writes it or at the start as production clients send it (docs/contract.md, "Send rules").
SIGNATURE = re.compile(r"(?:【([^【】]*)】|\[([^\[\]]*)\])\s*$")
SIGNATURE_AT_START = re.compile(r"^\s*(?:【([^【】]*)】|\[([^\[\]]*)\])")
MAX_SIGNATURE_CHARS = 8
EXT_NUMBER = re.compile(r"[0-9]{1,5}")
DIGITS = re.compile(r"[0-9]{7,15}")
DOMESTIC_CN = re.compile(r"1[3-9][0-9]{9}")
INT64_MAX = (1 << 63) - 1


@dataclass(frozen=True)
class Recipient:
    mobile: str  # as the client sent it (without spaces or a leading +): stored, reported, shown
    country: str  # calling code, e.g. "86": what the price is looked up by
    international: str = ""  # country code + national number: what scenario rules and de-duplication use

    def __post_init__(self) -> None:
        if not self.international:
            object.__setattr__(self, "international", self.mobile)


def parse_recipients(
    msisdns: str | None, hybrid: bool, warnings: list[ConformanceWarning] | None = None
) -> list[Recipient] | ResultCode:
    """Split, trim, validate and de-duplicate (first occurrence wins, order kept).

    Two deviations the vendor accepts go to ``warnings``: a duplicate, and a Chinese domestic-looking number
    sent where a country code is required (``13800138000`` through SendI18NSms is +1 380 013 8000).
    """
    parts = [p.replace(" ", "").strip() for p in (msisdns or "").split(",")]
    parts = [p for p in parts if p]
    if not parts:
        return ResultCode.MsisdnEmpty
    seen: dict[str, Recipient] = {}
    for raw in parts:
        recipient = _parse_one(raw, hybrid)
        if recipient is None:
            return ResultCode.MsisdnError
        if recipient.international in seen:
            if warnings is not None:
                warnings.append(ConformanceWarning("duplicate-recipient", f"{raw} is listed more than once"))
            continue
        seen[recipient.international] = recipient
        if (
            warnings is not None
            and not hybrid
            and recipient.country != "86"
            and DOMESTIC_CN.fullmatch(recipient.mobile)
        ):
            warnings.append(
                ConformanceWarning(
                    "number-country",
                    f"{recipient.mobile} was read as +{recipient.country} (country "
                    f"{recipient.country}); did you mean 86{recipient.mobile}?",
                )
            )
    return list(seen.values())


@lru_cache(maxsize=65536)
def _parse_one(raw: str, hybrid: bool) -> Recipient | None:
    """One number (cached: a pure function of its text, and phonenumbers' parse is most of a send's rule time)."""
    number = raw[1:] if raw.startswith("+") else raw
    if not DIGITS.fullmatch(number):
        return None
    international = "86" + number if hybrid and DOMESTIC_CN.fullmatch(number) else number
    try:
        parsed = phonenumbers.parse("+" + international, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return Recipient(mobile=number, country=str(parsed.country_code), international=international)


def check_ext_number(ext: str | None) -> str | ResultCode:
    value = (ext or "").strip()
    if value and not EXT_NUMBER.fullmatch(value):
        return ResultCode.ExtNumberError
    return value


def check_content(
    content: str | None, sensitive_words: list[str], warnings: list[ConformanceWarning] | None = None
) -> ResultCode | None:
    """Content rules before the segment limit: empty, signature present and sane, no sensitive word.

    The signature counts at the end (as documented) or at the start (as production clients send it: a warning).
    """
    text = content or ""
    if not text.strip():
        return ResultCode.ContentEmpty
    match = SIGNATURE.search(text)
    if match is None:
        match = SIGNATURE_AT_START.search(text)
        if match is None:
            return ResultCode.RequiredSuffix
        if warnings is not None:
            warnings.append(
                ConformanceWarning("signature-at-start", f"the content starts with {match.group(0).strip()}")
            )
    signature = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
    if not signature or len(signature) > MAX_SIGNATURE_CHARS:
        return ResultCode.SuffixError
    lowered = text.casefold()
    if any(word and word.casefold() in lowered for word in sensitive_words):
        return ResultCode.SensitiveWords
    return None


def parse_count(raw: str, limit: int = INT64_MAX) -> int | None:
    """A whole-number parameter (``statusNum``, ``taskid``, the admin API's ids and limits): None when it is not
    ASCII digits or would not fit a 64-bit integer (a parameter error, never an overflow in SQLite or int())."""
    text = raw.strip()
    if not text.isdigit() or not text.isascii() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= limit else None
