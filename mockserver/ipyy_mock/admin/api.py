"""The mock's own admin API under ``/_mock/api/``: JSON in, JSON out, for tests and people with curl.

Why a separate surface: the vendor's paths must stay byte-exact, while a test
needs to move the clock, script outcomes and inject replies without
sleeping or touching the database file. Which paths exist and what answers
them is the route table (admin/routes.py); this module is the WSGI plumbing:
access check (admin/access.py), routing, and turning every error into
``{"error": "...", "hint": "..."}`` with a 4xx status. Nothing here answers 500.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ipyy_mock.admin.access import AdminAccess
from ipyy_mock.admin.jsonapi import AdminError, error_response, json_response
from ipyy_mock.admin.metrics import PATH as METRICS_PATH
from ipyy_mock.admin.routes import PREFIX, ROUTES, Route
from ipyy_mock.core.exchange import Exchange
from ipyy_mock.core.platform import Platform
from ipyy_mock.core.validation import INT64_MAX
from ipyy_mock.journal import JournalStore, journal_path

log = logging.getLogger("ipyy_mock.admin")

__all__ = ["PREFIX", "AdminApi", "AdminError", "make_admin_app"]


class AdminApi:
    """WSGI app for ``/_mock/api/...``; one per worker, sharing the worker's Platform."""

    routes: tuple[Route, ...] = ROUTES
    url_map = Map([Rule(r.rule, methods=[r.method], endpoint=i) for i, r in enumerate(ROUTES)], strict_slashes=False)

    def __init__(
        self, platform: Platform, *, access: AdminAccess | None = None, wake: Callable[[], None] | None = None
    ) -> None:
        self.platform = platform
        self.access = access or AdminAccess()
        self.wake = wake or (lambda: None)
        self._journal: JournalStore | None = None
        self.journal_enabled: bool | None = None

    def __repr__(self) -> str:
        return f"AdminApi({self.platform.store.path!r}, {self.access!r})"

    # -- the request journal (create_app hands over the app's own) ---------------
    def attach_journal(self, store: JournalStore, enabled: bool) -> None:
        self._journal, self.journal_enabled = store, enabled

    @property
    def journal(self) -> JournalStore:
        if self._journal is None:  # an app built without create_app(): the journal file next to the database
            self._journal = JournalStore(journal_path(self.platform.store.path))
        return self._journal

    # -- WSGI -------------------------------------------------------------------------------
    def authorize(self, request: Request) -> None:
        """Host, cross-site, token or loopback (admin/access.py); AdminError when refused."""
        self.access.authorize(request)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        exchange = Exchange.of(environ)
        if exchange.path.rstrip("/") == METRICS_PATH:  # where Prometheus looks
            environ = {**environ, "PATH_INFO": PREFIX + "/metrics"}
        request = Request(environ)  # the body limit is jsonapi.body's (MAX_BODY), chunked bodies included
        exchange.account = request.args.get("account", "")[:100]  # jsonapi.body may read it instead
        try:
            self.authorize(request)
            index, args = self.url_map.bind_to_environ(environ).match()
            for name, value in args.items():  # an id in the path fits SQLite's 64-bit integer
                if isinstance(value, int) and value > INT64_MAX:
                    raise AdminError(
                        400, f"{name} must be a whole number from 0 to {INT64_MAX}, got {value}", "ids fit 64 bits"
                    )
            reply = self.routes[index].handler(self, request, **args)
            response = reply if isinstance(reply, Response) else json_response(reply)
        except AdminError as exc:
            response = error_response(exc.status, exc.message, exc.hint, exc.headers)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            response = error_response(405, f"{request.method} is not allowed on {request.path}", f"use {allowed}")
        except NotFound:
            response = error_response(
                404, f"no admin endpoint {request.path}", f"endpoints: {', '.join(self.endpoints())}"
            )
        except HTTPException as exc:
            response = error_response(exc.code or 400, exc.name, exc.description or "")
        except Exception as exc:  # a bug: say so in JSON rather than an HTML 500 (the message may hold data)
            log.exception("admin API error on %s %s", request.method, request.path)
            response = error_response(
                400, f"internal error: {type(exc).__name__}", "a bug in the mock; its log has the traceback"
            )
        return response(environ, start_response)

    @classmethod
    def endpoints(cls) -> list[str]:
        """``METHOD /_mock/api/path`` of every route, sorted (the 404 hint, tests)."""
        return sorted({f"{r.method} {r.rule}" for r in cls.routes})


def make_admin_app(
    platform: Platform, access: AdminAccess | str | None = None, wake: Callable[[], None] | None = None
) -> AdminApi:
    """``access``: the server's AdminAccess (a bare token string is the token with no extra hosts)."""
    if not isinstance(access, AdminAccess):
        access = AdminAccess(token=access)
    return AdminApi(platform, access=access, wake=wake)
