"""The baseline: a bare WSGI app that answers every POST with canned bytes.

It runs on the same WSGI server as the mock (gunicorn, gthread workers, same
worker/thread/keep-alive settings), so ``mock / raw`` isolates what the mock's
own code costs on top of the server. It reads the whole request body (as the
mock does) and answers with the exact bytes the mock returned for the same
request, captured at the start of the benchmark run.

Configuration, by environment (read once per worker):
    RAW_SOAP_REPLY  file with the SOAP reply body   (served for /WebService.asmx)
    RAW_DOMESTIC_REPLY  file with the domestic reply body (served for /sms.aspx)
    RAW_HTTP_REPLY  file with the HTTP reply body   (served for every other path)
Both are sent as ``text/xml; charset=utf-8``, like the mock.

Run: gunicorn -k gthread -w 2 --threads 4 --keep-alive 5 --chdir benchmarks raw_app:app
"""

from __future__ import annotations

import os


def _load(var: str) -> bytes:
    path = os.environ.get(var)
    if not path:
        return b'<?xml version="1.0" encoding="utf-8" ?>\n<empty/>'
    with open(path, "rb") as f:
        return f.read()


SOAP_REPLY = _load("RAW_SOAP_REPLY")
HTTP_REPLY = _load("RAW_HTTP_REPLY")
DOMESTIC_REPLY = _load("RAW_DOMESTIC_REPLY") if os.environ.get("RAW_DOMESTIC_REPLY") else HTTP_REPLY
SOAP_HEADERS = [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(SOAP_REPLY)))]
HTTP_HEADERS = [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(HTTP_REPLY)))]
DOMESTIC_HEADERS = [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(DOMESTIC_REPLY)))]


def app(environ, start_response):
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit():
        environ["wsgi.input"].read(int(length))  # consume the body, as any real handler must
    path = environ.get("PATH_INFO", "").lower()
    if path == "/webservice.asmx":
        start_response("200 OK", SOAP_HEADERS)
        return [SOAP_REPLY]
    if path == "/sms.aspx":
        start_response("200 OK", DOMESTIC_HEADERS)
        return [DOMESTIC_REPLY]
    start_response("200 OK", HTTP_HEADERS)
    return [HTTP_REPLY]
