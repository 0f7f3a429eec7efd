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
    "soap11-sendsms-empty",
    "soap12-sendsms-empty",
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
SOAP_CHECKS = [name for name in ALL_CHECKS if name.startswith("soap")]
#: The result type (xsi:type) each SOAP check's reply names (docs/contract.md §2): SendSms, SendI18NSms, SendHybridSms.
SOAP_RESULT_TYPES = {"sendsms": "SendResult", "send": "I18NSendResult", "hybrid": "SendResult"}

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
    wsdl_detail = table["wsdl"][1]
    assert wsdl_detail.startswith("same contract as the packaged WSDL: namespace http://www.yysms.com/, ")
    assert "SendSms, SendMms, SendI18NSms, SendHybridSms, HybridSend" in wsdl_detail
    for version in (11, 12):
        for kind, result_type in SOAP_RESULT_TYPES.items():
            detail = table[f"soap{version}-{kind}-empty"][1]
            assert detail.startswith(
                f"MsisdnEmpty '手机号码为空', {result_type}, no MsgId, Balance 100.00, Amount 2000,"
            )
            assert detail.endswith("charged 0 (0 segments)")
    assert "手机号码为空" in table["http-send-empty"][1]
    assert "--include-uplinks" in table["uplinks-xml"][1]
    assert "19 passed, 0 failed, 2 skipped" in out
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

SCHEMA = "wsdl:types/xs:schema[tns]/"
TAMPERED = {
    "minOccurs": (
        WSDL.replace('minOccurs="0" maxOccurs="1" name="MsgId"', 'minOccurs="1" maxOccurs="1" name="MsgId"'),
        [
            "2 difference(s) from the packaged WSDL",
            SCHEMA + "xs:complexType[SendResultBase]/xs:sequence/xs:element[MsgId]: minOccurs is '1' in the served "
            "WSDL, '0' in the packaged one",
        ],
    ),
    "nillable": (
        WSDL.replace('name="PlanSendTime" nillable="true"', 'name="PlanSendTime"', 1),
        [SCHEMA + "xs:complexType[SmsObject]/xs:sequence/xs:element[PlanSendTime]: nillable is 'false' in the served"],
    ),
    "abstract": (
        WSDL.replace('<s:complexType name="SendResultBase" abstract="true">', '<s:complexType name="SendResultBase">'),
        # (the served value: absent, or 'false' once the normaliser fills XSD's default in)
        [SCHEMA + "xs:complexType[SendResultBase]: abstract is ", "in the served WSDL, 'true' in the packaged one"],
    ),
    "mark": (
        WSDL.replace('              <s:element minOccurs="0" maxOccurs="1" name="Mark" type="s:string" />\n', ""),
        ["xs:complexType[I18NSendResult]/xs:complexContent/xs:extension/xs:sequence/xs:element[Mark]: missing from"],
    ),
    "result-type": (
        WSDL.replace(
            'name="SendI18NSmsResult" type="tns:SendResultBase"', 'name="SendI18NSmsResult" type="tns:SendResult"'
        ),
        ["xs:element[SendI18NSmsResult]: type is 'tns:SendResult' in the served WSDL, 'tns:SendResultBase'"],
    ),
    "enumeration": (
        WSDL.replace('<s:enumeration value="SubjectEmpty" />', ""),
        ["xs:enumeration[SubjectEmpty]: missing from the served WSDL"],
    ),
    "soapAction": (
        WSDL.replace(
            'soapAction="http://www.yysms.com/SendHybridSms" style="document" />\n      '
            "<wsdl:input>\n        <soap12:body",
            'soapAction="http://www.yysms.com/SendHybrid" style="document" />\n      <wsdl:input>\n        <soap12:body',
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


def served(text: str):
    """An override of WebService.asmx that serves ``text`` as the WSDL and lets SOAP calls reach the mock."""
    return lambda reply: wsdl_reply(text) if b"definitions" in reply[2] else reply


PORT_TYPE_HYBRID_SEND = (
    '    <wsdl:operation name="HybridSend">\n'
    '      <wsdl:input message="tns:HybridSendSoapIn" />\n'
    '      <wsdl:output message="tns:HybridSendSoapOut" />\n'
    "    </wsdl:operation>\n"
    "  </wsdl:portType>"
)


@pytest.mark.parametrize(
    "text, detail",
    [
        (
            WSDL.replace("http://www.yysms.com/", "http://tempuri.org/"),
            "targetNamespace is 'http://tempuri.org/', expected 'http://www.yysms.com/' (the vendor's namespace)",
        ),
        (
            WSDL.replace(PORT_TYPE_HYBRID_SEND, "  </wsdl:portType>"),
            "operation(s) HybridSend missing (the served WSDL has SendSms, SendMms, SendI18NSms, SendHybridSms)",
        ),
        (  # both: the namespace is named first
            WSDL.replace(PORT_TYPE_HYBRID_SEND, "  </wsdl:portType>").replace("http://www.yysms.com/", "urn:other"),
            "targetNamespace is 'urn:other', expected 'http://www.yysms.com/' (the vendor's namespace)",
        ),
    ],
    ids=["old-namespace", "missing-operation", "both"],
)
def test_the_wsdl_check_names_the_namespace_and_the_operations_first(mock_server, account, capsys, text, detail):
    assert text != WSDL
    with Tamper(mock_server.base_url, {"/webservice.asmx": served(text)}) as proxy:
        code, out, err = run(capsys, proxy.base_url, account)
    assert code == 1, out + err
    table = rows(out)
    assert table["wsdl"] == ("FAIL", detail)
    assert [name for name, (result, _) in table.items() if result == "FAIL"] == ["wsdl"]


def soap_reply(operation: str | None, old: bytes, new: bytes):
    """An override of WebService.asmx that replaces ``old`` by ``new`` in the SOAP replies of ``operation``
    (None: every operation); the WSDL and everything else reach the client as the mock sent them."""

    def change(reply: Reply) -> Reply:
        status, ctype, body = reply
        if b"definitions" in body or (operation is not None and f"<{operation}Response ".encode() not in body):
            return reply
        assert old in body, body
        return status, ctype, body.replace(old, new)

    return change


SENDSMS = ["soap11-sendsms-empty", "soap12-sendsms-empty"]
SEND = ["soap11-send-empty", "soap12-send-empty"]
HYBRID = ["soap11-hybrid-empty", "soap12-hybrid-empty"]


@pytest.mark.parametrize(
    "override, failing, needle",
    [
        (
            soap_reply("SendSms", b"<SuccessCounts>", b"<MsgId>1000001</MsgId><SuccessCounts>"),
            SENDSMS,
            "a refused send has MsgId '1000001', expected none (no task)",
        ),
        (  # present but empty is still present: ASMX leaves a null MsgId out
            soap_reply("SendSms", b"<SuccessCounts>", b"<MsgId></MsgId><SuccessCounts>"),
            SENDSMS,
            "a refused send has MsgId '', expected none (no task)",
        ),
        (
            soap_reply("SendI18NSms", b'xsi:type="I18NSendResult"', b'xsi:type="SendResult"'),
            SEND,
            "the result is a SendResult, expected I18NSendResult (xsi:type)",
        ),
        (
            soap_reply("SendSms", b"<SendSmsResult>", b'<SendSmsResult xsi:type="SendResult">'),
            [],
            "",
        ),
        (
            soap_reply("SendHybridSms", b' xsi:type="SendResult"', b""),
            HYBRID,
            "The type definition is abstract",
        ),
        (
            soap_reply(None, b"<StatusCode>MsisdnEmpty</StatusCode>", b"<StatusCode>MsisdnNone</StatusCode>"),
            SOAP_CHECKS,
            "StatusCode MsisdnNone ('手机号码为空'), expected MsisdnEmpty",
        ),
        (
            soap_reply("SendI18NSms", b"<BillingAmount>0</BillingAmount>", b"<BillingAmount>0.05</BillingAmount>"),
            SEND,
            "a refused send was charged: BillingAmount 0.05",
        ),
        (
            soap_reply(
                "SendHybridSms",
                b"<BillingAmount>0</BillingAmount>",
                b"<BillingAmount>0</BillingAmount><Errors><string>1:MsisdnEmpty</string></Errors>",
            ),
            HYBRID,
            "Errors should be empty, got ['1:MsisdnEmpty']",
        ),
        (
            soap_reply(None, b"http://www.yysms.com/", b"http://tempuri.org/"),
            SOAP_CHECKS,
            "tempuri",
        ),
    ],
    ids=[
        "msgid",
        "empty-msgid",
        "wrong-xsi-type",
        "declared-xsi-type",
        "no-xsi-type",
        "unknown-code",
        "charged",
        "errors",
        "old-namespace",
    ],
)
def test_a_wrong_soap_reply_fails_its_checks_only(mock_server, account, capsys, override, failing, needle):
    with Tamper(mock_server.base_url, {"/webservice.asmx": override}) as proxy:
        code, out, err = run(capsys, proxy.base_url, account)
    table = rows(out)
    assert [name for name, (result, _) in table.items() if result == "FAIL"] == failing, out
    assert code == (1 if failing else 0), out + err
    for name in failing:
        assert needle in table[name][1], table[name][1]
    if needle.startswith("StatusCode"):
        # a code the client does not know is read (open codes), not refused as a reply off the contract
        assert all("does not match the WSDL" not in table[name][1] for name in failing)


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
    assert [r for r, _ in table.values()] == ["FAIL"] * 19 + ["SKIP", "SKIP"]
    assert list(table) == ALL_CHECKS
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
    text = text.replace('xmlns:tns="http://www.yysms.com/"', 'xmlns:t="http://www.yysms.com/"').replace('"tns:', '"t:')
    text = text.replace("https://dx.ipyy.net/webservice.asmx", "http://10.0.0.1:8080/WebService.asmx")
    text = re.sub(r">\s+<", "><", text)  # no indentation
    text = text.replace("<wsdl:types>", "<!-- generated --><wsdl:documentation>SMS</wsdl:documentation><wsdl:types>")
    text = text.replace(' minOccurs="1" maxOccurs="1" name="PayType"', ' name="PayType"')  # the defaults, left out
    text = text.replace('maxOccurs="1" name="PlanSendTime" nillable="true"', 'name="PlanSendTime" nillable="1"')
    assert text != WSDL and "10.0.0.1" in text and "tns:" not in text and 'name="PayType" type' in text
    assert diff_wsdl(normalise_wsdl(packaged_wsdl()), normalise_wsdl(text.encode())) == []


@pytest.mark.parametrize(
    "old, new",
    [
        (' mixed="false"', ""),  # xs:complexContent's mixed, false unless said
        ('<s:complexType name="SmsObject">', '<s:complexType name="SmsObject" abstract="false">'),
        ('<s:complexType name="SmsObject">', '<s:complexType name="SmsObject" mixed="false">'),
    ],
    ids=["mixed-left-out", "abstract-written", "mixed-written"],
)
def test_xsd_boolean_defaults_do_not_count(old, new):
    """``abstract`` and ``mixed`` default to false: writing the default or leaving it out is the same contract
    (the normaliser's own rule, as for minOccurs, maxOccurs and nillable)."""
    text = WSDL.replace(old, new)
    assert text != WSDL
    assert diff_wsdl(normalise_wsdl(packaged_wsdl()), normalise_wsdl(text.encode())) == []


def test_an_undeclared_prefix_and_garbage_are_reported():
    text = WSDL.replace('type="s:long"', 'type="q:long"', 1)
    [line] = diff_wsdl(normalise_wsdl(packaged_wsdl()), normalise_wsdl(text.encode()))
    assert "xs:complexType[SendResultBase]/xs:sequence/xs:element[Amount]" in line and "'?q:long'" in line
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
