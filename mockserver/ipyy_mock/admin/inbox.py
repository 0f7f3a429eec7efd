"""The web inbox at ``/_mock/``: a page that shows what the mock received, live, instead of its logs.

The page is static (``inbox_static/``: one HTML file, one script, one
stylesheet, an icon) and reads everything from the admin API (``/_mock/api/``)
with ``fetch``; this module only serves those files. Everything the page shows
was sent by a client and may be hostile, so the script builds the DOM with
``createElement`` / ``textContent`` only, and every reply here carries a strict
Content-Security-Policy (no inline script or style, no other origin) plus
``nosniff`` and ``no-referrer``.

Who may load it: the admin API's rule (admin/access.py: the Host allow-list,
no cross-site requests, loopback callers only when the server has no token),
except that a server with an admin token hands these static files to any
caller on an allowed Host: they hold no data, and the page asks for the token
(once per tab, kept in sessionStorage) and sends it with every API call.
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Callable, Iterable

from werkzeug.wrappers import Request, Response

from ipyy_mock.admin.jsonapi import AdminError

PREFIX = "/_mock"
STATIC_PACKAGE_DIR = "inbox_static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
# The only files served, by lower-case URL name (the router matches paths lower-cased, like IIS).
STATIC_FILES = {
    "inbox.js": "text/javascript; charset=utf-8",
    "inbox.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
INDEX_FILE = "index.html"


def _read(name: str) -> bytes:
    return resources.files("ipyy_mock.admin").joinpath(STATIC_PACKAGE_DIR, name).read_bytes()


class InboxApp:
    """WSGI app for ``/_mock`` and ``/_mock/...`` except ``/_mock/api/...`` (the admin API's)."""

    def __init__(self, authorize: Callable[[Request], None] | None = None) -> None:
        self.authorize = authorize
        self.files: dict[str, tuple[bytes, str]] = {"": (_read(INDEX_FILE), "text/html; charset=utf-8")}
        for name, ctype in STATIC_FILES.items():
            self.files[f"static/{name}"] = (_read(name), ctype)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self.respond(Request(environ))(environ, start_response)

    def respond(self, request: Request) -> Response:
        refused = self.refusal(request)
        if refused is not None:
            return refused
        path = request.path.lower()
        if path == PREFIX:  # relative URLs in the page need the trailing slash
            return self._secure(Response("", status=308, headers={"Location": f"{PREFIX}/"}))
        if request.method not in ("GET", "HEAD"):
            return self._text(
                405,
                f"{request.method} is not allowed on {request.path}: the inbox pages are "
                "read-only; the page changes things through /_mock/api/",
                allow="GET, HEAD",
            )
        name = path[len(PREFIX) + 1 :] if path.startswith(PREFIX + "/") else None
        if name in ("index.html",):
            name = ""
        found = self.files.get(name) if name is not None else None
        if found is None:
            return self._text(404, f"no inbox page {request.path}: open {PREFIX}/")
        body, ctype = found
        response = Response(body, content_type=ctype)
        response.headers["Cache-Control"] = "no-store" if name == "" else "no-cache"
        return self._secure(response)

    def refusal(self, request: Request) -> Response | None:
        if self.authorize is None:
            return None
        try:
            self.authorize(request)
        except AdminError as exc:
            return self._text(
                exc.status, f"{exc.message}\n{exc.hint}".replace("the admin API serves", "the inbox serves")
            )
        return None

    def _text(self, status: int, text: str, **headers: str) -> Response:
        response = Response(text + "\n", status=status, content_type="text/plain; charset=utf-8")
        for key, value in headers.items():
            response.headers[key.replace("_", "-").title()] = value
        return self._secure(response)

    @staticmethod
    def _secure(response: Response) -> Response:
        for key, value in SECURITY_HEADERS:
            response.headers[key] = value
        return response


def make_inbox_app(admin: Any = None) -> InboxApp:
    """The inbox, admitting the callers ``admin`` (the AdminApi) admits to its page; ``None``: everyone (tests)."""
    access = getattr(admin, "access", None)
    return InboxApp(access.authorize_page if access is not None else None)
