"""docs/async.md stays true: its Python examples compile, and its pytest example passes against the fixture."""

from __future__ import annotations

import re
from pathlib import Path

pytest_plugins = ["pytester"]

DOC = Path(__file__).resolve().parents[1] / "docs" / "async.md"


def examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_every_python_example_compiles():
    blocks = examples()
    assert len(blocks) >= 3
    for block in blocks:
        compile(block, str(DOC), "exec")


def test_the_pytest_example_passes_against_the_fixture(pytester):
    from anyio.pytest_plugin import get_available_backends

    [source] = [b for b in examples() if "@pytest.mark.anyio" in b]
    pytester.makepyfile(test_user=source)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=len(get_available_backends()))


def test_the_first_example_runs_against_the_mock(mock_server, account):
    """The opening example, with its address and account swapped for the test's mock."""
    import anyio

    [source] = [b for b in examples() if "async def welcome" in b]
    source = source.replace(
        '"demo", "demo123", "http://127.0.0.1:8080"',
        f'"{account.name}", "{account.password}", "{mock_server.base_url}"',
    )
    namespace: dict = {}
    exec(compile(source, str(DOC), "exec"), namespace)
    task_id = anyio.run(namespace["welcome"], "8613800138000")
    assert isinstance(task_id, int) and task_id > 0
