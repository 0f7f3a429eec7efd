"""Clients generated from the WSDL the mock serves, by stacks that share no code with it, call all five operations.

Why: what a customer's code meets is the proxy its tool generated from
``<base>/WebService.asmx?WSDL``, or the vendor's demo copied as it is. Each
stack reads the contract its own way: Mono's XmlSerializer and Axis 1.4 need
``xsi:type`` to build the subclass of the abstract ``SendResultBase``, zeep in
strict mode refuses any element out of the schema's order, the Java demo finds
its values by unprefixed element names under an exactly named result. Every
stack here makes the calls of tests/clients/scenario.py (three sends, two
operations the mock refuses with NoProduct, and a wrong password on all five)
and scenario.check() compares each answer and the books (the balance, each
task as the mock recorded it) with what the mock must do.

- Mono's ``wsdl`` (fixture ``mono``, marker ``asmx``): a C# proxy for SOAP 1.1
  and one for SOAP 1.2, compiled with tests/clients/Driver.cs.
- Apache Axis 1.4's ``WSDL2Java`` (fixture ``axis``, marker ``axis``): Java
  stubs compiled with tests/clients/AxisDriver.java; SOAP 1.1 only, since Axis
  1.4 has no SOAP 1.2 binding support.
- zeep in strict mode on both bindings, loading the served WSDL by URL and
  calling the address the WSDL gives.
- The vendor's Java demo, replayed (tests/clients/javademo.py): its 2016 form
  and its later scheduling form.

Builds are cached (tests/clients/builds.py), so a rerun starts at once. A
missing tool skips its tests, except under ``CI=true``, where it fails:
scripts/test.sh installs them. PHP's SoapClient and the PHP demo are in
tests/test_independent_clients.py, suds in tests/test_soap_clients.py.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import zeep
import zeep.helpers

from clients import builds, javademo, scenario

PLATFORM_ZONE = ZoneInfo("Asia/Shanghai")


def require(missing: list[str], packages: str) -> None:
    """Skip when a tool is missing; under CI=true fail instead, in one line, since CI must run every stack."""
    if not missing:
        return
    message = f"{', '.join(missing)} not found: scripts/test.sh installs it (Debian {packages}, as root)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def mono(mock_server):
    """Builds of Mono's ``wsdl`` proxy with Driver.cs, one per protocol (``SOAP``, ``SOAP12``), made on first use."""
    require(builds.mono_missing(), "mono-complete")
    made: dict[str, builds.Built] = {}

    def build(protocol: str) -> builds.Built:
        if protocol not in made:
            made[protocol] = builds.build_mono(mock_server.base_url, protocol)
        return made[protocol]

    return build


@pytest.fixture(scope="session")
def axis(mock_server):
    """Axis 1.4's ``WSDL2Java`` stubs compiled with AxisDriver.java, built once per session (cached across them)."""
    require(builds.axis_missing(), "libaxis-java default-jdk-headless")
    return builds.build_axis(mock_server.base_url)


# -- Mono's wsdl -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("protocol", "version"), [("SOAP", 11), ("SOAP12", 12)], ids=["soap11", "soap12"])
def test_mono_wsdl_proxy_calls_every_operation(mono, mock_server, account, protocol, version):
    made = scenario.calls(account, f"Mono SOAP {version}", scenario.tomorrow(mock_server.base_url))
    results = mono(protocol).run(mock_server.base_url + "/WebService.asmx", made)
    scenario.check(results, made, mock_server, account, via=f"soap{version}")


# -- Axis 1.4 WSDL2Java ----------------------------------------------------------------------------------------------
def test_axis_wsdl2java_stubs_call_every_operation(axis, mock_server, account):
    made = scenario.calls(account, "Axis", scenario.tomorrow(mock_server.base_url))
    results = axis.run(mock_server.base_url + "/WebService.asmx", made)
    scenario.check(results, made, mock_server, account, via="soap11")


# -- zeep, strict --------------------------------------------------------------------------------------------------
def zeep_call(service: Any, call: scenario.Call) -> dict[str, Any]:
    """One call through zeep; the result as a plain dict, "type" the schema type zeep built from ``xsi:type``."""
    plan = zeep_datetime(call.plan) if call.plan else None
    try:
        if call.op == "HybridSend":
            body = {"Account": call.user, "Password": call.password, "Sn": None, "SMSContent": call.content}
            result = service.HybridSend(body={**body, "ExtNumber": "", "PlanSendTime": plan})
        elif call.op == "SendMms":
            text = {"Name": "1.txt", "ElementType": "Text", "Base64Text": "5L2g5aW9"}
            mms = {"Msisdns": call.msisdns, "Subject": call.content, "ExtNumber": "", "PlanSendTime": plan}
            result = service.SendMms(
                userName=call.user, password=call.password, mms={**mms, "Elements": {"MmsElement": [text]}}
            )
        else:
            sms = {"Msisdns": call.msisdns, "SMSContent": call.content, "ExtNumber": "", "PlanSendTime": plan}
            result = getattr(service, call.op)(userName=call.user, password=call.password, sms=sms)
    except Exception as exc:  # reported with the other differences by scenario.check()
        return {"error": f"{type(exc).__name__}: {exc}"}
    if result is None:
        return {"error": f"zeep read no {call.op}Result"}
    return {"type": type(result).__name__, **zeep.helpers.serialize_object(result, dict)}


def zeep_datetime(plan: str) -> dt.datetime:
    """The scheduled time as an aware datetime in platform time: zeep writes it with its offset (``+08:00``)."""
    return dt.datetime.fromisoformat(plan).replace(tzinfo=PLATFORM_ZONE)


@pytest.mark.parametrize(
    ("port", "version"), [("WebServiceSoap", 11), ("WebServiceSoap12", 12)], ids=["soap11", "soap12"]
)
def test_zeep_strict_calls_every_operation(mock_server, account, port, version):
    client = zeep.Client(
        mock_server.base_url + "/WebService.asmx?WSDL",
        settings=zeep.Settings(strict=True),
        transport=zeep.Transport(timeout=30, operation_timeout=30),
    )
    service = client.bind("WebService", port)  # the address the served WSDL gives: the mock's own
    assert service._binding_options["address"] == mock_server.base_url + "/WebService.asmx"
    made = scenario.calls(account, f"zeep SOAP {version}", scenario.tomorrow(mock_server.base_url))
    results = [zeep_call(service, call) for call in made]
    scenario.check(results, made, mock_server, account, via=f"soap{version}")


# -- the vendor's Java demo ------------------------------------------------------------------------------------------
def demo_send(mock_server, account, mobiles: str, content: str, plan: str = "", password: str | None = None):
    body = javademo.request(
        account.name, account.password if password is None else password, mobiles, content, plan=plan
    )
    status, ctype, text = javademo.post(mock_server.base_url, body)
    try:
        return javademo.read(text)
    except javademo.DemoFailure as exc:
        raise AssertionError(f"HTTP {status} {ctype}: {exc}") from None


def test_java_demo_sends_and_reads_its_reply(mock_server, account):
    """S5 as written: PlanSendTime nil with empty content; it prints SuccessCounts (S5b also MsgId, Amount...)."""
    content = "【华信】您的验证码是123456，请尽快提交。"
    found = demo_send(mock_server, account, f"13800138000,{scenario.BLACKLISTED}", content)
    assert (found.get("StatusCode"), found.get("Description")) == ("OK", scenario.OK_TEXT), found
    assert found.get("SuccessCounts") == "1", found
    balance = scenario.START_BALANCE - scenario.PRICE_86
    assert found.get("Amount") == str(scenario.points(balance)), found
    msg_id = found.get("MsgId") or ""
    assert msg_id.isdigit() and int(msg_id) >= 1_000_001, found
    assert mock_server.balance(account.name) == balance
    task = scenario.task(mock_server.base_url, msg_id)
    assert task is not None and (task["content"], task["via"], task["scheduled"]) == (content, "soap12", False)


def test_java_demo_schedules_with_nil_false(mock_server, account):
    """S5b's scheduling form: ``<PlanSendTime xsi:nil='false'>`` and a value in platform time, no offset."""
    plan = scenario.tomorrow(mock_server.base_url)
    content = "【华信】wo shi zhong guo ren"
    found = demo_send(mock_server, account, "13800138000,8613800138001", content, plan=plan)
    assert (found.get("StatusCode"), found.get("Description")) == ("OK", scenario.OK_TEXT), found
    assert found.get("SuccessCounts") == "2", found
    balance = scenario.START_BALANCE - 2 * scenario.PRICE_86
    assert found.get("Amount") == str(scenario.points(balance)), found
    task = scenario.task(mock_server.base_url, found.get("MsgId") or "0")
    assert task is not None and task["scheduled"] is True and task["content"] == content, task
    assert str(task["send_at"]).startswith(plan), task
    assert mock_server.balance(account.name) == balance


def test_java_demo_reads_a_refusal(mock_server, account):
    """A wrong password: StatusCode and Description for the demo's log, no MsgId, nothing charged."""
    found = demo_send(mock_server, account, "13800138000", "【华信】验证码 1", password=scenario.WRONG_PASSWORD)
    assert found.get("StatusCode") == "PasswordError", found
    assert found.get("Description") == scenario.TEXTS["PasswordError"], found
    assert found.get("MsgId") is None and found.get("SuccessCounts") == "0", found
    assert mock_server.balance(account.name) == scenario.START_BALANCE
