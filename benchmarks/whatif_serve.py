"""``ipyy-mock serve`` with one or more of the profile's suggestions applied in this process only.

Used by ``bench.py --only whatif`` to measure, under the same wrk load as the
real server, what each suggestion would buy before anyone changes mockserver/.
The patches are applied in the gunicorn master before it forks, so every
worker inherits them. Nothing on disk is changed.

    python benchmarks/whatif_serve.py --whatif no_gc+sync_normal -- --port 8080 --db x.db --workers 2

what-ifs:
    no_gc        spyne.const.MIN_GC_INTERVAL = inf (spyne's MethodContext.close() stops calling gc.collect())
    sync_normal  the store's connections use PRAGMA synchronous=NORMAL instead of FULL (WAL: no fsync per commit)
    write_lock   one lock per worker process around every write transaction (and journal insert), so a
                 worker's threads queue on a Python lock instead of sleeping in SQLite's busy handler
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import threading


def apply(whatifs: set[str]) -> list[str]:
    applied = []
    if "no_gc" in whatifs:
        from ipyy_mock import spyne_compat  # noqa: F401  (before spyne, as the mock does)
        import spyne.const
        spyne.const.MIN_GC_INTERVAL = float("inf")
        applied.append("no_gc")
    if "sync_normal" in whatifs:
        from ipyy_mock.store import Store
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
    if "write_lock" in whatifs:
        from ipyy_mock.store import Store
        lock = threading.RLock()
        orig_write = Store.write

        @contextlib.contextmanager
        def write(self):  # type: ignore[no-untyped-def]
            with lock, orig_write(self) as conn:
                yield conn

        Store.write = write
        try:
            from ipyy_mock.journal import JournalStore
            orig_insert = JournalStore.insert

            def insert(self, row):  # type: ignore[no-untyped-def]
                with lock:
                    return orig_insert(self, row)

            JournalStore.insert = insert
        except ImportError:
            pass
        applied.append("write_lock")
    unknown = whatifs - {"no_gc", "sync_normal", "write_lock"}
    if unknown:
        raise SystemExit(f"unknown what-if(s): {', '.join(sorted(unknown))}")
    return applied


def main() -> int:
    argv = sys.argv[1:]
    serve_args = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser()
    p.add_argument("--whatif", default="")
    args = p.parse_args(own)
    applied = apply({w for w in args.whatif.replace(",", "+").split("+") if w})
    print(f"what-if patches: {', '.join(applied) or '(none)'}", flush=True)
    from ipyy_mock.cli import main as cli_main
    return cli_main(["serve", *serve_args])


if __name__ == "__main__":
    sys.exit(main())
