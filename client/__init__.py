"""ipyy_client: a Python client for the Huaxin (ipyy.net) international SMS gateway."""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("ipyy-sms")  # the one version, pyproject.toml's
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

from ipyy_client.aio import AsyncDomesticClient, AsyncHttpClient, AsyncSoapClient
from ipyy_client.billing import predict_cost, price_for, segment_count, utf16_units
from ipyy_client.codes import ResultCode
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
