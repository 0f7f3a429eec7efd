"""The README's commands, run as written: the ten-minute tour against a mock started by scripts/mock.sh, and the
Python and command-line examples (the README's and docs/client.md's) each against a fresh mock.

How a README block is read: in a ``sh`` block every line that is not a
comment is a command (as a shell reads it); the ``# `` lines right after a
command are what it prints, in order, ``…`` standing for anything (a time, a
path). A shown ``error:`` line means the command must fail, and otherwise it
must succeed. In a ``python`` block the comment on a ``print(...)`` line is
what that line prints. The one liberty taken: the tests' mocks run on a free
port, so ``127.0.0.1:8080`` becomes that port, and scripts/mock.sh gets
``--port`` and ``--db`` (a temporary file) appended.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from support.mockproc import MockProcess
from support.net import free_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CLIENT_DOC = ROOT / "docs" / "client.md"
DEMO = "127.0.0.1:8080"
MARK = "@@ipyy-tour-exit:"


# -- reading the README -----------------------------------------------------------------------------------------
def section(heading: str, doc: Path = README) -> str:
    text = doc.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def blocks(markdown: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", markdown, re.M | re.S)


@dataclass
class Command:
    line: str
    shows: list[str] = field(default_factory=list)

    @property
    def must_fail(self) -> bool:
        return any(shown.startswith("error:") for shown in self.shows)


def commands(block: str) -> list[Command]:
    found: list[Command] = []
    for line in block.splitlines():
        if line.startswith("# ") and found:
            found[-1].shows.append(line[2:])
        elif line.strip() and not line.startswith("#"):
            found.append(Command(line))
    return found


def pattern(shown: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if part == "…" else re.escape(part) for part in re.split("(…)", shown.strip())))


def assert_shows(command: Command, output: str) -> None:
    """Every shown line is printed, in order (other lines may come between them)."""
    lines = iter(line.strip() for line in output.splitlines())
    for shown in command.shows:
        expected = pattern(shown)
        assert any(expected.fullmatch(line) for line in lines), (
            f"`{command.line}` should print\n  {shown}\nbut printed:\n{output}"
        )


def local(text: str, port: int) -> str:
    return text.replace(DEMO, f"127.0.0.1:{port}")


def clean_env() -> dict[str, str]:
    """The environment of a new terminal: none of the client's variables, nothing of the outer pytest run."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("IPYY_", "PYTEST_"))}


def run_commands(cmds: list[Command], port: int, cwd: Path = ROOT) -> list[tuple[Command, int, str]]:
    """All commands in one bash, as typed in one terminal (exports carry over); each one's exit code and output."""
    script = "exec 2>&1\n" + "".join(f'{local(c.line, port)}\necho "{MARK}$?"\n' for c in cmds)
    done = subprocess.run(["bash", "-c", script], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=600)
    chunks = re.split(rf"^{re.escape(MARK)}(\d+)\n", done.stdout, flags=re.M)
    outputs, codes = chunks[0:-1:2], [int(c) for c in chunks[1::2]]
    assert len(codes) == len(cmds), f"the commands stopped early:\n{done.stdout}\n{done.stderr}"
    return list(zip(cmds, codes, outputs))


def check(results: list[tuple[Command, int, str]], port: int) -> None:
    for command, code, output in results:
        command.shows = [local(s, port) for s in command.shows]
        if command.must_fail:
            assert code != 0, f"`{command.line}` should fail:\n{output}"
        else:
            assert code == 0, f"`{command.line}` exited {code}:\n{output}"
        assert_shows(command, output)


def demo_still_works(base_url: str) -> None:
    """An example may change things, but must leave the demo account as the next reader needs it."""
    reply = requests.get(
        base_url + "/I18NSms.aspx", timeout=30, params={"action": "overage", "account": "demo", "password": "demo123"}
    )
    assert "<returnstatus>Success</returnstatus>" in reply.text, reply.text


# -- the tour -----------------------------------------------------------------------------------------------------
class MockScript:
    """``bash scripts/mock.sh`` in the background, as step 1 leaves it running; its output kept."""

    def __init__(self, command: str, port: int, db: Path) -> None:
        self.proc = subprocess.Popen(
            ["bash", "-c", f"{command} --port {port} --db {db}"],
            cwd=ROOT,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.started = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.lstrip().startswith("try"):
                self.started.set()
        self.started.set()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.mark.slow
def test_the_tour_works_as_written(tmp_path):
    tour = section("The ten-minute tour")
    shell = blocks(tour, "sh")
    [start] = commands(shell[0])
    assert start.line == "bash scripts/mock.sh", "step 1 starts the mock the way the two commands do"
    port = free_port()
    mock = MockScript(start.line, port, tmp_path / "ipyy-mock.db")
    try:
        # a first start may install (pip), and a loaded machine is slow: wait long, but not forever
        assert mock.started.wait(600) and mock.proc.poll() is None, f"scripts/mock.sh did not start:\n{mock.output}"
        check([(start, 0, mock.output)], port)
        steps = [c for block in shell[1:] for c in commands(block)]
        check(run_commands(steps, port), port)
        demo_still_works(f"http://127.0.0.1:{port}")
    finally:
        mock.stop()
    [test_file] = blocks(tour, "python")
    assert (ROOT / "examples" / "test_welcome.py").read_text(encoding="utf-8") == test_file, (
        "step 5 shows examples/test_welcome.py: keep the two the same"
    )


# -- the examples ---------------------------------------------------------------------------------------------------
@pytest.fixture
def fresh_mock(tmp_path):
    server = MockProcess(tmp_path / "example.db", workers=1).start()
    yield server
    server.stop()


def python_examples() -> dict[str, str]:
    """The README's Python examples and docs/client.md's, by a name for the test id."""
    found = {f"readme{i}": b for i, b in enumerate(blocks(section("Python in brief"), "python"), 1)}
    found.update({f"client{i}": b for i, b in enumerate(blocks(CLIENT_DOC.read_text(encoding="utf-8"), "python"), 1)})
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", list(python_examples()))
def test_python_examples_print_what_they_show(fresh_mock, tmp_path, name):
    source = python_examples()[name]
    shows = [line.split("  # ", 1)[1] for line in source.splitlines() if "print(" in line and "  # " in line]
    assert shows, "a Python example shows what it prints"
    script = tmp_path / "example.py"
    script.write_text(local(source, fresh_mock.port), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=clean_env())
    assert done.returncode == 0, done.stdout + done.stderr
    printed = done.stdout.splitlines()
    assert len(printed) == len(shows), done.stdout
    for shown, line in zip(shows, printed):
        assert pattern(shown).fullmatch(line.strip()), f"shows {shown!r}, printed {line!r}"
    demo_still_works(fresh_mock.base_url)


@pytest.mark.slow
def test_command_line_examples_print_what_they_show(fresh_mock):
    [block] = blocks(section("Command line in brief"), "sh")
    check(run_commands(commands(block), fresh_mock.port), fresh_mock.port)
    demo_still_works(fresh_mock.base_url)


def test_reading_a_block():
    """The reader itself: commands, what they show, and the one wildcard."""
    [first, second] = commands("# a comment\nexport A=1\nrun it\n# printed … here\n# and this\n")
    assert (first.line, first.shows, second.line, second.shows) == (
        "export A=1",
        [],
        "run it",
        ["printed … here", "and this"],
    )
    assert pattern("OK task … done").fullmatch("OK task 1000001 — done")
    assert not pattern("OK 1").fullmatch("OK 12")
    assert Command("x", ["error: no"]).must_fail and not Command("x", ["fine"]).must_fail
