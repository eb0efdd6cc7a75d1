"""The mirror follows every kind of event it subscribes to, against the simulated HA: services
registered and removed (a new script's fields too), core config updates, label and floor
deletes, device removal and Assist exposure changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from data_api.ha import HAClient
from data_api.mirror import QueryError
from tests.support.mirroring import Env, simulated_env, wait_for


@pytest.fixture
async def env(tmp_path) -> AsyncIterator[Env]:
    async with simulated_env(tmp_path) as env:
        yield env


@pytest.fixture
async def client(env: Env) -> AsyncIterator[HAClient]:
    client = await env.ha()
    try:
        yield client
    finally:
        await client.close()


def _rest(env: Env) -> httpx.AsyncClient:
    """HA's REST API (the simulator's), as the owner."""
    return httpx.AsyncClient(base_url=env.sim.url, headers={"Authorization": f"Bearer {env.sim.token}"})


def _entities_with(env: Env, attr: str, value: Any) -> list[str]:
    return sorted(e.entity_id for e in env.peek("entities").values() if getattr(e, attr) == value)


def _registry_light(env: Env) -> str:
    return sorted(e for e in _entities_with(env, "domain", "light") if env.peek("entities")[e].in_registry)[0]


# --- services and scripts -----------------------------------------------------------------------


async def test_service_registered_and_removed_move_the_services(env: Env):
    description = {
        "name": "Create backup",
        "description": "Makes a backup.",
        "fields": {"password": {"required": False, "selector": {"text": {}}}},
    }
    env.sim.home.register_service("backup", "create", description)
    await wait_for(lambda: "backup.create" in env.peek("services"), what="service registered")
    service = (await env.items("services", domain="backup"))["backup.create"]
    assert service.name == "Create backup" and [f.name for f in service.fields] == ["password"]
    env.sim.home.remove_service("backup", "create")
    await wait_for(lambda: "backup.create" not in env.peek("services"), what="service removed")
    with pytest.raises(QueryError):  # the domain is gone with its last service
        await env.items("services", domain="backup")


async def test_a_script_created_in_ha_shows_in_scripts_with_its_fields(env: Env):
    config = {
        "alias": "Wake up",
        "description": "Lights on in a room.",
        "fields": {
            "room": {"name": "Room", "required": True, "selector": {"area": {}}},
            "brightness": {"name": "Brightness", "default": 80, "selector": {"number": {}}},
        },
        "sequence": [{"action": "light.turn_on", "target": {"area_id": "{room}"}}],
    }
    url = "/api/config/script/config/wake_up"
    async with _rest(env) as rest:
        assert (await rest.post(url, json=config)).json() == {"result": "ok"}
        await wait_for(
            lambda: "script.wake_up" in env.peek("services") and "script.wake_up" in env.peek("entities"),
            what="the script's service and entity",
        )
        script = (await env.items("scripts"))["script.wake_up"]
        assert {f.name: f.required for f in script.fields} == {"room": True, "brightness": False}
        assert script.name == "Wake up" and script.in_registry and script.exposed is False
        assert script.state == "off"

        assert (await rest.delete(url)).json() == {"result": "ok"}
        await wait_for(
            lambda: "script.wake_up" not in env.peek("services") and "script.wake_up" not in env.peek("entities"),
            what="the script's service and entity gone",
        )
        assert "script.wake_up" not in await env.items("scripts")


# --- core config ----------------------------------------------------------------------------------


async def test_core_config_update_moves_the_config(env: Env, client: HAClient):
    await client.ws.send_command(
        "config/core/update", location_name="Hill House", unit_system="us_customary", currency="USD"
    )
    await wait_for(lambda: env.peek("config")["config"].location_name == "Hill House", what="config")
    config = (await env.reader.config()).items["config"]
    assert config.currency == "USD" and config.unit_system["temperature"] == "°F"


# --- registry deletes ------------------------------------------------------------------------------


async def test_deleting_a_label_removes_it_everywhere(env: Env, client: HAClient):
    home = env.sim.home
    label_id = "security"  # on devices and areas of the small home; an entity gets it here
    assert any(label_id in d["labels"] for d in home.devices.values())
    assert any(label_id in a["labels"] for a in home.areas.values())
    light = _registry_light(env)
    await client.ws.send_command("config/entity_registry/update", entity_id=light, labels=[label_id])
    await wait_for(lambda: label_id in env.peek("entities")[light].labels, what="entity labelled")

    await client.ws.send_command("config/label_registry/delete", label_id=label_id)

    def gone() -> bool:
        return label_id not in env.peek("labels") and not any(
            label_id in item.labels for kind in ("entities", "devices", "areas") for item in env.peek(kind).values()
        )

    await wait_for(gone, what="label gone from labels, entities, devices and areas")
    with pytest.raises(QueryError):
        await env.items("entities", label=label_id)


async def test_deleting_a_floor_takes_it_off_its_areas_and_entities(env: Env, client: HAClient):
    floor_id = sorted(env.sim.home.floors)[0]
    areas = sorted(a for a, area in env.sim.home.areas.items() if area["floor_id"] == floor_id)
    on_floor = _entities_with(env, "floor_id", floor_id)
    assert areas and on_floor

    await client.ws.send_command("config/floor_registry/delete", floor_id=floor_id)

    def gone() -> bool:
        entities, mirrored_areas = env.peek("entities"), env.peek("areas")
        return (
            floor_id not in env.peek("floors")
            and all(mirrored_areas[a].floor_id is None for a in areas)
            and all(entities[e].floor_id is None for e in on_floor if e in entities)
        )

    await wait_for(gone, what="floor gone from floors, areas and entities")
    entities = await env.items("entities")
    assert all(entities[e].area_id in areas for e in on_floor if e in entities)  # still in their areas


async def test_removing_a_device_removes_it_and_its_entities(env: Env, client: HAClient):
    device_id = sorted(d for d in env.peek("devices") if _entities_with(env, "device_id", d))[0]
    members = _entities_with(env, "device_id", device_id)
    config_entry = env.sim.home.devices[device_id]["config_entries"][0]

    await client.ws.send_command(
        "config/device_registry/remove_config_entry", config_entry_id=config_entry, device_id=device_id
    )

    await wait_for(
        lambda: device_id not in env.peek("devices") and not set(members) & set(env.peek("entities")),
        what="device and its entities gone",
    )
    with pytest.raises(QueryError):
        await env.items("entities", device_id=device_id)


# --- Assist exposure -----------------------------------------------------------------------------


async def test_exposure_changes_in_ha_reach_the_mirror(env: Env, client: HAClient):
    light = _registry_light(env)
    assert env.peek("entities")[light].exposed

    async def expose(should_expose: bool) -> None:
        await client.ws.send_command(
            "homeassistant/expose_entity", assistants=["conversation"], entity_ids=[light], should_expose=should_expose
        )
        await wait_for(lambda: env.peek("entities")[light].exposed is should_expose, what=f"exposed={should_expose}")

    await expose(False)
    assert light not in await env.items("entities", exposed=True)
    assert light in await env.items("entities", exposed=False)
    await expose(True)
    assert light in await env.items("entities", exposed=True)


async def test_exposure_of_a_state_only_entity_shows_after_the_entities_resync(env: Env, client: HAClient):
    """HA fires no event when a state-only entity's exposure changes (it is kept outside the
    entity registry), so the mirror learns it only when it re-reads the entities (TTL expiry)."""
    sun = "sun.sun"
    assert not env.peek("entities")[sun].in_registry and not env.peek("entities")[sun].exposed
    await client.ws.send_command(
        "homeassistant/expose_entity", assistants=["conversation"], entity_ids=[sun], should_expose=True
    )
    await env.mirror.resync("entities")
    assert env.peek("entities")[sun].exposed


async def test_a_new_state_only_entity_gets_the_exposure_ha_decides(env: Env):
    """HA stores its default choice for a new state-only entity as the state is added, with no
    event of its own (see the real-HA test of the same name)."""
    async with _rest(env) as rest:
        for entity_id, state in (("media_player.probe_new", "idle"), ("lock.probe_new", "locked")):
            assert (await rest.post(f"/api/states/{entity_id}", json={"state": state})).status_code == 201
    await wait_for(lambda: {"media_player.probe_new", "lock.probe_new"} <= set(env.peek("entities")), what="added")
    await wait_for(lambda: env.peek("entities")["media_player.probe_new"].exposed, timeout=2, what="exposed")
    assert not env.peek("entities")["lock.probe_new"].exposed
