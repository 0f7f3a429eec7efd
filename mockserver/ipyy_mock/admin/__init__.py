"""The mock's own admin API (/_mock/api) and the web inbox (/_mock/) over the same Platform."""
