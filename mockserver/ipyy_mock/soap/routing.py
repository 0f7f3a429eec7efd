"""Which operation a SOAP request runs, decided as Microsoft's ASMX decides it (docs/contract.md §2, "Routing").

SOAP 1.1 is routed on the SOAPAction header alone: no header is a Client
Fault, a value that names no operation is a Client Fault, and a value that
names an operation runs that operation, whatever the body holds (a body
element of another operation then binds no parameter). SOAP 1.2 is routed on
the ``action`` parameter of the Content-Type when it names an operation, else
on the body's element; neither is a Sender Fault.

The messages are Microsoft's resource strings, formatted as .NET formats them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_plus

from ipyy_mock.soap.envelope import OPERATION, TNS, Operation

__all__ = ["Route", "route", "soap11_action", "ACTION_REQUIRED", "BY_ACTION", "BAD_QUOTES", "QUOTE_ERROR"]

ACTION_REQUIRED = "Unable to handle request without a valid action parameter. Please supply a valid soap action."
BY_ACTION = {op.action: op for op in OPERATION.values()}
#: ``SOAPAction: "`` (one quote): ASMX's unquoting takes Substring(1, -1) and fails with this .NET message.
BAD_QUOTES = '"'
QUOTE_ERROR = "Length cannot be less than zero.\r\nParameter name: length"
_BY_ELEMENT = {f"{{{TNS}}}{op.name}": op for op in OPERATION.values()}


@dataclass(frozen=True)
class Route:
    """An operation to run, or the Fault message that refuses the request."""

    operation: Operation | None
    fault: str = ""


def soap11_action(header: str | None) -> str | None:
    """The SOAPAction as ASMX reads it: one pair of surrounding quotes removed, then URL-decoded (``+`` is a
    space, as HttpUtility.UrlDecode reads it); ``BAD_QUOTES`` for the one value it cannot unquote."""
    if header is None:
        return None
    value = header
    if value == '"':
        return BAD_QUOTES
    if value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    return unquote_plus(value)


def route(version: int, action: str | None, body_element: str | None) -> Route:
    """The operation for a request routed as SOAP ``version`` with ``action`` (SOAP 1.1: the header as
    ``soap11_action`` reads it; SOAP 1.2: the ``action`` parameter, URL-decoded, None when absent) and the body's
    first element (Clark name; None when it was not read)."""
    if version == 11:
        if action is None:
            return Route(None, ACTION_REQUIRED)
        op = BY_ACTION.get(action)
        if op is None:
            return Route(None, f"Server did not recognize the value of HTTP Header SOAPAction: {action}.")
        return Route(op)
    if action:
        op = BY_ACTION.get(action)
        if op is not None:
            return Route(op)
    op = _BY_ELEMENT.get(body_element or "")
    if op is not None:
        return Route(op)
    if not action:
        return Route(None, ACTION_REQUIRED)
    return Route(None, f"Unable to handle request. The action '{action}' was not recognized.")
