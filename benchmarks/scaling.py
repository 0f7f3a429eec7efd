"""Section 4 of ``bench.py``: how a send grows with its recipients, and a report pull with its reports.

Over the wire, on a server with one worker (so its pid and peak RSS are
known): one SOAP and one HTTP send to each of ``--sizes`` recipients, the
sizes interleaved within each repetition, and pulls of ``--pull-sizes``
reports from a fresh database and again after a history. In process:
``Platform.send`` timed, and its tracemalloc peak and that of the whole SOAP
request through the WSGI app.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from pathlib import Path
from typing import Any

import requests
from werkzeug.test import Client

from bench import (
    ACCOUNT,
    CONTENT,
    FORM_CTYPE,
    PASSWORD,
    SEND_HEADERS,
    TARGETS,
    WIRE_PATHS,
    create_account,
    http_form,
    log,
    median,
    mock_server,
    numbers,
    soap_envelope,
    status_form,
    verdict,
)
from ipyy_mock.app import create_app
from ipyy_mock.core.domain import SendRequest
from ipyy_mock.core.platform import Platform


def rss_kb(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        return True
    except OSError:
        return False


def scaling(args: argparse.Namespace, work: Path, results: dict) -> None:
    logdir = work / "logs"
    db = work / "scaling.db"
    create_account(db)
    srv = mock_server("mock_scaling_1x1", db, 1, 1, logdir).start().wait()
    worker = srv.children()[0]
    session = requests.Session()
    sizes = [int(x) for x in args.sizes.split(",")]
    out: dict[str, Any] = {
        "server": "ipyy-mock serve --workers 1 --threads 1 (one worker: its pid and RSS are known)",
        "wire": {},
        "in_process": {},
    }
    offset = 0

    def wire_send(surface: str, nums: list[str]) -> tuple[float, bytes]:
        msisdns = ",".join(nums)
        body = soap_envelope(msisdns) if surface == "soap" else http_form(msisdns)
        t0 = time.perf_counter()
        r = session.post(srv.url + WIRE_PATHS[surface], data=body, headers=SEND_HEADERS[surface], timeout=120)
        dt = time.perf_counter() - t0
        assert r.status_code == 200, r.content[:300]
        return dt, r.content

    # -- pulls first, on the fresh database: drain, send N, let the delivery runner (if any) release them,
    #    then time the pull of N. Afterwards pull 1 again with ~20,000 reports in the history.
    pull_sizes = [int(x) for x in args.pull_sizes.split(",")]

    def pull(limit: int) -> tuple[float, int]:
        t0 = time.perf_counter()
        r = session.post(
            srv.url + "/statusApi.aspx", data=status_form(limit), headers={"Content-Type": FORM_CTYPE}, timeout=120
        )
        dt = time.perf_counter() - t0
        assert r.status_code == 200 and b"errorstatus" not in r.content, r.content[:300]
        return dt, r.content.count(b"<statusbox>")

    def drain() -> None:
        while pull(4000)[1]:
            pass

    def pull_case(n: int, count: int) -> dict:
        nonlocal offset
        times = []
        for _ in range(count):
            drain()
            wire_send("http", numbers(n, offset))
            offset += n
            time.sleep(args.pull_settle)
            dt, got = pull(n)
            assert got == n, (n, got)
            times.append(dt)
        return {"median_ms": median(times) * 1e3, "runs_ms": [round(t * 1e3, 2) for t in times]}

    pulls: dict[str, Any] = {}
    wire_send("http", numbers(3, 99_000_000))
    for n in pull_sizes:
        pulls[str(n)] = pull_case(n, {1: 7, 100: 5}.get(n, 5))
    history = offset
    pulls[f"{pull_sizes[0]}_after_history"] = pull_case(pull_sizes[0], 7)
    pulls["history_reports"] = history
    out["pull"] = pulls

    # -- sends over the wire: sizes interleaved within each repetition (noise hits all sizes alike)
    for surface in ("soap", "http"):
        wire_send(surface, numbers(5, 90_000_000))  # warm
        times: dict[int, list[float]] = {n: [] for n in sizes}
        peaks: dict[int, int] = {n: 0 for n in sizes}
        for _rep in range(args.scaling_reps):
            for n in sizes:
                base = rss_kb(worker, "VmRSS")
                has_reset = reset_peak(worker)
                dt, content = wire_send(surface, numbers(n, offset))
                offset += n
                ok = (
                    f"<BillingCount>{n}</BillingCount>".encode() in content
                    if surface == "soap"
                    else f"<successCounts>{n}</successCounts>".encode() in content
                )
                assert ok, content[:400]
                times[n].append(dt)
                if has_reset:
                    peaks[n] = max(peaks[n], rss_kb(worker, "VmHWM") - base)
        for n in sizes:
            out["wire"].setdefault(surface, {})[str(n)] = {
                "median_ms": median(times[n]) * 1e3,
                "runs_ms": [round(t * 1e3, 2) for t in times[n]],
                "worker_peak_rss_delta_mb": peaks[n] / 1024,
            }
        out["wire"][surface]["worker_rss_after_mb"] = rss_kb(worker, "VmRSS") / 1024
    srv.stop()

    # -- in process: Platform.send directly (time, and tracemalloc peak), and the whole SOAP request
    #    through the WSGI app (werkzeug test client) for the tracemalloc peak of the full server path.
    ip_db = work / "scaling_inproc.db"
    create_account(ip_db)
    platform = Platform(str(ip_db))
    app = create_app(str(ip_db))
    client = Client(app)

    def platform_send(nums: list[str]):
        return platform.send(
            SendRequest(
                account=ACCOUNT,
                password=PASSWORD,
                msisdns=",".join(nums),
                content=CONTENT,
                via="soap11",
                client_ip="127.0.0.1",
            )
        )

    def app_send(nums: list[str]):
        r = client.post(
            "/WebService.asmx",
            data=soap_envelope(",".join(nums)),
            headers=SEND_HEADERS["soap"],
        )
        assert r.status_code == 200
        return r

    platform_send(numbers(3, 95_000_000))
    app_send(numbers(3, 95_000_100))
    ip_times: dict[int, list[float]] = {n: [] for n in sizes}
    for _ in range(args.scaling_reps):
        for n in sizes:
            nums = numbers(n, offset)
            offset += n
            gc.collect()
            t0 = time.perf_counter()
            outcome = platform_send(nums)
            ip_times[n].append(time.perf_counter() - t0)
            assert outcome.code.name == "OK" and outcome.success_count == n, outcome
    for n in sizes:
        peaks_mb = {}
        for label, fn in (("platform_send", platform_send), ("soap_request", app_send)):
            nums = numbers(n, offset)
            offset += n
            gc.collect()
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            fn(nums)
            peaks_mb[label] = (tracemalloc.get_traced_memory()[1] - base) / 1024 / 1024
            tracemalloc.stop()
        out["in_process"][str(n)] = {
            "platform_send_median_ms": median(ip_times[n]) * 1e3,
            "platform_send_peak_mb": peaks_mb["platform_send"],
            "soap_request_peak_mb": peaks_mb["soap_request"],
        }
    platform.store.close()
    app.platform.store.close()

    big, mid = str(sizes[-1]), str(sizes[-2])
    w = out["wire"]
    out["ratios"] = {
        "soap_wire_10k_vs_1k": w["soap"][big]["median_ms"] / w["soap"][mid]["median_ms"],
        "http_wire_10k_vs_1k": w["http"][big]["median_ms"] / w["http"][mid]["median_ms"],
        "platform_10k_vs_1k": out["in_process"][big]["platform_send_median_ms"]
        / out["in_process"][mid]["platform_send_median_ms"],
        "pull_4000_vs_1": pulls[str(pull_sizes[-1])]["median_ms"] / pulls[str(pull_sizes[0])]["median_ms"],
        "pull_4000_vs_1_after_history": pulls[str(pull_sizes[-1])]["median_ms"]
        / pulls[f"{pull_sizes[0]}_after_history"]["median_ms"],
        "peak_mb_10k": max(
            w["soap"][big]["worker_peak_rss_delta_mb"],
            w["http"][big]["worker_peak_rss_delta_mb"],
            out["in_process"][big]["soap_request_peak_mb"],
            out["in_process"][big]["platform_send_peak_mb"],
        ),
    }
    results["scaling"] = out


def print_scaling(sec: dict) -> None:
    log(
        f"\n== 4. Scaling: one send to N recipients, medians ({sec['server']}; in-process = Platform.send, "
        "and the whole SOAP request through the WSGI app for tracemalloc)"
    )
    log(
        f"   {'N':>6}{'SOAP wire ms':>14}{'HTTP wire ms':>14}{'worker peak RSS +MB':>21}"
        f"{'in-proc send ms':>17}{'tracemalloc MB send/SOAP':>26}"
    )
    for n, ip in sec["in_process"].items():
        ws, wh = sec["wire"]["soap"][n], sec["wire"]["http"][n]
        rss = max(ws["worker_peak_rss_delta_mb"], wh["worker_peak_rss_delta_mb"])
        log(
            f"   {n:>6}{ws['median_ms']:>14.1f}{wh['median_ms']:>14.1f}{rss:>21.1f}"
            f"{ip['platform_send_median_ms']:>17.1f}{ip['platform_send_peak_mb']:>14.1f} / {ip['soap_request_peak_mb']:.1f}"
        )
    r = sec["ratios"]
    t = TARGETS["send_10k_vs_1k"]
    worst = max(r["soap_wire_10k_vs_1k"], r["http_wire_10k_vs_1k"])
    log(
        f"   t(10k)/t(1k): SOAP {r['soap_wire_10k_vs_1k']:.1f}x, HTTP {r['http_wire_10k_vs_1k']:.1f}x, "
        f"Platform.send {r['platform_10k_vs_1k']:.1f}x  [{verdict(worst <= t)}, target <= {t:g}]"
    )
    tm = TARGETS["peak_mb_10k"]
    log(
        f"   peak memory for 10k recipients (max of worker RSS growth and tracemalloc): {r['peak_mb_10k']:.1f} MB "
        f"[{verdict(r['peak_mb_10k'] < tm)}, target < {tm:g} MB]"
    )
    p = sec["pull"]
    log("   report pull (statusApi.aspx; send N, wait, pull N; fresh database first):")
    for n, row in p.items():
        if isinstance(row, dict):
            label = f"{n.split('_')[0]} after {p['history_reports']} reports in history" if "history" in n else n
            log(f"   {label:>40} {row['median_ms']:>9.1f} ms   runs {row['runs_ms']}")
    tp = TARGETS["pull_4000_vs_1"]
    log(
        f"   t(pull 4000)/t(pull 1) = {r['pull_4000_vs_1']:.1f}x  [{verdict(r['pull_4000_vs_1'] <= tp)}, "
        f"target <= {tp:g}]   (against pull 1 after the history: {r['pull_4000_vs_1_after_history']:.1f}x)"
    )
