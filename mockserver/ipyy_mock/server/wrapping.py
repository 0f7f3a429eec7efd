"""The base of the middlewares around the mock's app (the journal, fault injection, a worker's hold until open):
what the edge and the tests reach through a wrapper, forwarded by name.

Why by name: a ``__getattr__`` pass-through let a misspelt or new name through silently. Here an attribute the
wrapped app lacks raises AttributeError (so the edge's ``getattr(app, name, None)`` sees its absence), and a
wrapper that owns one (the journal's ``journal_store``, the fault middleware's ``latency``) defines its own.
"""

from __future__ import annotations

from typing import Any


class AppWrapper:
    """Forwards ``platform``, ``endpoints``, ``url_map``, ``journal_store``, ``latency`` and ``close()`` to
    ``self.app``, the app it wraps."""

    app: Any

    platform = property(lambda self: self.app.platform, doc="The MockApp's Platform (the edge, tests).")
    endpoints = property(lambda self: self.app.endpoints, doc="The MockApp's surfaces (the edge finds admin).")
    url_map = property(lambda self: self.app.url_map, doc="The MockApp's werkzeug routes (tests).")
    journal_store = property(lambda self: self.app.journal_store, doc="The journal's store, grouped by the edge.")
    latency = property(lambda self: self.app.latency, doc="FaultMiddleware.latency, which the edge awaits.")

    def close(self) -> None:
        """Close the wrapped app (its push runner) when the worker stops."""
        close = getattr(self.app, "close", None)
        if close is not None:
            close()
