"""Shared fixtures: one real mock server per test session, a fresh account per test.

Tests that need PHP or a browser get the ``php`` / ``browser`` marker from the
fixture they ask for, so ``-m 'not browser'`` can never miss one.
"""

from __future__ import annotations

import os

import pytest

from support import asmx, flavours
from support.mockproc import MockProcess


@pytest.fixture(scope="session")
def mock_server(tmp_path_factory):
    server = MockProcess(tmp_path_factory.mktemp("mock") / "mock.db").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def asmx_oracle(tmp_path_factory):
    """The ASMX oracle of the real contract (tests/support/asmx.py), built once and started once per session."""
    missing = asmx.missing_tools()
    if missing:
        reason = f"Mono is not installed ({', '.join(missing)} missing)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}: scripts/test.sh installs mono-complete (as root)", pytrace=False)
        pytest.skip(f"{reason}; scripts/test.sh installs mono-complete when run as root")
    oracle = asmx.AsmxOracle(tmp_path_factory.mktemp("asmx-oracle")).start()
    yield oracle
    oracle.stop()


@pytest.fixture
def account(mock_server):
    """A new prepaid account like the demo one: balance 100.00, 86 at 0.05, others 0.30."""
    return mock_server.new_account()


FIXTURE_MARKERS = {"php": "php", "browser": "browser", "asmx_oracle": "asmx", "mono": "asmx", "axis": "axis"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


@pytest.fixture(params=flavours.NAMES)
def flavour(request):
    """The sync clients, then their async twins (tests/flavours.py): one test body checks both."""
    made = flavours.Flavour(request.param)
    yield made
    made.close()
