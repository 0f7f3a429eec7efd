"""``ipyy-mock serve`` with one or more of the profile's suggestions applied in this process only.

Used by ``bench.py --only whatif`` to measure, under the same wrk load as the
real server, what each suggestion would buy before anyone changes mockserver/.
The patches are applied in the gunicorn master before it forks, so every
worker inherits them. Nothing on disk is changed.

    python benchmarks/whatif_serve.py --whatif no_gc+sync_normal -- --port 8080 --db x.db --workers 2

what-ifs:
    sync_normal  the store's connections use PRAGMA synchronous=NORMAL instead of FULL (WAL: no fsync per commit).
                 Information only: docs/contract.md §3 wants an acknowledged send on disk before its reply, so the
                 mock keeps FULL; this shows what the fsync costs under load.
    no_gc        (built in now: soap_service.py sets spyne.const.MIN_GC_INTERVAL = inf) no-op
    write_lock   (built in now: store.py queues writers on a thread lock and an flock) no-op
"""

from __future__ import annotations

import argparse
import sys


def apply(whatifs: set[str]) -> list[str]:
    applied = []
    for built_in in ("no_gc", "write_lock"):
        if built_in in whatifs:
            applied.append(f"{built_in} (built in, nothing to patch)")
    if "sync_normal" in whatifs:
        from ipyy_mock.core.store import Store

        orig_db = Store.db.fget
        seen: set[int] = set()

        def db(self):  # type: ignore[no-untyped-def]
            conn = orig_db(self)
            if id(conn) not in seen:
                conn.execute("PRAGMA synchronous=NORMAL")
                seen.add(id(conn))
            return conn

        Store.db = property(db)
        applied.append("sync_normal")
    unknown = whatifs - {"no_gc", "sync_normal", "write_lock"}
    if unknown:
        raise SystemExit(f"unknown what-if(s): {', '.join(sorted(unknown))}")
    return applied


def main() -> int:
    argv = sys.argv[1:]
    serve_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser()
    p.add_argument("--whatif", default="")
    args = p.parse_args(own)
    applied = apply({w for w in args.whatif.replace(",", "+").split("+") if w})
    print(f"what-if patches: {', '.join(applied) or '(none)'}", flush=True)
    from ipyy_mock.cli import main as cli_main

    return cli_main(["serve", *serve_args])


if __name__ == "__main__":
    sys.exit(main())
