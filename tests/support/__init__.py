"""Support code for the tests: the real Home Assistant harness."""
