"""What an account's push URL may be: an ``http://`` or ``https://`` URL with a host, nothing else.

Why a rule at all: the mock POSTs to that URL on its own, from the
developer's machine. ``file:``, ``gopher:`` or a URL with credentials in it
has no place in a report push, and the push runner must not be a way to make
the mock talk to anything but a web server. One check for every way in (the
admin API, ``ipyy-mock account``, and the runner itself for a value stored
before this rule).
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_LENGTH = 2000
SCHEMES = ("http", "https")
EXAMPLE = "http://127.0.0.1:9000/reports"


class PushUrlError(ValueError):
    """``str(exc)`` says what is wrong with the URL and what would do."""


def check_push_url(url: str) -> str:
    """``url`` unchanged when it may be a push URL ("" means: no pushes, reports wait to be pulled)."""
    if not isinstance(url, str):
        raise PushUrlError(f'push_url must be a string, e.g. {EXAMPLE!r} (or "" for none)')
    if url == "":
        return url
    if len(url) > MAX_LENGTH or any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise PushUrlError(
            f"push_url must be one URL of at most {MAX_LENGTH} characters without spaces or "
            f"control characters, e.g. {EXAMPLE!r}"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise PushUrlError(f"push_url is not a valid URL, e.g. {EXAMPLE!r}") from None
    if parts.scheme.lower() not in SCHEMES:
        got = f"{parts.scheme}:" if parts.scheme else "a relative URL"
        raise PushUrlError(f"push_url must be an http:// or https:// URL, not {got}; e.g. {EXAMPLE!r}")
    if not parts.hostname:
        raise PushUrlError(f"push_url needs a host, e.g. {EXAMPLE!r}")
    if parts.username is not None or parts.password is not None:
        raise PushUrlError(
            "push_url must not carry a user name or password (they would be shown in the "
            "admin API and the push journal)"
        )
    return url
