"""Run the real mock as a child process, the way a user starts it: for the pytest plugin and this project's tests.

Why a process and not an in-process app: the point of the mock is contract
tests over real HTTP against a real server (granian, SQLite, background
delivery), so the fixture starts exactly what ``ipyy-mock serve`` starts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from ipyy_mock.server.health import PATH as HEALTH_PATH  # ready: answers, and can write its database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def console_script(name: str) -> str:
    """The console script next to the running interpreter (a venv's bin/), else from PATH."""
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else name


@dataclass
class MockServerProcess:
    """``ipyy-mock serve`` on a free loopback port; its output is kept (last 2,000 lines) in ``output``."""

    db_path: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    args: tuple[str, ...] = ()  # more `ipyy-mock serve` flags, e.g. ("--allowed-host", "mock")
    # The admin token, handed to the child in $IPYY_MOCK_ADMIN_TOKEN (not on its command line, where `ps` shows it)
    admin_token: str | None = field(default=None, repr=False)
    env: dict[str, str] | None = field(default=None, repr=False)  # the child's environment (default: ours)
    proc: subprocess.Popen | None = None
    banner: str = ""
    output: deque = field(default_factory=lambda: deque(maxlen=2000))
    _drainer: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            console_script("ipyy-mock"),
            "serve",
            "--port",
            str(self.port),
            "--db",
            str(self.db_path),
            "--workers",
            str(self.workers),
            *self.args,
        ]

    def start(self, timeout: float = 30.0) -> "MockServerProcess":
        env = dict(os.environ if self.env is None else self.env)
        if self.admin_token is not None:
            env["IPYY_MOCK_ADMIN_TOKEN"] = self.admin_token
        self.proc = subprocess.Popen(
            self.command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, env=env
        )
        self.banner = ""
        stdout = self.proc.stdout
        assert stdout is not None  # stdout=PIPE
        while True:  # the banner ends with the "try" line
            line = stdout.readline()
            self.banner += line
            if not line or line.lstrip().startswith("try"):
                break
        # keep draining: a child whose pipe fills up blocks on its next log line
        self._drainer = threading.Thread(target=self._drain, args=(self.proc,), daemon=True)
        self._drainer.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                time.sleep(0.2)
                raise RuntimeError(f"ipyy-mock exited ({self.proc.returncode}):\n{self.banner}{''.join(self.output)}")
            try:
                with urllib.request.urlopen(self.base_url + HEALTH_PATH, timeout=2) as reply:  # 503 raises
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"ipyy-mock did not answer on {self.base_url} within {timeout}s:\n{''.join(self.output)}")

    def _drain(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None  # stdout=PIPE
        for line in proc.stdout:
            self.output.append(line)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self._drainer is not None:
            self._drainer.join(timeout=5)  # everything it printed is in ``output`` now
        self.proc = None

    def output_text(self) -> str:
        return "".join(self.output)

    def restart(self) -> "MockServerProcess":
        self.stop()
        return self.start()
