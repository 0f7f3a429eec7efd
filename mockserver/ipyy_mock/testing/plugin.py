"""pytest plugin (entry point ``pytest11``): the ``ipyy_mock`` fixture.

One real mock server per test session (started as ``ipyy-mock serve``), reset
to a fresh state before each test through the admin API (a few DELETEs in one
transaction, not a new process), and a handle with everything a test needs::

    def test_welcome_sms(ipyy_mock):
        client = ipyy_mock.soap_client()
        client.send_i18n_sms("8613800138000", "欢迎【华信】").raise_for_status()
        [message] = ipyy_mock.messages(mobile="8613800138000")
        assert message["content"] == "欢迎【华信】"
"""

from __future__ import annotations

import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from ipyy_mock.core.platform import DEMO_ACCOUNT
from ipyy_mock.testing.process import MockServerProcess, free_port


class AdminError(AssertionError):
    """The admin API refused a fixture call; the message carries its error and hint."""


class IpyyMock:
    """What a test holds: the base URL, the demo credentials, clients, and the admin API as methods."""

    def __init__(
        self,
        base_url: str,
        account: str = DEMO_ACCOUNT.name,
        password: str = DEMO_ACCOUNT.password,
        admin_token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.account = account
        self.password = password
        self.session = requests.Session()
        if admin_token:  # a mock started with a token wants it from every caller
            self.session.headers["X-Admin-Token"] = admin_token

    # -- clients -------------------------------------------------------
    def soap_client(self, **kwargs: Any):
        from ipyy_client import SoapClient

        return SoapClient(
            kwargs.pop("account", self.account), kwargs.pop("password", self.password), base_url=self.base_url, **kwargs
        )

    def http_client(self, **kwargs: Any):
        from ipyy_client import HttpClient

        return HttpClient(
            kwargs.pop("account", self.account), kwargs.pop("password", self.password), base_url=self.base_url, **kwargs
        )

    def domestic_client(self, **kwargs: Any):
        """A DomesticClient (``sms.aspx`` / ``smsJson.aspx``) of the demo account on this mock."""
        from ipyy_client import DomesticClient

        return DomesticClient(
            kwargs.pop("account", self.account), kwargs.pop("password", self.password), base_url=self.base_url, **kwargs
        )

    def async_soap_client(self, **kwargs: Any):
        """An AsyncSoapClient of the demo account on this mock (``async with`` it, or ``await c.aclose()``)."""
        from ipyy_client import AsyncSoapClient

        return AsyncSoapClient(
            kwargs.pop("account", self.account), kwargs.pop("password", self.password), base_url=self.base_url, **kwargs
        )

    def async_http_client(self, **kwargs: Any):
        """An AsyncHttpClient of the demo account on this mock (``async with`` it, or ``await c.aclose()``)."""
        from ipyy_client import AsyncHttpClient

        return AsyncHttpClient(
            kwargs.pop("account", self.account), kwargs.pop("password", self.password), base_url=self.base_url, **kwargs
        )

    def async_domestic_client(self, **kwargs: Any):
        """An AsyncDomesticClient of the demo account on this mock (``async with`` it, or ``await c.aclose()``)."""
        from ipyy_client import AsyncDomesticClient

        return AsyncDomesticClient(
            kwargs.pop("account", self.account), kwargs.pop("password", self.password), base_url=self.base_url, **kwargs
        )

    # -- admin API -----------------------------------------------------
    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self.session.request(method, f"{self.base_url}/_mock/api/{path.lstrip('/')}", timeout=30, **kwargs)
        try:
            body = reply.json() if reply.content else None
        except ValueError:
            body = reply.text
        if reply.status_code >= 400:
            raise AdminError(f"{method} /_mock/api/{path} → {reply.status_code}: {body}")
        return body

    def reset(self) -> None:
        """Fresh state: only the demo account (balance 100.00), default rules, real time, empty journal."""
        self.api("POST", "reset")

    def messages(
        self,
        mobile: str | None = None,
        task_id: int | None = None,
        account: str | None = None,
        status: str | None = None,
    ) -> list[dict]:
        params = {"account": account or self.account, "mobile": mobile, "task_id": task_id, "status": status}
        return self.api("GET", "messages", params={k: v for k, v in params.items() if v is not None})["messages"]

    def reports(self, account: str | None = None) -> list[dict]:
        """Every report the platform produced for the account (consumed or not): the mock's view, not a pull."""
        return self.api("GET", "reports", params={"account": account or self.account})["reports"]

    def inject_uplink(self, mobile: str, content: str, extno: str = "", account: str | None = None) -> dict:
        return self.api(
            "POST",
            "uplinks",
            json={"account": account or self.account, "mobile": mobile, "content": content, "extno": extno},
        )

    def advance(self, seconds: float) -> dict:
        """Move the platform clock forward: scheduled sends go out and delayed reports arrive, without sleeping."""
        return self.api("POST", "clock/advance", json={"seconds": seconds})

    def add_rule(
        self, pattern: str, outcome: str = "delivered", errorcode: str = "", delay: float | None = None, reply: str = ""
    ) -> dict:
        rule = {"pattern": pattern, "outcome": outcome, "errorcode": errorcode, "delay": delay, "reply": reply}
        return self.api("POST", "rules", json=rule)

    def set_balance(self, amount: Decimal | str | int, account: str | None = None) -> dict:
        return self.api("PATCH", f"accounts/{account or self.account}", json={"balance": str(amount)})

    def update_account(self, account: str | None = None, **changes: Any) -> dict:
        return self.api("PATCH", f"accounts/{account or self.account}", json=changes)

    def create_account(self, name: str, password: str, **settings: Any) -> dict:
        return self.api("POST", "accounts", json={"name": name, "password": password, **settings})

    def balance(self, account: str | None = None) -> Decimal:
        return Decimal(self.api("GET", f"accounts/{account or self.account}")["balance"])

    def requests(self, **filters: Any) -> list[dict]:
        """The request journal, newest first (passwords masked)."""
        return self.api("GET", "journal", params=filters)["entries"]

    def fail_next(
        self, kind: str, endpoint: str = "*", count: int | None = 1, value: Any = None, probability: float = 1.0
    ) -> dict:
        """Inject a fault: ``fail_next("code", "soap", value="InternalError")``, ``fail_next("http_503")``..."""
        return self.api(
            "POST",
            "faults",
            json={"endpoint": endpoint, "kind": kind, "value": value, "count": count, "probability": probability},
        )

    def warnings(self, **filters: Any) -> list[dict]:
        """Conformance warnings since this test's reset, newest first: each a dict with ``code``, ``detail``,
        ``rule`` and ``fix`` (filters: account, code, since, task_id)."""
        return self.api("GET", "warnings", params=filters)["warnings"]

    def assert_no_warnings(self, **filters: Any) -> None:
        """Fail the test if the code under test sent anything the vendor's document does not allow (opt-in:
        the vendor accepts these requests, so they are not errors by default)."""
        found = self.warnings(**filters)
        if found:
            lines = "\n".join(f"  {w['code']}: {w['detail']} -> {w['fix']}" for w in found)
            raise AssertionError(f"{len(found)} conformance warning(s) (docs/contract.md):\n{lines}")

    def limits(self, mobile: str | None = None, account: str | None = None) -> list[dict]:
        """The sending-limit counters (core/sendlimits.py) of the account's numbers, or of one number."""
        params = {"account": account or self.account, "mobile": mobile}
        return self.api("GET", "limits", params={k: v for k, v in params.items() if v is not None})["counters"]

    def reset_limits(self, mobile: str | None = None, account: str | None = None) -> int:
        """Forget the sending-limit counters of the account (or of one number, international form) so that the
        next sends start from zero: e.g. between the steps of a test that sends many codes to one number."""
        params = {"account": account or self.account, "mobile": mobile}
        return self.api("DELETE", "limits", params={k: v for k, v in params.items() if v is not None})["reset"]

    def __repr__(self) -> str:
        return f"IpyyMock({self.base_url!r}, account={self.account!r})"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ipyy-mock", "ipyy-sms mock server (the ipyy_mock fixture)")
    options = [
        ("--ipyy-mock-port", "ipyy_mock_port", "port for the mock (default: a free one)"),
        ("--ipyy-mock-db", "ipyy_mock_db", "SQLite file for the mock (default: a temporary one)"),
        ("--ipyy-mock-url", "ipyy_mock_url", "use an already running mock at this base URL instead of starting one"),
        ("--ipyy-mock-workers", "ipyy_mock_workers", "worker processes (default 1)"),
        (
            "--ipyy-mock-admin-token",
            "ipyy_mock_admin_token",
            "admin token the mock wants (default: $IPYY_MOCK_ADMIN_TOKEN); a mock started here gets it too",
        ),
    ]
    for flag, ini, help_text in options:
        group.addoption(flag, dest=ini, default=None, help=help_text)
        parser.addini(ini, help_text, default=None)
    group.addoption(
        "--ipyy-mock-keep-state",
        dest="ipyy_mock_keep_state",
        action="store_true",
        default=None,
        help="do not reset the mock between tests",
    )
    parser.addini("ipyy_mock_keep_state", "do not reset the mock between tests", type="bool", default=False)


def _option(config: pytest.Config, name: str) -> Any:
    value = config.getoption(name)
    return value if value is not None else config.getini(name)


def _admin_token(config: pytest.Config) -> str | None:
    """The admin token: --ipyy-mock-admin-token, the ini value, else $IPYY_MOCK_ADMIN_TOKEN (what the server reads)."""
    return (_option(config, "ipyy_mock_admin_token") or os.environ.get("IPYY_MOCK_ADMIN_TOKEN") or "").strip() or None


@pytest.fixture(scope="session")
def ipyy_mock_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """The base URL of the session's mock: started here unless ``--ipyy-mock-url`` names a running one."""
    config = request.config
    url = _option(config, "ipyy_mock_url")
    if url:
        yield url
        return
    db = _option(config, "ipyy_mock_db")
    tmp = None
    if not db:
        tmp = tempfile.TemporaryDirectory(prefix="ipyy-mock-")
        db = str(Path(tmp.name) / "mock.db")
    port = _option(config, "ipyy_mock_port")
    workers = int(_option(config, "ipyy_mock_workers") or 1)
    server = MockServerProcess(
        Path(db), workers=workers, port=int(port) if port else free_port(), admin_token=_admin_token(config)
    )
    server.start()
    try:
        yield server.base_url
    finally:
        server.stop()
        if tmp is not None:
            tmp.cleanup()


@pytest.fixture
def ipyy_mock(request: pytest.FixtureRequest, ipyy_mock_server: str) -> IpyyMock:
    """A running mock in a fresh state, and a handle to look at it and steer it."""
    handle = IpyyMock(ipyy_mock_server, admin_token=_admin_token(request.config))
    if not _option(request.config, "ipyy_mock_keep_state"):
        handle.reset()
    return handle
