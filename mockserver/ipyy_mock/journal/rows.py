"""What a journal row's derived columns say: the kept headers, the bodies as text, the warnings, the account.

Secrets are masked by field name with ``ipyy_client._masking`` (the one masker of the client and the mock) by
the caller; the headers that carry them are replaced here.
"""

from __future__ import annotations

import json

from ipyy_client._masking import MASK
from ipyy_mock.core.conformance import ConformanceWarning
from ipyy_mock.core.exchange import Exchange
from ipyy_mock.httpapi import params
from ipyy_mock.soap import reader
from ipyy_mock.soap.decoding import decode_body

SECRET_HEADERS = frozenset({"HTTP_X_ADMIN_TOKEN", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "HTTP_COOKIE"})
KEPT_HEADERS = {
    "HTTP_HOST": "Host",
    "HTTP_USER_AGENT": "User-Agent",
    "HTTP_SOAPACTION": "SOAPAction",
    "HTTP_X_ADMIN_TOKEN": "X-Admin-Token",
    "HTTP_AUTHORIZATION": "Authorization",
    "HTTP_PROXY_AUTHORIZATION": "Proxy-Authorization",
    "HTTP_COOKIE": "Cookie",
    "HTTP_X_FORWARDED_FOR": "X-Forwarded-For",
    "HTTP_CONTENT_ENCODING": "Content-Encoding",
    "HTTP_TRANSFER_ENCODING": "Transfer-Encoding",
}


def warnings_json(warnings: list[ConformanceWarning] | None) -> str:
    """The journal's warnings column: code and detail of each (the rule and fix come from the code table)."""
    if not warnings:
        return ""
    return json.dumps([{"code": w.code, "detail": w.detail} for w in warnings], ensure_ascii=False)


def headers_text(environ: dict) -> str:
    lines = []
    for key, name in KEPT_HEADERS.items():
        value = environ.get(key)
        if value is None:
            continue
        if key in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if key.endswith("AUTHORIZATION") and " " in value else ""
            value = f"{scheme} {MASK}".strip()
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def body_text(data: bytes, total: int, soap_type: str | None = None) -> str:
    """The body as text: UTF-8, or for a SOAP request (``soap_type``, its Content-Type) the text ASMX reads, so
    that a UTF-16 or otherwise encoded password is masked like any other."""
    text = decode_body(data, soap_type).text if soap_type is not None else data.decode("utf-8", "replace")
    # NULs dropped: a UTF-16 body read in another charset holds one between every two characters, which would
    # hide a password from the masker (the journal shows the text, not the bytes)
    text = text.replace("\x00", "")
    if total > len(data):
        text += f"\n…[truncated: {total} bytes, first {len(data)} kept]"
    return text


def account_of(exchange: Exchange, surface: str, query: str, body: str, content_type: str) -> str:
    """The account as the surface bound it; where it bound none (refused at the edge, answered by an injected
    fault, unparsable, a userName ASMX does not bind), the surfaces' own look at the text, so that filtering the
    journal by account still finds the request its owner is trying to understand."""
    if exchange.account:
        return exchange.account
    hint = params.account_hint(query, body, content_type)
    if not hint and surface in ("soap11", "soap12"):
        hint = reader.account_hint(body)
    return hint
