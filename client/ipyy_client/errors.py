"""Exceptions of the ipyy client: one class per vendor ResultCode, plus wire failures.

Why one class per code: callers can ``except errors.AmountNotEnough`` instead of
comparing numbers, and the class carries a hint of what to do next.  A non-OK
reply is *not* raised by the client on its own (the send may have happened,
partially, with money charged); ``SendResult.raise_for_status()`` raises these.

Wire failures (no reply, a reply that is not the contract, a SOAP Fault) are
raised by the client directly, as ``TransportError``, ``ProtocolError`` and
``SoapFault``.  Everything is an ``IpyyError``; no zeep/requests exception leaks.
Messages never contain the account password.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ipyy_client.codes import ResultCode

if TYPE_CHECKING:  # pragma: no cover
    from ipyy_client.results import SendResult


class IpyyError(Exception):
    """Base of every error this package raises.

    ``code`` is the vendor ResultCode (None for wire failures), ``description``
    the human text, ``result`` the SendResult the error came from (or None).
    """

    code: ResultCode | None = None
    #: What to do next, in a sentence; shown by the CLI.
    hint: str = ""

    def __init__(
        self,
        message: str | None = None,
        *,
        description: str | None = None,
        result: "SendResult | None" = None,
    ) -> None:
        self.result = result
        if self.code is None and result is not None:  # VendorError for a code this package does not know
            status = getattr(result, "status", None)
            found = status if isinstance(status, ResultCode) else getattr(result, "code", None)
            if isinstance(found, ResultCode) and found is not ResultCode.OK:
                self.code = found
        if description is None:
            if result is not None and result.description:
                description = result.description
            elif self.code is not None:
                description = self.code.description
            else:
                description = message or ""
        self.description = description
        if message is None:
            message = self._default_message()
        super().__init__(message)

    def _default_message(self) -> str:
        if self.code is None:
            return self.description
        text = f"{self.code.label()}: {self.description}"
        if self.result is not None and self.result.errors:
            text += " [" + ", ".join(self.result.errors) + "]"
        return text


# --- errors from the vendor's ResultCode table --------------------------------


class VendorError(IpyyError):
    """A reply whose StatusCode is not OK. Subclasses are named after the code."""


class ParamError(VendorError):
    code = ResultCode.ParamError
    hint = "A request parameter is malformed; check the values sent."


class UserNameEmpty(VendorError):
    code = ResultCode.UserNameEmpty
    hint = "Give the account name."


class PasswordEmpty(VendorError):
    code = ResultCode.PasswordEmpty
    hint = "Give the account password."


class UserNameError(VendorError):
    code = ResultCode.UserNameError
    hint = "No such account; check the account name and the base URL."


class PasswordError(VendorError):
    code = ResultCode.PasswordError
    hint = "Wrong password; check it (it may have been changed through pwd.aspx)."


class BindIpError(VendorError):
    code = ResultCode.BindIpError
    hint = "The account is bound to other IP addresses; send from an allowed IP or ask to add this one."


class UserStop(VendorError):
    code = ResultCode.UserStop
    hint = "The account is stopped; contact the provider."


class UserIdError(VendorError):
    code = ResultCode.UserIdError
    hint = "Check the userid parameter."


class Text64Error(VendorError):
    code = ResultCode.Text64Error
    hint = "Check the Text64 parameter encoding."


class StampError(VendorError):
    code = ResultCode.StampError
    hint = "Check the timestamp parameter and the local clock."


class ContentEmpty(VendorError):
    code = ResultCode.ContentEmpty
    hint = "Give a message text."


class MsisdnEmpty(VendorError):
    code = ResultCode.MsisdnEmpty
    hint = "Give at least one recipient number."


class ExtNumberError(VendorError):
    code = ResultCode.ExtNumberError
    hint = "The extension number must be 1-5 digits, or empty."


class ContentLong(VendorError):
    code = ResultCode.ContentLong
    hint = "The text has more segments than the account allows; shorten it."


class NoChannel(VendorError):
    code = ResultCode.NoChannel
    hint = "The account has no sending channel; contact the provider."


class SensitiveWords(VendorError):
    code = ResultCode.SensitiveWords
    hint = "The text contains a blocked word; reword it."


class MsisdnError(VendorError):
    code = ResultCode.MsisdnError
    hint = "A number is malformed; use country code + number, digits only (e.g. 8613800138000)."


class MsisdnBlack(VendorError):
    code = ResultCode.MsisdnBlack
    hint = "The number is blacklisted; remove it from the recipients."


class MsisdnNoChannel(VendorError):
    code = ResultCode.MsisdnNoChannel
    hint = "No channel serves that number's country; remove it or ask the provider for a route."


class AmountNotEnough(VendorError):
    code = ResultCode.AmountNotEnough
    hint = "The balance is too low for this send; top the account up or send less."


class NoProduct(VendorError):
    code = ResultCode.NoProduct
    hint = "The account has no product configured; contact the provider."


class RequiredSuffix(VendorError):
    code = ResultCode.RequiredSuffix
    hint = "End the text with a signature in 【】, e.g. 【Acme】."


class SuffixError(VendorError):
    code = ResultCode.SuffixError
    hint = "The signature in 【】 must be 1-8 characters."


class SubjectEmpty(VendorError):
    code = ResultCode.SubjectEmpty
    hint = "Give a subject."


class InternalError(VendorError):
    code = ResultCode.InternalError
    hint = "The platform failed internally; try again later (check first that the send did not go out)."


# The codes of the vendor's WSDL that its interface document does not describe (no number, meaning inferred from
# the name alone): the hints say what the name says and what to check first.


class Unknown(VendorError):
    code = ResultCode.Unknown
    hint = "The platform gave no reason; check the request and ask the provider if it persists."


class AppInactive(VendorError):
    code = ResultCode.AppInactive
    hint = "The account's application is not activated; ask the provider to activate it."


class SendTimeError(VendorError):
    code = ResultCode.SendTimeError
    hint = "The scheduled send time is not acceptable; send now or give a valid future time."


class JsonError(VendorError):
    code = ResultCode.JsonError
    hint = "The request's JSON could not be read; check its syntax and encoding."


class MsisdnRepeat(VendorError):
    code = ResultCode.MsisdnRepeat
    hint = "A number is listed more than once; send each number once."


class BalanceNotEnough(VendorError):
    code = ResultCode.BalanceNotEnough
    hint = "The balance is too low for this send; top the account up or send less."


class ChannelTypeError(VendorError):
    code = ResultCode.ChannelTypeError
    hint = "The account's channel does not carry this kind of message; ask the provider for the right channel."


class TemplateError(VendorError):
    code = ResultCode.TemplateError
    hint = "The text does not match an approved template; use a template the provider approved."


class FrequentOperation(VendorError):
    code = ResultCode.FrequentOperation
    hint = "Too many messages to this number too quickly; wait before sending again (do not retry in a loop)."


class NoEnabled(VendorError):
    code = ResultCode.NoEnabled
    hint = "The service is not enabled for this account; ask the provider to enable it."


class TemplateIdError(VendorError):
    code = ResultCode.TemplateIdError
    hint = "The template id is unknown; check it with the provider."


class MsisdnsMany(VendorError):
    code = ResultCode.MsisdnsMany
    hint = "Too many recipients in one request; split the list."


class ContentError(VendorError):
    code = ResultCode.ContentError
    hint = "The text was refused as malformed; check its characters and encoding."


class MsisdnLess(VendorError):
    code = ResultCode.MsisdnLess
    hint = "Too few recipients for this kind of send; add numbers."


class SubjectLong(VendorError):
    code = ResultCode.SubjectLong
    hint = "The subject is too long; shorten it."


class FramesEmpty(VendorError):
    code = ResultCode.FramesEmpty
    hint = "The MMS has no frames; add at least one element."


class ElementError(VendorError):
    code = ResultCode.ElementError
    hint = "An MMS element is malformed; check its type and Base64 content."


class FrameError(VendorError):
    code = ResultCode.FrameError
    hint = "An MMS frame is malformed; check its elements."


class FrameSizeLong(VendorError):
    code = ResultCode.FrameSizeLong
    hint = "An MMS frame is too large; make it smaller."


class SmilEmpty(VendorError):
    code = ResultCode.SmilEmpty
    hint = "The MMS has no SMIL layout; add one."


class SmilExcessive(VendorError):
    code = ResultCode.SmilExcessive
    hint = "The MMS has more than one SMIL layout; keep one."


class ElementNameRepeat(VendorError):
    code = ResultCode.ElementNameRepeat
    hint = "Two MMS elements have the same name; name each once."


class SizeLong(VendorError):
    code = ResultCode.SizeLong
    hint = "The MMS is too large; make it smaller."


class MmsIdEmpty(VendorError):
    code = ResultCode.MmsIdEmpty
    hint = "Give the MMS (template) id."


class NoMmsTemplate(VendorError):
    code = ResultCode.NoMmsTemplate
    hint = "No such MMS template; check the id with the provider."


class TaskIdEmpty(VendorError):
    code = ResultCode.TaskIdEmpty
    hint = "Give the task id."


class NoRealName(VendorError):
    code = ResultCode.NoRealName
    hint = "The account has not completed real-name registration; complete it with the provider."


class FaileList(VendorError):
    code = ResultCode.FaileList
    hint = "The platform refused part of the list; see the errors for each number."


class ReportsNotAllowed(VendorError):
    """HTTP only: the account may not pull delivery reports (``errorstatus`` 3, 该用户不允许查看状态报告).

    Not a ResultCode of the vendor's table, so ``code`` is None; the JSON twin
    carries it as ParamError's number with this remark, and the client maps both here.
    """

    hint = "The account is not allowed to read delivery reports; ask the provider to enable it (or use a push URL)."

    def _default_message(self) -> str:
        return f"ReportsNotAllowed: {self.description or '该用户不允许查看状态报告'}"


_BY_CODE: dict[ResultCode, type[VendorError]] = {
    cls.code: cls for cls in VendorError.__subclasses__() if cls.code is not None
}


def error_for(code: ResultCode) -> type[IpyyError]:
    """The exception class for a non-OK ResultCode (``error_for(ResultCode.MsisdnBlack) is MsisdnBlack``);
    ``VendorError`` itself for a code this package does not know (the vendor adds codes)."""
    if code is ResultCode.OK:
        raise ValueError("ResultCode.OK is not an error")
    return _BY_CODE.get(code, VendorError)


# --- wire failures --------------------------------------------------------------


class TransportError(IpyyError):
    """No reply: connection refused, timeout, DNS or TLS failure.

    The send may or may not have reached the platform only for a read timeout;
    the client never retries a send by itself.
    """

    hint = "Check the base URL and that the server is reachable (for the offline mock: `ipyy-mock serve`)."


class ProtocolError(IpyyError):
    """A reply arrived but is not the contract (not SOAP/XML, unexpected HTTP status, missing fields)."""

    hint = "Check that the base URL points at the SMS gateway (or the mock), not at another web server."

    def __init__(self, message: str, *, status_code: int | None = None, body: bytes | None = None) -> None:
        self.status_code = status_code
        #: The first bytes of the reply body, for diagnostics.
        self.body = body
        super().__init__(message)


class SoapFault(IpyyError):
    """The server answered with a SOAP Fault: the request was not valid SOAP for the WSDL."""

    hint = "The request was rejected as invalid SOAP; this is a client/server contract mismatch."

    def __init__(self, faultcode: str | None, faultstring: str, *, detail: Any = None) -> None:
        self.faultcode = faultcode
        self.faultstring = faultstring
        self.detail = detail
        super().__init__(f"SOAP Fault {faultcode or '?'}: {faultstring}")


__all__ = [
    "IpyyError",
    "VendorError",
    "TransportError",
    "ProtocolError",
    "SoapFault",
    "ReportsNotAllowed",
    "error_for",
    *(cls.__name__ for cls in _BY_CODE.values()),
]
