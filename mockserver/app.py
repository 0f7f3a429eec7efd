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

from ipyy_mock.platform import Platform

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]

SURFACES = """ipyy-mock: offline mock of the Huaxin (ipyy.net) SMS gateway
  SOAP  /WebService.asmx  (WSDL: /WebService.asmx?WSDL)
  HTTP  /I18NSms.aspx /statusApi.aspx /statusJsonApi.aspx /callApi.aspx /callJsonApi.aspx /pwd.aspx
"""


class MockApp:
    """Root WSGI callable; one per worker process (each owns its SQLite connections)."""

    def __init__(self, platform: Platform) -> None:
        from ipyy_mock.http_api import make_http_app
        from ipyy_mock.soap_service import make_soap_app  # spyne is heavy: import once, here

        self.platform = platform
        http_app = make_http_app(platform)
        self.endpoints: dict[str, WSGIApp] = {"soap": make_soap_app(platform)}
        for name in ("send", "status", "status_json", "call", "call_json", "pwd"):
            self.endpoints[name] = http_app
        self.url_map = Map([
            Rule("/", endpoint="index"),
            Rule("/webservice.asmx", endpoint="soap"),
            Rule("/i18nsms.aspx", endpoint="send"),
            Rule("/statusapi.aspx", endpoint="status"),
            Rule("/statusjsonapi.aspx", endpoint="status_json"),
            Rule("/callapi.aspx", endpoint="call"),
            Rule("/calljsonapi.aspx", endpoint="call_json"),
            Rule("/pwd.aspx", endpoint="pwd"),
        ], strict_slashes=False)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, _ = adapter.match(path_info=environ.get("PATH_INFO", "/").lower())
            if endpoint == "index":
                return Response(SURFACES, content_type="text/plain; charset=utf-8")(environ, start_response)
            app = self.endpoints.get(endpoint)
            if app is None:
                raise NotFound()
            environ["ipyy.endpoint"] = endpoint
            return app(environ, start_response)
        except HTTPException as exc:
            body = f"{exc.code} {exc.name}: {Request(environ).path}\n\n{SURFACES}"
            return Response(body, status=exc.code, content_type="text/plain; charset=utf-8")(environ, start_response)


def create_app(db_path: str, zone: str | None = None) -> MockApp:
    platform = Platform(db_path, zone) if zone else Platform(db_path)
    return MockApp(platform)
