"""Pins ``time.time`` of a mock started by benchmarks/replay.py to one instant (``$IPYY_REPLAY_EPOCH``).

Why here and not through the admin API: the mock's clock is real time plus an
offset (core/clock.py), which the API can only move forward, so two servers
answering the same request a few milliseconds apart would stamp different
times into replies, journal rows and books. Python imports ``sitecustomize``
from the first ``PYTHONPATH`` folder that has one, in every process the server
starts (its workers too), so both revisions run pinned without a change to
either. Monotonic clocks (timeouts, the group commit) keep running.
"""

import os
import time

_pinned = os.environ.get("IPYY_REPLAY_EPOCH")
if _pinned:
    _seconds = float(_pinned)
    time.time = lambda: _seconds
    time.time_ns = lambda: int(_seconds * 1_000_000_000)
