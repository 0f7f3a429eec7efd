"""An argparse parser that answers a typo with "did you mean": for ``ipyy`` and ``ipyy-mock`` alike.

Why it checks options before argparse parses: argparse reports a missing required option before an unknown
one, so ``ipyy send --txt hi`` said only "required: --text" and never named ``--txt``. Scanning each
parser's own words first (the sub-command's parser scans its own) puts the typo, and the option it was
probably meant to be, in the one error line. Unknown commands and choices get a suggestion the same way.
Kept free of other imports: ``ipyy-mock`` uses it too, and must start fast.
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Sequence
from typing import Any, NoReturn

_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<given>[^']*)' \(choose from (?P<choices>.*)\)$")


def did_you_mean(given: str, known: Sequence[str]) -> str:
    """`` (did you mean X?)`` for the closest of ``known``, or "" when none is close."""
    close = difflib.get_close_matches(given, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


class SuggestingParser(argparse.ArgumentParser):
    """argparse with "did you mean" for unknown options, commands and choices (one error line, exit 2)."""

    def _sub_commands(self) -> dict[str, argparse.ArgumentParser]:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return dict(action.choices)
        return {}

    def _takes_value(self, token: str) -> bool:
        action = self._option_string_actions.get(token)
        return action is not None and action.nargs != 0

    def _known_option(self, token: str) -> bool:
        if token in self._option_string_actions:
            return True
        # argparse accepts an unambiguous prefix (allow_abbrev): so does this check
        return self.allow_abbrev and any(o.startswith(token) for o in self._option_string_actions if o[:2] == "--")

    def _check_options(self, args: Sequence[str]) -> None:
        """error() for the first option this parser does not know, before argparse's own checks run."""
        commands = self._sub_commands()
        skip = False
        for token in args:
            if skip:
                skip = False
                continue
            if token == "--" or (commands and not token.startswith("-")):
                return  # what follows is positional, or the (perhaps mistyped) command's and its parser's
            if not token.startswith("-") or token == "-" or re.fullmatch(r"-\d[\d.]*", token):
                continue
            name = token.split("=", 1)[0]
            if self._known_option(name):
                skip = "=" not in token and self._takes_value(name)
                continue
            known = [o for o in self._option_string_actions if o.startswith("--")]
            self.error(f"unrecognized option {name}{did_you_mean(name, known)}")

    def parse_known_args(  # type: ignore[override]  # argparse's overloads: only the list form is used
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if args is not None:
            self._check_options(list(args))
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        found = _INVALID_CHOICE.search(message)
        if found:
            choices = re.findall(r"'([^']*)'", found["choices"])
            message += did_you_mean(found["given"], choices)
        super().error(message)
