"""ha_agent: the assistant service that knows and runs a Home Assistant home."""
