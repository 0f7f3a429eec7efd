"""A legitimate send with 2,000 idle or slow connections open, side by side with none open.

    .venv/bin/python benchmarks/idle_connections.py [--idle 2000] [--sends 30] [--rounds 3]

One mock as shipped (``ipyy-mock serve``: granian, 2 workers x 1 thread). Each round measures ``--sends`` SOAP
sends one after the other (``SoapClient``, a keep-alive session made before the idle connections) with no other
connection open, then opens ``--idle`` connections (half send nothing, half the start of a request line and
then nothing, as slow clients do) and measures the same sends while they are open. The idle connections are
dropped by the mock after ``--header-timeout`` (5 s), so the sends are measured right after they are all
connected. Prints the median and the worst send of each, and their ratio: with the server's connection limit
at granian's default (backlog / workers = 512 per worker) the sends behind ~1,024 idle connections waited for
them to time out (seconds); docs/server.md has the figures.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ipyy_client import SoapClient
from ipyy_mock.testing.process import MockServerProcess


def open_idle(port: int, count: int) -> list[socket.socket]:
    """``count`` connections to the mock: even ones silent, odd ones with a partial request line."""
    sockets = []
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if i % 2:
            s.sendall(b"POST /WebService.asmx HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sockets.append(s)
    return sockets


def timed_sends(client: SoapClient, sends: int) -> list[float]:
    times = []
    for _ in range(sends):
        start = time.perf_counter()
        result = client.send_i18n_sms("8613800138000", "idle connections【华信】")
        times.append(time.perf_counter() - start)
        if not result.ok:
            raise SystemExit(f"send refused: {result.status}")
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--idle", type=int, default=2000)
    p.add_argument("--sends", type=int, default=30)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        server = MockServerProcess(Path(tmp) / "mock.db").start()
        try:
            quiet: list[float] = []
            crowded: list[float] = []
            with SoapClient("demo", "demo123", server.base_url, timeout=30) as client:
                timed_sends(client, 5)  # warm-up: templates, caches, the keep-alive connection
                for _ in range(args.rounds):
                    quiet += timed_sends(client, args.sends)
                    idle = open_idle(server.port, args.idle)
                    try:
                        crowded += timed_sends(client, args.sends)
                        # a new connection too, not only the kept-alive one
                        with SoapClient("demo", "demo123", server.base_url, timeout=30) as fresh:
                            crowded += timed_sends(fresh, 1)
                    finally:
                        for s in idle:
                            s.close()
                    time.sleep(1)
        finally:
            server.stop()
    print(f"{'':28}{'median ms':>12}{'worst ms':>12}")
    for name, times in (("no idle connections", quiet), (f"{args.idle} idle connections", crowded)):
        print(f"{name:28}{statistics.median(times) * 1000:12.1f}{max(times) * 1000:12.1f}")
    ratio = statistics.median(crowded) / statistics.median(quiet)
    print(f"ratio (idle / none): median {ratio:.2f}, worst {max(crowded) / max(quiet):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
