"""``ipyy-mock``: start the mock, manage its accounts without a running server.

Account commands open the same SQLite file the server uses (WAL lets them run
while it serves), so a test or a person can set a balance or stop an account
without any admin endpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

from ipyy_client._suggest import _INVALID_CHOICE, SuggestingParser, did_you_mean
from ipyy_mock import envflags
from ipyy_mock.core import retention, seeding
from ipyy_mock.core.billing import MAX_BALANCE, MAX_PRICE, MoneyError, parse_money
from ipyy_mock.core.retention import DEFAULT_KEEP_DAYS, DEFAULT_KEEP_MESSAGES, Retention
from ipyy_mock.server.run import DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_SERVER, SERVERS

DEFAULT_DB = "ipyy-mock.db"
ENV_PREFIX = "IPYY_MOCK_"  # `serve --max-body` defaults to $IPYY_MOCK_MAX_BODY (envflags.py)


def _decimal(text: str, what: str = "the balance", low: Decimal = -MAX_BALANCE, high: Decimal = MAX_BALANCE) -> Decimal:
    """An amount within its bounds (core/billing.py); a usage error that names them otherwise."""
    try:
        return parse_money(text, what, low, high)
    except MoneyError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _price(text: str) -> tuple[str, Decimal]:
    country, sep, amount = text.partition("=")
    if not sep or not (country == "*" or country.isdigit()):
        raise argparse.ArgumentTypeError(f"price must be COUNTRY=AMOUNT or *=AMOUNT, e.g. 86=0.05: {text!r}")
    return country, _decimal(amount, f"the price for {country}", Decimal(0), MAX_PRICE)


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 1 to 65535, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.001 <= value <= 60:
        raise argparse.ArgumentTypeError(f"seconds from 0.001 to 60, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    from ipyy_mock.core.validation import parse_count

    value = parse_count(text)
    if not value:
        raise argparse.ArgumentTypeError(f"must be a whole number of bytes, at least 1: {text!r}")
    return value


def _keep_count(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"a whole number of messages (0 keeps every one), got {text!r}")
    return int(text)


def _keep_days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= 100 * 366:
        raise argparse.ArgumentTypeError(f"a number of days (0 keeps every day), got {text!r}")
    return value


def _allowed_hosts(value: str | list | tuple | None) -> tuple[str, ...]:
    """``--allowed-host`` values (repeated, or comma-separated as in $IPYY_MOCK_ALLOWED_HOST), checked."""
    from ipyy_mock.admin.access import AccessError, allowed_host

    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else [h for v in value for h in _allowed_hosts(v)]
    try:
        return tuple(allowed_host(h) for h in items if h.strip())
    except AccessError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _push_url(text: str) -> str:  # http(s) only, as the admin API checks it
    from ipyy_mock.push.target import PushUrlError, check_push_url

    try:
        return check_push_url(text)
    except PushUrlError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _Parser(SuggestingParser):
    """argparse with "did you mean", but a usage error is one line (what is wrong, where the help is), exit 2."""

    def error(self, message: str) -> NoReturn:
        found = _INVALID_CHOICE.search(message)
        if found:
            message += did_you_mean(found["given"], re.findall(r"'([^']*)'", found["choices"]))
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ipyy-mock", description="Offline mock of the Huaxin (ipyy.net) SMS gateway.")
    sub = parser.add_subparsers(dest="command", required=True)
    db_help = f"SQLite file (default: $IPYY_MOCK_DB or ./{DEFAULT_DB})"

    serve = sub.add_parser("serve", help="run the mock server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8080, help="TCP port, 1-65535 (default 8080)")
    serve.add_argument("--db", help=db_help)
    serve.add_argument(
        "--seed-account",
        action="append",
        type=seeding.parse,
        metavar=seeding.FORM,
        help="create this account at start unless it exists (the demo's prices, balance 100.00 "
        "unless given); repeatable",
    )
    serve.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    serve.add_argument(
        "--threads",
        type=int,
        default=1,
        help="Python threads per worker (default 1: measured fastest; slow callers and latency "
        "faults do not hold it up, see docs/server.md)",
    )
    serve.add_argument("--zone", default=None, help="platform time zone (default Asia/Shanghai)")
    serve.add_argument("--access-log", action="store_true", help="log each request (paths only, never query strings)")
    token = serve.add_mutually_exclusive_group()  # docs/security.md
    token.add_argument(
        "--admin-token",
        default=None,
        metavar="TOKEN",
        help="every caller of /_mock/api/ and the inbox must send X-Admin-Token: TOKEN, loopback "
        "too (without a token only loopback callers are served). Visible to every user in "
        "`ps`: prefer --admin-token-file or $IPYY_MOCK_ADMIN_TOKEN",
    )
    token.add_argument(
        "--admin-token-file",
        default=None,
        metavar="PATH",
        help="read the admin token from PATH: its first line, printable ASCII (not shown in `ps`; keep the file 0600, a file others may read gets a warning)",
    )
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=None,
        metavar="NAME[:PORT]",
        type=_allowed_hosts,
        help="also serve the admin API and the inbox for requests with this Host name (a proxy's "
        "or a container's name); repeatable. Loopback names and the --host address always "
        "are; any other Host is refused (DNS rebinding)",
    )
    serve.add_argument(
        "--max-body",
        type=_positive_int,
        default=None,
        metavar="BYTES",
        help="refuse request bodies over BYTES with HTTP 413 (default 4 MiB)",
    )
    serve.add_argument(
        "--strict",
        action="store_true",
        help="refuse every request that deviates from the vendor's document (conformance warnings)",
    )
    serve.add_argument(  # retention (core/retention.py, docs/mock.md "Retention")
        "--keep-messages",
        type=_keep_count,
        default=DEFAULT_KEEP_MESSAGES,
        metavar="N",
        help=f"keep the newest N messages with their tasks, reports, uplinks and warnings; older ones are "
        f"pruned while the mock runs (default {DEFAULT_KEEP_MESSAGES}; 0 keeps every one)",
    )
    serve.add_argument(
        "--keep-days",
        type=_keep_days,
        default=DEFAULT_KEEP_DAYS,
        metavar="D",
        help=f"also prune what is older than D days of platform time, journal included "
        f"(default {DEFAULT_KEEP_DAYS:g}; 0 keeps every day)",
    )
    serve.add_argument(
        "--no-journal",
        dest="journal",
        action="store_false",
        help="do not record requests in the journal (/_mock/api/journal)",
    )
    # the HTTP server and durability (server/run.py, docs/server.md)
    serve.add_argument(
        "--server",
        choices=SERVERS,
        default=DEFAULT_SERVER,
        help=f"HTTP server (default {DEFAULT_SERVER}; gunicorn: the previous one, gthread workers)",
    )
    serve.add_argument(
        "--fsync",
        action="store_true",
        help="fsync every commit (SQLite synchronous=FULL): an acknowledged send survives a power "
        "loss too; without it (NORMAL) it survives kill -9 of the mock, not an OS crash",
    )
    serve.add_argument(
        "--header-timeout",
        type=_seconds,
        default=DEFAULT_HEADER_TIMEOUT,
        metavar="SECONDS",
        help=f"drop a connection whose request line and headers are not in within SECONDS "
        f"(default {DEFAULT_HEADER_TIMEOUT:g}; granian only)",
    )
    serve.add_argument(
        "--body-timeout",
        type=_seconds,
        default=DEFAULT_BODY_TIMEOUT,
        metavar="SECONDS",
        help=f"answer 408 to a request whose body is not in within SECONDS (default {DEFAULT_BODY_TIMEOUT:g}; "
        "granian only)",
    )
    # [/server]

    account = sub.add_parser("account", help="add, show, change or list accounts")
    acc_sub = account.add_subparsers(dest="action", required=True)
    for action in ("add", "set"):
        p = acc_sub.add_parser(action, help=f"{action} an account")
        p.add_argument("name")
        p.add_argument("--db", help=db_help)
        p.add_argument(
            "--create", action="store_true", help="create the database when it does not exist (account add always does)"
        )
        p.add_argument("--password", required=(action == "add"))
        p.add_argument("--userid")
        p.add_argument("--balance", type=_decimal)
        p.add_argument("--pay-type", choices=["prepaid", "postpaid"])
        p.add_argument(
            "--price",
            type=_price,
            action="append",
            metavar="CC=AMOUNT",
            help="per-segment price for a country code, or * for the rest; repeatable",
        )
        p.add_argument("--segment-limit", type=int)
        p.add_argument("--bind-ip", action="append", metavar="IP", help="allowed caller address or network; repeatable")
        p.add_argument("--no-bind-ip", action="store_true", help="accept callers from anywhere")
        p.add_argument("--stopped", action=argparse.BooleanOptionalAction, default=None)
        p.add_argument(
            "--strict-auth",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="HTTP interface takes only the MD5 password",
        )
        p.add_argument(
            "--strict",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="strict mode for this account: refuse what deviates from the document",
        )
        p.add_argument(
            "--reports",
            dest="can_read_reports",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="may pull delivery reports",
        )
        p.add_argument(
            "--limits",
            choices=("warn", "enforce", "off"),
            help="the vendor's sending limits per number (3 with 验证码 in 3 minutes, 10 a day): "
            "warn (default), enforce (refuse with FrequentOperation) or off",
        )
        p.add_argument("--push-url", type=_push_url, help='http(s) URL to push reports and uplinks to; "" for none')
        p.add_argument("--sensitive-word", action="append", metavar="WORD", help="repeatable")
    for action in ("show", "list"):
        p = acc_sub.add_parser(action, help=f"{action} account(s) as JSON")
        if action == "show":
            p.add_argument("name")
        p.add_argument("--db", help=db_help)
        p.add_argument(
            "--create", action="store_true", help="create the database when it does not exist (account add always does)"
        )
    envflags.apply(serve, ENV_PREFIX)  # last: every serve flag, also those added above later
    return parser


def _db_path(args: argparse.Namespace) -> str:
    return args.db or os.environ.get("IPYY_MOCK_DB") or DEFAULT_DB


def _fail(message: str) -> int:
    """A start error: one line on stderr, exit status 1 (2 is for usage errors, from the parser)."""
    print(f"ipyy-mock: {message}", file=sys.stderr)
    return 1


def _database_error(path: str, exc: BaseException) -> str:
    where = Path(path).resolve()
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
        return f"{where} is not an SQLite database ({reason}): point --db at the mock's file, or at a new path"
    return f"cannot open the database {where}: {reason}; check the path and its permissions, or use another --db"


def _account_json(account) -> dict:
    data = account.to_row()
    data.pop("password")
    data["prices"] = json.loads(data["prices"])
    data["sensitive_words"] = json.loads(data["sensitive_words"])
    data["bind_ips"] = account.bind_ips
    for flag in ("stopped", "strict_auth", "strict", "can_read_reports"):
        data[flag] = bool(data[flag])
    return data


def _apply(account, args: argparse.Namespace) -> None:
    for attr in (
        "password",
        "userid",
        "balance",
        "pay_type",
        "segment_limit",
        "stopped",
        "strict_auth",
        "strict",
        "can_read_reports",
        "push_url",
        "limits",
    ):
        value = getattr(args, attr)
        if value is not None:
            setattr(account, attr, value)
    if args.price:
        account.prices = dict(args.price)
    if args.no_bind_ip:
        account.bind_ips = []
    if args.bind_ip:
        account.bind_ips = args.bind_ip
    if args.sensitive_word:
        account.sensitive_words = args.sensitive_word


def run_account(args: argparse.Namespace) -> int:
    import time

    from ipyy_mock.core.platform import DEMO_ACCOUNT
    from ipyy_mock.core.store import Account, Store

    path = _db_path(args)
    # a missing or unreadable database: say which file, and what creates one
    if args.action != "add" and not args.create and not Path(path).exists():
        return _fail(
            f"no database at {Path(path).resolve()}: `ipyy-mock account add NAME --password ...` or "
            f"--create makes one (or pass --db / set IPYY_MOCK_DB to the server's file)"
        )
    try:
        store = Store(path)
    except (sqlite3.Error, OSError) as exc:
        return _fail(_database_error(path, exc))
    # [/server]
    if args.action == "list":
        print(json.dumps([_account_json(a) for a in store.list_accounts()], ensure_ascii=False, indent=2))
        return 0
    existing = store.get_account(args.name)
    if args.action == "add":
        if existing is not None:
            print(
                f"ipyy-mock: account {args.name!r} exists; change it with `ipyy-mock account set {args.name} ...`",
                file=sys.stderr,
            )
            return 1
        account = Account(
            name=args.name,
            password=args.password,
            balance=Decimal("0"),
            prices=dict(DEMO_ACCOUNT.prices),
            sensitive_words=list(DEMO_ACCOUNT.sensitive_words),
            created_at=time.time(),
        )
        _apply(account, args)
        store.insert_account(account)
    else:
        if existing is None:
            print(
                f"ipyy-mock: no account {args.name!r}; create it with `ipyy-mock account add {args.name} "
                f"--password ...`",
                file=sys.stderr,
            )
            return 1
        account = existing
        if args.action == "set":
            _apply(account, args)
            store.save_account(account)
    print(json.dumps(_account_json(account), ensure_ascii=False, indent=2))
    return 0


def _ipyy_command() -> str:
    """``ipyy`` when the PATH finds this install's client, else its full path (a venv that is not activated)."""
    import shutil

    ours = Path(sys.executable).parent / "ipyy"
    found = shutil.which("ipyy")
    return "ipyy" if found and Path(found).resolve() == ours.resolve() else str(ours)


def _open_platform(db_path: str, zone: str | None, seeds: list, strict: bool, kept: Retention | None = None) -> tuple:
    """The server's Platform with the demo and the seed accounts in it (each with "created now?") and strict mode
    set, or one line saying why its database cannot be used (say, a volume its user cannot write)."""
    from ipyy_mock.core.platform import Platform
    from ipyy_mock.core.store import quick_check

    try:
        damage = quick_check(db_path)
        if damage is not None:
            raise SystemExit(
                f"ipyy-mock: the database {Path(db_path).resolve()} is damaged ({damage}): restore it from a copy, "
                "or start on a new file with --db"
            )
        platform = Platform(db_path, zone) if zone else Platform(db_path)
        created, seeded = platform.seed_demo(), seeding.seed(platform.store, seeds)
        platform.set_strict(strict)
        if kept is not None:
            retention.save(platform.store, kept)
            if kept.on and platform.store.make_incremental():  # once per file: a VACUUM, before the workers start
                print(
                    f"ipyy-mock: {db_path} converted to incremental vacuum (retention gives its space back)",
                    file=sys.stderr,
                )
        return platform, created, seeded
    except (OSError, sqlite3.Error) as exc:
        raise SystemExit(f"ipyy-mock: {_open_error(db_path, exc)}") from None


def _open_error(db_path: str, exc: BaseException) -> str:
    """One line naming what really stops the database from opening: a file that is not one, a damaged one, a
    full disk, a read-only one, a lock someone holds; a permission problem only when it is one."""
    where = Path(db_path).resolve()
    text = str(exc)
    code = getattr(exc, "sqlite_errorname", "") or ""
    errno_ = getattr(exc, "errno", None)
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
        return _database_error(db_path, exc)
    if code.startswith("SQLITE_CORRUPT") or "malformed" in text:
        return f"the database {where} is damaged ({text}): restore it from a copy, or start on a new file with --db"
    if code.startswith("SQLITE_FULL") or "full" in text or errno_ == 28:
        return f"cannot write the database {where}: the disk is full ({text}); free space on its volume or use another --db"
    if code.startswith("SQLITE_READONLY") or "readonly" in text or errno_ == 30:
        return (
            f"cannot write the database {where}: it is read-only ({text}); a read-only or immutable file or mount, "
            "make it writable or use another --db"
        )
    if code.startswith("SQLITE_BUSY") or "locked" in text:
        return f"the database {where} is locked by another process ({text}); stop it, or use another --db"
    return (
        f"cannot open the database {db_path}: {text}; it needs a directory user "
        f"{os.getuid()} can write (a volume: check its owner), or choose another file with --db ($IPYY_MOCK_DB)"
    )


def _listen_hosts(host: str) -> tuple[str, ...]:
    """The --host name as a Host the admin API answers for (a wildcard address is no name: none)."""
    from ipyy_mock.admin.access import WILDCARDS, AccessError, allowed_host

    try:
        return () if host.strip("[]") in WILDCARDS else (allowed_host(host),)
    except AccessError:
        return ()


def run_serve(args: argparse.Namespace) -> int:
    from ipyy_mock import __version__
    from ipyy_mock.admin.access import AccessError, read_token
    from ipyy_mock.core.platform import DEMO_ACCOUNT
    from ipyy_mock.server.run import ServeConfig, StartError, check_port, serve

    try:  # --admin-token, else --admin-token-file, else $IPYY_MOCK_ADMIN_TOKEN
        admin_token = read_token(
            args.admin_token, args.admin_token_file, warn=lambda line: print(f"ipyy-mock: {line}", file=sys.stderr)
        )
    except AccessError as exc:
        print(f"ipyy-mock: {exc}", file=sys.stderr)
        return 2
    try:
        extra_hosts = _allowed_hosts(args.allowed_host)
    except argparse.ArgumentTypeError as exc:
        print(f"ipyy-mock: {exc}", file=sys.stderr)
        return 2
    allowed_hosts = _listen_hosts(args.host) + extra_hosts
    db_path = _db_path(args)
    kept = Retention(args.keep_messages, args.keep_days)
    platform, created, seeded = _open_platform(db_path, args.zone, args.seed_account or [], args.strict, kept)
    demo = platform.store.get_account(DEMO_ACCOUNT.name)
    platform.store.close()
    try:  # start errors: one line, before the banner, no traceback
        check_port(args.host, args.port)
    except StartError as exc:
        return _fail(str(exc))
    from ipyy_mock import journal

    journal.prepare(journal.journal_path(db_path))  # a damaged journal is set aside here, not in each worker
    host = f"[{args.host}]" if ":" in args.host else args.host
    base = f"http://{host}:{args.port}"
    lines = [
        f"ipyy-mock {__version__} on {base}  ({args.workers} workers x {args.threads} "
        f"thread{'' if args.threads == 1 else 's'}, {args.server}, "
        f"database {Path(db_path).resolve()})",
        f"  SOAP      {base}/WebService.asmx      WSDL: {base}/WebService.asmx?WSDL",
        f"  HTTP      {base}/I18NSms.aspx  {base}/statusApi.aspx  {base}/callApi.aspx  {base}/pwd.aspx",
        f"  domestic  {base}/sms.aspx  {base}/smsJson.aspx",
        f"  inbox     {base}/_mock/   (every message sent, reply as a phone, mark delivered/failed, journal)",
        f"  metrics   {base}/_mock/metrics   (Prometheus; the admin API's access rule)",
        f"  retention {kept.describe()}  (--keep-messages, --keep-days)",
    ]
    if demo is not None:
        state = "created" if created else "kept"
        lines.append(
            f"  account   {demo.name} / {DEMO_ACCOUNT.password if created else '(password as set)'}"
            f"  userid {demo.userid}  balance {demo.balance}  ({state})"
        )
    for account, created in seeded:  # the operator's own passwords are not printed
        lines.append(f"  account   {account.name}  balance {account.balance}  ({'created' if created else 'kept'})")
    lines.append(
        f"  admin     {base}/_mock/api/clock  (JSON; "  # says whether a token is on, never it
        + (
            "admin token on: every caller sends X-Admin-Token)"
            if admin_token
            else "no admin token: loopback callers only)"
        )
    )
    if extra_hosts:
        lines.append(f"  hosts     admin API and inbox also for Host {', '.join(extra_hosts)}")
    lines.append(
        f"  try       IPYY_BASE_URL={base} IPYY_ACCOUNT=demo IPYY_PASSWORD=demo123 "
        f"{_ipyy_command()} send --to 8613800138000 --text '你好【华信】'"
    )
    config = ServeConfig(
        host=args.host,
        port=args.port,
        db_path=db_path,
        workers=args.workers,
        threads=args.threads,
        zone=args.zone,
        access_log=args.access_log,
        admin_token=admin_token,
        max_body=args.max_body,
        journal=args.journal,
        allowed_hosts=allowed_hosts,
        fsync=args.fsync,
        server=args.server,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
    )
    try:  # the banner once every worker has its app and the port answers
        serve(config, on_ready=lambda: print("\n".join(lines), flush=True))
    except StartError as exc:
        return _fail(str(exc))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:  # no command: say which there are (the help lists them), a usage error
        parser.print_help(sys.stderr)
        return 2
    args = parser.parse_args(argv)
    from ipyy_mock.core.store import NewerDatabase

    try:
        if args.command == "serve":
            return run_serve(args)
        return run_account(args)
    except NewerDatabase as exc:  # a file this version must not touch: one line, no traceback
        return _fail(str(exc))


if __name__ == "__main__":
    sys.exit(main())
