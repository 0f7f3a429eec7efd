"""Every send rule of docs/contract.md §3, over the wire, SOAP 1.1 and 1.2, with hand-written envelopes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from support import soapraw

SIG = "【华信】"
OK_TEXT = "验证码 123456" + SIG


@pytest.fixture(params=[11, 12], ids=["soap11", "soap12"])
def version(request):
    return request.param


def send(mock_server, account, msisdns="8613800138000", content=OK_TEXT, version=11, **kw):
    user = kw.pop("user", account.name)
    password = kw.pop("password", account.password)
    return soapraw.send(mock_server.base_url, user, password, msisdns, content, version=version, **kw)


def test_ok_debits_the_exact_amount(mock_server, account, version):
    result = send(mock_server, account, version=version)
    assert result.status == "OK"
    assert result.description == "操作成功"
    assert result.msg_id >= 1_000_001
    assert result.billing_count == 1
    assert result.billing_amount == Decimal("0.05")
    assert result.balance == Decimal("99.95")
    assert mock_server.balance(account.name) == Decimal("99.95")
    assert result.errors == []


ACCOUNT_CASES = {
    "UserNameEmpty": dict(user=""),
    "PasswordEmpty": dict(password=""),
    "UserNameError": dict(user="nobody-here"),
    "PasswordError": dict(password="wrong"),
}


@pytest.mark.parametrize("code", ACCOUNT_CASES)
def test_account_errors(mock_server, account, version, code):
    result = send(mock_server, account, version=version, **ACCOUNT_CASES[code])
    assert (result.status, result.msg_id, result.billing_amount) == (code, 0, Decimal("0"))
    assert mock_server.balance(account.name) == Decimal("100.00")


def test_stopped_account(mock_server, version):
    account = mock_server.new_account(stopped=True)
    assert send(mock_server, account, version=version).status == "UserStop"


def test_ip_binding(mock_server, version):
    elsewhere = mock_server.new_account(bind_ips=["10.9.8.7"])
    assert send(mock_server, elsewhere, version=version).status == "BindIpError"
    here = mock_server.new_account(bind_ips=["127.0.0.0/8"])
    assert send(mock_server, here, version=version).status == "OK"


CONTENT_CASES = {
    "MsisdnEmpty": dict(msisdns=" , "),
    "MsisdnError": dict(msisdns="8613800138000,12ab"),
    "ExtNumberError": dict(ext="123456"),
    "ContentEmpty": dict(content="   "),
    "RequiredSuffix": dict(content="no signature here"),
    "SuffixError": dict(content="too long a signature【123456789】"),
    "SensitiveWords": dict(content="这是敏感词" + SIG),
    "ContentLong": dict(content="长" * (67 * 10 + 1) + SIG),
    "MsisdnBlack": dict(msisdns="8613800000002"),
    "MsisdnNoChannel": dict(msisdns="8613800000003"),
}


@pytest.mark.parametrize("code", CONTENT_CASES)
def test_request_errors_charge_nothing(mock_server, account, version, code):
    result = send(mock_server, account, version=version, **CONTENT_CASES[code])
    assert result.status == code
    assert result.description
    assert (result.msg_id, result.billing_count, result.billing_amount) == (0, 0, Decimal("0"))
    assert result.balance == Decimal("100.00")
    assert mock_server.balance(account.name) == Decimal("100.00")
    assert mock_server.platform().store.messages(account=account.name) == []


def test_invalid_numbers(mock_server, account):
    for bad in ("123456", "1234567890123456", "+", "86-138", "9991234567"):
        assert send(mock_server, account, msisdns=bad).status == "MsisdnError", bad


def test_empty_signature_is_suffix_error(mock_server, account):
    assert send(mock_server, account, content="hello【 】").status == "SuffixError"


def test_no_product_when_account_has_no_prices(mock_server, version):
    account = mock_server.new_account(prices={})
    assert send(mock_server, account, version=version).status == "NoProduct"


def test_country_without_price_is_no_channel(mock_server):
    account = mock_server.new_account(prices={"86": Decimal("0.05")})
    result = send(mock_server, account, msisdns="8613800138000,447911123456")
    assert result.status == "OK"
    assert result.errors == ["447911123456:MsisdnNoChannel"]
    assert result.billing_amount == Decimal("0.05")


def test_amount_not_enough_charges_nothing(mock_server, version):
    account = mock_server.new_account(balance=Decimal("0.04"))
    result = send(mock_server, account, version=version)
    assert result.status == "AmountNotEnough"
    assert result.balance == Decimal("0.04")
    assert mock_server.balance(account.name) == Decimal("0.04")
    assert mock_server.platform().store.messages(account=account.name) == []


def test_exact_balance_is_enough(mock_server):
    account = mock_server.new_account(balance=Decimal("0.05"))
    result = send(mock_server, account)
    assert (result.status, result.balance) == ("OK", Decimal("0.00"))


def test_postpaid_may_go_below_zero(mock_server):
    account = mock_server.new_account(balance=Decimal("0"), pay_type="postpaid")
    result = send(mock_server, account)
    assert (result.status, result.balance) == ("OK", Decimal("-0.05"))


def test_partial_refusals_are_listed_and_not_charged(mock_server, account, version):
    result = send(
        mock_server, account, msisdns="8613800000002,8613800138000,8613800000003,447911123456", version=version
    )
    assert result.status == "OK"
    assert result.errors == ["8613800000002:MsisdnBlack", "8613800000003:MsisdnNoChannel"]
    assert result.billing_count == 2
    assert result.billing_amount == Decimal("0.35")
    assert result.balance == Decimal("99.65")


@pytest.mark.parametrize("units,segments", [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_billing_at_segment_edges(mock_server, account, units, segments):
    content = "x" * (units - len(SIG)) + SIG
    assert len(content.encode("utf-16-be")) // 2 == units
    result = send(mock_server, account, content=content)
    assert result.billing_count == segments
    assert result.billing_amount == Decimal("0.05") * segments


def test_emoji_counts_two_utf16_units(mock_server, account):
    content = "😀" * 32 + SIG  # 64 + 4 = 68 units, but 36 code points
    assert send(mock_server, account, content=content).billing_count == 1
    content = "😀" * 34 + SIG  # 72 units
    assert send(mock_server, account, content=content).billing_count == 2


def test_segments_times_price_per_country(mock_server, account):
    content = "x" * 100 + SIG  # 2 segments
    result = send(mock_server, account, msisdns="8613800138000,447911123456,14155552671", content=content)
    assert result.billing_count == 6
    assert result.billing_amount == Decimal("0.05") * 2 + Decimal("0.30") * 4
    assert result.balance == Decimal("100.00") - result.billing_amount


def test_duplicates_are_sent_once(mock_server, account):
    result = send(mock_server, account, msisdns="8613800138000, 8613800138000,86 138 0013 8000")
    assert result.billing_count == 1
    messages = mock_server.platform().store.messages(task_id=result.msg_id)
    assert [m["mobile"] for m in messages] == ["8613800138000"]


def test_hybrid_takes_domestic_numbers(mock_server, account, version):
    result = send(mock_server, account, msisdns="13800138000,8613900139000", op="SendHybridSms", version=version)
    assert (result.status, result.billing_amount) == ("OK", Decimal("0.10"))
    mobiles = sorted(m["mobile"] for m in mock_server.platform().store.messages(task_id=result.msg_id))
    assert mobiles == ["13800138000", "8613900139000"]  # stored as sent (numbers as sent)
    # SendI18NSms reads the same digits as an international number: +1 380 013 8000, billed as "other"
    i18n = send(mock_server, account, msisdns="13800138000")
    assert (i18n.status, i18n.billing_amount) == ("OK", Decimal("0.30"))
    assert send(mock_server, account, msisdns="1380013800").status == "MsisdnError"


def test_ext_number_is_stored(mock_server, account):
    result = send(mock_server, account, ext="01234")
    assert mock_server.platform().store.get_task(result.msg_id)["ext_number"] == "01234"


def test_task_ids_increase(mock_server, account):
    first = send(mock_server, account).msg_id
    second = send(mock_server, account).msg_id
    assert second > first


def test_scheduled_send_is_stored_as_scheduled(mock_server, account, version):
    result = send(mock_server, account, plan="2099-01-01T09:00:00", version=version)
    assert result.status == "OK"
    store = mock_server.platform().store
    task = store.get_task(result.msg_id)
    assert task["scheduled"] == 1
    # naive PlanSendTime is platform time, Asia/Shanghai (UTC+8)
    assert task["send_at"] == 4070912400.0  # 2099-01-01T01:00:00Z
    assert [m["status"] for m in store.messages(task_id=result.msg_id)] == ["scheduled"]


def test_scheduled_with_zone_and_in_the_past(mock_server, account):
    store = mock_server.platform().store
    zoned = send(mock_server, account, plan="2099-01-01T09:00:00Z")
    assert store.get_task(zoned.msg_id)["send_at"] == 4070941200.0
    past = send(mock_server, account, plan="2001-01-01T00:00:00+08:00")
    assert store.get_task(past.msg_id)["scheduled"] == 0


def test_unicode_content_round_trips(mock_server, account):
    content = "Привет مرحبا 你好 😀 <&> \"'" + SIG
    result = send(mock_server, account, content=content)
    assert mock_server.platform().store.get_task(result.msg_id)["content"] == content
