"""data_api: a local mirror of a Home Assistant instance, served over REST."""
