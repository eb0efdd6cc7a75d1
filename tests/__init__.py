"""The test suite: it mirrors the rooms (data_api/, ha_agent/), with system/ for the whole."""
