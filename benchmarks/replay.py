"""Before and after, byte for byte: the mock of another git revision and the mock of this tree, the same requests.

    .venv/bin/python benchmarks/replay.py [REV] [--corpus DIR ...] [--flags "..."] [--self]

REV defaults to the merge base of HEAD with ``main``. Both servers start at
once (``ipyy-mock serve``, the same flags, a fresh database each, so both hold
the demo account alone and number tasks alike), each with ``time.time`` pinned
to the same instant (``benchmarks/replay_clock/sitecustomize.py``: the admin
API can only move the clock forward, not stop it) and set up alike (``SETUP``:
reports due a minute after their send, the journal emptied). Every request of the corpus
(``tests/data/asmx/*.http`` then ``tests/data/replay/*.http``, in file-name
order, each file one raw HTTP request) goes to both, the old one first, as the
exact bytes of the file over a socket of its own. Compared:

- each reply's status line, headers (only ``Date`` dropped: it is the real
  time the HTTP server stamps, which the pin does not reach) and body, byte
  for byte;
- then the journal (``GET /_mock/api/journal``), row by row, without
  ``id``, ``time``, ``at`` and ``duration_ms``;
- then the books through the admin API: accounts, tasks, messages, reports,
  uplinks, warnings and pushes.

One line per difference (the request's file, what differs, both values
shortened around the first differing byte), then a summary; the exit status is
1 when anything differs. ``--self`` runs this tree on both sides (no checkout):
the test of the tool, and a check that the corpus is deterministic.

The other revision is checked out and run as ``benchmarks/compare.py`` does
(``compare.checkout``: a ``git worktree`` under benchmarks/.cache, its
packages first on ``PYTHONPATH``, this virtual environment).
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402  (another revision's checkout)

import bench  # noqa: E402  (servers, free ports)

ROOT = bench.ROOT
CORPUS = (ROOT / "tests" / "data" / "asmx", ROOT / "tests" / "data" / "replay")
PIN_DIR = Path(__file__).resolve().parent / "replay_clock"
PIN_EPOCH = "1796083200"  # 2026-12-01 00:00:00 UTC, 08:00 in Asia/Shanghai: any fixed instant does
DROPPED_HEADERS = frozenset({"date"})
JOURNAL_DROPPED = frozenset({"id", "time", "at", "duration_ms"})
# Before the corpus, on both: reports come due a minute after their send, so with time pinned only the corpus'
# clock advance releases them (a report due at once is released by whichever worker's push runner ticks first,
# which moves counts between replies); then the journal is emptied of the readiness checks (they name the port).
SETUP = (("PATCH", "settings", {"report_delay": 60}), ("DELETE", "journal", None))
BOOKS = ("accounts", "tasks", "messages", "reports", "uplinks", "warnings", "pushes")
SHOWN = 60  # characters of each value a difference line shows


@dataclass
class Reply:
    """What came back for one request: the parsed parts, or the error that stopped the exchange."""

    status_line: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    error: str = ""


def exchange(port: int, raw: bytes, timeout: float = 30.0) -> Reply:
    """Send ``raw`` unchanged on a new connection to 127.0.0.1:``port`` and read one reply."""
    method = raw.split(b" ", 1)[0].decode("ascii", "replace")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            try:
                sock.sendall(raw)
            except OSError:
                pass  # a server that answers before the body (413) may close first: its reply is still there
            reply = http.client.HTTPResponse(sock, method=method)
            try:
                reply.begin()
                body = reply.read()
            finally:
                reply.close()
    except (OSError, http.client.HTTPException) as exc:
        return Reply(error=f"{type(exc).__name__}: {exc}")
    version = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(reply.version, str(reply.version))
    return Reply(f"{version} {reply.status} {reply.reason}", list(reply.msg.items()), body)


def shorten(a: Any, b: Any) -> tuple[str, str]:
    """Both values as short reprs, cut around where they first differ."""
    ra, rb = repr(a), repr(b)
    at = next((i for i, (x, y) in enumerate(zip(ra, rb)) if x != y), min(len(ra), len(rb)))
    start = max(0, at - SHOWN // 3)

    def cut(r: str) -> str:
        return ("…" if start else "") + r[start : start + SHOWN] + ("…" if len(r) > start + SHOWN else "")

    return cut(ra), cut(rb)


def line(where: str, what: str, a: Any, b: Any) -> str:
    sa, sb = shorten(a, b)
    return f"[{where}] {what}: before {sa} | after {sb}"


def diff_replies(where: str, a: Reply, b: Reply) -> list[str]:
    """One line per part of the two replies that differs (``Date`` left out)."""
    out = []
    if a.error or b.error:
        if a.error != b.error:
            out.append(line(where, "error", a.error, b.error))
        return out
    if a.status_line != b.status_line:
        out.append(line(where, "status line", a.status_line, b.status_line))
    ha = [(k.lower(), v) for k, v in a.headers if k.lower() not in DROPPED_HEADERS]
    hb = [(k.lower(), v) for k, v in b.headers if k.lower() not in DROPPED_HEADERS]
    if ha != hb:
        for name in sorted({k for k, _ in ha} | {k for k, _ in hb}):
            va, vb = [v for k, v in ha if k == name], [v for k, v in hb if k == name]
            if va != vb:
                out.append(line(where, f"header {name}", va or None, vb or None))
        if not out or all("header" not in x for x in out):
            out.append(line(where, "header order", [k for k, _ in ha], [k for k, _ in hb]))
    if a.body != b.body:
        out.append(line(where, f"body ({len(a.body)} vs {len(b.body)} bytes)", a.body, b.body))
    return out


def diff_json(where: str, a: Any, b: Any) -> list[str]:
    """One line per path (``[2].status``, ``.name``) whose values differ between two JSON documents."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                out.append(line(f"{where}.{key}", "present", key in a, key in b))
            else:
                out += diff_json(f"{where}.{key}", a[key], b[key])
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = [line(where, "length", len(a), len(b))] if len(a) != len(b) else []
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff_json(f"{where}[{i}]", x, y)
        return out
    return [] if a == b else [line(where, "value", a, b)]


def corpus(dirs: list[Path]) -> list[Path]:
    return [path for folder in dirs for path in sorted(folder.glob("*.http"))]


def admin_get(server: bench.Server, path: str) -> Any:
    reply = requests.get(f"{server.url}/_mock/api/{path}", timeout=30)
    if reply.status_code != 200:
        return {"status": reply.status_code, "body": reply.text[:500]}
    return reply.json()


def journal_rows(server: bench.Server) -> list[dict[str, Any]]:
    """Every journal row, oldest first, without what differs by nature (its id, times, duration)."""
    rows = admin_get(server, "journal?limit=10000")
    rows = rows.get("entries", rows) if isinstance(rows, dict) else rows
    return [{k: v for k, v in row.items() if k not in JOURNAL_DROPPED} for row in reversed(rows)]


def books(server: bench.Server) -> dict[str, Any]:
    return {name: admin_get(server, f"{name}?limit=1000" if name != "accounts" else name) for name in BOOKS}


def start(label: str, packages: str, work: Path, flags: list[str], epoch: str) -> bench.Server:
    """``ipyy-mock serve`` on a fresh database with time pinned; ``packages`` first on PYTHONPATH ("" for this
    tree's)."""
    db = work / f"{label}.db"
    for old in work.glob(f"{db.name}*"):
        old.unlink()
    path = os.pathsep.join(p for p in (str(PIN_DIR), packages) if p)
    env = dict(os.environ, PYTHONPATH=path, IPYY_REPLAY_EPOCH=epoch)
    port = bench.free_port()
    cmd = [str(bench.BIN / "ipyy-mock"), "serve", "--port", str(port), "--db", str(db), *flags]
    return bench.Server(f"replay-{label}", cmd, port, bench.mock_ready, env=env, log_path=work / f"{label}.log")


def set_up(server: bench.Server) -> None:
    for method, path, body in SETUP:
        reply = requests.request(method, f"{server.url}/_mock/api/{path}", json=body, timeout=30)
        if reply.status_code >= 300:
            raise SystemExit(f"replay.py: {server.name}: {method} {path}: {reply.status_code} {reply.text[:300]}")


def merge_base() -> str:
    found = subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=ROOT, capture_output=True, text=True)
    if found.returncode != 0:
        raise SystemExit("replay.py: no merge base with main; give a revision")
    return found.stdout.strip()


def replay(
    before: bench.Server, after: bench.Server, files: list[Path], say: Callable[[str], None] = print
) -> tuple[list[str], int]:
    """Send every file to both servers, then compare journals and books: the difference lines and how many
    requests differed."""
    diffs: list[str] = []
    differing = 0
    last = time.monotonic()
    for n, path in enumerate(files, 1):
        raw = path.read_bytes()
        a, b = exchange(before.port, raw), exchange(after.port, raw)
        found = diff_replies(path.stem, a, b)
        differing += bool(found)
        for d in found:
            say(d)
        diffs += found
        if time.monotonic() - last > 5 or n == len(files):
            print(f"replay.py: {n}/{len(files)} requests, {differing} differing", file=sys.stderr)
            last = time.monotonic()
    for d in diff_json("journal", journal_rows(before), journal_rows(after)):
        say(d)
        diffs.append(d)
    for d in diff_json("books", books(before), books(after)):
        say(d)
        diffs.append(d)
    return diffs, differing


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rev", nargs="?", help="the revision before (default: the merge base with main)")
    p.add_argument("--self", dest="self_", action="store_true", help="this tree on both sides")
    p.add_argument("--corpus", type=Path, action="append", help="a folder of *.http requests (repeatable)")
    p.add_argument("--flags", default="", help="extra `ipyy-mock serve` flags for both servers")
    p.add_argument("--epoch", default=PIN_EPOCH, help="the pinned time.time() of both servers")
    p.add_argument("--work", type=Path, default=bench.CACHE / "replay-run", help="databases and logs")
    args = p.parse_args(argv)
    files = corpus(args.corpus or list(CORPUS))
    if not files:
        raise SystemExit("replay.py: the corpus is empty")
    args.work.mkdir(parents=True, exist_ok=True)
    if args.self_:
        label, packages = "this tree", ""
    else:
        rev = args.rev or merge_base()
        label, packages = rev, str(compare.checkout(rev) / ".compare-packages")
    flags = args.flags.split()
    before = start("before", packages, args.work, flags, args.epoch)
    after = start("after", "", args.work, flags, args.epoch)
    try:
        for server in (before, after):
            server.start()
        for server in (before, after):
            server.wait()
            set_up(server)
        diffs, differing = replay(before, after, files)
        journal = len(journal_rows(after))
    finally:
        before.stop()
        after.stop()
    print(
        f"replay.py: before {label}, after this tree: {len(files)} requests, {differing} with differing replies; "
        f"{journal} journal rows; {len(diffs)} differences in all"
    )
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
