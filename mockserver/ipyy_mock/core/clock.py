"""Platform time: real time plus an offset that the admin API can move forward.

Why an offset in the database and not a variable: every worker process must
agree on "now", and the clock must survive restarts like the rest of the state.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"


def platform_zone(name: str = DEFAULT_ZONE) -> tzinfo:
    return ZoneInfo(name)


def to_epoch(moment: datetime, zone: tzinfo) -> float:
    """Seconds since the epoch; a naive datetime is read as platform time (docs/contract.md §3)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.timestamp()


def from_epoch(seconds: float, zone: tzinfo) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).astimezone(zone)


def wall_seconds() -> float:
    return time.time()
