"""ipyy-sms benchmarks: the mock against WireMock 3.13 and a bare WSGI app, side by side, in one run.

Run it with ``bash benchmarks/run.sh`` (installs wrk, a JRE and the WireMock
jar when missing). It prints a table and writes ``benchmarks/results.json``.

What is measured (every comparison runs in the same process, with the same load
generator and the same concurrency, interleaved, so a noisy 2-core machine hits
both sides alike; the numbers that matter are the ratios):

1. SOAP send throughput (``SendI18NSms``): the mock (real accounts,
   validation, billing, SQLite) at several gunicorn worker x thread settings,
   vs WireMock serving the exact reply bytes the mock returned, vs a bare WSGI
   app (``raw_app.py``) returning the same bytes on gunicorn with the same
   settings. Load: wrk, keep-alive, a Lua script posting one fixed body.
2. The same for the HTTP interface (``I18NSms.aspx`` action=send, hex content, MD5 password).
3. Client overhead: ``SoapClient.send_i18n_sms`` and ``HttpClient.send`` per
   call vs ``requests.Session().post`` of the identical bytes, same server,
   sequential, interleaved rounds.
4. Scaling: one send to 1 / 100 / 1,000 / 10,000 recipients (over the wire:
   time and the worker's peak RSS; in process: time and tracemalloc peak), and
   pulls of 1 / 100 / 4,000 reports.
5. Push throughput: reports from the sends to a receiver, through the mock's push runner.
6. A profile of the mock's SOAP and HTTP send paths (``profile_send.py``).

Each measurement is a module of its own, run by ``main()`` as ``--only``
names it: ``throughput.py`` (1, 2 and the py-spy profile of ``live.py``),
``client_overhead.py`` (3), ``scaling.py`` (4), ``push.py`` (5); 6 runs
``profile_send.py``. This module is also the library the other scripts
share: the request bodies of every surface (``send_bodies()``,
``SEND_HEADERS``, ``WIRE_PATHS``, ``SEND_OK``), the servers (``Server``,
``mock_server``, ``raw_server``, ``wiremock_server``, ``free_port``) and wrk
(``wrk_script``, ``run_wrk``). ``compare.py`` loads another revision's copy of
it for that revision's requests, so importing it starts nothing and imports
none of the measurement modules.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform as pyplatform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from xml.sax.saxutils import escape

from ipyy_mock.testing.process import free_port  # re-exported: the scripts beside this one take their ports here

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CACHE = BENCH / ".cache"
BIN = Path(sys.executable).parent

ACCOUNT = "bench"
PASSWORD = "bench-pass-1"
BALANCE = "100000000"
TNS = "http://www.yysms.com/"  # the vendor's real namespace (docs/contract.md §2)
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
CONTENT = "您的验证码是 123456，5 分钟内有效【华信】"
MSISDN = "8613912345678"
SOAP_CTYPE = "text/xml; charset=utf-8"
SOAP_ACTION = f'"{TNS}SendI18NSms"'
FORM_CTYPE = "application/x-www-form-urlencoded"

TARGETS = {  # pass/fail thresholds printed at the end
    "soap_vs_wiremock": 0.3,  # 0.5 is the stretch (docs/benchmarks.md), reported, not gated
    "http_vs_wiremock": 0.3,
    "domestic_vs_wiremock": 0.3,
    "client_vs_raw": 1.15,
    "send_10k_vs_1k": 11.0,
    "peak_mb_10k": 100.0,
    "pull_4000_vs_1": 20.0,
}


# --------------------------------------------------------------------------- helpers


def log(msg: str) -> None:
    print(msg, flush=True)


def md5_upper(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode("utf-8")).hexdigest().upper()


def hex_content(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def numbers(n: int, start: int = 0) -> list[str]:
    """Distinct valid Chinese mobiles with country code, none of them a scenario test number."""
    return [f"86139{start + i:08d}" for i in range(n)]


def soap_envelope(msisdns: str, content: str = CONTENT, password: str = PASSWORD) -> bytes:
    """What a .NET client of the vendor's WSDL puts on the wire (SOAP 1.1, docs/contract.md §2): ``SmsObject``'s
    members in schema order, ``PlanSendTime`` present and nil (send now)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="{SOAP11}">'
        f'<soap:Body><SendI18NSms xmlns="{TNS}"><userName>{ACCOUNT}</userName>'
        f"<password>{escape(password)}</password><sms><Msisdns>{escape(msisdns)}</Msisdns>"
        f'<SMSContent>{escape(content)}</SMSContent><ExtNumber /><PlanSendTime xsi:nil="true" />'
        "</sms></SendI18NSms></soap:Body></soap:Envelope>"
    ).encode("utf-8")


def http_form(msisdns: str, content: str = CONTENT) -> bytes:
    from urllib.parse import urlencode

    return urlencode(
        [
            ("action", "send"),
            ("userid", ""),
            ("account", ACCOUNT),
            ("password", md5_upper(PASSWORD)),
            ("mobile", msisdns),
            ("code", "8"),
            ("content", hex_content(content)),
            ("sendTime", ""),
            ("extno", ""),
        ]
    ).encode("ascii")


def domestic_form(mobiles: str, content: str = CONTENT) -> bytes:
    """The domestic interface's send (sms.aspx): plain content, 11-digit Chinese numbers, the MD5 password."""
    from urllib.parse import urlencode

    return urlencode(
        [
            ("action", "send"),
            ("userid", ""),
            ("account", ACCOUNT),
            ("password", md5_upper(PASSWORD)),
            ("mobile", mobiles),
            ("content", content),
            ("sendTime", ""),
            ("extno", ""),
        ]
    ).encode("utf-8")


WIRE_PATHS = {"soap": "/WebService.asmx", "http": "/I18NSms.aspx", "domestic": "/sms.aspx"}
SEND_HEADERS = {
    "soap": {"Content-Type": SOAP_CTYPE, "SOAPAction": SOAP_ACTION},
    "http": {"Content-Type": FORM_CTYPE},
    "domestic": {"Content-Type": FORM_CTYPE},
}
SEND_OK = {  # what each surface's reply holds when the send went through
    "soap": b"<StatusCode>OK</StatusCode>",
    "http": b"<returnstatus>Success</returnstatus>",
    "domestic": b"<returnstatus>Success</returnstatus>",
}


def send_bodies() -> dict[str, bytes]:
    """The benchmark's send on each surface: one recipient, the same text."""
    return {"soap": soap_envelope(MSISDN), "http": http_form(MSISDN), "domestic": domestic_form(MSISDN[2:])}


def refused_bodies() -> dict[str, bytes]:
    """The same sends with a wrong password: refused after authentication (parsed, checked, journaled, answered;
    nothing written), the floor under a send on the same server."""
    wrong = md5_upper(PASSWORD).encode()
    return {
        "soap": soap_envelope(MSISDN, password="not-" + PASSWORD),
        "http": http_form(MSISDN).replace(wrong, b"0" * 32),
        "domestic": domestic_form(MSISDN[2:]).replace(wrong, b"0" * 32),
    }


def status_form(limit: int) -> bytes:
    from urllib.parse import urlencode

    return urlencode(
        [
            ("action", "query"),
            ("userid", ""),
            ("account", ACCOUNT),
            ("password", md5_upper(PASSWORD)),
            ("statusNum", str(limit)),
        ]
    ).encode("ascii")


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def cmd_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (out.stdout + out.stderr).strip().splitlines()[0]
    except Exception as exc:  # noqa: BLE001 - only for the report
        return f"unknown ({exc})"


# --------------------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    cmd: list[str]
    port: int
    ready: Callable[["Server"], bool]
    env: dict[str, str] | None = None
    log_path: Path | None = None
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        out = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            self.cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True, cwd=str(ROOT)
        )
        return self

    def wait(self, timeout: float = 60.0) -> "Server":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path else ""
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{tail}")
            try:
                if self.ready(self):
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready on {self.url} within {timeout}s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own child's process group only
            self.proc.wait(timeout=15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    def children(self) -> list[int]:
        """Worker pids (direct children of the gunicorn master)."""
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    try:
        fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _get_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as r:
        return r.status == 200


def mock_server(
    name: str, db: Path, workers: int, threads: int, logdir: Path, extra: list[str] | None = None
) -> Server:
    """``ipyy-mock serve`` with these workers and threads, and ``extra`` flags (a variant: ``--no-journal`` ...)."""
    port = free_port()
    serve_args = ["--port", str(port), "--db", str(db), "--workers", str(workers), "--threads", str(threads)]
    cmd = [str(BIN / "ipyy-mock"), "serve", *serve_args, *(extra or [])]
    return Server(name, cmd, port, mock_ready, log_path=logdir / f"{name}.log")


def mock_ready(server: Server) -> bool:
    """A mock (or anything serving its app) answers: its WSDL comes back."""
    return _get_ok(server.url + "/WebService.asmx?WSDL")


def raw_server(
    name: str, workers: int, threads: int, soap_reply: Path, http_reply: Path, logdir: Path, domestic_reply: Path
) -> Server:
    port = free_port()
    # the same gunicorn settings as mockserver/server.py (gthread, keep-alive 5 s, timeout 60)
    cmd = [
        str(BIN / "gunicorn"),
        "-k",
        "gthread",
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "--keep-alive",
        "5",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        "-b",
        f"127.0.0.1:{port}",
        "--chdir",
        str(BENCH),
        "raw_app:app",
    ]
    env = dict(
        os.environ,
        RAW_SOAP_REPLY=str(soap_reply),
        RAW_HTTP_REPLY=str(http_reply),
        RAW_DOMESTIC_REPLY=str(domestic_reply),
    )
    return Server(name, cmd, port, lambda s: _get_ok(s.url + "/"), env=env, log_path=logdir / f"{name}.log")


def wiremock_server(jar: Path, root_dir: Path, logdir: Path) -> Server:
    port = free_port()
    cmd = [
        "java",
        "-jar",
        str(jar),
        "--port",
        str(port),
        "--bind-address",
        "127.0.0.1",
        "--root-dir",
        str(root_dir),
        "--disable-banner",
        "--no-request-journal",
        "--disable-request-logging",
    ]
    return Server("wiremock", cmd, port, lambda s: _get_ok(s.url + "/__admin/health"), log_path=logdir / "wiremock.log")


def write_wiremock_mappings(root_dir: Path, replies: dict[str, bytes]) -> None:
    """One stub per surface, matched on method + path only (the cheapest match WireMock offers)."""
    (root_dir / "mappings").mkdir(parents=True, exist_ok=True)
    (root_dir / "__files").mkdir(parents=True, exist_ok=True)
    for name, body in replies.items():
        path = WIRE_PATHS[name]
        mapping = {
            "request": {"method": "POST", "urlPath": path},
            "response": {
                "status": 200,
                "headers": {"Content-Type": SOAP_CTYPE},
                "base64Body": base64.b64encode(body).decode("ascii"),
            },
        }
        (root_dir / "mappings" / f"{name}.json").write_text(json.dumps(mapping, indent=2))


def create_account(db: Path, env: dict[str, str] | None = None) -> None:
    """The benchmark's account in ``db`` (``env``: the environment ``ipyy-mock`` runs in, e.g. another revision's
    packages on PYTHONPATH)."""
    subprocess.run(
        [
            str(BIN / "ipyy-mock"),
            "account",
            "add",
            ACCOUNT,
            "--password",
            PASSWORD,
            "--balance",
            BALANCE,
            "--db",
            str(db),
        ],
        check=True,
        capture_output=True,
        env=env,
    )


def task_seq(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name='tasks'").fetchone()
    return int(row[0]) if row else 0


# --------------------------------------------------------------------------- wrk

WRK_LUA = r"""
local f = assert(io.open(%(body)s, "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
%(headers)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests":%%d,"duration_us":%%d,"bytes":%%d,"connect":%%d,"read":%%d,' ..
    '"write":%%d,"status":%%d,"timeout":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"mean_us":%%.1f,"max_us":%%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
"""


def wrk_script(path: Path, body_file: Path, headers: dict[str, str]) -> Path:
    lines = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    path.write_text(WRK_LUA % {"body": json.dumps(str(body_file)), "headers": lines})
    return path


def run_wrk(url: str, script: Path, seconds: float, connections: int, threads: int) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    m = re.search(r"BENCHJSON (\{.*\})", out.stdout)
    if not m:
        raise RuntimeError(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")
    res = json.loads(m.group(1))
    res["rps"] = res["requests"] / (res["duration_us"] / 1e6)
    res["errors"] = res["connect"] + res["read"] + res["write"] + res["status"] + res["timeout"]
    return res


# --------------------------------------------------------------------------- 6: profile


def profile(args: argparse.Namespace, work: Path, results: dict) -> None:
    out_json = work / "profile.json"
    cmd = [
        sys.executable,
        str(BENCH / "profile_send.py"),
        "--n",
        str(args.profile_n),
        "--db-dir",
        str(work),
        "--json",
        str(out_json),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        results["profile"] = {"error": proc.stderr[-3000:]}
        log(f"\n== 6. Profile failed:\n{proc.stderr[-3000:]}")
        return
    results["profile"] = json.loads(out_json.read_text())
    log("\n" + proc.stdout.rstrip())


# --------------------------------------------------------------------------- main


def find_jar(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    jars = sorted((CACHE / "npm" / "node_modules" / "wiremock" / "build").glob("wiremock-standalone-*.jar"))
    if not jars:
        raise SystemExit("no WireMock jar: run `bash benchmarks/run.sh` (it installs the npm package wiremock)")
    return jars[-1]


def commit_rate(work: Path, n: int = 300) -> dict[str, float]:
    """What one SQLite commit costs on this disk (WAL; FULL = an fsync per commit, as the mock's sends)."""
    out: dict[str, float] = {}
    path = work / "commit_rate.db"
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
        for mode in ("FULL", "NORMAL", "FULL"):
            conn.execute(f"PRAGMA synchronous={mode}")
            times = []
            for i in range(n):
                t0 = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO t VALUES (?)", (i,))
                conn.execute("COMMIT")
                times.append(time.perf_counter() - t0)
            out[f"{mode.lower()}_median_us"] = median(times) * 1e6  # the second FULL run (warm) is kept
            out[f"{mode.lower()}_commits_per_s"] = n / sum(times)
    finally:
        conn.close()
    return out


def summary(results: dict) -> list[dict]:
    rows = []
    tp = results.get("throughput", {})
    for s in ("soap", "http", "domestic"):
        if s in tp:
            if "mock_vs_wiremock" not in tp[s]["ratios"]:
                continue
            v = tp[s]["ratios"]["mock_vs_wiremock"]
            rows.append(
                {
                    "what": f"{s.upper()} send throughput, mock/WireMock",
                    "value": v,
                    "target": f">= {TARGETS[f'{s}_vs_wiremock']}",
                    "pass": v >= TARGETS[f"{s}_vs_wiremock"],
                }
            )
    cl = results.get("client", {})
    for name in ("SoapClient.send_i18n_sms", "HttpClient.send"):
        row = cl.get(name)
        if row and "ratio_median" in row:
            rows.append(
                {
                    "what": f"{name} per call / raw POST",
                    "value": row["ratio_median"],
                    "target": f"<= {TARGETS['client_vs_raw']}",
                    "pass": row["ratio_median"] <= TARGETS["client_vs_raw"],
                }
            )
    sc = results.get("scaling", {}).get("ratios")
    if sc:
        worst = max(sc["soap_wire_10k_vs_1k"], sc["http_wire_10k_vs_1k"])
        rows.append(
            {
                "what": "send t(10k)/t(1k) (worst of SOAP, HTTP)",
                "value": worst,
                "target": f"<= {TARGETS['send_10k_vs_1k']:g}",
                "pass": worst <= TARGETS["send_10k_vs_1k"],
            }
        )
        rows.append(
            {
                "what": "peak memory, 10k recipients (MB)",
                "value": sc["peak_mb_10k"],
                "target": f"< {TARGETS['peak_mb_10k']:g}",
                "pass": sc["peak_mb_10k"] < TARGETS["peak_mb_10k"],
            }
        )
        rows.append(
            {
                "what": "pull t(4000)/t(1)",
                "value": sc["pull_4000_vs_1"],
                "target": f"<= {TARGETS['pull_4000_vs_1']:g}",
                "pass": sc["pull_4000_vs_1"] <= TARGETS["pull_4000_vs_1"],
            }
        )
    pu = results.get("push")
    if pu:
        rows.append(
            {
                "what": "push reports/s",
                "value": pu.get("reports_per_s"),
                "target": "(reported)",
                "pass": None,
                "note": pu["result"],
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--wiremock-jar")
    p.add_argument("--wiremock-version", default=None, help="label only (default: from the jar's name)")
    p.add_argument(
        "--configs",
        default="2x1",
        help="mock (and raw) WORKERSxTHREADS list (2x1 is the shipped default); WxT:--flag adds a mock variant with that flag",
    )
    p.add_argument(
        "--variants",
        default="",
        help="extra mock variants WxT:--flag, comma-separated; a "
        "--flag variant runs only if `ipyy-mock serve --help` knows the flag",
    )
    p.add_argument(
        "--no-baselines", dest="baselines", action="store_false", help="no raw WSGI / WireMock servers (what-if runs)"
    )
    p.add_argument("--live-seconds", type=float, default=6.0, help="py-spy sampling time per surface")
    p.add_argument("--duration", type=float, default=12.0, help="measured seconds per target and surface")
    p.add_argument("--rounds", type=int, default=4, help="interleaved rounds the duration is split into")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--wiremock-warmup-factor", type=float, default=4.0)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--client-calls", type=int, default=100)
    p.add_argument("--client-rounds", type=int, default=3)
    p.add_argument("--sizes", default="1,100,1000,10000")
    p.add_argument("--pull-sizes", default="1,100,4000")
    p.add_argument("--scaling-reps", type=int, default=3, help="repetitions of each send size (interleaved)")
    p.add_argument(
        "--pull-settle",
        type=float,
        default=0.5,
        help="seconds between the send and the timed pull (lets a delivery runner release reports)",
    )
    p.add_argument("--push-reports", type=int, default=10000)
    p.add_argument("--push-timeout", type=float, default=60.0)
    p.add_argument("--profile-n", type=int, default=300)
    p.add_argument("--only", default="throughput,live,client,scaling,push,profile")
    p.add_argument("--quick", action="store_true", help="smoke test: tiny durations")
    p.add_argument("--out", default=str(BENCH / "results.json"))
    p.add_argument("--keep", action="store_true", help="keep the work directory (databases, logs)")
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.warmup, args.wiremock_warmup_factor = 2, 1, 1, 1
        args.client_calls, args.client_rounds, args.profile_n = 10, 2, 50
        args.scaling_reps, args.pull_settle, args.live_seconds = 2, 0.3, 3
    only = set(args.only.split(","))
    if "variants" in only:  # what the shipped server's options cost, under the same load, side by side
        only = (only - {"variants"}) | {"throughput"}
        args.configs = "2x1,2x2"  # the shipped default first
        args.variants = args.variants or "2x1:--no-journal,2x1:--fsync,2x1:--server gunicorn"
        args.baselines = False
        if args.out == str(BENCH / "results.json"):
            args.out = str(BENCH / "results-variants.json")
    args.only_set = only

    if shutil.which("wrk") is None and only & {"throughput"}:
        raise SystemExit("wrk is not installed: run `bash benchmarks/run.sh`")
    jar = find_jar(args.wiremock_jar) if "throughput" in only and args.baselines else None
    if jar is not None and args.wiremock_version is None:
        m = re.search(r"wiremock-standalone-([\d.]+)\.jar", jar.name)
        args.wiremock_version = m.group(1) if m else "?"

    work = CACHE / "run"
    shutil.rmtree(work, ignore_errors=True)
    (work / "logs").mkdir(parents=True)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": pyplatform.platform(),
            "wrk": cmd_version(["wrk", "--version"]) if shutil.which("wrk") else None,
            "java": cmd_version(["java", "-version"]) if shutil.which("java") else None,
            "wiremock": args.wiremock_version,
            "wiremock_jar": str(jar) if jar else None,
            "targets": TARGETS,
            "loadavg_start": os.getloadavg(),
        }
    }
    log(
        f"ipyy-sms benchmarks: {os.cpu_count()} CPUs, Python {results['meta']['python']}, "
        f"WireMock {args.wiremock_version}, {results['meta']['wrk']}"
    )
    load1 = os.getloadavg()[0]
    if load1 > (os.cpu_count() or 1):
        log(
            f"   warning: load average {load1:.1f} on {os.cpu_count()} CPUs before the start: other work is running, "
            "absolute numbers will be low and noisy (the ratios are interleaved and hold up better)"
        )
    running: list[Server] = []  # the mock (and the raw app) the throughput section leaves for the client section
    try:
        if "throughput" in only:
            import live
            import throughput

            log("\n-- throughput (SOAP and HTTP, mock vs WireMock vs raw WSGI)")
            running = throughput.throughput(args, work, jar, results)
            throughput.print_throughput(results["throughput"])
            if "live_profile" in results:
                live.print_live(results["live_profile"])
        if "client" in only:
            import client_overhead

            if not running:
                db = work / "client.db"
                create_account(db)
                running = [mock_server("mock_2x1", db, 2, 1, work / "logs").start().wait()]
            raw = running[1] if len(running) > 1 else None
            client_overhead.client_overhead(args, running[0], raw, results)
            client_overhead.print_client(results["client"])
        for srv in running:
            srv.stop()
        running = []
        if "scaling" in only:
            import scaling

            scaling.scaling(args, work, results)
            scaling.print_scaling(results["scaling"])
        if "push" in only:
            import push

            push.push(args, work, results)
            push.print_push(results["push"])
        if "profile" in only:
            profile(args, work, results)
    finally:
        for srv in running:
            srv.stop()
    results["meta"]["commit_rate"] = commit_rate(work)
    cr = results["meta"]["commit_rate"]
    log(
        f"\n== SQLite commits on this disk, one writer (WAL): synchronous=FULL {cr['full_commits_per_s']:.0f}/s "
        f"(median {cr['full_median_us']:.0f} us, an fsync each), NORMAL {cr['normal_commits_per_s']:.0f}/s"
    )
    results["meta"]["wall_seconds"] = time.perf_counter() - started
    results["meta"]["loadavg_end"] = os.getloadavg()
    results["summary"] = summary(results)
    log("\n== Targets")
    for row in results["summary"]:
        mark = {True: "PASS", False: "FAIL", None: "----"}[row["pass"]]
        value = (
            "n/a"
            if row["value"] is None
            else (f"{row['value']:.2f}" if isinstance(row["value"], float) else row["value"])
        )
        log(f"   {mark}  {row['what']:<44} {value:>9}  target {row['target']}  {row.get('note') or ''}")
    Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
    la = results["meta"]["loadavg_end"]
    log(f"\nwrote {args.out} ({results['meta']['wall_seconds']:.0f} s; load average at the end {la[0]:.1f})")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    # Run as the module ``bench`` the measurement modules import, not as a second copy named __main__.
    import bench

    sys.exit(bench.main())
