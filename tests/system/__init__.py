"""End-to-end tests of the whole: the demo, the web page, fuzzing, load, soak, Home Assistant."""
