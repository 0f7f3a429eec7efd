"""The mock's WSGI application, composed: each vendor path routed to the surface that speaks it, the request
journal and fault injection around them.

Paths are matched case-insensitively, as IIS does (the vendor document itself
writes both ``I18NSms.aspx`` and ``I18Nsms.aspx``). Routing is werkzeug's; the
surfaces only translate wire formats and call the shared Platform.

``create_app`` wraps the MockApp: the journal outermost (so the replies of
injected faults are journaled too), then the fault middleware, then the app.
The admin API reads and steers both (admin/diagnostics.py: journal and fault
endpoints); it is handed the same journal store.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ipyy_client._wire import MOCK_WARNINGS_HEADER
from ipyy_mock.core import conformance
from ipyy_mock.core.exchange import Exchange
from ipyy_mock.core.platform import Platform
from ipyy_mock.server.limits import DEFAULT_MAX_BODY, RequestGuard
from ipyy_mock.server.request import VENDOR, VENDOR_ENDPOINTS, VENDOR_PATHS

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]

SURFACES = """ipyy-mock: offline mock of the Huaxin (ipyy.net) SMS gateway
  SOAP  /WebService.asmx  (WSDL: /WebService.asmx?WSDL)
  HTTP  /I18NSms.aspx /statusApi.aspx /statusJsonApi.aspx /callApi.aspx /callJsonApi.aspx /pwd.aspx
  domestic  /sms.aspx /smsJson.aspx
  inbox /_mock/  (web inbox: messages, replies, journal, live)
  mock  /_mock/api/clock /_mock/api/rules /_mock/api/settings /_mock/api/uplinks /_mock/api/pushes (JSON)
  health /_mock/health  (JSON: ok, version, database_writable; any caller)
  metrics /_mock/metrics  (Prometheus text; the admin API's access rule)
"""


def _with_warnings(environ: dict, start_response: Callable) -> Callable:
    """``start_response`` adding ``X-Ipyy-Mock-Warnings`` when the surface found deviations from the vendor's
    document: a request that works on the mock but may not on the vendor says so in its reply, where a client
    (``SendResult.mock_warnings``, ``ipyy send``) shows it, not only in the journal."""

    def start(status: str, headers: list, exc_info: object = None) -> Callable:
        warnings = Exchange.of(environ).warnings
        if warnings:
            headers = [*headers, (MOCK_WARNINGS_HEADER, conformance.header_value(warnings))]
        return start_response(status, headers, exc_info) if exc_info is not None else start_response(status, headers)

    return start


class MockApp:
    """Root WSGI callable; one per worker process (each owns its SQLite connections).

    ``push=True`` (the real server) starts this worker's push runner; only the
    one holding the lease pushes. In-process tests leave it off.
    """

    def __init__(
        self,
        platform: Platform,
        *,
        admin_token: str | None = None,
        push: bool = False,
        max_body: int | None = None,
        allowed_hosts: tuple[str, ...] = (),
    ) -> None:
        from ipyy_mock.admin.access import AdminAccess
        from ipyy_mock.admin.api import make_admin_app
        from ipyy_mock.httpapi.api import make_http_app
        from ipyy_mock.soap import make_soap_app  # spyne is heavy: import once, here

        self.platform = platform
        self.runner = None
        if push:
            from ipyy_mock.push.runner import PushRunner

            self.runner = PushRunner(platform).start()
        http_app = make_http_app(platform)
        # one body limit for every surface (limits.py; `serve --max-body`)
        self.guard = RequestGuard(max_body or DEFAULT_MAX_BODY)
        self.endpoints: dict[str, WSGIApp] = {"soap": make_soap_app(platform, max_body=self.guard.max_body)}
        from ipyy_mock.server.health import HealthApp  # GET /_mock/health, for any caller and any Host

        self.endpoints["health"] = HealthApp(platform.store)
        access = AdminAccess(token=admin_token, allowed_hosts=tuple(allowed_hosts))  # Host allow-list + token
        self.endpoints["admin"] = make_admin_app(platform, access, self.wake)
        # the web inbox at /_mock/ (inbox.py): static pages for the admin API's own callers
        from ipyy_mock.admin.inbox import make_inbox_app

        self.endpoints["inbox"] = make_inbox_app(self.endpoints["admin"])
        from ipyy_mock.httpapi.domestic import ENDPOINTS as DOMESTIC_ENDPOINTS
        from ipyy_mock.httpapi.domestic import make_domestic_app

        domestic_app = make_domestic_app(platform)  # sms.aspx / smsJson.aspx (docs/domestic.md)
        for vendor in VENDOR:
            if vendor.endpoint != "soap":
                self.endpoints[vendor.endpoint] = domestic_app if vendor.endpoint in DOMESTIC_ENDPOINTS else http_app
        self.url_map = Map(
            [
                Rule("/", endpoint="index"),
                *(Rule(vendor.path, endpoint=vendor.endpoint) for vendor in VENDOR),
                Rule("/_mock/health", endpoint="health"),  # before the admin API and the inbox
                Rule("/_mock/metrics", endpoint="admin"),  # Prometheus text, the admin API's access rule
                Rule("/_mock/api", endpoint="admin"),
                Rule("/_mock/api/<path:rest>", endpoint="admin"),
                Rule("/_mock", endpoint="inbox"),  # the web inbox; /_mock/api/... stays the admin API's
                Rule("/_mock/<path:rest>", endpoint="inbox"),
            ],
            strict_slashes=False,
        )

    def wake(self) -> None:
        """Nudge this worker's push runner; a runner in another worker notices within its poll interval."""
        if self.runner is not None:
            self.runner.wake()

    def close(self) -> None:
        """Worker exit: stop pushing, give unsettled batches back, let go of the lease."""
        if self.runner is not None:
            self.runner.stop()
            self.runner = None

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = Exchange.of(environ).path  # lower case: IIS answers any case
        try:
            endpoint = VENDOR_PATHS.get(path)  # the vendor's paths as they are: no routing needed
            if endpoint is None:
                endpoint, _ = self.url_map.bind_to_environ(environ).match(path_info=path)
            if endpoint == "index":
                return Response(SURFACES, content_type="text/plain; charset=utf-8")(environ, start_response)
            app = self.endpoints.get(endpoint)
            if app is None:
                raise NotFound()
            Exchange.of(environ).endpoint = endpoint
            refused = self.guard(environ, endpoint)  # body limit + UTF-8 forms, before any read
            if refused is not None:
                return refused(environ, start_response)
            if endpoint in VENDOR_ENDPOINTS:
                return app(environ, _with_warnings(environ, start_response))
            return app(environ, start_response)
        except HTTPException as exc:
            refused = self.guard(environ, None)  # an oversize body is 413 on any path
            if refused is not None:
                return refused(environ, start_response)
            body = f"{exc.code} {exc.name}: {Request(environ).path}\n\n{SURFACES}"
            return Response(body, status=exc.code, content_type="text/plain; charset=utf-8")(environ, start_response)


def create_app(
    db_path: str,
    zone: str | None = None,
    *,
    admin_token: str | None = None,
    push: bool = False,
    max_body: int | None = None,
    journal: bool = True,
    allowed_hosts: tuple[str, ...] = (),
) -> MockApp:
    """The app one worker serves: the MockApp in fault injection and (unless ``journal`` is False) the journal."""
    from ipyy_mock import faults
    from ipyy_mock import journal as journals

    platform = Platform(db_path, zone) if zone else Platform(db_path)
    app = MockApp(platform, admin_token=admin_token, push=push, max_body=max_body, allowed_hosts=allowed_hosts)
    store = journals.JournalStore(journals.journal_path(platform.store.path))
    admin: Any = app.endpoints["admin"]  # the AdminApi (WSGIApp by type)
    admin.attach_journal(store, journal)
    wrapped: Any = faults.FaultMiddleware(app, platform.store)
    if journal:
        wrapped = journals.JournalMiddleware(wrapped, store)
    return wrapped  # type: ignore[no-any-return]
