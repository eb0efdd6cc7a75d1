"""Load across replicas: 100 conversations × 10 turns over two agent processes and a mirror
process sharing PostgreSQL (turns alternate replicas), and the same on SQLite in one process;
then proof from the history tables that nothing was lost, duplicated or reordered, and one more
turn on each replica for every conversation (`ha_agent.bench.load`)."""

from __future__ import annotations

import uuid

from ha_agent.bench.fleet import forget_home
from ha_agent.bench.load import format_load, run_load

CONVERSATIONS, TURNS = 100, 10
MODEL_LATENCY = 0.3


async def test_load_loses_and_duplicates_nothing_across_replicas(backend: str, database_url: str) -> None:
    replicas = 2 if backend == "postgres" else 0  # SQLite: one process, the mirror inside
    home_id = f"test-load-{uuid.uuid4().hex[:12]}"  # chosen here: the rows go even if the run raises
    try:
        result = await run_load(
            database_url, CONVERSATIONS, TURNS, model_latency=MODEL_LATENCY, replicas=replicas, home_id=home_id
        )
        print("\n" + format_load(result))
        print({k: result[k] for k in ("cpu_ms_per_turn", "driver_cpu_seconds", "model_requests", "seconds")})
        assert result["errors"] == 0, result["error_samples"]
        assert result["turns_ok"] == CONVERSATIONS * TURNS and result["tool_errors"] == 0
        tool_turns = CONVERSATIONS * sum(1 for t in range(TURNS) if t % 3)
        # One model request per turn, and one more after each tool call: no turn was sent to the
        # model twice (a retry, a replayed request) nor answered without it.
        assert result["model_requests"] == CONVERSATIONS * TURNS + tool_turns
        # Each turn waited for the model at least once (its latency), and the client saw at least
        # what the server spent (client − llm ≥ total − llm turn by turn, so at each percentile).
        assert result["llm_p50_ms"] >= MODEL_LATENCY * 1000
        assert result["client_overhead_p50_ms"] >= result["overhead_p50_ms"] >= 0
        assert result["client_overhead_p99_ms"] >= result["overhead_p99_ms"]

        # From the database: exactly these conversations, each with its 10 user messages in
        # order, each answered by its own reply, seq contiguous, every tool group whole.
        history = result["history"]
        assert history["problems"] == [] and history["ok"]
        assert history["conversations"] == CONVERSATIONS
        assert history["user_messages"] == CONVERSATIONS * TURNS
        assert history["tool_groups"] == tool_turns
        assert history["messages"] == 2 * CONVERSATIONS * TURNS + 2 * tool_turns  # user + answer, call + result

        # The model saw every conversation whole, at every turn, whichever replica asked.
        assert result["model_history_problems"] == []
        assert result["model_history_checks"] >= CONVERSATIONS * TURNS

        # Continuable on either replica: one more turn on each, the whole history seen.
        more, on = result["continuation"], max(replicas, 1)
        assert more["ok"] == more["turns"] == CONVERSATIONS * on, more["errors_by_status"]
        assert more["model_saw_whole_history"] == CONVERSATIONS * on
        assert more["history"]["problems"] == [] and more["history"]["user_messages"] == CONVERSATIONS * (TURNS + on)

        assert result["logs"]["secret_leaks"] == {} and result["logs"]["tracebacks"] == 0
        assert result["ok"]
    finally:
        if backend == "postgres":  # SQLite: a file in tmp_path
            await forget_home(database_url, home_id)
