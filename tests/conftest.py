"""Shared fixtures: one real mock server per test session, a fresh account per test.

Tests that need PHP or a browser get the ``php`` / ``browser`` marker from the
fixture they ask for, so ``-m 'not browser'`` can never miss one.
"""

from __future__ import annotations

import pytest

from support import flavours
from support.mockproc import MockProcess


@pytest.fixture(scope="session")
def mock_server(tmp_path_factory):
    server = MockProcess(tmp_path_factory.mktemp("mock") / "mock.db").start()
    yield server
    server.stop()


@pytest.fixture
def account(mock_server):
    """A new prepaid account like the demo one: balance 100.00, 86 at 0.05, others 0.30."""
    return mock_server.new_account()


FIXTURE_MARKERS = {"php": "php", "browser": "browser"}


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
