"""Requests that are not valid SOAP for the WSDL get a SOAP Fault in their own version, never a 500."""

from __future__ import annotations

import pytest
import requests

from support import soapraw


def post(mock_server, body: bytes, content_type="text/xml; charset=utf-8", **headers):
    return requests.post(
        mock_server.base_url + "/WebService.asmx",
        data=body,
        headers={"Content-Type": content_type, **headers},
        timeout=30,
    )


BAD_BODIES = {
    "malformed": b"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body><oops",
    "not xml": b"hello there",
    "empty": b"",
    "unknown operation": soapraw.envelope("DeleteEverything", "a", "b", "1", "x"),
    "wrong namespace": soapraw.envelope("SendI18NSms", "a", "b", "1", "x").replace(
        b"http://tempuri.org/", b"http://example.com/other/"
    ),
    "non utf-8": soapraw.envelope("SendI18NSms", "a", "b", "1", "x").replace(b"<userName>a", b"<userName>\xff\xfe"),
    "doctype": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    + soapraw.envelope("SendI18NSms", "&e;", "b", "1", "x").split(b"?>", 1)[1],
}


@pytest.mark.parametrize("name", BAD_BODIES)
def test_bad_soap_11_is_a_fault(mock_server, name):
    reply = post(mock_server, BAD_BODIES[name])
    assert reply.status_code == soapraw.FAULT_STATUS[11], reply.text
    code, reason = soapraw.fault(reply)
    assert "Client" in code
    assert reason
    assert "root:" not in reply.text


@pytest.mark.parametrize("name", ["malformed", "unknown operation", "wrong namespace"])
def test_bad_soap_12_is_a_12_fault(mock_server, name):
    body = BAD_BODIES[name].replace(soapraw.SOAP11.encode(), soapraw.SOAP12.encode())
    reply = post(mock_server, body, "application/soap+xml; charset=utf-8")
    assert reply.status_code == 400, reply.text
    assert reply.headers["Content-Type"].startswith("application/soap+xml")
    code, reason = soapraw.fault(reply)
    assert "Sender" in code and reason


def test_soap11_envelope_sent_as_soap12_is_a_version_fault(mock_server):
    body = soapraw.envelope("SendI18NSms", "a", "b", "1", "x", version=11)
    reply = post(mock_server, body, "application/soap+xml; charset=utf-8")
    assert reply.status_code == 400
    code, _ = soapraw.fault(reply)
    assert "VersionMismatch" in code or "Sender" in code


def test_wrong_content_type_is_refused_clearly(mock_server):
    reply = post(mock_server, soapraw.envelope("SendI18NSms", "a", "b", "1", "x"), "application/json")
    assert reply.status_code == 415
    assert soapraw.fault(reply)[1]


def test_wsdl_is_served_with_request_host(mock_server):
    for query in ("WSDL", "wsdl"):
        reply = requests.get(f"{mock_server.base_url}/webservice.ASMX?{query}", timeout=10)
        assert reply.status_code == 200
        assert reply.headers["Content-Type"].startswith("text/xml")
        assert f'location="{mock_server.base_url}/WebService.asmx"' in reply.text
        assert "dx.ipyy.net" not in reply.text


def test_unknown_path_is_404_not_500(mock_server):
    reply = requests.get(mock_server.base_url + "/nothing.aspx", timeout=10)
    assert reply.status_code == 404
    assert "WebService.asmx" in reply.text
