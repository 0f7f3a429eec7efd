"""The HTTP server around the app: which server runs it and how (run), the asynchronous edge in front of the
WSGI app (edge), the request guard's body limits (limits), the health check (health) and the log redaction
(redact). Nothing here knows a vendor rule: it hands whole requests to the app and its replies back."""
