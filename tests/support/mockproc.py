"""Start the real mock the way a user does (the ``ipyy-mock serve`` console script) on a free port.

The process handling is the package's own (``ipyy_mock.testing.process``, which the
pytest plugin uses too); this adds direct access to the SQLite file for checks.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from decimal import Decimal

from ipyy_mock.core.platform import DEMO_ACCOUNT, Platform
from ipyy_mock.core.store import Account
from ipyy_mock.testing.process import MockServerProcess, console_script  # noqa: F401 (console_script: re-exported for tests)

_names = itertools.count(1)


@dataclass
class MockProcess(MockServerProcess):
    # -- state, through the same SQLite file the server uses ----------------
    def platform(self) -> Platform:
        return Platform(self.db_path)

    def new_account(self, **overrides) -> Account:
        values = {
            **DEMO_ACCOUNT.__dict__,
            "name": f"acct{os.getpid()}x{next(_names)}",
            "password": "s3cret!",
            "created_at": time.time(),
            **overrides,
        }
        values["prices"] = dict(values["prices"])
        values["sensitive_words"] = list(values["sensitive_words"])
        account = Account(**values)
        store = self.platform().store
        store.insert_account(account)
        store.close()
        return account

    def account(self, name: str) -> Account:
        store = self.platform().store
        try:
            return store.get_account(name)
        finally:
            store.close()

    def balance(self, name: str) -> Decimal:
        return self.account(name).balance
