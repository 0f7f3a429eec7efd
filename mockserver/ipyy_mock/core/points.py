"""Points: how the domestic interface's whole-number points map onto the mock's Decimal money.

The vendor's domestic accounts count points (one point = one message
segment); the mock keeps one balance in money for every surface. So a point
is priced as one segment to country 86 at the account's own price, and every
point figure is derived, never stored (docs/domestic.md, "Points"):

* points left (``remainpoint``, ``overage``) = floor(balance / price of 86);
* points recharged in total (``sendTotal``) = floor((balance + everything the
  account's sends were charged) / price of 86): the money that was put in,
  as points. A domestic send of N segments to 86 costs N points, so a
  prepaid account that only sends domestically sees overage fall by N and
  sendTotal stay put.

An account without a positive price for 86 has no points (0): it cannot send
domestically (no channel) and a division by zero has no meaning. Floor, not
rounding: a fraction of a point does not buy a segment. A postpaid balance
below zero gives negative points (what is owed).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from ipyy_client.billing import price_for
from ipyy_mock.core.store import Account, Store

#: The country whose segment price is the price of one point.
POINT_COUNTRY = "86"


@dataclass(frozen=True)
class PointsOverage:
    """The domestic ``action=overage`` figures of one account."""

    pay_type: str
    points: int
    send_total: int


def point_price(account: Account) -> Decimal | None:
    """The price of one point (one segment to 86), or None when the account has no positive price for 86."""
    price = price_for(POINT_COUNTRY, account.prices)
    return price if price is not None and price > 0 else None


def points(account: Account, money: Decimal) -> int:
    """``money`` as whole points at the account's price: floor(money / price of 86); 0 without a price."""
    price = point_price(account)
    if price is None:
        return 0
    return int((money / price).to_integral_value(rounding=ROUND_FLOOR))


def overage(store: Store, account: Account) -> PointsOverage:
    """Points left and points recharged in total, from the balance and what the account has been charged."""
    left = points(account, account.balance)
    total = points(account, account.balance + store.total_charged(account.name)) if point_price(account) else 0
    return PointsOverage(account.pay_type, left, total)
