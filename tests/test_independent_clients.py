"""PHP's SoapClient and the vendor's own PHP demo call the mock from the WSDL it serves, and nothing else.

Why PHP: it shares no code with this project, reads the WSDL at run time (no
generated code), and is what the vendor's PHP demo (S6 in the contract's
evidence) uses, so a WSDL or reply PHP cannot read breaks real integrations.

- tests/php_client.php makes the calls of tests/clients/scenario.py (all five
  operations, SOAP 1.1 and 1.2) and scenario.check() compares the answers and
  the books. Its classmap names the result's class after the ``xsi:type``
  SoapClient found, so a reply without it shows up as ``SendResultBase``.
- tests/clients/php_demo.php is the demo's ``WsMessageSend::send``: SoapClient
  on ``webservice.asmx?wsdl`` (lower case), ``__call("SendSms", ...)`` with no
  PlanSendTime unless scheduling, and what it prints of ``SendSmsResult``.

The Mono, Axis and zeep clients and the Java demo are in
tests/test_generated_clients.py, suds in tests/test_soap_clients.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from clients import scenario

PHP_CLIENT = Path(__file__).with_name("php_client.php")
PHP_DEMO = Path(__file__).parent / "clients" / "php_demo.php"


def php_has_soap() -> bool:
    php = shutil.which("php")
    return bool(php) and "soap" in subprocess.run([php, "-m"], capture_output=True, text=True).stdout.lower()


@pytest.fixture(scope="module")
def php():
    if not php_has_soap():
        message = (
            "php with the soap extension not found: scripts/test.sh installs it (Debian php-cli php-soap, as root)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)
    return shutil.which("php")


def run_php(php: str, *args: str) -> Any:
    """Run a PHP script with the WSDL cache off (each mock has its own port) and return the JSON it printed."""
    done = subprocess.run(
        [php, "-d", "soap.wsdl_cache_enabled=0", *args], capture_output=True, text=True, encoding="utf-8", timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise AssertionError(f"no JSON from {args[0]}:\n{done.stdout}\n{done.stderr}") from None


@pytest.mark.parametrize("version", ["11", "12"])
def test_php_soapclient_calls_every_operation(php, mock_server, account, version):
    made = scenario.calls(account, f"PHP SOAP {version}", scenario.tomorrow(mock_server.base_url))
    replies = run_php(php, str(PHP_CLIENT), mock_server.base_url, version, *(a for c in made for a in c.argv()))
    assert [r["op"] for r in replies] == [c.op for c in made], replies
    results = [r["result"] if r["result"] is not None else {"error": "SoapClient read no result"} for r in replies]
    scenario.check(results, made, mock_server, account, via=f"soap{version}")
    expected = "text/xml;" if version == "11" else "application/soap+xml;"
    assert [r["content_type"].startswith(expected) for r in replies] == [True] * len(made), replies


def php_demo(php: str, mock_server, user: str, password: str, mobiles: str, content: str, plan: str | None = None):
    args = [str(PHP_DEMO), mock_server.base_url, user, password, mobiles, content]
    return run_php(php, *args, *([plan] if plan else []))


@pytest.mark.parametrize("scheduled", [False, True], ids=["now", "scheduled"])
def test_php_demo_sends_sms(php, mock_server, account, scheduled):
    """What the demo prints: 返回信息提示 (Description), 状态 (StatusCode), 余额 (Amount), 成功短信数 (SuccessCounts)."""
    plan = scenario.tomorrow(mock_server.base_url) if scheduled else None
    content = "您的验证码是：8859【华信】"
    mobiles = f"13800138000,{scenario.BLACKLISTED}"
    printed = php_demo(php, mock_server, account.name, account.password, mobiles, content, plan)
    balance = scenario.START_BALANCE - scenario.PRICE_86
    want = {"Description": scenario.OK_TEXT, "StatusCode": "OK", "Amount": scenario.points(balance), "SuccessCounts": 1}
    assert printed == want
    assert mock_server.balance(account.name) == balance
    [task] = scenario.task_list(mock_server.base_url, account.name)
    assert (task["content"], task["via"], task["scheduled"], task["recipients"]) == (content, "soap11", scheduled, 1)
    if plan:
        assert str(task["send_at"]).startswith(plan), task


def test_php_demo_reads_a_refusal(php, mock_server, account):
    printed = php_demo(php, mock_server, account.name, scenario.WRONG_PASSWORD, "13800138000", "验证码 1【华信】")
    assert printed == {
        "Description": scenario.TEXTS["PasswordError"],
        "StatusCode": "PasswordError",
        "Amount": 0,
        "SuccessCounts": 0,
    }
    assert mock_server.balance(account.name) == scenario.START_BALANCE
    assert scenario.task_list(mock_server.base_url, account.name) == []
