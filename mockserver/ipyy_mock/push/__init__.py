"""Push delivery: the runner that POSTs reports and uplinks, and the lease that keeps it to one per server."""
