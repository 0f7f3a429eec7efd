"""What every request reads, cached per process while the database's generation stays the same.

Why a module of its own: the cache is only right because of the generation triggers (``schema.py``) and
the one reading per request (``one_generation``); the two belong together and apart from the rows cached.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Hashable, Iterator, TypeVar, cast

from ipyy_mock.core.store.writes import Connections

CACHE_ENTRIES = 4096  # Store.cached() keys per process (accounts by name, settings, faults) before it starts again
T = TypeVar("T")
GENERATION = "SELECT value FROM generation WHERE id = 0"


class Cache(Connections):
    """The generation and the values filed under it (``Store.cached``)."""

    _pinned: ContextVar[int | None]
    _cache: dict[Hashable, tuple[int, Any]]

    # -- what every request reads, cached per process -------------------------
    def generation(self) -> int:
        """The counter that every change to an account (but its balance), a setting or a fault bumps, in the same
        transaction, from any process or tool (SQLite triggers, POST_MIGRATION). Inside ``one_generation`` this
        request's one reading (a context variable: per thread, and per greenlet under the group commit)."""
        pinned = self._pinned.get()
        if pinned is not None:
            return pinned
        return int(self.db.execute(GENERATION).fetchone()[0])

    @contextmanager
    def one_generation(self, generation: int | None = None) -> Iterator[int]:
        """One reading of the generation (``generation``, or read now) for every lookup this request makes inside.

        Why: a request's lookups (its faults, then its account and settings) each started a read transaction of
        their own, and under load the other workers commit in between, so each one found SQLite's page cache
        stale and read its pages again. One reading per request, taken after the request arrived, is as
        current as the request needs: a change committed later is seen by the next request.
        """
        value = self.generation() if generation is None else generation
        token = self._pinned.set(value)
        try:
            yield value
        finally:
            self._pinned.reset(token)

    def cached(self, key: Hashable, load: Callable[[], T]) -> T:
        """``load()``'s value, kept in this process while the generation stays the same.

        Why: a request used to read its account, the settings and the faults (three SELECTs and the parsing of
        their rows) though they change rarely; now it reads one integer per lookup. The generation is read
        before ``load()`` runs, so a change committed between the two makes the next lookup load again: a
        cached value is never older than the generation it is filed under. Values must not be mutated.
        """
        generation = self.generation()
        hit = self._cache.get(key)
        if hit is not None and hit[0] == generation:
            return cast(T, hit[1])
        value = load()
        if len(self._cache) >= CACHE_ENTRIES:  # many account names (a scan of wrong ones): start again
            self._cache.clear()
        self._cache[key] = (generation, value)
        return value

    def forget_cached(self) -> None:
        """Drop this process's cached values (a grouped transaction that rolled back may have filled them)."""
        self._cache.clear()
