"""Conformance warnings: what the vendor accepts although its document says otherwise.

Why: a mock stricter than the vendor fails client code that works in
production, one looser passes code that will fail. So the mock accepts what
the vendor accepts and records each deviation from the documented contract
(docs/contract.md, "Conformance warnings") as a warning with a stable code,
the rule it deviates from and how to fix it. Strict mode (``serve --strict``,
or an account's ``strict``) refuses such a request instead, with the code of
``REFUSAL`` in the surface's own format.

This module is the one table of warning codes; surfaces and the core only
create ``Warning`` objects from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ipyy_client.codes import ResultCode
from ipyy_mock.core.exchange import Exchange


@dataclass(frozen=True)
class WarningRule:
    code: str
    rule: str  # what the document says
    fix: str  # what to change in the client


RULES: dict[str, WarningRule] = {
    r.code: r
    for r in (
        WarningRule(
            "soap-element-order",
            "The WSDL's sequence fixes the order of the children of the operation element and of its body object.",
            "Send userName, password, sms and, inside sms, Msisdns, SMSContent, ExtNumber, PlanSendTime in "
            "that order (generate the request from the WSDL).",
        ),
        WarningRule(
            "soap-unknown-element",
            "The operation element and its body object hold only the elements the WSDL declares (in namespace "
            "http://www.yysms.com/); the real endpoint ignores any other.",
            "Remove the element, or fix its name, case or namespace: an ignored element's value never "
            "reaches the platform.",
        ),
        WarningRule(
            "soap-repeated-element",
            "Each element of the operation and of its body object occurs at most once.",
            "Send the element once; the endpoint keeps only the first one.",
        ),
        WarningRule(
            "soap-namespace",
            "The service's namespace is http://www.yysms.com/ (operation elements and SOAPAction "
            "http://www.yysms.com/<Operation>); http://tempuri.org/ was the namespace of this project's own WSDL "
            "up to 0.1.0, reconstructed from the document.",
            "Generate the client from the served WSDL (or upgrade ipyy_client past 0.1.0): the vendor answers the old "
            "namespace with a Fault, or binds no parameter at all.",
        ),
        WarningRule(
            "soap-action-mismatch",
            "The SOAPAction (SOAP 1.1) or the action parameter (SOAP 1.2) names the operation the body holds.",
            "Send the action of the body's operation: ASMX runs the operation the action names, and binds no "
            "parameter from a body element of another operation.",
        ),
        WarningRule(
            "soap-charset",
            "A SOAP request states its encoding: Content-Type text/xml; charset=utf-8 (SOAP 1.1) or "
            "application/soap+xml; charset=utf-8 (SOAP 1.2).",
            "Add charset=utf-8 to the Content-Type: ASMX reads text/xml without a charset as US-ASCII, so every "
            "non-ASCII character (Chinese text) arrives as '?'.",
        ),
        WarningRule(
            "soap-must-understand",
            "A SOAP header marked mustUnderstand is one the service understands; this service understands none.",
            "Drop the header or its mustUnderstand: ASMX refuses the whole request with a MustUnderstand Fault "
            "before the operation runs, so nothing is sent.",
        ),
        WarningRule(
            "soap-bad-bytes",
            "The body is text in the encoding it names.",
            "Encode the request in the charset the Content-Type names (UTF-8): ASMX replaces every byte that is not "
            "valid in it with U+FFFD.",
        ),
        WarningRule(
            "signature-at-start",
            "The document writes content + 【签名】: the signature at the end.",
            "Move the signature to the end of the content (内容【签名】).",
        ),
        WarningRule(
            "number-country",
            "SendI18NSms and I18NSms.aspx take the country code and the number (8613800138000).",
            "Prefix the country code; for a Chinese domestic number use SendHybridSms or the domestic interface.",
        ),
        WarningRule(
            "send-time-past",
            "PlanSendTime / sendTime is for a later send; a time in the past is sent at once.",
            "Leave it empty to send now, or send a future time (platform time, Asia/Shanghai unless a zone is given).",
        ),
        WarningRule(
            "plain-password",
            "The HTTP interface takes password = MD5 of the password, 32 hex digits, upper case.",
            "Send md5(password).hexdigest().upper() (ipyy_client.md5_password does it).",
        ),
        WarningRule(
            "code-not-8",
            "code=8 is the documented value for send (UTF-16BE hex content).",
            "Send code=8 (0 means the same to the platform).",
        ),
        WarningRule(
            "duplicate-recipient",
            "Each recipient is listed once; the platform sends a duplicate once and charges it once.",
            "Remove the duplicate numbers from the list.",
        ),
        WarningRule(
            "param-repeated",
            "Each parameter is given once; the endpoint (ASP.NET) joins repeated values with commas.",
            "Send each parameter once (a repeated mobile becomes one comma-separated list).",
        ),
        WarningRule(
            "frequency-limit",
            "One number gets at most 3 messages containing 验证码 in 3 minutes (the vendor's default); more is "
            "refused as malicious registration.",
            "Do not resend a verification code in a loop: wait out the window, or tell the user to wait "
            "(account settings code_limit / code_window change the limit).",
        ),
        WarningRule(
            "daily-limit",
            "One number gets at most 10 messages a day (the vendor's default; the day is Beijing time).",
            "Send fewer messages to the number, or ask the vendor for a higher limit "
            "(account setting daily_limit changes it).",
        ),
    )
}

# The ResultCode a strict-mode refusal answers with, when the rule has a nearer one than ParamError. The SOAP
# shape rules refuse with a SOAP Fault instead (SOAP_SHAPE).
REFUSAL: dict[str, ResultCode] = {
    "signature-at-start": ResultCode.RequiredSuffix,
    "number-country": ResultCode.MsisdnError,
    "plain-password": ResultCode.PasswordError,
    "duplicate-recipient": ResultCode.MsisdnError,
    "frequency-limit": ResultCode.FrequentOperation,
    "daily-limit": ResultCode.FrequentOperation,
}
SOAP_SHAPE = frozenset(
    {
        "soap-element-order",
        "soap-unknown-element",
        "soap-repeated-element",
        "soap-namespace",
        "soap-action-mismatch",
        "soap-charset",
        "soap-bad-bytes",
        "soap-must-understand",
    }
)


@dataclass(frozen=True)
class ConformanceWarning:
    """One deviation found in one request; ``detail`` says where (the element, the number, the value)."""

    code: str
    detail: str

    def __post_init__(self) -> None:
        if self.code not in RULES:
            raise ValueError(f"unknown warning code {self.code!r}")

    @property
    def rule(self) -> WarningRule:
        return RULES[self.code]

    @property
    def refusal(self) -> ResultCode:
        return REFUSAL.get(self.code, ResultCode.ParamError)

    def text(self) -> str:
        """One line for a strict-mode refusal and for logs: code, what was found, how to fix it."""
        return f"{self.code}: {self.detail}. {self.rule.fix}"

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, "rule": self.rule.rule, "fix": self.rule.fix}


def codes_table() -> list[dict[str, str]]:
    """Every warning code with its rule and fix (the admin API serves it; the docs list it)."""
    return [
        {
            "code": r.code,
            "rule": r.rule,
            "fix": r.fix,
            "strict_refusal": "SOAP Fault" if r.code in SOAP_SHAPE else REFUSAL.get(r.code, ResultCode.ParamError).name,
        }
        for r in RULES.values()
    ]


#: At most this many characters of warnings in the reply header (proxies refuse headers of 8 KiB and more).
HEADER_LIMIT = 4000


def header_value(warnings: list[ConformanceWarning]) -> str:
    """The ``X-Ipyy-Mock-Warnings`` value of a request's warnings: a JSON array of code, detail and fix, ASCII
    (a header carries nothing else), whole warnings only up to HEADER_LIMIT characters (the journal has all)."""
    kept: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    value = "[]"
    for warning in warnings:
        if (warning.code, warning.detail) in seen:
            continue
        seen.add((warning.code, warning.detail))
        candidate = json.dumps(
            [*kept, {"code": warning.code, "detail": warning.detail, "fix": warning.rule.fix}],
            ensure_ascii=True,
            separators=(",", ":"),
        ).replace("\x7f", "\\u007f")  # JSON leaves DEL as it is; a header may not carry it
        if len(candidate) > HEADER_LIMIT:
            break
        kept.append({"code": warning.code, "detail": warning.detail, "fix": warning.rule.fix})
        value = candidate
    return value


def attach(environ: dict[str, Any], warnings: list[ConformanceWarning], result: ResultCode | None = None) -> None:
    """Hand a request's warnings (and a send's result code) to its Exchange (core/exchange.py), where the reply's
    warnings header and the journal read them."""
    if warnings or result is not None:
        exchange = Exchange.of(environ)
        exchange.warnings.extend(warnings)
        if result is not None:
            exchange.result = result.name
