"""Scenario rules: which delivery outcome a recipient number gets.

Rules are data (stored in the settings table as JSON) so that tests and the
admin API can script any outcome; the defaults are the magic test numbers of
docs/contract.md §3, in the spirit of Twilio's test credentials.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

from ipyy_client.codes import ResultCode

DELIVERED = "delivered"  # report status 10, errorcode DELIVRD
FAILED = "failed"  # report status 20, errorcode from the rule
BLACKLISTED = "blacklisted"  # refused at send: MsisdnBlack
NO_CHANNEL = "no_channel"  # refused at send: MsisdnNoChannel
NO_REPORT = "no_report"  # accepted, never reported
OUTCOMES = (DELIVERED, FAILED, BLACKLISTED, NO_CHANNEL, NO_REPORT)

REFUSALS = {BLACKLISTED: ResultCode.MsisdnBlack, NO_CHANNEL: ResultCode.MsisdnNoChannel}


@dataclass(frozen=True)
class Rule:
    pattern: str  # regular expression, matched against the whole number (country code first)
    outcome: str = DELIVERED
    errorcode: str = ""  # report errorcode; default DELIVRD / UNDELIV by outcome
    delay: float | None = None  # seconds until the report; None = the platform default
    reply: str = ""  # uplink text sent back by that number after its report

    def matches(self, mobile: str) -> bool:
        return re.fullmatch(self.pattern, mobile) is not None

    @property
    def report_status(self) -> int:
        return 20 if self.outcome == FAILED else 10

    @property
    def report_errorcode(self) -> str:
        return self.errorcode or ("UNDELIV" if self.outcome == FAILED else "DELIVRD")


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(r"8613800000001", FAILED, "UNDELIV"),
    Rule(r"8613800000002", BLACKLISTED),
    Rule(r"8613800000003", NO_CHANNEL),
    Rule(r"8613800000004", NO_REPORT),
    Rule(r"8613800000005", DELIVERED, reply="TD"),
)
FALLBACK = Rule(r".*", DELIVERED)


def rule_for(mobile: str, rules: tuple[Rule, ...] | list[Rule]) -> Rule:
    """First matching rule wins; numbers no rule names are delivered."""
    for rule in rules:
        if rule.matches(mobile):
            return rule
    return FALLBACK


def dump_rules(rules: list[Rule] | tuple[Rule, ...]) -> str:
    return json.dumps([asdict(r) for r in rules], ensure_ascii=False)


def load_rules(text: str | None) -> tuple[Rule, ...]:
    if text is None:
        return DEFAULT_RULES
    return tuple(Rule(**item) for item in json.loads(text))
