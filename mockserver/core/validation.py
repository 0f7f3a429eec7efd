"""The request checks of docs/contract.md §3 steps 2–4: recipients, extension number, content.

Each check returns the ResultCode of the first failure, or the cleaned value;
the order of the checks is the vendor's and is fixed in ``platform.Platform.send``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from ipyy_client.codes import ResultCode

# 【签名】, or [Signature] as the vendor's own English example signs ("test message[HuaXin]")
SIGNATURE = re.compile(r"(?:【([^【】]*)】|\[([^\[\]]*)\])\s*$")
MAX_SIGNATURE_CHARS = 8
EXT_NUMBER = re.compile(r"[0-9]{1,5}")
DIGITS = re.compile(r"[0-9]{7,15}")
DOMESTIC_CN = re.compile(r"1[3-9][0-9]{9}")


@dataclass(frozen=True)
class Recipient:
    mobile: str  # as billed and reported: country code + national number
    country: str  # calling code, e.g. "86"


def parse_recipients(msisdns: str | None, hybrid: bool) -> list[Recipient] | ResultCode:
    """Split, trim, validate and de-duplicate (first occurrence wins, order kept)."""
    parts = [p.replace(" ", "").strip() for p in (msisdns or "").split(",")]
    parts = [p for p in parts if p]
    if not parts:
        return ResultCode.MsisdnEmpty
    seen: dict[str, Recipient] = {}
    for raw in parts:
        recipient = _parse_one(raw, hybrid)
        if recipient is None:
            return ResultCode.MsisdnError
        seen.setdefault(recipient.mobile, recipient)
    return list(seen.values())


def _parse_one(raw: str, hybrid: bool) -> Recipient | None:
    number = raw[1:] if raw.startswith("+") else raw
    if not DIGITS.fullmatch(number):
        return None
    if hybrid and DOMESTIC_CN.fullmatch(number):
        number = "86" + number
    try:
        parsed = phonenumbers.parse("+" + number, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return Recipient(mobile=number, country=str(parsed.country_code))


def check_ext_number(ext: str | None) -> str | ResultCode:
    value = (ext or "").strip()
    if value and not EXT_NUMBER.fullmatch(value):
        return ResultCode.ExtNumberError
    return value


def check_content(content: str | None, sensitive_words: list[str]) -> ResultCode | None:
    """Content rules before the segment limit: empty, signature present and sane, no sensitive word."""
    text = content or ""
    if not text.strip():
        return ResultCode.ContentEmpty
    match = SIGNATURE.search(text)
    if match is None:
        return ResultCode.RequiredSuffix
    signature = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
    if not signature or len(signature) > MAX_SIGNATURE_CHARS:
        return ResultCode.SuffixError
    lowered = text.casefold()
    if any(word and word.casefold() in lowered for word in sensitive_words):
        return ResultCode.SensitiveWords
    return None
