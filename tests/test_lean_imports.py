"""A mock worker loads no client transport, and ``ipyy_client`` loads its transports on first use.

Each check runs in a fresh interpreter: this process has long imported everything."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

TRANSPORTS = ("zeep", "httpx", "requests", "ipyy_client.soap", "ipyy_client.http", "ipyy_client.aio")


def loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nimport json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", ["ipyy_mock.app", "ipyy_mock.server.run", "ipyy_mock.core.platform"])
def test_a_mock_worker_imports_no_client_transport(module: str) -> None:
    loaded = loaded_after(f"import {module}")
    assert module in loaded
    assert not loaded & set(TRANSPORTS), sorted(loaded & set(TRANSPORTS))


def test_result_codes_alone_do_not_load_the_transports() -> None:
    loaded = loaded_after("from ipyy_client import ResultCode; assert ResultCode.OK")
    assert not loaded & set(TRANSPORTS)


def test_every_public_name_still_loads_on_first_use() -> None:
    loaded = loaded_after(
        "import ipyy_client\nfor name in ipyy_client.__all__: getattr(ipyy_client, name)\n"
        "assert ipyy_client.SoapClient.__module__ == 'ipyy_client.soap'"
    )
    assert {"zeep", "ipyy_client.soap", "ipyy_client.http", "ipyy_client.aio"} <= loaded


def test_an_unknown_name_is_an_attribute_error() -> None:
    import ipyy_client

    with pytest.raises(AttributeError, match="no attribute 'SmsClient'"):
        ipyy_client.SmsClient  # noqa: B018
    assert "SoapClient" in dir(ipyy_client)
