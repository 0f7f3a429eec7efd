"""benchmarks/replay.py, the before/after byte-for-byte replay: its comparer notices one changed byte, and a replay
of this tree against itself on a short corpus finds nothing (so the tool and its pinned clock keep working)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHORT_CORPUS = (
    "asmx/00-get-wsdl.http",
    "asmx/01-sendi18nsms-ok-soap11.http",
    "asmx/15-malformed-truncated-soap11.http",
    "replay/014-i18n-send-post.http",
    "replay/042-dom-send-xml.http",
    "replay/061-admin-clock-advance.http",
    "replay/065-status-xml.http",
    "replay/096-fault-add-soap-fault.http",
    "replay/097-fault-soap-fault-hit.http",
)


def _load():
    spec = importlib.util.spec_from_file_location("replay_tool", ROOT / "benchmarks" / "replay.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


replay = _load()


def reply(body: bytes = b"<a>1</a>", **headers: str):
    fields = {"Content-Type": "text/xml; charset=utf-8", "Content-Length": str(len(body)), **headers}
    return replay.Reply("HTTP/1.1 200 OK", list(fields.items()), body)


def test_identical_replies_and_a_different_date_are_no_difference():
    assert replay.diff_replies("r", reply(Date="Mon"), reply(Date="Tue")) == []


def test_one_changed_byte_in_a_body_is_a_difference():
    (found,) = replay.diff_replies("r", reply(b"<a>1</a>"), reply(b"<a>2</a>"))
    assert found.startswith("[r] body (8 vs 8 bytes): before") and "1" in found and "2" in found


def test_status_headers_and_errors_are_compared():
    other = reply()
    other.status_line = "HTTP/1.1 500 Internal Server Error"
    assert [d.split(":")[0] for d in replay.diff_replies("r", reply(), other)] == ["[r] status line"]
    found = replay.diff_replies("r", reply(), reply(**{"Content-Type": "text/xml"}))
    assert [d.split(":")[0] for d in found] == ["[r] header content-type"]
    reordered = replay.Reply("HTTP/1.1 200 OK", reply().headers[::-1], reply().body)
    assert [d.split(":")[0] for d in replay.diff_replies("r", reply(), reordered)] == ["[r] header order"]
    assert replay.diff_replies("r", replay.Reply(error="reset"), reply())[0].startswith("[r] error")


def test_json_differences_name_their_path():
    before = {"tasks": [{"id": 1, "status": "sent"}], "n": 1}
    assert replay.diff_json("books", before, before) == []
    after = {"tasks": [{"id": 1, "status": "sunt"}], "extra": True, "n": 1}
    assert [d.split(":")[0] for d in replay.diff_json("books", before, after)] == [
        "[books.tasks[0].status] value",
        "[books.extra] present",
    ]
    assert replay.diff_json("j", [1, 2], [1])[0].startswith("[j] length")


def test_a_long_value_is_shown_around_its_first_difference():
    a, b = "x" * 500 + "A" + "y" * 500, "x" * 500 + "B" + "y" * 500
    sa, sb = replay.shorten(a, b)
    assert "A" in sa and "B" in sb and len(sa) < 100


@pytest.mark.timeout(120)
def test_this_tree_against_itself_is_identical(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n, name in enumerate(SHORT_CORPUS):
        shutil.copy(ROOT / "tests" / "data" / name, corpus / f"{n:02d}-{Path(name).name}")
    assert replay.main(["--self", "--corpus", str(corpus), "--work", str(tmp_path / "work")]) == 0
    out = capsys.readouterr().out
    assert f"{len(SHORT_CORPUS)} requests, 0 with differing replies" in out and "0 differences in all" in out


@pytest.mark.timeout(120)
def test_servers_that_answer_differently_are_told_apart(tmp_path):
    """The same tree pinned to two instants a minute apart: the clock's reply, the send's journal row and the
    books differ, and the replay says so."""
    corpus = [ROOT / "tests" / "data" / "replay" / name for name in ("001-admin-clock.http", "014-i18n-send-post.http")]
    before = replay.start("before", "", tmp_path, [], replay.PIN_EPOCH)
    after = replay.start("after", "", tmp_path, [], str(int(replay.PIN_EPOCH) + 60))
    try:
        for server in (before, after):
            server.start()
        for server in (before, after):
            server.wait()
            replay.set_up(server)
        diffs, differing = replay.replay(before, after, corpus, say=lambda _: None)
    finally:
        before.stop()
        after.stop()
    assert differing == 1
    assert any(d.startswith("[001-admin-clock] body") and "08:00:00" in d and "08:01:00" in d for d in diffs)
    assert any(d.startswith("[books.") for d in diffs)


def test_the_committed_corpus_is_what_its_script_writes(tmp_path):
    """tests/data/replay/ is benchmarks/replay_corpus.py's output: an edit by hand (a Content-Length left stale)
    or a script change not run fails here."""
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "replay_corpus.py"), str(tmp_path)], check=True)
    committed = ROOT / "tests" / "data" / "replay"
    written = {p.name: p.read_bytes() for p in tmp_path.glob("*.http")}
    assert written == {p.name: p.read_bytes() for p in committed.glob("*.http")}
