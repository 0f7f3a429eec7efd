"""Developer tools around the mock app: the request journal and fault injection, wired in.

``instrument(app, platform)`` wraps the MockApp: the journal outermost (so the
replies of injected faults are journaled too), then the fault middleware,
then the app. The admin API reads and steers both (admin/diagnostics.py: journal and
fault endpoints); it is handed the same journal store here.
"""

from __future__ import annotations

from typing import Any

from ipyy_mock import faults, journal


def instrument(app: Any, platform: Any, *, journal_enabled: bool = True) -> Any:
    """The app wrapped in fault injection and (unless disabled) the journal; attributes pass through."""
    store = journal.JournalStore(journal.journal_path(platform.store.path))
    admin = getattr(app, "endpoints", {}).get("admin")
    if admin is not None:
        admin.attach_journal(store, journal_enabled)
    wrapped: Any = faults.FaultMiddleware(app, platform.store)
    if journal_enabled:
        wrapped = journal.JournalMiddleware(wrapped, store)
    return wrapped
