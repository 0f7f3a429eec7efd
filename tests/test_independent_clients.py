"""Clients that share no code with this project call the mock from its WSDL alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

PHP_CLIENT = Path(__file__).with_name("php_client.php")


def php_has_soap() -> bool:
    php = shutil.which("php")
    return bool(php) and "soap" in subprocess.run([php, "-m"], capture_output=True, text=True).stdout.lower()


@pytest.fixture(scope="module")
def php():
    if not php_has_soap():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have php-cli and php-soap (scripts/test.sh installs them)")
        pytest.skip("php with the soap extension is not installed (scripts/test.sh installs it as root)")
    return shutil.which("php")


@pytest.mark.parametrize("version", ["11", "12"])
def test_php_soapclient(php, mock_server, account, version):
    done = subprocess.run(
        [php, str(PHP_CLIENT), mock_server.base_url, account.name, account.password, version],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    reply = json.loads(done.stdout)
    i18n = reply["i18n"]
    assert i18n["StatusCode"] == "OK"
    assert i18n["MsgId"] >= 1_000_001
    assert Decimal(str(i18n["Balance"])) == Decimal("99.95")
    assert Decimal(str(i18n["BillingAmount"])) == Decimal("0.05")
    assert i18n["BillingCount"] == 1
    assert i18n["Errors"]["string"] == "8613800000002:MsisdnBlack"
    assert reply["hybrid"]["StatusCode"] == "PasswordError"
    expected = "text/xml" if version == "11" else "application/soap+xml"
    assert expected in reply["request_headers"]
    task = mock_server.platform().store.get_task(i18n["MsgId"])
    assert (task["content"], task["ext_number"], task["via"]) == ("PHP 你好【华信】", "12", f"soap{version}")
