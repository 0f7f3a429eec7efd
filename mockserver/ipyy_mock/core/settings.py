"""The delivery tunables: their defaults, their validation, and where they live.

Why in the settings table (not command-line flags): every worker process and
the push runner must see the same values, a test changes them at run time
through the admin API (``PUT /_mock/api/settings``), and they survive a
restart like the rest of the mock's state. One validator per key, so the admin
API and any other caller refuse the same bad values with the same hint.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable

from ipyy_mock.core.store import Store

MAX_TRIES = 3  # docs/contract.md §5: at most 3 tries per push batch

DEFAULT_REPORT_DELAY = 0.0  # seconds from send (or sendTime) to the report
DEFAULT_PUSH_TIMEOUT = 5.0  # seconds to connect, and to wait for each read of the answer
DEFAULT_RETRY_PAUSES = (1.0, 4.0)  # platform seconds after try 1 and after try 2: growing


class SettingError(ValueError):
    """A value the mock cannot use; ``hint`` says what would be accepted."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def _seconds(key: str, value: Any, *, upper: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SettingError(f"{key} must be a number of seconds, got {value!r}", f'e.g. {{"{key}": 5}}')
    if not 0 <= value <= upper:
        raise SettingError(f"{key} must be between 0 and {upper:g} seconds, got {value!r}", f'e.g. {{"{key}": 5}}')
    return float(value)


def _report_delay(value: Any) -> float:
    return _seconds("report_delay", value, upper=366 * 86400)


def _push_timeout(value: Any) -> float:
    seconds = _seconds("push_timeout", value, upper=300)
    if seconds <= 0:
        raise SettingError("push_timeout must be more than 0 seconds", 'e.g. {"push_timeout": 0.5}')
    return seconds


def _retry_pauses(value: Any) -> tuple[float, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_TRIES - 1:
        raise SettingError(
            f"push_retry_pauses must be a list of 1 to {MAX_TRIES - 1} pauses in seconds, "
            f"one after each failed try; got {value!r}",
            'e.g. {"push_retry_pauses": [1, 4]}',
        )
    return tuple(_seconds("push_retry_pauses", v, upper=86400) for v in value)


VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "report_delay": _report_delay,
    "push_timeout": _push_timeout,
    "push_retry_pauses": _retry_pauses,
}


@dataclass(frozen=True)
class DeliverySettings:
    report_delay: float = DEFAULT_REPORT_DELAY
    push_timeout: float = DEFAULT_PUSH_TIMEOUT
    push_retry_pauses: tuple[float, ...] = DEFAULT_RETRY_PAUSES

    def pause_after(self, try_no: int) -> float:
        """The pause after failed try ``try_no`` (1-based); the last pause repeats if the list is short."""
        return self.push_retry_pauses[min(try_no, len(self.push_retry_pauses)) - 1]

    def as_json(self) -> dict[str, Any]:
        return {
            "report_delay": self.report_delay,
            "push_timeout": self.push_timeout,
            "push_retry_pauses": list(self.push_retry_pauses),
        }


def load(store: Store) -> DeliverySettings:
    """Current values (one SELECT); a stored value that no longer validates falls back to its default."""
    return from_raw(store.all_settings())


def from_raw(stored: dict[str, str]) -> DeliverySettings:
    """The delivery settings out of the settings table's rows (``Store.all_settings()``)."""
    values: dict[str, Any] = {}
    for key, validate in VALIDATORS.items():
        raw = stored.get(key)
        if raw is None:
            continue
        try:
            values[key] = validate(json.loads(raw))
        except (ValueError, SettingError):
            continue
    return DeliverySettings(**values)


def validate(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(VALIDATORS))
    if unknown:
        raise SettingError(f"unknown setting(s): {', '.join(unknown)}", f"known: {', '.join(VALIDATORS)}")
    return {key: VALIDATORS[key](value) for key, value in changes.items()}


def save(store: Store, changes: dict[str, Any]) -> DeliverySettings:
    """Validate every change first, then write them all in one transaction."""
    checked = validate(changes)
    with store.write() as db:
        for key, value in checked.items():
            store.set_setting(key, json.dumps(list(value) if isinstance(value, tuple) else value), db)
    return load(store)
