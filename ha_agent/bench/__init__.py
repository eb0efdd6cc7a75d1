"""Benchmarks and proofs of ha-agent, each against a baseline measured in the same run.

- `agent`: context build (warm, cold, the ask-HA-every-turn path), history window, turn
  overhead, parallel tool calls, the local intent engine;
- `report`: `ha-agent bench` — every benchmark over home sizes and HA latencies, one report
  (Markdown + JSON) with our figure, the baseline and their `ratio` side by side;
- `fleet`, `load`, `soak`: a simulated HA, a mirror process and agent replicas on one database,
  driven by many conversations, with faults.

The mirror's own benchmark lives with the mirror (`data_api.bench`).
"""
