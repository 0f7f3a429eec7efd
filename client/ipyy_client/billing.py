"""Segment and price prediction, the same arithmetic the platform bills with.

Why UTF-16 code units: the vendor sends UCS-2/UTF-16 (``code=8``), so an emoji
outside the BMP costs two units, and "70 characters" really means 70 units.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

SINGLE_SEGMENT_UNITS = 70
MULTIPART_SEGMENT_UNITS = 67


def utf16_units(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (an astral emoji counts 2)."""
    return len(text.encode("utf-16-be")) // 2


def segment_count(text: str) -> int:
    """Segments one recipient is billed for: 1 up to 70 units, else ceil(units / 67)."""
    units = utf16_units(text)
    if units <= SINGLE_SEGMENT_UNITS:
        return 1
    return -(-units // MULTIPART_SEGMENT_UNITS)


def predict_cost(text: str, recipients: int = 1, price: Decimal | str = Decimal("0")) -> tuple[int, Decimal]:
    """Predict (BillingCount, BillingAmount) for ``recipients`` numbers at one per-segment ``price``."""
    segments = segment_count(text) * recipients
    return segments, segments * Decimal(price)


def price_for(country_code: int | str, prices: Mapping[str, Decimal | str]) -> Decimal | None:
    """Per-segment price of a country: its own entry, else the ``"*"`` entry, else None (no channel)."""
    key = str(country_code)
    if key in prices:
        return Decimal(prices[key])
    if "*" in prices:
        return Decimal(prices["*"])
    return None
