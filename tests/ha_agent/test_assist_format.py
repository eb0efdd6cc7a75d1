"""HA's own Assist context rendered from our mirror (the benchmark's token baseline) is the text
Home Assistant 2025.4.4 itself produces for the same home.

The golden (tests/support/assist_format_golden.json) was recorded from a real HA 2025.4.4 by
tests/support/record_assist_format.py: its input is HA's wire format, which we feed through the
mirror's own models and merge, then render and compare."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from data_api.ha import Area, Device, RegistryEntry, State, merge_entities
from ha_agent.bench import assist_format
from ha_agent.bench.assist_format import AssistContext, assist_context, render, render_prompt
from ha_agent.home import LocalHome, Policy
from tests.support.mirroring import simulated_env

GOLDEN = Path(__file__).parents[1] / "support" / "assist_format_golden.json"
_LISTED_NAMES = re.compile(r"^(\s*(?:- )?(?:names|areas): )(.*)$", re.M)


def _alias_order(text: str) -> str:
    """Aliases sorted after the name, on every `names:` / `areas:` line.

    HA keeps entity and area aliases in Python sets, so the order it joins them in depends on the
    process's string hashing (it changes from run to run); we list them sorted. Only the order of
    the aliases after the first (the name) is normalised; the rest of the text compares exactly.
    """

    def sort(match: re.Match[str]) -> str:
        name, *aliases = match.group(2).split(", ")
        return match.group(1) + ", ".join([name, *sorted(aliases)])

    return _LISTED_NAMES.sub(sort, text)


def _only_alias_order_differs(ours: str, theirs: str) -> None:
    """Raw, line by line: any line that differs lists two aliases or more (the kitchen's, the
    spots') — the normalisation hides nothing else."""
    ours_lines, their_lines = ours.splitlines(), theirs.splitlines()
    assert len(ours_lines) == len(their_lines)
    for mine, real in zip(ours_lines, their_lines):
        if mine != real:
            assert _LISTED_NAMES.match(real) and real.count(", ") >= 2, (mine, real)


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def _home(golden: dict):
    data = golden["input"]
    areas = {a.area_id: a for a in map(Area.from_ha, data["areas"])}
    devices = {d.id: d for d in map(Device.from_ha, data["devices"])}
    registry = [RegistryEntry.from_ha(e) for e in data["entity_registry"]]
    states = [State.from_ha(s) for s in data["states"]]
    return merge_entities(states, registry, devices, areas, set(data["exposed"])), areas


def test_the_golden_was_recorded_from_home_assistant_2025_4_4(golden):
    assert golden["ha_version"] == "2025.4.4"
    assert "GetLiveContext" in golden["output"]["tools"]


def test_the_prompt_is_home_assistants(golden):
    entities, areas = _home(golden)
    ours = render(entities, areas)
    assert _alias_order(ours.prompt) == _alias_order(golden["output"]["prompt"])
    _only_alias_order_differs(ours.prompt, golden["output"]["prompt"])


def test_the_live_context_is_home_assistants(golden):
    entities, areas = _home(golden)
    ours = render(entities, areas)
    assert _alias_order(ours.live_context) == _alias_order(golden["output"]["live_context"])
    _only_alias_order_differs(ours.live_context, golden["output"]["live_context"])


def test_a_voice_satellites_prompt_names_its_area_and_floor(golden):
    entities, areas = _home(golden)
    satellite = golden["input"]["satellite"]
    ours = render_prompt(entities, areas, satellite_area=satellite["area"], satellite_floor=satellite["floor"])
    assert _alias_order(ours) == _alias_order(golden["output"]["satellite_prompt"])


def test_the_lists_follow_home_assistants_rules_per_kind(golden):
    entities, areas = _home(golden)
    ours = render(entities, areas)
    # Scripts (own tools) and unexposed entities are not listed; the rest are.
    exposed = set(golden["input"]["exposed"])
    assert ours.entities == len(exposed) - 1 == 10
    assert "Good Night" not in ours.prompt and "Hallway Humidity" not in ours.live_context
    # No friendly_name: the object id with spaces; no registry entry: no area.
    assert "- names: legacy plug\n  domain: switch\n  state: 'on'\n" in ours.live_context
    # The device's area when the entity has none; the entity's own area over its device's.
    assert "names: Living Room Thermostat\n  domain: climate\n  areas: Living Room, lounge" in ours.prompt
    assert "names: Living Room Speaker\n  domain: media_player\n  areas: Kitchen," in ours.prompt
    # Integers become strings, floats stay, None prints empty, non-whitelisted attributes go.
    assert "brightness: '180'" in ours.live_context and "volume_level: 0.45" in ours.live_context
    assert "    brightness:\n" in ours.live_context and "hvac_modes" not in ours.live_context


def test_an_empty_home_gets_home_assistants_no_entities_prompt():
    ours = render([], [])
    assert ours.prompt == assist_format.NO_ENTITIES_PROMPT and ours.live_context == "" and ours.entities == 0


async def test_a_simulated_home_lists_exactly_its_exposed_entities(tmp_path):
    async with simulated_env(tmp_path, "small") as env:
        home = LocalHome(env.reader, Policy.from_settings(env.settings.tools))
        ours = await assist_context(home)
        entities_by_id = dict((await home.kind("entities")).items)
    entities = entities_by_id.values()
    assert isinstance(ours, AssistContext)
    expected = {
        e.entity_id
        for e in entities
        if e.exposed and e.domain not in {"script", "calendar"} and e.entity_id != "group.all_locks"
    }
    assert ours.entities == len(expected) > 20
    static = yaml.safe_load(ours.prompt.split(assist_format.STATIC_HEADING + "\n", 1)[1])
    live = yaml.safe_load(ours.live_context.split(assist_format.LIVE_HEADING + "\n", 1)[1])
    by_id = sorted(expected)
    assert (
        [item["names"] for item in static]
        == [item["names"] for item in live]
        == [", ".join([assist_format.state_name(entities_by_id[i]), *entities_by_id[i].aliases]) for i in by_id]
    )
    assert [item["state"] for item in live] == [entities_by_id[i].state for i in by_id]
    assert any(not e.exposed for e in entities_by_id.values()), "the small home has unexposed entities"
    tokens = ours.tokens("gpt-4o")
    # design.md measured HA's demo at 13.2 static + 30.9 live tokens per entity. Per entity of
    # the lists alone (the prompt's ≈ 330 tokens of fixed instructions weigh a lot in a small home).
    assert 8 <= tokens.static_list_per_entity <= 25, tokens
    assert 18 <= tokens.live_list_per_entity <= 50, tokens
    assert 250 <= tokens.prompt_fixed <= 450, tokens
