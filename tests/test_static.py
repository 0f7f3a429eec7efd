"""ipyy_client passes ``mypy --strict`` and says so (``py.typed``); scripts/check.sh runs the project-wide checks.

scripts/check.sh (run by scripts/test.sh before the suite) checks the whole project with the configuration in
pyproject.toml, where ipyy_client's override turns on every strict flag mypy allows per module. This test runs
the literal ``mypy --strict`` over the package too, so the two can never drift apart. Skipped where mypy is not
installed (it comes with the ``test`` extra).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ipyy_client_passes_mypy_strict(tmp_path):
    pytest.importorskip("mypy.api")
    env = {**os.environ, "MYPYPATH": str(ROOT / "client")}
    command = [sys.executable, "-m", "mypy", "--strict", "-p", "ipyy_client", "--cache-dir", str(tmp_path / "cache")]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "Success: no issues found" in proc.stdout


def test_the_package_says_it_is_typed_and_is_held_to_strict():
    assert (ROOT / "client" / "ipyy_client" / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["ipyy_client"]
    [override] = [o for o in config["tool"]["mypy"]["overrides"] if "ipyy_client.*" in o["module"]]
    strict_flags = (
        "disallow_untyped_defs",
        "disallow_incomplete_defs",
        "disallow_untyped_calls",
        "warn_return_any",
        "disallow_any_generics",
        "check_untyped_defs",
        "warn_unused_ignores",
        "strict_equality",
    )
    assert all(override.get(flag) is True for flag in strict_flags)
    assert override.get("implicit_reexport") is False
