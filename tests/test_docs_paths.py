"""Every path of this repository that the README and docs/ cite exists: a moved module cannot leave a stale
pointer behind (a newcomer follows these to the code)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP = ("client", "mockserver", "wsdl", "tests", "scripts", "benchmarks", "docs", ".ci")
#: a path in backticks or a Markdown link that starts at one of the fixed top-level folders
CITED = re.compile(r"[`(](?P<path>(?:" + "|".join(re.escape(t) for t in TOP) + r")/[A-Za-z0-9_./-]*[A-Za-z0-9_/])")
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])


def cited(page: Path) -> list[str]:
    found = []
    for m in CITED.finditer(page.read_text(encoding="utf-8")):
        path = m["path"].split("::", 1)[0]
        if not any(ch in path for ch in "*<>{}") and "/.cache" not in path:  # patterns, placeholders, git-ignored
            found.append(path)
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_cited_path_exists(page: Path) -> None:
    missing = sorted({p for p in cited(page) if not (ROOT / p).exists()})
    assert not missing, f"{page.name} cites paths that do not exist: {missing}"


def test_the_check_finds_paths() -> None:
    assert "mockserver/ipyy_mock/core/points.py" in cited(ROOT / "docs" / "domestic.md")
