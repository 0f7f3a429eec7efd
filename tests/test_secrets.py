"""Passwords never leak through a client, whatever the server echoes (the security issue).

A tiny server (tests/tinyserver.py) answers every request with the request itself, written back in the
ways a real server or proxy might quote it: raw, form-decoded, XML-escaped inside a reply's message,
remark, Description, faultstring or Fault detail, JSON-escaped in a JSON remark, padded so a secret
straddles the 300-byte ``.body`` cut and the 120-character message snippet. Every client (SOAP 1.1 and
1.2, HTTP, domestic, each method, sync and async twins) must then show neither the password nor the new password,
plain or in any of their wire forms (MD5 upper and lower hex, URL-, XML-, JSON-encoded), in any
exception's message, repr, description or body, in a Fault's fields, or in a result's repr.
"""

from __future__ import annotations

import html
import json
from urllib.parse import parse_qsl, quote, quote_plus
from xml.sax.saxutils import escape

import pytest

from ipyy_client import IpyyError, errors
from ipyy_client._masking import Secrets
from ipyy_client.encoding import md5_password
from support.tinyserver import TinyServer, http_reply

PASSWORD = "Pw-Zq81x!&<>/"
NEW_PASSWORD = "Nw/Kd 72y?&"
HEAD = '<?xml version="1.0" encoding="utf-8" ?>'
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TNS = "http://www.yysms.com/"


def forms(secret: str) -> set[str]:
    md5 = md5_password(secret)
    return {
        secret,
        md5,
        md5.lower(),
        quote_plus(secret),
        quote(secret, safe=""),
        escape(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),
    }


SECRETS = forms(PASSWORD) | forms(NEW_PASSWORD)
#: The first characters of each secret: a cut through the middle of one must not leave its start in view.
PREFIXES = {PASSWORD[:6], NEW_PASSWORD[:6], md5_password(PASSWORD)[:8], md5_password(NEW_PASSWORD)[:8]}


def texts_of(exc: BaseException) -> list[str]:
    out = [str(exc), repr(exc), getattr(exc, "description", "") or ""]
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        out.append(body.decode("utf-8", "replace"))
    for name in ("faultstring", "faultcode"):
        out.append(str(getattr(exc, name, "") or ""))
    detail = getattr(exc, "detail", None)
    if detail is not None:
        from lxml import etree

        out.append(etree.tostring(detail, encoding="unicode") if hasattr(detail, "tag") else str(detail))
    result = getattr(exc, "result", None)
    if result is not None:
        out.append(repr(result))
    return out


def assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text[:400])


def the_request(request: bytes) -> str:
    return request.decode("utf-8", "replace")


def decoded_form(request: bytes) -> str:
    body = request.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")
    return "&".join(f"{k}={v}" for k, v in parse_qsl(body, keep_blank_values=True))


def soap_values(request: bytes) -> str:
    """What a SOAP server that parsed the request might quote: the values, unescaped."""
    from lxml import etree

    body = request.partition(b"\r\n\r\n")[2]
    try:
        root = etree.fromstring(body)
    except etree.XMLSyntaxError:
        return the_request(request)
    return " ".join(t for t in root.itertext() if t.strip())


HTTP_ECHOES = {"raw": the_request, "form-decoded": decoded_form}
SOAP_ECHOES = {"raw": the_request, "soap-values": soap_values}


# --- the HTTP interface: every method, every place a reply can quote the request ----------------------------


def http_replies(echo: str) -> dict[str, bytes]:
    text = escape(echo)
    return {
        "500-plain": http_reply(echo.encode(), "500 Internal Server Error", "text/plain"),
        "200-not-xml": http_reply(b"x" * 290 + echo.encode(), ctype="text/html"),  # straddles the 300-byte cut
        "faild-message": http_reply(
            f"{HEAD}<returnsms><returnstatus>Faild</returnstatus><message>{text}</message>"
            "<balance>0</balance><taskID></taskID><successCounts>0</successCounts>"
            "</returnsms>".encode()
        ),
        "errorstatus": http_reply(
            f"{HEAD}<returnsms><errorstatus><error>2</error><remark>{text}</remark></errorstatus></returnsms>".encode()
        ),
        "malformed-xml": http_reply(f"{HEAD}<returnsms><message>{text}</message>".encode()),
        "json-remark": http_reply(
            json.dumps({"error": "1005", "remark": echo, "statusbox": []}).encode(), ctype="application/json"
        ),
        "json-ascii": http_reply(json.dumps({"error": "x" + echo}).encode(), ctype="application/json"),
    }


HTTP_CALLS = {
    "send": lambda c: c.send("8613800138000", "x【华信】"),
    "balance": lambda c: c.balance(),
    "reports": lambda c: c.status_reports(),
    "reports-json": lambda c: c.status_reports(fmt="json"),
    "uplinks-json": lambda c: c.uplinks(fmt="json"),
    "pwd": lambda c: c.change_password(NEW_PASSWORD),
}


@pytest.mark.parametrize("reply", list(http_replies("")))
@pytest.mark.parametrize("echo", list(HTTP_ECHOES))
def test_http_client_masks_every_echo(flavour, reply, echo):
    def answer(request: bytes) -> bytes:
        return http_replies(HTTP_ECHOES[echo](request))[reply]

    with TinyServer(default=answer) as server:
        for call in HTTP_CALLS.values():
            client = flavour.http("acct", PASSWORD, base_url=server.base_url, retries=0, timeout=5)
            try:
                outcome = call(client)
            except IpyyError as exc:
                assert_clean(*texts_of(exc))
            else:
                assert_clean(repr(outcome))
                if hasattr(outcome, "raise_for_status"):
                    with pytest.raises(IpyyError) as info:
                        outcome.raise_for_status()
                    assert_clean(*texts_of(info.value))
            assert_clean(repr(client))
    assert any(PASSWORD.encode() in r or md5_password(PASSWORD).encode() in r for r in server.requests)


DOMESTIC_CALLS = {
    "send-xml": lambda c: c.send("13800138000", "x【华信】"),
    "send-json": lambda c: c.send("13800138000", "x【华信】", fmt="json"),
    "balance-xml": lambda c: c.balance(),
    "balance-json": lambda c: c.balance(fmt="json"),
    "pwd": lambda c: c.change_password(NEW_PASSWORD),
}


def domestic_replies(echo: str) -> dict[str, bytes]:
    replies = http_replies(echo)
    replies["json-faild"] = http_reply(
        json.dumps(
            {"returnstatus": "Faild", "message": echo, "remainpoint": "0", "taskID": "", "successCounts": "0"}
        ).encode(),
        ctype="application/json",
    )
    return replies


@pytest.mark.parametrize("reply", list(domestic_replies("")))
@pytest.mark.parametrize("echo", list(HTTP_ECHOES))
def test_domestic_client_masks_every_echo(flavour, reply, echo):
    def answer(request: bytes) -> bytes:
        return domestic_replies(HTTP_ECHOES[echo](request))[reply]

    with TinyServer(default=answer) as server:
        for call in DOMESTIC_CALLS.values():
            client = flavour.domestic("acct", PASSWORD, base_url=server.base_url, retries=0, timeout=5)
            try:
                outcome = call(client)
            except IpyyError as exc:
                assert_clean(*texts_of(exc))
            else:
                assert_clean(repr(outcome))
                if hasattr(outcome, "raise_for_status"):
                    with pytest.raises(IpyyError) as info:
                        outcome.raise_for_status()
                    assert_clean(*texts_of(info.value))
            assert_clean(repr(client))


# --- SOAP: the reply's Description and Errors, a Fault's string and detail, garbage ---------------------------


def soap_replies(echo: str, version: int = 11) -> dict[str, bytes]:
    text = escape(echo)
    envelope = (
        f'{HEAD}<soap:Envelope xmlns:soap="{SOAP11 if version == 11 else SOAP12}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body>'
    )
    end = "</soap:Body></soap:Envelope>"
    result = (
        f'<SendI18NSmsResponse xmlns="{TNS}"><SendI18NSmsResult xsi:type="I18NSendResult"><PayType>0</PayType>'
        f"<StatusCode>PasswordError</StatusCode><Description>{text}</Description><SuccessCounts>0</SuccessCounts>"
        "<BillingCount>0</BillingCount><Amount>0</Amount><Balance>0</Balance><BillingAmount>0</BillingAmount>"
        f"<Errors><string>{text}</string></Errors></SendI18NSmsResult></SendI18NSmsResponse>"
    )
    detail = f'<echo said="{escape(echo, {chr(34): "&quot;"})}">{text}</echo>'
    if version == 11:
        fault = (
            f"<soap:Fault><faultcode>soap:Client</faultcode><faultstring>{text}</faultstring>"
            f"<detail>{detail}</detail></soap:Fault>"
        )
    else:
        fault = (
            f"<soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code><soap:Reason>"
            f'<soap:Text xml:lang="en">{text}</soap:Text></soap:Reason><soap:Detail>{detail}</soap:Detail>'
            "</soap:Fault>"
        )
    return {
        "description": http_reply((envelope + result + end).encode()),
        "fault": http_reply((envelope + fault + end).encode(), "500 Internal Server Error"),
        "invalid-reply": http_reply((envelope + result.replace("<PayType>0", "<PayType>lots") + end).encode()),
        "not-xml": http_reply(b"y" * 295 + echo.encode(), "502 Bad Gateway", "text/plain"),
        "xml-not-soap": http_reply(f"{HEAD}<error>{text}</error>".encode(), "500 Internal Server Error"),
    }


@pytest.mark.parametrize("version", [11, 12])
@pytest.mark.parametrize("reply", list(soap_replies("")))
@pytest.mark.parametrize("echo", list(SOAP_ECHOES))
def test_soap_client_masks_every_echo(flavour, version, reply, echo):
    def answer(request: bytes) -> bytes:
        return soap_replies(SOAP_ECHOES[echo](request), version)[reply]

    with TinyServer(default=answer) as server:
        client = flavour.soap("acct", PASSWORD, server.base_url, soap_version=version, timeout=5)
        try:
            result = client.send_i18n_sms("8613800138000", "x【华信】")
        except IpyyError as exc:
            assert_clean(*texts_of(exc))
            if reply == "fault":
                assert isinstance(exc, errors.SoapFault) and "***" in exc.faultstring
        else:
            assert reply == "description"
            assert "***" in result.description and all("***" in e for e in result.errors)
            assert_clean(repr(result))
            with pytest.raises(errors.PasswordError) as info:
                result.raise_for_status()
            assert_clean(*texts_of(info.value))
        assert_clean(repr(client))
    assert escape(PASSWORD).encode() in server.requests[0]  # the echo really carried the secret


def test_a_secret_cut_by_the_snippets_leaves_no_prefix(flavour):
    """The body snippet (300 bytes) and the message snippet (120 characters) are cut after masking."""
    for pad in range(280, 305):
        body = b"z" * pad + md5_password(PASSWORD).encode() + b" and " + PASSWORD.encode()
        with TinyServer(default=http_reply(body, "500 Internal Server Error", "text/plain")) as server:
            with pytest.raises(errors.ProtocolError) as info:
                flavour.http("acct", PASSWORD, base_url=server.base_url, retries=0).balance()
        body_text = info.value.body.decode("utf-8", "replace")
        tail = body_text[-12:]
        for prefix in PREFIXES:
            assert prefix not in tail and prefix not in str(info.value)
    for pad in range(100, 125):
        text = "z" * pad + PASSWORD
        with TinyServer(default=http_reply(text.encode(), "500 Internal Server Error", "text/plain")) as server:
            with pytest.raises(errors.ProtocolError) as info:
                flavour.soap("acct", PASSWORD, server.base_url).send_i18n_sms("1", "x")
        assert PASSWORD[:6] not in str(info.value)


def test_repr_of_clients_never_shows_a_password(flavour):
    for client in (
        flavour.soap("acct", PASSWORD, "http://gw.invalid"),
        flavour.http("acct", PASSWORD, "9", "http://gw.invalid"),
        flavour.domestic("acct", PASSWORD, "9", "http://gw.invalid"),
    ):
        assert_clean(repr(client), str(client))
        assert "acct" in repr(client)


def test_secrets_mask_every_wire_form_and_keep_old_passwords():
    secrets = Secrets(PASSWORD)
    for form in forms(PASSWORD):
        assert secrets.text(f"a{form}b") == "a***b", form
        assert secrets.data(f"a{form}b".encode()) == b"a***b", form
    assert secrets.text(repr(PASSWORD)) == "'***'"
    assert secrets.text(repr(PASSWORD.encode())) == "b'***'"
    secrets.add(NEW_PASSWORD)
    assert secrets.text(f"{PASSWORD} {NEW_PASSWORD} {md5_password(NEW_PASSWORD).lower()}") == "*** *** ***"
    short = Secrets("ab")
    assert short.text("a tab") == "a tab"  # too short to tell apart from text ...
    assert short.text(md5_password("ab")) == "***"  # ... but its digest is masked
    assert not Secrets("") and not Secrets()
    assert "Pw" not in repr(secrets)


def test_a_password_that_cannot_travel_is_refused_before_sending_without_being_shown(flavour):
    """A lone surrogate has no UTF-8 (so no MD5): the client builds, then refuses the call with a ValueError."""
    bad = "Pw-\ud800-Zq81x"
    assert Secrets(bad).text(f"echo {bad}") == "echo ***"
    soap = flavour.soap("acct", bad, "http://127.0.0.1:9")
    with pytest.raises(ValueError) as info:
        soap.send_i18n_sms("8613800138000", "x【华信】")
    assert bad not in str(info.value) and "Zq81x" not in str(info.value)
    assert_clean(repr(soap))


def test_every_secret_key_names_password_or_token_so_the_journal_quick_check_is_sound():
    """The journal skips the pair-by-pair masking of a query or form in which neither word appears (nor a %)."""
    from ipyy_client._masking import SECRET_KEYS, mask_pairs

    assert all("password" in key or "token" in key for key in SECRET_KEYS)
    assert mask_pairs("account=a&Pass%77ord=x&PASSWORD=y&new+password=z") == (
        "account=a&Pass%77ord=***&PASSWORD=***&new+password=z"
    )


# --- the mock's journal: a secret however the request spells its name ------------------------------------------

JOURNAL_SECRET = "Jr-Secret-7731"


def multipart(headers: str) -> bytes:
    return (
        '--b\r\nContent-Disposition: form-data; name="account"\r\n\r\nacct\r\n'
        f"--b\r\n{headers}\r\n\r\n{JOURNAL_SECRET}\r\n--b--\r\n"
    ).encode()


SPELLINGS = {
    "rfc-5987 name*": multipart("Content-Disposition: form-data; name*=UTF-8''password"),
    "rfc-5987 percent-encoded": multipart("Content-Disposition: form-data; name*=utf-8''pass%77ord"),
    "rfc-2231 continuation": multipart("Content-Disposition: form-data; name*0=pass; name*1=word"),
    "folded header": multipart('Content-Disposition: form-data;\r\n name="password"'),
    "folded, upper case": multipart('CONTENT-DISPOSITION: form-data;\r\n\tNAME="NewPassword"'),
}


@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_the_journal_masks_multipart_secrets_however_named(mock_server, spelling):
    import requests

    requests.delete(mock_server.base_url + "/_mock/api/journal", timeout=30)
    reply = requests.post(
        mock_server.base_url + "/pwd.aspx",
        data=SPELLINGS[spelling],
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        timeout=30,
    )
    assert reply.status_code == 200
    journal = requests.get(mock_server.base_url + "/_mock/api/journal", timeout=30).text
    assert "/pwd.aspx" in journal and "acct" in journal  # the entry is there, with the rest of the body
    assert JOURNAL_SECRET not in journal, journal[:600]


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "esc1", "pass\\u0077ord": "%s"}',
        '{"name": "esc2", "\\u0070\\u0061\\u0073\\u0073\\u0077\\u006f\\u0072\\u0064": "%s"}',
        '{"name": "esc3", "PassWord": "%s"}',
        '{"name": "esc4", "PASS\\u0057ORD": "%s"}',
    ],
)
def test_the_journal_masks_admin_json_secrets_spelled_with_escapes(mock_server, body):
    import requests

    requests.delete(mock_server.base_url + "/_mock/api/journal", timeout=30)
    requests.post(
        mock_server.base_url + "/_mock/api/accounts",
        data=(body % JOURNAL_SECRET).encode(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    journal = requests.get(mock_server.base_url + "/_mock/api/journal", timeout=30).text
    assert "/_mock/api/accounts" in journal
    assert JOURNAL_SECRET not in journal, journal[:600]


# --- the client: no chained exception and no entity-encoded echo keeps the password ------------------------------

QUOTED = "Pw'Qu\"ot<e>9"  # every character an HTML page escapes as a reference


def chain_of(exc: BaseException) -> list[BaseException]:
    out, link = [], exc.__cause__ or exc.__context__
    while link is not None and link not in out:
        out.append(link)
        link = link.__cause__ or link.__context__
    return out


def assert_no_secret(exc: BaseException, secret: str) -> None:
    for text in texts_of(exc):
        assert secret not in text and html.escape(secret) not in text, text[:400]
        assert "&#" not in text or "Qu" not in text, text[:400]


@pytest.mark.parametrize("version", [11, 12])
def test_a_soap_fault_keeps_no_chained_exception_with_the_password(flavour, version):
    def answer(request: bytes) -> bytes:
        return soap_replies(the_request(request), version)["fault"]

    with TinyServer(default=answer) as server:
        client = flavour.soap("acct", PASSWORD, server.base_url, soap_version=version, timeout=5)
        with pytest.raises(errors.SoapFault) as info:
            client.send_i18n_sms("8613800138000", "x【华信】")
    assert_clean(*texts_of(info.value))
    for link in chain_of(info.value):  # what a logger's exc_info or traceback.format_exception would print
        assert_clean(*texts_of(link), str(link.args))
    assert escape(PASSWORD).encode() in server.requests[0]


ENTITY_ECHOES = {
    "html.escape": lambda s: html.escape(s),  # &#x27; and &quot;
    "decimal refs": lambda s: "".join(f"&#{ord(c)};" if not c.isalnum() else c for c in s),
    "every char hex": lambda s: "".join(f"&#X{ord(c):04X};" for c in s),
    "mixed": lambda s: "".join(f"&#x{ord(c):x};" if i % 2 else c for i, c in enumerate(s)),
}


@pytest.mark.parametrize("echo", list(ENTITY_ECHOES))
def test_entity_encoded_echoes_are_masked(flavour, echo):
    page = f"<html><body><h1>Bad Request</h1><p>password: {ENTITY_ECHOES[echo](QUOTED)}</p></body></html>"
    reply = http_reply(page.encode(), "400 Bad Request", "text/html")
    with TinyServer(default=reply) as server:
        with pytest.raises(errors.ProtocolError) as info:
            flavour.http("acct", QUOTED, base_url=server.base_url, retries=0, timeout=5).balance()
        with pytest.raises(IpyyError) as soap_info:
            flavour.soap("acct", QUOTED, server.base_url, timeout=5).send_i18n_sms("1", "x")
    for exc in (info.value, soap_info.value):
        body = (getattr(exc, "body", b"") or b"").decode("utf-8", "replace")
        assert "password: ***" in body or "password: ***" in str(exc), (body, str(exc))
        assert_no_secret(exc, QUOTED)
        for link in chain_of(exc):
            assert_no_secret(link, QUOTED)


def test_secrets_mask_character_references_only_of_the_secret():
    secrets = Secrets(QUOTED)
    assert secrets.text("a &#80;&#x77;&#39;Qu&quot;ot&lt;e&#62;9 b") == "a *** b"
    assert secrets.data(b"x Pw&#x0027;Qu&#34;ot&#x3C;e&#x3e;9") == b"x ***"
    assert secrets.text("&#80;&#x77; &#39;") == "&#80;&#x77; &#39;"  # a part of it, or other text: left alone


def test_one_masker_for_the_client_and_the_mock():
    """The client's known-value masker and the journal's field-name masker live in one module and write one
    mask; no other module writes its own."""
    from pathlib import Path

    from ipyy_client import _masking
    from ipyy_mock import journal

    assert journal.middleware.mask_text is _masking.mask_text and journal.rows.MASK is _masking.MASK
    assert _masking.Secrets.MASK == _masking.MASK
    root = Path(__file__).resolve().parent.parent
    writers = [
        p.relative_to(root).as_posix()
        for folder in ("client", "mockserver")
        for p in (root / folder).rglob("*.py")
        if '"***"' in p.read_text(encoding="utf-8")
    ]
    assert writers == ["client/ipyy_client/_masking.py"]
