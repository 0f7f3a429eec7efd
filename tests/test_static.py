"""The client package passes ``mypy --strict`` and ruff (pyflakes + isort), as pyproject.toml configures them.

The same checks as ``scripts/typecheck.sh``, run here so that CI fails when a change breaks them. Skipped
where the tools are not installed (they come with the ``test`` extra).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ipyy_client_passes_mypy_strict(tmp_path):
    pytest.importorskip("mypy.api")
    (tmp_path / "ipyy_client").symlink_to(ROOT / "client", target_is_directory=True)
    env = {**os.environ, "MYPYPATH": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "mypy", "-p", "ipyy_client", "--cache-dir", str(tmp_path / "cache")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "Success: no issues found" in proc.stdout


def test_ipyy_client_is_ruff_clean():
    pytest.importorskip("ruff")
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "client"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_the_package_says_it_is_typed():
    assert (ROOT / "client" / "py.typed").is_file()
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["ipyy_client"]
    assert config["tool"]["mypy"]["strict"] is True
