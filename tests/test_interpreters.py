"""The mock and the client work on Python 3.11, 3.12 and 3.13 (spyne needs ipyy_mock.soap.spyne_compat there).

The suite itself runs on the default interpreter; for every other supported
version this machine has, the project is installed from a built wheel into a
venv of that version and a SOAP 1.1 + 1.2 round trip runs there.

Why it is quick when nothing changed: each venv (``.venv-py3.X``, kept
between runs) records the hash of the sources its wheel was built from; the
wheel is built and installed again only when that hash differs, and the
dependencies only when pyproject.toml did. The round trips run in parallel.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUPPORTED = ("3.11", "3.12", "3.13")
STAMP = "ipyy-installed.sha256"  # in each venv: the source digest its installed wheel was built from


def find_python(version: str) -> str | None:
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for candidate in sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"), reverse=True):
        return candidate
    found = shutil.which(f"python{version}")
    if found and subprocess.run([found, "-c", "pass"], capture_output=True).returncode == 0:
        return found
    return None


OTHERS = [v for v in SUPPORTED if v != f"{sys.version_info.major}.{sys.version_info.minor}"]


def run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stdout}\n{done.stderr}"


def build_wheel(out: Path) -> Path:
    """One pure-Python wheel for every interpreter, built once: two builds in one source tree would race."""
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "-w",
            str(out),
            str(ROOT),
        ]
    )
    return next(out.glob("ipyy_sms-*.whl"))


def source_digest() -> str:
    """A hash of everything that goes into the wheel's code and data, so an unchanged checkout reuses its install."""
    digest = hashlib.sha256()
    files = [ROOT / "pyproject.toml"]
    for top in ("client", "mockserver", "wsdl"):
        files += sorted(p for p in (ROOT / top).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def venv_for(version: str, python: str) -> Path:
    venv = ROOT / f".venv-py{version}"
    if not (venv / "bin" / "python").exists():
        run([python, "-m", "venv", str(venv)])
    return venv


def install(venv: Path, wheel: Path, digest: str) -> None:
    """The wheel into ``venv``: with its dependencies when pyproject.toml changed, else the package alone."""
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    deps_stamp = venv / "ipyy-deps.sha256"
    deps = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    (venv / STAMP).unlink(missing_ok=True)
    run(pip + ["--force-reinstall", "--no-deps", str(wheel)])
    if not deps_stamp.exists() or deps_stamp.read_text() != deps:
        run(pip + [str(wheel)])  # its dependencies (from pip's cache after the first time)
        deps_stamp.write_text(deps)
    (venv / STAMP).write_text(digest)


def round_trip(venv: Path) -> dict:
    done = subprocess.run(
        [str(venv / "bin" / "python"), str(ROOT / "tests" / "support" / "roundtrip.py")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_soap_round_trip_on_every_other_interpreter(tmp_path):
    available = {v: find_python(v) for v in OTHERS}
    missing = [v for v, path in available.items() if path is None]
    if len(missing) == len(OTHERS):
        pytest.skip(f"no other Python of {SUPPORTED} on this machine")
    venvs = {v: venv_for(v, path) for v, path in available.items() if path}
    digest = source_digest()
    stale = [venv for venv in venvs.values() if not (venv / STAMP).exists() or (venv / STAMP).read_text() != digest]
    with ThreadPoolExecutor(max_workers=len(OTHERS)) as pool:
        if stale:  # the checkout changed since these venvs were installed: one wheel for all of them
            wheel = build_wheel(tmp_path)
            list(pool.map(lambda venv: install(venv, wheel, digest), stale))
        outcomes = dict(zip(venvs, pool.map(round_trip, venvs.values())))
    for version, outcome in outcomes.items():
        assert outcome["python"].startswith(version)
        assert "site-packages" in outcome["wsdl"], "installed from the wheel, not the work tree"
        assert outcome["results"]["11"][:2] == ["OK", "99.95"]
        assert outcome["results"]["12"][:2] == ["OK", "99.90"]
    assert not missing or os.environ.get("CI") != "true", f"CI machine lacks Python {missing}"
