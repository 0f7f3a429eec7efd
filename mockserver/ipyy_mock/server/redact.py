"""Keeps passwords out of the server's logs, including the lines the HTTP server writes on its own.

Why: the vendor's HTTP interface takes ``password`` (and ``newpassword``) in the
query string. The access log prints paths only (``server.ACCESS_LOG_FORMAT``),
but gunicorn's error log quotes a malformed request line whole at WARNING
("Invalid request from ip=…: Invalid HTTP request line: 'GET /I18NSms.aspx?…
password=…'"), before the application ever sees it. This logger class (the
gunicorn ``logger_class`` setting) rewrites every error-log record: query
strings become ``?…`` and any ``password=``/``newpassword=``/token value is masked.
Under granian (server/run.py), ``RedactFilter`` sits on the handlers of granian's
own logger and of its access log.
"""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger

# A query string inside a request line or URL: everything from "?" up to a space or quote.
_QUERY = re.compile(r"\?[^\s'\"]*")
# A secret-looking parameter anywhere else (a form body quoted in a message, a header).
_SECRET = re.compile(r"(?i)\b((?:new)?password|pwd|token|x-admin-token|authorization)(\s*[=:]\s*)[^\s&'\"]+")


def redact(text: str) -> str:
    return _SECRET.sub(r"\1\2***", _QUERY.sub("?…", text))


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RedactingLogger(Logger):
    """gunicorn's Logger with every error-log record passed through ``redact``."""

    def setup(self, cfg) -> None:  # noqa: ANN001 - gunicorn's signature
        super().setup(cfg)
        if not any(isinstance(f, RedactFilter) for f in self.error_log.filters):
            self.error_log.addFilter(RedactFilter())
