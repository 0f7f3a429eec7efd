"""The project keeps itself honest: one version, a warm start that skips pip, a self-contained repository.

These read the checkout (and run its scripts against a throw-away copy); they
start no mock.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

import ipyy_client
import ipyy_mock
from ipyy_client import cli

ROOT = Path(__file__).resolve().parent.parent


def project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


# -- one version -----------------------------------------------------------------------------------------------
def test_one_version_everywhere(capsys):
    version = project_version()
    assert ipyy_client.__version__ == ipyy_mock.__version__ == version
    try:
        cli.main(["--version"])
    except SystemExit:
        pass
    assert capsys.readouterr().out.strip().endswith(version)


def test_no_second_version_string_in_the_code():
    literal = re.compile(r"""__version__\s*=\s*["']\d+\.\d+""")
    offenders = [
        str(p.relative_to(ROOT))
        for p in tracked_files()
        if p.suffix == ".py" and literal.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "read the version from the installed package (importlib.metadata), as __init__ does"


def test_changelog_names_the_current_version():
    headings = re.findall(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    released = [h for h in headings if h != "Unreleased"]
    assert released and released[0] == project_version(), (
        f"CHANGELOG.md's newest release is {released[:1]}, pyproject.toml says {project_version()}"
    )


# -- the scripts' set-up: pip once, then only when pyproject.toml changes --------------------------------------
FAKE_PYTHON = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/../pip-calls"
"""


@pytest.fixture
def checkout(tmp_path):
    """A copy of the scripts and pyproject.toml with a .venv whose python only records how it was called."""
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text(FAKE_PYTHON)
    (bin_dir / "ipyy-mock").write_text("#!/bin/sh\n")
    for name in ("python", "ipyy-mock"):
        (bin_dir / name).chmod(0o755)
    return tmp_path


def set_up(checkout: Path) -> tuple[float, list[str]]:
    started = time.monotonic()
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail; source scripts/_venv.sh"],
        cwd=checkout,
        capture_output=True,
        text=True,
        env={**os.environ, "IPYY_REINSTALL": ""},
    )
    assert done.returncode == 0, done.stderr
    calls = checkout / ".venv" / "pip-calls"
    return time.monotonic() - started, calls.read_text().splitlines() if calls.exists() else []


def test_set_up_installs_once_then_skips_pip_until_pyproject_changes(checkout):
    _, calls = set_up(checkout)
    assert calls == ["-m pip install --disable-pip-version-check -e .[test]"]
    seconds, calls = set_up(checkout)
    assert len(calls) == 1, "a warm start must not run pip"
    assert seconds < 1.0, f"warm set-up took {seconds:.2f}s"
    with (checkout / "pyproject.toml").open("a") as f:
        f.write("\n# a new dependency, say\n")
    _, calls = set_up(checkout)
    assert len(calls) == 2, "a changed pyproject.toml must reinstall"


def test_the_install_shows_progress(checkout):
    """A first install takes about a minute: each package pip collects is a line, not a minute of silence."""
    (checkout / ".venv" / "bin" / "python").write_text(
        "#!/bin/sh\necho 'Collecting zeep>=4.2'\necho '  Downloading zeep-4.3.1.whl (101 kB)'\n"
        "echo 'Installing collected packages: zeep'\necho 'Successfully installed zeep-4.3.1'\n"
    )
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail; source scripts/_venv.sh"], cwd=checkout, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == ["   collecting zeep>=4.2", "   installing...", "   done"], done.stdout


def test_an_interrupted_install_is_retried(checkout):
    (checkout / ".venv" / "bin" / "python").write_text("#!/bin/sh\nexit 1\n")
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail; source scripts/_venv.sh"], cwd=checkout, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert not (checkout / ".venv" / "ipyy-sms.stamp").exists(), "a failed pip must leave no stamp"


def test_scripts_run_the_static_checks_before_the_suite():
    test_sh = (ROOT / "scripts" / "test.sh").read_text()
    assert test_sh.index("bash scripts/check.sh") < test_sh.index("-m pytest")
    check_sh = (ROOT / "scripts" / "check.sh").read_text()
    for step in ("ruff check", "ruff format --check", "mypy"):
        assert step in check_sh
    assert "set -euo pipefail" in check_sh


# -- self-contained ---------------------------------------------------------------------------------------------
def test_nothing_refers_outside_the_repository():
    outside = re.compile(r"\.\./shared|DESIGN\.md")
    offenders = []
    for path in tracked_files():
        if path.suffix in {".png", ".whl", ".db"}:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if outside.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert offenders == [], "cite docs/contract.md instead:\n" + "\n".join(offenders)
