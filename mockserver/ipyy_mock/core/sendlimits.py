"""The vendor's sending limits per number: 3 messages with 验证码 in 3 minutes, 10 messages a day.

Why modelled: the vendor's SDK notes say the same number gets at most 3
messages containing 验证码 in 3 minutes (more is refused as malicious
registration) and at most 10 messages a day by default. Code that retries a
verification SMS in a loop passes against a mock without them and is refused
in production. The mock follows its conformance design (core/conformance.py):
by default the send goes through with a warning (``frequency-limit``,
``daily-limit``) that names the code the vendor would answer; strict mode or
the account's ``limits: enforce`` refuses the send with that code; ``limits:
off`` turns the limits off for the account.

The counters live in the store (``send_counters``, and one ``code_sends`` row
per send with 验证码) and are read and written in the send's own transaction
(Platform._commit, under the write lock), so two workers sending to one number
at once cannot both see the last free slot. Time is platform time: the virtual
clock moves the 3-minute window and the day.

Why a row per coded send and a stored count, not the window's times in the
counter row: a load test sends 验证码 to one number thousands of times within
the window, and parsing and rewriting all of them on each send made a send
O(n) (26 ms at 20,000 times). The store deletes the sends that left the window
and keeps ``code_count`` equal to the rows left, so a send costs the same at
any rate while the warning still names the exact count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Mapping

from ipyy_client.codes import ResultCode
from ipyy_mock.core import clock
from ipyy_mock.core.conformance import ConformanceWarning

WARN, ENFORCE, OFF = "warn", "enforce", "off"
MODES = (WARN, ENFORCE, OFF)
CODE_WORD = "验证码"  # the word the vendor's frequency rule looks for in the content
#: What the vendor answers a send over either limit (docs/contract.md, "Sending limits", says why this code).
REFUSAL = ResultCode.FrequentOperation


@dataclass(frozen=True)
class Limits:
    """One account's limits (its ``limits``, ``code_limit``, ``code_window`` and ``daily_limit`` fields)."""

    mode: str = WARN
    code_limit: int = 3
    code_window: int = 180
    daily_limit: int = 10


@dataclass(frozen=True)
class Decision:
    """What the counters say about one send: the warnings it gets, and the rows to store if it is accepted."""

    warnings: list[ConformanceWarning]
    rows: list[tuple[str, str, str, int, int]]  # Store.save_send_counters: (account, mobile, day, sent, code_count)
    code_sends: list[tuple[str, str, float]]  # Store.save_send_counters: (account, mobile, time) of a coded send


def has_code(content: str) -> bool:
    return CODE_WORD in content


def day_of(now: float, zone: tzinfo) -> str:
    """The platform-zone calendar day of ``now``: the vendor's daily limit starts again at midnight, Beijing time."""
    return clock.from_epoch(now, zone).date().isoformat()


def decide(
    account: str,
    mobiles: list[str],
    content: str,
    limits: Limits,
    counters: Mapping[str, Any],
    now: float,
    zone: tzinfo,
) -> Decision:
    """Count this send against each number's limits.

    ``counters`` maps a number to its stored row (``day``, ``sent``, ``code_count``: its sends with 验证码 still
    in the window, Store.send_counters having removed the older ones); a number without one has sent nothing. Each number over a limit gets one warning per limit; the rows count this send whether or not
    a limit is exceeded (by default the send goes through, and the next one must warn too).
    """
    today = day_of(now, zone)
    coded = has_code(content)
    warnings: list[ConformanceWarning] = []
    rows = []
    code_sends = []
    for mobile in mobiles:
        row = counters.get(mobile)
        sent = int(row["sent"]) if row is not None and row["day"] == today else 0
        in_window = int(row["code_count"]) if row is not None else 0
        if coded and in_window >= limits.code_limit:
            warnings.append(
                ConformanceWarning(
                    "frequency-limit",
                    f"{mobile} got {in_window} messages with {CODE_WORD} in the last {limits.code_window} s "
                    f"(limit {limits.code_limit}); the vendor answers {REFUSAL.name}",
                )
            )
        if sent >= limits.daily_limit:
            warnings.append(
                ConformanceWarning(
                    "daily-limit",
                    f"{mobile} got {sent} messages on {today} (limit {limits.daily_limit} a day); "
                    f"the vendor answers {REFUSAL.name}",
                )
            )
        if coded:
            in_window += 1
            code_sends.append((account, mobile, now))
        rows.append((account, mobile, today, sent + 1, in_window))
    return Decision(warnings, rows, code_sends)
