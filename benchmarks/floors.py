"""What a send costs over the request path under it: the same server answering sends and refusals, side by side.

    .venv/bin/python benchmarks/floors.py [--rounds 3] [--seconds 4]

Two mocks as shipped (granian, 2 workers x 1 thread), one with the journal
and one ``--no-journal``, and WireMock serving the mock's exact reply; wrk
(bench.py's load: 16 keep-alive connections, 2 threads) sends each of them
the benchmark's SOAP and HTTP send, and the same requests with a wrong
password, which the mock refuses after authentication: parsed, checked,
journaled and answered, but nothing written. Rounds interleaved, the order
reversed every other round; medians. Prints req/s, the ratio to WireMock
and the machine's CPU per request (2 cores / req/s, wrk included), so the
send's own work and the journal's can be read off as differences.

Needs what ``bash benchmarks/run.sh`` installs (wrk, a JRE, the WireMock jar).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (servers, bodies, wrk)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=int, default=4, help="wrk seconds per case and round")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ipyy-floors-"))
    logs = work / "logs"
    logs.mkdir()
    mocks = {}
    for key, extra in (("mock", []), ("no-journal", ["--no-journal"])):
        db = work / f"{key}.db"
        bench.create_account(db)
        mocks[key] = bench.mock_server(key, db, 2, 1, logs, extra)
    sends, refusals = bench.send_bodies(), bench.refused_bodies()
    bodies = {}
    for surface in ("soap", "http"):
        path, headers = bench.WIRE_PATHS[surface], bench.SEND_HEADERS[surface]
        bodies[(surface.upper(), "send")] = (sends[surface], path, headers)
        bodies[(surface.upper(), "refusal")] = (refusals[surface], path, headers)
    servers = list(mocks.values())
    try:
        for s in servers:
            s.start()
        for s in servers:
            s.wait()
        first = mocks["mock"]
        replies = {}
        for (surface, kind), (body, path, headers) in bodies.items():
            got = requests.post(first.url + path, data=body, headers=headers, timeout=30)
            ok = bench.SEND_OK[surface.lower()] in got.content
            if ok != (kind == "send"):
                raise SystemExit(f"{surface} {kind}: unexpected reply {got.content[:300]!r}")
            if kind == "send":
                replies[surface] = got.content
        root = work / "wiremock"
        bench.write_wiremock_mappings(
            root, {"soap": replies["SOAP"], "http": replies["HTTP"], "domestic": replies["HTTP"]}
        )
        wiremock = bench.wiremock_server(bench.find_jar(None), root, logs)
        servers.append(wiremock)
        wiremock.start()
        wiremock.wait(90)

        cases: dict[str, tuple[str, Path]] = {}
        for (surface, kind), (body, path, headers) in bodies.items():
            body_file = work / f"{surface}-{kind}.body"
            body_file.write_bytes(body)
            script = bench.wrk_script(work / f"{surface}-{kind}.lua", body_file, headers)
            if kind == "send":
                cases[f"{surface} WireMock, the send's reply"] = (wiremock.url + path, script)
            for key, server in mocks.items():
                cases[f"{surface} {key}, {kind}"] = (server.url + path, script)
        for name, (url, script) in cases.items():  # warm-up; WireMock longer (its JIT)
            bench.run_wrk(url, script, 8 if "WireMock" in name else 2, 16, 2)
        rps: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        for r in range(args.rounds):
            for name in names if r % 2 == 0 else names[::-1]:
                url, script = cases[name]
                rps[name].append(bench.run_wrk(url, script, args.seconds, 16, 2)["rps"])
            bench.log(f"   round {r + 1}/{args.rounds} done")
    finally:
        for s in servers:
            s.stop()
    cores = os.cpu_count() or 2
    bench.log(f"\n{'case':<36}{'req/s':>8}{'vs WireMock':>13}{'machine us/req':>16}   rounds")
    for surface in ("SOAP", "HTTP"):
        wm = statistics.median(rps[f"{surface} WireMock, the send's reply"])
        for name in [n for n in names if n.startswith(surface)]:
            med = statistics.median(rps[name])
            bench.log(
                f"{name:<36}{med:>8.0f}{med / wm:>12.2f}x{cores * 1e6 / med:>16.0f}   {[round(x) for x in rps[name]]}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
