"""``GET /_mock/metrics``: Prometheus text that parses, and counters that are the books, across worker processes.

The server runs two worker processes, so a counter kept in one process's
memory would show only its share; every number is compared with the books
(the admin API's tasks and balances) after sends through both surfaces.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from ipyy_mock.testing.plugin import IpyyMock
from support import soapraw
from support.mockproc import MockProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = MockProcess(tmp_path_factory.mktemp("metrics") / "mock.db", workers=2).start()
    yield proc
    proc.stop()


def scrape(base_url: str, path: str = "/_mock/metrics") -> dict[str, dict[tuple, float]]:
    reply = requests.get(base_url + path, timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    out: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def value(metrics, name, **labels) -> float:
    return metrics.get(name, {}).get(tuple(sorted(labels.items())), 0.0)


def test_counters_parse_and_equal_the_books(server):
    accounts = [server.new_account(), server.new_account()]
    for index, account in enumerate(accounts):
        for _ in range(3 + index):
            body = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "验证码 1【华信】")
            assert soapraw.parse_result(soapraw.post(server.base_url, body)).status == "OK"
        long_text = "长" * 80 + "【华信】"  # two segments, to two numbers
        mock = IpyyMock(server.base_url, account=account.name, password=account.password)
        mock.http_client().send("8613900139000,447700900123", long_text).raise_for_status()
        refused = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800000002", "x【华信】")
        assert soapraw.parse_result(soapraw.post(server.base_url, refused)).status == "MsisdnBlack"
    metrics = scrape(server.base_url)
    for account in accounts:
        mock = IpyyMock(server.base_url, account=account.name, password=account.password)
        tasks = mock.api("GET", "tasks", params={"account": account.name})["tasks"]
        assert value(metrics, "ipyy_mock_sends_total", account=account.name) == len(tasks)
        assert value(metrics, "ipyy_mock_segments_total", account=account.name) == sum(
            t["billing_count"] for t in tasks
        )
        assert value(metrics, "ipyy_mock_messages_total", account=account.name) == len(
            mock.messages(account=account.name)
        )
        charged = Decimal("100.00") - mock.balance()
        assert value(metrics, "ipyy_mock_charged_total", account=account.name) == float(charged)
        assert value(metrics, "ipyy_mock_balance", account=account.name) == float(mock.balance())
    # the 4th code to one number in 3 minutes was a warning (the second account sent 4)
    assert value(metrics, "ipyy_mock_warnings_total", code="frequency-limit") == 1
    # requests: every send counted by surface and ResultCode, across both workers
    assert value(metrics, "ipyy_mock_requests_total", surface="soap11", status="200", result="OK") == 7
    assert value(metrics, "ipyy_mock_requests_total", surface="soap11", status="200", result="MsisdnBlack") == 2
    assert value(metrics, "ipyy_mock_requests_total", surface="http", status="200", result="OK") == 2
    soap_requests = sum(v for k, v in metrics["ipyy_mock_requests_total"].items() if ("surface", "soap11") in k)
    assert value(metrics, "ipyy_mock_request_duration_seconds_count", surface="soap11") == soap_requests
    assert value(metrics, "ipyy_mock_request_duration_seconds_bucket", surface="soap11", le="+Inf") == soap_requests
    assert value(metrics, "ipyy_mock_request_duration_seconds_sum", surface="soap11") > 0
    assert value(metrics, "ipyy_mock_database_bytes") > 0 and value(metrics, "ipyy_mock_journal_rows") >= 11


def test_the_exact_money_is_in_the_text(server):
    account = server.new_account(prices={"86": Decimal("0.0333"), "*": Decimal("0.30")})
    for _ in range(3):
        body = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "你好【华信】")
        assert soapraw.parse_result(soapraw.post(server.base_url, body)).status == "OK"
    text = requests.get(server.base_url + "/_mock/api/metrics", timeout=30).text
    assert f'ipyy_mock_charged_total{{account="{account.name}"}} 0.0999\n' in text


def test_scrapes_are_neither_journaled_nor_counted(server):
    before = scrape(server.base_url)
    after = scrape(server.base_url)
    assert before["ipyy_mock_requests_total"] == after["ipyy_mock_requests_total"]
    journal = requests.get(server.base_url + "/_mock/api/journal", params={"path": "/_mock/metrics"}, timeout=30)
    assert journal.json()["entries"] == []


def test_metrics_follow_the_admin_api_access_rule(server):
    foreign = requests.get(server.base_url + "/_mock/metrics", headers={"Host": "evil.example"}, timeout=30)
    assert foreign.status_code == 403 and "error" in foreign.json()
    cross = requests.get(server.base_url + "/_mock/metrics", headers={"Sec-Fetch-Site": "cross-site"}, timeout=30)
    assert cross.status_code == 403


def test_a_token_server_wants_the_token_for_metrics(tmp_path):
    proc = MockProcess(tmp_path / "mock.db", workers=1, admin_token="s3cret-token-for-metrics").start()
    try:
        assert requests.get(proc.base_url + "/_mock/metrics", timeout=30).status_code == 401
        ok = requests.get(
            proc.base_url + "/_mock/metrics", headers={"X-Admin-Token": "s3cret-token-for-metrics"}, timeout=30
        )
        assert ok.status_code == 200 and "ipyy_mock_sends_total" in ok.text
    finally:
        proc.stop()


def test_only_get_is_allowed(server):
    reply = requests.post(server.base_url + "/_mock/metrics", timeout=30)
    assert reply.status_code == 405 and "GET" in reply.json()["hint"]
