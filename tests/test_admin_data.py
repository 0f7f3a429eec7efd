"""Admin data endpoints over the wire: accounts, tasks, messages and outcomes, reports, uplinks, reset, OpenAPI."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from ipyy_client import HttpClient, SoapClient
from support.mockproc import MockProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of its own: reset wipes every account, which the session server's other tests rely on."""
    proc = MockProcess(tmp_path_factory.mktemp("admin-data") / "mock.db", workers=2).start()
    yield proc
    proc.stop()


@pytest.fixture
def api(server):
    base = server.base_url + "/_mock/api/"

    def call(method: str, path: str, expect: int = 200, **kwargs):
        reply = requests.request(method, base + path, timeout=30, **kwargs)
        assert reply.status_code == expect, reply.text
        assert reply.headers["Content-Type"].startswith("application/json")
        return reply.json()

    call("POST", "reset")
    return call


def test_accounts_create_read_update(api, server):
    made = api(
        "POST",
        "accounts",
        201,
        json={"name": "shop", "password": "pw1", "balance": "5.5", "prices": {"86": "0.04"}, "push_url": ""},
    )
    assert made["balance"] == "5.5" and made["prices"] == {"86": "0.04"} and "password" not in made
    api("POST", "accounts", 409, json={"name": "shop", "password": "x"})
    changed = api(
        "PATCH",
        "accounts/shop",
        json={
            "balance": "7.25",
            "stopped": True,
            "pay_type": "postpaid",
            "segment_limit": 3,
            "bind_ips": ["10.0.0.0/8"],
            "strict_auth": True,
            "can_read_reports": False,
            "sensitive_words": ["spam"],
            "password": "pw2",
        },
    )
    assert (changed["balance"], changed["stopped"], changed["pay_type"], changed["segment_limit"]) == (
        "7.25",
        True,
        "postpaid",
        3,
    )
    assert server.account("shop").password == "pw2"
    assert [a["name"] for a in api("GET", "accounts")["accounts"]] == ["demo", "shop"]
    assert api("GET", "accounts/shop")["bind_ips"] == ["10.0.0.0/8"]


@pytest.mark.parametrize(
    "body,says",
    [
        ({"balance": "lots"}, "decimal"),
        ({"stopped": "yes"}, "true or false"),
        ({"prices": {"x": "1"}}, "country"),
        ({"bind_ips": ["999.1.1.1"]}, "not an address"),
        ({"pay_type": "free"}, "prepaid"),
        ({"segment_limit": 0}, "1 to 1000"),
        ({"password": ""}, "1 to 20"),
        ({"colour": "red"}, "unknown field"),
    ],
)
def test_bad_account_changes_are_400_and_change_nothing(api, server, body, says):
    reply = requests.patch(server.base_url + "/_mock/api/accounts/demo", json=body, timeout=30)
    assert reply.status_code == 400 and says in reply.json()["error"], reply.text
    assert reply.json()["hint"]
    assert server.balance("demo") == Decimal("100.00")


def test_unknown_account_is_404(api):
    assert "no account" in api("GET", "accounts/nobody", 404)["error"]
    api("PATCH", "accounts/nobody", 404, json={"balance": "1"})


def test_messages_tasks_filters_and_manual_outcome(api, server):
    with SoapClient("demo", "demo123", base_url=server.base_url) as soap:
        first = soap.send_i18n_sms("8613800138000,8613800000004", "一【华信】").task_id
        second = soap.send_i18n_sms("8613900139000", "二【华信】").task_id
    messages = api("GET", "messages", params={"account": "demo"})["messages"]
    assert [(m["task_id"], m["mobile"]) for m in messages] == [
        (second, "8613900139000"),
        (first, "8613800000004"),
        (first, "8613800138000"),
    ]
    by_mobile = {m["mobile"]: m for m in messages}
    assert by_mobile["8613800138000"]["status"] == "delivered"
    assert by_mobile["8613800138000"]["report_errorcode"] == "DELIVRD"
    waiting = by_mobile["8613800000004"]
    assert waiting["status"] == "sent" and waiting["report_status"] is None
    assert [m["task_id"] for m in api("GET", "messages", params={"task_id": first})["messages"]] == [first, first]
    assert api("GET", "messages", params={"mobile": "+8613900139000"})["messages"][0]["task_id"] == second
    assert api("GET", "messages", params={"status": "sent"})["messages"] == [waiting]
    assert api("GET", "messages", params={"since": "2999-01-01T00:00:00"})["messages"] == []
    assert len(api("GET", "messages", params={"since": "2000-01-01T00:00:00Z"})["messages"]) == 3
    tasks = api("GET", "tasks", params={"account": "demo"})["tasks"]
    assert [(t["id"], t["recipients"], t["billing_amount"], t["via"]) for t in tasks] == [
        (second, 1, "0.05", "soap11"),
        (first, 2, "0.10", "soap11"),
    ]
    assert api("GET", "tasks", params={"since_id": first})["tasks"][0]["id"] == second
    api("GET", "tasks", 400, params={"since": "yesterday"})

    failed = api("POST", f"messages/{waiting['id']}/outcome", json={"status": "failed", "errorcode": "EXPIRED"})
    assert (failed["status"], failed["report_status"], failed["report_errorcode"]) == ("failed", 20, "EXPIRED")
    again = requests.post(
        f"{server.base_url}/_mock/api/messages/{waiting['id']}/outcome", json={"status": "delivered"}, timeout=30
    )
    assert again.status_code == 409 and again.json()["hint"]
    api("POST", "messages/999999/outcome", 404, json={"status": "failed"})
    api("POST", f"messages/{waiting['id']}/outcome", 400, json={"status": "lost"})
    with HttpClient("demo", "demo123", base_url=server.base_url) as http:
        pulled = {(r.task_id, r.mobile): (r.status, r.errorcode) for r in http.status_reports()}
    assert pulled[(first, "8613800000004")] == (20, "EXPIRED")
    reports = api("GET", "reports", params={"account": "demo"})["reports"]
    assert all(r["consumed"] for r in reports) and len(reports) == 3


def test_uplinks_and_conversations(api, server):
    with SoapClient("demo", "demo123", base_url=server.base_url) as soap:
        task = soap.send_i18n_sms("8613800000005", "你好【华信】").task_id
    api("POST", "uplinks", 201, json={"account": "demo", "mobile": "8613800000005", "content": "<b>hi</b>"})
    uplinks = api("GET", "uplinks", params={"mobile": "8613800000005"})["uplinks"]
    assert [(u["content"], u["task_id"], u["consumed"]) for u in uplinks] == [
        ("<b>hi</b>", task, False),
        ("TD", task, False),
    ]
    [conversation] = api("GET", "conversations", params={"account": "demo"})["conversations"]
    assert (conversation["mobile"], conversation["sent"], conversation["received"]) == ("8613800000005", 1, 2)


def test_reset_brings_back_the_first_start(api, server):
    api("POST", "accounts", 201, json={"name": "gone", "password": "x"})
    api("PATCH", "accounts/demo", json={"balance": "1"})
    api("POST", "rules", 201, json={"pattern": "86.*", "outcome": "failed"})
    api("POST", "clock/advance", json={"seconds": 3600})
    with HttpClient("demo", "demo123", base_url=server.base_url) as http:
        assert http.send("8613800138000", "x【y】").ok
    done = api("POST", "reset")
    assert [a["name"] for a in done["accounts"]] == ["demo"]
    assert api("GET", "accounts/demo")["balance"] == "100.00"
    assert api("GET", "messages")["messages"] == [] and api("GET", "tasks")["tasks"] == []
    assert api("GET", "clock")["offset_seconds"] == 0
    assert len(api("GET", "rules")["rules"]) == 5
    with SoapClient("demo", "demo123", base_url=server.base_url) as soap:
        assert soap.send_i18n_sms("8613800138000", "x【y】").balance == Decimal("99.95")


def test_openapi_describes_every_route(api, server):
    from ipyy_mock.admin.api import AdminApi

    spec = api("GET", "openapi.json")
    assert spec["openapi"].startswith("3.")
    described = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    for endpoint in AdminApi.endpoints():
        method, rule = endpoint.split(" ", 1)
        path = rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        assert (path, method) in described, endpoint
    for ops in spec["paths"].values():
        for op in ops.values():
            assert op["summary"] and op["operationId"] and "responses" in op


def test_openapi_is_generated_from_the_route_table(api):
    from ipyy_mock.admin.routes import ROUTES

    spec = api("GET", "openapi.json")
    ops = [(path, method, op) for path, methods in spec["paths"].items() for method, op in methods.items()]
    assert len(ops) == len(ROUTES)
    assert len({op["operationId"] for _, _, op in ops}) == len(ops)
    for route in ROUTES:
        path = route.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        op = spec["paths"][path][route.method.lower()]
        assert op["summary"] == route.summary
        assert ("requestBody" in op) == bool(route.body)
        assert [p["name"] for p in op.get("parameters", []) if p["in"] == "query"] == list(route.query)


def test_every_recipient_of_a_send_is_in_the_inbox_refused_ones_with_their_code(api, server):
    with SoapClient("demo", "demo123", base_url=server.base_url) as soap:
        sent = soap.send_i18n_sms("8613800138000,8613800000002,8613800000003", "名单【华信】")
    assert sent.ok and sent.success_counts == 1
    messages = {m["mobile"]: m for m in api("GET", "messages", params={"task_id": sent.task_id})["messages"]}
    assert set(messages) == {"8613800138000", "8613800000002", "8613800000003"}
    assert messages["8613800138000"]["refusal"] is None
    for mobile, code in (("8613800000002", "MsisdnBlack"), ("8613800000003", "MsisdnNoChannel")):
        refused = messages[mobile]
        assert (refused["status"], refused["refusal"], refused["amount"]) == ("refused", code, "0"), refused
        assert refused["report_status"] is None and refused["report_due_at"] is None
        outcome = requests.post(
            f"{server.base_url}/_mock/api/messages/{refused['id']}/outcome", json={"status": "delivered"}, timeout=30
        )
        assert outcome.status_code == 409  # never sent: it cannot be delivered
    [task] = [t for t in api("GET", "tasks", params={"account": "demo"})["tasks"] if t["id"] == sent.task_id]
    assert (task["recipients"], task["billing_amount"]) == (1, "0.05")
    with HttpClient("demo", "demo123", base_url=server.base_url) as http:
        assert [r.mobile for r in http.status_reports(task_id=sent.task_id)] == ["8613800138000"]
    assert server.balance("demo") == Decimal("99.95")
