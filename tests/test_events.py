"""``GET /_mock/api/events`` over the wire (admin/events.py): the stream, its access rule and its bounds.

The streams live on the edge's asyncio loop, not on the worker's thread: with
every allowed stream open, sends still go through. Each stream is bounded in
number per worker and ends with a ``retry:`` so that clients reconnect.
"""

from __future__ import annotations

import threading

import pytest
import requests

from ipyy_mock.admin import events
from support import soapraw
from support.mockproc import MockProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = MockProcess(tmp_path_factory.mktemp("events") / "mock.db", workers=1).start()
    yield proc
    proc.stop()


def open_stream(base_url: str, **headers: str) -> requests.Response:
    return requests.get(base_url + events.PATH, stream=True, timeout=30, headers=headers)


def blocks(reply: requests.Response):
    """Each event block as {field: value}."""
    block: dict[str, str] = {}
    for line in reply.iter_lines(decode_unicode=True):
        if line == "":
            if block:
                yield block
            block = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            block[name] = value.strip()


def send(proc: MockProcess, account) -> None:
    body = soapraw.envelope("SendI18NSms", account.name, account.password, "8613800138000", "你好【华信】")
    assert soapraw.parse_result(soapraw.post(proc.base_url, body)).status == "OK"


def test_the_stream_says_hello_then_change_when_a_message_arrives(server):
    account = server.new_account()
    reply = open_stream(server.base_url)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/event-stream")
    stream = blocks(reply)
    hello = next(stream)
    assert hello["retry"] == str(events.RETRY_MS) and hello["event"] == "hello"
    threading.Timer(0.2, send, (server, account)).start()
    change = next(stream)
    assert change["event"] == "change" and '"messages"' in change["data"]
    reply.close()


def test_sends_go_through_with_every_stream_open_and_one_more_is_refused(server):
    account = server.new_account()
    streams = [open_stream(server.base_url) for _ in range(events.MAX_STREAMS)]
    try:
        assert all(s.status_code == 200 for s in streams)
        extra = requests.get(server.base_url + events.PATH, timeout=30)
        assert extra.status_code == 429 and "polls" in extra.json()["hint"] and extra.headers["Retry-After"]
        for _ in range(5):  # the worker's one thread is free: the streams are on its loop
            send(server, account)
    finally:
        for s in streams:
            s.close()


def test_the_stream_follows_the_admin_api_access_rule(server):
    assert requests.get(server.base_url + events.PATH, headers={"Host": "evil.example"}, timeout=30).status_code == 403
    cross = requests.get(server.base_url + events.PATH, headers={"Sec-Fetch-Site": "cross-site"}, timeout=30)
    assert cross.status_code == 403
    assert requests.post(server.base_url + events.PATH, timeout=30).status_code == 405


def test_a_token_server_wants_the_token_for_the_stream(tmp_path):
    proc = MockProcess(tmp_path / "mock.db", workers=1, admin_token="token-for-the-event-stream").start()
    try:
        assert requests.get(proc.base_url + events.PATH, timeout=30).status_code == 401
        reply = open_stream(proc.base_url, **{"X-Admin-Token": "token-for-the-event-stream"})
        assert reply.status_code == 200 and next(blocks(reply))["event"] == "hello"
        reply.close()
    finally:
        proc.stop()


def test_a_stream_ends_with_retry_so_clients_reconnect(server, monkeypatch):
    """The bound itself, without waiting a minute: the hub in this process with a short stream."""
    import asyncio

    monkeypatch.setattr(events, "STREAM_SECONDS", 0.2)
    hub = events.EventHub(str(server.db_path), None)
    sent: list[str] = []

    class Transport:
        async def send_str(self, data: str) -> None:
            sent.append(data)

    class Protocol:
        def response_stream(self, status, headers):
            assert status == 200 and ("Content-Type", "text/event-stream; charset=utf-8") in headers
            return Transport()

        async def client_disconnect(self) -> None:
            await asyncio.sleep(3600)

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": events.PATH, "wsgi.url_scheme": "http"}
    asyncio.run(asyncio.wait_for(hub.serve(environ, Protocol()), 5))
    assert sent[0].startswith(f"retry: {events.RETRY_MS}\n") and sent[-1].startswith("event: bye")
    assert hub.streams == set()


def test_the_wsgi_route_without_the_edge_says_to_poll(tmp_path):
    from werkzeug.test import Client

    from ipyy_mock.app import create_app

    app = create_app(str(tmp_path / "mock.db"))
    reply = Client(app).get(events.PATH, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert reply.status_code == 404 and "polls" in reply.get_json()["hint"]
