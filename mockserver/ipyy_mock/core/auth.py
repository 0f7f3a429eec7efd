"""Account checks of docs/contract.md §3 step 1, shared by every surface.

Why both plain and MD5 passwords match: the vendor document says MD5 but its
own example URLs send the plain password; an account set to ``strict_auth``
takes only the MD5 form on the HTTP interface, the way a careful vendor
configuration would. SOAP has always sent the plain password.
"""

from __future__ import annotations

import hmac
import re
from ipaddress import ip_address, ip_network

from ipyy_client.codes import ResultCode
from ipyy_client.encoding import md5_password
from ipyy_mock.core.conformance import ConformanceWarning
from ipyy_mock.core.store import Account, Store

_MD5_HEX = re.compile(r"[0-9A-Fa-f]{32}")


def password_warnings(given: str | None) -> list[ConformanceWarning]:
    """The HTTP interface documents the MD5 form; a password that is not 32 hex digits was sent plain."""
    if given and not _MD5_HEX.fullmatch(given):
        return [ConformanceWarning("plain-password", "password was sent as plain text, not as its MD5")]
    return []


def password_matches(account: Account, given: str, *, http: bool) -> bool:
    hashed = md5_password(account.password)
    if hmac.compare_digest(given.upper().encode(), hashed.encode()):
        return True
    if http and account.strict_auth:
        return False
    return hmac.compare_digest(given.encode("utf-8"), account.password.encode("utf-8"))


def ip_allowed(account: Account, client_ip: str) -> bool:
    """An account bound to addresses (or networks, ``10.0.0.0/8``) accepts only those callers."""
    if not account.bind_ips:
        return True
    try:
        caller = ip_address(client_ip)
    except ValueError:
        return False
    for entry in account.bind_ips:
        try:
            if caller in ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def authenticate(
    store: Store, name: str | None, password: str | None, client_ip: str, *, http: bool, cached: bool = False
) -> Account | ResultCode:
    """The account, or the code that refuses the caller. ``cached``: from the store's per-process cache, whose
    ``balance`` may be older than the row's (a send reads it again under its write lock)."""
    name = (name or "").strip()
    if not name:
        return ResultCode.UserNameEmpty
    if not password:
        return ResultCode.PasswordEmpty
    account = store.cached_account(name) if cached else store.get_account(name)
    if account is None:
        return ResultCode.UserNameError
    if not password_matches(account, password, http=http):
        return ResultCode.PasswordError
    if account.stopped:
        return ResultCode.UserStop
    if not ip_allowed(account, client_ip):
        return ResultCode.BindIpError
    return account
