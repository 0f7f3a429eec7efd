"""Disks that fail on purpose, for the health check and start errors: a tiny full tmpfs, an immutable file.

Both need root (tests run as root in the project's container and CI); a test that cannot have them is skipped
with the reason, never passed. ``chattr +i`` stops root's writes too, where ``chmod`` would not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest


@contextmanager
def tiny_tmpfs(where: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (unmounted after)."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a small tmpfs needs root and mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(volume: Path) -> Path:
    """Fill ``volume`` to its last block; the file that did it (remove it to free the space)."""
    filler = volume / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=4k"], capture_output=True, check=False)
    assert shutil.disk_usage(volume).free < 8192, shutil.disk_usage(volume)
    return filler


@contextmanager
def immutable(*files: Path) -> Iterator[None]:
    """``chattr +i`` on ``files`` (root cannot write them either), undone after."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr(1) is not installed")
    names = [str(f) for f in files if f.exists()]
    done = subprocess.run(["chattr", "+i", *names], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i does not work here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *names], check=False)
