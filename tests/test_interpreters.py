"""The mock and the client work on Python 3.11, 3.12 and 3.13 (spyne needs ipyy_mock.soap.spyne_compat there).

The suite itself runs on the default interpreter; for every other supported
version this machine has, the project is installed from a built wheel into a
venv of that version and a SOAP 1.1 + 1.2 round trip runs there.
"""
from __future__ import annotations

import glob
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
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
         "-w", str(out), str(ROOT)])
    return next(out.glob("ipyy_sms-*.whl"))


def round_trip(version: str, python: str, wheel: Path) -> dict:
    venv = ROOT / f".venv-py{version}"
    if not (venv / "bin" / "python").exists():
        run([python, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run(pip + ["--force-reinstall", "--no-deps", str(wheel)])
    run(pip + [str(wheel)])  # its dependencies, cached after the first run
    done = subprocess.run([str(venv / "bin" / "python"), str(ROOT / "tests" / "support" / "roundtrip.py")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_soap_round_trip_on_every_other_interpreter(tmp_path):
    available = {v: find_python(v) for v in OTHERS}
    missing = [v for v, path in available.items() if path is None]
    if len(missing) == len(OTHERS):
        pytest.skip(f"no other Python of {SUPPORTED} on this machine")
    wheel = build_wheel(tmp_path)
    with ThreadPoolExecutor(max_workers=len(OTHERS)) as pool:
        outcomes = dict(zip(available, pool.map(lambda item: item[1] and round_trip(*item, wheel),
                                                available.items())))
    for version, outcome in outcomes.items():
        if outcome is None:
            continue
        assert outcome["python"].startswith(version)
        assert "site-packages" in outcome["wsdl"], "installed from the wheel, not the work tree"
        assert outcome["results"]["11"][:2] == ["OK", "99.95"]
        assert outcome["results"]["12"][:2] == ["OK", "99.90"]
    assert not missing or os.environ.get("CI") != "true", f"CI machine lacks Python {missing}"
