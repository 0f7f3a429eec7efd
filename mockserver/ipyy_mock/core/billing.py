"""Per-recipient charges: segments from the content, price from the account's country table.

The segment arithmetic is the client's own (``ipyy_client.billing``) so the
client's prediction and the mock's charge are the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

from ipyy_client.billing import price_for, segment_count


@dataclass(frozen=True)
class Charge:
    mobile: str
    country: str
    segments: int
    price: Decimal
    amount: Decimal


def charge_for(
    mobile: str, country: str, content: str, prices: Mapping[str, Decimal], segments: int | None = None
) -> Charge | None:
    """None when the account has no price (so no channel) for that country; ``segments`` if already counted."""
    price = price_for(country, prices)
    if price is None:
        return None
    if segments is None:
        segments = segment_count(content)
    return Charge(mobile, country, segments, price, segments * price)
