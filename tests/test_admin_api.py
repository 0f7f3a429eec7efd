"""The admin API (/_mock/api/): who may call it, JSON errors with hints, validation; never a 500."""

from __future__ import annotations

import json

import pytest
import requests
from werkzeug.test import Client

from ipyy_mock.app import MockApp
from ipyy_mock.core.platform import Platform
from support.mockproc import MockProcess

TOKEN = "s3cr3t-token"
REMOTE = "203.0.113.9"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    p = Platform(tmp_path_factory.mktemp("admin") / "admin.db")
    p.seed_demo()
    return p


@pytest.fixture(scope="module")
def app(platform):
    return MockApp(platform)


@pytest.fixture
def client(app, platform):
    yield Client(app)
    platform.set_rules(None)


@pytest.fixture(scope="module")
def token_client(platform):
    return Client(MockApp(platform, admin_token=TOKEN))


def call(
    client: Client,
    method: str,
    path: str,
    body=None,
    *,
    remote: str = "127.0.0.1",
    raw: bytes | None = None,
    headers: dict | None = None,
):
    data = raw if raw is not None else (None if body is None else json.dumps(body))
    reply = client.open(
        f"/_mock/api/{path}", method=method, data=data, headers=headers or {}, environ_base={"REMOTE_ADDR": remote}
    )
    assert reply.status_code < 500, reply.text
    assert reply.content_type == "application/json; charset=utf-8", reply.text
    return reply


def refused(reply, status: int = 400, says: str = "") -> dict:
    assert reply.status_code == status, reply.text
    body = reply.json
    assert set(body) == {"error", "hint"} and body["error"] and body["hint"], body
    assert says.lower() in body["error"].lower(), body
    return body


# -- who may call -------------------------------------------------------------------
@pytest.mark.parametrize("addr", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_without_a_token_loopback_callers_are_served(client, addr):
    reply = call(client, "GET", "clock", remote=addr)
    assert reply.status_code == 200
    assert reply.json["zone"] == "Asia/Shanghai" and reply.json["now"].endswith("+08:00")


def test_without_a_token_non_loopback_callers_are_refused(client):
    body = refused(call(client, "GET", "clock", remote=REMOTE), 403, "loopback")
    assert "X-Admin-Token" in body["hint"] and "--admin-token-file" in body["hint"]
    refused(call(client, "POST", "clock/advance", {"seconds": 1}, remote="10.0.0.5"), 403)


def test_without_a_configured_token_no_token_opens_it(client):
    refused(call(client, "GET", "clock", remote=REMOTE, headers={"X-Admin-Token": "anything"}), 403)


@pytest.mark.parametrize("remote", [REMOTE, "127.0.0.1", "::1"])
@pytest.mark.parametrize(
    "headers", [{"X-Admin-Token": TOKEN}, {"Authorization": f"Bearer {TOKEN}"}, {"X-Admin-Token": f"  {TOKEN} "}]
)
def test_with_a_token_any_caller_with_it_is_served(token_client, remote, headers):
    assert call(token_client, "GET", "clock", remote=remote, headers=headers).status_code == 200


@pytest.mark.parametrize("remote", ["127.0.0.1", "::1", "::ffff:127.0.0.1", REMOTE])
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Admin-Token": ""},
        {"X-Admin-Token": "   "},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer  "},
        {"Authorization": f"Basic {TOKEN}"},
    ],
)
def test_with_a_token_loopback_callers_need_it_too(token_client, platform, remote, headers):
    """Token means token: loopback is no exception (a DNS-rebinding page is a loopback caller), and an
    empty header is a missing token."""
    reply = call(token_client, "GET", "clock", remote=remote, headers=headers)
    body = refused(reply, 401, "admin token required")
    assert "X-Admin-Token" in body["hint"] and reply.headers["WWW-Authenticate"].startswith("Bearer")
    before = platform.rules()
    refused(call(token_client, "DELETE", "rules", remote=remote, headers=headers), 401)
    refused(call(token_client, "POST", "reset", remote=remote, headers=headers), 401)
    assert platform.rules() == before


@pytest.mark.parametrize("remote", [REMOTE, "127.0.0.1"])
@pytest.mark.parametrize(
    "headers",
    [
        {"X-Admin-Token": "nope"},
        {"Authorization": "Bearer nope"},
        {"X-Admin-Token": TOKEN[:-1]},
        {"X-Admin-Token": TOKEN + "x"},
    ],
)
def test_wrong_token_is_refused_from_anywhere(token_client, remote, headers):
    refused(call(token_client, "GET", "clock", remote=remote, headers=headers), 403, "wrong admin token")


def test_admin_token_flag_over_the_wire(tmp_path):
    server = MockProcess(tmp_path / "token.db", workers=1, args=("--admin-token", TOKEN)).start()
    try:
        assert "/_mock/api/clock" in server.banner and "admin token on" in server.banner
        assert TOKEN not in server.banner
        url = server.base_url + "/_mock/api/clock"
        with requests.get(url, timeout=10) as missing:  # loopback, no token
            assert missing.status_code == 401 and missing.json()["error"] == "admin token required"
        assert requests.get(url, headers={"X-Admin-Token": TOKEN}, timeout=10).status_code == 200
        with requests.get(url, headers={"X-Admin-Token": "x"}, timeout=10) as wrong:  # closed: a fast stop
            assert wrong.status_code == 403 and wrong.json()["error"] == "wrong admin token"
    finally:
        server.stop()


# -- bad requests are JSON 4xx --------------------------------------------------------
@pytest.mark.parametrize(
    "raw, says",
    [
        (b"{not json", "not valid JSON"),
        (b"", "empty body"),
        (b"[1, 2]", "JSON object"),
        (b"\xff\xfe", "not valid JSON"),
        (b'"seconds"', "JSON object"),
    ],
)
def test_bad_json_is_400(client, raw, says):
    refused(call(client, "POST", "clock/advance", raw=raw), 400, says)


def test_unknown_endpoint_and_method_are_json(client):
    body = refused(call(client, "GET", "nowhere"), 404, "no admin endpoint")
    assert "GET /_mock/api/clock" in body["hint"]
    refused(call(client, "DELETE", "clock"), 405, "not allowed")
    assert call(client, "GET", "clock/").status_code in (200, 308)


@pytest.mark.parametrize("seconds", [-1, "60", True, None, 1e12])
def test_advance_refuses_bad_seconds(client, seconds):
    refused(call(client, "POST", "clock/advance", {"seconds": seconds}), 400, "seconds")


def test_advance_moves_the_clock(client, platform):
    before = call(client, "GET", "clock").json["offset_seconds"]
    reply = call(client, "POST", "clock/advance", {"seconds": 90})
    assert reply.status_code == 200
    assert reply.json["offset_seconds"] == pytest.approx(before + 90)
    assert set(reply.json["released"]) == {"reports", "uplinks", "push_batches"}


# -- rules ---------------------------------------------------------------------------------
def test_rules_list_add_delete_reset(client, platform):
    defaults = call(client, "GET", "rules").json
    assert [r["pattern"] for r in defaults["rules"]][:5] == [f"861380000000{i}" for i in range(1, 6)]
    assert "no_report" in defaults["outcomes"]
    added = call(client, "POST", "rules", {"pattern": r"86177\d{8}", "outcome": "no_channel"})
    assert added.status_code == 201 and added.json["rules"][0]["outcome"] == "no_channel"
    last = call(client, "POST", "rules", {"pattern": "1", "position": 6})
    assert last.json["rules"][6]["pattern"] == "1"
    assert platform.rules()[0].pattern == r"86177\d{8}"
    assert len(call(client, "DELETE", "rules/0").json["rules"]) == 6
    refused(call(client, "DELETE", "rules/99"), 404, "no rule")
    replaced = call(client, "PUT", "rules", {"rules": [{"pattern": ".*", "outcome": "failed", "delay": 5}]})
    assert replaced.json["rules"] == [
        {"pattern": ".*", "outcome": "failed", "errorcode": "", "delay": 5.0, "reply": ""}
    ]
    assert call(client, "DELETE", "rules").json == defaults


@pytest.mark.parametrize(
    "rule, says, hint",
    [
        ({"pattern": "8613(", "outcome": "failed"}, "not a valid regular expression", "escape"),
        ({"pattern": "861", "outcome": "lost"}, "unknown outcome", "delivered"),
        ({"outcome": "failed"}, "pattern is required", "pattern"),
        ({"pattern": "861", "delay": -5}, "delay", "seconds"),
        ({"pattern": "861", "delay": "soon"}, "delay", "seconds"),
        ({"pattern": "861", "colour": "red"}, "unknown rule field", "pattern"),
        ({"pattern": "861", "reply": 7}, "reply", "TD"),
        ({"pattern": "861", "position": 99}, "position", "first"),
    ],
)
def test_bad_rules_are_400_with_a_hint(client, platform, rule, says, hint):
    body = refused(call(client, "POST", "rules", rule), 400, says)
    assert hint.lower() in body["hint"].lower()
    assert [r.pattern for r in platform.rules()][0] == "8613800000001"  # nothing stored


def test_put_rules_validates_every_rule_first(client, platform):
    refused(call(client, "PUT", "rules", {"rules": [{"pattern": "1"}, {"pattern": "("}]}), 400, "regular")
    refused(call(client, "PUT", "rules", {"rules": "all"}), 400, "list")
    assert platform.rules()[0].pattern == "8613800000001"


# -- settings -------------------------------------------------------------------------------
def test_settings_get_and_put(client, platform):
    assert call(client, "GET", "settings").json == {
        "report_delay": 0.0,
        "push_timeout": 5.0,
        "push_retry_pauses": [1.0, 4.0],
    }
    reply = call(client, "PUT", "settings", {"report_delay": 12, "push_retry_pauses": [0.5]})
    assert reply.status_code == 200 and reply.json["report_delay"] == 12 and reply.json["push_retry_pauses"] == [0.5]
    assert platform.report_delay() == 12
    call(client, "PUT", "settings", {"report_delay": 0, "push_retry_pauses": [1, 4]})


@pytest.mark.parametrize(
    "change, says",
    [
        ({"report_dealy": 5}, "unknown setting"),
        ({"report_delay": -1}, "between"),
        ({"push_timeout": 0}, "more than 0"),
        ({"push_retry_pauses": [1, 2, 3]}, "list of 1 to 2"),
        ({"push_retry_pauses": 3}, "list"),
        ({"push_timeout": "5"}, "number"),
    ],
)
def test_bad_settings_are_400_and_change_nothing(client, platform, change, says):
    before = platform.delivery_settings()
    refused(call(client, "PUT", "settings", {"report_delay": 3, **change}), 400, says)
    assert platform.delivery_settings() == before


# -- uplinks -----------------------------------------------------------------------------
def test_uplink_injection_validates(client):
    refused(
        call(client, "POST", "uplinks", {"account": "ghost", "mobile": "8613800138000", "content": "x"}),
        404,
        "no account",
    )
    refused(call(client, "POST", "uplinks", {"account": "demo", "mobile": "call me", "content": "x"}), 400, "mobile")
    refused(call(client, "POST", "uplinks", {"account": "demo", "mobile": "8613800138000"}), 400, "content")
    refused(
        call(client, "POST", "uplinks", {"account": "demo", "mobile": "1", "content": "x", "x": 1}),
        400,
        "unknown field",
    )
    ok = call(client, "POST", "uplinks", {"account": "demo", "mobile": "+8613800138000", "content": "你好"})
    assert ok.status_code == 201 and ok.json["mobile"] == "8613800138000" and ok.json["route"] == "pull"


def test_pushes_journal_endpoint(client):
    assert call(client, "GET", "pushes").json == {"batches": []}
    refused(call(client, "GET", "pushes?limit=0"), 400, "limit")


def test_vendor_paths_still_route(client):
    reply = client.get("/statusApi.aspx?action=query&account=demo&password=demo123")
    assert reply.status_code == 200 and b"<returnsms" in reply.data


# -- cross-site requests from a browser (CSRF) ------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://evil.example"},
        {"Origin": "http://localhost:9999"},
    ],
)
def test_cross_site_browser_requests_are_refused(client, platform, headers):
    before = platform.rules()
    reply = call(
        client,
        "POST",
        "rules",
        {"pattern": "1", "outcome": "failed"},
        headers={"Content-Type": "text/plain", **headers},
    )
    refused(reply, 403, "cross-site")
    assert platform.rules() == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    ],
)
def test_same_origin_and_non_browser_callers_pass(client, headers):
    assert call(client, "GET", "rules", headers=headers).status_code == 200
