"""Tests of the ha_agent room (they mirror the layout: see ../shared/architecture.md)."""
