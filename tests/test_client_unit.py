"""Offline unit tests of the client: errors, SendResult, SOAP mapping and CLI.

No mock server here: a tiny http.server thread plays the gateway with canned
replies, so wire failures (Faults, garbage, timeouts) can be produced at will.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import FrozenInstanceError
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from lxml import etree

import ipyy_client
from ipyy_client import IpyyError, ResultCode, SendResult, SoapClient, cli, errors
from ipyy_client.soap import _document, join_msisdns
from support.net import LoopbackHTTPServer, QuietHandler, closed_port

TNS = "http://tempuri.org/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
PASSWORD = "pa55-w0rd!"


# --- a canned gateway --------------------------------------------------------------


class CannedServer:
    """An HTTP server thread answering every POST with ``self.reply`` and recording the requests."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.reply: tuple[int, str, bytes] = (200, "text/xml; charset=utf-8", b"")
        self.delay = 0.0
        outer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append((self.path, dict(self.headers), body))
                if outer.delay:
                    time.sleep(outer.delay)
                status, ctype, payload = outer.reply
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = LoopbackHTTPServer(Handler)
        self.base_url = self.httpd.base_url

    def stop(self) -> None:
        self.httpd.close()

    def last_body(self) -> etree._Element:
        return etree.fromstring(self.requests[-1][2])


@pytest.fixture
def gateway():
    server = CannedServer()
    yield server
    server.stop()


def result_xml(
    op: str = "SendI18NSms",
    version: int = 11,
    status: str = "OK",
    description: str = "操作成功",
    msg_id: int = 1000123,
    balance: str = "99.95",
    amount: str = "0.05",
    count: int = 1,
    errors_: tuple[str, ...] = (),
) -> tuple[int, str, bytes]:
    ns = SOAP11 if version == 11 else SOAP12
    ctype = "text/xml; charset=utf-8" if version == 11 else "application/soap+xml; charset=utf-8"
    errs = "".join(f"<string>{e}</string>" for e in errors_)
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}"><soap:Body>'
        f'<{op}Response xmlns="{TNS}"><{op}Result><StatusCode>{status}</StatusCode>'
        f"<Description>{description}</Description><MsgId>{msg_id}</MsgId><Balance>{balance}</Balance>"
        f"<BillingAmount>{amount}</BillingAmount><BillingCount>{count}</BillingCount>"
        f"<Errors>{errs}</Errors></{op}Result></{op}Response></soap:Body></soap:Envelope>"
    )
    return 200, ctype, body.encode("utf-8")


def fault11(code: str = "soap:Client", text: str = "Server was unable to read request.") -> tuple[int, str, bytes]:
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP11}"><soap:Body><soap:Fault>'
        f"<faultcode>{code}</faultcode><faultstring>{text}</faultstring></soap:Fault></soap:Body></soap:Envelope>"
    )
    return 500, "text/xml; charset=utf-8", body.encode()


def fault12(text: str = "bad request") -> tuple[int, str, bytes]:
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP12}"><soap:Body><soap:Fault>'
        f"<soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code>"
        f'<soap:Reason><soap:Text xml:lang="en">{text}</soap:Text></soap:Reason></soap:Fault></soap:Body></soap:Envelope>'
    )
    return 500, "application/soap+xml; charset=utf-8", body.encode()


def field(root: etree._Element, name: str) -> etree._Element | None:
    return root.find(f".//{{{TNS}}}{name}")


# --- errors ------------------------------------------------------------------------


@pytest.mark.parametrize("code", [c for c in ResultCode if c is not ResultCode.OK], ids=lambda c: c.name)
def test_one_exception_class_per_code(code: ResultCode) -> None:
    cls = getattr(errors, code.name)
    assert cls.__name__ == code.name
    assert cls.code is code
    assert issubclass(cls, IpyyError)
    assert errors.error_for(code) is cls
    assert cls.hint
    exc = cls()
    assert exc.code is code and exc.description == code.description and exc.result is None
    assert str(code.code) in str(exc) and code.name in str(exc)


def test_error_for_ok_is_refused() -> None:
    with pytest.raises(ValueError):
        errors.error_for(ResultCode.OK)
    assert not hasattr(errors, "OK")


def test_wire_errors_are_ipyy_errors_without_code() -> None:
    for cls in (errors.TransportError, errors.ProtocolError, errors.SoapFault):
        assert issubclass(cls, IpyyError)
        assert cls.code is None
    fault = errors.SoapFault("soap:Client", "nope")
    assert (fault.faultcode, fault.faultstring) == ("soap:Client", "nope")
    assert "soap:Client" in str(fault) and "nope" in str(fault)
    proto = errors.ProtocolError("bad", status_code=502, body=b"x")
    assert proto.status_code == 502 and proto.body == b"x" and proto.description == "bad"


# --- SendResult --------------------------------------------------------------------


def make_result(status: ResultCode = ResultCode.OK, errors_: tuple[str, ...] = ()) -> SendResult:
    return SendResult(
        status,
        status.description,
        7 if status is ResultCode.OK else 0,
        Decimal("99.95"),
        Decimal("0.05"),
        1,
        list(errors_),
    )


def test_send_result_ok_chains() -> None:
    result = make_result()
    assert result.ok
    assert result.raise_for_status() is result
    assert result.task_id == 7
    assert result.errors == ()
    with pytest.raises(FrozenInstanceError):
        result.msg_id = 8  # type: ignore[misc]


def test_raise_for_status_raises_the_named_class() -> None:
    result = make_result(ResultCode.MsisdnBlack, ("8613800000002:MsisdnBlack",))
    assert not result.ok
    with pytest.raises(errors.MsisdnBlack) as info:
        result.raise_for_status()
    exc = info.value
    assert exc.result is result and exc.code is ResultCode.MsisdnBlack
    assert exc.description == "黑名单的手机号码"
    assert "8613800000002:MsisdnBlack" in str(exc)
    with pytest.raises(IpyyError):
        make_result(ResultCode.AmountNotEnough).raise_for_status()


def test_recipient_errors_pairs() -> None:
    result = make_result(errors_=("8613800000002:MsisdnBlack", " 8613800000003 : MsisdnNoChannel", "x:Bogus", "junk"))
    assert result.recipient_errors() == [
        ("8613800000002", ResultCode.MsisdnBlack),
        ("8613800000003", ResultCode.MsisdnNoChannel),
        ("x", None),
        ("junk", None),
    ]


# --- msisdns -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, wire",
    [
        ("8613800138000", "8613800138000"),
        (" 8613800138000 , 8613900139000,, ", "8613800138000,8613900139000"),
        (["8613800138000", " 8613900139000 "], "8613800138000,8613900139000"),
        (["8613800138000,8613900139000", 447700900123], "8613800138000,8613900139000,447700900123"),
        ((n for n in ["1", "2"]), "1,2"),
        ([], ""),
        ("", ""),
    ],
)
def test_join_msisdns(given, wire) -> None:
    assert join_msisdns(given) == wire


# --- client construction -------------------------------------------------------------


def test_wsdl_parsed_once_and_endpoint() -> None:
    a = SoapClient("a", PASSWORD, "http://example.invalid/")
    b = SoapClient("a", PASSWORD, "http://example.invalid", soap_version=12)
    assert a._client.wsdl is b._client.wsdl is _document()
    assert a.endpoint == "http://example.invalid/WebService.asmx"
    assert PASSWORD not in repr(a)
    assert SoapClient("a", "b").endpoint == "https://dx.ipyy.net/WebService.asmx"


@pytest.mark.parametrize("kwargs", [{"soap_version": 13}, {"base_url": "localhost:8080"}, {"base_url": ""}])
def test_bad_construction(kwargs) -> None:
    with pytest.raises(ValueError):
        SoapClient("a", "b", **kwargs)


def test_public_exports() -> None:
    for name in (
        "SoapClient",
        "SendResult",
        "ResultCode",
        "IpyyError",
        "segment_count",
        "predict_cost",
        "utf16_units",
        "price_for",
    ):
        assert hasattr(ipyy_client, name), name


def test_context_manager_closes_own_session_not_a_borrowed_one() -> None:
    import requests

    own = SoapClient("a", "b", "http://x.invalid")
    closed = []
    own._session.close = lambda: closed.append(True)  # type: ignore[method-assign]
    with own:
        pass
    assert closed == [True]
    session = requests.Session()
    session.close = lambda: closed.append("borrowed")  # type: ignore[method-assign]
    with SoapClient("a", "b", "http://x.invalid", session=session):
        pass
    assert closed == [True]


# --- over a canned wire (both flavours: SoapClient and AsyncSoapClient, tests/flavours.py) ---------


def test_send_maps_reply_and_builds_request(flavour, gateway: CannedServer) -> None:
    gateway.reply = result_xml(errors_=("8613800000002:MsisdnBlack",))
    with flavour.soap("demo", PASSWORD, gateway.base_url + "/") as client:
        result = client.send_i18n_sms(["8613800138000", " 8613800000002"], "测试【华信】")
    assert result == SendResult(
        ResultCode.OK, "操作成功", 1000123, Decimal("99.95"), Decimal("0.05"), 1, ("8613800000002:MsisdnBlack",)
    )
    assert isinstance(result.balance, Decimal)
    path, headers, _ = gateway.requests[-1]
    assert path == "/WebService.asmx"
    assert headers["SOAPAction"].strip('"') == "http://tempuri.org/SendI18NSms"
    root = gateway.last_body()
    assert root.tag == f"{{{SOAP11}}}Envelope"
    assert field(root, "userName").text == "demo"
    assert field(root, "password").text == PASSWORD
    assert field(root, "Msisdns").text == "8613800138000,8613800000002"
    assert field(root, "SMSContent").text == "测试【华信】"
    plan = field(root, "PlanSendTime")
    assert plan is None or plan.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
    assert field(root, "ExtNumber") is None


def test_send_hybrid_soap12_with_time_and_ext(flavour, gateway: CannedServer) -> None:
    gateway.reply = result_xml("SendHybridSms", version=12, msg_id=5, balance="99.90", amount="0.10", count=2)
    at = datetime(2026, 12, 1, 9, 0, 0, 123456)
    with flavour.soap("demo", PASSWORD, gateway.base_url, soap_version=12) as client:
        result = client.send_hybrid_sms("13800138000", "x" * 71 + "【华信】", plan_send_time=at, ext_number=12)
    assert (result.msg_id, result.billing_count, result.billing_amount) == (5, 2, Decimal("0.10"))
    _, headers, _ = gateway.requests[-1]
    assert headers["Content-Type"].startswith("application/soap+xml")
    assert "http://tempuri.org/SendHybridSms" in headers["Content-Type"]
    root = gateway.last_body()
    assert root.tag == f"{{{SOAP12}}}Envelope"
    assert root.find(f".//{{{TNS}}}SendHybridSms") is not None
    assert field(root, "PlanSendTime").text == "2026-12-01T09:00:00"  # naive: platform time, whole seconds
    assert field(root, "ExtNumber").text == "12"


def test_aware_plan_send_time_keeps_its_offset(flavour, gateway: CannedServer) -> None:
    gateway.reply = result_xml()
    at = datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    flavour.soap("demo", PASSWORD, gateway.base_url).send_i18n_sms("8613800138000", "x【y】", plan_send_time=at)
    assert field(gateway.last_body(), "PlanSendTime").text == "2026-12-01T09:00:00+08:00"


def test_non_ok_status_is_returned_not_raised(flavour, gateway: CannedServer) -> None:
    gateway.reply = result_xml(
        status="AmountNotEnough", description="额度不足", msg_id=0, balance="0.01", amount="0", count=0
    )
    result = flavour.soap("demo", PASSWORD, gateway.base_url).send_i18n_sms("8613800138000", "x【y】")
    assert result.status is ResultCode.AmountNotEnough and not result.ok
    with pytest.raises(errors.AmountNotEnough):
        result.raise_for_status()


def test_transport_error_on_closed_port(
    flavour,
) -> None:
    port = closed_port()
    client = flavour.soap("demo", PASSWORD, f"http://127.0.0.1:{port}")
    with pytest.raises(errors.TransportError) as info:
        client.send_i18n_sms("8613800138000", "x【y】")
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message
    assert "refused" in message.lower()
    assert "ipyy-mock serve" in message
    assert PASSWORD not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_transport_error_on_timeout(flavour, gateway: CannedServer) -> None:
    gateway.reply = result_xml()
    gateway.delay = 1.5
    client = flavour.soap("demo", PASSWORD, gateway.base_url, timeout=0.3)
    with pytest.raises(errors.TransportError) as info:
        client.send_i18n_sms("8613800138000", "x【y】")
    assert "0.3s" in str(info.value) and "not retried" in str(info.value)
    assert len(gateway.requests) == 1  # no automatic retry


@pytest.mark.parametrize("version, reply", [(11, fault11()), (12, fault12("Server was unable to read request."))])
def test_soap_fault(flavour, gateway: CannedServer, version: int, reply) -> None:
    gateway.reply = reply
    client = flavour.soap("demo", PASSWORD, gateway.base_url, soap_version=version)
    with pytest.raises(errors.SoapFault) as info:
        client.send_i18n_sms("8613800138000", "x【y】")
    exc = info.value
    assert exc.faultstring == "Server was unable to read request."
    assert exc.faultcode and ("Client" in exc.faultcode or "Sender" in exc.faultcode)


def test_fault_echoing_the_password_is_scrubbed(flavour, gateway: CannedServer) -> None:
    gateway.reply = fault11(text=f"bad password {PASSWORD}")
    with pytest.raises(errors.SoapFault) as info:
        flavour.soap("demo", PASSWORD, gateway.base_url).send_i18n_sms("8613800138000", "x【y】")
    assert PASSWORD not in str(info.value) and PASSWORD not in info.value.faultstring


@pytest.mark.parametrize(
    "reply, status",
    [
        ((200, "text/html", b"<html><body>It works!</body></html>"), 200),
        ((200, "text/plain", b"this is not xml at all"), 200),
        ((200, "text/xml", b""), 200),
        ((502, "text/plain", b"Bad Gateway"), 502),
        ((404, "text/html", b""), 404),
        ((500, "text/xml", b"<error>boom</error>"), 500),
        ((200, "text/xml", result_xml(status="NoSuchCode")[2]), 200),
        ((200, "text/xml", result_xml(balance="lots")[2]), 200),
        ((200, "text/xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'), 200),
    ],
    ids=["html", "text", "empty", "502", "404-empty", "500-xml", "unknown-code", "bad-decimal", "dtd"],
)
def test_garbage_reply_is_protocol_error(flavour, gateway: CannedServer, reply, status: int) -> None:
    gateway.reply = reply
    with pytest.raises(errors.ProtocolError) as info:
        flavour.soap("demo", PASSWORD, gateway.base_url).send_i18n_sms("8613800138000", "x【y】")
    assert info.value.status_code == status
    assert f"HTTP {status}" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_text_xml_cannot_carry_is_a_value_error_before_sending(flavour, gateway: CannedServer) -> None:
    with pytest.raises(ValueError, match="U\\+0001"):
        flavour.soap("demo", PASSWORD, gateway.base_url).send_i18n_sms("8613800138000", "a\x01【y】")
    with pytest.raises(ValueError) as info:
        flavour.soap("demo", "bad\x02pw", gateway.base_url).send_i18n_sms("8613800138000", "x【y】")
    assert "bad" not in str(info.value)
    assert gateway.requests == []


# --- CLI ---------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("IPYY_ACCOUNT", "IPYY_PASSWORD", "IPYY_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_cli_parses_send_options() -> None:
    args = cli.build_parser().parse_args(
        [
            "--account",
            "a",
            "send",
            "--to",
            "8613800138000,8613900139000",
            "--to",
            "447700900123",
            "--text",
            "hi【x】",
            "--hybrid",
            "--at",
            "2026-12-01 09:00:00",
            "--ext",
            "123",
            "--json",
            "--soap12",
            "--password",
            "p",
        ]
    )
    assert args.command == "send" and args.func is cli._cmd_send
    assert join_msisdns(args.to) == "8613800138000,8613900139000,447700900123"
    assert args.at == datetime(2026, 12, 1, 9, 0, 0)
    assert (args.ext, args.hybrid, args.json, args.soap12, args.via) == ("123", True, True, True, "soap")
    assert (args.account, args.password) == ("a", "p")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-12-01 09:00:00", datetime(2026, 12, 1, 9)),
        ("2026-12-01T09:00:00+08:00", datetime(2026, 12, 1, 9, tzinfo=timezone(timedelta(hours=8)))),
        ("2026-12-01T01:00:00Z", datetime(2026, 12, 1, 1, tzinfo=timezone.utc)),
        ("2026-12-01 09:00", datetime(2026, 12, 1, 9)),
    ],
)
def test_cli_time_formats(text: str, expected: datetime) -> None:
    assert cli.parse_send_time(text) == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["send", "--text", "x"],  # no --to
        ["send", "--to", "1"],  # no --text
        ["send", "--to", "1", "--text", "x", "--at", "tomorrow"],
        ["send", "--to", "1", "--text", "x", "--ext", "123456"],
        ["send", "--to", "1", "--text", "x", "--ext", "12a"],
        ["frobnicate"],
        [],
    ],
)
def test_cli_usage_errors_exit_2(argv, clean_env, capsys) -> None:
    assert cli.main(argv) == 2


def test_cli_missing_credentials_exit_2(clean_env, capsys) -> None:
    assert cli.main(["send", "--to", "8613800138000", "--text", "x【y】"]) == 2
    assert "IPYY_ACCOUNT" in capsys.readouterr().err
    assert cli.main(["--account", "a", "send", "--to", "8613800138000", "--text", "x【y】"]) == 2
    assert "IPYY_PASSWORD" in capsys.readouterr().err
    assert cli.main(["--account", "a", "--password", "p", "send", "--to", " , ", "--text", "x【y】"]) == 2


def test_cli_help_and_version_exit_0(capsys) -> None:
    assert cli.main(["--help"]) == 0
    assert cli.main(["send", "--help"]) == 0
    assert cli.main(["--version"]) == 0
    assert "0.1.0" in capsys.readouterr().out


def test_cli_env_fallbacks_and_human_output(gateway: CannedServer, clean_env, capsys) -> None:
    gateway.reply = result_xml(errors_=("8613800000002:MsisdnBlack",))
    clean_env.setenv("IPYY_ACCOUNT", "envacct")
    clean_env.setenv("IPYY_PASSWORD", PASSWORD)
    clean_env.setenv("IPYY_BASE_URL", gateway.base_url)
    assert cli.main(["send", "--to", "8613800138000", "--to", "8613800000002", "--text", "测试【华信】"]) == 0
    out = capsys.readouterr().out
    assert "OK task 1000123 — 1 segment(s), charged 0.05, balance 99.95" in out
    assert "8613800000002: MsisdnBlack (1109" in out
    root = gateway.last_body()
    assert field(root, "userName").text == "envacct" and field(root, "password").text == PASSWORD


def test_cli_options_override_env_and_work_after_the_command(gateway: CannedServer, clean_env, capsys) -> None:
    gateway.reply = result_xml(version=12)
    clean_env.setenv("IPYY_ACCOUNT", "envacct")
    clean_env.setenv("IPYY_PASSWORD", "envpw")
    clean_env.setenv("IPYY_BASE_URL", "http://127.0.0.1:1")
    rc = cli.main(
        [
            "send",
            "--account",
            "cliacct",
            "--password",
            "clipw",
            "--base-url",
            gateway.base_url,
            "--to",
            "8613800138000",
            "--text",
            "x【y】",
            "--soap12",
            "--json",
        ]
    )
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {
        "ok": True,
        "status": "OK",
        "code": 1,
        "description": "操作成功",
        "msg_id": 1000123,
        "balance": "99.95",
        "billing_amount": "0.05",
        "billing_count": 1,
        "errors": [],
    }
    root = gateway.last_body()
    assert root.tag == f"{{{SOAP12}}}Envelope"
    assert field(root, "userName").text == "cliacct" and field(root, "password").text == "clipw"


def test_cli_text_from_stdin(gateway: CannedServer, clean_env, monkeypatch, capsys) -> None:
    gateway.reply = result_xml()
    monkeypatch.setattr("sys.stdin", io.StringIO("第一行\n第二行【华信】\n"))
    assert (
        cli.main(
            [
                "--account",
                "a",
                "--password",
                "p",
                "--base-url",
                gateway.base_url,
                "send",
                "--to",
                "8613800138000",
                "--text",
                "-",
            ]
        )
        == 0
    )
    assert field(gateway.last_body(), "SMSContent").text == "第一行\n第二行【华信】"


def test_cli_vendor_error_exit_1(gateway: CannedServer, clean_env, capsys) -> None:
    gateway.reply = result_xml(
        status="MsisdnBlack",
        description="黑名单的手机号码",
        msg_id=0,
        balance="100.00",
        amount="0",
        count=0,
        errors_=("8613800000002:MsisdnBlack",),
    )
    argv = [
        "--account",
        "a",
        "--password",
        "p",
        "--base-url",
        gateway.base_url,
        "send",
        "--to",
        "8613800000002",
        "--text",
        "x【y】",
    ]
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    assert "MsisdnBlack (1109): 黑名单的手机号码" in captured.err
    assert "hint:" in captured.err and "blacklisted" in captured.err
    assert cli.main(argv + ["--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["status"], data["code"], data["ok"]) == ("MsisdnBlack", 1109, False)


def test_cli_password_error_hint_names_the_option(gateway: CannedServer, clean_env, capsys) -> None:
    gateway.reply = result_xml(
        status="PasswordError", description="密码错误", msg_id=0, balance="0", amount="0", count=0
    )
    assert (
        cli.main(
            [
                "--account",
                "a",
                "--password",
                "p",
                "--base-url",
                gateway.base_url,
                "send",
                "--to",
                "8613800138000",
                "--text",
                "x【y】",
            ]
        )
        == 1
    )
    assert "--password" in capsys.readouterr().err


def test_cli_transport_error_exit_3(clean_env, capsys) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    assert (
        cli.main(
            [
                "--account",
                "a",
                "--password",
                PASSWORD,
                "--base-url",
                url,
                "send",
                "--to",
                "8613800138000",
                "--text",
                "x【y】",
            ]
        )
        == 3
    )
    err = capsys.readouterr().err
    assert "ipyy-mock serve" in err and url in err and PASSWORD not in err


def test_cli_protocol_error_exit_3(gateway: CannedServer, clean_env, capsys) -> None:
    gateway.reply = (200, "text/html", b"<html>hello</html>")
    assert (
        cli.main(
            [
                "--account",
                "a",
                "--password",
                "p",
                "--base-url",
                gateway.base_url,
                "send",
                "--to",
                "8613800138000",
                "--text",
                "x【y】",
            ]
        )
        == 3
    )
    assert "hint:" in capsys.readouterr().err
