"""Async twins of the clients, for services that send SMS from an event loop (FastAPI, aiohttp, anyio/trio).

``AsyncSoapClient``, ``AsyncHttpClient`` and ``AsyncDomesticClient`` have the sync clients' methods, awaited
(``await sms.send_i18n_sms(...)``), with the same results, the same exceptions and the same rules:
timeouts on by default, a send never retried, pulls retried only when no connection was made,
passwords masked in every error, DTDs refused. They are the sync clients' own code: ``SoapWire``,
``HttpWire`` and ``DomesticWire`` build each request and read each reply; only the post differs (``httpx.AsyncClient``
here, see ``_transport.AsyncTransport``). ``async with`` closes the connection pool.

One client holds one connection pool, so create it once (at application start-up) and share it
between requests and tasks; it is safe to use from many tasks of one event loop at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Literal

import httpx

from ipyy_client._common import DEFAULT_BASE_URL, DEFAULT_ZONE
from ipyy_client._transport import AsyncTransport
from ipyy_client.domestic import DomesticWire
from ipyy_client.http import MAX_PULL, HttpWire
from ipyy_client.results import Balance, DomesticSendResult, HttpSendResult, PointsBalance, Report, SendResult, Uplink
from ipyy_client.soap import SoapWire

__all__ = ["AsyncSoapClient", "AsyncHttpClient", "AsyncDomesticClient"]


class AsyncSoapClient(SoapWire):
    """The async twin of ``SoapClient`` (``WebService.asmx``, SOAP 1.1 or 1.2, the packaged WSDL).

    >>> async with AsyncSoapClient("demo", "demo123", "http://127.0.0.1:8080") as sms:   # doctest: +SKIP
    ...     (await sms.send_i18n_sms("8613800138000", "验证码 1234【华信】")).raise_for_status().msg_id

    ``session`` lets you share an ``httpx.AsyncClient`` (proxies, TLS, pool limits); one passed in is
    left open by ``aclose()``, one created here is closed.
    """

    def __init__(
        self,
        account: str,
        password: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        soap_version: Literal[11, 12] = 11,
        timeout: float = 30.0,
        session: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(account, password, base_url, soap_version=soap_version, timeout=timeout)
        self._transport = AsyncTransport(session, timeout=timeout)
        self._session = self._transport.client

    async def send_sms(
        self,
        msisdns: str | Iterable[str | int],
        content: str,
        plan_send_time: datetime | None = None,
        ext_number: str | int | None = None,
    ) -> SendResult:
        """``SendSms``, the domestic send (see ``SoapClient.send_sms``). Never retried."""
        return await self._transport.run(self._send_call("SendSms", msisdns, content, plan_send_time, ext_number))

    async def send_i18n_sms(
        self,
        msisdns: str | Iterable[str | int],
        content: str,
        plan_send_time: datetime | None = None,
        ext_number: str | int | None = None,
    ) -> SendResult:
        """``SendI18NSms`` (see ``SoapClient.send_i18n_sms``). Never retried."""
        return await self._transport.run(self._send_call("SendI18NSms", msisdns, content, plan_send_time, ext_number))

    async def send_hybrid_sms(
        self,
        msisdns: str | Iterable[str | int],
        content: str,
        plan_send_time: datetime | None = None,
        ext_number: str | int | None = None,
    ) -> SendResult:
        """``SendHybridSms``: like ``send_i18n_sms`` but also takes Chinese 11-digit numbers."""
        return await self._transport.run(self._send_call("SendHybridSms", msisdns, content, plan_send_time, ext_number))

    async def aclose(self) -> None:
        """Close the connection pool if this client created it."""
        await self._transport.aclose()

    close = aclose  # the sync twin's name, awaited

    async def __aenter__(self) -> AsyncSoapClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class AsyncHttpClient(HttpWire):
    """The async twin of ``HttpClient`` (``I18NSms.aspx``, ``statusApi.aspx``, ``callApi.aspx``, ``pwd.aspx``).

    >>> async with AsyncHttpClient("demo", "demo123", base_url="http://127.0.0.1:8080") as sms:  # doctest: +SKIP
    ...     (await sms.send("8613800138000", "验证码 1234【华信】")).raise_for_status().task_id
    ...     await sms.status_reports()

    Options as ``HttpClient``'s; ``session`` is an ``httpx.AsyncClient`` to share (left open by ``aclose()``).
    """

    def __init__(
        self,
        account: str,
        password: str,
        userid: str = "",
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        session: httpx.AsyncClient | None = None,
        retries: int = 2,
        zone: str | tzinfo = DEFAULT_ZONE,
        retry_backoff: float = 0.5,
    ) -> None:
        super().__init__(
            account,
            password,
            userid,
            base_url,
            timeout=timeout,
            retries=retries,
            zone=zone,
            retry_backoff=retry_backoff,
        )
        self._transport = AsyncTransport(session, timeout=timeout, retries=retries, backoff=retry_backoff)
        self._session = self._transport.client

    async def send(
        self,
        mobiles: str | Iterable[str | int],
        content: str,
        send_time: datetime | None = None,
        extno: str | int | None = None,
    ) -> HttpSendResult:
        """``I18NSms.aspx?action=send`` (see ``HttpClient.send``). A failure is returned; never retried."""
        return await self._transport.run(self._send_call(mobiles, content, send_time, extno))

    async def balance(self) -> Balance:
        """``I18NSms.aspx?action=overage``. Retried when no connection was made or the connection broke."""
        return await self._transport.run(self._balance_call())

    async def status_reports(
        self, task_id: int | None = None, limit: int = MAX_PULL, fmt: Literal["xml", "json"] = "xml"
    ) -> list[Report]:
        """Pull delivery reports, oldest first; each handed out once, so retried only when no connection was made."""
        return await self._transport.run(self._reports_call(task_id, limit, fmt))

    async def uplinks(self, limit: int = MAX_PULL, fmt: Literal["xml", "json"] = "xml") -> list[Uplink]:
        """Pull uplinks (MO replies), oldest first; each handed out once, so retried only when no connection was made."""
        return await self._transport.run(self._uplinks_call(limit, fmt))

    async def change_password(self, new: str) -> None:
        """``pwd.aspx``: set a new password (1-20 characters); on success this client uses it from now on."""
        await self._transport.run(self._password_call(new))

    async def aclose(self) -> None:
        """Close the connection pool if this client created it."""
        await self._transport.aclose()

    close = aclose  # the sync twin's name, awaited

    async def __aenter__(self) -> AsyncHttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class AsyncDomesticClient(DomesticWire):
    """The async twin of ``DomesticClient`` (``sms.aspx`` / ``smsJson.aspx``, plus the shared report, uplink and
    password endpoints).

    >>> async with AsyncDomesticClient("demo", "demo123", base_url="http://127.0.0.1:8080") as sms:  # doctest: +SKIP
    ...     (await sms.send("13800138000", "验证码 1234【华信】", fmt="json")).raise_for_status().remain_points

    Options as ``DomesticClient``'s; ``session`` is an ``httpx.AsyncClient`` to share (left open by ``aclose()``).
    """

    def __init__(
        self,
        account: str,
        password: str,
        userid: str = "",
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        session: httpx.AsyncClient | None = None,
        retries: int = 2,
        zone: str | tzinfo = DEFAULT_ZONE,
        retry_backoff: float = 0.5,
    ) -> None:
        super().__init__(
            account,
            password,
            userid,
            base_url,
            timeout=timeout,
            retries=retries,
            zone=zone,
            retry_backoff=retry_backoff,
        )
        self._transport = AsyncTransport(session, timeout=timeout, retries=retries, backoff=retry_backoff)
        self._session = self._transport.client

    async def send(
        self,
        mobiles: str | Iterable[str | int],
        content: str,
        send_time: datetime | None = None,
        extno: str | int | None = None,
        *,
        fmt: Literal["xml", "json"] = "xml",
    ) -> DomesticSendResult:
        """``action=send`` (see ``DomesticClient.send``). A refusal is returned; never retried."""
        return await self._transport.run(self._domestic_send_call(mobiles, content, send_time, extno, fmt))

    async def balance(self, *, fmt: Literal["xml", "json"] = "xml") -> PointsBalance:
        """``action=overage``: points left and recharged. Retried when no connection was made or it broke."""
        return await self._transport.run(self._points_call(fmt))

    async def status_reports(
        self, task_id: int | None = None, limit: int = MAX_PULL, fmt: Literal["xml", "json"] = "xml"
    ) -> list[Report]:
        """Delivery reports of domestic and international sends alike; each handed out once."""
        return await self._transport.run(self._reports_call(task_id, limit, fmt))

    async def uplinks(self, limit: int = MAX_PULL, fmt: Literal["xml", "json"] = "xml") -> list[Uplink]:
        """Uplinks (MO replies), each handed out once."""
        return await self._transport.run(self._uplinks_call(limit, fmt))

    async def change_password(self, new: str) -> None:
        """``pwd.aspx``; this client uses the new password from now on."""
        await self._transport.run(self._password_call(new))

    async def aclose(self) -> None:
        """Close the connection pool if this client created it."""
        await self._transport.aclose()

    close = aclose  # the sync twin's name, awaited

    async def __aenter__(self) -> AsyncDomesticClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
