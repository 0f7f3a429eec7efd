"""``ipyy check``: passes against the real mock at no cost, and names what a tampered server breaks.

A tampering proxy (a tiny ``http.server`` in a thread) sits in front of the
mock and replaces chosen replies, so one test changes one thing and every
other check still talks to the real mock.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

from ipyy_client import HttpClient
from ipyy_client.check import (
    ABSENT_TASK_ID,
    CheckFailed,
    _Checker,
    diff_wsdl,
    normalise_wsdl,
    packaged_wsdl,
    run_checks,
)
from ipyy_client.cli import main
from support.mockproc import console_script
from support.net import LoopbackHTTPServer, QuietHandler, free_port

WSDL = packaged_wsdl().decode("utf-8")
ALL_CHECKS = [
    "wsdl",
    "balance",
    "soap11-send-empty",
    "soap12-send-empty",
    "soap11-hybrid-empty",
    "soap12-hybrid-empty",
    "http-send-empty",
    "domestic-send-empty-xml",
    "domestic-send-empty-json",
    "domestic-balance-xml",
    "domestic-balance-json",
    "reports-xml",
    "reports-json",
    "reports-xml-bad-password",
    "reports-json-bad-password",
    "uplinks-xml-bad-password",
    "uplinks-json-bad-password",
    "uplinks-xml",
    "uplinks-json",
]

Reply = tuple[int, str, bytes]


class Tamper:
    """An HTTP server that answers ``overrides[lowercased path]`` and forwards the rest to ``upstream``.

    Without an upstream every other request gets an HTML page (a wrong server).
    An override is a Reply or a function of the upstream's reply.
    """

    def __init__(self, upstream: str | None, overrides: dict[str, Reply | Callable[[Reply], Reply]]) -> None:
        tamper = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self.answer()

            def do_POST(self) -> None:
                self.answer()

            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                path = self.path.split("?")[0].lower()
                override = overrides.get(path)
                if override is None or callable(override):
                    reply = tamper.forward(self.command, self.path, body, self.headers)
                    if callable(override):
                        reply = override(reply)
                else:
                    reply = override
                status, ctype, data = reply
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.upstream = upstream
        self.server = LoopbackHTTPServer(Handler, listening=False)

    def forward(self, method: str, path: str, body: bytes | None, headers) -> Reply:
        if self.upstream is None:
            return 200, "text/html", b"<html><body>It works!</body></html>"
        request = urllib.request.Request(self.upstream + path, data=body, method=method)
        for name in ("Content-Type", "SOAPAction"):
            if headers.get(name):
                request.add_header(name, headers[name])
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return reply.status, reply.headers.get("Content-Type", ""), reply.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Content-Type", ""), exc.read()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def __enter__(self) -> "Tamper":
        self.server.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()


def wsdl_reply(text: str) -> Reply:
    return 200, "text/xml; charset=utf-8", text.encode("utf-8")


def run(capsys, base_url: str, account, *extra: str) -> tuple[int, str, str]:
    code = main(["check", "--base-url", base_url, "--account", account.name, "--password", account.password, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def rows(out: str) -> dict[str, tuple[str, str]]:
    """The table as {check: (result, detail)}."""
    table = {}
    for line in out.splitlines()[1:]:
        parts = re.split(r"\s{2,}", line, maxsplit=2)
        if len(parts) == 3 and parts[1] in ("PASS", "FAIL", "SKIP"):
            table[parts[0]] = (parts[1], parts[2])
    return table


# --- against the real mock ------------------------------------------------------------


def test_all_checks_pass_and_nothing_is_sent_or_charged(mock_server, account, capsys):
    before = mock_server.balance(account.name)
    code, out, err = run(capsys, mock_server.base_url, account)
    assert code == 0, out + err
    table = rows(out)
    assert list(table) == ALL_CHECKS
    assert {name: result for name, (result, _) in table.items() if result != "PASS"} == {
        "uplinks-xml": "SKIP",
        "uplinks-json": "SKIP",
    }
    assert "MsisdnEmpty" in table["soap12-send-empty"][1] and "charged 0" in table["soap11-send-empty"][1]
    assert "手机号码为空" in table["http-send-empty"][1]
    assert "--include-uplinks" in table["uplinks-xml"][1]
    assert "17 passed, 0 failed, 2 skipped" in out
    assert mock_server.balance(account.name) == before
    store = mock_server.platform().store
    try:
        assert store.messages(account=account.name) == []
    finally:
        store.close()


def test_json_output_with_credentials_from_the_environment(mock_server, account, capsys, monkeypatch):
    monkeypatch.setenv("IPYY_BASE_URL", mock_server.base_url)
    monkeypatch.setenv("IPYY_ACCOUNT", account.name)
    monkeypatch.setenv("IPYY_PASSWORD", account.password)
    assert main(["check", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in results] == ALL_CHECKS
    assert all(r["ok"] for r in results)
    assert all(set(r) == {"name", "ok", "detail", "skipped"} for r in results)
    assert [r["name"] for r in results if r["skipped"]] == ["uplinks-xml", "uplinks-json"]


def test_include_uplinks_pulls_one_per_format_and_shows_it(mock_server, capsys):
    account = mock_server.new_account()
    with HttpClient(account.name, account.password, base_url=mock_server.base_url) as client:
        client.send(["8613800000005"], "hi【华信】").raise_for_status()
    code, out, err = run(capsys, mock_server.base_url, account, "--include-uplinks")
    assert code == 0, out + err
    table = rows(out)
    assert table["uplinks-xml"][0] == table["uplinks-json"][0] == "PASS"
    assert "'TD'" in table["uplinks-xml"][1] + table["uplinks-json"][1]  # what was consumed is shown


def test_the_shape_checks_accept_real_non_empty_replies(mock_server, account):
    with HttpClient(account.name, account.password, base_url=mock_server.base_url) as client:
        task = client.send(["8613800138000", "8613800000001"], "hi【华信】").raise_for_status().task_id
    checker = _Checker(mock_server.base_url, account.name, account.password, "", 10)
    query = checker.form(action="query", statusNum="1", taskid=str(task))
    assert "DELIVRD" in checker.pull_xml("/statusApi.aspx", "statusbox", query) + checker.pull_json(
        "/statusJsonApi.aspx", "statusbox", query
    )
    assert ABSENT_TASK_ID < 1000001  # the mock's first task id: the filter matches nothing


def test_an_account_that_may_not_read_reports_still_passes(mock_server, capsys):
    account = mock_server.new_account(can_read_reports=False)
    code, out, err = run(capsys, mock_server.base_url, account)
    assert code == 0, out + err
    assert "may not read reports" in rows(out)["reports-json"][1]


# --- a tampered or wrong server -------------------------------------------------------

TAMPERED = {
    "minOccurs": (
        WSDL.replace(
            'minOccurs="0" maxOccurs="1" name="PlanSendTime"', 'minOccurs="1" maxOccurs="1" name="PlanSendTime"'
        ),
        ["PlanSendTime", "minOccurs is '1' in the served WSDL, '0' in the packaged one"],
    ),
    "enumeration": (
        WSDL.replace('<s:enumeration value="SubjectEmpty" />', ""),
        ["xs:enumeration[SubjectEmpty]: missing from the served WSDL"],
    ),
    "soapAction": (
        WSDL.replace(
            'soapAction="http://tempuri.org/SendHybridSms" style="document" />\n      '
            "<wsdl:input>\n        <soap12:body",
            'soapAction="http://tempuri.org/SendHybrid" style="document" />\n      <wsdl:input>\n        <soap12:body',
        ),
        ["wsdl:binding[WebServiceSoap12]/wsdl:operation[SendHybridSms]/soap12:operation: soapAction"],
    ),
    "order": (
        WSDL.replace(
            '<s:element minOccurs="0" maxOccurs="1" name="Msisdns" type="s:string" />\n'
            '          <s:element minOccurs="0" maxOccurs="1" name="SMSContent" type="s:string" />',
            '<s:element minOccurs="0" maxOccurs="1" name="SMSContent" type="s:string" />\n'
            '          <s:element minOccurs="0" maxOccurs="1" name="Msisdns" type="s:string" />',
        ),
        ["xs:complexType[SmsObject]/xs:sequence: order"],
    ),
    "type": (
        WSDL.replace('name="Balance" type="s:decimal"', 'name="Balance" type="s:double"'),
        ["xs:element[Balance]: type is 'xs:double' in the served WSDL, 'xs:decimal'"],
    ),
}


@pytest.mark.parametrize("change", sorted(TAMPERED))
def test_a_tampered_wsdl_fails_and_the_detail_names_the_difference(mock_server, account, capsys, change):
    text, expected = TAMPERED[change]
    assert text != WSDL
    with Tamper(
        mock_server.base_url,
        {
            "/webservice.asmx": lambda reply: (
                wsdl_reply(text) if reply[2].lstrip().startswith(b"<?xml") and b"definitions" in reply[2] else reply
            )
        },
    ) as proxy:
        code, out, err = run(capsys, proxy.base_url, account)
    assert code == 1, out + err
    table = rows(out)
    assert table["wsdl"][0] == "FAIL"
    for needle in expected:
        assert needle in table["wsdl"][1]
    assert [name for name, (result, _) in table.items() if result == "FAIL"] == ["wsdl"]


def test_a_wrong_json_error_shape_fails(mock_server, account, capsys):
    wrong = (200, "application/json; charset=utf-8", '{"error":"1005","remark":"密码错误","statusbox":[]}'.encode())
    with Tamper(mock_server.base_url, {"/statusjsonapi.aspx": wrong}) as proxy:
        code, out, err = run(capsys, proxy.base_url, account)
    assert code == 1, out + err
    table = rows(out)
    assert table["reports-json-bad-password"][0] == "FAIL"
    assert (
        'expected exactly {"error":"1005","remark":"密码错了","statusbox":[]}' in table["reports-json-bad-password"][1]
    )
    assert table["reports-json"][0] == "FAIL" and "refused" in table["reports-json"][1]
    assert table["reports-xml"][0] == "PASS"


def test_a_wrong_xml_reply_fails(mock_server, account, capsys):
    def no_declaration(reply: Reply) -> Reply:
        return (
            reply[0],
            reply[1],
            reply[2]
            .split(b"\n", 1)[1]
            .replace(b"<errorstatus>", b"<ErrorStatus>")
            .replace(b"</errorstatus>", b"</ErrorStatus>"),
        )

    def extra_field(reply: Reply) -> Reply:
        return reply[0], reply[1], reply[2].replace(b"<message>", b"<currency>CNY</currency><message>")

    with Tamper(mock_server.base_url, {"/callapi.aspx": no_declaration, "/i18nsms.aspx": extra_field}) as proxy:
        code, out, err = run(capsys, proxy.base_url, account)
    assert code == 1, out + err
    table = rows(out)
    assert table["uplinks-xml-bad-password"][0] == "FAIL" and "<?xml" in table["uplinks-xml-bad-password"][1]
    assert table["balance"][0] == "FAIL" and "unexpected currency" in table["balance"][1]
    assert table["http-send-empty"][0] == "PASS"  # the client ignores an extra element; the send check uses it


def test_a_server_that_is_not_the_gateway_fails_every_check(account, capsys):
    broken = TAMPERED["enumeration"][0]
    with Tamper(None, {"/webservice.asmx": wsdl_reply(broken)}) as proxy:
        # WebService.asmx always answers the tampered WSDL (SOAP posts too), everything else an HTML page
        code, out, err = run(capsys, proxy.base_url, account)
    assert code == 1, out + err
    table = rows(out)
    assert "SubjectEmpty" in table["wsdl"][1]
    assert [r for r, _ in table.values()] == ["FAIL"] * 17 + ["SKIP", "SKIP"]
    assert "not XML" in table["balance"][1] or "<?xml" in table["balance"][1]


def test_a_wsdl_with_a_doctype_is_refused(mock_server, account, capsys):
    evil = WSDL.replace(
        '<?xml version="1.0" encoding="utf-8"?>',
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    )
    with Tamper(
        mock_server.base_url,
        {"/webservice.asmx": lambda reply: wsdl_reply(evil) if b"definitions" in reply[2] else reply},
    ) as proxy:
        code, out, _ = run(capsys, proxy.base_url, account)
    assert code == 1
    assert rows(out)["wsdl"] == ("FAIL", "WSDL has a DOCTYPE (refused: DTDs and entities are never processed)")


def test_connection_refused_is_exit_3_and_suggests_the_mock(account, capsys):
    code, out, err = run(capsys, f"http://127.0.0.1:{free_port()}", account)
    assert code == 3
    assert rows(out)["wsdl"][0] == "FAIL" and "Connection refused" in out
    assert list(rows(out)) == ["wsdl"]  # the run stops at the first request without a reply
    assert "ipyy-mock serve" in err


def test_missing_credentials_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.delenv("IPYY_ACCOUNT", raising=False)
    monkeypatch.delenv("IPYY_PASSWORD", raising=False)
    assert main(["check", "--base-url", "http://127.0.0.1:1"]) == 2
    assert "no account" in capsys.readouterr().err


# --- the normaliser -------------------------------------------------------------------


def test_prefixes_formatting_comments_and_addresses_do_not_count():
    text = WSDL
    text = re.sub(r"<(/?)s:", r"<\1", text).replace('"s:', '"')  # XSD as the default namespace, no prefix
    text = text.replace("<schema ", '<schema xmlns="http://www.w3.org/2001/XMLSchema" ', 1)
    text = text.replace('xmlns:tns="http://tempuri.org/"', 'xmlns:t="http://tempuri.org/"').replace('"tns:', '"t:')
    text = text.replace("https://dx.ipyy.net/WebService.asmx", "http://10.0.0.1:8080/WebService.asmx")
    text = re.sub(r">\s+<", "><", text)  # no indentation
    text = text.replace("<wsdl:types>", "<!-- generated --><wsdl:documentation>SMS</wsdl:documentation><wsdl:types>")
    text = text.replace(' minOccurs="1" maxOccurs="1" name="MsgId"', ' name="MsgId"')  # the defaults, left out
    assert text != WSDL
    assert diff_wsdl(normalise_wsdl(packaged_wsdl()), normalise_wsdl(text.encode())) == []


def test_an_undeclared_prefix_and_garbage_are_reported():
    text = WSDL.replace('type="s:long"', 'type="q:long"')
    [line] = diff_wsdl(normalise_wsdl(packaged_wsdl()), normalise_wsdl(text.encode()))
    assert "MsgId" in line and "'?q:long'" in line
    with pytest.raises(CheckFailed, match="not well-formed"):
        normalise_wsdl(b"<wsdl:definitions")
    with pytest.raises(CheckFailed, match="not a WSDL"):
        normalise_wsdl(b"<html/>")


def test_run_checks_is_usable_from_python(mock_server, account):
    seen = []
    report = run_checks(mock_server.base_url, account.name, account.password, on_result=seen.append)
    assert report.exit_code == 0 and report.transport_error is None
    assert [r.name for r in seen] == ALL_CHECKS


# --- the console script ---------------------------------------------------------------


def test_the_ipyy_console_script(mock_server, account):
    env = {**os.environ, "IPYY_ACCOUNT": account.name, "IPYY_PASSWORD": account.password}
    done = subprocess.run(
        [console_script("ipyy"), "check", "--base-url", mock_server.base_url, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(r["ok"] for r in json.loads(done.stdout))
    assert account.password not in done.stdout + done.stderr
