"""Runs the mock on gunicorn, a production pre-fork WSGI server.

Why gunicorn with gthread workers: real processes (so a crash or ``kill -9``
behaves like a real deployment), keep-alive for clients that reuse
connections, and threads so one slow caller (or an injected latency fault)
does not stall a worker. 2 workers x 2 threads by default: on the 2-core
benchmark machine it sent ~10% more than 2 x 4 (fewer threads contending for
each worker's GIL); 1 thread (or gunicorn's sync worker) was faster still,
but then a single slow request holds up everything its worker would serve
(README, Benchmarks). Each worker builds its own app after the fork, so no
SQLite connection crosses a fork. The master seeds the demo account before
forking. Each worker also starts a push runner; a lease in the database lets
exactly one of them push.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'  # path only: query strings carry passwords


def worker_exit(server: Any, worker: Any) -> None:
    """gunicorn hook, in the worker process: stop its push runner cleanly (see pusher.py)."""
    close = getattr(getattr(worker, "wsgi", None), "close", None)
    if callable(close):
        close()


class MockServer(BaseApplication):
    def __init__(
        self,
        db_path: str,
        zone: str | None,
        options: dict[str, Any],
        admin_token: str | None = None,
        max_body: int | None = None,
        journal: bool = True,
        allowed_hosts: tuple[str, ...] = (),
    ) -> None:
        self.allowed_hosts = allowed_hosts  # [security] Host names the admin API and inbox answer for
        self.db_path = db_path
        self.journal = journal  # [journal] --no-journal turns the request journal off
        self.max_body = max_body  # [reliability] request body limit (limits.py)
        self.zone = zone
        self.options = options
        self.admin_token = admin_token
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        import gc

        from ipyy_mock.app import create_app

        app = create_app(
            self.db_path,
            self.zone,
            admin_token=self.admin_token,
            push=True,
            max_body=self.max_body,
            journal=self.journal,  # [journal]
            allowed_hosts=self.allowed_hosts,
        )  # [security]
        # Everything built so far (modules, spyne's models, the WSDL schema, the app) lives as long as the worker:
        # moved out of the collector's generations, the occasional full collection no longer walks ~50,000
        # objects (tens of ms with the GIL held).
        gc.collect()
        gc.freeze()
        return app


def serve(
    host: str,
    port: int,
    db_path: str,
    workers: int,
    threads: int = 2,
    zone: str | None = None,
    access_log: bool = False,
    admin_token: str | None = None,
    max_body: int | None = None,
    journal: bool = True,
    allowed_hosts: tuple[str, ...] = (),
) -> None:
    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 5,
        "keepalive": 5,
        "accesslog": "-" if access_log else None,
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "ipyy-mock",
        "worker_exit": worker_exit,
        "logger_class": "ipyy_mock.redact.RedactingLogger",  # [reliability] no password in gunicorn's own lines
    }
    MockServer(
        db_path,
        zone,
        options,
        admin_token,
        max_body,
        journal=journal,  # [journal]
        allowed_hosts=allowed_hosts,
    ).run()  # [security]
