"""Per-recipient charges: segments from the content, price from the account's country table.

The segment arithmetic is the client's own (``ipyy_client.billing``) so the
client's prediction and the mock's charge are the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Mapping

from ipyy_client.billing import price_for, segment_count

#: Bounds of every amount a person or test sets (admin API, CLI, seed accounts). Why bounds at all: Decimal takes
#: ``1e400000`` in a microsecond, but a charge or a reply's ``quantize`` on it then works through 400,000 digits
#: (seconds of CPU with the worker blocked). Inside these, every operation of a send is on at most ~20 digits.
MAX_BALANCE = Decimal("1000000000000")  # 10^12 either way (a postpaid account may owe)
MAX_PRICE = Decimal("10000")  # per segment
MAX_PLACES = 4  # decimal places of an amount
MAX_MONEY_TEXT = 40  # characters of an amount's text, checked before Decimal reads it


class MoneyError(ValueError):
    """An amount out of its bounds or not a number: the message names the bound."""


def parse_money(value: object, what: str, low: Decimal, high: Decimal) -> Decimal:
    """``value`` (text or a JSON number) as a Decimal from ``low`` to ``high`` with at most MAX_PLACES places.

    Every check is on the text's length and the number's exponent first, so no input costs more than a few
    microseconds, whatever its size.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise MoneyError(f"{what} must be a decimal number, e.g. 100.00")
    text = value.strip() if isinstance(value, str) else str(value)
    bounds = f"from {low} to {high} with at most {MAX_PLACES} decimal places"
    if len(text) > MAX_MONEY_TEXT:
        raise MoneyError(f"{what} must be {bounds} (at most {MAX_MONEY_TEXT} characters)")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise MoneyError(f"{what} must be a decimal number {bounds}, got {text!r}") from None
    if not number.is_finite():
        raise MoneyError(f"{what} must be a finite decimal number {bounds}")
    exponent = number.as_tuple().exponent
    if number.adjusted() > high.adjusted() + 1 or not low <= number <= high:
        raise MoneyError(f"{what} must be {bounds}, got {text}")
    if isinstance(exponent, int) and exponent < -MAX_PLACES:  # "1.2300" is fine, "1.00001" and "1e-400000" are not
        places = Decimal(1).scaleb(-MAX_PLACES)
        if exponent < -MAX_PLACES - MAX_MONEY_TEXT or number != number.quantize(places):
            raise MoneyError(f"{what} must be {bounds}, got {text}")
        number = number.quantize(places)
    return number


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
