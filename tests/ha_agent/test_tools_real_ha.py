"""The agent's tools against each real Home Assistant the suite starts (fixture `real_ha`: 2025.4.4, 2026.11.0).

A mirror follows the real HA; the toolbox acts through the mirror's own client. What a test
changes in HA (states, exposure) is put back afterwards: the instance is shared by the session.
"""

from __future__ import annotations

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

LIGHT = "light.kitchen_lights"  # the demo's, aliased "cooking light" by the harness
SELECT = "input_select.house_mode"  # declared by the harness; helpers are not exposed by default


@dataclass
class RealTools:
    ha: RealHomeAssistant
    toolbox: Toolbox
    env: ToolEnv

    async def run(self, *calls: ToolCall) -> list[ToolOutcome]:
        return await self.toolbox.execute(list(calls), self.env)

    async def state(self, entity_id: str) -> dict[str, Any]:
        """Straight from HA's REST API, not through anything under test."""
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{self.ha.url}/api/states/{entity_id}", headers=self.ha.headers())
            response.raise_for_status()
            return response.json()


async def _expose(ha: RealHomeAssistant, entity_id: str, expose: bool) -> bool:
    """Set the Assist exposure of `entity_id`; returns what it was."""
    async with ha.websocket() as ws:
        listed = await ws.command("homeassistant/expose_entity/list")
        before = bool(listed["exposed_entities"].get(entity_id, {}).get("conversation"))
        await ws.command(
            "homeassistant/expose_entity", assistants=["conversation"], entity_ids=[entity_id], should_expose=expose
        )
    return before


async def _restore(ha: RealHomeAssistant, light: dict[str, Any], select: dict[str, Any]) -> None:
    async with ha.websocket() as ws:
        service = "turn_on" if light["state"] == "on" else "turn_off"
        await ws.command("call_service", domain="light", service=service, target={"entity_id": LIGHT})
        await ws.command(
            "call_service",
            domain="input_select",
            service="select_option",
            service_data={"option": select["state"]},
            target={"entity_id": SELECT},
        )


@pytest.fixture
async def real(real_ha: RealHomeAssistant, tmp_path) -> AsyncIterator[RealTools]:
    was_exposed = await _expose(real_ha, SELECT, True)
    probe = RealTools(real_ha, None, None)  # type: ignore[arg-type]
    light, select = await probe.state(LIGHT), await probe.state(SELECT)
    try:
        async with mirror_env(real_ha, tmp_path) as env:
            await wait_for(
                lambda: env.peek("entities").get(SELECT) is not None and env.peek("entities")[SELECT].exposed,
                what="exposure mirrored",
            )
            store = ToolStore(env.store.engine, home_id=env.settings.home_id)
            await store.migrate()
            tool_env = ToolEnv(
                "real-ha-1",
                LocalHome(env.reader, Policy.from_settings(env.settings.tools)),
                HAActions(env.mirror.client),
                store,
            )
            yield RealTools(real_ha, Toolbox(env.settings.tools), tool_env)
    finally:
        await _restore(real_ha, light, select)
        if not was_exposed:
            await _expose(real_ha, SELECT, False)


def _call(name: str, args: dict[str, Any]) -> ToolCall:
    return ToolCall(f"call_{name}_{len(json.dumps(args))}", name, json.dumps(args))


async def test_a_light_and_an_input_select_change_in_parallel(real: RealTools):
    light, select = await real.state(LIGHT), await real.state(SELECT)
    service = "light.turn_off" if light["state"] == "on" else "light.turn_on"
    wanted_light = "off" if light["state"] == "on" else "on"
    option = next(o for o in select["attributes"]["options"] if o != select["state"])
    switched, selected = await real.run(
        _call("call_service", {"service": service, "target": {"entity_id": ["cooking light"]}}),
        _call("set_helper", {"helper": "House mode", "value": option.lower()}),
    )
    assert switched.error is None and selected.error is None, (switched.error, selected.error)
    # Both were in flight at once: neither waited for the other.
    assert max(switched.started_at, selected.started_at) < min(switched.ended_at, selected.ended_at)
    # The results report the new states as the mirror sees them...
    assert switched.result["states"][0]["entity_id"] == LIGHT
    assert switched.result["states"][0]["state"] == wanted_light
    assert (selected.result["states"][0]["entity_id"], selected.result["states"][0]["state"]) == (SELECT, option)
    # ...and Home Assistant itself has them.
    assert (await real.state(LIGHT))["state"] == wanted_light
    assert (await real.state(SELECT))["state"] == option
    audit = await real.env.store.list_audit(10, conversation_id=real.env.conversation_id)
    assert {row["tool"] for row in audit} == {"call_service", "set_helper"}


async def test_invalid_data_comes_back_as_an_error_result(real: RealTools):
    before = await real.state(LIGHT)
    ours, has, fine = await real.run(
        # caught by our check of light.turn_on's fields (from the mirror), before HA
        _call(
            "call_service", {"service": "light.turn_on", "target": {"entity_id": LIGHT}, "data": {"brightness": "very"}}
        ),
        # each field valid on its own, so it passes our check; HA refuses the combination
        _call(
            "call_service",
            {
                "service": "light.turn_on",
                "target": {"entity_id": LIGHT},
                "data": {"rgb_color": [255, 0, 0], "color_temp_kelvin": 3000},
            },
        ),
        _call("get_state", {"entities": [LIGHT]}),
    )
    assert ours.result is None and "brightness must be a number from 0 to 255, not 'very'" in ours.error
    assert has.result is None and has.error.startswith("Home Assistant rejected light.turn_on: ")
    assert "exclusion" in has.error  # HA's own validation message, as HA wrote it
    assert fine.error is None and fine.result["states"][0]["entity_id"] == LIGHT
    after = await real.state(LIGHT)
    assert after["state"] == before["state"] and after["last_updated"] == before["last_updated"]
