"""The fault soak, short (`ha_agent.bench.soak`): chats over two agent replicas and a mirror on
PostgreSQL while the simulated HA drops its connections and restarts 10 times, the model server
answers 429, 500 or too late, and one replica is SIGKILLed and started again; then every
requirement checked: mirror equal to HA within 5 s, accepted messages stored, clear answers,
no secret in any log."""

from __future__ import annotations

import pytest

from ha_agent.bench.fleet import forget_home
from ha_agent.bench.soak import CONVERGE_WITHIN, format_soak, run_soak

SECONDS = 80.0  # of chats; the whole test is about 100 s


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_soak_under_faults_keeps_every_promise(database_url: str) -> None:
    result = await run_soak(database_url, SECONDS)
    try:
        print("\n" + format_soak(result))
        # The faults all happened.
        assert result["ha_drops"] == result["ha_restarts"] == 10
        assert result["agent_kills"] == result["agent_restarts"] == 1
        assert set(result["model_faults"]) == {"429", "500", "timeout"}
        assert result["llm_retries"] > 0

        # The mirror (over the data-api's REST API) equals the simulator's home.
        assert result["mirror_differences"] == 0, result["mirror_difference_samples"]
        assert result["converge_seconds"] is not None and result["converge_seconds"] <= CONVERGE_WITHIN

        # Every request answered: 2xx, or 4xx/5xx with a JSON detail and no traceback; without
        # an answer only what the SIGKILL cut (and those are stored at most once).
        counted = result["2xx"] + sum(result["4xx"].values()) + sum(result["5xx"].values())
        assert counted + sum(result["no_answer"].values()) == result["requests"]
        assert set(result["no_answer"]) <= {"cut_by_kill"}, result["no_answer"]
        assert result["bad_bodies"] == []
        assert result["2xx"] > result["requests"] * 0.8

        # Every accepted message stored once, in order, answered when it said 2xx; tool groups whole.
        history = result["history"]
        assert history["problems"] == [], history["problems"]
        assert history["accepted"] >= result["2xx"]
        assert history["user_messages_stored"] >= history["accepted"]

        assert result["secret_leaks"] == {}
        assert result["ok"], result["failures"]
    finally:
        await forget_home(database_url, result["home_id"])
