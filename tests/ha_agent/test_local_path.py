"""The local intent engine inside the agent: alone (no model configured), and as the fast path
in front of a model. Over real HTTP, against the simulated HA."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from data_api.simulator import SimulatedHA
from ha_agent.simulator.scripted_server import Reply, ScriptedLLMServer
from tests.support.agent import ServedAgent, agent_settings, serve_agent
from tests.support.mirroring import wait_for


@pytest.fixture
async def local_only(sim: SimulatedHA, tmp_path) -> AsyncIterator[ServedAgent]:
    settings = agent_settings(
        sim, "http://127.0.0.1:9/v1", tmp_path / "agent.db", llm_base_url=None, llm_provider="local"
    )
    async with serve_agent(settings) as served:
        yield served


@pytest.fixture
async def fast_path(sim: SimulatedHA, llm: ScriptedLLMServer, tmp_path) -> AsyncIterator[ServedAgent]:
    async with serve_agent(agent_settings(sim, llm.base_url, tmp_path / "agent.db", intents_fast_path=True)) as served:
        yield served


async def _a_light(agent: ServedAgent, sim: SimulatedHA, state: str) -> tuple[str, str]:
    """An exposed light with a unique name, put in `state` first."""
    entities = (await agent.service.home.kind("entities")).sorted_items()
    names = [e.name.casefold() for e in entities]
    light = next(e for e in entities if e.domain == "light" and e.exposed and names.count(e.name.casefold()) == 1)
    sim.home.set_state(light.entity_id, state, dict(sim.home.states[light.entity_id]["attributes"]))
    await wait_for(lambda: agent.mirror.tiers["entities"].last.items[light.entity_id].state == state)
    return light.entity_id, light.name


async def test_without_a_model_the_local_engine_acts_and_answers(local_only: ServedAgent, sim: SimulatedHA):
    entity_id, name = await _a_light(local_only, sim, "off")
    response = await local_only.chat(f"turn on the {name}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["path"] == "local"
    assert [c["name"] for c in body["tool_calls"]] == ["call_service"]
    assert sim.home.states[entity_id]["state"] == "on"
    assert body["reply"]
    # Stored like a model's turn: the call, its result, then the reply.
    stored = (await local_only.http.get(f"/api/v1/conversations/{body['conversation_id']}")).json()
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant", "tool", "assistant"]


async def test_without_a_model_an_unknown_sentence_gets_an_honest_reply(local_only: ServedAgent):
    body = (await local_only.chat("compose a sonnet about my fridge")).json()
    assert body["path"] == "local" and body["tool_calls"] == []
    assert "LLM_BASE_URL" in body["reply"]


async def test_fast_path_answers_what_it_recognises_and_hands_on_the_rest(fast_path: ServedAgent, llm, sim):
    entity_id, name = await _a_light(fast_path, sim, "on")
    body = (await fast_path.chat(f"turn off the {name}")).json()
    assert body["path"] == "local"
    assert llm.requests == []  # the model was never asked
    assert sim.home.states[entity_id]["state"] == "off"
    llm.script(Reply.text("A poem, then."))
    body = (await fast_path.chat("write me a poem about the garden", body["conversation_id"])).json()
    assert body["path"] == "llm" and body["reply"] == "A poem, then."
    # The model sees what the local engine did earlier in the conversation.
    roles = [m["role"] for m in llm.requests[-1]["messages"]]
    assert roles[:2] == ["system", "user"] and "tool" in roles


async def test_a_lock_asks_for_confirmation_and_unlocks_only_after_yes(local_only: ServedAgent, sim: SimulatedHA):
    lock = next(e for e, s in sim.home.states.items() if e.startswith("lock.") and s["state"] == "locked")
    sim.home.set_exposed([lock], True)
    await wait_for(lambda: local_only.mirror.tiers["entities"].last.items[lock].exposed, 5)
    name = local_only.mirror.tiers["entities"].last.items[lock].name
    first = (await local_only.chat(f"unlock the {name}")).json()
    assert first["path"] == "local"
    assert first["reply"] == f"Unlock the {name}? Say yes to go ahead; anything else cancels."
    assert first["confirmation"]["actions"] == [f"unlock the {name}"]
    assert sim.home.states[lock]["state"] == "locked"
    second = (await local_only.chat("yes", first["conversation_id"])).json()
    assert second["path"] == "confirmation"
    await wait_for(lambda: sim.home.states[lock]["state"] == "unlocked", 5)
