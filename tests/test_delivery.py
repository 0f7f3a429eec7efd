"""Delivery lifecycle over the wire: reports, delays, scheduled sends, the virtual clock, rules, uplinks, push.

Every test runs against a real ``ipyy-mock serve`` (2 workers) and, for
push, a real receiver on a free port. Nothing sleeps for a delay: the virtual
clock is moved with the admin API, and waits are polls with a deadline.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from lxml import etree

from ipyy_client.encoding import encode_content, md5_password
from support.mockproc import MockProcess
from support.pushrecv import HANG, PushReceiver, wait_until

TEXT = "测试【华信】"
FAST = {"push_timeout": 3, "push_retry_pauses": [0.05, 0.1], "report_delay": 0}


# -- helpers ------------------------------------------------------------------------
def admin(server: MockProcess, method: str, path: str, body=None, **kw) -> requests.Response:
    return requests.request(method, f"{server.base_url}/_mock/api/{path}", json=body, timeout=10, **kw)


def advance(server: MockProcess, seconds: float) -> dict:
    reply = admin(server, "POST", "clock/advance", {"seconds": seconds})
    assert reply.status_code == 200, reply.text
    return reply.json()


def http_send(server: MockProcess, acct, mobile: str, send_time: str = "", text: str = TEXT) -> dict[str, str]:
    reply = requests.post(
        server.base_url + "/I18NSms.aspx",
        data=dict(
            action="send",
            userid="",
            account=acct.name,
            password=md5_password(acct.password),
            mobile=mobile,
            code="8",
            content=encode_content(text),
            sendTime=send_time,
            extno="",
        ),
        timeout=10,
    )
    return {c.tag: c.text or "" for c in etree.fromstring(reply.content)}


def sent_task(server: MockProcess, acct, mobile: str, send_time: str = "") -> int:
    reply = http_send(server, acct, mobile, send_time)
    assert reply["returnstatus"] == "Success", reply
    return int(reply["taskID"])


def pull(server: MockProcess, acct, path: str = "/statusApi.aspx") -> list[dict[str, str]]:
    reply = requests.get(
        server.base_url + path, params=dict(action="query", account=acct.name, password=acct.password), timeout=10
    )
    root = etree.fromstring(reply.content)
    return [{c.tag: c.text or "" for c in box} for box in root]


def pushes(server: MockProcess, acct) -> list[dict]:
    """The push journal of one account, oldest batch first."""
    reply = admin(server, "GET", "pushes", params={"account": acct.name})
    assert reply.status_code == 200, reply.text
    return list(reversed(reply.json()["batches"]))


def settled(server: MockProcess, acct, count: int = 1) -> list[dict]:
    """Wait until ``count`` batches are delivered or returned."""

    def done():
        batches = pushes(server, acct)
        finished = [b for b in batches if b["state"] in ("delivered", "returned")]
        return batches if len(finished) >= count else None

    return wait_until(done, 20, f"{count} settled push batch(es)")


def outcomes(batch: dict) -> list[str]:
    return [a["outcome"] for a in batch["attempts"]]


def first_outcomes(server: MockProcess, acct) -> list[str]:
    batches = pushes(server, acct)
    return outcomes(batches[0]) if batches else []


# -- fixtures -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def life(tmp_path_factory):
    """Its own server: these tests move the clock and change rules and settings."""
    server = MockProcess(tmp_path_factory.mktemp("life") / "life.db").start()
    assert admin(server, "PUT", "settings", FAST).status_code == 200
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_rules_and_settings(request):
    yield
    if "life" in request.fixturenames:
        server = request.getfixturevalue("life")
        assert admin(server, "DELETE", "rules").status_code == 200
        assert admin(server, "PUT", "settings", FAST).status_code == 200


@pytest.fixture
def receiver():
    with PushReceiver() as r:
        yield r


# -- pull: the default test numbers ------------------------------------------------------
def test_default_test_numbers(life):
    acct = life.new_account()
    reply = http_send(life, acct, "8613800000001,8613800000002,8613800000003,8613800000004,8613800000005")
    assert reply["returnstatus"] == "Success" and reply["successCounts"] == "3"
    task = int(reply["taskID"])
    assert http_send(life, acct, "8613800000002")["message"] == "黑名单的手机号码"
    assert http_send(life, acct, "8613800000003")["message"] == "没有通道的手机号码"
    reports = {r["mobile"]: r for r in pull(life, acct)}
    assert set(reports) == {"8613800000001", "8613800000005"}  # 2 and 3 refused, 4 never reported
    assert (reports["8613800000001"]["status"], reports["8613800000001"]["errorcode"]) == ("20", "UNDELIV")
    assert (reports["8613800000005"]["status"], reports["8613800000005"]["errorcode"]) == ("10", "DELIVRD")
    assert all(r["taskid"] == str(task) for r in reports.values())
    [uplink] = pull(life, acct, "/callApi.aspx")
    assert (uplink["mobile"], uplink["taskid"], uplink["content"]) == ("8613800000005", str(task), "TD")
    advance(life, 86400)
    assert pull(life, acct) == []  # 8613800000004: no report ever, even a day later
    statuses = {m["mobile"]: m["status"] for m in life.platform().store.messages(task_id=task)}
    assert statuses == {
        "8613800000001": "failed",
        "8613800000002": "refused",  # left out of the send, in the inbox with its code
        "8613800000003": "refused",
        "8613800000004": "sent",
        "8613800000005": "delivered",
    }


def test_other_numbers_are_delivered_after_the_default_delay(life):
    acct = life.new_account()
    assert admin(life, "PUT", "settings", {"report_delay": 30}).json()["report_delay"] == 30
    task = sent_task(life, acct, "8613800138000")
    assert pull(life, acct) == []
    advance(life, 29)
    assert pull(life, acct) == []
    advance(life, 2)
    [report] = pull(life, acct)
    assert (report["taskid"], report["status"], report["errorcode"]) == (str(task), "10", "DELIVRD")


def test_scheduled_send_reports_only_after_its_time(life):
    acct = life.new_account()
    now = life.platform().now_datetime()
    at = (now + timedelta(hours=2)).replace(tzinfo=None, microsecond=0)
    task = sent_task(life, acct, "8613800138000", at.strftime("%Y-%m-%d %H:%M:%S"))
    store = life.platform().store
    assert [m["status"] for m in store.messages(task_id=task)] == ["scheduled"]
    advance(life, 3600)
    assert pull(life, acct) == []
    assert [m["status"] for m in store.messages(task_id=task)] == ["scheduled"]
    released = advance(life, 3600 + 5)["released"]
    assert released["reports"] >= 1
    [report] = pull(life, acct)
    assert report["taskid"] == str(task) and report["receivetime"] == at.strftime("%Y-%m-%d %H:%M:%S")
    assert [m["status"] for m in store.messages(task_id=task)] == ["delivered"]


def test_rule_added_by_admin_api_changes_the_outcome(life):
    acct = life.new_account()
    rule = {"pattern": r"86139123\d{5}", "outcome": "failed", "errorcode": "REJECTD", "delay": 60, "reply": "STOP"}
    reply = admin(life, "POST", "rules", rule)
    assert reply.status_code == 201, reply.text
    assert reply.json()["rules"][0] == rule  # first: it wins over the defaults
    task = sent_task(life, acct, "8613912345678")
    other = sent_task(life, acct, "8613800138000")  # not matched: delivered at once
    assert [r["taskid"] for r in pull(life, acct)] == [str(other)]
    advance(life, 59)
    assert pull(life, acct) == [] and pull(life, acct, "/callApi.aspx") == []
    advance(life, 2)
    [report] = pull(life, acct)
    assert (report["taskid"], report["status"], report["errorcode"]) == (str(task), "20", "REJECTD")
    [uplink] = pull(life, acct, "/callApi.aspx")
    assert (uplink["mobile"], uplink["taskid"], uplink["content"]) == ("8613912345678", str(task), "STOP")

    admin(life, "POST", "rules", {"pattern": "8613912345679", "outcome": "blacklisted"})
    assert http_send(life, acct, "8613912345679")["message"] == "黑名单的手机号码"
    assert admin(life, "DELETE", "rules").json()["rules"][0]["pattern"] == "8613800000001"
    assert http_send(life, acct, "8613912345679")["returnstatus"] == "Success"


def test_uplink_injected_by_admin_api_links_the_last_task(life):
    acct = life.new_account()
    task = sent_task(life, acct, "8613811112222")
    later = life.platform().now_datetime() + timedelta(days=1)
    sent_task(life, acct, "8613811112222", later.strftime("%Y-%m-%d %H:%M:%S"))  # scheduled: not sent yet
    reply = admin(
        life, "POST", "uplinks", {"account": acct.name, "mobile": "8613811112222", "content": "好的 <&>", "extno": "12"}
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["task_id"] == task and reply.json()["route"] == "pull"
    stranger = admin(life, "POST", "uplinks", {"account": acct.name, "mobile": "8613899990000", "content": "hi"})
    assert stranger.json()["task_id"] is None
    uplinks = pull(life, acct, "/callApi.aspx")
    assert [(u["mobile"], u["taskid"], u["content"], u["extno"]) for u in uplinks] == [
        ("8613811112222", str(task), "好的 <&>", "12"),
        ("8613899990000", "", "hi", ""),
    ]


# -- push -------------------------------------------------------------------------------
def test_push_answered_1_first_time_is_one_try(life):
    """The client's own push_receiver (WSGI) on a real server: one POST, the same XML as a pull."""
    import threading

    from werkzeug.serving import make_server

    from ipyy_client.push import push_receiver
    from ipyy_client.results import Report

    got: list = []
    server = make_server("127.0.0.1", 0, push_receiver(got.extend), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        acct = life.new_account(push_url=f"http://127.0.0.1:{server.server_port}/sms/push")
        task = sent_task(life, acct, "8613800138000")
        wait_until(lambda: got, 20, "a pushed report")
        [batch] = settled(life, acct)
        assert batch["kind"] == "statusbox" and batch["state"] == "delivered" and outcomes(batch) == ["delivered"]
        [report] = got
        assert isinstance(report, Report) and (report.task_id, report.mobile, report.status) == (
            task,
            "8613800138000",
            10,
        )
        assert pull(life, acct) == []  # pushed, so not in the pull queue
    finally:
        server.shutdown()


def test_push_body_is_the_pull_reply(life, receiver):
    acct = life.new_account(push_url=receiver.url)
    pull_acct = life.new_account()
    for a in (acct, pull_acct):
        sent_task(life, a, "8613800000001")
    [push] = receiver.wait_for(1)
    assert push.content_type == "text/xml; charset=utf-8"
    assert push.body.startswith(b'<?xml version="1.0" encoding="utf-8" ?>\n<returnsms><statusbox><mobile>')
    [pulled] = pull(life, pull_acct)
    [pushed] = [{c.tag: c.text or "" for c in box} for box in etree.fromstring(push.body)]
    assert list(pushed) == list(pulled) == ["mobile", "taskid", "status", "receivetime", "errorcode", "extno"]
    same = ("mobile", "status", "errorcode", "extno")
    assert [pushed[k] for k in same] == [pulled[k] for k in same] == ["8613800000001", "20", "UNDELIV", ""]


def test_error_error_1_is_three_tries_and_nothing_twice(life):
    with PushReceiver([b"error", b"error", b"1"]) as receiver:
        acct = life.new_account(push_url=receiver.url)
        task = sent_task(life, acct, "8613800138000")
        [batch] = settled(life, acct)
        assert outcomes(batch) == ["error", "error", "delivered"] and batch["state"] == "delivered"
        assert [a["try"] for a in batch["attempts"]] == [1, 2, 3]
        received = receiver.quiet(3)
        assert len({p.body for p in received}) == 1  # the same batch each time
        assert [r.task_id for r in received[0].items] == [task]
        assert pull(life, acct) == []


def test_always_error_goes_to_the_pull_queue_after_three_tries(life):
    with PushReceiver(default=b"error") as receiver:
        acct = life.new_account(push_url=receiver.url)
        task = sent_task(life, acct, "8613800138000")
        [batch] = settled(life, acct)
        assert outcomes(batch) == ["error"] * 3 and batch["state"] == "returned"
        receiver.quiet(3)
        [report] = pull(life, acct)
        assert (report["taskid"], report["status"]) == (str(task), "10")
        assert pull(life, acct) == []


def test_other_answers_count_as_delivered(life):
    with PushReceiver([(500, b""), (503, b"Service Unavailable")]) as receiver:
        acct = life.new_account(push_url=receiver.url)
        sent_task(life, acct, "8613800138000")
        settled(life, acct, 1)
        sent_task(life, acct, "8613800138001")
        batches = settled(life, acct, 2)
        assert [outcomes(b) for b in batches] == [["delivered_other"], ["delivered_other"]]
        assert [b["attempts"][0]["http_status"] for b in batches] == [500, 503]
        assert pull(life, acct) == []


def test_connection_refused_is_retried_then_returned(life):
    with PushReceiver(listening=False) as dead:
        acct = life.new_account(push_url=dead.url)
        task = sent_task(life, acct, "8613800138000")
        [batch] = settled(life, acct)
    assert outcomes(batch) == ["connect_error"] * 3 and batch["state"] == "returned"
    assert [r["taskid"] for r in pull(life, acct)] == [str(task)]


def test_retry_pause_is_platform_time_and_a_receiver_that_comes_back_gets_it(life):
    admin(life, "PUT", "settings", {"push_retry_pauses": [600, 1200]})
    with PushReceiver(listening=False) as receiver:
        acct = life.new_account(push_url=receiver.url)
        task = sent_task(life, acct, "8613800138000")
        wait_until(lambda: first_outcomes(life, acct) == ["connect_error"], 20, "try 1")
        receiver.listen()
        receiver.quiet(0, 0.5)  # the 600 s pause holds it back ...
        advance(life, 601)  # ... until the virtual clock passes it
        [push] = receiver.wait_for(1)
        assert [r.task_id for r in push.items] == [task]
        [batch] = settled(life, acct)
        assert outcomes(batch) == ["connect_error", "delivered"]


def test_timeout_is_retried(life):
    admin(life, "PUT", "settings", {"push_timeout": 0.5})
    with PushReceiver([HANG, b"1"]) as receiver:
        acct = life.new_account(push_url=receiver.url)
        sent_task(life, acct, "8613800138000")
        [batch] = settled(life, acct)
        assert outcomes(batch) == ["timeout", "delivered"]
        assert batch["attempts"][0]["duration_ms"] >= 400  # push_timeout 0.5 s
        receiver.quiet(2, 0.3)


def test_uplinks_are_pushed_as_callbox(life, receiver):
    acct = life.new_account(push_url=receiver.url)
    task = sent_task(life, acct, "8613800000005")  # delivered, then replies TD
    receiver.wait_for(2)
    boxes = {etree.fromstring(p.body)[0].tag: p for p in receiver.pushes}
    assert set(boxes) == {"statusbox", "callbox"}
    [uplink] = boxes["callbox"].items
    assert (uplink.mobile, uplink.task_id, uplink.content) == ("8613800000005", task, "TD")
    reply = admin(life, "POST", "uplinks", {"account": acct.name, "mobile": "8613800000005", "content": "再见"})
    assert reply.json()["route"] == "push"
    receiver.wait_for(3)
    assert [u.content for u in receiver.pushes[2].items] == ["再见"]
    assert pull(life, acct, "/callApi.aspx") == []


def test_scheduled_send_is_pushed_only_after_its_time(life, receiver):
    acct = life.new_account(push_url=receiver.url)
    later = life.platform().now_datetime() + timedelta(minutes=10)  # sent as platform time, no zone
    task = sent_task(life, acct, "8613800138000", later.strftime("%Y-%m-%d %H:%M:%S"))
    receiver.quiet(0, 0.5)
    advance(life, 601)
    [push] = receiver.wait_for(1)
    assert [r.task_id for r in push.items] == [task]


def test_many_sends_two_workers_each_report_pushed_once(life, receiver):
    import concurrent.futures

    acct = life.new_account(push_url=receiver.url)
    mobiles = [f"86138001{i:05d}" for i in range(40)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        tasks = list(pool.map(lambda m: sent_task(life, acct, m), mobiles))
    wait_until(lambda: sum(len(p.items) for p in receiver.pushes) >= 40, 20, "40 pushed reports")
    received = receiver.quiet(len(receiver.pushes), 0.6)
    keys = [(r.task_id, r.mobile) for p in received for r in p.items]
    assert sorted(keys) == sorted(zip(tasks, mobiles))  # every report, none twice
    batches = pushes(life, acct)
    assert all(outcomes(b) == ["delivered"] for b in batches)
    store = life.platform().store
    [lease] = store.db.execute("SELECT owner FROM leases WHERE name='push-runner'").fetchall()  # one runner
    assert lease["owner"].split(":")[1].isdigit()


# -- restarts ---------------------------------------------------------------------------
def test_pending_pushes_survive_a_restart(tmp_path):
    server = MockProcess(tmp_path / "restart.db").start()
    try:
        admin(server, "PUT", "settings", {**FAST, "push_retry_pauses": [300, 300]})
        with PushReceiver(listening=False) as receiver:
            acct = server.new_account(push_url=receiver.url)
            task = sent_task(server, acct, "8613800138000")
            wait_until(lambda: first_outcomes(server, acct) == ["connect_error"], 20, "try 1")
            server.stop()  # with the batch pending (next try in 300 s)
            receiver.listen()
            server.start()
            advance(server, 301)
            [push] = receiver.wait_for(1)
            assert [r.task_id for r in push.items] == [task]
            [batch] = settled(server, acct)
            assert outcomes(batch) == ["connect_error", "delivered"]
            receiver.quiet(1, 0.5)
    finally:
        server.stop()


def test_a_push_in_flight_when_killed_is_pushed_again(tmp_path):
    """At-least-once across crashes: the receiver saw try 1, the mock died before the answer."""
    import signal

    server = MockProcess(tmp_path / "kill.db", workers=1).start()
    try:
        admin(server, "PUT", "settings", {**FAST, "push_timeout": 30})
        with PushReceiver([HANG, b"1"]) as receiver:
            acct = server.new_account(push_url=receiver.url)
            task = sent_task(server, acct, "8613800138000")
            receiver.wait_for(1)
            server.stop(signal.SIGKILL)
            server.start()
            pushes_ = receiver.wait_for(2)
            assert pushes_[0].body == pushes_[1].body and [r.task_id for r in pushes_[1].items] == [task]
            [batch] = settled(server, acct)
            assert outcomes(batch) == ["interrupted", "delivered"]
            assert pull(server, acct) == []
    finally:
        server.stop()
