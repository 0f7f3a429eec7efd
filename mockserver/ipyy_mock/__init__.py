"""ipyy_mock: an offline mock of the Huaxin (ipyy.net) international SMS gateway."""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("ipyy-sms")  # the one version, pyproject.toml's
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
