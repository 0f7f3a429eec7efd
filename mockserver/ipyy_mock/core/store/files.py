"""Creating the database's files private to their owner, and telling a new file from an existing one.

Why a module of its own: the files hold account passwords and every text sent, and the way they are made
must never open a descriptor of the database (see ``make_private``); the journal uses the same helpers.
"""

from __future__ import annotations

import os
import threading

PRIVATE_MODE = 0o600  # the database, its -wal/-shm and lock files: account passwords and every text sent are in them
LOCK_SUFFIX = "-writelock"  # next to the database, like SQLite's -wal and -shm: the writers' queue (flock)


def make_private(path: str) -> None:
    """Create the SQLite file ``path`` readable and writable by its owner only, before SQLite opens it.

    Why before: SQLite creates a new database 0644 (less the umask), and gives the ``-wal`` and ``-shm``
    files it makes later the database file's own mode, so a file created 0600 here keeps all three private.
    Files an older version left group- or world-readable are tightened (when they are ours to change).

    Why never through ``open(path)``: closing any descriptor of a file drops every POSIX lock the process
    holds on it, SQLite's included. A second store in a process that already has the file open (the push
    runner's, the admin API's journal) would silently give up the worker's shared lock; the next reader in
    another process to close its connection then believes it is the last one, checkpoints and deletes the
    ``-wal`` the worker still writes to, and every later commit is invisible to other processes and lost at
    restart. So the file is made under a private temporary name and linked into place; ``path`` itself is
    only ever stat-ed and chmod-ed here.
    """
    if path == ":memory:" or path.startswith("file:"):
        return
    if not os.path.exists(path):
        _create_private(path)
    for suffix in ("", "-wal", "-shm", LOCK_SUFFIX):
        try:
            if os.stat(path + suffix).st_mode & 0o077:
                os.chmod(path + suffix, PRIVATE_MODE)
        except OSError:
            pass  # absent, or someone else's file


def _create_private(path: str) -> None:
    """An empty 0600 file at ``path`` unless one appeared meanwhile; no descriptor of ``path`` is opened."""
    fresh = f"{path}.{os.getpid()}-{threading.get_ident()}.new"
    try:
        _create_new(fresh)
    except OSError:
        return  # a read-only place, a directory...: SQLite's own error says what is wrong
    try:
        os.link(fresh, path)  # atomic, and fails (FileExistsError) rather than replace a file just made
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links: an exclusive create, of a file nobody can have open yet
        try:
            _create_new(path)
        except OSError:
            pass
    finally:
        try:
            os.unlink(fresh)
        except OSError:
            pass


def _create_new(path: str) -> None:
    """Create ``path`` empty and 0600; FileExistsError (an OSError) when it is there already."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_MODE))


def is_new_file(path: str) -> bool:
    """No database in the file yet (absent, or the empty file make_private created)."""
    if path == ":memory:":
        return True
    try:
        return os.path.getsize(path) == 0
    except OSError:
        return True
