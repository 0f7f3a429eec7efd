"""Retention's cost (core/retention.py): the database stays bounded while sends go on, and what pruning costs them.

Sends run in one thread on the Platform (the same code a worker runs, without
HTTP); in every round a second thread releases due reports every POLL seconds as
the push runner does with or without retention, and from the third round a third
prunes every RETAIN_EVERY seconds as the runner's lease holder does. Printed,
side by side: send latency without and with the pruner running (p50, p99, the
ratio), the longest prune batch (how long a send can wait behind one), and the
database size after each round, which must stop growing once the limit is
reached. Compare, don't trust absolute times (docs/benchmarks.md).

    .venv/bin/python benchmarks/retention.py              # keeps 20,000 messages, sends 3 x that
    .venv/bin/python benchmarks/retention.py --full       # keeps 1,000,000 (long; several GB written)
    .venv/bin/python benchmarks/retention.py --million    # 1,000,000 one-number sends, keeping the serve default
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ipyy_mock.core import retention  # noqa: E402
from ipyy_mock.core.domain import SendRequest  # noqa: E402
from ipyy_mock.core.platform import Platform  # noqa: E402
from ipyy_mock.push.runner import POLL, RETAIN_EVERY  # noqa: E402


def db_bytes(path: str) -> int:
    return sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))


def send_round(platform: Platform, count: int, recipients: str) -> list[float]:
    latencies = []
    request = SendRequest("demo", "demo123", recipients, "您好，您的订单已发货【华信】")
    for _ in range(count):
        started = time.perf_counter()
        outcome = platform.send(request)
        latencies.append((time.perf_counter() - started) * 1000)
        if not outcome.ok:
            raise SystemExit(f"send refused: {outcome.code.name}")
    return latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=int, default=20_000, help="messages kept (default 20,000)")
    parser.add_argument("--full", action="store_true", help="keep 1,000,000 messages")
    parser.add_argument(
        "--million",
        action="store_true",
        help="1,000,000 sends to one number each, keeping serve's default 200,000 messages (10 rounds)",
    )
    parser.add_argument("--rounds", type=int, default=6, help="rounds of sends, each half the kept messages")
    parser.add_argument("--recipients", type=int, default=10, help="numbers per send (default 10)")
    args = parser.parse_args()
    keep = 1_000_000 if args.full else args.keep
    if args.million:
        keep, args.rounds, args.recipients = retention.DEFAULT_KEEP_MESSAGES, 10, 1
    fan_out = max(1, args.recipients)
    recipients = ",".join(f"86139{n:08d}" for n in range(fan_out))
    per_round = max(1, keep // 2 // fan_out)
    with tempfile.TemporaryDirectory(prefix="ipyy-retention-") as tmp:
        path = str(Path(tmp) / "mock.db")
        platform = Platform(path)
        platform.seed_demo()
        with platform.store.write() as db:
            db.execute("UPDATE accounts SET balance='100000000', limits='off' WHERE name='demo'")
        kept = retention.Retention(keep_messages=keep)
        print(f"keep {keep:,} messages; {args.rounds} rounds of {per_round:,} sends x {fan_out} recipients")
        print(
            f"{'round':>5} {'pruner':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'longest batch ms':>17} {'db MB':>8}"
        )
        baseline: list[float] = []
        with_pruner: list[float] = []
        longest = 0.0
        for round_no in range(1, args.rounds + 1):
            pruning = round_no > 2  # two rounds fill the database to the limit, with no pruner to compare
            stop = threading.Event()
            batches: list[float] = []

            def release_loop() -> None:
                """The push runner releases due reports every poll, with or without retention: in every round."""
                releaser = Platform(path)
                while not stop.is_set():
                    releaser.release_due()
                    stop.wait(POLL)
                releaser.store.close()

            def prune_loop() -> None:
                pruner = Platform(path)
                while not stop.is_set():
                    done = retention.prune(pruner.store, kept, pruner.now())
                    batches.append(done.longest_batch_ms)
                    stop.wait(RETAIN_EVERY)
                pruner.store.close()

            threads = [threading.Thread(target=release_loop)]
            if pruning:
                threads.append(threading.Thread(target=prune_loop))
            for thread in threads:
                thread.start()
            latencies = send_round(platform, per_round, recipients)
            stop.set()
            for thread in threads:
                thread.join()
            platform.release_due()
            if pruning:
                final = retention.prune(platform.store, kept, platform.now(), budget=600)
                batches.append(final.longest_batch_ms)
            (with_pruner if pruning else baseline).extend(latencies)
            round_longest = max(batches, default=0.0)
            longest = max(longest, round_longest)
            print(
                f"{round_no:>5} {'on' if pruning else 'off':>7} {pct(latencies, 50):>8.2f} {pct(latencies, 99):>8.2f} "
                f"{max(latencies):>8.2f} "
                f"{round_longest:>17.1f} {db_bytes(path) / 1e6:>8.1f}"
            )
        messages = platform.store.db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        print(f"messages left {messages:,} (limit {keep:,}); longest prune batch {longest:.1f} ms")
        print(
            f"send p50 with/without pruner: {pct(with_pruner, 50) / pct(baseline, 50):.2f}x, "
            f"p99: {pct(with_pruner, 99) / pct(baseline, 99):.2f}x, "
            f"longest send {max(baseline):.1f} ms without, {max(with_pruner):.1f} ms with"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
