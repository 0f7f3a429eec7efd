"""ipyy_mock: an offline mock of the Huaxin (ipyy.net) international SMS gateway."""

__version__ = "0.1.0"
