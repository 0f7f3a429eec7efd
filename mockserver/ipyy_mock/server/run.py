"""Which HTTP server runs the mock, and how it starts and stops (docs/server.md).

Default: granian (a Rust HTTP server, WSGI interface), ``--workers`` processes
x ``--threads`` Python threads each (default 2 x 1). Measured on the 2-core
machine it answers the same send several times faster than gunicorn gthread
(docs/server.md has the numbers): HTTP parsing, keep-alive and idle
connections live in Rust, outside the GIL, and one Python thread per worker
does not fight other threads for it. ``--server gunicorn`` keeps the previous
server (gthread, same flags) selectable.

What either server gives the mock, and how:

* real processes (a crash or ``kill -9`` behaves like a real deployment); each
  worker builds its own app after the fork, so no SQLite connection crosses it;
  a worker that dies is started again (granian: ``respawn_failed_workers``);
* one push runner per server: every worker starts one, the SQLite lease lets
  exactly one push (push/runner.py); a stopping worker closes its app
  (MockApp.close) so the runner hands its claims back;
* a request line or headers not complete within ``header_timeout`` seconds:
  the connection is dropped (slow clients, "slowloris"); bodies are read with
  their own deadline (limits.py);
* an access log with paths only (query strings carry passwords) and every
  server log line passed through redact.py;
* the body limit lives in the app (limits.py), not in the server.

The banner (``on_ready``) is printed only once the port really accepts
connections, and no request is answered before it is printed (granian: the
workers hold requests until the parent says so; gunicorn's master prints it
before it forks a worker).
"""

from __future__ import annotations

import errno
import multiprocessing
import signal
import socket
import threading
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

from ipyy_mock.server.wrapping import AppWrapper

SERVERS = ("granian", "gunicorn")
DEFAULT_SERVER = "granian"
DEFAULT_HEADER_TIMEOUT = 5.0  # seconds for a request line and headers (granian caps it at 60)
DEFAULT_BODY_TIMEOUT = 15.0  # seconds for a whole request body once its headers are in (4 MiB at ~300 kB/s)
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'  # gunicorn: path only, query strings carry passwords
GRANIAN_ACCESS_LOG_FORMAT = '%(addr)s "%(method)s %(path)s" %(status)d %(dt_ms).0fms'  # the same, path only
#: Connections a granian worker holds open at once (granian's ``backpressure``; its default, backlog / workers, is
#: 512 with 2 workers, so ~1,024 idle or slow connections made a legitimate send wait for one of them to time out).
#: Idle connections cost granian little (Rust, outside the GIL); each is a file descriptor, so the open-files
#: limit is raised to allow them (raise_open_files) and caps this.
MAX_CONNECTIONS = 16384
LISTEN_BACKLOG = 4096  # connections the kernel queues before the workers accept them (capped by net.core.somaxconn)
FD_RESERVE = 256  # descriptors a worker keeps for SQLite, the journal, the push runner and logs
STOP_GRACE = 10  # seconds a stopping worker may take (requests in flight, the push runner's hand-back) before SIGKILL


class StartError(Exception):
    """The server cannot start (a port in use, a bad address): one line that says what to do next."""


@dataclass(frozen=True)
class ServeConfig:
    """Everything ``ipyy-mock serve`` hands to the server; picklable (granian may spawn its workers)."""

    host: str
    port: int
    db_path: str
    workers: int = 2
    threads: int = 1
    zone: str | None = None
    access_log: bool = False
    admin_token: str | None = None
    max_body: int | None = None
    journal: bool = True
    fsync: bool = False
    server: str = DEFAULT_SERVER
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    allowed_hosts: tuple[str, ...] = ()  # Host names the admin API and inbox answer for

    @property
    def bind(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


# -- start-up checks -------------------------------------------------------------------


def raise_open_files(want: int = MAX_CONNECTIONS + FD_RESERVE) -> int:
    """Raise this process's soft open-files limit towards its hard limit (the workers inherit it); the new soft limit.

    Why: many systems start processes with a soft limit of 1,024 descriptors while allowing far more; every
    connection is one, so a few hundred idle clients would exhaust a worker before granian's own limit.
    """
    try:
        import resource
    except ImportError:  # not on this platform (Windows): the limit is whatever it is
        return want
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return want if soft == resource.RLIM_INFINITY else int(soft)


def connection_limit(open_files: int) -> int:
    """Connections per granian worker for a soft open-files limit: MAX_CONNECTIONS, or fewer when descriptors are few."""
    return max(64, min(MAX_CONNECTIONS, open_files - FD_RESERVE))


def check_port(host: str, port: int) -> None:
    """StartError unless ``host:port`` can be listened on now.

    Why a check of our own: granian's workers bind with SO_REUSEPORT, so a
    second granian on the same port would start and silently share it with the
    first. A plain bind (no SO_REUSEPORT) fails while anyone listens there.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartError(
            f"cannot listen on {host!r}: {exc.strerror}; give --host an address of this machine, "
            "e.g. 127.0.0.1 or 0.0.0.0"
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                other = port + 1 if port < 65535 else 8080
                raise StartError(f"port {port} is in use: another ipyy-mock? try --port {other}") from None
            if exc.errno == errno.EACCES:
                raise StartError(
                    f"no permission to listen on port {port}: use a port from 1024 up, e.g. --port 8080"
                ) from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise StartError(
                    f"{host} is not an address of this machine: use --host 127.0.0.1 "
                    "(this machine only) or 0.0.0.0 (every interface)"
                ) from None
            raise StartError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _wait_listening(
    host: str,
    port: int,
    on_ready: Callable[[], None],
    stop: threading.Event,
    ready: Any = None,
    workers: int = 0,
    opened: Any = None,
) -> None:
    """Call ``on_ready`` once every worker has built its app (``ready`` released ``workers`` times) and
    ``host:port`` accepts a connection (granian's workers bind only after loading the app), then set ``opened``:
    the workers hold every request until then, so nothing is answered before the banner is out."""
    for _ in range(workers if ready is not None else 0):
        while not ready.acquire(timeout=0.2):
            if stop.is_set():
                return
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    while not stop.is_set():
        try:
            with socket.create_connection((target, port), timeout=1):
                break
        except OSError:
            time.sleep(0.05)
    else:
        return
    try:
        on_ready()
    finally:
        if opened is not None:
            opened.set()


class _HeldUntilOpen(AppWrapper):
    """The worker's WSGI app, holding requests until the banner is printed (``opened``, set by the parent).

    Why: a worker answers as soon as it binds, and a fast client (a test polling the WSDL) could be answered
    before the banner said where and with which account. Once open, one attribute check per request.
    """

    def __init__(self, app: Any, opened: Any) -> None:
        self.app = app
        self.opened = opened
        self.open = False

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        if not self.open:
            self.opened.wait(30)  # never forever: a parent that died before printing must not hang requests
            self.open = True
        return self.app(environ, start_response)


# -- the app in a worker ---------------------------------------------------------------------

_worker_app: Any = None  # this worker process's app, closed when the worker stops


def load_app(config: ServeConfig, edge: bool = False, ready: Any = None, opened: Any = None) -> Any:
    """Build the app in a worker process (after the fork) and remember it for ``close_app``.

    ``edge``: wrapped in the asynchronous edge (edge.py) for granian's RSGI interface. ``ready``: a
    semaphore released once the app is built (the banner waits for every worker). ``opened``: an event the parent
    sets once the banner is printed; requests wait for it (_HeldUntilOpen).

    A SIGTERM or SIGINT while the app is built (the server is stopped as it starts) is held until the app
    exists, then the app is closed and the worker exits: its push runner may already hold the lease, and
    dying on the spot would leave the lease to expire instead of handing it back.
    """
    global _worker_app
    import gc

    from ipyy_mock.app import create_app
    from ipyy_mock.core import store

    stop_requested: list[int] = []
    held = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.signal(sig, lambda signum, frame: stop_requested.append(signum)) for sig in held}
    try:
        store.set_fsync(config.fsync)
        app: Any = create_app(
            config.db_path,
            config.zone,
            admin_token=config.admin_token,
            push=True,
            max_body=config.max_body,
            journal=config.journal,
            allowed_hosts=config.allowed_hosts,
        )
        if opened is not None:
            app = _HeldUntilOpen(app, opened)
        if edge:
            from ipyy_mock.server.edge import Edge
            from ipyy_mock.server.limits import DEFAULT_MAX_BODY

            app = Edge(
                app,
                max_body=config.max_body or DEFAULT_MAX_BODY,
                body_timeout=config.body_timeout,
                threads=config.threads,
            )
        _worker_app = app
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stop_requested:
        close_app()
        raise SystemExit(0)
    # Everything built so far (modules, spyne's models, the WSDL schema, the app) lives as long as the worker:
    # moved out of the collector's generations, the occasional full collection no longer walks ~50,000
    # objects (tens of ms with the GIL held).
    gc.collect()
    gc.freeze()
    if ready is not None:
        ready.release()
    return app


def close_app() -> None:
    """Worker exit: stop its push runner cleanly (it gives unsettled pushes back and lets go of the lease)."""
    global _worker_app
    app, _worker_app = _worker_app, None
    close = getattr(app, "close", None)
    if callable(close):
        close()


# -- granian ---------------------------------------------------------------------------------


def _granian_worker(*args: Any, **kwargs: Any) -> None:
    """granian's own RSGI worker, then the app's close() once it has stopped serving (SIGTERM, SIGINT)."""
    from granian.server import Server

    try:
        Server._spawn_rsgi_worker(*args, **kwargs)
    finally:
        close_app()


def _granian_logging() -> dict[str, Any]:
    """granian's logging set-up, with every record (its own and the access log) passed through redact.py."""
    redact = {"redact": {"()": "ipyy_mock.server.redact.RedactFilter"}}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": redact,
        "formatters": {
            "generic": {"()": "logging.Formatter", "fmt": "[%(asctime)s] [%(levelname)s] %(message)s"},
            "access": {"()": "logging.Formatter", "fmt": "%(message)s"},
        },
        "handlers": {
            "console": {
                "formatter": "generic",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["redact"],
            },
            "access": {
                "formatter": "access",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "filters": ["redact"],
            },
        },
        "loggers": {
            "_granian": {"handlers": ["console"], "level": "WARNING", "propagate": False},
            "granian.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }


def event_loop() -> str:
    """The asyncio event loop each granian worker runs the edge on: uvloop where it is installed (a dependency
    everywhere but Windows), else the standard one. Measured with the edge in front of a bare app (docs/server.md):
    uvloop spends about 15% less CPU per request. granian's own ``auto`` would prefer rloop when installed, which
    its authors call not suited for production."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def _serve_granian(config: ServeConfig, on_ready: Callable[[], None] | None) -> None:
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    open_files = raise_open_files()
    server = Server(
        "ipyy_mock.app:create_app",  # informational only: the loader below builds the app
        address=config.host,
        port=config.port,
        interface=Interfaces.RSGI,  # the edge (edge.py) in front of the WSGI app: see its docstring
        loop=Loops(event_loop()),
        workers=config.workers,
        http=HTTPModes.http1,  # the vendor is IIS over HTTP/1.1; no h2c
        backlog=LISTEN_BACKLOG,
        backpressure=connection_limit(open_files),  # idle and slow connections must not lock out a send
        websockets=False,
        http1_settings=HTTP1Settings(header_read_timeout=max(1, int(config.header_timeout * 1000))),
        log_level=LogLevels.warning,
        log_dictconfig=_granian_logging(),
        log_access=config.access_log,
        log_access_format=GRANIAN_ACCESS_LOG_FORMAT,
        respawn_failed_workers=True,
        workers_kill_timeout=STOP_GRACE,
    )
    stop = threading.Event()
    method = multiprocessing.get_start_method()
    context = multiprocessing.get_context(method if method in ("fork", "spawn") else "spawn")  # as granian
    ready = context.Semaphore(0)
    opened = context.Event()
    if on_ready is None:
        opened.set()
    else:
        threading.Thread(
            target=_wait_listening,
            args=(config.host, config.port, on_ready, stop, ready, config.workers, opened),
            name="ipyy-ready",
            daemon=True,
        ).start()
    try:
        server.serve(
            spawn_target=_granian_worker,
            target_loader=partial(load_app, config, True, ready, opened),
            wrap_loader=False,
        )
    finally:
        stop.set()


# -- gunicorn --------------------------------------------------------------------------------


def worker_exit(server: Any, worker: Any) -> None:
    """gunicorn hook, in the worker process: stop its push runner cleanly (push/runner.py)."""
    close_app()


def _serve_gunicorn(config: ServeConfig, on_ready: Callable[[], None] | None) -> None:
    from gunicorn.app.base import BaseApplication

    class GunicornServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": config.bind,
                "workers": config.workers,
                "worker_class": "gthread",
                "threads": config.threads,
                "timeout": 60,
                "graceful_timeout": 5,
                "keepalive": 5,
                "worker_connections": connection_limit(raise_open_files()),  # gthread's default is 1,000
                "accesslog": "-" if config.access_log else None,
                "access_log_format": ACCESS_LOG_FORMAT,
                "errorlog": "-",
                "loglevel": "warning",
                "proc_name": "ipyy-mock",
                "worker_exit": worker_exit,
                "logger_class": "ipyy_mock.server.redact.RedactingLogger",  # no password in gunicorn's own lines
            }
            if on_ready is not None:
                options["when_ready"] = lambda arbiter: on_ready()  # the master listens: print the banner
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return load_app(config)

    GunicornServer().run()


def serve(config: ServeConfig, on_ready: Callable[[], None] | None = None) -> None:
    """Run ``config.server`` until SIGTERM/SIGINT; ``on_ready`` once the port listens. StartError before that."""
    if config.server not in SERVERS:
        raise StartError(f"unknown server {config.server!r}: choose one of {', '.join(SERVERS)}")
    check_port(config.host, config.port)
    if config.server == "gunicorn":
        _serve_gunicorn(config, on_ready)
    else:
        _serve_granian(config, on_ready)
