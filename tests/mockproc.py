"""Start the real mock the way a user does (the ``ipyy-mock serve`` console script) on a free port."""
from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ipyy_mock.platform import DEMO_ACCOUNT, Platform
from ipyy_mock.store import Account

BIN = Path(sys.executable).parent
_names = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def console_script(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else name


@dataclass
class MockProcess:
    db_path: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    banner: str = ""
    args: tuple[str, ...] = ()  # more `ipyy-mock serve` flags, e.g. ("--admin-token", "T")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "MockProcess":
        cmd = [console_script("ipyy-mock"), "serve", "--port", str(self.port), "--db", str(self.db_path),
               "--workers", str(self.workers), *self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.banner = ""
        while True:  # the banner ends with the "try" line
            line = self.proc.stdout.readline()
            self.banner += line
            if not line or line.lstrip().startswith("try"):
                break
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ipyy-mock exited: {self.banner}{self.proc.stdout.read()}")
            try:
                with urllib.request.urlopen(self.base_url + "/WebService.asmx?WSDL", timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"ipyy-mock did not answer on {self.base_url} within {timeout}s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def restart(self) -> "MockProcess":
        self.stop()
        return self.start()

    # -- state, through the same SQLite file the server uses ----------------
    def platform(self) -> Platform:
        return Platform(self.db_path)

    def new_account(self, **overrides) -> Account:
        values = {**DEMO_ACCOUNT.__dict__, "name": f"acct{os.getpid()}x{next(_names)}", "password": "s3cret!",
                  "created_at": time.time(), **overrides}
        values["prices"] = dict(values["prices"])
        values["sensitive_words"] = list(values["sensitive_words"])
        account = Account(**values)
        store = self.platform().store
        store.insert_account(account)
        store.close()
        return account

    def account(self, name: str) -> Account:
        store = self.platform().store
        try:
            return store.get_account(name)
        finally:
            store.close()

    def balance(self, name: str) -> Decimal:
        return self.account(name).balance
