"""The safety cases against the real Home Assistant of the test harness (fixture `real_ha`):
HA's demo front door lock and garage door, a scene with the garage in it and one locking a door
the assistant is not given, and scripts read back through HA's own `script/config`.

What a test changes in the shared HA (exposure, the garage door) is put back afterwards.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ha_agent.home import LocalHome, Policy
from ha_agent.llm import ToolCall
from ha_agent.tools import HAActions, Toolbox, ToolEnv, ToolOutcome, ToolStore
from tests.support.mirroring import mirror_env, wait_for
from tests.support.real_ha import RealHomeAssistant

FRONT_DOOR = "lock.front_door"  # demo locks; the assistant gets the front door only
KITCHEN_DOOR = "lock.kitchen_door"
GARAGE = "cover.garage_door"  # demo cover of device class garage
SCRIPTS = ("script.let_in", "script.garage_open")  # the harness's configuration.yaml


@dataclass
class Real:
    ha: RealHomeAssistant
    toolbox: Toolbox
    env: ToolEnv

    async def run(self, *calls: ToolCall) -> list[ToolOutcome]:
        return await self.toolbox.execute(list(calls), self.env)

    async def state(self, entity_id: str) -> str:
        """Straight from HA's REST API, not through anything under test."""
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{self.ha.url}/api/states/{entity_id}", headers=self.ha.headers())
            response.raise_for_status()
            return str(response.json()["state"])


async def _exposed(ha: RealHomeAssistant, entity_ids: list[str], expose: bool) -> dict[str, bool]:
    async with ha.websocket() as ws:
        listed = (await ws.command("homeassistant/expose_entity/list"))["exposed_entities"]
        before = {e: bool(listed.get(e, {}).get("conversation")) for e in entity_ids}
        await ws.command(
            "homeassistant/expose_entity", assistants=["conversation"], entity_ids=entity_ids, should_expose=expose
        )
    return before


@pytest.fixture
async def real(real_ha: RealHomeAssistant, tmp_path) -> AsyncIterator[Real]:
    given = [FRONT_DOOR, *SCRIPTS]
    before = await _exposed(real_ha, given, True)
    try:
        async with mirror_env(real_ha, tmp_path) as env:
            await wait_for(
                lambda: all(env.peek("entities").get(e) is not None and env.peek("entities")[e].exposed for e in given),
                what="exposure mirrored",
            )
            store = ToolStore(env.store.engine, home_id=env.settings.home_id)
            await store.migrate()
            tool_env = ToolEnv(
                "real-ha-safety",
                LocalHome(env.reader, Policy.from_settings(env.settings.tools)),
                HAActions(env.mirror.client),
                store,
            )
            yield Real(real_ha, Toolbox(env.settings.tools), tool_env)
    finally:
        async with real_ha.websocket() as ws:
            await ws.command("call_service", domain="cover", service="close_cover", target={"entity_id": GARAGE})
        for entity_id, was in before.items():
            if not was:
                await _exposed(real_ha, [entity_id], False)


def _call(name: str, args: dict[str, Any], n: int) -> ToolCall:
    return ToolCall(f"real_{name}_{n}", name, json.dumps(args))


async def test_the_real_front_door_asks_and_no_leaves_it_locked(real: Real):
    assert await real.state(FRONT_DOOR) == "locked"
    (asked,) = await real.run(
        _call("call_service", {"service": "lock.unlock", "target": {"entity_id": [FRONT_DOOR]}}, 1)
    )
    assert asked.needs_confirmation and asked.error is None
    question = await real.toolbox.open_question(real.env)
    assert question is not None and question.question.startswith("Unlock the Front Door?")
    resolution = await real.toolbox.resolve_pending("no", real.env)
    assert resolution is not None and resolution.refused
    await asyncio.sleep(0.5)
    assert await real.state(FRONT_DOOR) == "locked"


async def test_a_real_scene_with_the_garage_asks_then_opens_it_after_yes(real: Real):
    garage = await real.state(GARAGE)
    assert garage == "closed", garage
    (asked,) = await real.run(_call("activate_scene", {"scene": "Good morning"}, 2))
    assert asked.needs_confirmation and asked.error is None, asked
    assert "it changes the Garage Door" in (await real.toolbox.open_question(real.env)).question
    await asyncio.sleep(0.3)
    assert await real.state(GARAGE) == "closed"
    resolution = await real.toolbox.resolve_pending("yes", real.env)
    assert resolution is not None and resolution.outcome.error is None, resolution
    for _ in range(100):  # the demo cover moves in steps
        if await real.state(GARAGE) in ("open", "opening"):
            break
        await asyncio.sleep(0.1)
    assert await real.state(GARAGE) in ("open", "opening")


async def test_real_scenes_and_scripts_cannot_reach_an_unexposed_door(real: Real):
    before = await real.state(KITCHEN_DOOR)  # whatever it is, it must not change
    scene, script, garage = await real.run(
        _call("activate_scene", {"scene": "scene.lock_up"}, 3),
        _call("run_script", {"script": "script.let_in"}, 4),
        _call("run_script", {"script": "Garage open"}, 5),
    )
    assert scene.error and f"sets {KITCHEN_DOOR}, which is not exposed" in scene.error
    # The script's steps came from the real HA's `script/config`.
    assert script.error and f"script.let_in acts on {KITCHEN_DOOR}, which is not exposed" in script.error
    assert garage.needs_confirmation and garage.error is None
    await asyncio.sleep(0.5)
    assert await real.state(KITCHEN_DOOR) == before and await real.state(GARAGE) == "closed"
