"""Where one send spends its CPU inside a mock worker: SOAP, HTTP and domestic, in process, no network.

Each send goes through the same objects a granian worker runs: the edge
(``ipyy_mock.server.edge.Edge``, driven here by a stand-in for granian's RSGI
protocol), the journal, the fault middleware, the router, the surface and
the platform, on a fresh SQLite file (WAL, ``synchronous=NORMAL``, as
served). Three views:

1. layers: CPU per send of the whole stack, then of less and less of it
   (no journal; the surface with the platform stubbed out; ``Platform.send``
   alone), measured in interleaved rounds, medians: the differences are what
   each layer costs;
2. SQL: every statement a send runs, timed;
3. cProfile: the functions with the most own time;
4. SOAP only: the surface step by step, each step timed alone on the
   benchmark's request, in the order the front runs them (read the body in
   its Content-Type's charset, parse it and note what ASMX's two readings
   reach, route it, read the parameters as XmlSerializer binds them, write
   ASMX's reply), and the journal's own decoding of the same body; the
   surface's remainder is what the front spends around them.

What this cannot show is what only a loaded server pays: granian's own
threads, the event loop's I/O, and SQLite reading its pages again after the
other worker's commits. ``bench.py`` measures those under wrk (CPU per
request), and docs/benchmarks.md puts the two together.

Usage: python benchmarks/profile_send.py [--n 2000] [--rounds 3] [--json out.json] [--limits off]

``--limits off`` turns the vendor's sending limits off for the benchmark's account: its sends all carry
验证码 to the same numbers, so with the limits on (the default) every send past the third is a warning
written beside it; off, a send does the work it did before the limits existed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import gc
import io
import json
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import bench  # noqa: E402  (bodies and constants shared with the benchmark)
from ipyy_mock.core.exchange import EXCHANGE_KEY, Exchange  # noqa: E402
from support.rsgi import Protocol, Scope  # noqa: E402  (granian's side of RSGI, as the edge reads it)

ENDPOINTS = {"soap": "soap", "http": "send", "domestic": "domestic"}
IN_HAND = 4  # requests a worker has in hand at once under bench.py's load (16 connections, 2 workers: ~3.5 measured)


LIMITS: dict[str, str] = {}  # main(): the account's ``limits`` when --limits is given


def make_db(path: Path) -> None:
    from ipyy_mock.core.platform import DEMO_ACCOUNT
    from ipyy_mock.core.store import Account, Store

    store = Store(str(path))
    store.insert_account(
        Account(
            name=bench.ACCOUNT,
            password=bench.PASSWORD,
            balance=Decimal(bench.BALANCE),
            prices=dict(DEMO_ACCOUNT.prices),
            sensitive_words=list(DEMO_ACCOUNT.sensitive_words),
            created_at=time.time(),
            **LIMITS,
        )
    )
    store.close()


def cpu_us(batch: Callable[[int], Any], n: int) -> float:
    """CPU time of one send, in us, over a batch of ``n`` (after a short warm-up batch)."""
    batch(min(200, n))
    start = time.process_time()
    batch(n)
    return (time.process_time() - start) / n * 1e6


def repeat(fn: Callable[[], Any]) -> Callable[[int], None]:
    def batch(n: int) -> None:
        for _ in range(n):
            fn()

    return batch


def surface_callables(surface: str, db: Path) -> dict[str, Callable[[int], Any]]:
    """The stack and its parts, each a call that serves a batch of ``n`` sends (the edge's in one event loop run,
    one request after the other, as a worker's loop serves them)."""
    from ipyy_client.codes import ResultCode
    from ipyy_mock.app import create_app
    from ipyy_mock.core.domain import SendOutcome, SendRequest
    from ipyy_mock.server.edge import Edge

    path, body, sent = bench.WIRE_PATHS[surface], bench.send_bodies()[surface], bench.SEND_HEADERS[surface]
    headers = {"host": "127.0.0.1:8080", "content-length": str(len(body))}
    headers.update((name.lower(), value) for name, value in sent.items())
    loop = asyncio.new_event_loop()
    full = Edge(create_app(str(db)), max_body=4 << 20, body_timeout=15)
    bare = Edge(create_app(str(db), journal=False), max_body=4 << 20, body_timeout=15)
    mock_app = bare.app.app  # FaultMiddleware -> MockApp
    platform = mock_app.platform
    scope = Scope(path, headers)

    def through(edge: Edge) -> Callable[[int], Any]:
        async def one() -> None:
            proto = Protocol(body, later=False)
            await edge.__rsgi__(scope, proto)
            reply = proto.reply
            assert reply is not None and (b"Success" in reply[1] or b"StatusCode>OK<" in reply[1]), reply

        async def sends(n: int) -> None:
            # IN_HAND requests at a time, as a worker has them under the benchmark's load (the group commit,
            # ipyy_mock/core/group.py, commits their writes together)
            for start in range(0, n, IN_HAND):
                await asyncio.gather(*(one() for _ in range(min(IN_HAND, n - start))))

        return lambda n: loop.run_until_complete(sends(n))

    outcome = SendOutcome(
        ResultCode.OK,
        task_id=1000001,
        balance=Decimal("99.95"),
        billing_amount=Decimal("0.05"),
        billing_count=1,
        success_count=1,
    )
    outcome.pay_type, outcome.points = "prepaid", 1999  # what an authenticated send's reply says (contract §2)

    class StubPlatform:  # the surface alone: every send "succeeds" without the core
        store = platform.store

        def send(self, req: SendRequest) -> SendOutcome:
            return outcome

    surface_app = mock_app.endpoints[ENDPOINTS[surface]].__class__(
        StubPlatform(), **({"max_body": 4 << 20} if surface == "soap" else {})
    )
    env = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": sent["Content-Type"],
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8080",
    }
    if "SOAPAction" in sent:
        env["HTTP_SOAPACTION"] = sent["SOAPAction"]

    def surface_only() -> None:
        exchange = Exchange(path=path.lower(), endpoint=ENDPOINTS[surface])  # what the router sets
        environ = dict(env, **{"wsgi.input": io.BytesIO(body), EXCHANGE_KEY: exchange})
        b"".join(surface_app(environ, lambda status, headers, exc=None: None))

    request = SendRequest(
        account=bench.ACCOUNT,
        password=bench.PASSWORD if surface == "soap" else bench.md5_upper(bench.PASSWORD),
        msisdns=bench.MSISDN if surface != "domestic" else bench.MSISDN[2:],
        content=bench.CONTENT,
        plan_send_time=None,
        ext_number=None,
        hybrid=surface == "domestic",
        client_ip="127.0.0.1",
        via={"soap": "soap11", "http": "http", "domestic": "domestic"}[surface],
        warnings=[],
    )
    return {
        "whole stack (edge, journal, faults, router, surface, platform)": through(full),
        "without the journal": through(bare),
        "the surface alone (platform stubbed)": repeat(surface_only),
        "Platform.send alone": repeat(lambda: platform.send(request)),
    }


def layers(surface: str, n: int, rounds: int, work: Path) -> dict[str, Any]:
    db = work / f"layers_{surface}.db"
    make_db(db)
    calls = surface_callables(surface, db)
    samples: dict[str, list[float]] = collections.defaultdict(list)
    gc.collect()
    gc.freeze()  # as the server does after building the app
    for r in range(rounds):
        names = list(calls) if r % 2 == 0 else list(reversed(calls))
        for name in names:
            samples[name].append(cpu_us(calls[name], n))
    med = {name: statistics.median(v) for name, v in samples.items()}
    names = list(calls)
    whole, no_journal, surface_alone, platform_alone = (med[k] for k in names)
    return {
        "us_per_send": {k: round(v, 1) for k, v in med.items()},
        "rounds_us": {k: [round(x) for x in v] for k, v in samples.items()},
        "split_us": {
            "journal": round(whole - no_journal, 1),
            "edge, faults, router (without the journal, less surface and platform)": round(
                no_journal - surface_alone - platform_alone, 1
            ),
            "surface (parse, read, reply)": round(surface_alone, 1),
            "Platform.send (rules, billing, SQLite)": round(platform_alone, 1),
        },
    }


def sql(surface: str, n: int, work: Path) -> dict[str, Any]:
    """Each statement of a send, timed through a Connection subclass (this process only)."""
    times: dict[str, float] = collections.defaultdict(float)
    counts: collections.Counter[str] = collections.Counter()

    class Timed(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
            start = time.perf_counter()
            try:
                return super().execute(sql, *args)
            finally:
                times[sql[:70]] += time.perf_counter() - start
                counts[sql[:70]] += 1

        def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
            start = time.perf_counter()
            try:
                return super().executemany(sql, *args)
            finally:
                times[sql[:70]] += time.perf_counter() - start
                counts[sql[:70]] += 1

    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs["factory"] = Timed
        return real_connect(*args, **kwargs)

    db = work / f"sql_{surface}.db"
    make_db(db)
    sqlite3.connect = connect  # type: ignore[assignment]
    try:
        sends = surface_callables(surface, db)["whole stack (edge, journal, faults, router, surface, platform)"]
        sends(200)
        times.clear()
        counts.clear()
        sends(n)
    finally:
        sqlite3.connect = real_connect  # type: ignore[assignment]
    rows = sorted(times.items(), key=lambda kv: -kv[1])
    return {
        "statements": [
            {"sql": k, "us_per_send": round(v / n * 1e6, 1), "per_send": round(counts[k] / n, 2)} for k, v in rows
        ],
        "total_us_per_send": round(sum(times.values()) / n * 1e6, 1),
    }


def hot_functions(surface: str, n: int, work: Path, top: int = 25) -> list[dict[str, Any]]:
    db = work / f"cprofile_{surface}.db"
    make_db(db)
    sends = surface_callables(surface, db)["whole stack (edge, journal, faults, router, surface, platform)"]
    sends(200)
    prof = cProfile.Profile()
    prof.enable()
    sends(n)
    prof.disable()
    stats = pstats.Stats(prof)
    rows = []
    for (filename, line, func), (_cc, calls, own, cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{Path(filename).name}:{line} {func}" if line else func
        rows.append({"function": where, "calls_per_send": calls / n, "own_us": own / n * 1e6, "cum_us": cum / n * 1e6})
    rows.sort(key=lambda r: -r["own_us"])
    return [{k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()} for r in rows[:top]]


#: The steps of the SOAP front (ipyy_mock/soap/front.py), by the names it calls them under, in its order; a name
#: the front does not have (another revision) is left out.
SOAP_STEPS = {
    "decode_body": "decode the body in its charset (decoding.decode_body)",
    "read_document": "parse, and what ASMX's two readings reach (document.read_document)",
    "_route": "route (front._route: the SOAPAction)",
    "read_operation": "read the parameters as XmlSerializer binds them (reader.read_operation)",
    "result_of": "the result's members (front.result_of)",
    "reply_envelope": "write ASMX's reply (envelope.reply_envelope)",
}


def soap_steps(n: int, rounds: int) -> dict[str, Any]:
    """The SOAP front's steps, each timed alone (us of CPU per send, medians of interleaved rounds).

    One request through the front (its platform stubbed) records the arguments each step is called with; each
    step is then called alone with them. What the front spends around its steps is the surface's time (the
    layers above) less their sum. The journal's own reading of the same body (body_text, mask_text) is timed
    the same way."""
    from ipyy_client.codes import ResultCode
    from ipyy_mock import journal
    from ipyy_mock.core.domain import SendOutcome, SendRequest
    from ipyy_mock.soap import front

    body, sent = bench.send_bodies()["soap"], bench.SEND_HEADERS["soap"]
    outcome = SendOutcome(
        ResultCode.OK,
        task_id=1000001,
        balance=Decimal("99.95"),
        billing_amount=Decimal("0.05"),
        billing_count=1,
        success_count=1,
    )
    outcome.pay_type, outcome.points = "prepaid", 1999

    class StubPlatform:
        def send(self, req: SendRequest) -> SendOutcome:
            return outcome

        def record_warnings(self, *args: Any) -> None:
            pass

    app = front.make_soap_app(StubPlatform())
    env = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": bench.WIRE_PATHS["soap"],
        "QUERY_STRING": "",
        "CONTENT_TYPE": sent["Content-Type"],
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_SOAPACTION": sent["SOAPAction"],
        "REMOTE_ADDR": "127.0.0.1",
    }
    calls: dict[str, tuple[Callable[..., Any], tuple, dict]] = {}

    def recording(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.setdefault(name, (fn, args, kwargs))
            return fn(*args, **kwargs)

        return wrapper

    real = {name: getattr(front, name) for name in SOAP_STEPS if callable(getattr(front, name, None))}
    for name, fn in real.items():
        setattr(front, name, recording(name, fn))
    try:
        reply = b"".join(app(dict(env, **{"wsgi.input": io.BytesIO(body)}), lambda status, headers, exc=None: None))
    finally:
        for name, fn in real.items():
            setattr(front, name, fn)
    assert b"StatusCode>OK<" in reply, reply
    steps: dict[str, Callable[[], Any]] = {}
    for name, label in SOAP_STEPS.items():
        if name in calls:
            fn, args, kwargs = calls[name]
            steps[label] = lambda fn=fn, args=args, kwargs=kwargs: fn(*args, **kwargs)
    if "soap_type" in journal.body_text.__code__.co_varnames:  # the journal reads a SOAP body as ASMX does
        ctype = sent["Content-Type"]
        steps["the journal: decode the same body (journal.body_text)"] = lambda: journal.body_text(
            body, len(body), ctype
        )
        text = journal.body_text(body, len(body), ctype)
        try:  # the journal package (an older tree: its one module)
            from ipyy_mock.journal.middleware import mask_text
        except ImportError:
            mask_text = journal.mask_text
        steps["the journal: mask it (mask_text)"] = lambda: mask_text(text)
    samples: dict[str, list[float]] = collections.defaultdict(list)
    for r in range(rounds):
        for name in list(steps) if r % 2 == 0 else list(reversed(steps)):
            samples[name].append(cpu_us(repeat(steps[name]), n * 5))
    return {
        "us_per_send": {k: round(statistics.median(v), 2) for k, v in samples.items()},
        "rounds_us": {k: [round(x, 2) for x in v] for k, v in samples.items()},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000, help="sends per measurement")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the layer measurement")
    p.add_argument("--surfaces", default="soap,http,domestic")
    p.add_argument("--db-dir", default=None)
    p.add_argument("--json", default=None)
    p.add_argument("--limits", choices=("warn", "enforce", "off"), default=None, help="the account's sending limits")
    args = p.parse_args(argv)
    if args.limits:
        LIMITS["limits"] = args.limits
    work = Path(args.db_dir or tempfile.mkdtemp(prefix="ipyy-profile-"))
    work.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"n": args.n, "rounds": args.rounds}
    print("== 6. Where a send's CPU goes, in process (benchmarks/profile_send.py; medians of interleaved rounds)")
    for surface in args.surfaces.split(","):
        section = {"layers": layers(surface, args.n, args.rounds, work)}
        section["sql"] = sql(surface, args.n, work)
        section["hot"] = hot_functions(surface, args.n, work)
        out[surface] = section
        print(f"\n   {surface}: us of CPU per send")
        for name, value in section["layers"]["us_per_send"].items():
            print(f"     {value:7.1f}  {name}")
        print("   split:")
        for name, value in section["layers"]["split_us"].items():
            print(f"     {value:7.1f}  {name}")
        print(f"   SQL, {section['sql']['total_us_per_send']:.1f} us per send (wall):")
        for row in section["sql"]["statements"]:
            print(f"     {row['us_per_send']:7.1f}  x{row['per_send']:<5g} {row['sql']}")
        print("   most own time (cProfile, us per send, inflated by the profiler):")
        for row in section["hot"][:12]:
            print(f"     {row['own_us']:7.1f}  {row['function']}")
        if surface == "soap":
            section["steps"] = soap_steps(args.n, args.rounds)
            steps = section["steps"]["us_per_send"]
            whole = section["layers"]["split_us"]["surface (parse, read, reply)"]
            own = sum(v for k, v in steps.items() if not k.startswith("the journal"))
            print("   the SOAP surface step by step (each alone, us per send):")
            for name, value in steps.items():
                print(f"     {value:7.1f}  {name}")
            print(f"     {whole - own:7.1f}  the rest of the surface (the front around its steps, SendRequest)")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
