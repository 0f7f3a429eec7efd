"""The domain core: every rule the surfaces share (validation, billing, scenarios, store, delivery)."""
