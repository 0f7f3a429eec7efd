"""Async clients vs sync clients in threads: per call, and under many concurrent callers, side by side.

    python benchmarks/async_vs_threads.py                  # both surfaces, the mock and a canned server
    python benchmarks/async_vs_threads.py --calls 200 --callers 50 --rounds 3 --target canned --surface http

What it measures, for ``AsyncSoapClient`` / ``AsyncHttpClient`` against ``SoapClient`` / ``HttpClient``:

1. per call: one caller, calls one after another (the async client awaited on its event loop, the sync
   client called directly); median latency of each and the ratio async / sync;
2. under N concurrent callers (default 50): the async client from N tasks of one event loop, the sync
   client from N threads of a ThreadPoolExecutor; throughput, p50 / p95 latency and the client's own
   CPU time per call (``time.process_time`` of this process; the server is another process), and the
   ratios async / threads.

Both flavours share one client per flavour (as a service would) with a pool of N connections (requests:
``HTTPAdapter(pool_maxsize=N)``; httpx: ``Limits(max_keepalive_connections=N)``), so neither pays for
reconnecting. Each round runs the two flavours back to back, in alternating order, and the ratios are of
the per-round medians: a noisy neighbour slows both alike.

Targets (loopback only): ``mock`` is ``ipyy-mock serve`` (the real thing: the server's cost included);
``canned`` is the bare WSGI app of ``raw_app.py`` on the same gunicorn settings, answering every POST
with a fixed OK reply, so what differs is the clients alone. Bounded: every figure comes from the calls
given on the command line (defaults: about a minute on two idle cores). Nothing is written to disk
except a temporary database and the canned replies, both removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import requests
from requests.adapters import HTTPAdapter

from ipyy_client import AsyncHttpClient, AsyncSoapClient, HttpClient, SoapClient
from ipyy_mock.testing.process import MockServerProcess, free_port

BENCH = Path(__file__).resolve().parent
ACCOUNT, PASSWORD = "bench", "bench-pw-1"
TEXT = "性能测试【华信】"
MOBILE = "8613800138000"
CANNED_SOAP = (  # the mock's reply to the send, as ASMX writes it (docs/contract.md §2)
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
    '<soap:Body><SendI18NSmsResponse xmlns="http://www.yysms.com/"><SendI18NSmsResult xsi:type="I18NSendResult">'
    "<PayType>1</PayType><StatusCode>OK</StatusCode><Description>操作成功</Description><MsgId>1000001</MsgId>"
    "<SuccessCounts>1</SuccessCounts><BillingCount>1</BillingCount><Amount>1999</Amount><Balance>99.95</Balance>"
    "<BillingAmount>0.05</BillingAmount></SendI18NSmsResult></SendI18NSmsResponse></soap:Body></soap:Envelope>"
)
CANNED_HTTP = (
    '<?xml version="1.0" encoding="utf-8" ?><returnsms><returnstatus>Success</returnstatus>'
    "<message>操作成功</message><balance>99.95</balance><taskID>1000001</taskID>"
    "<BillingAmount>0.05</BillingAmount><successCounts>1</successCounts></returnsms>"
)


# --- the servers ---------------------------------------------------------------------------------------


class Canned:
    """raw_app.py on gunicorn (gthread, as the mock runs), loopback, answering the canned OK replies."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        (workdir / "soap.xml").write_text(CANNED_SOAP, encoding="utf-8")
        (workdir / "http.xml").write_text(CANNED_HTTP, encoding="utf-8")
        env = {**os.environ, "RAW_SOAP_REPLY": str(workdir / "soap.xml"), "RAW_HTTP_REPLY": str(workdir / "http.xml")}
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        self.proc = subprocess.Popen(
            [
                gunicorn,
                "-k",
                "gthread",
                "-w",
                "2",
                "--threads",
                "4",
                "--keep-alive",
                "5",
                "-b",
                f"127.0.0.1:{self.port}",
                "--chdir",
                str(BENCH),
                "raw_app:app",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.base_url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.post(self.base_url + "/I18NSms.aspx", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise SystemExit("the canned server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start_mock(workdir: Path) -> MockServerProcess:
    server = MockServerProcess(workdir / "mock.db")
    server.start()
    reply = requests.post(
        f"{server.base_url}/_mock/api/accounts",
        timeout=30,
        json={"name": ACCOUNT, "password": PASSWORD, "balance": "100000000.00"},
    )
    if reply.status_code >= 400:
        server.stop()
        raise SystemExit(f"could not create the benchmark account: {reply.status_code} {reply.text[:200]}")
    return server


# --- the clients, one per flavour, with a pool for N callers -------------------------------------------


def sync_client(surface: str, base_url: str, callers: int) -> Any:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=callers)
    session.mount("http://", adapter)
    if surface == "soap":
        return SoapClient(ACCOUNT, PASSWORD, base_url, session=session)
    return HttpClient(ACCOUNT, PASSWORD, base_url=base_url, session=session, retries=0)


def async_client(surface: str, base_url: str, callers: int) -> tuple[Any, httpx.AsyncClient]:
    pool = httpx.AsyncClient(limits=httpx.Limits(max_connections=callers, max_keepalive_connections=callers))
    if surface == "soap":
        return AsyncSoapClient(ACCOUNT, PASSWORD, base_url, session=pool), pool
    return AsyncHttpClient(ACCOUNT, PASSWORD, base_url=base_url, session=pool, retries=0), pool


def sync_call(client: Any) -> Callable[[], Any]:
    if isinstance(client, SoapClient):
        return lambda: client.send_i18n_sms(MOBILE, TEXT)
    return lambda: client.send(MOBILE, TEXT)


def async_call(client: Any) -> Callable[[], Awaitable[Any]]:
    if isinstance(client, AsyncSoapClient):
        return lambda: client.send_i18n_sms(MOBILE, TEXT)
    return lambda: client.send(MOBILE, TEXT)


# --- one measurement -----------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    cpu: float
    latencies: list[float]

    @property
    def calls(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds

    @property
    def cpu_ms_per_call(self) -> float:
        return self.cpu / self.calls * 1e3

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3


def check(result: Any) -> None:
    if not result.ok:
        raise SystemExit(f"a send failed during the benchmark: {result!r}")


def run_sync(client: Any, calls: int, callers: int) -> Run:
    call = sync_call(client)

    def one() -> float:
        t0 = time.perf_counter()
        check(call())
        return time.perf_counter() - t0

    cpu0, t0 = time.process_time(), time.perf_counter()
    if callers == 1:
        latencies = [one() for _ in range(calls)]
    else:
        with ThreadPoolExecutor(max_workers=callers) as pool:
            latencies = list(pool.map(lambda _: one(), range(calls)))
    return Run(time.perf_counter() - t0, time.process_time() - cpu0, latencies)


def run_async(runner: asyncio.Runner, client: Any, calls: int, callers: int) -> Run:
    call = async_call(client)

    async def main() -> list[float]:
        latencies: list[float] = []
        queue = iter(range(calls))

        async def worker() -> None:
            for _ in queue:  # each task takes the next call until none is left
                t0 = time.perf_counter()
                check(await call())
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker() for _ in range(callers)))
        return latencies

    cpu0, t0 = time.process_time(), time.perf_counter()
    latencies = runner.run(main())
    return Run(time.perf_counter() - t0, time.process_time() - cpu0, latencies)


def compare(surface: str, base_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Rounds of (async, threads) back to back, order swapped each round; medians of the per-round figures."""
    out: dict[str, Any] = {}
    with asyncio.Runner() as runner:
        aclient, pool = async_client(surface, base_url, args.callers)
        sclient = sync_client(surface, base_url, args.callers)
        try:
            for _ in range(20):  # warm-up: connections, templates, schema
                check(sync_call(sclient)())
                check(runner.run(async_call(aclient)()))
            for label, callers, calls in (
                ("per call", 1, args.calls),
                (f"{args.callers} callers", args.callers, args.calls * 5),
            ):
                rounds: dict[str, list[Run]] = {"async": [], "threads": []}
                for i in range(args.rounds):
                    order = ("async", "threads") if i % 2 == 0 else ("threads", "async")
                    for name in order:
                        run = (
                            run_async(runner, aclient, calls, callers)
                            if name == "async"
                            else run_sync(sclient, calls, callers)
                        )
                        rounds[name].append(run)
                out[label] = rounds
        finally:
            sclient.close()
            runner.run(pool.aclose())  # borrowed by the client: the caller closes it
    return out


def med(values: list[float]) -> float:
    return statistics.median(values)


def report(target: str, surface: str, result: dict[str, Any]) -> None:
    print(f"\n== {surface.upper()} against the {target}")
    one = result["per call"]
    a = med([r.pct(0.5) for r in one["async"]])
    s = med([r.pct(0.5) for r in one["threads"]])
    ac = med([r.cpu_ms_per_call for r in one["async"]])
    sc = med([r.cpu_ms_per_call for r in one["threads"]])
    print(
        f"   per call (1 caller):   async {a:7.3f} ms   sync {s:7.3f} ms   ratio async/sync {a / s:5.2f}"
        f"   | client CPU/call async {ac:6.3f} ms  sync {sc:6.3f} ms  ratio {ac / sc:5.2f}"
    )
    label = next(k for k in result if k != "per call")
    many = result[label]
    for name in ("async", "threads"):
        runs = many[name]
        print(
            f"   {label:>11} {name:>7}: {med([r.per_second for r in runs]):8.1f} calls/s   "
            f"p50 {med([r.pct(0.5) for r in runs]):7.2f} ms   p95 {med([r.pct(0.95) for r in runs]):7.2f} ms   "
            f"client CPU/call {med([r.cpu_ms_per_call for r in runs]):6.3f} ms"
        )
    ratio = med([r.per_second for r in many["async"]]) / med([r.per_second for r in many["threads"]])
    cpu_ratio = med([r.cpu_ms_per_call for r in many["async"]]) / med([r.cpu_ms_per_call for r in many["threads"]])
    p95 = med([r.pct(0.95) for r in many["async"]]) / med([r.pct(0.95) for r in many["threads"]])
    print(
        f"   {label:>11}  ratios: throughput async/threads {ratio:5.2f}   p95 async/threads {p95:5.2f}   "
        f"client CPU/call async/threads {cpu_ratio:5.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--calls",
        type=int,
        default=200,
        help="calls per flavour per round, one caller (five times as many under the concurrent callers); default 200",
    )
    parser.add_argument("--callers", type=int, default=50, help="concurrent callers (tasks / threads); default 50")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per measurement; default 3")
    parser.add_argument("--target", choices=("mock", "canned", "both"), default="both")
    parser.add_argument("--surface", choices=("soap", "http", "both"), default="both")
    args = parser.parse_args(argv)
    if not (1 <= args.calls <= 5000 and 2 <= args.callers <= 200 and 1 <= args.rounds <= 10):
        parser.error("keep it bounded: --calls 1..5000, --callers 2..200, --rounds 1..10")
    surfaces = ("soap", "http") if args.surface == "both" else (args.surface,)
    targets = ("mock", "canned") if args.target == "both" else (args.target,)
    print(
        f"ipyy-sms async vs threads: {args.calls} calls x {args.rounds} rounds per call, "
        f"{args.calls * 5} x {args.rounds} under {args.callers} callers; Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPU(s), loopback"
    )
    with tempfile.TemporaryDirectory(prefix="ipyy-async-bench-") as tmp:
        workdir = Path(tmp)
        for target in targets:
            server: Any = start_mock(workdir) if target == "mock" else Canned(workdir)
            try:
                for surface in surfaces:
                    report(target, surface, compare(surface, server.base_url, args))
            finally:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
