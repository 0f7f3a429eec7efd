"""A real push receiver on a free port: records every pushed body and answers from a script.

Script items: ``b"1"`` / ``b"error"`` / any bytes (HTTP 200 with that body),
``(status, body)``, or ``HANG`` (say nothing until the receiver is closed or
``release()`` is called: the mock's read timeout fires). After the script
runs out every push gets ``default``.

``listening=False`` leaves its port closed, so a push to it is refused at
once (a dead receiver); ``listen()`` brings it up on that port.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from ipyy_client.push import parse_push
from support.net import LoopbackHTTPServer, QuietHandler

HANG = "hang"


@dataclass
class Push:
    body: bytes
    content_type: str
    items: list | Exception
    answered: object


class PushReceiver(LoopbackHTTPServer):
    def __init__(self, script: list | tuple = (), default: object = b"1", listening: bool = True) -> None:
        self.script = list(script)
        self.default = default
        self.pushes: list[Push] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    items = parse_push(body)
                except Exception as exc:  # recorded, so a test sees what was wrong with the body
                    items = exc
                with receiver._lock:
                    answer = receiver.script.pop(0) if receiver.script else receiver.default
                    receiver.pushes.append(Push(body, self.headers.get("Content-Type", ""), items, answer))
                if answer == HANG:
                    receiver._released.wait(60)
                    return
                status, reply = answer if isinstance(answer, tuple) else (200, answer)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        super().__init__(Handler, listening=listening)

    @property
    def url(self) -> str:
        return f"{self.base_url}/push"

    def listen(self) -> "PushReceiver":
        self.up()
        return self

    def release(self) -> None:
        self._released.set()

    def close(self) -> None:
        self._released.set()
        super().close()

    # -- waiting, bounded ------------------------------------------------------
    def wait_for(self, count: int, timeout: float = 20.0) -> list[Push]:
        wait_until(lambda: len(self.pushes) >= count, timeout, f"{count} push(es); got {len(self.pushes)}")
        return list(self.pushes)

    def quiet(self, count: int, seconds: float = 0.8) -> list[Push]:
        """Still exactly ``count`` pushes after ``seconds`` (a few runner polls): nothing duplicated."""
        time.sleep(seconds)
        assert len(self.pushes) == count, [p.body for p in self.pushes]
        return list(self.pushes)


def wait_until(condition: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)
