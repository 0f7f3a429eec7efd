"""What one request knows about itself (``Exchange``), built once and handed from layer to layer.

Why one object: WSGI's only channel between middlewares is the environ. What the server's edge, the router
and the surfaces learn about a request (its path lower-cased once, its endpoint, the whole body the edge read,
when it started, the caller, the account it speaks for, the conformance warnings and a send's result) travels
in one ``Exchange`` under one environ key (``EXCHANGE_KEY``): read once, not parsed again by the next layer.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import sqlite3

EXCHANGE_KEY = "ipyy.exchange"


@dataclass
class Exchange:
    """One request as the layers learn it; built once, at the edge or (in-process) at the first layer to ask.

    ``started``: (wall time, perf_counter) when the request arrived: the edge sets it before it waits out a
    latency fault, so the journal's duration includes the wait. ``body``: the whole body as the edge read it
    (None: the app reads ``wsgi.input`` itself). ``local_address``: the address of this machine the connection
    reached, looked up only when asked (admin/access.py).

    The fault middleware's state (faults/middleware.py) is here too: a request's faults are decided in two steps
    (the edge asks ``latency()`` before it waits, then calls the app) and the journal records what fired.
    """

    path: str = "/"
    endpoint: str | None = None
    started: tuple[float, float] = field(default_factory=lambda: (time.time(), time.perf_counter()))
    body: bytes | None = None
    caller: str = ""
    #: The account the request speaks for, as the surface read it (the HTTP pages' ``account``, SOAP's
    #: ``userName``, the admin API's ``account``): the journal's account column. None or empty: none bound (the
    #: journal then asks the surface's ``account_hint``).
    account: str | None = None
    local_address: Callable[[], str | None] | None = None
    warnings: list[Any] = field(default_factory=list)
    result: str = ""
    # the names of the faults fired for this request ("http_503 #4"): appended by the fault middleware (and by
    # ``code_fault``), joined into the journal row's ``faults`` column (journal/)
    faults: list[str] = field(default_factory=list)
    # aborts this request's TCP connection with an RST, True if it did: set by the edge (edge.py), which alone
    # knows the connection's address pair; called by the ``reset`` fault (None: gunicorn's socket is used instead)
    abort_connection: Callable[[], bool] | None = None
    # a ``reset`` fault aborted the connection: set by the fault middleware; the edge then sends nothing and the
    # journal records no status (none reached the client)
    reset: bool = False
    # FaultMiddleware.latency() already fired (and the edge waited out) the latency faults: __call__ skips them
    latency_done: bool = False
    # the store generation and the active fault rows latency() read, handed to __call__ once so one request
    # makes one reading (None: not read yet; __call__ takes them and sets them back to None)
    generation: int | None = None
    fault_rows: list[sqlite3.Row] | None = None
    # the ``code`` fault decision for a send of this request, bound to its fault rows by the fault middleware and
    # handed on by the surface in SendRequest.fault (called with the send's via; None: no fault injection)
    code_fault: Callable[[str], Any] | None = None

    def send_fault(self, via: str) -> Callable[[], Any] | None:
        """SendRequest.fault for a send of this request through ``via``: the fault middleware's decision bound to
        it, or None when no fault can fire."""
        decide = self.code_fault
        return None if decide is None else functools.partial(decide, via)

    @classmethod
    def of(cls, environ: dict) -> Exchange:
        """The request's Exchange, made here when no layer before made it."""
        exchange = environ.get(EXCHANGE_KEY)
        if exchange is None:
            exchange = environ[EXCHANGE_KEY] = cls(
                path=(environ.get("PATH_INFO") or "/").lower(), caller=environ.get("REMOTE_ADDR") or ""
            )
        return exchange
