"""The wire rules every client flavour shares: a call to make, the reply it got, when to try again, what a
failed exchange is called (which strings are secrets: ``_masking.Secrets``).

Why a module of its own: the sync clients (``SoapClient``, ``HttpClient``) and their async twins
(``ipyy_client.aio``) build the same requests and read the same replies; only the transport call differs
(``requests`` in a thread, ``httpx`` on an event loop, see ``_transport.py``). Everything a flavour could get
subtly wrong on its own -- the retry rule, the words of a TransportError, the masking of passwords -- is
written here once and used by both.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ipyy_client._masking import Secrets
from ipyy_client.errors import IpyyError, ProtocolError, TransportError
from ipyy_client.results import MockWarning

T = TypeVar("T")
E = TypeVar("E", bound=IpyyError)

#: How many bytes of a reply a ProtocolError keeps in ``.body`` (and shows the start of in its message).
BODY_SNIPPET = 300
_MESSAGE_SNIPPET = 120


class Retry(enum.Enum):
    """When a call may be sent again after its exchange failed (docs/contract.md: a send is never repeated)."""

    #: A send: after a lost reply the platform may already have charged and queued it.
    NEVER = "never"
    #: Pulls and the password change: only when nothing reached the server (no connection was made).
    UNSENT = "unsent"
    #: The balance query changes nothing: also after a connection broke (a reset), not after a read timeout.
    IDEMPOTENT = "idempotent"


class Failure(enum.Enum):
    """What went wrong with an exchange, in words both HTTP libraries' exceptions are sorted into."""

    #: Refused, DNS, connect timeout, no connection free in the pool: nothing reached the server.
    UNSENT = "unsent"
    #: Connected, but no (whole) reply within the timeout.
    TIMEOUT = "timeout"
    #: The TLS handshake failed (a certificate, a protocol mismatch).
    TLS = "tls"
    #: Connected, then reset or closed without a reply.
    BROKEN = "broken"
    #: Anything else (a proxy refused, a URL the library would not use).
    OTHER = "other"


@dataclass(frozen=True)
class Reply:
    """An HTTP reply, whichever library fetched it. ``headers`` is case-insensitive in both libraries."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    #: The charset the library found (zeep's multipart decoder reads it); None when it found none.
    encoding: str | None = None


#: The reply header in which the offline mock lists the conformance warnings of a request (docs/mock.md): a JSON
#: array of ``{"code", "detail", "fix"}`` objects, ASCII (``\\u`` escapes) as an HTTP header must be.
MOCK_WARNINGS_HEADER = "X-Ipyy-Mock-Warnings"


def mock_warnings(reply: Reply) -> tuple[MockWarning, ...]:
    """The mock's warnings for this reply; none when the header is absent (the vendor) or unreadable: a warning
    is advice, and a reply that worked must never fail because of it."""
    raw = reply.headers.get(MOCK_WARNINGS_HEADER)
    if not raw:
        return ()
    try:
        items = json.loads(raw)
    except ValueError:
        return ()
    if not isinstance(items, list):
        return ()
    found = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("code"), str):
            found.append(MockWarning(item["code"], str(item.get("detail") or ""), str(item.get("fix") or "")))
    return tuple(found)


@dataclass
class Call(Generic[T]):
    """One request of a client and how to read its reply; a transport only has to post it.

    Exactly one of ``form`` (the HTTP interface's form POST) and ``body`` (a SOAP envelope) is set.
    ``read`` turns the reply into the method's result or raises the matching IpyyError;
    ``failed`` names a failed exchange (a TransportError), given the failure, its cause and the tries made.
    """

    url: str
    what: str
    read: Callable[[Reply], T]
    failed: Callable[[Failure, str, int], TransportError]
    form: dict[str, str] | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry: Retry = Retry.NEVER


def retry_delay(retry: Retry, failure: Failure, attempt: int, retries: int, backoff: float) -> float | None:
    """Seconds to wait before trying ``attempt + 1`` (``attempt`` counts from 0), or None to give up now.

    A send is never repeated; otherwise only when nothing reached the server, and for an idempotent call
    also when the connection broke after it was made. A read timeout is never retried: the server may
    have acted on the request (a pull hands its reports out once), and retrying would multiply the wait.
    """
    if retry is Retry.NEVER or attempt >= retries:
        return None
    if failure is Failure.UNSENT or (retry is Retry.IDEMPOTENT and failure is Failure.BROKEN):
        return float(backoff * (2**attempt))
    return None


def transport_error(
    failure: Failure, cause: str, *, url: str, base_url: str, what: str, tries: int, timeout: float, secrets: Secrets
) -> TransportError:
    """The TransportError of a failed exchange: one line that says what happened and what to do next."""
    cause = secrets.text(cause)
    if failure is Failure.UNSENT:
        tried = f" (tried {tries} times)" if tries > 1 else ""
        return TransportError(
            f"cannot connect to {url}: {cause}{tried}. Check the base URL ({base_url}) and that the "
            "server is running (for the offline mock: `ipyy-mock serve`)."
        )
    if failure is Failure.TLS:
        return TransportError(f"TLS failure talking to {url}: {cause}")
    if what == "send":
        after = "The send may or may not have reached the platform; it was not retried."
    elif what.endswith("pull"):
        after = "The server may have handed out items in the lost reply (each is handed out once); it was not retried."
    else:
        after = "It was not retried." if failure is Failure.TIMEOUT else ""
    if failure is Failure.TIMEOUT:
        return TransportError(f"no reply from {url} within {timeout:g}s ({cause}). {after}".rstrip())
    return TransportError(f"{what} to {url} failed: {cause}. {after}".rstrip())


def protocol_error(
    what: str,
    status_code: int | None = None,
    body: bytes | None = None,
    *,
    content_type: str | None = None,
    where: str | None = None,
    secrets: Secrets | None = None,
) -> ProtocolError:
    """A ProtocolError with the HTTP status and the start of the body, passwords masked *before* the cut
    (a secret straddling the snippet's end would otherwise leave its first half in view)."""
    if secrets is not None:
        what = secrets.text(what)
        body = secrets.data(body) if body else body
    snippet = (body or b"")[:BODY_SNIPPET]
    message = what
    if status_code is not None:
        about = f" ({content_type})" if content_type else ""
        about += f" from {where}" if where else ""
        message = f"HTTP {status_code}{about}: {what}"
    text = snippet.decode("utf-8", "replace").strip()
    if text:
        message += f"; body starts: {text[:_MESSAGE_SNIPPET]!r}"
    return ProtocolError(message, status_code=status_code, body=snippet if body is not None else None)


def redirect_note(reply: Reply) -> str:
    """`` (redirected to X; use that base URL)`` for a 3xx with a Location, else "": clients never follow one
    (a POST turned into a GET would lose the request, and the new address belongs in the base URL)."""
    where = reply.headers.get("Location")
    if where and 300 <= reply.status_code < 400:
        return f" (redirected to {where}; use that base URL)"
    return ""


def failed_call(
    *, url: str, base_url: str, what: str, timeout: float, secrets: Secrets
) -> Callable[[Failure, str, int], TransportError]:
    """The ``Call.failed`` of a call to ``url``: transport_error with the client's settings bound."""

    def failed(failure: Failure, cause: str, tries: int) -> TransportError:
        return transport_error(
            failure, cause, url=url, base_url=base_url, what=what, tries=tries, timeout=timeout, secrets=secrets
        )

    return failed


def guarded(read: Callable[[Reply], T], secrets: Secrets) -> Callable[[Reply], T]:
    """``read`` with every IpyyError it raises passed through ``secrets.error`` (the last line of defence)."""

    def run(reply: Reply) -> T:
        try:
            return read(reply)
        except IpyyError as exc:
            error = secrets.error(exc)
        # Raised here, outside the except block: a raise inside it would chain the exception being handled
        # as __context__ again (``from None`` only hides it from the traceback), with whatever it quotes.
        raise error

    return run
