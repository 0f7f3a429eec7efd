"""``GET /_mock/health``: is the mock up, and can it write its database. For container HEALTHCHECKs and start-up waits.

Why its own endpoint: a container runtime, a CI ``services:`` entry or a test
harness needs a cheap yes/no that does not depend on the admin API's access
rules, touches no vendor path (so it never shows up in an account's traffic)
and says more than "the port is open": a mock whose database cannot be
written now (another process holds its write lock, or a worker opened it
read-only) still answers, but every send fails.

The reply is ``{"ok": true, "version": "0.1.0", "database_writable": true,
"retention": {"keep_messages": 200000, "keep_days": 90.0}}``
with 200, or ``"ok": false`` with 503 and a one-line ``reason`` when the
database cannot be written (a full disk, a read-only or immutable file or
volume, its write lock held for longer than LOCK_WAIT, a damaged file). It
holds no data (no path, no account), so it is served to any caller and any
``Host``; it is not journaled and faults never apply to it (``/_mock/`` paths).
The check is ``Store.write_problem``: the connection a send would use
commits a row and then its deletion, so it fails where a send's COMMIT
fails (a rolled-back change is never written, so it cannot see a full disk).

``python -m ipyy_mock.server.health [URL]`` probes it and exits 0 or 1: the image's
HEALTHCHECK, where no curl is installed. Without a URL it asks the server this
environment configures (``$IPYY_MOCK_HOST``, ``$IPYY_MOCK_PORT``).

Plain WSGI and the standard library only, so the probe starts fast.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:
    from ipyy_mock.core.store import Store

PATH = "/_mock/health"
LOCK_WAIT = 2.0  # seconds the check waits for the database's write lock (the probe's own timeout is longer)
PROBE_TIMEOUT = 4.0


class HealthApp:
    """WSGI app for ``/_mock/health``: GET or HEAD; any other method is 405 in the admin API's JSON error shape."""

    def __init__(self, store: "Store") -> None:
        from ipyy_mock import __version__

        self.store = store
        self.version = __version__

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = (environ.get("REQUEST_METHOD") or "GET").upper()
        headers = [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store")]
        if method not in ("GET", "HEAD"):
            status = "405 Method Not Allowed"
            data: dict = {"error": f"{method} is not allowed on {PATH}", "hint": f"GET {PATH}"}
            headers.append(("Allow", "GET, HEAD"))
        else:
            problem = self.store.write_problem(LOCK_WAIT)
            status = "200 OK" if problem is None else "503 Service Unavailable"
            data = {"ok": problem is None, "version": self.version, "database_writable": problem is None}
            if problem is not None:
                data["reason"] = problem
            try:  # what retention keeps (core/retention.py): a long-running mock's operator checks it here
                from ipyy_mock.core import retention

                data["retention"] = retention.load(self.store).as_json()
            except Exception:  # a database that cannot be read says so in database_writable already
                pass
        body = (json.dumps(data) + "\n").encode()
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [] if method == "HEAD" else [body]


def default_url(environ: dict[str, str] | None = None) -> str:
    """The health URL of the server ``$IPYY_MOCK_HOST``/``$IPYY_MOCK_PORT`` describe (a wildcard host: loopback)."""
    env = os.environ if environ is None else environ
    host = (env.get("IPYY_MOCK_HOST") or "127.0.0.1").strip()
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}.get(host, host).strip("[]")
    port = (env.get("IPYY_MOCK_PORT") or "8080").strip()
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{PATH}"


def probe(url: str, timeout: float = PROBE_TIMEOUT) -> tuple[bool, str]:
    """(healthy, one line saying what was found)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            text = reply.read().decode("utf-8", "replace").strip()
    except urllib.error.HTTPError as exc:
        return False, f"{url}: HTTP {exc.code} {exc.read().decode('utf-8', 'replace').strip()}"
    except (OSError, ValueError) as exc:
        return False, f"{url}: {exc}; is the mock running on that host and port?"
    try:
        healthy = json.loads(text).get("ok") is True
    except (ValueError, AttributeError):
        return False, f"{url}: not the mock's health reply: {text[:200]!r}"
    return healthy, f"{url}: {text}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    healthy, line = probe(args[0] if args else default_url())
    print(line, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
