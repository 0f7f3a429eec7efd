"""The ``ipyy`` command line: send SMS, query the account, pull or receive reports and uplinks.

Why this shape: one argparse parser with one sub-parser per command, each
command a ``_cmd_<name>(args) -> exit code`` function registered with
``set_defaults(func=...)``; connection options (``--account/--password/
--base-url/--timeout/--userid``) are accepted before or after the command and
fall back to ``IPYY_ACCOUNT``, ``IPYY_PASSWORD``, ``IPYY_BASE_URL``,
``IPYY_USERID``. Commands: send (SOAP, the HTTP interface with ``--via
http``, or the domestic interface with ``--via domestic``), balance (money on
the HTTP interface, points with ``--via domestic``), reports, uplinks, passwd
(HTTP interface) and listen (a local receiver for the platform's push). Human output is text and aligned
tables; ``--json`` prints JSON (money as strings, times ISO 8601 with offset).

Exit codes: 0 OK, 1 the gateway answered with an error code, 2 usage error,
3 transport/protocol failure (no usable reply).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ipyy_client import __version__
from ipyy_client._common import DEFAULT_BASE_URL, DEFAULT_ZONE, domestic_looking, join_msisdns
from ipyy_client._suggest import SuggestingParser
from ipyy_client.codes import ResultCode
from ipyy_client.domestic import DomesticClient
from ipyy_client.errors import (
    IpyyError,
    ProtocolError,
    ReportsNotAllowed,
    SoapFault,
    TransportError,
    VendorError,
    error_for,
)
from ipyy_client.http import MAX_PULL, HttpClient
from ipyy_client.results import (
    Balance,
    DomesticSendResult,
    HttpSendResult,
    MockWarning,
    PointsBalance,
    Report,
    SendResult,
    Uplink,
)
from ipyy_client.soap import SoapClient

EXIT_OK = 0
EXIT_VENDOR = 1
EXIT_USAGE = 2
EXIT_TRANSPORT = 3

ENV_ACCOUNT = "IPYY_ACCOUNT"
ENV_PASSWORD = "IPYY_PASSWORD"
ENV_BASE_URL = "IPYY_BASE_URL"
ENV_USERID = "IPYY_USERID"

# The gateway cannot be trusted to tell a wrong name from a wrong password (the HTTP interface answers both with
# one message), so the hint names both, and the URL: the right pair against the wrong server fails the same way.
_WRONG_CREDENTIALS = (
    f"Wrong account name or password: check --account / {ENV_ACCOUNT} and --password / {ENV_PASSWORD} "
    f"(and --base-url / {ENV_BASE_URL}: the account must exist on that server)."
)

# Where the library hint says "give the account name", the CLI can say how.
_CLI_HINTS = {
    ResultCode.UserNameEmpty: f"Pass --account or set {ENV_ACCOUNT}.",
    ResultCode.PasswordEmpty: f"Pass --password or set {ENV_PASSWORD}.",
    ResultCode.UserNameError: _WRONG_CREDENTIALS,
    ResultCode.PasswordError: _WRONG_CREDENTIALS,
}


class UsageError(Exception):
    """A problem with the command line itself (exit 2)."""


# --- argument types ---------------------------------------------------------------


def parse_send_time(text: str) -> datetime:
    """``2026-12-01 09:00:00`` (the vendor's sendTime format) or any ISO 8601 date-time.

    Without an offset the time is platform time (Asia/Shanghai on the vendor).
    """
    text = text.strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid time {text!r}: use 'YYYY-MM-DD HH:MM:SS' or ISO 8601 (e.g. 2026-12-01T09:00:00+08:00)"
        ) from None


def _ext_number(text: str) -> str:
    text = text.strip()
    if not text.isdigit() or len(text) > 5:
        raise argparse.ArgumentTypeError(f"invalid extension {text!r}: 1-5 digits")
    return text


# --- parser -----------------------------------------------------------------------


def _connection_options() -> SuggestingParser:
    """Options shared by every command; SUPPRESS defaults let them appear before or after the command."""
    parent = SuggestingParser(add_help=False)
    group = parent.add_argument_group("connection")
    group.add_argument("--account", default=argparse.SUPPRESS, help=f"account name (default: ${ENV_ACCOUNT})")
    group.add_argument(
        "--password",
        default=argparse.SUPPRESS,
        help=f"account password (default: ${ENV_PASSWORD}; prefer the variable, argv is visible to other users)",
    )
    group.add_argument(
        "--base-url",
        default=argparse.SUPPRESS,
        help=f"gateway base URL (default: ${ENV_BASE_URL} or {DEFAULT_BASE_URL}); the mock's, e.g. http://127.0.0.1:8080",
    )
    group.add_argument(
        "--timeout", type=float, default=argparse.SUPPRESS, help="seconds to wait for a reply (default: 30)"
    )
    group.add_argument(
        "--userid",
        default=argparse.SUPPRESS,
        help=f"enterprise id for the HTTP interface (default: ${ENV_USERID} or empty)",
    )
    return parent


def _output_options() -> SuggestingParser:
    parent = SuggestingParser(add_help=False)
    parent.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parent


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {value}")
    return value


def _pull_limit(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_PULL:
        raise argparse.ArgumentTypeError(f"at most {MAX_PULL} per pull, not {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    connection = _connection_options()
    output = _output_options()
    parser = SuggestingParser(
        prog="ipyy",
        description="Client for the Huaxin (ipyy.net) international SMS gateway and its offline mock.",
        parents=[connection],
        epilog="exit codes: 0 OK, 1 gateway error code, 2 usage error, 3 transport/protocol failure",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    send = commands.add_parser(
        "send",
        parents=[connection, output],
        help="send an SMS",
        description="Send one text to one or more numbers (SOAP SendI18NSms; SendSms, the domestic send, with "
        "--op SendSms; SendHybridSms with --hybrid).",
    )
    send.add_argument(
        "--to",
        action="append",
        required=True,
        metavar="MSISDN",
        help="recipient with country code, e.g. 8613800138000 (--via domestic: 13800138000); "
        "repeat or give a comma list",
    )
    send.add_argument("--text", required=True, help="the message, ending with a signature 【…】; '-' reads stdin")
    send.add_argument(
        "--op",
        type=_soap_operation,
        default=None,
        metavar="OPERATION",
        help="the SOAP operation: SendI18NSms (default: country code + number), SendSms (the domestic send: "
        "Chinese 11-digit numbers too) or SendHybridSms",
    )
    send.add_argument(
        "--hybrid",
        action="store_true",
        help="the same as --op SendHybridSms (also accepts Chinese 11-digit numbers)",
    )
    send.add_argument(
        "--at",
        type=parse_send_time,
        metavar="TIME",
        help="schedule: 'YYYY-MM-DD HH:MM:SS' (platform time) or ISO 8601 with offset",
    )
    send.add_argument("--ext", type=_ext_number, metavar="DIGITS", help="extension number (1-5 digits)")
    send.add_argument(
        "--via",
        choices=("soap", "http", "domestic"),
        default="soap",
        help="interface to send through: soap (WebService.asmx), http (I18NSms.aspx) or domestic "
        "(sms.aspx / smsJson.aspx: Chinese 11-digit numbers, plain text, points) (default: soap)",
    )
    send.add_argument(
        "--format",
        dest="fmt",
        choices=("xml", "json"),
        default=None,
        help="--via domestic only: the reply format to ask for, xml (sms.aspx) or json "
        "(smsJson.aspx) (default: xml); output is the same",
    )
    send.add_argument("--soap12", action="store_true", help="use SOAP 1.2 instead of 1.1")
    send.set_defaults(func=_cmd_send)

    balance = commands.add_parser(
        "balance",
        parents=[connection, output],
        help="show the balance",
        description="Show the account's pay type and balance (HTTP action=overage), or with --via domestic "
        "its points left and recharged (sms.aspx / smsJson.aspx action=overage).",
    )
    balance.add_argument(
        "--via",
        choices=("http", "domestic"),
        default="http",
        help="http (I18NSms.aspx: money) or domestic (points) (default: http)",
    )
    balance.add_argument(
        "--format",
        dest="fmt",
        choices=("xml", "json"),
        default=None,
        help="--via domestic only: xml (sms.aspx) or json (smsJson.aspx) (default: xml)",
    )
    balance.set_defaults(func=_cmd_balance)

    def pull_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--max",
            "--limit",
            dest="limit",
            type=_pull_limit,
            default=MAX_PULL,
            metavar="N",
            help=f"pull at most N items (1-{MAX_PULL}, default {MAX_PULL}); each is handed out once, so pull only "
            "what you will read (e.g. `ipyy reports --max 1 | head -1`)",
        )
        sub.add_argument(
            "--format",
            dest="fmt",
            choices=("xml", "json"),
            default="xml",
            help="the gateway's reply format to ask for (default: xml); output is the same",
        )

    reports = commands.add_parser(
        "reports",
        parents=[connection, output],
        help="pull delivery reports",
        description="Pull delivery reports, oldest first. The gateway hands each report out once: "
        "what this prints is gone from its queue.",
    )
    reports.add_argument("--task", type=_positive_int, metavar="ID", help="only the reports of this task id")
    pull_options(reports)
    reports.set_defaults(func=_cmd_reports)

    uplinks = commands.add_parser(
        "uplinks",
        parents=[connection, output],
        help="pull uplinks (replies from recipients)",
        description="Pull uplinks (MO replies), oldest first. Each is handed out once.",
    )
    pull_options(uplinks)
    uplinks.set_defaults(func=_cmd_uplinks)

    passwd = commands.add_parser(
        "passwd",
        parents=[connection, output],
        help="change the account password",
        description="Change the password (pwd.aspx); it holds for HTTP and SOAP at once. "
        "Without NEW it is asked for twice, without echo.",
    )
    passwd.add_argument("new_password", nargs="?", metavar="NEW", help="the new password (1-20 characters)")
    passwd.set_defaults(func=_cmd_passwd)

    listen = commands.add_parser(
        "listen",
        parents=[output],
        help="receive pushed reports and uplinks (local dev server)",
        description="Serve a push URL for the account: print each pushed report/uplink as a line and "
        "answer 1. A development server; put a real WSGI server in front of "
        "ipyy_client.push_receiver in production.",
    )
    listen.add_argument("--port", type=_port, required=True, help="port to listen on (0: any free port)")
    listen.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    listen.set_defaults(func=_cmd_listen)

    # --- ipyy check (conformance check; implementation in ipyy_client.check) ---
    check = commands.add_parser(
        "check",
        parents=[connection, output],
        help="read-only, zero-cost contract check of an endpoint",
        description="Check that an endpoint (the mock or the vendor) speaks the contract: the WSDL, SOAP 1.1/1.2 "
        "and HTTP sends with no recipients (refused, never charged), the balance, report queries "
        "for a task id nobody has, and the wrong-password error shapes. Nothing is sent, charged "
        "or handed out. Exit 0 all pass, 1 a check failed, 3 no reply.",
    )
    check.add_argument(
        "--include-uplinks",
        action="store_true",
        help="also pull uplinks (one per format): this CONSUMES them on a real account",
    )
    check.set_defaults(func=_cmd_check)
    # --- end ipyy check ---
    return parser


# --- helpers ----------------------------------------------------------------------


def _connection(args: argparse.Namespace) -> tuple[str, str, str, float]:
    """(account, password, base_url, timeout) from options, then environment, then defaults."""
    account = getattr(args, "account", None) or os.environ.get(ENV_ACCOUNT, "")
    password = getattr(args, "password", None) or os.environ.get(ENV_PASSWORD, "")
    base_url = getattr(args, "base_url", None) or os.environ.get(ENV_BASE_URL, "") or DEFAULT_BASE_URL
    timeout = getattr(args, "timeout", None) or 30.0
    if not account:
        raise UsageError(f"no account: pass --account or set {ENV_ACCOUNT}")
    if not password:
        raise UsageError(f"no password: pass --password or set {ENV_PASSWORD}")
    if timeout <= 0:
        raise UsageError("--timeout must be positive")
    return account, password, base_url, timeout


SOAP_SENDS = ("SendSms", "SendI18NSms", "SendHybridSms")


def _soap_operation(text: str) -> str:
    """``--op``: a SOAP send operation, by its name in any case (``sendsms`` is SendSms)."""
    for name in SOAP_SENDS:
        if text.strip().lower() == name.lower():
            return name
    raise argparse.ArgumentTypeError(f"{text!r} is not a SOAP send operation: use one of {', '.join(SOAP_SENDS)}")


def _userid(args: argparse.Namespace) -> str:
    return getattr(args, "userid", None) or os.environ.get(ENV_USERID, "")


def _http_client(args: argparse.Namespace) -> tuple[HttpClient, str]:
    account, password, base_url, timeout = _connection(args)
    return HttpClient(account, password, _userid(args), base_url, timeout=timeout), base_url


def result_to_json(result: SendResult) -> dict[str, Any]:
    """The JSON shape of ``send --json``: money as strings so no float rounding creeps in."""
    return {
        "ok": result.ok,
        "status": result.status.name,
        "code": result.status.code,
        "description": result.description,
        "msg_id": result.msg_id,
        "balance": str(result.balance),
        "billing_amount": str(result.billing_amount),
        "billing_count": result.billing_count,
        "success_counts": result.success_counts,
        "amount": result.amount,
        "pay_type": result.pay_type,
        "result_type": result.result_type,
        "errors": list(result.errors),
        "strict_refusals": result.strict_refusals,
        "mock_warnings": mock_warnings_json(result.mock_warnings),
    }


def domestic_result_to_json(result: DomesticSendResult) -> dict[str, Any]:
    """The JSON shape of ``send --via domestic --json``: the HTTP one with points instead of money."""
    return {
        "ok": result.ok,
        "status": result.code.name if result.code else None,
        "code": result.code.code if result.code else None,
        "description": result.message,
        "returnstatus": result.status,
        "msg_id": result.task_id,
        "remain_points": result.remain_points,
        "success_counts": result.success_counts,
        "mock_warnings": mock_warnings_json(result.mock_warnings),
    }


def http_result_to_json(result: HttpSendResult) -> dict[str, Any]:
    """The JSON shape of ``send --via http --json``: like the SOAP one where the replies overlap."""
    return {
        "ok": result.ok,
        "status": result.code.name if result.code else None,
        "code": result.code.code if result.code else None,
        "description": result.message,
        "returnstatus": result.status,
        "msg_id": result.task_id,
        "balance": str(result.balance),
        "billing_amount": str(result.billing_amount),
        "success_counts": result.success_counts,
        "mock_warnings": mock_warnings_json(result.mock_warnings),
    }


def _time_json(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def item_to_json(item: Report | Uplink) -> dict[str, Any]:
    """One report or uplink as JSON (``type`` tells which); times ISO 8601 with offset."""
    if isinstance(item, Report):
        return {
            "type": "report",
            "mobile": item.mobile,
            "task_id": item.task_id,
            "status": item.status,
            "delivered": item.delivered,
            "receive_time": _time_json(item.receive_time),
            "errorcode": item.errorcode,
            "extno": item.extno,
        }
    return {
        "type": "uplink",
        "mobile": item.mobile,
        "task_id": item.task_id,
        "content": item.content,
        "receive_time": _time_json(item.receive_time),
        "extno": item.extno,
    }


def _time_text(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %z") if moment is not None else "-"


def _report_row(r: Report) -> list[str]:
    state = "delivered" if r.delivered else ("failed" if r.status == 20 else "?")
    return [
        str(r.task_id or "-"),
        r.mobile,
        f"{r.status if r.status is not None else '-'} {state}",
        r.errorcode or "-",
        _time_text(r.receive_time),
        r.extno or "-",
    ]


def _uplink_row(u: Uplink) -> list[str]:
    return [
        str(u.task_id or "-"),
        u.mobile,
        _time_text(u.receive_time),
        u.extno or "-",
        u.content.replace("\r", " ").replace("\n", " "),
    ]


REPORT_HEADER = ["TASK", "MOBILE", "STATUS", "ERRORCODE", "RECEIVED", "EXTNO"]
UPLINK_HEADER = ["TASK", "MOBILE", "RECEIVED", "EXTNO", "CONTENT"]


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns two spaces apart; the last column is not padded."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def item_line(item: Report | Uplink) -> str:
    """One pushed item as one line of ``ipyy listen`` output."""
    if isinstance(item, Report):
        return "report  " + "  ".join(_report_row(item))
    return "uplink  " + "  ".join(_uplink_row(item))


#: What the CLI says of a code outside the vendor's table as this client knows it (the vendor adds codes).
UNKNOWN_CODE = "a code this client does not know"


def _describe(code: ResultCode | None) -> str:
    if code is None:
        return "unknown code"
    description = code.description or UNKNOWN_CODE
    return f"{code.name} ({code.code} {description})" if code.code is not None else f"{code.name} ({description})"


def _print_recipient_errors(result: SendResult, out: TextIO) -> None:
    for rule in result.strict_refusals:
        print(f"  refused by the mock's strict mode: {rule}", file=out)
    for msisdn, code in result.recipient_errors():
        print(f"  not sent to {msisdn}: {_describe(code)}", file=out)


def _print_vendor_error(result: SendResult, err: TextIO) -> None:
    code = result.status
    print(f"error: {code.label()}: {result.description or code.description or UNKNOWN_CODE}", file=err)
    _print_recipient_errors(result, err)
    if result.strict_refusals:
        hint = "strict mode refuses what the vendor's document forbids: fix the request as the rule says above."
    else:
        hint = _CLI_HINTS.get(code) or error_for(code).hint
    if hint:
        print(f"hint: {hint}", file=err)


def _warn_domestic_numbers(msisdns: str, surface: str, other: str) -> list[str]:
    """Before an international send: warn (stderr) of each number that looks domestic; the numbers warned of."""
    numbers = domestic_looking(msisdns)
    for number in numbers:
        print(
            f"ipyy send: warning: {number} looks like a Chinese mobile number without its country code; "
            f"{surface} reads it as +1 {number[1:]}: write 86{number}, or send it with {other}",
            file=sys.stderr,
        )
    return numbers


def _print_mock_warnings(warnings: Sequence[MockWarning], already: Sequence[str] = (), refusal: str = "") -> None:
    """The offline mock's conformance warnings for this send (stderr; none from the vendor), except those the
    client already gave for the same number and the one a strict-mode refusal (``refusal``) prints anyway."""
    for warning in warnings:
        if warning.code == "number-country" and any(warning.detail.startswith(n) for n in already):
            continue
        if warning.text() in refusal:
            continue
        print(f"ipyy send: warning from the mock: {warning.text()}", file=sys.stderr)


def _when(at: datetime | None, warnings: Sequence[MockWarning]) -> str:
    """What the OK line says of ``--at``: the platform sends a time already past at once, not at that time."""
    if at is None:
        return ""
    moment = at if at.tzinfo is not None else at.replace(tzinfo=ZoneInfo(DEFAULT_ZONE))
    if moment <= datetime.now(timezone.utc) or any(w.code == "send-time-past" for w in warnings):
        return ", sent now (the time was past)"
    return f", scheduled for {at.isoformat(sep=' ')}"


def mock_warnings_json(warnings: Sequence[MockWarning]) -> list[dict[str, str]]:
    return [{"code": w.code, "detail": w.detail, "fix": w.fix} for w in warnings]


def _print_raised_error(exc: IpyyError, base_url: str, err: TextIO) -> int:
    """Print an exception raised by a query; the exit code it stands for."""
    if isinstance(exc, VendorError):
        print(f"error: {exc}", file=err)
        hint = (_CLI_HINTS.get(exc.code) if exc.code is not None else None) or exc.hint
        if hint:
            print(f"hint: {hint}", file=err)
        return EXIT_VENDOR
    _print_wire_error(exc, base_url, err)
    return EXIT_TRANSPORT


def _print_wire_error(exc: IpyyError, base_url: str, err: TextIO) -> None:
    print(f"error: {exc}", file=err)
    if isinstance(exc, TransportError):
        if base_url.rstrip("/") == DEFAULT_BASE_URL:
            print(
                f"hint: check network access to {DEFAULT_BASE_URL}, or point --base-url / {ENV_BASE_URL} "
                "at the offline mock (start it with `ipyy-mock serve`).",
                file=err,
            )
        elif "ipyy-mock serve" not in str(exc):  # the connect-failure message already says so
            print(
                f"hint: is the mock running at {base_url}? Start it with `ipyy-mock serve`, "
                f"or fix --base-url / {ENV_BASE_URL}.",
                file=err,
            )
    elif isinstance(exc, (ProtocolError, SoapFault)):
        print(f"hint: {exc.hint} (base URL: {base_url})", file=err)


# --- commands ---------------------------------------------------------------------


def _cmd_send(args: argparse.Namespace) -> int:
    account, password, base_url, timeout = _connection(args)
    msisdns = join_msisdns(args.to)
    if not msisdns:
        raise UsageError("--to: no recipient numbers given")
    text = sys.stdin.read().rstrip("\r\n") if args.text == "-" else args.text
    if not text:
        raise UsageError("--text: the message is empty")
    if args.fmt is not None and args.via != "domestic":
        raise UsageError("--format is a --via domestic option (sms.aspx or smsJson.aspx)")
    if args.via == "http":
        if args.hybrid or args.soap12 or args.op:
            raise UsageError("--op, --hybrid and --soap12 are SOAP options; the HTTP send takes country code + number")
        return _send_http(args, account, password, base_url, timeout, msisdns, text)
    if args.via == "domestic":
        if args.hybrid or args.soap12 or args.op:
            raise UsageError(
                "--op, --hybrid and --soap12 are SOAP options; the domestic send takes 11-digit numbers "
                "(over SOAP: --op SendSms)"
            )
        return _send_domestic(args, account, password, base_url, timeout, msisdns, text)
    if args.hybrid and args.op not in (None, "SendHybridSms"):
        raise UsageError(f"--hybrid is --op SendHybridSms; it cannot be combined with --op {args.op}")
    operation = "SendHybridSms" if args.hybrid else args.op or "SendI18NSms"
    warned = (
        _warn_domestic_numbers(msisdns, "SendI18NSms", "--op SendSms, --hybrid or --via domestic")
        if operation == "SendI18NSms"
        else []
    )

    try:
        with SoapClient(account, password, base_url, soap_version=12 if args.soap12 else 11, timeout=timeout) as client:
            send = {
                "SendSms": client.send_sms,
                "SendI18NSms": client.send_i18n_sms,
                "SendHybridSms": client.send_hybrid_sms,
            }[operation]
            result = send(msisdns, text, plan_send_time=args.at, ext_number=args.ext)
    except IpyyError as exc:
        _print_wire_error(exc, base_url, sys.stderr)
        return EXIT_TRANSPORT

    _print_mock_warnings(result.mock_warnings, warned, " ".join(result.strict_refusals))
    if args.json:
        print(json.dumps(result_to_json(result), ensure_ascii=False))
    if not result.ok:
        _print_vendor_error(result, sys.stderr)
        return EXIT_VENDOR
    if not args.json:
        when = _when(args.at, result.mock_warnings)
        print(
            f"OK task {result.msg_id} — {result.billing_count} segment(s), "
            f"charged {result.billing_amount}, balance {result.balance}{when}"
        )
        _print_recipient_errors(result, sys.stdout)
    return EXIT_OK


def _send_http(
    args: argparse.Namespace, account: str, password: str, base_url: str, timeout: float, msisdns: str, text: str
) -> int:
    warned = _warn_domestic_numbers(msisdns, "I18NSms.aspx", "--via domestic")
    try:
        with HttpClient(account, password, _userid(args), base_url, timeout=timeout) as client:
            result = client.send(msisdns, text, send_time=args.at, extno=args.ext)
    except IpyyError as exc:
        _print_wire_error(exc, base_url, sys.stderr)
        return EXIT_TRANSPORT

    _print_mock_warnings(result.mock_warnings, warned, result.message)
    if args.json:
        print(json.dumps(http_result_to_json(result), ensure_ascii=False))
    if not result.ok:
        return _print_http_refusal(result)
    if not args.json:
        when = _when(args.at, result.mock_warnings)
        print(
            f"OK task {result.task_id} — {result.success_counts} message(s), "
            f"charged {result.billing_amount}, balance {result.balance}{when}"
        )
    return EXIT_OK


def _print_http_refusal(result: HttpSendResult | DomesticSendResult) -> int:
    """A refused HTTP or domestic send: the code the message names, and what to do next."""
    code = result.code
    name = code.label() if code else f"{result.status}"
    print(f"error: {name}: {result.message}", file=sys.stderr)
    hint = (_CLI_HINTS.get(code) or error_for(code).hint) if code and code is not ResultCode.OK else ""
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    return EXIT_VENDOR


def _send_domestic(
    args: argparse.Namespace, account: str, password: str, base_url: str, timeout: float, msisdns: str, text: str
) -> int:
    try:
        with DomesticClient(account, password, _userid(args), base_url, timeout=timeout) as client:
            result = client.send(msisdns, text, send_time=args.at, extno=args.ext, fmt=args.fmt or "xml")
    except IpyyError as exc:
        _print_wire_error(exc, base_url, sys.stderr)
        return EXIT_TRANSPORT

    _print_mock_warnings(result.mock_warnings, refusal=result.message)
    if args.json:
        print(json.dumps(domestic_result_to_json(result), ensure_ascii=False))
    if not result.ok:
        return _print_http_refusal(result)
    if not args.json:
        when = _when(args.at, result.mock_warnings)
        print(
            f"OK task {result.task_id} — {result.success_counts} message(s), {result.remain_points} point(s) left{when}"
        )
    return EXIT_OK


def _balance_domestic(args: argparse.Namespace) -> int:
    account, password, base_url, timeout = _connection(args)
    try:
        with DomesticClient(account, password, _userid(args), base_url, timeout=timeout) as client:
            info: PointsBalance = client.balance(fmt=args.fmt or "xml")
    except IpyyError as exc:
        return _print_raised_error(exc, base_url, sys.stderr)
    if args.json:
        print(
            json.dumps(
                {"pay_type": info.pay_type, "points": info.points, "send_total": info.send_total}, ensure_ascii=False
            )
        )
    else:
        print(f"points {info.points} ({info.pay_type}), {info.send_total} recharged in total")
    return EXIT_OK


def _cmd_balance(args: argparse.Namespace) -> int:
    if args.via == "domestic":
        return _balance_domestic(args)
    if args.fmt is not None:
        raise UsageError("--format is a --via domestic option (sms.aspx or smsJson.aspx)")
    client, base_url = _http_client(args)
    try:
        with client:
            info: Balance = client.balance()
    except IpyyError as exc:
        return _print_raised_error(exc, base_url, sys.stderr)
    if args.json:
        print(json.dumps({"pay_type": info.pay_type, "balance": str(info.balance)}, ensure_ascii=False))
    else:
        print(f"balance {info.balance} ({info.pay_type})")
    return EXIT_OK


def _cmd_reports(args: argparse.Namespace) -> int:
    client, base_url = _http_client(args)
    try:
        with client:
            items = client.status_reports(task_id=args.task, limit=args.limit, fmt=args.fmt)
            args.pulled = len(items)
    except IpyyError as exc:
        code = _print_raised_error(exc, base_url, sys.stderr)
        if isinstance(exc, ReportsNotAllowed):
            print("hint: an account with a push URL gets its reports there: see `ipyy listen`.", file=sys.stderr)
        return code
    if args.json:
        print(json.dumps([item_to_json(r) for r in items], ensure_ascii=False))
    elif items:
        print(format_table(REPORT_HEADER, [_report_row(r) for r in items]))
    else:
        print("no reports waiting")
    return EXIT_OK


def _cmd_uplinks(args: argparse.Namespace) -> int:
    client, base_url = _http_client(args)
    try:
        with client:
            items = client.uplinks(limit=args.limit, fmt=args.fmt)
            args.pulled = len(items)
    except IpyyError as exc:
        return _print_raised_error(exc, base_url, sys.stderr)
    if args.json:
        print(json.dumps([item_to_json(u) for u in items], ensure_ascii=False))
    elif items:
        print(format_table(UPLINK_HEADER, [_uplink_row(u) for u in items]))
    else:
        print("no uplinks waiting")
    return EXIT_OK


def _cmd_passwd(args: argparse.Namespace) -> int:
    client, base_url = _http_client(args)
    new = args.new_password
    if new is None:
        new = getpass.getpass("new password: ")
        if getpass.getpass("again: ") != new:
            raise UsageError("the two passwords differ; nothing changed")
    if not 1 <= len(new) <= 20:
        raise UsageError("the new password must be 1-20 characters")
    try:
        with client:
            client.change_password(new)
    except IpyyError as exc:
        return _print_raised_error(exc, base_url, sys.stderr)
    if args.json:
        print(json.dumps({"ok": True}))
    else:
        print(f"password changed for {client.account}; update {ENV_PASSWORD} (HTTP and SOAP use the new one now)")
    return EXIT_OK


def _cmd_listen(args: argparse.Namespace) -> int:
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from ipyy_client.push import push_receiver

    def show(items: list[Report | Uplink]) -> None:
        for item in items:
            print(json.dumps(item_to_json(item), ensure_ascii=False) if args.json else item_line(item), flush=True)

    class StderrLog(WSGIRequestHandler):
        def log_message(self, format: str, *log_args: Any) -> None:  # noqa: A002 - the stdlib's name
            print(f"{self.address_string()} {format % log_args}", file=sys.stderr, flush=True)

    try:
        server = make_server(args.host, args.port, push_receiver(show), handler_class=StderrLog)
    except OSError as exc:
        print(f"ipyy listen: error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_TRANSPORT
    host, port = server.server_address[:2]
    print(f"listening on http://{host!s}:{port}/ (the account's push URL); Ctrl-C to stop", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        server.server_close()
    return EXIT_OK


# --- ipyy check (conformance check) -------------------------------------------------


def _cmd_check(args: argparse.Namespace) -> int:
    from ipyy_client.check import run_checks

    account, password, base_url, timeout = _connection(args)
    report = run_checks(
        base_url, account, password, userid=_userid(args), timeout=timeout, include_uplinks=args.include_uplinks
    )
    if args.json:
        print(json.dumps([r.to_json() for r in report.results], ensure_ascii=False))
    else:
        rows = [[r.name, r.result, r.detail.replace("\n", " ")] for r in report.results]
        print(format_table(["CHECK", "RESULT", "DETAIL"], rows))
        counts = {k: sum(r.result == k for r in report.results) for k in ("PASS", "FAIL", "SKIP")}
        print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped against {report.base_url}")
    if report.transport_error is not None:
        print(f"error: stopped, no reply from {report.base_url}: {report.transport_error}", file=sys.stderr)
        if "ipyy-mock serve" not in str(report.transport_error):
            print(
                f"hint: is the server running at {report.base_url}? For the offline mock start it with "
                f"`ipyy-mock serve`, or fix --base-url / {ENV_BASE_URL}.",
                file=sys.stderr,
            )
    return report.exit_code


# --- end ipyy check ----------------------------------------------------------------


# --- entry point ------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ipyy``; returns the exit code (argparse's own exits are turned into a return too)."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:  # no command: say which there are (the help lists them), a usage error
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        code: int = args.func(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not in the interpreter's exit
        return code
    except UsageError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:  # e.g. a bad --base-url, or text XML cannot carry
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _closed_output(args)


#: The exit status of a command whose output was closed (``| head``): 128 + SIGPIPE, as a shell reports it.
EXIT_PIPE = 141


def _closed_output(args: argparse.Namespace) -> int:
    """The reader of stdout went away (``ipyy reports | head -1``): stop quietly, no traceback.

    stdout is pointed at /dev/null so that the interpreter's final flush cannot fail again. A pull has taken
    its items from the gateway's queue, so one line (stderr) says that those not printed are gone.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    pulled = getattr(args, "pulled", 0)
    if pulled:
        what = "reports" if args.command == "reports" else "uplinks"
        try:
            print(
                f"ipyy {args.command}: the output was closed; some of the {pulled} {what} pulled were not printed, "
                f"and the gateway hands each out once: pull only what you read with --max N",
                file=sys.stderr,
            )
        except OSError:
            pass
    return EXIT_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
