"""The live profile of ``bench.py``: py-spy on the mock's workers while wrk loads them, stacks sorted by layer.

It samples with ``--idle`` (a thread waiting on a lock or the disk counts) and
``--nonblocking`` (the workers are not paused), so the shares are of the
request threads' time under the benchmark's own load, not of a profiler's
idea of it. ``throughput.py`` runs it while its servers are up.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

from bench import CACHE, Server, log

PY_SPY = CACHE / "tools" / "bin" / "py-spy"


def classify(frames: list[str]) -> str:
    """One py-spy stack (root first) of a granian worker -> what that thread was doing, by layer (the innermost
    layer of the mock's own that the stack is in)."""
    names = [f.split(" (")[0] for f in frames]
    files = [f[f.find("(") + 1 :].rsplit(":", 1)[0] if "(" in f else "" for f in frames]
    leaf = names[-1]
    joined = ";".join(names)
    if "PushRunner" in joined:
        return (
            "idle: push runner waiting"
            if leaf in ("Condition.wait", "Event.wait", "wait")
            else "push runner thread working (release, batches, SQL)"
        )
    if (
        leaf == "_WriteQueue.__enter__"
    ):  # core/store/writes.py: the writers' queue (thread lock, then flock) before BEGIN
        return "waiting in the writers' queue (lock / flock)"
    if "GroupCommit.flush" in joined:  # core/group.py, a loop callback: BEGIN, COMMIT, the journal's batch
        return "group commit: BEGIN and COMMIT, the journal rows' INSERT"
    # A request runs in a greenlet of its own (core/group.py): py-spy shows its stack from Edge._call down.
    if "Edge.__rsgi__" not in joined and "Edge._call" not in joined:
        return "idle: the event loop waiting, or granian's own threads"  # uvloop is C: granian's frames only
    if "JournalMiddleware._record" in joined or "JournalStore.insert" in joined:
        return "journal: the row and its masking" if "JournalStore" not in joined else "journal: its INSERT"
    if leaf == "Connections.write" and len(names) > 1 and names[-2].endswith("__exit__"):
        return "COMMIT of the send"
    if "GroupCommit.turn" in joined and leaf in ("GroupCommit.turn", "Connections.write"):
        return "SAVEPOINT / RELEASE of the send (group commit)"
    if any("/core/store/" in f for f in files[-2:]):
        return "other SQL statements of the send (generation, BEGIN, balance, task, messages)"
    if "Platform.send" in joined:
        return "Platform.send in Python (rules, billing, rows)"
    if "read_operation" in joined or "SoapFront._check" in joined:
        return "SOAP front: parse, checks, read"
    if "SoapFront" in joined:
        return "SOAP front: the rest (reply, SendRequest)"
    if "Params.__init__" in joined or "HttpApi" in joined or "DomesticApi" in joined:
        return "HTTP surface: parameters, reply"
    if "FaultMiddleware" in joined:
        return "fault middleware"
    if "MockApp.__call__" in joined:
        return "router and request guard"
    if "Edge._call" in joined:
        return "edge and journal wrappers around the app"
    return "edge: environ, body, reply; the event loop"


def live_profile(args: argparse.Namespace, server: Server, key: str, url: str, script: Path, work: Path) -> dict:
    """py-spy (sampling, --idle, non-blocking) on one worker of the real server while wrk loads it."""
    if not PY_SPY.exists():
        return {"skipped": "py-spy not installed (benchmarks/run.sh installs it into benchmarks/.cache/tools)"}
    workers = server.children()
    if not workers:
        return {"skipped": "no worker pid"}
    secs = max(3, int(args.live_seconds))
    load = subprocess.Popen(
        [
            "wrk",
            f"-t{args.wrk_threads}",
            f"-c{args.connections}",
            f"-d{secs + 2}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(1)
    raws, spies = [], []
    for pid in workers:  # every worker: keep-alive connections need not spread evenly over them
        raw = work / f"pyspy_{key}_{url.rsplit('/', 1)[-1]}_{pid}.txt"
        raws.append(raw)
        spies.append(
            subprocess.Popen(
                [
                    str(PY_SPY),
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(secs),
                    "--rate",
                    "100",
                    "--idle",
                    "--nonblocking",
                    "--format",
                    "raw",
                    "--output",
                    str(raw),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    errors = []
    for spy in spies:
        out_text, _ = spy.communicate(timeout=secs + 60)
        if spy.returncode != 0:
            errors.append(out_text[-300:])
    load.communicate(timeout=secs + 60)
    if errors and len(errors) == len(spies):
        return {"skipped": f"py-spy failed: {errors[0]}"}
    buckets: dict[str, int] = {}
    for raw in raws:
        if not raw.exists():
            continue
        for line in raw.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            b = classify(stack.split(";"))
            buckets[b] = buckets.get(b, 0) + int(count)
    busy = {k: v for k, v in buckets.items() if not k.startswith("idle") and not k.startswith("push runner")}
    total_busy = sum(busy.values()) or 1
    return {
        "worker_pids": workers,
        "seconds": secs,
        "request_thread_pct": {
            k: round(v / total_busy * 100, 1) for k, v in sorted(busy.items(), key=lambda kv: -kv[1])
        },
        "all_samples": dict(sorted(buckets.items(), key=lambda kv: -kv[1])),
    }


def print_live(sec: dict) -> None:
    log(
        f"\n== Live profile under wrk load (py-spy --idle on every worker of {sec['server']}; share of the "
        "request threads' samples, busy or blocked)"
    )
    for s in ("soap", "http", "domestic"):
        d = sec.get(s, {})
        if not d:
            continue
        if "skipped" in d:
            log(f"   {s.upper()}: skipped: {d['skipped']}")
            continue
        log(f"   {s.upper()}: " + "; ".join(f"{k} {v:.0f}%" for k, v in d["request_thread_pct"].items() if v >= 1))
