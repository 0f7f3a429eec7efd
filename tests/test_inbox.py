"""The web inbox at /_mock/, in a real headless Chromium (Debian's chromium + chromium-driver, via Selenium).

One browser for the module; every test uses its own account on the session's
mock server, so tests do not see each other's messages. All waits are explicit
(WebDriverWait with a timeout), never sleeps. Without Chromium the browser
tests are skipped, except under CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import urllib.request
import uuid
from html.parser import HTMLParser

import pytest
import requests
from werkzeug.test import Client

from ipyy_client import SoapClient
from ipyy_client.http import HttpClient
from ipyy_mock.admin.inbox import CSP
from ipyy_mock.app import create_app

CHROMIUM = os.environ.get("IPYY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("IPYY_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
# The network is closed: without these Chromium stalls on lookups (updates, sync, safe browsing ...).
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,900",
)
WAIT = 15  # seconds; the inbox polls every second
QUIET = "8613800000004"  # the test number that never reports by itself (docs/contract.md §3)
PHONE = "8613800138000"


def require_browser() -> None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (pip install -e '.[test]')")
    if not missing:
        return
    reason = (
        f"headless browser tests need {', '.join(missing)}: "
        "apt-get install chromium chromium-driver (scripts/test.sh does it when run as root)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager never runs (it would try to download a driver).
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(15)
    yield driver
    driver.quit()


# -- helpers ------------------------------------------------------------------------------


def wait(driver, condition, message: str, timeout: float = WAIT):
    """Until ``condition(driver)`` is truthy; a node replaced by the page's re-render mid-check is just retried."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(
        driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    ).until(condition, message)


def css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def open_inbox(driver, base_url: str, account: str, fragment: str = "") -> None:
    """A fresh page load (not a hash change), then wait until the first poll for ``account`` is shown."""
    driver.get("about:blank")
    driver.get(f"{base_url}/_mock/#account={account}{fragment}")
    wait(
        driver,
        lambda d: d.execute_script(
            "return document.getElementById('live').dataset.state === 'live'"
            " && document.getElementById('account').value === arguments[0]"
            " && document.getElementById('balance-value').textContent !== '…'",
            account,
        ),
        f"the inbox did not come up live for account {account}",
    )


# The page re-renders an entry when its data changes: read entries in one script call (a consistent snapshot).
SNAPSHOT_JS = """
const pick = (el, sel) => { const x = el.querySelector(sel); return x ? x.textContent : null; };
return [...document.querySelectorAll(arguments[0])].map((el) => ({
  text: pick(el, '.item-text, .bubble-text'), all: el.textContent, mobile: pick(el, '.item-mobile'),
  meta: pick(el, '.item-meta, .bubble-meta'), badge: pick(el, '.badge'), report: pick(el, '.report'),
  state: pick(el, '.uplink-state'), status: el.dataset.status || null,
  buttons: [...el.querySelectorAll('button')].map((b) => b.textContent)}));
"""


def entry(driver, selector: str, content: str) -> dict | None:
    return next((e for e in driver.execute_script(SNAPSHOT_JS, selector) if e["text"] == content), None)


def feed_item(driver, content: str) -> dict | None:
    return entry(driver, "#feed li.item", content)


def bubble(driver, kind: str, content: str) -> dict | None:
    return entry(driver, f"#thread li.bubble.{kind}", content)


def click(driver, selector: str, content: str, inner: str | None = None) -> None:
    """Click the entry under ``selector`` whose text is ``content`` (or its ``inner`` element), retrying re-renders."""

    def attempt(d):
        for el in css(d, selector):
            if el.find_element("css selector", ".item-text, .bubble-text").get_property("textContent") == content:
                (el.find_element("css selector", inner) if inner else el).click()
                return True
        return False

    wait(driver, attempt, f"nothing to click: {selector} {content!r} {inner or ''}")


def soap_send(mock_server, account, mobile: str, content: str):
    client = SoapClient(account.name, account.password, mock_server.base_url)
    try:
        result = client.send_i18n_sms([mobile], content)
    finally:
        client.close()
    assert result.status.name == "OK", result
    return result


def http_client(mock_server, account) -> HttpClient:
    return HttpClient(account.name, account.password, base_url=mock_server.base_url)


def no_alert(driver) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert  # noqa: B018 (the property raises when no alert is open)
    except NoAlertPresentException:
        return True
    return False


# -- in the browser --------------------------------------------------------------------------


def test_soap_send_shows_up_live_without_reload(browser, mock_server):
    account = mock_server.new_account()
    open_inbox(browser, mock_server.base_url, account.name)
    wait(browser, lambda d: d.find_element("id", "list-empty").is_displayed(), "a new account shows the empty list")
    browser.execute_script("window.__sameDocument = 'yes';")  # gone if the page reloads

    content = f"live {uuid.uuid4().hex[:8]}【华信】"
    result = soap_send(mock_server, account, PHONE, content)

    item = wait(browser, lambda d: feed_item(d, content), "the SOAP send did not appear in the feed")
    assert item["mobile"] == PHONE
    assert f"#{result.task_id}" in item["meta"] and "soap11" in item["meta"] and "1 seg · 0.05" in item["meta"]
    wait(
        browser,
        lambda d: d.find_element("id", "balance-value").text == str(result.balance),
        f"the balance did not follow the send to {result.balance}",
    )
    assert browser.execute_script("return window.__sameDocument") == "yes", "the page was reloaded"
    wait(
        browser,
        lambda d: d.find_element("id", "count-tasks").get_property("textContent") == "1",
        "the Tasks tab does not count the task",
    )


def test_hostile_content_is_shown_as_text(browser, mock_server):
    account = mock_server.new_account()
    content = '<script>alert(1)</script> "quotes" <b>markup</b> <img src=x onerror=alert(2)> &amp;【华信】'
    soap_send(mock_server, account, PHONE, content)
    open_inbox(browser, mock_server.base_url, account.name)

    wait(browser, lambda d: feed_item(d, content), "the hostile message is not in the feed as text")
    click(browser, "#feed li.item", content)
    wait(browser, lambda d: bubble(d, "out", content), "the conversation does not show the content as text")
    assert browser.find_element("id", "conv-title").text == PHONE

    injected = css(
        browser,
        "#feed b, #feed script, #feed img, #thread b, #thread script, #thread img, "
        "#task-view b, #task-view script, #task-view img",
    )
    assert injected == [], "markup from the message became elements"
    assert len(css(browser, "script")) == 1  # the inbox's own inbox.js, nothing else
    assert no_alert(browser), "an alert opened: the content ran as script"


def test_reply_form_reaches_callapi_with_task_id(browser, mock_server):
    account = mock_server.new_account()
    sent = soap_send(mock_server, account, PHONE, "Reply Y to confirm【华信】")
    open_inbox(browser, mock_server.base_url, account.name)

    browser.find_element("id", "tab-numbers").click()
    wait(
        browser,
        lambda d: [el.click() or True for el in css(d, f"#numbers li.item[data-mobile='{PHONE}']")],
        "the number is not in the Numbers tab",
    )
    wait(browser, lambda d: bubble(d, "out", "Reply Y to confirm【华信】"), "the conversation did not open")

    reply = f"Y 好的 <i>{uuid.uuid4().hex[:6]}</i>"
    browser.find_element("id", "reply-content").send_keys(reply)
    browser.find_element("id", "reply-extno").send_keys("12")
    browser.find_element("id", "reply-send").click()

    shown = wait(browser, lambda d: bubble(d, "in", reply), "the injected reply is not in the conversation")
    assert f"to task #{sent.task_id}" in shown["meta"] and "extno 12" in shown["meta"]
    assert shown["state"] == "queued for callApi"
    assert browser.find_element("id", "reply-content").get_property("value") == ""
    assert "injected" in browser.find_element("id", "reply-status").text

    client = http_client(mock_server, account)
    try:
        uplinks = client.uplinks()
    finally:
        client.close()
    assert [(u.mobile, u.task_id, u.content, u.extno) for u in uplinks] == [(PHONE, sent.task_id, reply, "12")]
    wait(
        browser,
        lambda d: (bubble(d, "in", reply) or {}).get("state") == "pulled",
        "the inbox does not show the reply as pulled",
    )


def test_mark_failed_reports_status_20(browser, mock_server):
    account = mock_server.new_account()
    content = "waiting for a report【华信】"
    sent = soap_send(mock_server, account, QUIET, content)
    open_inbox(browser, mock_server.base_url, account.name, f"&mobile={QUIET}")

    out = wait(browser, lambda d: bubble(d, "out", content), "the conversation did not open")
    assert (out["status"], out["badge"], out["buttons"]) == ("sent", "waiting", ["Mark delivered", "Mark failed"])
    click(browser, "#thread li.bubble.out", content, "button.act-failed")

    out = wait(
        browser,
        lambda d: (b := bubble(d, "out", content)) and b["status"] == "failed" and b,
        "the message did not turn failed",
    )
    assert out["badge"] == "failed" and out["report"].startswith("report 20 UNDELIV") and out["buttons"] == []

    client = http_client(mock_server, account)
    try:
        reports = client.status_reports()
    finally:
        client.close()
    assert [(r.mobile, r.task_id, r.status, r.errorcode) for r in reports] == [(QUIET, sent.task_id, 20, "UNDELIV")]


def test_journal_lists_requests_and_degrades(browser, mock_server):
    account = mock_server.new_account()
    soap_send(mock_server, account, PHONE, "journal me【华信】")
    open_inbox(browser, mock_server.base_url, account.name)
    browser.find_element("id", "view-journal").click()

    def soap_row(d):
        rows = d.execute_script(
            "return [...document.querySelectorAll('#journal-table tr.jrow')]"
            ".map((r) => [...r.cells].map((c) => c.textContent));"
        )
        return next(
            (
                cells
                for cells in rows
                if cells[1:4] == ["soap11", "POST", "/WebService.asmx"] and cells[6] == account.name
            ),
            None,
        )

    cells = wait(browser, soap_row, "the SOAP send is not in the journal")
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", cells[0]) and cells[4] == "200" and cells[5].endswith(" ms")
    assert not css(browser, "#journal-table tr.jrow[data-surface='admin']"), "the inbox's own polling is hidden"
    assert not browser.find_element("id", "journal-unavailable").is_displayed()

    # Without the endpoint (blocked here, as an older mock would answer 404) the page says so and stays live.
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/_mock/api/journal*"]})
    try:
        open_inbox(browser, mock_server.base_url, account.name, "&view=journal")
        note = wait(
            browser,
            lambda d: (
                d.find_element("id", "journal-unavailable").is_displayed()
                and d.find_element("id", "journal-unavailable")
            ),
            "no 'journal unavailable' notice",
        )
        assert note.text.startswith("Journal unavailable")
        assert browser.find_element("id", "live").get_attribute("data-state") == "live"
    finally:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        browser.execute_cdp_cmd("Network.disable", {})


def test_page_runs_under_its_csp_without_errors(browser, mock_server):
    account = mock_server.new_account()
    soap_send(mock_server, account, QUIET, "csp check【华信】")
    browser.get_log("browser")  # drop what earlier tests left
    open_inbox(browser, mock_server.base_url, account.name, f"&mobile={QUIET}")
    wait(browser, lambda d: bubble(d, "out", "csp check【华信】"), "the conversation did not open")
    browser.find_element("id", "tab-tasks").click()
    wait(browser, lambda d: [el.click() or True for el in css(d, "#tasks li.item")], "no task in the Tasks tab")
    wait(browser, lambda d: d.find_element("id", "task-view").is_displayed(), "the task view did not open")
    wait(browser, lambda d: css(d, "#task-rows tr[data-status='sent']"), "the task's recipient row is missing")
    styles = browser.execute_script(
        "const s = getComputedStyle(document.querySelector('.topbar')); return [s.display, s.backgroundColor];"
    )
    assert styles == ["flex", "rgb(17, 24, 39)"], "the stylesheet did not apply"
    problems = [
        e["message"]
        for e in browser.get_log("browser")
        if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]
    ]
    assert problems == []


# -- over HTTP and in-process ------------------------------------------------------------------


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts.append(attrs)
        if tag == "style" or "style" in attrs or any(name.startswith("on") for name in attrs):
            self.inline.append(f"<{tag} {attrs}>")


def test_html_is_served_with_a_strict_csp(mock_server):
    with urllib.request.urlopen(f"{mock_server.base_url}/_mock/", timeout=10) as reply:
        headers, html = reply.headers, reply.read().decode("utf-8")
    assert headers["Content-Security-Policy"] == CSP
    assert CSP == (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    markup = _Markup()
    markup.feed(html)
    assert markup.scripts == [{"src": "static/inbox.js", "defer": None}]
    assert markup.inline == [], "inline style or event handlers would be blocked by the CSP"
    for name, ctype in (("inbox.js", "text/javascript"), ("inbox.css", "text/css"), ("favicon.svg", "image/svg+xml")):
        with urllib.request.urlopen(f"{mock_server.base_url}/_mock/static/{name}", timeout=10) as reply:
            assert reply.headers["Content-Type"].startswith(ctype)
            assert reply.headers["X-Content-Type-Options"] == "nosniff"
            assert reply.headers["Content-Security-Policy"] == CSP
    with urllib.request.urlopen(f"{mock_server.base_url}/_mock/static/inbox.js", timeout=10) as reply:
        script = reply.read().decode("utf-8")
    sinks = re.findall(
        r"\.(?:inner|outer)HTML\s*[+]?=|insertAdjacentHTML|document\.write|\beval\(|new Function"
        r"|setAttribute\(\s*['\"](?:href|src|style|on\w+)",
        script,
    )
    assert sinks == [], "the inbox script must build the DOM from text only"


@pytest.fixture(scope="module")
def inprocess(tmp_path_factory):
    db = tmp_path_factory.mktemp("inbox") / "inbox.db"
    return Client(create_app(str(db))), Client(create_app(str(db), admin_token="s3cret-token"))


def test_inbox_refuses_non_loopback_callers(inprocess):
    plain, with_token = inprocess
    far, near = {"REMOTE_ADDR": "10.1.2.3"}, {"REMOTE_ADDR": "127.0.0.1"}
    for path in ("/_mock/", "/_mock", "/_mock/static/inbox.js", "/_mock/api/messages"):
        reply = plain.get(path, environ_overrides=far)
        assert reply.status_code == 403, path
        assert "10.1.2.3" in reply.get_data(as_text=True)
    assert plain.get("/_mock/", environ_overrides={"REMOTE_ADDR": "::ffff:127.0.0.1"}).status_code == 200
    assert plain.get("/_mock/", environ_overrides=near).status_code == 200
    # started with --admin-token: the page (static, no data) is handed out so that it can ask for the token;
    # everything it shows comes from the admin API, which wants the token from every caller, loopback included
    for env in (far, near):
        assert with_token.get("/_mock/", environ_overrides=env).status_code == 200
        assert with_token.get("/_mock/api/messages", environ_overrides=env).status_code == 401
        assert (
            with_token.get("/_mock/api/messages", environ_overrides=env, headers={"X-Admin-Token": "nope"}).status_code
            == 403
        )
        assert (
            with_token.get(
                "/_mock/api/messages", environ_overrides=env, headers={"X-Admin-Token": "s3cret-token"}
            ).status_code
            == 200
        )


def test_inbox_routes(inprocess):
    client, _ = inprocess
    near = {"REMOTE_ADDR": "127.0.0.1"}
    moved = client.get("/_mock", environ_overrides=near)
    assert moved.status_code == 308 and moved.headers["Location"] == "/_mock/"
    assert client.get("/_mock/index.html", environ_overrides=near).status_code == 200
    for path in ("/_mock/static/", "/_mock/static/../inbox.py", "/_mock/inbox.py", "/_mock/static/nope.js"):
        reply = client.get(path, environ_overrides=near)
        assert reply.status_code == 404, path
        assert reply.headers["Content-Security-Policy"] == CSP
    refused = client.post("/_mock/", environ_overrides=near)
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD"
    assert client.get("/_mock/api/clock", environ_overrides=near).status_code == 200  # still the admin API's


def test_conformance_warnings_show_on_message_bubble_and_journal_row(browser, mock_server):
    """A send the vendor accepts off the document (signature first, plain password) is marked in the inbox."""
    from ipyy_client.encoding import encode_content

    account = mock_server.new_account()
    content = f"【华信】warned {uuid.uuid4().hex[:6]}"
    reply = requests.post(
        mock_server.base_url + "/I18NSms.aspx",
        timeout=30,
        data={
            "action": "send",
            "account": account.name,
            "password": account.password,
            "mobile": PHONE,
            "content": encode_content(content),
            "code": "8",
        },
    )
    assert "<returnstatus>Success</returnstatus>" in reply.text
    clean = soap_send(mock_server, account, PHONE, "clean【华信】")
    open_inbox(browser, mock_server.base_url, account.name)

    item = wait(browser, lambda d: feed_item(d, content), "the warned send is not in the feed")
    assert "2 warnings" in item["meta"]
    assert "warning" not in (wait(browser, lambda d: feed_item(d, "clean【华信】"), "no clean send") or {})["meta"]
    chips = css(browser, "#feed li.item .chip.warn")
    assert len(chips) == 1 and chips[0].get_attribute("data-warnings") == "plain-password signature-at-start"
    click(browser, "#feed li.item", content)
    listed = wait(
        browser,
        lambda d: [li.get_property("textContent") for li in css(d, "#thread li.bubble.out ul.warnings li")],
        "no warnings on the bubble",
    )
    assert any(text.startswith("signature-at-start") for text in listed)
    assert clean.msg_id

    browser.find_element("id", "view-journal").click()

    def warned_row(d):
        rows = d.execute_script(
            "return [...document.querySelectorAll('#journal-table tr.jrow')]"
            ".map((r) => [r.dataset.surface, r.textContent])"
        )
        return next((text for surface, text in rows if surface == "http" and "warning" in text), None)

    row = wait(browser, warned_row, "the journal row shows no warning")
    assert "⚠ 2 warnings" in row


def test_a_send_appears_through_the_event_stream_without_reload(browser, mock_server):
    """With the stream open the page polls only every 5 s: three sends each shown within 2 s came by the stream
    (by polling alone, all three that fast would be luck: about 1 in 30)."""
    account = mock_server.new_account()
    open_inbox(browser, mock_server.base_url, account.name)
    wait(browser, lambda d: d.find_element("id", "live").get_attribute("data-stream") == "open", "no event stream")
    browser.execute_script("window.__sameDocument = 'yes';")
    for n in range(3):
        content = f"stream {n} {uuid.uuid4().hex[:8]}【华信】"
        soap_send(mock_server, account, PHONE, content)
        wait(browser, lambda d: feed_item(d, content), f"send {n} did not come by the stream within 2 s", timeout=2)
    assert browser.execute_script("return window.__sameDocument") == "yes", "the page was reloaded"


def test_without_the_stream_the_page_polls(browser, tmp_path):
    """gunicorn has no edge: /_mock/api/events answers 404, and the page falls back to polling once a second."""
    from support.mockproc import MockProcess

    proc = MockProcess(tmp_path / "mock.db", workers=1, args=("--server", "gunicorn")).start()
    try:
        account = proc.new_account()
        open_inbox(browser, proc.base_url, account.name)
        wait(browser, lambda d: d.find_element("id", "live").get_attribute("data-stream") == "polling", "no fallback")
        content = f"polled {uuid.uuid4().hex[:8]}【华信】"
        soap_send(proc, account, PHONE, content)
        wait(browser, lambda d: feed_item(d, content), "the send did not appear by polling")
    finally:
        proc.stop()
