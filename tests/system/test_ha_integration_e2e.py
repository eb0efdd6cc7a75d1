"""Assist → our custom integration → ha-agent → the same real Home Assistant, end to end.

On every version the suite runs (fixture `real_ha`: 2025.4.4 and 2026.11.0), the integration is
installed with the library call behind `ha-agent install-integration`, HA is restarted once to
load it, and it is configured through HA's own config-flow REST API. The agent (local intent
engine, no model) mirrors that same HA, so a sentence said to HA's `/api/conversation/process`,
or run through HA's Assist pipeline as a voice satellite does, comes back to HA as a service
call. What a test changes in the shared HA (config entries, pipelines, lights) is put back; the
last test reads HA's log of the whole run for anything the integration should not have caused.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
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

from ha_agent.ha_integration import DOMAIN, SOURCE, InstallError, install
from ha_agent.simulator.scripted_server import Reply, ScriptedLLMServer
from tests.ha_integration_unit.venv import HARNESSES, HostVenvHarness, RootHarness
from tests.support.agent import ServedAgent, agent_settings, serve_agent
from tests.support.mirroring import wait_for
from tests.support.needs import unavailable
from tests.support.real_ha import HA_VERSIONS, HANotAvailable, RealHomeAssistant

UnitHarness = HostVenvHarness | RootHarness

KEY = "ha-integration-key-0123456789"
LIGHT = "light.bed_light"  # HA demo's
OUTAGE_WARNING = "ha-agent turn failed: ha-agent cannot be reached"


@dataclass
class HAWithIntegration:
    ha: RealHomeAssistant
    log_from: int  # where HA's log was when the integration was installed


@pytest.fixture(scope="module")
def ha_with_integration(real_ha: RealHomeAssistant) -> HAWithIntegration:
    """The session's HA with the integration installed and loaded (one restart per module)."""
    log_from = real_ha.log_path.stat().st_size
    install(real_ha.config_dir)
    real_ha.restart()
    return HAWithIntegration(real_ha, log_from)


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
            await ws.command(
                "homeassistant/expose_entity", assistants=["conversation"], entity_ids=[entity_id], should_expose=expose
            )
        return before

    async def delete_entry(self, entry_id: str) -> None:
        await self.http.delete(f"/api/config/config_entries/entry/{entry_id}")

    async def configure(self, agent_url: str, key: str) -> tuple[str, str]:
        """The integration set up through HA's config flow: (config entry id, agent entity id)."""
        flow = await self.flow_start()
        created = await self.flow_step(flow["flow_id"], {"url": agent_url, "api_key": key})
        assert created["type"] == "create_entry", created
        entry_id = str(created["result"]["entry_id"])
        return entry_id, await self.entity_of(entry_id)


@pytest.fixture
async def assist(ha_with_integration: HAWithIntegration) -> AsyncIterator[Assist]:
    ha = ha_with_integration.ha
    async with httpx.AsyncClient(base_url=ha.url, headers=ha.headers(), timeout=60) as http:
        yield Assist(ha, http)


def _local_agent(assist: Assist, tmp_path: Path) -> Any:
    """The agent on the local intent engine, mirroring the same HA, with an API key."""
    settings = agent_settings(
        assist.ha,
        "http://127.0.0.1:9/v1",
        tmp_path / "agent.db",
        llm_base_url=None,
        llm_provider="local",
        home_id="ha-integration",
        api_keys=[KEY],
    )
    return serve_agent(settings, headers={"Authorization": f"Bearer {KEY}"})


async def _wait_state(assist: Assist, entity_id: str, state: str) -> None:
    for _ in range(100):
        if await assist.state(entity_id) == state:
            return
        await asyncio.sleep(0.05)
    assert await assist.state(entity_id) == state


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
    was_on = await assist.state(LIGHT) == "on"
    was_exposed = await assist.expose(LIGHT, True)
    entry_id: str | None = None
    async with AsyncExitStack() as stack:
        agent = await stack.enter_async_context(_local_agent(assist, tmp_path))
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
            await wait_for(
                lambda: mirrored.last.items[LIGHT].state == "off" and mirrored.last.items[LIGHT].exposed,
                what="light off and exposed, mirrored",
            )
            name = mirrored.last.items[LIGHT].name  # the harness renames the demo's "Bed Light"

            # Turn 1: Assist → integration → agent → HA turns the light on; the agent's reply is spoken.
            first = await assist.process(f"turn on the {name}", agent_entity)
            speech = first["response"]["speech"]["plain"]["speech"]
            assert first["response"]["response_type"] == "action_done", first
            await _wait_state(assist, LIGHT, "on")
            conversation_id = await _last_conversation(agent)
            # What the turn cost, for whoever inspects HA's answer.
            details = first["response"]["speech"]["plain"]["extra_data"]["ha_agent"]
            assert details["conversation_id"] == conversation_id and details["path"] == "local"
            assert set(details["usage"]) == {"prompt_tokens", "completion_tokens", "cached_tokens"}
            assert details["timings"]["total_ms"] > 0
            assert [call["name"] for call in details["tool_calls"]] == ["call_service"]
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
            await _wait_state(assist, LIGHT, "off")

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
    # The failed turn is one warning of ours in HA's log (the last test checks there is no other).
    logged = assist.ha.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    assert [line for line in logged if OUTAGE_WARNING in line]


def _model_for_the_room_the_person_is_in(body: dict[str, Any]) -> Reply:
    """A scripted model: it turns on the lights of the area the agent's prompt says the person
    is in (the satellite's), then says so; with no such area it asks which room."""
    if body["messages"][-1].get("role") == "tool":
        return Reply.text("The bedroom lights are on now.")
    prompt = "\n".join(str(m.get("content")) for m in body["messages"] if m.get("role") == "system")
    where = re.search(r"The person is in: .*\((\w+)\)", prompt)
    if where is None:
        return Reply.text("Which room are you in?")
    return Reply.tool_calls([("call_service", {"service": "light.turn_on", "target": {"area_id": where.group(1)}})])


async def test_a_satellite_in_the_bedroom_turns_on_the_bedroom_lights_through_the_assist_pipeline(
    assist: Assist, tmp_path: Path
):
    """HA's Assist pipeline, as a voice satellite runs it (`assist_pipeline/run` from the intent
    stage, with the satellite's device): the satellite's area goes to the agent, so "the lights"
    are the bedroom's, and the model's reply comes back through HA's chat log as a stream."""
    lights = ("light.bed_light", "light.kitchen_lights")  # the bedroom's only light, and another
    before = {light: await assist.state(light) for light in lights}
    satellite = assist.ha.device_ids["Bed Light"]  # a device in the bedroom stands in for a satellite
    async with AsyncExitStack() as stack:
        llm = await stack.enter_async_context(ScriptedLLMServer(responder=_model_for_the_room_the_person_is_in))
        settings = agent_settings(
            assist.ha, llm.base_url, tmp_path / "agent.db", home_id="ha-integration", api_keys=[KEY]
        )
        agent = await stack.enter_async_context(serve_agent(settings, headers={"Authorization": f"Bearer {KEY}"}))
        entry_id, agent_entity = await assist.configure(agent.url, KEY)
        stack.push_async_callback(assist.delete_entry, entry_id)
        for light in lights:
            stack.push_async_callback(assist.expose, light, await assist.expose(light, True))
            await assist.call("light", "turn_off", light)
            stack.push_async_callback(assist.call, "light", f"turn_{before[light]}", light)
        mirrored = agent.mirror.tiers["entities"]
        await wait_for(lambda: all(mirrored.last.items[light].state == "off" for light in lights), what="lights off")
        async with assist.ha.websocket() as ws:
            pipeline = await ws.command(
                "assist_pipeline/pipeline/create",
                name="ha-agent",
                conversation_engine=agent_entity,
                conversation_language="en",
                language="en",
                stt_engine=None,
                stt_language=None,
                tts_engine=None,
                tts_language=None,
                tts_voice=None,
                wake_word_entity=None,
                wake_word_id=None,
            )
            stack.push_async_callback(_delete_pipeline, assist.ha, pipeline["id"])
            events = await ws.subscribe(
                "assist_pipeline/run",
                start_stage="intent",
                end_stage="intent",
                pipeline=pipeline["id"],
                input={"text": "turn on the lights"},
                device_id=satellite,
            )
            run: list[dict[str, Any]] = []
            while not run or run[-1]["type"] not in ("run-end", "error"):
                run.append((await asyncio.wait_for(events.get(), 30))["event"])
        kinds = [event["type"] for event in run]
        assert kinds[-1] == "run-end", run
        deltas = [
            e["data"]["chat_log_delta"] for e in run if e["type"] == "intent-progress" and "chat_log_delta" in e["data"]
        ]
        assert deltas and deltas[0] == {"role": "assistant"}, run  # streamed through HA's chat log
        assert max(i for i, kind in enumerate(kinds) if kind == "intent-progress") < kinds.index("intent-end")
        output = next(e for e in run if e["type"] == "intent-end")["data"]["intent_output"]
        speech = output["response"]["speech"]["plain"]
        assert speech["speech"] == "The bedroom lights are on now."
        assert "".join(d.get("content") or "" for d in deltas) == speech["speech"]
        assert output["continue_conversation"] is False
        details = speech["extra_data"]["ha_agent"]
        assert details["path"] == "llm" and details["usage"]["prompt_tokens"] > 0 and details["timings"]["llm_ms"] > 0
        assert [call["name"] for call in details["tool_calls"]] == ["call_service"]
        await _wait_state(assist, "light.bed_light", "on")
        await asyncio.sleep(0.3)  # had the kitchen light been turned on too, it would show by now
        assert await assist.state("light.kitchen_lights") == "off"


async def _delete_pipeline(ha: RealHomeAssistant, pipeline_id: str) -> None:
    async with ha.websocket() as ws:
        await ws.command("assist_pipeline/pipeline/delete", pipeline_id=pipeline_id)


async def test_ha_offers_the_agent_for_every_language(assist: Assist, tmp_path: Path):
    async with AsyncExitStack() as stack:
        agent = await stack.enter_async_context(_local_agent(assist, tmp_path))
        entry_id, agent_entity = await assist.configure(agent.url, KEY)
        stack.push_async_callback(assist.delete_entry, entry_id)
        async with assist.ha.websocket() as ws:
            for language in ("en", "nl", "de-CH"):
                listed = await ws.command("conversation/agent/list", language=language)
                ours = [a for a in listed["agents"] if a["id"] == agent_entity]
                assert ours and ours[0]["supported_languages"] == "*", (language, listed)


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
    assert {
        "manifest.json",
        "__init__.py",
        "config_flow.py",
        "conversation.py",
        "const.py",
        "strings.json",
        "translations/en.json",
    } <= set(done.files)


def test_the_supported_versions_stated_are_the_versions_tested():
    """hacs.json (HACS installs on this HA or newer) and the README say what the suite proves."""
    hacs = json.loads((SOURCE.parent.parent / "hacs.json").read_text())
    oldest, newest = HA_VERSIONS[0], HA_VERSIONS[-1]
    assert hacs["homeassistant"] == ".".join(oldest.split(".")[:2]) + ".0"
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    stated = re.search(
        r"It supports Home Assistant (\d{4}\.\d+) and newer; the test suite runs it on "
        r"(\d{4}\.\d+\.\d+) and (\d{4}\.\d+\.\d+) \(the current release\)",
        readme,
    )
    assert stated is not None, "README, In Home Assistant's Assist: the supported versions"
    assert stated.group(1) == ".".join(oldest.split(".")[:2]) and stated.groups()[1:] == (oldest, newest)
    for harness in HARNESSES:  # and the unit tests' harnesses, with the HA each pins
        assert f"pytest-homeassistant-custom-component=={harness.phacc_version}` (HA {harness.ha_version})" in readme


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
    run = chosen.run(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        run.argv, cwd=run.cwd, env={**os.environ, **run.env}, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"unit tests failed:\n{done.stdout[-12000:]}\n{done.stderr[-4000:]}"
    assert " passed" in done.stdout and " skipped" not in done.stdout, done.stdout[-2000:]


# Known lines of HA's log that are not the integration's doing: HA names every custom integration
# it loads once, as untested by HA.
_NOT_THE_INTEGRATIONS = ("We found a custom integration ha_agent which has not been tested by Home Assistant",)
# The integration by its domain, module path or name (not the harness's config dir, /tmp/ha-agent-real-ha-*).
_OURS = re.compile(r"ha_agent|ha-agent(?!-real-ha)")


def test_ha_log_holds_no_warning_or_error_from_the_integration(ha_with_integration: HAWithIntegration):
    """Everything HA logged since the integration was installed (this module's whole run on this
    HA version): no warning, error, traceback or deprecation notice from or about the integration,
    but the one warning the outage in the first test must cause."""
    with ha_with_integration.ha.log_path.open("rb") as log:
        log.seek(ha_with_integration.log_from)
        lines = log.read().decode("utf-8", errors="replace").splitlines()
    assert any(_OURS.search(line) for line in lines), "no record of the run"
    about_us = [
        line
        for line in lines
        if _OURS.search(line)
        and (
            (" WARNING " in line or " ERROR " in line or " CRITICAL " in line)
            or "deprecat" in line.lower()
            or "custom_components/ha_agent/" in line
        )
    ]
    unexpected = [
        line for line in about_us if OUTAGE_WARNING not in line and not any(k in line for k in _NOT_THE_INTEGRATIONS)
    ]
    assert not unexpected, "\n".join(unexpected)
    assert sum(OUTAGE_WARNING in line for line in about_us) == 1
