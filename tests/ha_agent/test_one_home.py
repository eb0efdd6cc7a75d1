"""One home, one index: every reader of the home (REST, context, tools, intents) answers from the
copy it reads, also when that copy was reloaded from the database while the layout changed, and
the owner's policy reaches the context as it reaches the tools.

The entities' TTL is short, so their memory copy expires and is refilled from the database during
the test: a reader that kept an index of the copy before would list what was removed (a 500 when
the REST filter looked it up) and miss what was renamed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from data_api.simulator import SimulatedHA
from tests.support.agent import ServedAgent, agent_settings, serve_agent
from tests.support.mirroring import wait_for

AREA = "living_room"


def _local(sim: SimulatedHA, tmp_path: Path, **overrides: Any):
    return agent_settings(
        sim, "http://127.0.0.1:9/v1", tmp_path / "agent.db", llm_base_url=None, llm_provider="local", **overrides
    )


async def _reloaded(agent: ServedAgent) -> None:
    """Let the entities' copy expire and be refilled from the database (a new copy)."""
    tier = agent.mirror.tiers["entities"]
    before = tier.last
    await asyncio.sleep(tier.ttl + 0.05)
    await agent.service.home.kind("entities")  # a read after the expiry starts the refill
    await wait_for(lambda: tier.last is not before, what="the copy refilled from the database")


async def _read_everything(agent: ServedAgent) -> dict[str, Any]:
    listed = await agent.http.get("/api/v1/entities", params={"area": AREA, "domain": "light"})
    assert listed.status_code == 200, listed.text
    context = await agent.http.get("/api/v1/context", params={"q": "living room lights"})
    assert context.status_code == 200, context.text
    answer = await agent.chat("which lights are on in the living room?")
    assert answer.status_code == 200, answer.text
    return {
        "rest": {e["entity_id"]: e["name"] for e in listed.json()["items"]},
        "context": context.json()["prefix"] + context.json()["volatile"],
        "reply": answer.json()["reply"],
    }


async def test_every_reader_answers_from_the_copy_it_reads_across_reloads(sim: SimulatedHA, tmp_path: Path) -> None:
    async with serve_agent(_local(sim, tmp_path, cache_ttl_entities=0.3)) as agent:
        lights = sorted(
            e
            for e in sim.home.entities
            if e.startswith("light.") and sim.home.effective_area(e) == AREA and sim.home.is_exposed(e)
        )
        assert len(lights) >= 2, lights
        removed, renamed = lights[0], lights[1]
        await _reloaded(agent)
        before = await _read_everything(agent)  # every reader's caches built on the reloaded copy
        assert removed in before["rest"] and renamed in before["rest"]

        sim.home.remove_entity(removed)
        sim.home.update_entity(renamed, name="Pantry Glow")
        await wait_for(lambda: removed not in agent.mirror.tiers["entities"].last.items, what="the removal mirrored")
        await _reloaded(agent)

        after = await _read_everything(agent)
        assert removed not in after["rest"] and after["rest"][renamed] == "Pantry Glow"
        assert removed not in after["context"] and '"Pantry Glow"' in after["context"]
        turned = (await agent.chat("turn on the pantry glow")).json()
        assert turned["path"] == "local" and [c["arguments"]["target"]["entity_id"] for c in turned["tool_calls"]] == [
            [renamed]
        ]
        rows = (await agent.chat("is the pantry glow on?")).json()
        assert "Pantry Glow is on" in rows["reply"]
        gone = (
            await agent.chat(
                f"turn on {sim.home.states.get(removed, {}).get('attributes', {}).get('friendly_name', removed)}"
            )
        ).json()
        assert not any(c["arguments"].get("target", {}).get("entity_id") == [removed] for c in gone["tool_calls"])


async def test_the_owners_deny_list_reaches_the_context(sim: SimulatedHA, tmp_path: Path) -> None:
    async with serve_agent(_local(sim, tmp_path, tools_deny_domains=["light"])) as agent:
        body = (await agent.http.get("/api/v1/context")).json()
        prompt = body["prefix"] + body["volatile"]
        lights = [e for e in sim.home.states if e.startswith("light.") and sim.home.is_exposed(e)]
        assert lights and not any(light in prompt for light in lights)
        assert "light.turn_on" not in prompt  # nor the services of a domain it may not use
        switches = [e for e in sim.home.states if e.startswith("switch.") and sim.home.is_exposed(e)]
        assert any(switch in prompt for switch in switches)  # the rest of the home is still there


async def test_detailed_health_without_a_model(sim: SimulatedHA, tmp_path: Path) -> None:
    async with serve_agent(_local(sim, tmp_path)) as agent:
        detail = await agent.http.get("/health/detailed")
        assert detail.status_code == 200, detail.text
        assert detail.json()["llm"] == {"model": None, "provider": "local"}
