"""The command lines say what happened: ``ipyy`` (subprocess) against the session's real mock, and over the wire.

The mock's conformance warnings reach the user (``X-Ipyy-Mock-Warnings``, ``SendResult.mock_warnings``, the
CLI's stderr); ``ipyy`` warns before an international send to a number that looks domestic; a strict-mode
refusal names its rule, not a recipient; a past ``--at`` says the message went out now; credential hints name
account and password; a closed pipe ends without a traceback and ``--max`` pulls only what is read; typos get
"did you mean". docs/client.md and docs/mock.md describe them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
import requests

from ipyy_client import DomesticClient, HttpClient, SoapClient, encode_content, md5_password
from ipyy_client._wire import MOCK_WARNINGS_HEADER
from support.mockproc import console_script

TEXT = "hi【华信】"
DOMESTIC = "13800138000"


def ipyy(*argv: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess[str]:
    exe = console_script("ipyy")
    cmd = [exe, *argv] if os.path.isabs(exe) else [sys.executable, "-m", "ipyy_client.cli", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", env=env, timeout=60, **kwargs)


@pytest.fixture
def env(mock_server, account) -> dict[str, str]:
    return {
        **os.environ,
        "IPYY_ACCOUNT": account.name,
        "IPYY_PASSWORD": account.password,
        "IPYY_BASE_URL": mock_server.base_url,
    }


# -- the mock's warnings reach the user -----------------------------------------------------------------------
def test_the_mock_puts_its_warnings_in_a_reply_header_on_every_surface(mock_server, account):
    form = {"account": account.name, "password": md5_password(account.password), "mobile": "8613800138000"}
    for path, extra in (
        ("/I18NSms.aspx", {"action": "send", "code": "8", "content": encode_content("【华信】hi")}),
        ("/sms.aspx", {"action": "send", "content": "【华信】hi"}),
    ):
        reply = requests.post(mock_server.base_url + path, data={**form, **extra, "userid": ""}, timeout=10)
        raw = reply.headers[MOCK_WARNINGS_HEADER]
        assert raw.isascii()
        [warning] = json.loads(raw)
        assert warning["code"] == "signature-at-start" and "【华信】" in warning["detail"] and warning["fix"]
    clean = requests.post(
        mock_server.base_url + "/I18NSms.aspx",
        data={**form, "content": encode_content(TEXT), "action": "send", "code": "8"},
        timeout=10,
    )
    assert clean.status_code == 200 and MOCK_WARNINGS_HEADER not in clean.headers


def test_the_clients_expose_the_mocks_warnings(mock_server, account):
    with SoapClient(account.name, account.password, mock_server.base_url) as soap:
        result = soap.send_i18n_sms(DOMESTIC, TEXT)
        assert result.ok and [w.code for w in result.mock_warnings] == ["number-country"]
        assert "did you mean 8613800138000" in result.mock_warnings[0].detail
        assert soap.send_i18n_sms("8613800138000", TEXT).mock_warnings == ()
    with HttpClient(account.name, account.password, "", mock_server.base_url) as http:
        assert [w.code for w in http.send("8613800138000", "【华信】hi").mock_warnings] == ["signature-at-start"]
    with DomesticClient(account.name, account.password, "", mock_server.base_url) as domestic:
        assert [w.code for w in domestic.send(DOMESTIC, "【华信】hi").mock_warnings] == ["signature-at-start"]


def test_ipyy_send_prints_the_mocks_warnings(env):
    done = ipyy("send", "--to", "8613800138000", "--text", "【华信】hi", env=env)
    assert done.returncode == 0 and done.stdout.startswith("OK task"), done.stderr
    assert "warning from the mock: signature-at-start: the content starts with 【华信】" in done.stderr
    data = json.loads(ipyy("send", "--to", "8613800138000", "--text", "【华信】hi", "--json", env=env).stdout)
    assert [w["code"] for w in data["mock_warnings"]] == ["signature-at-start"]


@pytest.mark.parametrize("via", [(), ("--via", "http")], ids=["soap", "http"])
def test_ipyy_warns_before_an_international_send_to_a_domestic_looking_number(env, via):
    done = ipyy("send", *via, "--to", f"{DOMESTIC},8613800138001", "--text", TEXT, env=env)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, done.stderr  # the client's, and the mock's same warning is not said twice
    assert f"{DOMESTIC} looks like a Chinese mobile number without its country code" in warnings[0]
    assert f"write 86{DOMESTIC}" in warnings[0] and "+1 3800138000" in warnings[0]


@pytest.mark.parametrize(
    "flags", [("--op", "SendSms"), ("--hybrid",), ("--via", "domestic")], ids=["SendSms", "hybrid", "domestic"]
)
def test_no_country_code_warning_where_domestic_numbers_belong(env, flags):
    done = ipyy("send", *flags, "--to", DOMESTIC, "--text", TEXT, env=env)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr


# -- strict refusals name the rule ----------------------------------------------------------------------------
def test_a_strict_refusal_names_the_rule_not_a_recipient(mock_server, env):
    strict = mock_server.new_account(strict=True)
    env = {**env, "IPYY_ACCOUNT": strict.name, "IPYY_PASSWORD": strict.password}
    with SoapClient(strict.name, strict.password, mock_server.base_url) as soap:
        result = soap.send_i18n_sms("8613800138000", "【华信】hi")
    assert not result.ok and result.recipient_errors() == []
    [rule] = result.strict_refusals
    assert rule.startswith("signature-at-start: the content starts with 【华信】")
    done = ipyy("send", "--to", "8613800138000", "--text", "【华信】hi", env=env)
    assert done.returncode == 1
    assert "refused by the mock's strict mode: signature-at-start: the content starts" in done.stderr
    assert "not sent to" not in done.stderr and "unknown code" not in done.stderr
    assert done.stderr.count("signature-at-start") == 1  # the mock's warning is the refusal: said once
    data = json.loads(ipyy("send", "--to", "8613800138000", "--text", "【华信】hi", "--json", env=env).stdout)
    assert data["strict_refusals"][0].startswith("signature-at-start")


# -- --at -------------------------------------------------------------------------------------------------------
def test_a_past_send_time_says_it_was_sent_now(env):
    done = ipyy("send", "--to", "8613800138000", "--text", TEXT, "--at", "2020-01-01 09:00:00", env=env)
    assert done.returncode == 0, done.stderr
    assert "sent now (the time was past)" in done.stdout and "scheduled" not in done.stdout
    later = (datetime.now() + timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    done = ipyy("send", "--via", "http", "--to", "8613800138000", "--text", TEXT, "--at", later, env=env)
    assert done.returncode == 0 and f"scheduled for {later}" in done.stdout, done.stdout + done.stderr


# -- credential hints --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("wrong", ["IPYY_ACCOUNT", "IPYY_PASSWORD"])
@pytest.mark.parametrize("command", [("send", "--to", "8613800138000", "--text", TEXT), ("balance",)])
def test_a_wrong_account_or_password_hint_names_both(env, wrong, command):
    done = ipyy(*command, env={**env, wrong: "nobody-like-this"})
    assert done.returncode == 1
    [hint] = [line for line in done.stderr.splitlines() if line.startswith("hint:")]
    assert "--account" in hint and "--password" in hint and "Wrong account name or password" in hint


# -- pulls and closed pipes --------------------------------------------------------------------------------------
def test_a_closed_pipe_ends_quietly_and_max_pulls_only_what_is_read(env, mock_server):
    assert ipyy("send", "--via", "http", "--to", "8613800000001,8613800000005", "--text", TEXT, env=env).returncode == 0
    one = ipyy("reports", "--max", "1", "--json", env=env)
    assert one.returncode == 0 and len(json.loads(one.stdout)) == 1, one.stderr
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before a byte is written, as after `| head -1`
    try:
        exe = console_script("ipyy")
        done = subprocess.run(
            [exe, "reports"], stdout=write_end, stderr=subprocess.PIPE, text=True, env=env, timeout=60
        )
    finally:
        os.close(write_end)
    assert done.returncode in (0, 141), done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert "pull only what you read with --max N" in done.stderr


# -- did you mean --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, says",
    [
        (("send", "--to", "8613800138000", "--txt", "hi"), "unrecognized option --txt; did you mean --text?"),
        (("sned", "--to", "1"), "invalid choice: 'sned'"),
        (("send", "--to", "1", "--text", "x", "--via", "htp"), "did you mean http?"),
        (("--acount", "demo", "balance"), "did you mean --account?"),
        (("reports", "--mx", "3"), "did you mean --max?"),
    ],
)
def test_typos_get_did_you_mean(env, argv, says):
    done = ipyy(*argv, env=env)
    assert done.returncode == 2 and says in done.stderr, done.stderr
    if argv[0] == "sned":
        assert "did you mean send?" in done.stderr


@pytest.mark.parametrize(
    "argv, says",
    [(("serv",), "did you mean serve?"), (("serve", "--prot", "8080"), "did you mean --port?")],
)
def test_ipyy_mock_typos_get_did_you_mean(argv, says):
    done = subprocess.run([console_script("ipyy-mock"), *argv], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and says in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
