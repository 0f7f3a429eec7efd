"""Runs the mock on gunicorn, a production pre-fork WSGI server.

Why gunicorn with gthread workers: real processes (so a crash or ``kill -9``
behaves like a real deployment), keep-alive for clients that reuse
connections, and threads so one slow caller does not stall a worker. Each
worker builds its own app after the fork, so no SQLite connection crosses a
fork. The master seeds the demo account before forking.
"""
from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'  # path only: query strings carry passwords


class MockServer(BaseApplication):
    def __init__(self, db_path: str, zone: str | None, options: dict[str, Any]) -> None:
        self.db_path = db_path
        self.zone = zone
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from ipyy_mock.app import create_app

        return create_app(self.db_path, self.zone)


def serve(host: str, port: int, db_path: str, workers: int, threads: int = 4, zone: str | None = None,
          access_log: bool = False) -> None:
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
    }
    MockServer(db_path, zone, options).run()
