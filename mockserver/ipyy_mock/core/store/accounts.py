"""Account rows: the ``Account`` dataclass, reading and saving accounts, balances, and settings.

Why a module of its own: an account is the one row every request looks up (through the per-process cache)
and the one whose balance every send changes (under the write lock, never from the cache).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from ipyy_mock.core.store.cache import Cache


@dataclass
class Account:
    """An account as the platform sees it; ``prices`` maps country code (or ``*``) to a per-segment price."""

    name: str
    password: str = field(repr=False)  # needed in clear for the MD5 check (auth.py); never printed
    userid: str = ""
    balance: Decimal = Decimal("0")
    pay_type: str = "prepaid"  # prepaid | postpaid (postpaid may go below zero)
    prices: dict[str, Decimal] = field(default_factory=dict)
    segment_limit: int = 10
    bind_ips: list[str] = field(default_factory=list)
    stopped: bool = False
    strict_auth: bool = False
    strict: bool = False  # strict mode: refuse what deviates from the document (core/conformance.py)
    can_read_reports: bool = True
    push_url: str = ""
    sensitive_words: list[str] = field(default_factory=list)
    created_at: float = 0.0
    limits: str = "warn"  # the vendor's sending limits (core/sendlimits.py): warn | enforce | off
    code_limit: int = 3  # at most this many messages with 验证码 to one number ...
    code_window: int = 180  # ... in this many seconds
    daily_limit: int = 10  # at most this many messages to one number per platform-zone day

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Account":
        return cls(
            name=row["name"],
            password=row["password"],
            userid=row["userid"],
            balance=Decimal(row["balance"]),
            pay_type=row["pay_type"],
            prices={k: Decimal(v) for k, v in json.loads(row["prices"]).items()},
            segment_limit=row["segment_limit"],
            bind_ips=[ip for ip in row["bind_ips"].split(",") if ip],
            stopped=bool(row["stopped"]),
            strict_auth=bool(row["strict_auth"]),
            strict=bool(row["strict"]),
            can_read_reports=bool(row["can_read_reports"]),
            push_url=row["push_url"],
            sensitive_words=json.loads(row["sensitive_words"]),
            created_at=row["created_at"],
            limits=row["limits"],
            code_limit=row["code_limit"],
            code_window=row["code_window"],
            daily_limit=row["daily_limit"],
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "password": self.password,
            "userid": self.userid,
            "balance": str(self.balance),
            "pay_type": self.pay_type,
            "prices": json.dumps({k: str(v) for k, v in self.prices.items()}, sort_keys=True),
            "segment_limit": self.segment_limit,
            "bind_ips": ",".join(self.bind_ips),
            "stopped": int(self.stopped),
            "strict_auth": int(self.strict_auth),
            "strict": int(self.strict),
            "can_read_reports": int(self.can_read_reports),
            "push_url": self.push_url,
            "sensitive_words": json.dumps(self.sensitive_words, ensure_ascii=False),
            "created_at": self.created_at,
            "limits": self.limits,
            "code_limit": self.code_limit,
            "code_window": self.code_window,
            "daily_limit": self.daily_limit,
        }


ACCOUNT_COLUMNS = [f.name for f in fields(Account)]

BALANCE = "SELECT balance, pay_type FROM accounts WHERE name=?"
SET_BALANCE = "UPDATE accounts SET balance=? WHERE name=?"


class Accounts(Cache):
    """Accounts and settings."""

    def cached_account(self, name: str) -> Account | None:
        """The account as ``get_account`` reads it, from this process's cache: every field is current except
        ``balance``, which may be older (read ``balance_of`` in the transaction that uses it)."""
        return self.cached(("account", name), lambda: self.get_account(name))

    # -- settings --------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return row["value"] if row else default

    def all_settings(self, db: sqlite3.Connection | None = None) -> dict[str, str]:
        """Every setting in one SELECT (a send needs the clock offset, the rules and the delivery settings)."""
        return {key: value for key, value in (db or self.db).execute("SELECT key, value FROM settings")}

    def set_setting(self, key: str, value: str, db: sqlite3.Connection | None = None) -> None:
        (db or self.db).execute(
            "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    # -- accounts --------------------------------------------------------
    def get_account(self, name: str, db: sqlite3.Connection | None = None) -> Account | None:
        row = (db or self.db).execute("SELECT * FROM accounts WHERE name=?", (name,)).fetchone()
        return Account.from_row(row) if row else None

    def list_accounts(self) -> list[Account]:
        return [Account.from_row(r) for r in self.db.execute("SELECT * FROM accounts ORDER BY name")]

    def insert_account(self, account: Account) -> None:
        row = account.to_row()
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self.write() as db:
            db.execute(f"INSERT INTO accounts ({cols}) VALUES ({marks})", tuple(row.values()))

    def save_account(self, account: Account, db: sqlite3.Connection | None = None) -> None:
        row = account.to_row()
        assignments = ", ".join(f"{c}=?" for c in row if c != "name")
        values = [v for c, v in row.items() if c != "name"] + [account.name]
        if db is not None:
            db.execute(f"UPDATE accounts SET {assignments} WHERE name=?", values)
            return
        with self.write() as tx:
            tx.execute(f"UPDATE accounts SET {assignments} WHERE name=?", values)

    def set_balance(self, db: sqlite3.Connection, name: str, balance: Decimal) -> None:
        db.execute(SET_BALANCE, (str(balance), name))

    def balance_of(self, db: sqlite3.Connection, name: str) -> tuple[Decimal, str] | None:
        """The account's balance and pay type as they are now (inside a send's transaction: under the write
        lock, so nothing can change them before its debit); None when there is no such account."""
        row = db.execute(BALANCE, (name,)).fetchone()
        return None if row is None else (Decimal(row[0]), row[1])
