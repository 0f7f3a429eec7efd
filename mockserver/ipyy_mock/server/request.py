"""The one table of the vendor's paths: endpoint, journal surface, JSON replies, fault selector.

Why one table: the router (app.py), the server's edge (edge.py) and the journal (journal/) each need to
know which surface a vendor path belongs to; listed once here, a new path cannot be routed by one layer and
journaled as ``other`` by another. Paths are matched case-insensitively, as IIS does (the table is lower case).
What a request learns about itself travels in core/exchange.py's ``Exchange``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["VendorPath", "VENDOR", "VENDOR_PATHS", "VENDOR_ENDPOINTS", "endpoint_of", "surface_of"]


@dataclass(frozen=True)
class VendorPath:
    """One path the vendor answers: its endpoint (the router's name), the journal's surface for it, whether its
    replies are JSON, and the fault selector name it answers to (faults/rules.py's ``path`` selector)."""

    path: str  # lower case
    endpoint: str
    surface: str
    json: bool
    selector: str


VENDOR: tuple[VendorPath, ...] = (
    VendorPath("/webservice.asmx", "soap", "soap", False, "soap"),
    VendorPath("/i18nsms.aspx", "send", "http", False, "send"),
    VendorPath("/statusapi.aspx", "status", "http", False, "status"),
    VendorPath("/statusjsonapi.aspx", "status_json", "http", True, "status"),
    VendorPath("/callapi.aspx", "call", "http", False, "call"),
    VendorPath("/calljsonapi.aspx", "call_json", "http", True, "call"),
    VendorPath("/pwd.aspx", "pwd", "http", False, "pwd"),
    VendorPath("/sms.aspx", "domestic", "http", False, "domestic"),
    VendorPath("/smsjson.aspx", "domestic_json", "http", True, "domestic"),
)

#: path (lower case) → endpoint: answered without werkzeug's routing (~50-80 us a request).
VENDOR_PATHS: dict[str, str] = {v.path: v.endpoint for v in VENDOR}
VENDOR_ENDPOINTS = frozenset(VENDOR_PATHS.values())
#: fault selector name → the paths it matches (faults/rules.py builds its ENDPOINTS from it, "*" added).
SELECTOR_PATHS: dict[str, tuple[str, ...]] = {}
for _vendor in VENDOR:
    SELECTOR_PATHS[_vendor.selector] = (*SELECTOR_PATHS.get(_vendor.selector, ()), _vendor.path)
JSON_PATHS = tuple(v.path for v in VENDOR if v.json)
_BY_PATH: dict[str, VendorPath] = {v.path: v for v in VENDOR}
ADMIN_PATH = "/_mock/api"
INBOX_PATH = "/_mock"


def endpoint_of(path: str) -> str | None:
    """The surface that answers ``path`` (any case), for answers given before the app runs (edge.py)."""
    path = path.lower()
    endpoint = VENDOR_PATHS.get(path)
    if endpoint is None and (path == ADMIN_PATH or path.startswith(ADMIN_PATH + "/")):
        endpoint = "admin"
    return endpoint


def surface_of(method: str, path: str, content_type: str) -> str:
    """The journal's surface of a request: soap11 | soap12 | http | admin | inbox | other (``path`` lower case)."""
    vendor = _BY_PATH.get(path)
    if vendor is not None:
        if vendor.surface != "soap":
            return vendor.surface
        if method == "POST":
            return "soap12" if content_type.strip().lower().startswith("application/soap+xml") else "soap11"
        return "other"  # the WSDL and the help page
    if path == ADMIN_PATH or path.startswith(ADMIN_PATH + "/"):
        return "admin"
    if path == INBOX_PATH or path.startswith(INBOX_PATH + "/"):
        return "inbox"
    return "other"
