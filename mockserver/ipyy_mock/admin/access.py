"""Who may use the admin API (``/_mock/api/``) and the web inbox (``/_mock/``): one check for both.

Why so strict for a mock: the admin API reads the journal (every SMS text,
OTP codes included), rewrites balances, rules and push URLs, and resets the
data. Any web page the developer visits while the mock runs can make the
browser send requests to it, so in order:

1. Host allow-list (DNS rebinding). A page on ``evil.example`` whose name is
   re-pointed at 127.0.0.1 is "same origin" with the mock as far as the browser
   knows, but its requests say ``Host: evil.example``. Only loopback names
   (``localhost``, ``127.x.x.x``, ``[::1]``), the address the mock listens on or
   was reached at, and names given with ``--allowed-host`` are served.
2. Cross-site refusal (CSRF). A browser marks a request from another site
   with ``Origin`` and ``Sec-Fetch-Site``; the most cross of them counts.
3. The caller. With a token (``--admin-token``, ``--admin-token-file`` or
   ``$IPYY_MOCK_ADMIN_TOKEN``) every caller must send it, loopback included;
   without one only loopback callers are served. The inbox's page itself (static
   files, no data) needs no token, so that it can ask for it.

The vendor's own paths (and ``/_mock/health``) are not behind any of this.
"""

from __future__ import annotations

import hmac
import os
import re
import stat
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Callable

from werkzeug.wrappers import Request

from ipyy_mock.admin.jsonapi import AdminError
from ipyy_mock.core.exchange import Exchange

TOKEN_ENV = "IPYY_MOCK_ADMIN_TOKEN"
TOKEN_HEADER = "X-Admin-Token"
LOOPBACK_NAMES = frozenset({"localhost"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
# Sec-Fetch-Site values from least to most cross; an unknown value counts as the most cross.
FETCH_SITES = ("same-origin", "none", "same-site", "cross-site")
_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}"
    r"[a-z0-9_])?)*"
)
HOST_HINT = (
    "call it as http://127.0.0.1:PORT or http://localhost:PORT, or start it with --allowed-host NAME "
    "(repeatable; $IPYY_MOCK_ALLOWED_HOST) for a name it is reached by, behind a proxy or in a "
    "container network"
)


class AccessError(ValueError):
    """A start-up setting the server cannot use (a bad --allowed-host, an empty token file...)."""


def is_loopback(addr: str | None) -> bool:
    try:
        ip = ip_address((addr or "").split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def split_host(value: str) -> tuple[str, str]:
    """``Host`` header (or ``--allowed-host``) → (lower-case name without brackets or final dot, port or "")."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        return name, rest[1:] if rest.startswith(":") else ""
    if value.count(":") == 1:
        name, _, port = value.partition(":")
        return name.rstrip("."), port
    return value.rstrip("."), ""  # a bare IPv6 address (an --allowed-host) or a name


def _is_ip(name: str) -> bool:
    try:
        ip_address(name)
    except ValueError:
        return False
    return True


def allowed_host(value: str) -> str:
    """Check one ``--allowed-host`` value: a host name or an IP address, with an optional ``:port``."""
    name, port = split_host(value)
    if (
        not name
        or (port and not (port.isdigit() and 0 < int(port) < 65536))
        or not (_is_ip(name) or _HOST_NAME.fullmatch(name))
    ):
        raise AccessError(
            f"--allowed-host {value!r} is not a host name or address (with an optional :port); "
            "e.g. --allowed-host mock or --allowed-host sms-mock.internal:8080"
        )
    return f"[{name}]:{port}" if port and ":" in name else (f"{name}:{port}" if port else name)


def read_token(
    flag: str | None, path: str | None, env: dict[str, str] | None = None, warn: Callable[[str], None] | None = None
) -> str | None:
    """The admin token: ``--admin-token``, else the file ``--admin-token-file``, else ``$IPYY_MOCK_ADMIN_TOKEN``.

    Why a file and the environment: a command line is visible to every user in ``ps``; a file (0600) and
    a process's environment are not. Surrounding white space (a file's final newline) is not part of it.
    The file's first line is the token (what follows it, a comment or a stray second token, is not), and
    a file other users may read is reported through ``warn``: it protects nothing there. Every token must
    be printable ASCII, because it travels in an HTTP header, which carries nothing else.
    """
    if flag is not None:
        token = flag.strip()
        if not token:
            raise AccessError("--admin-token is empty: give a token, or leave the flag out")
        return _checked_token(token, "--admin-token")
    if path:
        try:
            with open(path, "rb") as handle:
                first = handle.readline(64 * 1024)
                mode = os.fstat(handle.fileno()).st_mode
            token = first.decode("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise AccessError(
                f"cannot read --admin-token-file {path}: {exc}; give a readable file holding the token"
            ) from None
        if not token:
            raise AccessError(f"--admin-token-file {path} is empty: write the token on its first line")
        token = _checked_token(token, f"the first line of --admin-token-file {path}")
        if mode & (stat.S_IRGRP | stat.S_IROTH) and warn is not None:
            warn(
                f"warning: --admin-token-file {path} is readable by other users (mode {stat.S_IMODE(mode):04o}): "
                f"run chmod 600 {path}"
            )
        return token
    token = ((os.environ if env is None else env).get(TOKEN_ENV) or "").strip()
    return _checked_token(token, f"${TOKEN_ENV}") if token else None


def _checked_token(token: str, source: str) -> str:
    """``token`` when an HTTP header can carry it (printable ASCII), else AccessError naming the first bad character's
    position (never the token itself: the error is printed)."""
    for index, char in enumerate(token, 1):
        if not (char.isascii() and char.isprintable()):
            raise AccessError(
                f"{source} has a character an HTTP header cannot carry (character {index}, U+{ord(char):04X}): "
                "use printable ASCII only, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
    return token


def presented_token(request: Request) -> str | None:
    """The token the caller sent (``X-Admin-Token`` or ``Authorization: Bearer``); an empty one is none."""
    token = (request.headers.get(TOKEN_HEADER) or "").strip()
    if token:
        return token
    scheme, _, value = (request.headers.get("Authorization") or "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def fetch_site(request: Request) -> str:
    """The most cross of every ``Sec-Fetch-Site`` value sent ("" when none): two headers cannot hide one."""
    values = [v.strip().lower() for header in request.headers.getlist("Sec-Fetch-Site") for v in header.split(",")]
    rank = [FETCH_SITES.index(v) if v in FETCH_SITES else len(FETCH_SITES) - 1 for v in values if v]
    return FETCH_SITES[max(rank)] if rank else ""


@dataclass(frozen=True)
class AdminAccess:
    """The admin API's and the inbox's access rule, as the server was started."""

    token: str | None = field(default=None, repr=False)
    allowed_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "token", (self.token or "").strip() or None)
        object.__setattr__(self, "allowed_hosts", tuple(allowed_host(h) for h in self.allowed_hosts))

    # -- 1. Host --------------------------------------------------------------------
    def host_ok(self, environ: dict) -> bool:
        raw = environ.get("HTTP_HOST")
        if raw is None:
            return True  # HTTP/1.0 without Host: not a browser (every browser sends one), so not a rebinding page
        name, port = split_host(raw)
        if port and not port.isdigit():
            return False  # not a Host a browser sends
        if name in LOOPBACK_NAMES or is_loopback(name):
            return True
        for allowed in self.allowed_hosts:
            a_name, a_port = split_host(allowed)
            if a_name == name and (not a_port or a_port == port):
                return True
        return _is_ip(name) and name in self._own_addresses(environ)

    @staticmethod
    def _own_addresses(environ: dict) -> set[str]:
        """The address the mock listens on (SERVER_NAME), or when it listens on every address the one this
        connection reached: an IP literal in Host is only ever the mock's own origin."""
        own = {split_host(str(environ.get("SERVER_NAME") or ""))[0]} - WILDCARDS
        local = Exchange.of(environ).local_address  # granian's edge (edge.py): looked up only when asked
        if callable(local):
            address = local()
            if address:
                own.add(address.split("%", 1)[0].lower())
        sock = environ.get("gunicorn.socket")
        if sock is not None:
            try:
                own.add(str(sock.getsockname()[0]).split("%", 1)[0].lower())
            except (AttributeError, OSError, IndexError, TypeError):
                pass
        return {a[7:] if a.startswith("::ffff:") else a for a in own}

    def refuse_foreign_host(self, request: Request) -> None:
        if not self.host_ok(request.environ):
            host = request.environ.get("HTTP_HOST", "")
            raise AdminError(403, f"the admin API and the inbox do not answer for Host {host[:100]!r}", HOST_HINT)

    # -- 2. cross-site --------------------------------------------------------------
    @staticmethod
    def refuse_cross_site(request: Request) -> None:
        """A page on another site must not drive the mock through the developer's browser (CSRF).

        Browsers mark every request with ``Sec-Fetch-Site`` and cross-origin ones with ``Origin``;
        curl, test clients and the inbox itself (same origin) pass.
        """
        site = fetch_site(request)
        own = f"{request.scheme}://{request.host}"
        foreign = [o for o in request.headers.getlist("Origin") if o.strip() != own]
        if site in ("cross-site", "same-site") or foreign:
            raise AdminError(
                403,
                f"cross-site request refused (from {(foreign[0] if foreign else site)[:100]})",
                "the admin API and the inbox answer same-origin pages and non-browser clients only",
            )

    # -- 3. the caller ---------------------------------------------------------------
    def refuse_caller(self, request: Request) -> None:
        if self.token is None:
            if is_loopback(request.remote_addr):
                return
            raise AdminError(
                403,
                f"the admin API serves loopback callers only, not {request.remote_addr}",
                "call from the mock's own host, or start it with --admin-token-file FILE "
                f"(or ${TOKEN_ENV}) and send {TOKEN_HEADER}: <token>",
            )
        given = presented_token(request)
        if given is None:
            raise AdminError(
                401,
                "admin token required",
                f"this mock was started with an admin token: send {TOKEN_HEADER}: <token> "
                "(or Authorization: Bearer <token>), from loopback too",
                {"WWW-Authenticate": 'Bearer realm="ipyy-mock admin"'},
            )
        if not hmac.compare_digest(given.encode("utf-8"), self.token.encode("utf-8")):
            raise AdminError(
                403,
                "wrong admin token",
                "send the token the server was started with "
                f"(--admin-token-file / ${TOKEN_ENV} / --admin-token) in {TOKEN_HEADER}",
            )

    def authorize(self, request: Request) -> None:
        """The admin API: Host, then cross-site, then token or loopback; AdminError says which failed."""
        self.refuse_foreign_host(request)
        self.refuse_cross_site(request)
        self.refuse_caller(request)

    def authorize_page(self, request: Request) -> None:
        """The inbox's static page: as the admin API, except that a token server hands it out without the
        token (it holds no data; it asks for the token and sends it with every admin API call)."""
        self.refuse_foreign_host(request)
        self.refuse_cross_site(request)
        if self.token is None:
            self.refuse_caller(request)
