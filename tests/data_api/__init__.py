"""Tests of the data_api room (they mirror the layout: see ../shared/architecture.md)."""
