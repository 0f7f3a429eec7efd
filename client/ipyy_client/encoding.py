"""The HTTP interface's two encodings: hex UTF-16BE content and the MD5 password.

The vendor's HTTP API never sends text as text: ``content`` is the UTF-16
big-endian bytes written as hex, and ``password`` is an uppercase MD5 hex
digest. Both sides of this project use these helpers so they cannot drift.
"""

from __future__ import annotations

import binascii
import hashlib
import re


def encode_content(text: str) -> str:
    """``测试【华信】`` → ``6D4B8BD53010534E4FE13011`` (UTF-16BE, uppercase hex)."""
    return text.encode("utf-16-be").hex().upper()


def decode_content(hex_text: str) -> str:
    """Inverse of encode_content; ValueError on odd length, non-hex or unpaired surrogates."""
    cleaned = hex_text.strip()
    if len(cleaned) % 4:
        raise ValueError("content hex must be UTF-16BE: a multiple of 4 hex digits")
    try:
        raw = binascii.unhexlify(cleaned)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"content is not hex: {exc}") from None
    try:
        return raw.decode("utf-16-be")
    except UnicodeDecodeError as exc:
        raise ValueError(f"content is not valid UTF-16BE: {exc.reason}") from None


def md5_password(password: str) -> str:
    """``abc123`` → ``E99A18C428CB38D5F260853678922E03`` (32 uppercase hex digits)."""
    return hashlib.md5(password.encode("utf-8")).hexdigest().upper()


def escape_xml_text(value: str) -> str:
    """Element text escaped exactly as lxml writes it: ``&``, ``<``, ``>`` and CR (the templates must match it)."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value


# Characters XML 1.0 cannot carry (C0 controls but tab/LF/CR, the non-characters U+FFFE/U+FFFF, lone
# surrogates): the one pattern both sides use to refuse or replace them.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
