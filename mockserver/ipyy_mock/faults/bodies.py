"""The wire bodies of injected faults: each imitates what a real server or a cut connection leaves, in the
content type and SOAP version the client expects from that endpoint, so a client is tested on a believable reply."""

from __future__ import annotations

from ipyy_mock.faults.rules import JSON_PATHS, JSON_TYPE, SOAP12_TYPE, SOAP_PATH, XML_TYPE
from ipyy_mock.soap import envelope


def soap_version(environ: dict) -> int:
    return 12 if (environ.get("CONTENT_TYPE") or "").strip().lower().startswith("application/soap+xml") else 11


def soap_fault_body(version: int, message: str) -> bytes:
    """An injected Server (SOAP 1.2: Receiver) Fault, written as the SOAP surface writes every Fault."""
    return envelope.fault(version, message, "Server")


def content_type_for(environ: dict, path: str) -> str:
    if path == SOAP_PATH and (environ.get("REQUEST_METHOD") or "").upper() == "POST":
        return SOAP12_TYPE if soap_version(environ) == 12 else XML_TYPE
    return JSON_TYPE if path in JSON_PATHS else XML_TYPE


def malformed_body(environ: dict, path: str) -> bytes:
    """A reply cut off in the middle, as a dropped proxy connection would leave it."""
    if path in JSON_PATHS:
        box = "statusbox" if path.startswith("/status") else "callbox"
        return f'{{"error":"1","remark":"成功","{box}":[{{"mobile":"86138'.encode("utf-8")
    if path == SOAP_PATH:
        ns = envelope.NS_SOAP12 if soap_version(environ) == 12 else envelope.NS_SOAP11
        return (
            f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}" '
            f'xmlns:xsi="{envelope.NS_XSI}" xmlns:xsd="{envelope.NS_XSD}"><soap:Body>'
            f'<SendSmsResponse xmlns="{envelope.TNS}"><SendSmsResult><PayType>1</PayType>'
            "<StatusCode>OK</StatusCode><Descr"
        ).encode("utf-8")
    return (
        '<?xml version="1.0" encoding="utf-8" ?>\n<returnsms><returnstatus>Success</returnstatus>'
        "<message>操作成功</message><bal"
    ).encode("utf-8")
