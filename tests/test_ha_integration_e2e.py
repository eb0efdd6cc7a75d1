"""Assist → our custom integration → ha-agent → the same real Home Assistant, end to end.

The integration is installed into the session's real HA 2025.4.4 (fixture `real_ha`) with the
library call behind `ha-agent install-integration`, HA is restarted once to load it, and it is
configured through HA's own config-flow REST API. The agent (local intent engine, no model)
mirrors that same HA, so a sentence said to HA's `/api/conversation/process` comes back to HA as
a service call. What a test changes in the shared HA (the config entry, the bed light) is put back.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ha_agent.ha_integration import DOMAIN, InstallError, install
from tests.support.agent import ServedAgent, agent_settings, serve_agent
from tests.support.mirroring import wait_for
from tests.support.needs import unavailable
from tests.ha_integration_unit.venv import HARNESSES, HostVenvHarness, RootHarness
from tests.support.real_ha import HANotAvailable, RealHomeAssistant

UnitHarness = HostVenvHarness | RootHarness

KEY = "ha-integration-key-0123456789"
LIGHT = "light.bed_light"  # HA demo's


@pytest.fixture(scope="module")
def ha_with_integration(real_ha: RealHomeAssistant) -> RealHomeAssistant:
    """The session's HA with the integration installed and loaded (one restart per module)."""
    install(real_ha.config_dir)
    real_ha.restart()
    return real_ha


@dataclass
class Assist:
    ha: RealHomeAssistant
    http: httpx.AsyncClient  # to HA, as its owner

    async def flow_start(self) -> dict[str, Any]:
        response = await self.http.post("/api/config/config_entries/flow", json={"handler": DOMAIN})
        assert response.status_code == 200, response.text
        return response.json()

    async def flow_step(self, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(f"/api/config/config_entries/flow/{flow_id}", json=data)
        assert response.status_code == 200, response.text
        return response.json()

    async def process(self, text: str, agent_id: str, conversation_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text, "agent_id": agent_id, "language": "en"}
        if conversation_id:
            body["conversation_id"] = conversation_id
        response = await self.http.post("/api/conversation/process", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    async def state(self, entity_id: str) -> str | None:
        response = await self.http.get(f"/api/states/{entity_id}")
        return response.json()["state"] if response.status_code == 200 else None

    async def call(self, domain: str, service: str, entity_id: str) -> None:
        response = await self.http.post(f"/api/services/{domain}/{service}", json={"entity_id": entity_id})
        response.raise_for_status()

    async def entity_of(self, entry_id: str) -> str:
        async with self.ha.websocket() as ws:
            for _ in range(100):
                entities = await ws.command("config/entity_registry/list")
                ours = [e["entity_id"] for e in entities if e.get("config_entry_id") == entry_id]
                if ours and await self.state(ours[0]) is not None:
                    return ours[0]
                await asyncio.sleep(0.1)
        raise AssertionError(f"no conversation entity for config entry {entry_id}; HA log:\n{self.ha.log_tail()}")

    async def expose(self, entity_id: str, expose: bool) -> bool:
        """Set the Assist exposure of `entity_id`; returns what it was."""
        async with self.ha.websocket() as ws:
            listed = await ws.command("homeassistant/expose_entity/list")
            before = bool(listed["exposed_entities"].get(entity_id, {}).get("conversation"))
            await ws.command("homeassistant/expose_entity", assistants=["conversation"], entity_ids=[entity_id],
                             should_expose=expose)  # fmt: skip
        return before

    async def delete_entry(self, entry_id: str) -> None:
        await self.http.delete(f"/api/config/config_entries/entry/{entry_id}")


@pytest.fixture
async def assist(ha_with_integration: RealHomeAssistant) -> AsyncIterator[Assist]:
    async with httpx.AsyncClient(base_url=ha_with_integration.url, headers=ha_with_integration.headers(),
                                 timeout=60) as http:  # fmt: skip
        yield Assist(ha_with_integration, http)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _last_conversation(agent: ServedAgent) -> str:
    audit = (await agent.http.get("/api/v1/audit", params={"limit": 1})).json()
    return str(audit["items"][0]["conversation_id"])


async def _message_count(agent: ServedAgent, conversation_id: str) -> int:
    response = await agent.http.get(f"/api/v1/conversations/{conversation_id}")
    assert response.status_code == 200, response.text
    return int(response.json()["message_count"])


async def test_assist_talks_to_ha_agent_which_acts_on_the_same_home(assist: Assist, tmp_path: Path):
    settings = agent_settings(assist.ha, "http://127.0.0.1:9/v1", tmp_path / "agent.db", llm_base_url=None,
                              llm_provider="local", home_id="ha-integration", api_keys=[KEY])  # fmt: skip
    was_on = await assist.state(LIGHT) == "on"
    was_exposed = await assist.expose(LIGHT, True)
    entry_id: str | None = None
    async with AsyncExitStack() as stack:
        agent = await stack.enter_async_context(serve_agent(settings, headers={"Authorization": f"Bearer {KEY}"}))
        try:
            # Configure through HA's own flow: a wrong key is refused, the right one accepted.
            flow = await assist.flow_start()
            assert flow["type"] == "form" and flow["step_id"] == "user", flow
            refused = await assist.flow_step(flow["flow_id"], {"url": agent.url, "api_key": "wrong-key-0123456789"})
            assert refused["type"] == "form" and refused["errors"] == {"base": "invalid_auth"}, refused
            created = await assist.flow_step(flow["flow_id"], {"url": agent.url + "/", "api_key": KEY})
            assert created["type"] == "create_entry", created
            entry_id = created["result"]["entry_id"]
            agent_entity = await assist.entity_of(entry_id)
            assert agent_entity.startswith("conversation.")

            await assist.call("light", "turn_off", LIGHT)
            mirrored = agent.mirror.tiers["entities"]
            await wait_for(lambda: mirrored.last.items[LIGHT].state == "off" and mirrored.last.items[LIGHT].exposed,
                           what="light off and exposed, mirrored")  # fmt: skip
            name = mirrored.last.items[LIGHT].name  # the harness renames the demo's "Bed Light"

            # Turn 1: Assist → integration → agent → HA turns the light on; the agent's reply is spoken.
            first = await assist.process(f"turn on the {name}", agent_entity)
            speech = first["response"]["speech"]["plain"]["speech"]
            assert first["response"]["response_type"] == "action_done", first
            for _ in range(100):
                if await assist.state(LIGHT) == "on":
                    break
                await asyncio.sleep(0.05)
            audit = (await agent.http.get("/api/v1/audit", params={"limit": 3})).text
            assert await assist.state(LIGHT) == "on", (speech, audit)
            conversation_id = await _last_conversation(agent)
            stored = (await agent.http.get(f"/api/v1/conversations/{conversation_id}")).json()
            assert stored["messages"][-1]["role"] == "assistant" and stored["messages"][-1]["content"] == speech
            count = stored["message_count"]

            # Turn 2, with HA's conversation id: the same ha-agent conversation goes on.
            ha_conversation = first["conversation_id"]
            assert ha_conversation
            second = await assist.process(f"turn off the {name}", agent_entity, ha_conversation)
            assert second["conversation_id"] == ha_conversation
            assert second["response"]["response_type"] == "action_done", second
            assert await _last_conversation(agent) == conversation_id
            assert await _message_count(agent, conversation_id) > count
            for _ in range(100):
                if await assist.state(LIGHT) == "off":
                    break
                await asyncio.sleep(0.05)
            assert await assist.state(LIGHT) == "off"

            # The agent goes away: Assist speaks an error; HA answers 200, not a 500.
            await stack.aclose()
            gone = await assist.process(f"turn on the {name}", agent_entity, ha_conversation)
            assert gone["response"]["response_type"] == "error", gone
            assert "ha-agent" in gone["response"]["speech"]["plain"]["speech"]
            assert await assist.state(LIGHT) == "off"
        finally:
            if entry_id is not None:
                await assist.delete_entry(entry_id)
            await assist.call("light", "turn_on" if was_on else "turn_off", LIGHT)
            if not was_exposed:
                await assist.expose(LIGHT, False)
    # The failed turn is a warning of ours in HA's log, never an error or a traceback.
    logged = assist.ha.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    assert not [line for line in logged if "ha_agent" in line and ("ERROR" in line or "Traceback" in line)]

async def test_config_flow_says_cannot_connect_when_nothing_answers(assist: Assist):
    flow = await assist.flow_start()
    try:
        step = await assist.flow_step(flow["flow_id"], {"url": f"http://127.0.0.1:{_closed_port()}"})
        assert step["type"] == "form" and step["errors"] == {"base": "cannot_connect"}, step
        step = await assist.flow_step(flow["flow_id"], {"url": "ftp://example"})
        assert step["errors"] == {"url": "invalid_url"}, step
    finally:
        await assist.http.delete(f"/api/config/config_entries/flow/{flow['flow_id']}")


def test_install_refuses_a_directory_that_is_not_an_ha_config_dir(tmp_path: Path):
    with pytest.raises(InstallError, match="does not look like a Home Assistant config dir"):
        install(tmp_path)
    (tmp_path / "configuration.yaml").write_text("")
    done = install(tmp_path)
    assert done.target == tmp_path / "custom_components" / DOMAIN
    assert {"manifest.json", "__init__.py", "config_flow.py", "conversation.py", "const.py", "strings.json",
            "translations/en.json"} <= set(done.files)  # fmt: skip


@pytest.mark.parametrize("harness", HARNESSES, ids=lambda h: f"phacc-{h.phacc_version}")
def test_the_integrations_unit_tests_pass_in_home_assistants_own_harness(harness: type[UnitHarness]):
    """tests/ha_integration_unit/ runs with pytest-homeassistant-custom-component of each HA line
    (0.13.236: HA 2025.4.4 in a Python 3.13 venv; 0.13.375: HA 2026.10.4 in the forky root), each
    created once under ~/.cache/ha-agent/; their output is the failure message."""
    chosen = harness(lambda line: print(f"[phacc] {line}", file=sys.stderr, flush=True))
    missing: str | None = None
    try:
        chosen.prepare()
    except HANotAvailable as exc:
        missing = exc.reason
    if missing is not None:
        unavailable(f"the integration's unit test harness {harness.phacc_version} is unavailable: {missing}")
    run = chosen.run(Path(__file__).resolve().parents[1])
    done = subprocess.run(run.argv, cwd=run.cwd, env={**os.environ, **run.env}, capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    assert done.returncode == 0, f"unit tests failed:\n{done.stdout[-12000:]}\n{done.stderr[-4000:]}"
    assert " passed" in done.stdout and " skipped" not in done.stdout, done.stdout[-2000:]
