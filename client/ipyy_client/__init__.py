"""ipyy_client: a Python client for the Huaxin (ipyy.net) international SMS gateway."""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("ipyy-sms")  # the one version, pyproject.toml's
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

from typing import TYPE_CHECKING, Any

from ipyy_client.codes import ResultCode

# Where each public name lives. The transports (zeep, httpx, requests) load on first use, so a program that
# only needs ResultCode or the billing rules (the mock's workers) does not import them (docs/benchmarks.md).
_LAZY = {
    "AsyncDomesticClient": "aio",
    "AsyncHttpClient": "aio",
    "AsyncSoapClient": "aio",
    "predict_cost": "billing",
    "price_for": "billing",
    "segment_count": "billing",
    "utf16_units": "billing",
    "DomesticClient": "domestic",
    "decode_content": "encoding",
    "encode_content": "encoding",
    "md5_password": "encoding",
    "IpyyError": "errors",
    "HttpClient": "http",
    "parse_push": "push",
    "push_receiver": "push",
    "Balance": "results",
    "DomesticSendResult": "results",
    "HttpSendResult": "results",
    "MockWarning": "results",
    "PointsBalance": "results",
    "Report": "results",
    "SendResult": "results",
    "Uplink": "results",
    "SoapClient": "soap",
}

if TYPE_CHECKING:  # what type checkers and IDEs see: the same names, imported eagerly
    from ipyy_client.aio import AsyncDomesticClient, AsyncHttpClient, AsyncSoapClient
    from ipyy_client.billing import predict_cost, price_for, segment_count, utf16_units
    from ipyy_client.domestic import DomesticClient
    from ipyy_client.encoding import decode_content, encode_content, md5_password
    from ipyy_client.errors import IpyyError
    from ipyy_client.http import HttpClient
    from ipyy_client.push import parse_push, push_receiver
    from ipyy_client.results import (
        Balance,
        DomesticSendResult,
        HttpSendResult,
        MockWarning,
        PointsBalance,
        Report,
        SendResult,
        Uplink,
    )
    from ipyy_client.soap import SoapClient


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ipyy_client' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"ipyy_client.{module}"), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ResultCode",
    "SendResult",
    "HttpSendResult",
    "DomesticSendResult",
    "MockWarning",
    "PointsBalance",
    "Balance",
    "Report",
    "Uplink",
    "SoapClient",
    "HttpClient",
    "DomesticClient",
    "AsyncSoapClient",
    "AsyncHttpClient",
    "AsyncDomesticClient",
    "parse_push",
    "push_receiver",
    "IpyyError",
    "encode_content",
    "decode_content",
    "md5_password",
    "predict_cost",
    "price_for",
    "segment_count",
    "utf16_units",
]
