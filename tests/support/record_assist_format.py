"""Record Home Assistant 2025.4.4's own Assist LLM texts for a small home, as the golden of
`tests/test_assist_format.py` (which checks `ha_agent/bench/assist_format.py` against them).

Runs in the cached phacc venv (Python 3.13, pytest-homeassistant-custom-component pinning HA
2025.4.4; see tests/ha_integration_unit/venv.py), never in the main suite:

    ~/.cache/ha-agent/phacc-0.13.236/bin/python tests/support/record_assist_format.py

It starts HA's test instance (phacc's `hass` fixture), creates floors, areas with aliases,
devices, registry entries and states, sets Assist exposure, then asks HA itself for the Assist
API prompt (`llm.async_get_api(hass, "assist", ...)`) — for a chat and for a voice satellite in
an area — and calls its `GetLiveContext` tool. The input is written in HA's wire format (what
the mirror receives over the websocket API) beside the texts, to assist_format_golden.json.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).with_name("assist_format_golden.json")
ASSISTANT = "conversation"

FLOORS = [{"floor_id": "upstairs", "name": "Upstairs"}]
AREAS = [
    # Two aliases: HA keeps them in a set, so their order in its text is arbitrary.
    {"key": "kitchen", "name": "Kitchen", "aliases": ["cooking area", "galley"]},
    {"key": "living_room", "name": "Living Room", "aliases": ["lounge"]},
    {"key": "bedroom", "name": "Bedroom", "aliases": [], "floor": "upstairs"},
    {"key": "garage", "name": "Garage: Workshop", "aliases": []},  # needs quoting in YAML
]
DEVICES = [
    {"key": "thermostat", "name": "Living Room Thermostat", "area": "living_room"},
    {"key": "speaker", "name": "Speaker", "area": "living_room"},
    {"key": "satellite", "name": "Bedroom Satellite", "area": "bedroom"},
]
# Entities, in entity_id order (HA lists in state-machine insertion order; the mirror keeps no
# insertion order, so the golden inserts in the order our renderer lists). `registry` None: a
# state without a registry entry (no aliases, no area possible).
ENTITIES: list[dict[str, Any]] = [
    {
        "entity_id": "binary_sensor.front_door",
        "state": "off",
        "exposed": True,
        "attributes": {"device_class": "door", "friendly_name": "Front Door"},
        "registry": {"area": "living_room"},
    },
    {
        "entity_id": "climate.living_room_thermostat",
        "state": "heat",
        "exposed": True,
        "attributes": {
            "hvac_modes": ["off", "heat", "cool"],
            "min_temp": 7,
            "max_temp": 35,
            "current_temperature": 21.5,
            "temperature": 22,
            "target_temp_high": None,
            "current_humidity": 40,
            "humidity": 45,
            "hvac_action": "heating",
            "friendly_name": "Living Room Thermostat",
            "supported_features": 385,
        },
        "registry": {"device": "thermostat"},
    },  # area from its device
    {
        "entity_id": "cover.garage_door",
        "state": "closed",
        "exposed": True,
        "attributes": {
            "current_position": 0,
            "device_class": "garage",
            "friendly_name": "Garage Door",
            "supported_features": 15,
        },
        "registry": {"area": "garage", "aliases": ["roller door"]},
    },
    {
        "entity_id": "fan.bedroom_fan",
        "state": "on",
        "exposed": True,
        "attributes": {
            "percentage": 33,
            "percentage_step": 33.333333333333336,
            "preset_mode": None,
            "friendly_name": "Bedroom Fan",
            "supported_features": 1,
        },
        "registry": {"area": "bedroom"},
    },
    {
        "entity_id": "light.bedroom_reading_lamp",
        "state": "on",
        "exposed": True,
        "attributes": {
            "brightness": 77,
            "color_mode": "brightness",
            "supported_color_modes": ["brightness"],
            "friendly_name": "Bedroom Reading Lamp on the Left Side of the Bed Next to the Window Facing the Garden",
            "supported_features": 0,
        },
        "registry": {"area": "bedroom"},
    },  # a names line longer than YAML's 80 columns
    {
        "entity_id": "light.kitchen_ceiling",
        "state": "on",
        "exposed": True,
        "attributes": {
            "brightness": 180,
            "color_mode": "color_temp",
            "color_temp_kelvin": 2700,
            "supported_color_modes": ["color_temp"],
            "friendly_name": "Kitchen Ceiling",
            "supported_features": 40,
        },
        "registry": {"area": "kitchen", "aliases": ["main light"]},
    },
    {
        "entity_id": "light.kitchen_spots",
        "state": "off",
        "exposed": True,
        "attributes": {
            "brightness": None,
            "color_mode": None,
            "supported_color_modes": ["brightness"],
            "friendly_name": "Kitchen Spots",
            "supported_features": 0,
        },
        "registry": {"area": "kitchen", "aliases": ["spots", "downlights"]},
    },
    {
        "entity_id": "media_player.living_room_speaker",
        "state": "playing",
        "exposed": True,
        "attributes": {
            "volume_level": 0.45,
            "is_volume_muted": False,
            "media_content_type": "music",
            "media_title": "Bohemian Rhapsody",
            "media_artist": "Queen",
            "media_album_name": "A Night at the Opera",
            "friendly_name": "Living Room Speaker",
            "supported_features": 152461,
        },
        # The entity's own area beats its device's (living room).
        "registry": {"device": "speaker", "area": "kitchen"},
    },
    {
        "entity_id": "script.good_night",
        "state": "off",
        "exposed": True,
        "attributes": {"friendly_name": "Good Night", "last_triggered": None, "mode": "single"},
        "registry": {},
    },  # exposed, but a tool of its own: not in the lists
    {
        "entity_id": "sensor.hallway_humidity",
        "state": "45",
        "exposed": False,
        "attributes": {
            "state_class": "measurement",
            "unit_of_measurement": "%",
            "device_class": "humidity",
            "friendly_name": "Hallway Humidity",
        },
        "registry": {"area": "living_room"},
    },  # exposed by HA's default: explicitly not exposed
    {
        "entity_id": "sensor.outdoor_temperature",
        "state": "12.3",
        "exposed": True,
        "attributes": {
            "state_class": "measurement",
            "unit_of_measurement": "°C",
            "device_class": "temperature",
            "friendly_name": "Außentemperatur",
        },
        "registry": {"aliases": ["outside"]},
    },  # no area
    {
        "entity_id": "switch.legacy_plug",
        "state": "on",
        "exposed": True,
        "attributes": {},
        "registry": None,
    },  # no friendly_name: the object id is the name
]


def _wire(value: Any) -> Any:
    """What the mirror would receive: HA's own JSON encoding, decoded."""
    from homeassistant.helpers.json import json_dumps

    return json.loads(json_dumps(value))


async def test_record_assist_format(hass) -> None:
    from homeassistant.components.homeassistant.exposed_entities import (
        async_expose_entity,
        async_should_expose,
    )
    from homeassistant.const import __version__
    from homeassistant.core import Context
    from homeassistant.helpers import area_registry as ar
    from homeassistant.helpers import device_registry as dr
    from homeassistant.helpers import entity_registry as er
    from homeassistant.helpers import floor_registry as fr
    from homeassistant.helpers import llm
    from homeassistant.setup import async_setup_component
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "intent", {})  # intent tools and timer support
    await hass.async_block_till_done()

    floor_reg, area_reg, device_reg, entity_reg = (
        fr.async_get(hass),
        ar.async_get(hass),
        dr.async_get(hass),
        er.async_get(hass),
    )
    floors = {f["floor_id"]: floor_reg.async_create(f["name"]) for f in FLOORS}
    areas = {}
    for spec in AREAS:
        floor = floors[spec["floor"]].floor_id if spec.get("floor") else None
        areas[spec["key"]] = area_reg.async_create(spec["name"], aliases=set(spec["aliases"]), floor_id=floor)
    config_entry = MockConfigEntry(domain="test", title="Test")
    config_entry.add_to_hass(hass)
    devices = {}
    for spec in DEVICES:
        device = device_reg.async_get_or_create(
            config_entry_id=config_entry.entry_id, identifiers={("test", spec["key"])}, name=spec["name"]
        )
        devices[spec["key"]] = device_reg.async_update_device(device.id, area_id=areas[spec["area"]].id)

    for spec in ENTITIES:
        entity_id = spec["entity_id"]
        domain, object_id = entity_id.split(".", 1)
        registry = spec["registry"]
        if registry is not None:
            device = devices[registry["device"]] if registry.get("device") else None
            entry = entity_reg.async_get_or_create(
                domain,
                "test",
                object_id,
                suggested_object_id=object_id,
                config_entry=config_entry,
                device_id=device.id if device else None,
            )
            assert entry.entity_id == entity_id
            entity_reg.async_update_entity(
                entity_id,
                area_id=areas[registry["area"]].id if registry.get("area") else None,
                aliases=set(registry.get("aliases", ())),
            )
        hass.states.async_set(entity_id, spec["state"], spec["attributes"])
        async_expose_entity(hass, ASSISTANT, entity_id, spec["exposed"])
    await hass.async_block_till_done()

    def llm_context(device_id: str | None) -> llm.LLMContext:
        return llm.LLMContext(
            platform="test",
            context=Context(),
            user_prompt=None,
            language="en",
            assistant=ASSISTANT,
            device_id=device_id,
        )

    api = await llm.async_get_api(hass, "assist", llm_context(None))
    live = await api.async_call_tool(llm.ToolInput(tool_name="GetLiveContext", tool_args={}))
    assert live["success"], live
    satellite = devices["satellite"]
    satellite_api = await llm.async_get_api(hass, "assist", llm_context(satellite.id))

    states = [_wire(state.as_dict()) for state in hass.states.async_all()]
    golden = {
        "ha_version": __version__,
        "recorded_with": "tests/support/record_assist_format.py (pytest-homeassistant-custom-component)",
        "input": {
            # HA's websocket shapes: config/*_registry/list, get_states, expose_entity/list.
            "floors": [
                {"floor_id": f.floor_id, "name": f.name, "aliases": list(f.aliases), "level": f.level}
                for f in floor_reg.async_list_floors()
            ],
            "areas": [
                {
                    "area_id": a.id,
                    "name": a.name,
                    "aliases": list(a.aliases),
                    "floor_id": a.floor_id,
                    "labels": list(a.labels),
                    "icon": a.icon,
                }
                for a in area_reg.async_list_areas()
            ],
            "devices": [
                {
                    "id": d.id,
                    "name": d.name,
                    "name_by_user": d.name_by_user,
                    "area_id": d.area_id,
                    "manufacturer": d.manufacturer,
                    "model": d.model,
                    "via_device_id": d.via_device_id,
                    "disabled_by": d.disabled_by,
                    "labels": list(d.labels),
                }
                for d in device_reg.devices.values()
            ],
            "entity_registry": [
                _wire(
                    {
                        "entity_id": e.entity_id,
                        "device_id": e.device_id,
                        "area_id": e.area_id,
                        "name": e.name,
                        "original_name": e.original_name,
                        "platform": e.platform,
                        "disabled_by": e.disabled_by,
                        "hidden_by": e.hidden_by,
                        "entity_category": e.entity_category,
                        "labels": list(e.labels),
                        "aliases": list(e.aliases),
                        "options": e.options,
                        "device_class": e.device_class,
                        "original_device_class": e.original_device_class,
                    }
                )
                for e in entity_reg.entities.values()
            ],
            "states": states,
            "exposed": [s["entity_id"] for s in states if async_should_expose(hass, ASSISTANT, s["entity_id"])],
            "satellite": {"device_id": satellite.id, "area": areas["bedroom"].name, "floor": "Upstairs"},
        },
        "output": {
            "prompt": api.api_prompt,
            "live_context": live["result"],
            "satellite_prompt": satellite_api.api_prompt,
            "tools": [tool.name for tool in api.tools],
        },
    }
    GOLDEN.write_text(json.dumps(golden, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    import pytest

    here = Path(__file__).resolve()
    sys.exit(
        pytest.main(
            [
                str(here),
                "-q",
                "-p",
                "no:cacheprovider",
                "--noconftest",
                "--import-mode=importlib",
                "--rootdir",
                str(here.parent),
                "-c",
                os.devnull,
                "-o",
                "asyncio_mode=auto",
                "-o",
                "asyncio_default_fixture_loop_scope=function",
            ]
        )
    )
