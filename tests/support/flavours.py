"""One test body for both client flavours: the sync clients, and their async twins driven on one event loop.

``Flavour("async").http(...)`` builds an ``AsyncHttpClient`` and wraps it in ``Blocking``, whose methods
run the awaited ones to completion on the flavour's event loop (one loop per test, so the client's
connection pool lives on one loop). A test written against the sync client's API then checks the async
client over the same wire, with the same assertions, and no copy of the test exists.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from ipyy_client import AsyncDomesticClient, AsyncHttpClient, AsyncSoapClient, DomesticClient, HttpClient, SoapClient

NAMES = ("sync", "async")


class Blocking:
    """An async client whose coroutine methods are run to completion on ``runner`` when called."""

    def __init__(self, client: Any, runner: asyncio.Runner) -> None:
        self.client = client
        self._runner = runner

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.client, name)
        if inspect.iscoroutinefunction(value):

            def call(*args: Any, **kwargs: Any) -> Any:
                return self._runner.run(value(*args, **kwargs))

            return call
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("client", "_runner"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.client, name, value)

    def __enter__(self) -> Blocking:
        self._runner.run(self.client.__aenter__())
        return self

    def __exit__(self, *exc: object) -> None:
        self._runner.run(self.client.__aexit__(*exc))

    def __repr__(self) -> str:
        return repr(self.client)


class Flavour:
    """Makes clients of one flavour; ``close()`` shuts its event loop (the fixture does that)."""

    def __init__(self, name: str) -> None:
        assert name in NAMES
        self.name = name
        self.is_async = name == "async"
        self.runner = asyncio.Runner() if self.is_async else None
        self._made: list[Any] = []

    def soap(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrap(AsyncSoapClient(*args, **kwargs) if self.is_async else SoapClient(*args, **kwargs))

    def http(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrap(AsyncHttpClient(*args, **kwargs) if self.is_async else HttpClient(*args, **kwargs))

    def domestic(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrap(AsyncDomesticClient(*args, **kwargs) if self.is_async else DomesticClient(*args, **kwargs))

    def run(self, coro: Any) -> Any:
        assert self.runner is not None
        return self.runner.run(coro)

    def _wrap(self, client: Any) -> Any:
        self._made.append(client)
        if self.runner is None:
            return client
        return Blocking(client, self.runner)

    def close(self) -> None:
        for client in self._made:
            if self.runner is None:
                client.close()
            else:
                self.runner.run(client.aclose())
        if self.runner is not None:
            self.runner.close()

    def __repr__(self) -> str:
        return f"Flavour({self.name!r})"
