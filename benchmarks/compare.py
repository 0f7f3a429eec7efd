"""Before and after, side by side: the mock at another git revision against this working tree, one run.

    .venv/bin/python benchmarks/compare.py REV [--rounds 4] [--seconds 5] [--flags "--no-journal"]
        [--account-flags "--limits off"]

Both servers run at once (``ipyy-mock serve``, the same flags, a fresh
database each, 2 workers x 1 thread unless ``--flags`` says otherwise); wrk
(the benchmark's own request bodies, 16 keep-alive connections) loads one at a
time, the order swapped every round, so the machine's noise hits both alike.
Each server gets its own tree's requests: the revision's
``benchmarks/bench.py`` (``send_bodies()``, ``SEND_HEADERS``, ``WIRE_PATHS``)
drives the revision, this tree's drives this tree, so a change of the wire
contract between the two (the SOAP namespace, a member's order) compares the
same send on both; a revision without them is driven with this tree's. Before
the rounds, one request per surface must come back 200 (and with the tree's
``SEND_OK`` when it has one).
``--account-flags`` sets the benchmark account on both sides (``ipyy-mock
account set``) before they start; a revision whose CLI does not know a flag
keeps its account as it was, and says so. Why: the benchmark sends 验证码 to
the same numbers, so since the vendor's sending limits every send past the
third warns; ``--limits off`` compares the same work with a revision from
before them.
For each surface: requests/s, p50 and p99, and the CPU the server's workers
spent per request (every thread, from /proc), medians over the rounds.

The revision is checked out with ``git worktree`` under benchmarks/.cache
and run from there with the same virtual environment (its packages put first
on ``PYTHONPATH``), so a revision that needs other dependencies than this
tree is not comparable this way. Loopback only; the servers are stopped at
the end. Needs wrk (``bash benchmarks/run.sh`` installs it).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (request bodies, wrk script, free ports)

ROOT = bench.ROOT
CACHE = bench.CACHE


def checkout(rev: str) -> Path:
    """A worktree of ``rev`` (its root; ``.compare-packages`` in it holds ipyy_mock / ipyy_client, that tree's
    packages)."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True)
    tree = CACHE / f"compare-{sha.stdout.strip()}"
    if not tree.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT, check=True, capture_output=True
        )
    links = tree / ".compare-packages"
    links.mkdir(exist_ok=True)
    for name, folder in (("ipyy_mock", "mockserver"), ("ipyy_client", "client")):
        link = links / name
        if not link.exists():  # the package is the folder itself in older trees, a folder inside it in newer ones
            inner = tree / folder / name
            link.symlink_to(inner if inner.is_dir() else tree / folder)
    return tree


def requests_of(tree: Path | None) -> ModuleType:
    """The module that says what to send to the server of ``tree``: its own benchmarks/bench.py (loaded under
    another name), or this tree's bench when ``tree`` is None or its bench.py has not what compare needs."""
    if tree is None:
        return bench
    path = tree / "benchmarks" / "bench.py"
    if path.exists():
        spec = importlib.util.spec_from_file_location(f"bench_{tree.name.replace('-', '_')}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - an old bench that does not import here: this tree's requests
            print(f"compare.py: {path} does not load ({exc!r}); sending this tree's requests", file=sys.stderr)
            return bench
        if all(hasattr(module, name) for name in ("send_bodies", "SEND_HEADERS", "WIRE_PATHS")):
            return module
    print(f"compare.py: {path} has no send_bodies / SEND_HEADERS / WIRE_PATHS; sending this tree's", file=sys.stderr)
    return bench


def check_sends(server: bench.Server, reqs: ModuleType, surfaces: list[str], label: str) -> None:
    """One send per surface, with the tree's own request: a 200, and its SEND_OK when the tree has one (a server
    answering Faults or refusals would otherwise be measured as fast as any other)."""
    ok: dict[str, bytes] = getattr(reqs, "SEND_OK", {})
    bodies = reqs.send_bodies()
    for s in surfaces:
        got = requests.post(server.url + reqs.WIRE_PATHS[s], data=bodies[s], headers=reqs.SEND_HEADERS[s], timeout=30)
        if got.status_code != 200 or (s in ok and ok[s] not in got.content):
            raise SystemExit(f"compare.py: {label} {s}: not a send: {got.status_code} {got.content[:300]!r}")


def worker_cpu(pid: int) -> float:
    """CPU seconds of every thread of the server's worker processes (children of ``pid``)."""
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return sum(bench.cpu_seconds(int(k)) for k in kids)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rev", help="the revision to compare with (e.g. HEAD~3, a commit, a tag)")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--seconds", type=int, default=5, help="wrk seconds per server, surface and round")
    p.add_argument("--flags", default="", help="extra `ipyy-mock serve` flags for both servers")
    p.add_argument("--account-flags", default="", help="`ipyy-mock account set` flags for both sides' account")
    p.add_argument("--surfaces", default="soap,http,domestic")
    args = p.parse_args(argv)
    work = CACHE / "compare-run"
    work.mkdir(parents=True, exist_ok=True)
    surfaces = args.surfaces.split(",")
    tree = checkout(args.rev)
    # per server: its label, the server, its own tree's requests and the wrk scripts that send them
    servers: list[tuple[str, bench.Server, ModuleType, dict[str, Path]]] = []
    sides: tuple[tuple[str, str, Path | None], ...] = (
        (f"before ({args.rev})", str(tree / ".compare-packages"), tree),
        ("after (this tree)", "", None),
    )
    for label, pythonpath, own in sides:
        reqs = requests_of(own)
        scripts: dict[str, Path] = {}
        bodies: dict[str, Any] = reqs.send_bodies()
        for name in surfaces:
            body_file = work / f"{len(servers)}-{name}.body"
            body_file.write_bytes(bodies[name])
            scripts[name] = bench.wrk_script(work / f"{len(servers)}-{name}.lua", body_file, reqs.SEND_HEADERS[name])
        db = work / f"{len(servers)}.db"
        for old in work.glob(f"{db.name}*"):
            old.unlink()
        env = dict(os.environ, PYTHONPATH=pythonpath) if pythonpath else dict(os.environ)
        bench.create_account(db, env)
        if args.account_flags:
            setting = [str(bench.BIN / "ipyy-mock"), "account", "set", bench.ACCOUNT, "--db", str(db)]
            done = subprocess.run([*setting, *args.account_flags.split()], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"compare.py: {label}: account set {args.account_flags} not known there; left as it was")
        port = bench.free_port()
        cmd = [str(bench.BIN / "ipyy-mock"), "serve", "--port", str(port), "--db", str(db), *args.flags.split()]
        server = bench.Server(f"compare-{len(servers)}", cmd, port, bench.mock_ready, env=env)
        servers.append((label, server, reqs, scripts))
    try:
        for _, server, _, _ in servers:
            server.start()
        for label, server, reqs, _ in servers:
            server.wait()
            check_sends(server, reqs, surfaces, label)
        for _label, server, reqs, scripts in servers:  # warm-up
            for s in surfaces:
                bench.run_wrk(server.url + reqs.WIRE_PATHS[s], scripts[s], 2, 16, 2)
        runs: dict[tuple[str, str], list[dict]] = {}
        for r in range(args.rounds):
            for s in surfaces:
                for label, server, reqs, scripts in servers if r % 2 == 0 else servers[::-1]:
                    assert server.proc is not None
                    before = worker_cpu(server.proc.pid)
                    res = bench.run_wrk(server.url + reqs.WIRE_PATHS[s], scripts[s], args.seconds, 16, 2)
                    res["cpu_us"] = (worker_cpu(server.proc.pid) - before) / max(1, res["requests"]) * 1e6
                    runs.setdefault((s, label), []).append(res)
        out = {}
        print(f"{'surface':9} {'server':28} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>11}  rounds req/s")
        for (s, label), rs in runs.items():
            row = {
                "rps": statistics.median(x["rps"] for x in rs),
                "p50_ms": statistics.median(x["p50_us"] for x in rs) / 1000,
                "p99_ms": statistics.median(x["p99_us"] for x in rs) / 1000,
                "cpu_us_per_request": statistics.median(x["cpu_us"] for x in rs),
                "rounds_rps": [round(x["rps"]) for x in rs],
            }
            out[f"{s} {label}"] = row
            print(
                f"{s:9} {label:28} {row['rps']:7.0f} {row['p50_ms']:7.1f} {row['p99_ms']:7.1f} "
                f"{row['cpu_us_per_request']:11.0f}  {row['rounds_rps']}"
            )
        (work / "compare.json").write_text(json.dumps(out, indent=1))
    finally:
        for _, server, _, _ in servers:
            server.stop()
    return 0


if __name__ == "__main__":
    if not re.match(r"^[\w./~^@{}-]+$", sys.argv[1] if len(sys.argv) > 1 else "x"):
        raise SystemExit("compare.py: give a git revision, e.g. HEAD~3")
    raise SystemExit(main())
