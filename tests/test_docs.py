"""The docs stay true: the generated admin table matches the served OpenAPI description, links resolve, the README
stays a five-minute read.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
# Pages other branches write (the README's docs map links them already); remove a name once its page has landed.
PENDING: set[str] = set()  # pages linked before they exist (none now)


def test_admin_table_is_generated_from_openapi():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"docs/mock.md's admin table is stale:\n{done.stdout}{done.stderr}"


def test_the_generator_notices_drift(tmp_path, monkeypatch):
    """A table that lost a row is reported, not rewritten, by --check."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import gen_docs
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    docs = tmp_path / "docs"
    docs.mkdir()
    text = (ROOT / "docs" / "mock.md").read_text(encoding="utf-8")
    stale = "\n".join(line for line in text.splitlines() if "/_mock/api/clock/advance" not in line) + "\n"
    (docs / "mock.md").write_text(stale, encoding="utf-8")
    monkeypatch.setattr(gen_docs, "DOCS", docs)
    monkeypatch.setattr(gen_docs, "ROOT", tmp_path)
    assert gen_docs.main(["--check"]) == 1
    assert (docs / "mock.md").read_text(encoding="utf-8") == stale
    assert gen_docs.main([]) == 0
    assert "`POST /_mock/api/clock/advance`" in (docs / "mock.md").read_text(encoding="utf-8")


def test_readme_is_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= 250, f"README.md has {lines} lines; move reference material to docs/"


def links(path: Path) -> list[str]:
    text = re.sub(r"^```.*?^```$", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)  # not in code
    return re.findall(r"\]\(([^)\s]+)\)", text)


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors, plus explicit <a id> ones."""
    text = path.read_text(encoding="utf-8")
    found = set(re.findall(r'<a id="([^"]+)"', text))
    for heading in re.findall(r"^#+ (.+)$", re.sub(r"^```.*?^```$", "", text, flags=re.M | re.S), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def test_links_resolve():
    broken = []
    for page in [ROOT / "README.md", ROOT / "CHANGELOG.md", *DOCS]:
        for target in links(page):
            if re.match(r"[a-z]+:", target):
                continue  # an address outside the repository is not followed
            file_part, _, anchor = target.partition("#")
            resolved = (page.parent / file_part).resolve() if file_part else page
            if not resolved.exists():
                if resolved.name not in PENDING:
                    broken.append(f"{page.relative_to(ROOT)}: {target}")
                continue
            if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_every_doc_is_in_the_readme_map():
    mapped = {Path(t).name for t in links(ROOT / "README.md") if t.startswith("docs/")}
    missing = [p.name for p in DOCS if p.name not in mapped]
    assert missing == [], "list each docs/ page in the README's docs map"
