"""The mock's WSGI application: routes each vendor path to the surface that speaks it.

Paths are matched case-insensitively, as IIS does (the vendor document itself
writes both ``I18NSms.aspx`` and ``I18Nsms.aspx``). Routing is werkzeug's; the
surfaces only translate wire formats and call the shared Platform.
"""

from __future__ import annotations

from typing import Callable, Iterable

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ipyy_client._wire import MOCK_WARNINGS_HEADER
from ipyy_mock.core import conformance
from ipyy_mock.core.platform import Platform
from ipyy_mock.server.limits import DEFAULT_MAX_BODY, RequestGuard

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


# The exact vendor paths (lower case) and their endpoints: what url_map below answers for them, looked up
# without werkzeug's routing (~50-80 us a request); any other path still goes through url_map.
VENDOR_PATHS = {
    "/webservice.asmx": "soap",
    "/i18nsms.aspx": "send",
    "/statusapi.aspx": "status",
    "/statusjsonapi.aspx": "status_json",
    "/callapi.aspx": "call",
    "/calljsonapi.aspx": "call_json",
    "/pwd.aspx": "pwd",
    "/sms.aspx": "domestic",
    "/smsjson.aspx": "domestic_json",
}


VENDOR_ENDPOINTS = frozenset(VENDOR_PATHS.values())


def _with_warnings(environ: dict, start_response: Callable) -> Callable:
    """``start_response`` adding ``X-Ipyy-Mock-Warnings`` when the surface found deviations from the vendor's
    document: a request that works on the mock but may not on the vendor says so in its reply, where a client
    (``SendResult.mock_warnings``, ``ipyy send``) shows it, not only in the journal."""

    def start(status: str, headers: list, exc_info: object = None) -> Callable:
        warnings = environ.get(conformance.ENVIRON_KEY)
        if warnings:
            headers = [*headers, (MOCK_WARNINGS_HEADER, conformance.header_value(warnings))]
        return start_response(status, headers, exc_info) if exc_info is not None else start_response(status, headers)

    return start


def endpoint_of(path: str) -> str | None:
    """The surface that answers ``path`` (any case), for answers given before the app runs (edge.py)."""
    path = path.lower()
    endpoint = VENDOR_PATHS.get(path)
    if endpoint is None and (path == "/_mock/api" or path.startswith("/_mock/api/")):
        endpoint = "admin"
    return endpoint


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
        # [reliability] one body limit for every surface (limits.py; `serve --max-body`)
        self.guard = RequestGuard(max_body or DEFAULT_MAX_BODY)
        self.endpoints: dict[str, WSGIApp] = {"soap": make_soap_app(platform, max_body=self.guard.max_body)}
        from ipyy_mock.server.health import HealthApp  # [image] GET /_mock/health, for any caller and any Host

        self.endpoints["health"] = HealthApp(platform.store)
        access = AdminAccess(token=admin_token, allowed_hosts=tuple(allowed_hosts))  # Host allow-list + token
        self.endpoints["admin"] = make_admin_app(platform, access, self.wake)
        # [inbox] the web inbox at /_mock/ (inbox.py): static pages for the admin API's own callers
        from ipyy_mock.admin.inbox import make_inbox_app

        self.endpoints["inbox"] = make_inbox_app(self.endpoints["admin"])
        # [/inbox]
        for name in ("send", "status", "status_json", "call", "call_json", "pwd"):
            self.endpoints[name] = http_app
        from ipyy_mock.httpapi.domestic import ENDPOINTS as DOMESTIC_ENDPOINTS
        from ipyy_mock.httpapi.domestic import make_domestic_app

        domestic_app = make_domestic_app(platform)  # sms.aspx / smsJson.aspx (docs/domestic.md)
        for name in DOMESTIC_ENDPOINTS:
            self.endpoints[name] = domestic_app
        self.url_map = Map(
            [
                Rule("/", endpoint="index"),
                Rule("/webservice.asmx", endpoint="soap"),
                Rule("/i18nsms.aspx", endpoint="send"),
                Rule("/statusapi.aspx", endpoint="status"),
                Rule("/statusjsonapi.aspx", endpoint="status_json"),
                Rule("/callapi.aspx", endpoint="call"),
                Rule("/calljsonapi.aspx", endpoint="call_json"),
                Rule("/pwd.aspx", endpoint="pwd"),
                Rule("/sms.aspx", endpoint="domestic"),
                Rule("/smsjson.aspx", endpoint="domestic_json"),
                Rule("/_mock/health", endpoint="health"),  # [image] before the admin API and the inbox
                Rule("/_mock/metrics", endpoint="admin"),  # Prometheus text, the admin API's access rule
                Rule("/_mock/api", endpoint="admin"),
                Rule("/_mock/api/<path:rest>", endpoint="admin"),
                Rule("/_mock", endpoint="inbox"),  # [inbox] the web inbox; /_mock/api/... stays the admin API's
                Rule("/_mock/<path:rest>", endpoint="inbox"),  # [inbox]
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
        path = environ.get("PATH_INFO", "/").lower()  # IIS: any case
        try:
            endpoint = VENDOR_PATHS.get(path)  # the vendor's paths as they are: no routing needed
            if endpoint is None:
                endpoint, _ = self.url_map.bind_to_environ(environ).match(path_info=path)
            if endpoint == "index":
                return Response(SURFACES, content_type="text/plain; charset=utf-8")(environ, start_response)
            app = self.endpoints.get(endpoint)
            if app is None:
                raise NotFound()
            environ["ipyy.endpoint"] = endpoint
            refused = self.guard(environ, endpoint)  # [reliability] body limit + UTF-8 forms, before any read
            if refused is not None:
                return refused(environ, start_response)
            if endpoint in VENDOR_ENDPOINTS:
                return app(environ, _with_warnings(environ, start_response))
            return app(environ, start_response)
        except HTTPException as exc:
            refused = self.guard(environ, None)  # [reliability] an oversize body is 413 on any path
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
    platform = Platform(db_path, zone) if zone else Platform(db_path)
    app = MockApp(platform, admin_token=admin_token, push=push, max_body=max_body, allowed_hosts=allowed_hosts)
    from ipyy_mock.instrument import instrument  # [journal] request journal + fault injection around the app

    return instrument(app, platform, journal_enabled=journal)  # [journal] passes attributes through to MockApp
