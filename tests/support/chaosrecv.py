"""A push receiver that misbehaves on cue: each request's behaviour comes from a script.

Actions (one per request, in order; the script repeats when ``cycle`` is set,
otherwise ``default`` follows it):

- ``OK`` answers ``1``; ``OTHER`` answers 200 ``received``; ``EMPTY_500`` a 500
  with no body (both count as delivered, docs/contract.md §5); ``ERROR`` answers ``error``.
- ``RESET``: reads the request, then resets the connection (``SO_LINGER`` 0, so
  the kernel sends RST, not FIN).
- ``SLOW``: sleeps ``slow`` seconds (longer than the mock's ``push_timeout``),
  then answers ``1`` to a mock that has already given up.
- ``RESTART``: the receiver "process" stops mid-request: this connection is
  reset, the port is closed for ``down`` seconds (a push there is refused),
  then it listens again on the same port. Requests still open from before the
  restart (a ``SLOW`` or ``HOLD`` one) are reset instead of answered.
- ``HOLD``: says nothing until ``release()`` (a test kills the mock meanwhile),
  then answers ``1``.
- ``OK_MARK``: answers ``1``, then sets ``marked`` (a test kills the mock at
  once, between the answer and the mock's settle, or just after).

``listening=False`` starts with the port closed; ``up()`` opens it. Every
request is recorded (``hits``) before it is answered, with the keys of the
items it carried and whether an answer that delivers was written in time.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

from ipyy_client.push import parse_push
from ipyy_client.results import Report, Uplink
from support.net import LoopbackHTTPServer, QuietHandler, reset

OK, OTHER, EMPTY_500, ERROR = "ok", "other", "empty_500", "error"
RESET, SLOW, RESTART, HOLD, OK_MARK = "reset", "slow", "restart", "hold", "ok_mark"
DELIVERING = {OK, OTHER, EMPTY_500, SLOW, HOLD, OK_MARK}  # actions whose answer (if it gets out) delivers
ANSWERS = {
    OK: (200, b"1"),
    OTHER: (200, b"received"),
    EMPTY_500: (500, b""),
    ERROR: (200, b"error"),
    SLOW: (200, b"1"),
    HOLD: (200, b"1"),
    OK_MARK: (200, b"1"),
}


def report_key(item: Report) -> tuple:
    return (item.task_id, item.mobile)


def uplink_key(item: Uplink) -> tuple:
    return (item.task_id, item.mobile, item.content)


@dataclass
class Hit:
    kind: str  # "statusbox" or "callbox"
    keys: frozenset  # report_key / uplink_key of every item
    action: str
    answered: bool = False  # an answer that delivers was written (the mock may still have given up)


class ChaosReceiver(LoopbackHTTPServer):
    def __init__(
        self,
        script: list[str] | tuple[str, ...] = (),
        *,
        cycle: bool = False,
        default: str = OK,
        slow: float = 1.0,
        down: float = 0.5,
        listening: bool = True,
    ) -> None:
        self._script = itertools.cycle(script) if cycle and script else iter(script)
        self.default = default
        self.slow = slow
        self.down_for = down
        self.hits: list[Hit] = []
        self.marked = threading.Event()
        self.holding = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._generation = 0
        self._armed: list[str] = []
        self._closed = False
        super().__init__(self._handler_class(), listening=listening)

    @property
    def url(self) -> str:
        return f"{self.base_url}/push"

    # -- the port ---------------------------------------------------------------------
    def up(self) -> "ChaosReceiver":
        with self._lock:  # a restart's timer must not bring a closed receiver back
            if not self._closed:
                super().up()
        return self

    def down(self) -> None:
        """Close the port: a push is refused. Requests already open are reset when they would answer."""
        with self._lock:
            self._generation += 1
        super().down()

    def restart(self) -> None:
        self.down()
        timer = threading.Timer(self.down_for, self.up)
        timer.daemon = True
        timer.start()

    def release(self) -> None:
        self._released.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._released.set()
        self.down()

    # -- what it saw ----------------------------------------------------------------------
    def seen(self) -> int:
        return len(self.hits)

    def arm(self, action: str) -> None:
        """The next request gets ``action``, whatever the script says (the script resumes after it)."""
        with self._lock:
            self._armed.append(action)

    def _next_action(self) -> str:
        if self._armed:
            return self._armed.pop(0)
        return next(self._script, self.default)

    def _handler_class(self):
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                items = parse_push(body)  # a body that does not parse fails the test: the hit is missing
                kind = "callbox" if items and isinstance(items[0], Uplink) else "statusbox"
                keys = frozenset(uplink_key(i) if isinstance(i, Uplink) else report_key(i) for i in items)
                with receiver._lock:
                    action = receiver._next_action()
                    generation = receiver._generation
                    hit = Hit(kind, keys, action)
                    receiver.hits.append(hit)
                if action == RESET:
                    return self._reset()
                if action == RESTART:
                    self._reset()
                    receiver.restart()
                    return
                if action == SLOW:
                    time.sleep(receiver.slow)
                elif action == HOLD:
                    receiver.holding.set()
                    receiver._released.wait(60)
                if generation != receiver._generation:  # the receiver restarted meanwhile: this request died
                    return self._reset()
                status, reply = ANSWERS[action]
                hit.answered = action in DELIVERING  # before the write: the mock may settle at once after it
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:  # the mock gave up or died: nothing was answered
                    hit.answered = False
                    return
                if action == OK_MARK:
                    receiver.marked.set()

            def _reset(self) -> None:
                """RST, not FIN; the read side holds a reference to the socket, so close it too."""
                self.close_connection = True
                try:
                    self.rfile.close()
                except OSError:
                    pass
                reset(self.connection)

            def handle_one_request(self) -> None:
                try:
                    super().handle_one_request()
                except OSError:  # a reset or a dead peer: the test reads what happened from the journal
                    self.close_connection = True

        return Handler
