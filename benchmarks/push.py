"""Section 5 of ``bench.py``: push throughput, from the first send to the last report on the receiver.

An account whose push URL is a local receiver; ``--push-reports`` reports sent
in sends of 1,000 recipients over the HTTP surface; the mock's push runner
(``ipyy_mock.push.runner``) delivers them in batches. Reported, not gated.
"""

from __future__ import annotations

import argparse
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from bench import ACCOUNT, BIN, FORM_CTYPE, create_account, http_form, log, mock_server, numbers

RUNNER = "ipyy_mock.push.runner"  # what results.json names as the push's implementation


class _Receiver(BaseHTTPRequestHandler):
    """The account's push URL: counts the reports of each batch and when the first and the last came."""

    counts: dict[str, Any] = {"reports": 0, "batches": 0, "first": None, "last": None}
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        now = time.perf_counter()
        with self.lock:
            c = self.counts
            c["reports"] += body.count(b"<statusbox>")
            c["batches"] += 1
            c["first"] = c["first"] or now
            c["last"] = now
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "1")
        self.end_headers()
        self.wfile.write(b"1")

    def log_message(self, *a: Any) -> None:
        pass


def push(args: argparse.Namespace, work: Path, results: dict) -> None:
    out: dict[str, Any] = {"implemented": True, "where": RUNNER}
    recv = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=recv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{recv.server_address[1]}/push"
    db = work / "push.db"
    create_account(db)
    subprocess.run(
        [str(BIN / "ipyy-mock"), "account", "set", ACCOUNT, "--push-url", url, "--db", str(db)],
        check=True,
        capture_output=True,
    )
    srv = mock_server("mock_push", db, 2, 2, work / "logs").start().wait()
    try:
        total = args.push_reports
        per_send = 1000
        t0 = time.perf_counter()
        for i in range(0, total, per_send):
            n = min(per_send, total - i)
            r = requests.post(
                srv.url + "/I18NSms.aspx",
                data=http_form(",".join(numbers(n, 50_000_000 + i))),
                headers={"Content-Type": FORM_CTYPE},
                timeout=120,
            )
            assert b"Success" in r.content, r.content
        sent = time.perf_counter()
        deadline = sent + args.push_timeout
        while time.perf_counter() < deadline and _Receiver.counts["reports"] < total:
            if _Receiver.counts["reports"] == 0 and time.perf_counter() > sent + 10:
                break
            time.sleep(0.02)
        c = dict(_Receiver.counts)
        if c["reports"] == 0:
            out["result"] = "n/a (no report reached the receiver within 10 s)"
        else:
            span = (c["last"] or sent) - t0
            out.update(
                reports=c["reports"],
                batches=c["batches"],
                expected=total,
                send_seconds=sent - t0,
                seconds_first_send_to_last_push=span,
                reports_per_s=c["reports"] / span,
                drain_after_last_send_s=max(0.0, (c["last"] or sent) - sent),
                seconds_first_to_last_push=(c["last"] - c["first"]) if c["first"] else None,
            )
            out["result"] = (
                f"{c['reports'] / span:.0f} reports/s end to end ({c['reports']}/{total} reports in "
                f"{c['batches']} batches, {span:.2f} s from the first send to the last push; sends "
                f"took {sent - t0:.2f} s, the last push came {out['drain_after_last_send_s']:.2f} s "
                "after the last send)"
            )
    finally:
        srv.stop()
        recv.shutdown()
    results["push"] = out


def print_push(sec: dict) -> None:
    log(f"\n== 5. Push: {sec['result']}  ({sec['where']})")
