"""The OCI image (Containerfile): built and driven over the wire by scripts/image.sh; its docs and context kept true.

The image test needs root (podman mount, chroot) and podman, which
scripts/test.sh installs with apt-get; elsewhere it is skipped. It takes about
40 s with a warm cache and a few minutes cold (docs/container.md).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ipyy_mock import cli, envflags

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "container.md"
COMPOSE = ROOT / "docs" / "examples" / "compose.yaml"


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def serve_flag_variables() -> dict[str, str]:
    """{"IPYY_MOCK_PORT": "--port", ...} for every `ipyy-mock serve` flag."""
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    actions = sub.choices["serve"]._actions
    return {
        var: next(o for o in a.option_strings if o.startswith("--"))
        for a in actions
        if (var := envflags.variable(a, cli.ENV_PREFIX))
    }


def skip_without(reason: str) -> None:
    """Skip, as for PHP and the browser; a CI machine (CI=true) runs scripts/test.sh as root, so there it fails."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.mark.image
@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_image_builds_and_serves():
    if os.geteuid() != 0:
        skip_without("scripts/image.sh needs root (podman mount, chroot)")
    if not shutil.which("podman") and not shutil.which("apt-get"):
        skip_without("no podman, and no apt-get to install it")
    done = subprocess.run(["bash", str(ROOT / "scripts" / "image.sh")], capture_output=True, text=True, timeout=1100)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "image checks passed" in output
    assert "FAIL" not in output


def test_containerfile_version_label_is_the_project_version():
    default = re.search(r"^ARG VERSION=(\S+)$", (ROOT / "Containerfile").read_text(), re.M)
    assert default is not None and default.group(1) == pyproject()["project"]["version"]
    assert f"ipyy-mock:{pyproject()['project']['version']}" in COMPOSE.read_text()


def test_the_build_context_has_what_the_wheel_is_built_from():
    allowed = {
        line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")
    }
    project = pyproject()
    needed = {
        project["project"]["readme"],
        "pyproject.toml",
        *project["tool"]["setuptools"]["packages"]["find"]["where"],
    }
    assert needed <= allowed, f"add !{sorted(needed - allowed)} to .dockerignore"
    assert ".image-wheels" in allowed, "the wheels scripts/image.sh builds (--build-arg WHEELS=.image-wheels)"


def test_the_compose_example_in_the_doc_is_the_committed_file():
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    assert COMPOSE.read_text() in blocks


def test_every_documented_variable_is_a_serve_flag():
    flags = serve_flag_variables()
    for path in (DOC, COMPOSE, ROOT / "Containerfile"):
        for var in sorted(set(re.findall(r"IPYY_MOCK_[A-Z_]*[A-Z]", path.read_text()))):
            assert var in flags, f"{path.name} names {var}, which is no `ipyy-mock serve` flag's variable"


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    db = tmp_path / "file" / "ipyy-mock.db"  # its "directory" is a file: what a volume's permissions also give
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ipyy-mock"), "serve", "--port", "1", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"ipyy-mock: cannot open the database {db}: ")
    assert f"it needs a directory user {os.getuid()} can write" in lines[0]
