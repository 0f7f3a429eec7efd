"""Every option of a command takes its default from an environment variable: ``--max-body`` from ``IPYY_MOCK_MAX_BODY``.

Why: a container, a Compose file or a CI ``services:`` block configures a
program through its environment, while a person types flags. Applied to a
parser after its options are defined, so an option added later is covered
without naming it here. The rules:

- the variable is the prefix plus the long option's name in upper case with
  ``-`` as ``_`` (``--allowed-host`` → ``IPYY_MOCK_ALLOWED_HOST``; for
  ``--no-journal`` it is ``IPYY_MOCK_NO_JOURNAL``); unset or empty means no
  default from the environment;
- a value goes through the option's own ``type`` and ``choices``, when the
  command is parsed: a bad one is that command's usage error naming the variable;
- a repeatable option (``action="append"``) reads a list separated by commas or
  spaces; any value on the command line replaces the whole list;
- a switch (``store_true``, ``store_false``, ``--x/--no-x``) reads
  ``1/true/yes/on`` or ``0/false/no/off``;
- a flag given on the command line always wins over the environment, also over
  the variable of a flag it excludes (``--admin-token-file F`` wins over
  ``$IPYY_MOCK_ADMIN_TOKEN``: the two are a mutually exclusive group).
"""

from __future__ import annotations

import argparse
import os
import re
from typing import Any, Callable, Mapping

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")
SEPARATORS = re.compile(r"[,\s]+")


class EnvText(str):
    """A default taken from the environment: argparse converts a ``str`` default with the option's ``type`` only
    when the command line did not give the option, which is exactly when the environment applies."""

    var: str

    def __new__(cls, value: str, var: str) -> "EnvText":
        text = super().__new__(cls, value)
        text.var = var
        return text

    def __copy__(self) -> list:
        # argparse copies an append action's default before adding a command-line value to it: an empty copy
        # makes the command line replace the environment's list instead of extending it
        return []


def variable(action: argparse.Action, prefix: str) -> str | None:
    """``IPYY_MOCK_PORT`` for ``--port``; None for an action without a long option (positionals, ``-h``)."""
    longs = [o for o in action.option_strings if o.startswith("--")]
    if not longs or isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
        return None
    return prefix + longs[0][2:].upper().replace("-", "_")


def _switch(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    raise argparse.ArgumentTypeError(f"must be one of {'/'.join(TRUE)} or {'/'.join(FALSE)}")


def _converter(action: argparse.Action) -> Callable[[str], Any]:
    """What turns the variable's text into this action's value (the same value the command line would give)."""
    convert_one = action.type if callable(action.type) else str

    def one(text: str) -> Any:
        try:
            value = convert_one(text)
        except argparse.ArgumentTypeError:
            raise
        except (TypeError, ValueError):
            name = getattr(convert_one, "__name__", "value")
            raise argparse.ArgumentTypeError(f"invalid {name} value: {text!r}") from None
        if action.choices is not None and value not in action.choices:
            raise argparse.ArgumentTypeError(
                f"invalid choice: {value!r} (choose from {', '.join(map(repr, action.choices))})"
            )
        return value

    def items(text: str) -> list[Any]:
        return [one(item) for item in SEPARATORS.split(text.strip()) if item]

    if isinstance(action, argparse.BooleanOptionalAction):
        return _switch
    if isinstance(action, argparse._CountAction):
        return _count
    if isinstance(action, argparse._AppendConstAction):
        return lambda text: [action.const] if _switch(text) else []
    if action.nargs == 0:  # store_true, store_false, store_const: on gives const, off keeps the default
        default = action.default
        return lambda text: action.const if _switch(text) else default
    if isinstance(action, (argparse._AppendAction, argparse._ExtendAction)):
        return items
    if action.nargs in ("*", "+") or isinstance(action.nargs, int):
        return items
    return one


def _count(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}")
    return int(text)


def _from_env(action: argparse.Action) -> Callable[[str], Any]:
    """The action's ``type`` from now on: the environment's text through ``_converter``, anything else as before."""
    original = action.type
    env_convert = _converter(action)

    def convert(text: str) -> Any:
        if isinstance(text, EnvText):
            try:
                return env_convert(str(text))
            except argparse.ArgumentTypeError as exc:
                raise argparse.ArgumentTypeError(f"${text.var}: {exc} (fix or unset it)") from None
        return original(text) if callable(original) else text

    convert.__name__ = getattr(original, "__name__", "str")
    return convert


def _excluding(action: argparse.Action, others: list[argparse.Action], defaults: dict[int, Any]) -> None:
    """Make ``action``, when the command line gives it, drop the environment's value of the flags it excludes.

    Until the end of parsing a flag not given still holds its EnvText default; putting the plain default back
    means argparse no longer converts the variable's text for it.
    """

    class Excluding(type(action)):  # type: ignore[misc]  # argparse calls the action's class's __call__
        def __call__(
            self,
            parser: argparse.ArgumentParser,
            namespace: argparse.Namespace,
            values: Any,
            option_string: str | None = None,
        ) -> None:
            for other in others:
                if isinstance(getattr(namespace, other.dest, None), EnvText):
                    setattr(namespace, other.dest, defaults[id(other)])
            super().__call__(parser, namespace, values, option_string)

    Excluding.__name__ = Excluding.__qualname__ = type(action).__name__
    action.__class__ = Excluding


def apply(parser: argparse.ArgumentParser, prefix: str, environ: Mapping[str, str] | None = None) -> None:
    """Give each of ``parser``'s long options its default from ``<prefix><NAME>`` and name the variable in --help."""
    env = os.environ if environ is None else environ
    defaults = {id(action): action.default for action in parser._actions}
    for group in parser._mutually_exclusive_groups:
        for action in group._group_actions:
            _excluding(action, [a for a in group._group_actions if a is not action], defaults)
    for action in parser._actions:
        var = variable(action, prefix)
        if var is None:
            continue
        if action.help != argparse.SUPPRESS and var not in (action.help or ""):
            action.help = f"{action.help} [${var}]" if action.help else f"[${var}]"
        raw = env.get(var)
        if not raw:
            continue
        action.type = _from_env(action)
        action.default = EnvText(raw, var)
