"""What only the async twins have: many concurrent calls from one event loop, ``async with``, their session type.

Everything else (every method, error and retry rule) runs through both flavours in the sync clients' own
test files (the ``flavour`` fixture). These tests are native async tests (anyio's pytest plugin: asyncio,
and trio where it is installed) against the real mock over the wire.
"""

from __future__ import annotations

from decimal import Decimal

import anyio
import httpx
import pytest
import requests

from ipyy_client import (
    AsyncDomesticClient,
    AsyncHttpClient,
    AsyncSoapClient,
    DomesticClient,
    HttpClient,
    SoapClient,
    errors,
)
from ipyy_client.encoding import md5_password

pytestmark = pytest.mark.anyio
TEXT = "并发【华信】"
CONCURRENT = 100


def make(kind: str, base_url: str, name: str, password: str, **kwargs):
    if kind == "domestic":
        return AsyncDomesticClient(name, password, base_url=base_url, timeout=30, **kwargs)
    if kind == "http":
        return AsyncHttpClient(name, password, base_url=base_url, timeout=30, **kwargs)
    return AsyncSoapClient(name, password, base_url, soap_version=12 if kind == "soap12" else 11, timeout=30, **kwargs)


async def send(client, mobile: str):
    if isinstance(client, AsyncDomesticClient):
        return await client.send(mobile[2:], TEXT, fmt="json")
    if isinstance(client, AsyncHttpClient):
        return await client.send(mobile, TEXT)
    return await client.send_i18n_sms(mobile, TEXT)


@pytest.mark.parametrize("kind", ["soap11", "soap12", "http", "domestic"])
async def test_a_hundred_concurrent_sends_keep_exact_books(mock_server, kind):
    """100 sends at once from one event loop and one connection pool: 100 tasks, each charged once.

    Every send's reply carries the balance after it; with exact books the hundred balances are exactly
    100.00 - 0.05 * k for k = 1..100 (each debit saw the one before it), and the account ends at 95.00
    (a domestic send reports points instead: 2000 - k).
    """
    account = mock_server.new_account()
    results: list = []
    async with make(kind, mock_server.base_url, account.name, account.password) as client:

        async def one(i: int) -> None:
            results.append(await send(client, f"86150{i:08d}"))

        async with anyio.create_task_group() as group:
            for i in range(CONCURRENT):
                group.start_soon(one, i)
    assert len(results) == CONCURRENT and all(r.ok for r in results), [r for r in results if not r.ok][:3]
    task_ids = {r.task_id for r in results}
    assert len(task_ids) == CONCURRENT
    if kind == "domestic":
        assert sorted((r.remain_points for r in results), reverse=True) == [2000 - k for k in range(1, CONCURRENT + 1)]
    else:
        assert sorted((r.balance for r in results), reverse=True) == [
            Decimal("100.00") - Decimal("0.05") * k for k in range(1, CONCURRENT + 1)
        ]
        assert all(r.billing_amount == Decimal("0.05") for r in results)
    assert mock_server.balance(account.name) == Decimal("95.00")
    store = mock_server.platform().store
    try:
        messages = store.messages(account=account.name)
    finally:
        store.close()
    assert len(messages) == CONCURRENT
    assert {m["task_id"] for m in messages} == task_ids


async def test_concurrent_pulls_hand_each_report_out_once(mock_server):
    """Ten pulls at once share out the hundred reports: none twice, none lost."""
    account = mock_server.new_account()
    async with make("http", mock_server.base_url, account.name, account.password) as client:
        sent = [await client.send(f"86151{i:08d}", TEXT) for i in range(CONCURRENT)]
        pulled: list = []

        async def pull() -> None:
            pulled.extend(await client.status_reports(limit=15))

        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(pull)
        pulled.extend(await client.status_reports())  # whatever the ten left (at most 100 - 10 * 15 < 0: none)
    keys = [(r.task_id, r.mobile) for r in pulled]
    assert len(keys) == len(set(keys)) == CONCURRENT
    assert {r.task_id for r in pulled} == {s.task_id for s in sent}


async def test_async_with_closes_its_own_pool_and_leaves_a_borrowed_one_open(mock_server):
    account = mock_server.new_account()
    for kind in ("soap11", "http", "domestic"):
        async with make(kind, mock_server.base_url, account.name, account.password) as client:
            assert (await send(client, "8613800138000")).ok
            pool = client._session
            assert isinstance(pool, httpx.AsyncClient) and not pool.is_closed
        assert pool.is_closed
        async with httpx.AsyncClient() as borrowed:
            async with make(kind, mock_server.base_url, account.name, account.password, session=borrowed) as client:
                assert (await send(client, "8613800138000")).ok
            assert not borrowed.is_closed  # the caller's to close
            assert (
                await send(
                    make(kind, mock_server.base_url, account.name, account.password, session=borrowed), "8613800138000"
                )
            ).ok
        client = make(kind, mock_server.base_url, account.name, account.password)
        await client.close()  # the sync twin's name, awaited
        assert client._session.is_closed
    assert mock_server.balance(account.name) == Decimal("99.55")


async def test_the_async_twins_take_the_sync_twins_arguments_and_refuse_a_requests_session():
    password = "Pw-123456!"
    soap = AsyncSoapClient("acct", password, "http://gw.invalid/", soap_version=12)
    http = AsyncHttpClient("acct", password, "7", "http://gw.invalid/", retries=0, zone="UTC")
    assert soap.endpoint == "http://gw.invalid/WebService.asmx" and soap.timeout == 30
    assert (http.base_url, http.userid, http.retries, http.timeout) == ("http://gw.invalid", "7", 0, 30)
    for client in (soap, http):
        for secret in (password, md5_password(password), md5_password(password).lower()):
            assert secret not in repr(client)
        await client.aclose()
    assert repr(soap).startswith("AsyncSoapClient(") and repr(http).startswith("AsyncHttpClient(")
    for bad in (
        lambda: AsyncSoapClient("a", "b", soap_version=13),
        lambda: AsyncSoapClient("a", "b", "x"),
        lambda: AsyncHttpClient("a", "b", "http://127.0.0.1:1"),
        lambda: AsyncHttpClient("a", "b", retries=-1),
        lambda: AsyncHttpClient("a", "b", timeout=0),
    ):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(TypeError, match="httpx.AsyncClient"):
        AsyncHttpClient("a", "b", session=requests.Session())
    with pytest.raises(TypeError, match="httpx.AsyncClient"):
        AsyncSoapClient("a", "b", session=requests.Session())
    with pytest.raises(TypeError, match="httpx.AsyncClient"):
        AsyncDomesticClient("a", "b", session=requests.Session())
    async with httpx.AsyncClient() as pool:
        with pytest.raises(TypeError, match="requests.Session"):
            HttpClient("a", "b", session=pool)
        with pytest.raises(TypeError, match="requests.Session"):
            SoapClient("a", "b", session=pool)
        with pytest.raises(TypeError, match="requests.Session"):
            DomesticClient("a", "b", session=pool)


async def test_arguments_are_checked_before_anything_is_sent():
    """Bad arguments raise at the call, before a connection is made (the address is unroutable on purpose)."""
    async with AsyncHttpClient("a", "b", base_url="http://127.0.0.1:9", retries=0) as http:
        with pytest.raises(TypeError):
            await http.send("8613800138000", b"bytes")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await http.status_reports(limit=0)
        with pytest.raises(ValueError):
            await http.change_password("x" * 21)
    async with AsyncSoapClient("a", "b", "http://127.0.0.1:9") as soap:
        with pytest.raises(ValueError, match="U\\+0001"):
            await soap.send_i18n_sms("8613800138000", "a\x01【y】")
        with pytest.raises(errors.TransportError, match="cannot connect"):
            await soap.send_i18n_sms("8613800138000", "x【y】")
