"""Every `ipyy-mock serve` flag takes its default from $IPYY_MOCK_<FLAG> (ipyy_mock.envflags), for containers and CI.

The parser tests use the real `build_parser()` (so a serve flag added later is
covered by the loop over its options) and a throwaway parser for the action
kinds serve does not use yet; the last tests start the real server configured
by its environment alone and talk to it over the wire.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from decimal import Decimal

import pytest
import requests

from ipyy_client import HttpClient
from ipyy_mock import cli, envflags
from ipyy_mock.testing.process import MockServerProcess, console_script


def serve_parser() -> argparse.ArgumentParser:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["serve"]


def serve_args(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(["serve", *argv])


def test_every_serve_flag_has_its_variable_named_in_help(capsys):
    flags = [a for a in serve_parser()._actions if envflags.variable(a, cli.ENV_PREFIX)]
    assert {"--port", "--workers", "--zone", "--seed-account", "--no-journal"} <= {a.option_strings[0] for a in flags}
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["serve", "--help"])
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps help lines
    for action in flags:
        assert "$" + envflags.variable(action, cli.ENV_PREFIX) in shown, action.option_strings


def test_variables_give_defaults_of_the_flags_own_types(monkeypatch):
    monkeypatch.setenv("IPYY_MOCK_PORT", "9090")
    monkeypatch.setenv("IPYY_MOCK_WORKERS", "3")
    monkeypatch.setenv("IPYY_MOCK_ZONE", "UTC")
    monkeypatch.setenv("IPYY_MOCK_HOST", "0.0.0.0")
    monkeypatch.setenv("IPYY_MOCK_MAX_BODY", "1024")
    monkeypatch.setenv("IPYY_MOCK_ACCESS_LOG", "yes")
    monkeypatch.setenv("IPYY_MOCK_NO_JOURNAL", "1")
    args = serve_args()
    assert (args.port, args.workers, args.zone, args.host, args.max_body) == (9090, 3, "UTC", "0.0.0.0", 1024)
    assert type(args.port) is int and args.access_log is True and args.journal is False


def test_the_command_line_wins(monkeypatch):
    monkeypatch.setenv("IPYY_MOCK_PORT", "9090")
    monkeypatch.setenv("IPYY_MOCK_NO_JOURNAL", "true")
    monkeypatch.setenv("IPYY_MOCK_SEED_ACCOUNT", "a:pw1,b:pw2")
    args = serve_args("--port", "7070", "--seed-account", "c:pw3")
    assert args.port == 7070
    assert [s.name for s in args.seed_account] == ["c"], "a repeatable flag on the command line replaces the list"
    assert args.journal is False


def test_switches_off_and_unset_and_empty_keep_the_defaults(monkeypatch):
    monkeypatch.setenv("IPYY_MOCK_NO_JOURNAL", "off")
    monkeypatch.setenv("IPYY_MOCK_ACCESS_LOG", "0")
    monkeypatch.setenv("IPYY_MOCK_PORT", "")
    args = serve_args()
    assert (args.journal, args.access_log, args.port, args.seed_account) == (True, False, 8080, None)


def test_repeatable_flag_reads_a_comma_or_space_list(monkeypatch):
    monkeypatch.setenv("IPYY_MOCK_SEED_ACCOUNT", " shop:s3cret:50.00, billing:pw2\n  third:x ")
    seeds = serve_args().seed_account
    assert [(s.name, s.balance) for s in seeds] == [
        ("shop", Decimal("50.00")),
        ("billing", Decimal("100.00")),
        ("third", Decimal("100.00")),
    ]


@pytest.mark.parametrize(
    "var, value, expected",
    [
        (
            "IPYY_MOCK_PORT",
            "eighty",
            "argument --port: $IPYY_MOCK_PORT: a port is a whole number from 1 to 65535, got 'eighty' (fix or unset it)",
        ),
        ("IPYY_MOCK_MAX_BODY", "0", "argument --max-body: $IPYY_MOCK_MAX_BODY: must be a whole number of bytes"),
        ("IPYY_MOCK_NO_JOURNAL", "maybe", "argument --no-journal: $IPYY_MOCK_NO_JOURNAL: must be one of 1/true/yes/on"),
        ("IPYY_MOCK_SEED_ACCOUNT", "shop", "argument --seed-account: $IPYY_MOCK_SEED_ACCOUNT: a seed account is"),
    ],
)
def test_a_bad_value_is_a_usage_error_naming_the_variable(monkeypatch, capsys, var, value, expected):
    monkeypatch.setenv(var, value)
    with pytest.raises(SystemExit) as exc:
        serve_args()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("ipyy-mock serve: error: ") and len(err.splitlines()) == 1, err  # one line (cli._Parser)
    assert expected in err


def test_a_bad_variable_does_not_break_the_other_commands(monkeypatch, tmp_path):
    monkeypatch.setenv("IPYY_MOCK_PORT", "eighty")
    args = cli.build_parser().parse_args(["account", "list", "--db", str(tmp_path / "x.db")])
    assert args.action == "list"


def test_a_seed_password_never_shows_in_an_error_or_a_repr(monkeypatch, capsys):
    monkeypatch.setenv("IPYY_MOCK_SEED_ACCOUNT", "shop:TopSecret9:lots")
    with pytest.raises(SystemExit):
        serve_args()
    err = capsys.readouterr().err
    assert "balance must be a decimal number" in err and "TopSecret9" not in err
    monkeypatch.setenv("IPYY_MOCK_SEED_ACCOUNT", "shop:TopSecret9")
    assert "TopSecret9" not in repr(serve_args())


def test_a_flag_added_later_is_covered_whatever_its_kind():
    """What the other flags of serve may become: choices, BooleanOptionalAction, nargs lists, count, append_const."""
    parser = argparse.ArgumentParser(prog="x")
    parser.add_argument("--allowed-host", action="append", metavar="NAME")
    parser.add_argument("--server", choices=["gunicorn", "granian"], default="gunicorn")
    parser.add_argument("--strict", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--fsync", action="store_true")
    parser.add_argument("--ratio", type=float, default=1.0)
    parser.add_argument("--pair", nargs=2, type=int)
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("--tag", dest="tags", action="append_const", const="t")
    parser.add_argument("--secret", help=argparse.SUPPRESS)
    env = {
        "X_ALLOWED_HOST": "ipyy-mock, mock.internal",
        "X_SERVER": "granian",
        "X_STRICT": "false",
        "X_FSYNC": "on",
        "X_RATIO": "0.5",
        "X_PAIR": "1 2",
        "X_VERBOSE": "2",
        "X_TAG": "yes",
        "X_SECRET": "s",
    }
    envflags.apply(parser, "X_", env)
    args = parser.parse_args([])
    assert args.allowed_host == ["ipyy-mock", "mock.internal"]
    assert (args.server, args.strict, args.fsync, args.ratio, args.pair, args.verbose, args.tags, args.secret) == (
        "granian",
        False,
        True,
        0.5,
        [1, 2],
        2,
        ["t"],
        "s",
    )
    assert parser.parse_args(["--allowed-host", "other", "--no-strict", "--server", "gunicorn"]).allowed_host == [
        "other"
    ]
    assert "[$X_ALLOWED_HOST]" in parser.format_help() and "X_SECRET" not in parser.format_help()
    bad = argparse.ArgumentParser(prog="x")
    bad.add_argument("--server", choices=["gunicorn", "granian"])
    envflags.apply(bad, "X_", {"X_SERVER": "uwsgi"})
    with pytest.raises(SystemExit):
        bad.parse_args([])
    assert bad.parse_args(["--server", "granian"]).server == "granian", "no check of an unused default"


# -- the real server, configured by its environment only -----------------------------------


@dataclass
class EnvOnlyMock(MockServerProcess):
    """`ipyy-mock serve` with no flags at all: port, database, workers ... come from $IPYY_MOCK_*."""

    def command(self) -> list[str]:
        return [console_script("ipyy-mock"), "serve"]


def test_server_configured_by_environment_only(monkeypatch, tmp_path):
    server = EnvOnlyMock(tmp_path / "env.db", workers=1)
    for var, value in {
        "PORT": str(server.port),
        "DB": str(server.db_path),
        "WORKERS": "1",
        "ZONE": "UTC",
        "SEED_ACCOUNT": "shop:s3cret:50.00 billing:pw2",
        "ADMIN_TOKEN": "tok",
        "ALLOWED_HOST": "ipyy-mock, mock.internal",
        "NO_JOURNAL": "1",
    }.items():
        monkeypatch.setenv("IPYY_MOCK_" + var, value)
    server.start()
    token = {"X-Admin-Token": "tok"}
    try:
        assert f"(1 workers x 1 thread, granian, database {server.db_path.resolve()})" in server.banner
        assert "  account   shop  balance 50.00  (created)" in server.banner
        assert "s3cret" not in server.banner and "pw2" not in server.banner
        assert "admin token on" in server.banner and "tok" not in server.banner.replace("token", "")
        assert "also for Host ipyy-mock, mock.internal" in server.banner
        clock = requests.get(server.base_url + "/_mock/api/clock", headers=token, timeout=10)
        assert clock.status_code == 200 and clock.json()["zone"] == "UTC"
        assert requests.get(server.base_url + "/_mock/api/clock", timeout=10).status_code == 401
        as_service = requests.get(
            server.base_url + "/_mock/api/clock", timeout=10, headers={**token, "Host": f"ipyy-mock:{server.port}"}
        )
        assert as_service.status_code == 200, "IPYY_MOCK_ALLOWED_HOST admits the service name"
        other = requests.get(
            server.base_url + "/_mock/api/clock", timeout=10, headers={**token, "Host": "evil.example"}
        )
        assert other.status_code == 403
        with HttpClient("shop", "s3cret", base_url=server.base_url) as client:
            sent = client.send(["8613800138000"], "验证码 1234【华信】").raise_for_status()
            assert sent.balance == Decimal("49.95")
        journal = requests.get(server.base_url + "/_mock/api/journal", headers=token, timeout=10)
        assert journal.json()["enabled"] is False, "IPYY_MOCK_NO_JOURNAL=1 turned the journal off"
        server.stop()
        monkeypatch.setenv("IPYY_MOCK_SEED_ACCOUNT", "shop:changed:1.00")
        server.start()  # the same database: the account is kept as the test left it
        assert "  account   shop  balance 49.95  (kept)" in server.banner
        with HttpClient("shop", "s3cret", base_url=server.base_url) as client:
            assert client.balance().balance == Decimal("49.95")
    finally:
        server.stop()


def test_a_token_file_on_the_command_line_wins_over_the_token_variable(monkeypatch, tmp_path):
    """--admin-token and --admin-token-file exclude each other: the one given wins over the other's variable."""
    (tmp_path / "token").write_text("from-file\n")
    monkeypatch.setenv("IPYY_MOCK_ADMIN_TOKEN", "from-env")
    args = serve_args("--admin-token-file", str(tmp_path / "token"))
    assert (args.admin_token, args.admin_token_file) == (None, str(tmp_path / "token"))
    assert serve_args().admin_token == "from-env"
    monkeypatch.delenv("IPYY_MOCK_ADMIN_TOKEN")
    monkeypatch.setenv("IPYY_MOCK_ADMIN_TOKEN_FILE", str(tmp_path / "token"))
    assert serve_args("--admin-token", "flag").admin_token_file is None
    assert serve_args().admin_token_file == str(tmp_path / "token")


def test_server_refuses_a_bad_variable_with_a_usage_error(monkeypatch, tmp_path):
    server = EnvOnlyMock(tmp_path / "bad.db")
    monkeypatch.setenv("IPYY_MOCK_PORT", str(server.port))
    monkeypatch.setenv("IPYY_MOCK_WORKERS", "two")
    with pytest.raises(RuntimeError) as exc:
        server.start(timeout=10)
    assert "$IPYY_MOCK_WORKERS: invalid int value: 'two' (fix or unset it)" in str(exc.value)
    assert not (tmp_path / "bad.db").exists(), "nothing started, nothing created"
