"""Where a send spends its time inside the mock: SOAP and HTTP, in process, no network.

Runs the real WSGI app (``ipyy_mock.app.create_app``) through werkzeug's test
client, single-threaded, on a fresh SQLite file (WAL, synchronous=FULL, as
served). Three views:

1. stage timers: the mock's own functions wrapped (here, in this process only)
   with wall-clock timers, so each stage is an inclusive time per request and
   the "self" rows are differences;
2. what-if measurements for the suggestions (synchronous=NORMAL, one XML parse
   instead of two, a reused parser, cached settings, one account read);
3. cProfile, top functions by own time, and own time summed per package.

Usage: python benchmarks/profile_send.py [--n 400] [--json out.json]
Nothing in mockserver/ is modified; the wrappers live only in this process.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import gc
import json
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (bodies and constants shared with the benchmark)
from werkzeug.test import Client  # noqa: E402

SOAP_HEADERS = {"Content-Type": bench.SOAP_CTYPE, "SOAPAction": bench.SOAP_ACTION}
FORM_HEADERS = {"Content-Type": bench.FORM_CTYPE}


def make_db(path: Path) -> None:
    from decimal import Decimal

    from ipyy_mock.core.platform import DEMO_ACCOUNT
    from ipyy_mock.core.store import Account, Store

    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    store = Store(str(path))
    store.insert_account(
        Account(
            name=bench.ACCOUNT,
            password=bench.PASSWORD,
            balance=Decimal(bench.BALANCE),
            prices=dict(DEMO_ACCOUNT.prices),
            sensitive_words=list(DEMO_ACCOUNT.sensitive_words),
            created_at=time.time(),
        )
    )
    store.close()


def per_call_us(fn: Callable[[], Any], n: int) -> float:
    """Median wall time of one call, in us (the median: this machine's fsync and CPU steal are spiky)."""
    for _ in range(min(50, n)):
        fn()
    gc.collect()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


class Timers:
    """Inclusive wall time per label, summed over the run; wrappers installed on classes/modules."""

    def __init__(self) -> None:
        self.acc: dict[str, float] = collections.defaultdict(float)
        self.calls: dict[str, int] = collections.defaultdict(int)
        self._undo: list[tuple[Any, str, Any]] = []
        self.missing: list[str] = []

    def wrap(self, owner: Any, name: str, label: str) -> None:
        """Skips (and notes) a function that does not exist: the mock's code is still moving."""
        if isinstance(owner, type) and name in owner.__dict__:
            orig = owner.__dict__[name]
        elif hasattr(owner, name):
            orig = getattr(owner, name)
        else:
            self.missing.append(f"{getattr(owner, '__name__', owner)}.{name}")
            return
        acc, calls = self.acc, self.calls

        def timed(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return orig(*a, **k)
            finally:
                acc[label] += time.perf_counter() - t0
                calls[label] += 1

        self._undo.append((owner, name, orig))
        setattr(owner, name, timed)

    def wrap_write(self, store_cls: Any) -> None:
        """Store.write is a context manager: time BEGIN IMMEDIATE and COMMIT (the fsync) separately."""
        orig = store_cls.__dict__["write"]
        acc = self.acc

        @contextlib.contextmanager
        def write(self_: Any):
            t0 = time.perf_counter()
            with orig(self_) as db:
                acc["sqlite BEGIN IMMEDIATE"] += time.perf_counter() - t0
                t1 = time.perf_counter()
                yield db
                t2 = time.perf_counter()
                acc["write transaction body"] += t2 - t1
            acc["sqlite COMMIT (WAL append + fsync)"] += time.perf_counter() - t2

        self._undo.append((store_cls, "write", orig))
        store_cls.write = write

    def undo(self) -> None:
        for owner, name, orig in reversed(self._undo):
            setattr(owner, name, orig)
        self._undo.clear()


class TimedConnection(sqlite3.Connection):
    """sqlite3 connection that adds up wall time per SQL statement (the profile process only)."""

    stats: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])

    @staticmethod
    def _key(sql: str) -> str:
        text = " ".join(sql.split())
        return text if len(text) <= 110 else text[:107] + "..."

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        t0 = time.perf_counter()
        try:
            return super().execute(sql, *args)
        finally:
            s = self.stats[self._key(sql)]
            s[0] += 1
            s[1] += time.perf_counter() - t0

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        t0 = time.perf_counter()
        try:
            return super().executemany(sql, *args)
        finally:
            s = self.stats["(many) " + self._key(sql)]
            s[0] += 1
            s[1] += time.perf_counter() - t0


def sql_profile(db_dir: Path, soap_body: bytes, http_body: bytes, n: int) -> dict[str, Any]:
    """Time per SQL statement for a SOAP send, an HTTP send, and pulls (fresh and after 20,000 reports)."""
    from ipyy_mock.app import create_app

    orig_connect = sqlite3.connect

    def connect(*a: Any, **k: Any) -> sqlite3.Connection:
        k.setdefault("factory", TimedConnection)
        return orig_connect(*a, **k)

    db = db_dir / "sqlprofile.db"
    make_db(db)
    sqlite3.connect = connect  # only while the app opens its (this thread's) connection
    try:
        app = create_app(str(db))
    finally:
        sqlite3.connect = orig_connect
    if not isinstance(app.platform.store.db, TimedConnection):
        return {"error": "the store did not open its connection through sqlite3.connect"}
    c = Client(app)
    offset = [0]

    def send(k: int) -> None:
        r = c.post("/I18NSms.aspx", data=bench.http_form(",".join(bench.numbers(k, offset[0]))), headers=FORM_HEADERS)
        offset[0] += k
        assert b"Success" in r.data, r.data

    def pull(k: int) -> int:
        r = c.post("/statusApi.aspx", data=bench.status_form(k), headers=FORM_HEADERS)
        return r.data.count(b"<statusbox>")

    def measure(label: str, fn: Callable[[], Any], reps: int) -> dict:
        walls = []
        TimedConnection.stats.clear()
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            walls.append(time.perf_counter() - t0)
        stats = sorted(TimedConnection.stats.items(), key=lambda kv: -kv[1][1])
        return {
            "label": label,
            "wall_ms_median": statistics.median(walls) * 1e3,
            "sql": [{"sql": k, "calls": v[0] / reps, "ms": v[1] / reps * 1e3} for k, v in stats[:8]],
        }

    for _ in range(20):
        c.post("/WebService.asmx", data=soap_body, headers=SOAP_HEADERS)
    while pull(4000):
        pass
    out: dict[str, Any] = {}
    out["soap_send"] = measure(
        "SOAP send, 1 recipient", lambda: c.post("/WebService.asmx", data=soap_body, headers=SOAP_HEADERS), n // 2
    )
    out["http_send"] = measure(
        "HTTP send, 1 recipient", lambda: c.post("/I18NSms.aspx", data=http_body, headers=FORM_HEADERS), n // 2
    )
    while pull(4000):
        pass

    def pull_case(k: int, reps: int, label: str) -> dict:
        walls, got = [], []
        per_sql: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
        for _ in range(reps):
            send(k)
            TimedConnection.stats.clear()
            t0 = time.perf_counter()
            got.append(pull(k))
            walls.append(time.perf_counter() - t0)
            for key, (cnt, secs) in TimedConnection.stats.items():
                per_sql[key][0] += cnt
                per_sql[key][1] += secs
        stats = sorted(per_sql.items(), key=lambda kv: -kv[1][1])
        return {
            "label": label,
            "reports": got[-1],
            "wall_ms_median": statistics.median(walls) * 1e3,
            "sql": [{"sql": key, "calls": v[0] / reps, "ms": v[1] / reps * 1e3} for key, v in stats[:6]],
        }

    out["pull_1_fresh"] = pull_case(1, 7, "pull 1 report, small history")
    out["pull_4000"] = pull_case(4000, 2, "pull 4000 reports")
    for _ in range(5):  # 20,000 more reports in history
        send(4000)
    while pull(4000):
        pass
    out["pull_1_history"] = pull_case(1, 7, "pull 1 report after 28,000 reports in history")
    app.platform.store.close()
    return out


def pull_whatifs(n_reports: int = 4000) -> dict[str, Any]:
    """The Python side of a 4000-report pull reply, and cheaper ways to the same bytes (checked equal)."""
    from datetime import datetime, timezone
    from xml.sax.saxutils import escape

    from ipyy_mock.core import clock
    from ipyy_mock.core.wire import Report
    from ipyy_mock.httpapi import replies as R

    zone = clock.platform_zone()
    now = time.time()
    reports = [
        Report(f"86139{i:08d}", 1_000_000 + i // 1000, 10, clock.from_epoch(now + i / 1000, zone), "DELIVRD", "")
        for i in range(n_reports)
    ]
    res: dict[str, Any] = {"reports": n_reports}

    def shipped() -> bytes:
        return R.boxes_xml("statusbox", [R.report_fields(r) for r in reports])

    def stamp(dt: datetime) -> str:
        return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d} {dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"

    def joined() -> bytes:
        parts = ["<returnsms>"]
        for r in reports:
            parts.append(
                f"<statusbox><mobile>{escape(R.xml_safe(r.mobile))}</mobile><taskid>{r.task_id}</taskid>"
                f"<status>{r.status}</status><receivetime>{stamp(r.receive_time)}</receivetime>"
                f"<errorcode>{escape(R.xml_safe(r.errorcode))}</errorcode>"
                f"<extno>{escape(R.xml_safe(r.extno))}</extno></statusbox>"
            )
        parts.append("</returnsms>")
        return R.XML_DECLARATION + "".join(parts).encode("utf-8")

    res["identical_bytes"] = shipped() == joined()
    res["shipped_ms"] = per_call_us(shipped, 5) / 1e3
    res["joined_ms"] = per_call_us(joined, 5) / 1e3
    res["strftime_ms"] = per_call_us(lambda: [R.when(r.receive_time) for r in reports], 5) / 1e3
    res["fstring_time_ms"] = per_call_us(lambda: [stamp(r.receive_time) for r in reports], 5) / 1e3
    res["from_epoch_ms"] = (
        per_call_us(lambda: [clock.from_epoch(now + i / 1000, zone) for i in range(n_reports)], 5) / 1e3
    )
    del timezone
    return res


def stage_breakdown(app: Any, soap_body: bytes, http_body: bytes, n: int) -> dict[str, dict[str, float]]:
    from spyne.protocol.soap.soap11 import Soap11

    from ipyy_mock import app as app_mod
    from ipyy_mock.core import platform as platform_mod
    from ipyy_mock.core import store as store_mod
    from ipyy_mock.httpapi import api as http_api
    from ipyy_mock.soap import service as soap_service

    out: dict[str, dict[str, float]] = {}
    for surface in ("soap", "http"):
        t = Timers()
        t.wrap(app_mod.MockApp, "__call__", "request (MockApp.__call__)")
        t.wrap(platform_mod.Platform, "send", "Platform.send")
        t.wrap(platform_mod, "authenticate", "authenticate (account SELECT + MD5)")
        t.wrap(platform_mod, "parse_recipients", "parse_recipients (phonenumbers)")
        t.wrap(platform_mod.Platform, "_check", "Platform._check (recipients, content, rules, prices)")
        t.wrap(platform_mod.Platform, "_commit", "Platform._commit (transaction)")
        for m in ("now", "rules", "report_delay"):
            t.wrap(platform_mod.Platform, m, "settings reads (now/rules/report_delay)")
        t.wrap(store_mod.Store, "get_account", "Store.get_account (x2 per send)")
        t.wrap_write(store_mod.Store)
        if surface == "soap":
            t.wrap(soap_service._SoapFront, "__call__", "SOAP front (_SoapFront.__call__)")
            t.wrap(soap_service._SoapFront, "_check", "front _check (lxml parse + XSD validate)")
            t.wrap(soap_service._SoapFront, "_dispatch", "spyne dispatch (_dispatch)")
            t.wrap(Soap11, "create_in_document", "spyne parse (new XMLParser + XMLID)")
            t.wrap(Soap11, "deserialize", "spyne deserialize (+soft validation)")
            t.wrap(Soap11, "serialize", "spyne serialize (object -> etree)")
            t.wrap(Soap11, "create_out_string", "spyne etree -> bytes")
            body, headers, path = soap_body, SOAP_HEADERS, "/WebService.asmx"
        else:
            t.wrap(http_api.HttpApi, "__call__", "HttpApi.__call__ (Request + handler + Response)")
            t.wrap(http_api.HttpApi, "send", "HttpApi.send (form parse + send + reply)")
            body, headers, path = http_body, FORM_HEADERS, "/I18NSms.aspx"

        acc = t.acc

        def whole_app(environ: dict, start_response: Any) -> Any:  # everything create_app returned
            t0 = time.perf_counter()
            try:
                return list(app(environ, start_response))
            finally:
                acc["whole app (journal/fault middleware + MockApp)"] += time.perf_counter() - t0

        client = Client(whole_app)

        def one() -> None:
            r = client.post(path, data=body, headers=headers)
            assert r.status_code == 200

        for _ in range(30):
            one()
        t.acc.clear()
        t.calls.clear()
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(n):
            one()
        wall = time.perf_counter() - t0
        t.undo()
        stages = {k: v / n * 1e6 for k, v in t.acc.items()}
        stages["(test client round trip, wall)"] = wall / n * 1e6
        stages["calls: Store.get_account per request"] = t.calls["Store.get_account (x2 per send)"] / n
        out[surface] = stages
    return out


def self_rows(st: dict[str, float], surface: str) -> list[tuple[str, float]]:
    """Turn inclusive stage times into an additive, non-overlapping breakdown of one request."""
    g = lambda k: st.get(k, 0.0)  # noqa: E731
    send = g("Platform.send")
    platform_parts = [
        ("sqlite COMMIT (fsync, synchronous=FULL)", g("sqlite COMMIT (WAL append + fsync)")),
        ("sqlite BEGIN IMMEDIATE", g("sqlite BEGIN IMMEDIATE")),
        ("write txn body (account re-read, INSERT task/message, UPDATE balance)", g("write transaction body")),
        ("settings reads (3 SELECTs + rules JSON)", g("settings reads (now/rules/report_delay)")),
        ("authenticate (account SELECT + JSON + MD5)", g("authenticate (account SELECT + MD5)")),
        ("parse_recipients (phonenumbers)", g("parse_recipients (phonenumbers)")),
    ]
    rows = platform_parts + [
        (
            "other Platform.send (content checks, billing, dataclasses)",
            max(0.0, send - sum(v for _, v in platform_parts)),
        )
    ]
    total = g("request (MockApp.__call__)")
    outer = g("whole app (journal/fault middleware + MockApp)")
    if outer > total:
        rows.append(("middleware around MockApp (request journal INSERT, fault checks)", outer - total))
    if surface == "soap":
        front, chk, disp = (
            g("SOAP front (_SoapFront.__call__)"),
            g("front _check (lxml parse + XSD validate)"),
            g("spyne dispatch (_dispatch)"),
        )
        sp = [
            (k, g(k))
            for k in (
                "spyne parse (new XMLParser + XMLID)",
                "spyne deserialize (+soft validation)",
                "spyne serialize (object -> etree)",
                "spyne etree -> bytes",
            )
        ]
        rows += [
            ("SOAP front check (regex, UTF-8, lxml parse, XSD validate)", chk),
            *sp,
            ("spyne WSGI/context/events/other", max(0.0, disp - send - sum(v for _, v in sp))),
            ("SOAP front rest (environ copy, reply fix-up)", max(0.0, front - chk - disp)),
            ("routing (werkzeug Map.bind/match)", max(0.0, total - front)),
        ]
    else:
        api, hsend = g("HttpApi.__call__ (Request + handler + Response)"), g("HttpApi.send (form parse + send + reply)")
        rows += [
            ("HttpApi.send minus Platform.send (form parse, hex decode, reply XML)", max(0.0, hsend - send)),
            ("werkzeug Request/Response wrapping", max(0.0, api - hsend)),
            ("routing (werkzeug Map.bind/match)", max(0.0, total - api)),
        ]
    return sorted(rows, key=lambda kv: -kv[1])


def what_ifs(db_dir: Path, soap_body: bytes, http_body: bytes, n: int) -> dict[str, Any]:
    """Measured savings for the suggestions; each is the same thing done the other way, side by side."""
    from lxml import etree
    from spyne.protocol.soap.soap11 import _parse_xml_string

    from ipyy_mock.app import create_app
    from ipyy_mock.core.platform import Platform
    from ipyy_mock.core.validation import _parse_one
    from ipyy_mock.soap.service import _SoapFront, _wsdl_schema, static_wsdl

    res: dict[str, Any] = {}

    # 1. synchronous=FULL vs NORMAL (WAL): two apps, same requests, interleaved rounds, medians
    clients = {}
    for sync in ("FULL", "NORMAL"):
        db = db_dir / f"whatif_{sync}.db"
        make_db(db)
        app = create_app(str(db))
        app.platform.store.db.execute(f"PRAGMA synchronous={sync}")  # the connection the test client will use
        clients[sync] = (app, Client(app))
    samples: dict[str, list[float]] = collections.defaultdict(list)
    for rnd in range(6):
        for sync in ("FULL", "NORMAL") if rnd % 2 == 0 else ("NORMAL", "FULL"):
            c = clients[sync][1]
            for surface, path, body, hdrs in (
                ("soap", "/WebService.asmx", soap_body, SOAP_HEADERS),
                ("http", "/I18NSms.aspx", http_body, FORM_HEADERS),
            ):
                for _ in range(max(10, n // 6)):
                    t0 = time.perf_counter()
                    c.post(path, data=body, headers=hdrs)
                    samples[f"sync_{sync.lower()}_{surface}_us"].append((time.perf_counter() - t0) * 1e6)
    for key, xs in samples.items():
        res[key] = statistics.median(xs[10:])
    for app, _ in clients.values():
        app.platform.store.close()

    # raw SQLite commit cost on this disk, for reference
    for sync in ("FULL", "NORMAL"):
        p = db_dir / f"commit_{sync}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(p) + suffix).unlink(missing_ok=True)
        conn = sqlite3.connect(p, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={sync}")
        conn.execute("CREATE TABLE t(x)")

        def commit_one() -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t VALUES (1)")
            conn.execute("COMMIT")

        res[f"bare_commit_{sync.lower()}_us"] = per_call_us(commit_one, min(n, 300))
        conn.close()

    # 2. XML: the front parses + validates, then spyne parses the same bytes again with a new parser
    front = _SoapFront.__new__(_SoapFront)
    import threading

    front._parser_local = threading.local()
    parser = front._parser()
    schema = _wsdl_schema(static_wsdl())
    root = etree.fromstring(soap_body, parser)
    op = root[0][0]
    res["front_parse_us"] = per_call_us(lambda: etree.fromstring(soap_body, parser), n * 5)
    res["front_xsd_validate_us"] = per_call_us(lambda: schema.validate(op), n * 5)
    kwargs = dict(resolve_entities=False)
    try:  # spyne's own kwargs for this protocol
        from ipyy_mock.soap.service import spyne_application

        kwargs = spyne_application("soap11").in_protocol.parser_kwargs
    except Exception:  # noqa: BLE001
        pass
    res["spyne_parser_kwargs"] = {k: str(v) for k, v in kwargs.items()}
    res["spyne_new_parser_us"] = per_call_us(lambda: etree.XMLParser(**kwargs), n * 5)
    res["spyne_parse_new_parser_us"] = per_call_us(
        lambda: _parse_xml_string([soap_body], etree.XMLParser(**kwargs)), n * 5
    )
    reused = etree.XMLParser(**kwargs)
    res["spyne_parse_reused_parser_us"] = per_call_us(lambda: _parse_xml_string([soap_body], reused), n * 5)

    # 2b. spyne's MethodContext.close() runs a full gc.collect() at most once per MIN_GC_INTERVAL seconds
    import spyne.const

    res["spyne_min_gc_interval_s"] = float(spyne.const.MIN_GC_INTERVAL)
    gc_times = []
    for _ in range(5):
        t0 = time.perf_counter()
        gc.collect()
        gc_times.append((time.perf_counter() - t0) * 1e3)
    res["full_gc_ms"] = statistics.median(gc_times)
    res["gc_tracked_objects"] = len(gc.get_objects())

    # 3. settings: three SELECTs (and a JSON parse of the rules) on every send
    db = db_dir / "whatif_settings.db"
    make_db(db)
    pf = Platform(str(db))
    res["settings_reads_us"] = per_call_us(lambda: (pf.now(), pf.rules(), pf.report_delay()), n * 5)
    res["get_account_us"] = per_call_us(lambda: pf.store.get_account(bench.ACCOUNT), n * 5)
    res["phonenumber_parse_us"] = per_call_us(lambda: _parse_one("8613912345678", False), n * 20)
    pf.store.close()
    return res


def cprofile_top(client: Client, soap_body: bytes, http_body: bytes, n: int, top: int = 15) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for surface, path, body, headers in (
        ("soap", "/WebService.asmx", soap_body, SOAP_HEADERS),
        ("http", "/I18NSms.aspx", http_body, FORM_HEADERS),
    ):
        for _ in range(30):
            client.post(path, data=body, headers=headers)
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(n):
            client.post(path, data=body, headers=headers)
        pr.disable()
        st = pstats.Stats(pr)
        total = st.total_tt
        rows = []
        by_pkg: dict[str, float] = collections.defaultdict(float)
        debug_calls = 0
        for (file, line, func), (_cc, nc, tt, ct, _callers) in st.stats.items():
            name = short(file, line, func)
            rows.append((tt, ct, nc, name))
            by_pkg[package_of(file, func)] += tt
            if func == "debug" and file.endswith("logging/__init__.py"):
                debug_calls += nc
        rows.sort(reverse=True)
        out[surface] = {
            "profiled_us_per_request": total / n * 1e6,
            "top_own_time": [
                {
                    "function": r[3],
                    "own_us_per_req": r[0] / n * 1e6,
                    "cum_us_per_req": r[1] / n * 1e6,
                    "calls_per_req": r[2] / n,
                }
                for r in rows[:top]
            ],
            "own_time_by_package_pct": {k: v / total * 100 for k, v in sorted(by_pkg.items(), key=lambda kv: -kv[1])},
            "logging_debug_calls_per_req": debug_calls / n,
        }
    return out


def short(file: str, line: int, func: str) -> str:
    if file == "~":
        return func
    for marker in ("site-packages/", "/mockserver/", "/lib/python3"):
        i = file.find(marker)
        if i >= 0:
            file = ("ipyy_mock/" if marker == "/mockserver/" else "") + file[i + len(marker) :]
            break
    return f"{file}:{line}({func})"


def package_of(file: str, func: str) -> str:
    if file == "~":
        if "sqlite3" in func:
            return "sqlite3 (C)"
        if "lxml" in func or "etree" in func:
            return "lxml (C)"
        return "builtins (C)"
    for pkg in ("spyne", "werkzeug", "phonenumbers", "lxml"):
        if f"site-packages/{pkg}/" in file:
            return pkg
    if "/mockserver/" in file:
        return "ipyy_mock"
    if "/client/" in file:
        return "ipyy_client"
    if "/logging/" in file:
        return "logging (stdlib)"
    return "stdlib/other"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=400, help="requests per measurement")
    p.add_argument("--db-dir", default=None)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    db_dir = Path(args.db_dir) if args.db_dir else Path(tempfile.mkdtemp(prefix="ipyy-profile-"))
    db_dir.mkdir(parents=True, exist_ok=True)

    from ipyy_mock.app import create_app

    soap_body = bench.soap_envelope(bench.MSISDN)
    http_body = bench.http_form(bench.MSISDN)
    db = db_dir / "profile.db"
    make_db(db)
    app = create_app(str(db))
    client = Client(app)

    baseline = {
        "soap_us": per_call_us(lambda: client.post("/WebService.asmx", data=soap_body, headers=SOAP_HEADERS), args.n),
        "http_us": per_call_us(lambda: client.post("/I18NSms.aspx", data=http_body, headers=FORM_HEADERS), args.n),
    }
    sys.path.insert(0, str(bench.BENCH))
    import raw_app

    raw_client = Client(raw_app.app)
    baseline["raw_wsgi_us"] = per_call_us(
        lambda: raw_client.post("/WebService.asmx", data=soap_body, headers=SOAP_HEADERS), args.n
    )
    stages = stage_breakdown(app, soap_body, http_body, args.n)
    prof = cprofile_top(client, soap_body, http_body, args.n)
    app.platform.store.close()
    sqlp = sql_profile(db_dir, soap_body, http_body, args.n)
    sqlp["pull_reply_whatif"] = pull_whatifs()
    wi = what_ifs(db_dir, soap_body, http_body, args.n)
    breakdown = {s: self_rows(stages[s], s) for s in ("soap", "http")}
    findings = build_findings(baseline, stages, wi, prof, sqlp)
    result = {
        "n": args.n,
        "baseline": baseline,
        "stages_inclusive_us": stages,
        "breakdown_us": {s: [{"stage": k, "us": v} for k, v in rows] for s, rows in breakdown.items()},
        "what_if": wi,
        "cprofile": prof,
        "sql": sqlp,
        "findings": findings,
    }
    print_report(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


def build_findings(baseline: dict, stages: dict, wi: dict, prof: dict, sqlp: dict) -> list[dict[str, Any]]:
    """What the send and pull paths still spend, largest first (the earlier suggestions are in place: one parse,
    a reply template, one settings SELECT, the journal in its own file, set-based pulls, no forced gc)."""
    soap_total = baseline["soap_us"]
    s = stages["soap"]
    spyne_all = max(0.0, s.get("spyne dispatch (_dispatch)", 0) - s.get("Platform.send", 0))
    sync_soap = wi["sync_full_soap_us"] - wi["sync_normal_soap_us"]
    sync_http = wi["sync_full_http_us"] - wi["sync_normal_http_us"]
    commit_us = s.get("sqlite COMMIT (WAL append + fsync)", 0)
    spyne_parse = s.get("spyne parse (new XMLParser + XMLID)", 0)
    f = [
        {
            "cost_us": spyne_all,
            "surface": "SOAP",
            "finding": f"spyne costs {spyne_all:.0f} us per SOAP send outside Platform.send "
            f"({spyne_all / soap_total * 100:.0f}% of the request): deserialize with soft validation, "
            "MethodContext/event machinery (the front's parsed tree is reused, the reply is the byte template)",
            "suggestion": "what is left is spyne's own dispatch; it stays the SOAP engine (parsing, dispatch, the WSDL "
            "model the contract test checks)",
            "est_saving_us": 0.0,
        },
        {
            "cost_us": max(sync_soap, commit_us),
            "surface": "SOAP + HTTP",
            "finding": f"synchronous=FULL: every COMMIT waits for an fsync ({commit_us:.0f} us per send in the stage "
            f"timers; bare commit on this disk FULL {wi['bare_commit_full_us']:.0f} us vs NORMAL "
            f"{wi['bare_commit_normal_us']:.0f} us). Whole request FULL -> NORMAL: SOAP -{sync_soap:.0f} us, "
            f"HTTP -{sync_http:.0f} us (medians, interleaved)",
            "suggestion": "kept on purpose: docs/contract.md §3 wants an acknowledged send on disk before its reply. "
            "`bench.py --only whatif` shows NORMAL under load, for information",
            "est_saving_us": 0.0,
        },
        {
            "cost_us": s.get("front _check (lxml parse + XSD validate)", 0) + spyne_parse,
            "surface": "SOAP",
            "finding": f"the front check (one parse with spyne's parser settings + XSD validation of the operation) "
            f"takes {s.get('front _check (lxml parse + XSD validate)', 0):.0f} us in a request; spyne's own "
            f"parse {spyne_parse:.0f} us ({'skipped: it reuses the tree' if spyne_parse < 1 else 'STILL RUNS'})",
            "suggestion": "nothing obvious left (isolated, hot cache: parse "
            f"{wi['front_parse_us']:.0f} us + validate {wi['front_xsd_validate_us']:.0f} us)",
            "est_saving_us": spyne_parse,
        },
        {
            "cost_us": s.get("settings reads (now/rules/report_delay)", 0)
            + s.get("authenticate (account SELECT + MD5)", 0),
            "surface": "SOAP + HTTP",
            "finding": f"per send: the settings in one SELECT (parsed again only when they change) and the account "
            f"read {s.get('calls: Store.get_account per request', 0):.0f}x ({wi['get_account_us']:.0f} us: "
            "SELECT + prices/sensitive-words JSON); the debit re-checks balance and pay type in its UPDATE",
            "suggestion": "at the floor of one indexed SELECT each",
            "est_saving_us": 0.0,
        },
        {
            "cost_us": wi["phonenumber_parse_us"],
            "surface": "per recipient",
            "finding": f"phonenumbers.parse + is_possible_number: {wi['phonenumber_parse_us']:.0f} us per recipient, "
            "the largest per-recipient cost of a 10,000-recipient send (then the scenario rules, and one "
            "INSERT row per message)",
            "suggestion": "linear (t(10k)/t(1k) is about 10); a (country, length) memo would cut it further",
            "est_saving_us": 0.0,
        },
    ]
    mw = s.get("whole app (journal/fault middleware + MockApp)", 0) - s.get("request (MockApp.__call__)", 0)
    if mw > 0:
        f.append(
            {
                "cost_us": mw,
                "surface": "SOAP + HTTP",
                "finding": f"the request journal and fault middleware add {mw:.0f} us per SOAP send in process "
                "(masking, one INSERT into the journal's own SQLite file, synchronous=OFF, its own "
                "write lock; one SELECT of the faults table, shared with the send)",
                "suggestion": "--no-journal in the what-if run shows what is left of it under load",
                "est_saving_us": 0.0,
            }
        )
    gc_ms = wi.get("full_gc_ms", 0.0)
    interval = wi.get("spyne_min_gc_interval_s", 1.0) or 1.0
    if interval != float("inf"):
        f.append(
            {
                "cost_us": gc_ms * 1e3 / max(1.0, interval * 300),
                "surface": "SOAP (latency)",
                "finding": f"spyne's MethodContext.close() calls gc.collect() every {interval:g} s "
                f"({gc_ms:.0f} ms with the GIL held)",
                "suggestion": "spyne.const.MIN_GC_INTERVAL = float('inf') (soap_service.py)",
                "est_saving_us": gc_ms * 1e3 / max(1.0, interval * 300),
            }
        )
    pw = sqlp.get("pull_reply_whatif") if isinstance(sqlp, dict) else None
    p4 = sqlp.get("pull_4000") if isinstance(sqlp, dict) else None
    if pw and p4:
        sql_ms = sum(r["ms"] for r in p4["sql"])
        f.append(
            {
                "cost_us": p4["wall_ms_median"] * 1e3 / 4000,
                "surface": "pull (per report)",
                "finding": f"a 4000-report pull takes {p4['wall_ms_median']:.0f} ms in process; its top SQL "
                f"statements (set-based release, one UPDATE for the consumed rows) {sql_ms:.0f} ms; "
                f"the reply: lxml {pw['shipped_ms']:.0f} ms vs a joined string {pw['joined_ms']:.0f} ms "
                f"({'identical bytes' if pw['identical_bytes'] else 'DIFFERENT bytes (check)'}; the "
                "mock writes the joined string)",
                "suggestion": "the rest is SQLite maintaining the queue index for 4000 rows, and one fsync",
                "est_saving_us": 0.0,
            }
        )
    ph = sqlp.get("pull_1_history") if isinstance(sqlp, dict) else None
    pf = sqlp.get("pull_1_fresh") if isinstance(sqlp, dict) else None
    if ph and ph.get("sql") and pf:
        top = ph["sql"][0]
        f.append(
            {
                "cost_us": top["ms"] * 1e3,
                "surface": "pull / push release",
                "finding": f"pulling 1 report takes {pf['wall_ms_median']:.1f} ms on a fresh database and "
                f"{ph['wall_ms_median']:.1f} ms after 28,000 reports; the costliest statement is "
                f"'{top['sql']}' ({top['ms']:.1f} ms, x{top['calls']:.0f})",
                "suggestion": "history no longer matters (partial indexes reports_unbatched / uplinks_unbatched, "
                "used with INDEXED BY)"
                if ph["wall_ms_median"] < 2 * pf["wall_ms_median"] + 1
                else "a pull grows with the history again: look at the statement above",
                "est_saving_us": max(0.0, (ph["wall_ms_median"] - pf["wall_ms_median"]) * 1e3),
            }
        )
    return sorted(f, key=lambda x: -x["cost_us"])


def print_report(r: dict) -> None:
    b = r["baseline"]
    print(f"== 6. Profile of the send paths (in process, werkzeug test client, single thread, n={r['n']})")
    print(
        f"   per request: SOAP {b['soap_us']:.0f} us, HTTP {b['http_us']:.0f} us "
        f"(bare WSGI app through the same test client: {b['raw_wsgi_us']:.0f} us)"
    )
    for s, title in (("soap", "SOAP SendI18NSms"), ("http", "HTTP I18NSms.aspx send")):
        st = r["stages_inclusive_us"][s]
        total = max(st["request (MockApp.__call__)"], st.get("whole app (journal/fault middleware + MockApp)", 0))
        print(f"   {title}: {total:.0f} us inside the app, by stage (self time, us/request):")
        for row in r["breakdown_us"][s]:
            if row["us"] >= 5:
                print(f"     {row['us']:>7.0f}  {row['us'] / total * 100:>4.0f}%  {row['stage']}")
    w = r["what_if"]
    print("   what-ifs (us per call):")
    print(
        f"     whole SOAP send, synchronous FULL {w['sync_full_soap_us']:.0f} -> NORMAL {w['sync_normal_soap_us']:.0f};"
        f" HTTP {w['sync_full_http_us']:.0f} -> {w['sync_normal_http_us']:.0f};"
        f" bare commit FULL {w['bare_commit_full_us']:.0f} vs NORMAL {w['bare_commit_normal_us']:.0f}"
    )
    print(
        f"     XML: front parse {w['front_parse_us']:.0f} + XSD validate {w['front_xsd_validate_us']:.0f};"
        f" spyne re-parse {w['spyne_parse_new_parser_us']:.0f} (reusing a parser: {w['spyne_parse_reused_parser_us']:.0f};"
        f" XMLParser() alone {w['spyne_new_parser_us']:.0f})"
    )
    print(
        f"     full gc.collect() in this process {w['full_gc_ms']:.1f} ms (spyne runs one every "
        f"{w['spyne_min_gc_interval_s']:g} s per worker)"
    )
    print(
        f"     settings reads per send {w['settings_reads_us']:.0f}; get_account {w['get_account_us']:.0f};"
        f" one phone number {w['phonenumber_parse_us']:.1f}"
    )
    for s in ("soap", "http"):
        cp = r["cprofile"][s]
        pk = ", ".join(f"{k} {v:.0f}%" for k, v in list(cp["own_time_by_package_pct"].items())[:7])
        print(f"   cProfile {s.upper()} own time by package: {pk}")
        for row in cp["top_own_time"][:8]:
            print(f"     {row['own_us_per_req']:>6.0f} us  x{row['calls_per_req']:<5.1f} {row['function']}")
    sq = r.get("sql") or {}
    if "error" in sq:
        print(f"   SQL timing: {sq['error']}")
    for key in ("soap_send", "http_send", "pull_1_fresh", "pull_4000", "pull_1_history"):
        case = sq.get(key)
        if not case:
            continue
        print(f"   SQL, {case['label']}: {case['wall_ms_median']:.2f} ms per call; top statements (ms per call):")
        for row in case["sql"][:4]:
            print(f"     {row['ms']:>8.2f} ms  x{row['calls']:<6.1f} {row['sql']}")
    pw = sq.get("pull_reply_whatif")
    if pw:
        print(
            f"   pull reply of {pw['reports']} reports: lxml {pw['shipped_ms']:.0f} ms vs joined string "
            f"{pw['joined_ms']:.0f} ms (identical bytes: {pw['identical_bytes']}); strftime {pw['strftime_ms']:.0f} ms "
            f"vs f-string {pw['fstring_time_ms']:.0f} ms; from_epoch x{pw['reports']} {pw['from_epoch_ms']:.0f} ms"
        )
    print("   findings, ranked by cost (us per request):")
    for i, fnd in enumerate(r["findings"], 1):
        print(f"   {i}. [{fnd['surface']}, {fnd['cost_us']:.0f} us] {fnd['finding']}")
        print(f"      -> {fnd['suggestion']}")


if __name__ == "__main__":
    sys.exit(main())
