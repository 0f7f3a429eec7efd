"""Fault injection: make the next N (or a fraction of) requests fail the way real networks and servers do.

Faults live in the SQLite file (table ``faults``, in the store's schema) so every
worker process sees the same list and a "next 2 requests" fault fails exactly
two requests whichever worker serves them: the remaining count is decremented
in one write transaction that only succeeds while it is above zero.

A fault row: ``endpoint`` (which requests it matches, see ENDPOINTS), ``kind``
(what happens, see KINDS), ``value`` (milliseconds for ``latency``, a
ResultCode name for ``code``), ``remaining`` (NULL = unlimited) and
``probability`` (each matching request fires it with that chance; 0 never).

All kinds but ``code`` act in ``FaultMiddleware`` in front of the app, before
any vendor logic runs. ``code`` is a refusal from the platform itself:
FaultMiddleware binds ``forced_code`` to the request and puts it on its Exchange,
the surface hands it on in SendRequest.fault, and ``Platform.send`` asks it right
after authentication, so SOAP and HTTP answer it through their normal reply path
and nothing is charged.
``/_mock/`` paths never match a fault, so the admin API that removes them
always works.

The package: rules (what a fault row says, how it is checked and stored), decision (which fault fires for a
request, consumed atomically), bodies (the wire bodies of injected replies) and middleware (FaultMiddleware and
the ``reset`` kind's TCP abort, whose socket code is server/reset.py's, shared with the edge). Callers import
from ``ipyy_mock.faults``; the names below are the ones they use.
"""

from __future__ import annotations

from ipyy_mock.faults.bodies import content_type_for, malformed_body, soap_fault_body, soap_version
from ipyy_mock.faults.decision import ACTIVE, CODE_SELECTORS, VIA_SURFACES, forced_code
from ipyy_mock.faults.middleware import FaultMiddleware, reset_connection
from ipyy_mock.faults.rules import (
    ENDPOINTS,
    EXAMPLE,
    FIELDS,
    JSON_PATHS,
    JSON_TYPE,
    KINDS,
    MAX_COUNT,
    MAX_LATENCY_MS,
    MOCK_PREFIX,
    SEND_PATH,
    SOAP12_TYPE,
    SOAP_PATH,
    XML_TYPE,
    FaultError,
    add_fault,
    delete_faults,
    list_faults,
    parse_fault,
)

__all__ = [
    "ACTIVE",
    "CODE_SELECTORS",
    "ENDPOINTS",
    "EXAMPLE",
    "FIELDS",
    "JSON_PATHS",
    "JSON_TYPE",
    "KINDS",
    "MAX_COUNT",
    "MAX_LATENCY_MS",
    "MOCK_PREFIX",
    "SEND_PATH",
    "SOAP12_TYPE",
    "SOAP_PATH",
    "VIA_SURFACES",
    "XML_TYPE",
    "FaultError",
    "FaultMiddleware",
    "add_fault",
    "content_type_for",
    "delete_faults",
    "forced_code",
    "list_faults",
    "malformed_body",
    "parse_fault",
    "reset_connection",
    "soap_fault_body",
    "soap_version",
]
