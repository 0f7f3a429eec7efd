"""Request parameters as the vendor's ASP.NET pages read them.

Why not werkzeug's ``request.values`` as it is: ASP.NET's ``Request["name"]``
finds a parameter whatever the case of its name (``sendtime``, ``SendTime``),
looks in the query string first and then the form (urlencoded or multipart),
and joins a parameter given more than once with commas. Production clients
rely on all three (a POST with every parameter in the query string and no
body, a multipart form with lower-case names), so the mock reads them the
same way, and records a repeated parameter as a conformance warning.
"""

from __future__ import annotations

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from ipyy_mock.core.conformance import ConformanceWarning
from ipyy_mock.core.validation import parse_count  # noqa: F401  (the surfaces' one whole-number reader)


class Params:
    """The parameters of one request, looked up case-insensitively."""

    def __init__(self, request: Request) -> None:
        self._values: dict[str, str] = {}
        self.warnings: list[ConformanceWarning] = []
        self.refusal: ConformanceWarning | None = None  # strict mode refused the request for this warning
        seen: dict[str, str] = {}  # lower-case name -> where it was first found
        for where, source in (("query", request.args), ("form", _form(request))):
            grouped: dict[str, list[str]] = {}
            for name, value in source.items(multi=True):
                grouped.setdefault(name.lower(), []).append(value)
            for key, values in grouped.items():
                if len(values) > 1:
                    self.warnings.append(
                        ConformanceWarning(
                            "param-repeated",
                            f"{key} was given {len(values)} times in the {where}; read as {','.join(values)[:60]!r}",
                        )
                    )
                if key in seen:
                    self.warnings.append(
                        ConformanceWarning(
                            "param-repeated", f"{key} is in both the query string and the form; the query's is used"
                        )
                    )
                    continue
                seen[key] = where
                self._values[key] = ",".join(values)

    def get(self, name: str) -> str | None:
        return self._values.get(name.lower())

    def text(self, name: str) -> str:
        """The value, or "" when absent."""
        return self._values.get(name.lower()) or ""


def _form(request: Request) -> MultiDict[str, str]:
    if request.method in ("POST", "PUT", "PATCH"):
        return request.form
    return MultiDict()
