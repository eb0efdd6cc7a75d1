"""The agent's fakes, for the demo, tests, evaluation and benchmarks (never runtime code): a
scripted OpenAI-compatible model server that speaks the real wire format (`scripted_server`)."""
