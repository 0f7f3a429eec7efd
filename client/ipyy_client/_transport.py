"""The one thing the two client flavours do differently: post a ``Call`` and hand its reply back.

``SyncTransport`` posts with a ``requests.Session`` (what zeep's own sync transport is built on, and what
callers already share between SoapClient and HttpClient); ``AsyncTransport`` with an
``httpx.AsyncClient`` (what zeep's async transport is built on). Each sorts its library's exceptions into
the shared ``Failure`` words; the retry rule, the error texts and the reading of replies are ``_wire``'s
and the clients' shared code, never written here twice.

Neither follows redirects (a POST turned into a GET loses the request; the client names the new address
instead) and both put the client's timeout on every request, so a borrowed session or client without
one cannot make a call wait forever.
"""

from __future__ import annotations

import ssl
import time
from typing import Any, TypeVar

import httpx
import requests

from ipyy_client._common import package_version, root_cause
from ipyy_client._wire import Call, Failure, Reply, retry_delay

T = TypeVar("T")


def _pause(seconds: float) -> None:
    """The sync back-off (a module function so tests can watch the retries happen)."""
    time.sleep(seconds)


async def _async_pause(seconds: float) -> None:
    """The async back-off: anyio's sleep, so the client runs under asyncio and trio alike (imported here:
    only a retry needs it)."""
    import anyio

    await anyio.sleep(seconds)


# --- sorting each library's exceptions into the shared words ----------------------------------------


def requests_failure(exc: requests.RequestException) -> Failure:
    """What a requests exception means for the retry rule and the error text."""
    if isinstance(exc, requests.ConnectTimeout):
        return Failure.UNSENT
    if isinstance(exc, requests.exceptions.SSLError):
        return Failure.TLS
    if isinstance(exc, requests.exceptions.ProxyError):
        return Failure.OTHER
    if isinstance(exc, requests.Timeout):
        return Failure.TIMEOUT
    if isinstance(exc, requests.ConnectionError):
        return Failure.UNSENT if _never_connected(exc) else Failure.BROKEN
    return Failure.OTHER


def _never_connected(exc: BaseException) -> bool:
    """True when urllib3 says the connection itself failed (refused, DNS, connect timeout).

    A read timeout, a reset after connecting or a TLS failure are not counted: the request (or part of
    it) may have been sent.
    """
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (NewConnectionError, ConnectTimeoutError)):
            return True
        if isinstance(item, BaseException):
            stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None), *item.args])
    return False


def httpx_failure(exc: Exception) -> Failure:
    """What an httpx exception means for the retry rule and the error text.

    httpx names the phases itself: a connect error or connect/pool timeout happened before a byte of the
    request left; a read/write timeout, a read/write error or a reply that is not HTTP happened after.
    A TLS failure arrives as a ConnectError carrying an ``ssl.SSLError``.
    """
    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        return Failure.UNSENT
    if isinstance(exc, httpx.TimeoutException):
        return Failure.TIMEOUT
    if isinstance(exc, httpx.ProxyError):
        return Failure.OTHER
    if isinstance(exc, httpx.ConnectError):
        return Failure.TLS if _is_tls(exc) else Failure.UNSENT
    if isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.CloseError)):
        return Failure.BROKEN
    return Failure.OTHER


def _is_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def httpx_cause(exc: Exception) -> str:
    """A short reason for an httpx exception (its own text is often empty for timeouts)."""
    if isinstance(exc, httpx.PoolTimeout):
        return "no free connection in the client's pool in time"
    text = root_cause(exc)
    if isinstance(exc, httpx.TimeoutException) and text == type(exc).__name__:
        return "timed out"
    return text


# --- the transports ----------------------------------------------------------------------------------


class SyncTransport:
    """Posts calls with a ``requests.Session``: the client's own (closed by ``close``) or a borrowed one."""

    def __init__(
        self, session: requests.Session | None, *, timeout: float, retries: int = 0, backoff: float = 0.5
    ) -> None:
        if session is not None and not isinstance(session, requests.Session):
            raise TypeError(f"session must be a requests.Session, not {type(session).__name__}")
        self.owns = session is None
        self.session = session if session is not None else requests.Session()
        if self.owns:
            agent = self.session.headers.get("User-Agent", "")
            agent = agent.decode("latin-1") if isinstance(agent, bytes) else agent
            self.session.headers["User-Agent"] = f"ipyy-sms/{package_version()} {agent}".rstrip()
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def run(self, call: Call[T]) -> T:
        """Post ``call`` (trying again as its retry rule allows) and read the reply."""
        return call.read(self.exchange(call))

    def exchange(self, call: Call[Any]) -> Reply:
        attempt = 0
        while True:
            try:
                response = self.session.post(
                    call.url,
                    data=call.form if call.form is not None else call.body,
                    headers=call.headers or None,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                failure = requests_failure(exc)
                delay = retry_delay(call.retry, failure, attempt, self.retries, self.backoff)
                if delay is None:
                    raise call.failed(failure, root_cause(exc), attempt + 1) from None
                _pause(delay)
                attempt += 1
                continue
            return Reply(response.status_code, response.headers, response.content, response.encoding)

    def close(self) -> None:
        if self.owns:
            self.session.close()


class AsyncTransport:
    """Posts calls with an ``httpx.AsyncClient``: the client's own (closed by ``aclose``) or a borrowed one.

    One AsyncClient is one connection pool: many concurrent calls from one event loop share its kept-alive
    connections (httpx's default limit is 100 connections; pass your own client to change it).
    """

    def __init__(
        self, client: httpx.AsyncClient | None, *, timeout: float, retries: int = 0, backoff: float = 0.5
    ) -> None:
        if client is not None and not isinstance(client, httpx.AsyncClient):
            raise TypeError(f"session must be an httpx.AsyncClient, not {type(client).__name__}")
        self.owns = client is None
        self.client = (
            client
            if client is not None
            else httpx.AsyncClient(
                headers={"User-Agent": f"ipyy-sms/{package_version()} python-httpx/{httpx.__version__}"}
            )
        )
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    async def run(self, call: Call[T]) -> T:
        """Post ``call`` (trying again as its retry rule allows) and read the reply."""
        return call.read(await self.exchange(call))

    async def exchange(self, call: Call[Any]) -> Reply:
        attempt = 0
        while True:
            try:
                if call.form is not None:
                    response = await self.client.post(
                        call.url,
                        data=call.form,
                        headers=call.headers or None,
                        timeout=self.timeout,
                        follow_redirects=False,
                    )
                else:
                    response = await self.client.post(
                        call.url,
                        content=call.body,
                        headers=call.headers or None,
                        timeout=self.timeout,
                        follow_redirects=False,
                    )
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                failure = httpx_failure(exc)
                delay = retry_delay(call.retry, failure, attempt, self.retries, self.backoff)
                if delay is None:
                    raise call.failed(failure, httpx_cause(exc), attempt + 1) from None
                await _async_pause(delay)
                attempt += 1
                continue
            return Reply(response.status_code, response.headers, response.content, response.encoding)

    async def aclose(self) -> None:
        if self.owns:
            await self.client.aclose()
