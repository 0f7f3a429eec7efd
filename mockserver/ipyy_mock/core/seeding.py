"""Accounts created when the server starts: ``serve --seed-account NAME:PASSWORD[:BALANCE]``.

Why: a container, a Compose service or a CI ``services:`` entry has no step
before the code under test runs in which to call ``ipyy-mock account add``;
``IPYY_MOCK_SEED_ACCOUNT="shop:s3cret:50.00 billing:pw2"`` does it from the
environment. A seeded account is like one from ``account add`` or
``POST /_mock/api/accounts`` (the demo's prices and sensitive words, prepaid)
with a balance of 100.00 unless given. An account that exists is kept as it
is: a restart on the same volume must not undo what a test changed (use
``ipyy-mock account set`` or the admin API to change it).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from ipyy_mock.core.billing import MAX_BALANCE, MoneyError, parse_money

if TYPE_CHECKING:  # the store is imported when seeding runs: `ipyy-mock --help` stays fast
    from ipyy_mock.core.store import Account, Store

DEFAULT_BALANCE = Decimal("100.00")
FORM = "NAME:PASSWORD[:BALANCE]"
MAX_NAME = 64
MAX_PASSWORD = 20  # as pwd.aspx and the admin API allow


@dataclass(frozen=True)
class Seed:
    """One account to create at start; the password never shows in a repr or a log line."""

    name: str
    password: str = field(repr=False)
    balance: Decimal = DEFAULT_BALANCE


def parse(text: str) -> Seed:
    """``shop:s3cret`` or ``shop:s3cret:50.00``; an argparse ``type``, so a bad one is a usage error.

    The messages never quote the text: it holds a password.
    """
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError(f"a seed account is {FORM} (no ':' in the password), e.g. shop:s3cret:50.00")
    name, password = parts[0].strip(), parts[1]
    if not 1 <= len(name) <= MAX_NAME:
        raise argparse.ArgumentTypeError(f"a seed account's name is 1 to {MAX_NAME} characters: {FORM}")
    if not 1 <= len(password) <= MAX_PASSWORD:
        raise argparse.ArgumentTypeError(f"seed account {name!r}: the password is 1 to {MAX_PASSWORD} characters")
    balance = DEFAULT_BALANCE
    if len(parts) == 3:
        try:
            balance = parse_money(parts[2], "the balance", Decimal(0), MAX_BALANCE)
        except MoneyError as exc:
            raise argparse.ArgumentTypeError(f"seed account {name!r}: {exc}") from None
    return Seed(name, password, balance)


def seed(store: Store, seeds: list[Seed]) -> list[tuple[Account, bool]]:
    """Create each account that does not exist yet; each account with True when it was created now."""
    from ipyy_mock.core.platform import DEMO_ACCOUNT
    from ipyy_mock.core.store import Account

    done: list[tuple[Account, bool]] = []
    for wanted in seeds:
        existing = store.get_account(wanted.name)
        if existing is not None:
            done.append((existing, False))
            continue
        account = Account(
            name=wanted.name,
            password=wanted.password,
            balance=wanted.balance,
            prices=dict(DEMO_ACCOUNT.prices),
            sensitive_words=list(DEMO_ACCOUNT.sensitive_words),
            created_at=time.time(),
        )
        store.insert_account(account)
        done.append((account, True))
    return done
