"""Sections 1 and 2 of ``bench.py``: send throughput on every surface, the mock against its comparators.

The mock at each ``--configs`` setting (and its ``WxT:--flag`` variants), the
same mock refusing the same requests (a wrong password: the request path
without the send's work), WireMock serving the exact reply bytes the mock
returned, and a bare WSGI app (``raw_app.py``) returning them on gunicorn with
the mock's settings. wrk loads one target at a time, keep-alive, one fixed
body per surface; the rounds visit every target in a rotated order, so the
machine's noise hits all of them alike. The py-spy profile of ``live.py`` runs
here too, while the servers are up.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from live import live_profile

from bench import (
    BIN,
    SEND_HEADERS,
    SEND_OK,
    TARGETS,
    WIRE_PATHS,
    Server,
    cmd_version,
    cpu_seconds,
    create_account,
    log,
    mock_server,
    raw_server,
    refused_bodies,
    run_wrk,
    send_bodies,
    task_seq,
    verdict,
    wiremock_server,
    write_wiremock_mappings,
    wrk_script,
)


@dataclass
class Target:
    """One server under load and what wrk measured on it, per surface."""

    key: str
    label: str
    server: Server
    kind: str  # mock | variant | refusal | raw | wiremock
    config: str = ""
    db: Path | None = None
    rounds: dict[str, list[dict]] = field(default_factory=dict)
    stored: dict[str, int] = field(default_factory=dict)
    scripts: dict[str, Path] | None = None  # its own wrk scripts (the refusal row), else the surfaces' sends


def throughput(args: argparse.Namespace, work: Path, jar: Path | None, results: dict) -> list[Server]:
    """Fills ``results["throughput"]`` (and ``results["live_profile"]``); returns the servers it leaves running
    for the client-overhead section: the mock, and the raw app when there are baselines."""
    logdir = work / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    configs: list[tuple[int, int]] = []
    variants: list[tuple[int, int, list[str]]] = []
    for spec in args.configs.split(","):
        size, _, extra = spec.partition(":")
        w, t = (int(x) for x in size.split("x"))
        if extra:
            variants.append((w, t, extra.split()))
        elif (w, t) not in configs:
            configs.append((w, t))
    if args.variants:
        serve_help = subprocess.run([str(BIN / "ipyy-mock"), "serve", "--help"], capture_output=True, text=True).stdout
        for spec in args.variants.split(","):
            size, _, extra = spec.partition(":")
            flags = extra.split()
            if not flags:
                continue
            if all(f.split("=")[0] in serve_help for f in flags if f.startswith("--")):
                w, t = (int(x) for x in size.split("x"))
                variants.append((w, t, flags))
    surfaces = {}
    for s, body in send_bodies().items():
        body_file = work / f"{s}_send.body"
        body_file.write_bytes(body)
        surfaces[s] = (WIRE_PATHS[s], body_file, SEND_HEADERS[s])
    scripts = {s: wrk_script(work / f"{s}.lua", body, hdrs) for s, (_, body, hdrs) in surfaces.items()}

    mocks: list[Target] = []
    for w, t in configs:
        db = work / f"mock_{w}x{t}.db"
        create_account(db)
        mocks.append(
            Target(
                f"mock_{w}x{t}",
                f"mock  {w} workers x {t} threads",
                mock_server(f"mock_{w}x{t}", db, w, t, logdir),
                "mock",
                f"{w}x{t}",
                db,
            )
        )
    for w, t, extra in variants:
        tag = "_".join(f.lstrip("-").replace(" ", "_") for f in extra)
        db = work / f"mock_{w}x{t}_{tag}.db"
        create_account(db)
        mocks.append(
            Target(
                f"mock_{w}x{t}_{tag}",
                f"mock  {w}x{t} {' '.join(extra)}",
                mock_server(f"mock_{w}x{t}_{tag}", db, w, t, logdir, extra),
                "variant",
                f"{w}x{t}",
                db,
            )
        )
    for m in mocks:
        m.server.start()
    for m in mocks:
        m.server.wait()

    # The canned replies: exactly what the mock answered for these bodies.
    first = mocks[0].server
    canned = {}
    for s, (path, body_file, hdrs) in surfaces.items():
        got = requests.post(first.url + path, data=body_file.read_bytes(), headers=hdrs, timeout=30)
        assert got.status_code == 200 and SEND_OK[s] in got.content, got.content
        canned[s] = got.content
        (work / f"{s}_reply.xml").write_bytes(got.content)
    wm_root = work / "wiremock"
    write_wiremock_mappings(wm_root, canned)

    others: list[Target] = []
    if args.baselines:
        assert jar is not None
        others = [
            Target(
                f"raw_{w}x{t}",
                f"raw WSGI {w} workers x {t} threads",
                raw_server(
                    f"raw_{w}x{t}",
                    w,
                    t,
                    work / "soap_reply.xml",
                    work / "http_reply.xml",
                    logdir,
                    work / "domestic_reply.xml",
                ),
                "raw",
                f"{w}x{t}",
            )
            for w, t in configs
        ]
        others.append(
            Target("wiremock", f"WireMock {args.wiremock_version}", wiremock_server(jar, wm_root, logdir), "wiremock")
        )
    for o in others:
        o.server.start()
    for o in others:
        o.server.wait(timeout=90)
    # The floor under a send on the same server: the same requests with a wrong password, refused after
    # authentication (parse, checks, journal, reply; no write). What the request path costs without the send's.
    refused_scripts = {}
    for s, refused in refused_bodies().items():
        path, _, hdrs = surfaces[s]
        body_file = work / f"{s}_refused.body"
        body_file.write_bytes(refused)
        got = requests.post(first.url + path, data=refused, headers=hdrs, timeout=30)
        assert b"PasswordError" in got.content or "用户名或密码错误".encode() in got.content, got.content
        refused_scripts[s] = wrk_script(work / f"{s}_refused.lua", body_file, hdrs)
    refusal = Target(
        f"{mocks[0].key}_refused",
        f"mock  {mocks[0].config}, the same refused (no write)",
        first,
        "refusal",
        mocks[0].config,
        scripts=refused_scripts,
    )
    targets = mocks + [refusal] + others

    # Every comparator must answer with the same bytes.
    for o in others:
        for s, (path, body, hdrs) in surfaces.items():
            got = requests.post(o.server.url + path, data=body.read_bytes(), headers=hdrs, timeout=30)
            if got.status_code != 200 or got.content != canned[s]:
                raise RuntimeError(
                    f"{o.key} {s} reply differs from the mock's: {got.status_code} {got.content[:200]!r}"
                )
    log(
        f"   servers up: {', '.join(t.key + ' :' + str(t.server.port) for t in targets)}; canned replies "
        f"identical (SOAP {len(canned['soap'])} B, HTTP {len(canned['http'])} B)"
    )

    # Warm-up: every target, every surface; WireMock longer (its JIT needs it: this only flatters WireMock) and
    # first, so that its compiler threads have settled before the first round (measured right after WireMock's
    # warm-up, the mock's first round ran at about half the speed of its others).
    for t in sorted(targets, key=lambda t: t.kind != "wiremock"):
        for s, (path, _, _) in surfaces.items():
            secs = args.warmup * (args.wiremock_warmup_factor if t.kind == "wiremock" else 1)
            run_wrk(t.server.url + path, scripts[s], secs, args.connections, args.wrk_threads)
    log(f"   warmed up ({args.warmup:g} s each; WireMock {args.warmup * args.wiremock_warmup_factor:g} s)")

    # Measurement: rounds, each visiting every target, order rotated per round.
    per_round = args.duration / args.rounds
    for r in range(args.rounds):
        order = targets[r % len(targets) :] + targets[: r % len(targets)]
        if r % 2:
            order = list(reversed(order))
        for s, (path, _, _) in surfaces.items():
            for t in order:
                before = task_seq(t.db) if t.db else 0
                kids = t.server.children() if t.kind != "wiremock" else [t.server.proc.pid]
                cpu0 = [cpu_seconds(k) for k in kids]
                script = (t.scripts or scripts)[s]
                res = run_wrk(t.server.url + path, script, per_round, args.connections, args.wrk_threads)
                res["worker_cpu_s"] = [round(cpu_seconds(k) - c, 2) for k, c in zip(kids, cpu0)]
                if t.db:
                    t.stored[s] = t.stored.get(s, 0) + task_seq(t.db) - before
                t.rounds.setdefault(s, []).append(res)
        log(f"   round {r + 1}/{args.rounds} done")

    if "live" in args.only_set:
        section_live = {}
        base = next(m for m in mocks if m.kind == "mock")
        for s, (path, _, _) in surfaces.items():
            section_live[s] = live_profile(args, base.server, base.key, base.server.url + path, scripts[s], work)
        results["live_profile"] = {"server": base.key, **section_live}

    # a mock reply after the load must still be a real OK send
    for m in mocks:
        path, body_file, hdrs = surfaces["soap"]
        check = requests.post(m.server.url + path, data=body_file.read_bytes(), headers=hdrs, timeout=30)
        assert SEND_OK["soap"] in check.content, check.content

    section: dict[str, Any] = {
        "load": {
            "tool": cmd_version(["wrk", "--version"]),
            "connections": args.connections,
            "threads": args.wrk_threads,
            "seconds_per_target": args.duration,
            "rounds": args.rounds,
            "warmup_s": args.warmup,
            "wiremock_warmup_s": args.warmup * args.wiremock_warmup_factor,
            "keepalive": True,
        },
        "canned_reply_bytes": {s: len(b) for s, b in canned.items()},
    }
    for s in surfaces:
        rows = {}
        for t in targets:
            rs = t.rounds[s]
            reqs = sum(x["requests"] for x in rs)
            dur = sum(x["duration_us"] for x in rs) / 1e6
            rows[t.key] = {
                "label": t.label,
                "kind": t.kind,
                "config": t.config,
                # the median round: one slow round (a JVM compiling after its idle spell, the machine's noise)
                # moves neither side's figure; rps_all is every request over every round's time
                "rps": statistics.median(x["rps"] for x in rs),
                "rps_all": reqs / dur,
                "requests": reqs,
                "p50_ms": statistics.mean(x["p50_us"] for x in rs) / 1000,
                "p99_ms": statistics.mean(x["p99_us"] for x in rs) / 1000,
                "errors": sum(x["errors"] for x in rs),
                "rounds_rps": [round(x["rps"], 1) for x in rs],
                "worker_cpu_s": [round(sum(c), 2) for c in zip(*(x["worker_cpu_s"] for x in rs))],
            }
            cpu = rows[t.key]["worker_cpu_s"]
            rows[t.key]["cpu_ms_per_request"] = sum(cpu) / max(1, reqs) * 1e3
            rows[t.key]["worker_cpu_split_pct"] = [round(c / (sum(cpu) or 1) * 100) for c in cpu]
            if t.db:
                rows[t.key]["tasks_stored"] = t.stored.get(s, 0)
        plain = [t for t in mocks if t.kind == "mock"]
        best = max(plain, key=lambda t: rows[t.key]["rps"])
        wm_rps = rows["wiremock"]["rps"] if "wiremock" in rows else None
        raw_same = rows.get(f"raw_{best.config}")
        per_config = {}
        for m in mocks:
            pc: dict[str, float] = {}
            if wm_rps:
                pc["vs_wiremock"] = rows[m.key]["rps"] / wm_rps
            if f"raw_{m.config}" in rows:
                pc["vs_raw"] = rows[m.key]["rps"] / rows[f"raw_{m.config}"]["rps"]
            if m.kind == "variant" and f"mock_{m.config}" in rows:
                pc["vs_plain_same_config"] = rows[m.key]["rps"] / rows[f"mock_{m.config}"]["rps"]
            per_config[m.key] = pc
        if wm_rps:
            per_config[refusal.key] = {"vs_wiremock": rows[refusal.key]["rps"] / wm_rps}
        ratios = {"best_mock": best.key, "per_config": per_config}
        if wm_rps:
            ratios["mock_vs_wiremock"] = rows[best.key]["rps"] / wm_rps
        if raw_same:
            ratios["mock_vs_raw_same_config"] = rows[best.key]["rps"] / raw_same["rps"]
        if wm_rps and raw_same:
            ratios["raw_vs_wiremock"] = raw_same["rps"] / wm_rps
        section[s] = {"rows": rows, "ratios": ratios}

    raw_keep = next((o for o in others if o.kind == "raw"), None)
    for o in others:
        if o is not raw_keep:
            o.server.stop()
    for m in mocks[1:]:
        m.server.stop()
    results["throughput"] = section
    # left running for the client-overhead section: the mock, and the canned raw app for a pure-client view
    return [mocks[0].server] + ([raw_keep.server] if raw_keep else [])


def print_throughput(section: dict) -> None:
    load = section["load"]
    for s, title in (
        ("soap", "1. SOAP send throughput (SendI18NSms, 1 recipient)"),
        ("http", "2. HTTP send throughput (I18NSms.aspx action=send)"),
        ("domestic", "2b. Domestic send throughput (sms.aspx action=send)"),
    ):
        if s not in section:
            continue
        data = section[s]
        log(
            f"\n== {title}: wrk -t{load['threads']} -c{load['connections']} keep-alive, "
            f"{load['seconds_per_target']:g} s per target in {load['rounds']} interleaved rounds"
        )
        wl = max(32, *(len(row["label"]) + 1 for row in data["rows"].values()))
        log(
            f"   {'target':<{wl}}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}{'CPU ms/req':>11}"
            f"  {'worker CPU split %':<19} per-round req/s"
        )
        for row in data["rows"].values():
            extra = f"  (tasks stored: {row['tasks_stored']})" if "tasks_stored" in row else ""
            split = (
                "/".join(str(x) for x in row.get("worker_cpu_split_pct", [])) if row["kind"] != "wiremock" else "(JVM)"
            )
            log(
                f"   {row['label']:<{wl}}{row['rps']:>8.0f}{row['p50_ms']:>8.1f}{row['p99_ms']:>8.1f}"
                f"{row['errors']:>7}{row.get('cpu_ms_per_request', 0):>11.2f}  {split:<19} {row['rounds_rps']}{extra}"
            )
        r = data["ratios"]
        target = TARGETS[f"{s}_vs_wiremock"]
        if "mock_vs_wiremock" in r:
            log(
                f"   best mock = {r['best_mock']}:  mock/WireMock = {r['mock_vs_wiremock']:.2f}x "
                f"[{verdict(r['mock_vs_wiremock'] >= target)}, target >= {target}x]   "
                f"mock/raw (same config) = {r['mock_vs_raw_same_config']:.2f}x   raw/WireMock = {r['raw_vs_wiremock']:.2f}x"
            )
        names = {
            "vs_wiremock": "vs WireMock",
            "vs_raw": "vs raw",
            "vs_plain_same_config": "vs the same config as shipped",
        }
        for key, pr in r["per_config"].items():
            if pr:
                log(f"     {key}: " + ", ".join(f"{names[k]} {v:.2f}x" for k, v in pr.items()))
