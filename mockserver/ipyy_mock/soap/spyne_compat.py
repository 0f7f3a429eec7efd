"""Make spyne 2.14.0 (its last release) import and run on Python 3.11, 3.12 and 3.13.

Import this module before anything from ``spyne``; it is idempotent and cheap.

Why it is needed:

* spyne ships its own copy of ``six`` (``spyne.util.six``, six 1.14). That copy
  registers ``six.moves`` through a meta-path importer that only implements the
  ``find_module``/``load_module`` protocol, which Python 3.12 removed, so
  ``from spyne.util.six.moves... import ...`` fails and spyne does not import
  (spyne issue #700). We register, under the name ``spyne.util.six``, a module
  with the namespace of the real ``six`` package (a declared dependency; its
  importer uses ``find_spec``), plus ``get_function_name``, which spyne still
  calls but six dropped; and we alias the few ``six.moves`` modules spyne
  imports by name. The real ``six`` module itself is left untouched.
* spyne imports the stdlib ``cgi`` module (for ``cgi.parse_header``), which
  Python 3.13 removed (spyne issue #711). The ``legacy-cgi`` package, a declared
  dependency for Python >= 3.13, provides it under the same name.
"""

from __future__ import annotations

import operator
import sys
import types
import warnings

import six

__all__ = ["install"]

# The ``six.moves`` modules that spyne 2.14 imports with ``from spyne.util.six.moves.X import``.
_MOVES = (
    "moves",
    "moves.urllib",
    "moves.urllib.parse",
    "moves.urllib.request",
    "moves.urllib.error",
    "moves.http_cookies",
    "moves.collections_abc",
)


def install() -> None:
    """Register the ``spyne.util.six`` replacement and check that ``cgi`` exists."""
    if "spyne.util.six" in sys.modules:
        # Already installed, or spyne was imported first with its vendored six:
        # that still works on 3.11, and on 3.12+ spyne would have failed to import.
        return

    shim = types.ModuleType("spyne.util.six", six.__doc__)
    shim.__dict__.update({k: v for k, v in vars(six).items() if not k.startswith("__")})
    shim.get_function_name = operator.attrgetter("__name__")  # dropped by later six releases; spyne calls it
    sys.modules["spyne.util.six"] = shim
    for name in _MOVES:
        # Attribute access resolves six's lazy moved modules without going
        # through the import system (which would rewrite their __spec__).
        sys.modules[f"spyne.util.six.{name}"] = operator.attrgetter(name)(six)

    try:
        with warnings.catch_warnings():  # 3.11/3.12 warn that cgi is deprecated; known and handled
            warnings.simplefilter("ignore", DeprecationWarning)
            import cgi  # noqa: F401  (stdlib up to 3.12, the legacy-cgi package from 3.13)
    except ImportError as exc:  # pragma: no cover - only without the declared dependency
        raise ImportError(
            "spyne needs the 'cgi' module, removed from the standard library in Python 3.13: pip install legacy-cgi"
        ) from exc


install()
