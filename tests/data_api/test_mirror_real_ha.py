"""The mirror against each real Home Assistant the suite starts (fixture `real_ha`: 2025.4.4, 2026.11.0).

What the mirror holds after a full sync is compared with what HA itself reports, computed here
from HA's raw WebSocket replies (through the harness's own client, not the code under test).
Then changes made in HA are timed until the mirror's REST API, served over real HTTP, shows
them. The HA instance is shared by the whole session: whatever a test changes is put back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from data_api.api.app import create_app
from data_api.platform.http.server import HttpServer
from tests.support.mirroring import Env, mirror_env, wait_for
from tests.support.real_ha import HELPERS, LOCATION_NAME, SCRIPTS, RealHomeAssistant

HELPER_DOMAINS = frozenset(HELPERS)  # every helper domain the harness declares in YAML
CONFIG_KEYS = ("location_name", "time_zone", "version", "currency", "country", "unit_system")
MAX_DELAY_S = 1.0  # a change in HA must show in the mirror's API within this


@pytest.fixture
async def env(real_ha: RealHomeAssistant, tmp_path) -> AsyncIterator[Env]:
    async with mirror_env(real_ha, tmp_path) as env:
        yield env


# --- what HA reports -------------------------------------------------------------------------


@dataclass
class RawHome:
    """HA's own replies, as received."""

    config: dict[str, Any]
    floors: list[dict[str, Any]]
    areas: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    devices: list[dict[str, Any]]
    registry: dict[str, dict[str, Any]]  # get_entries: the list form plus aliases
    states: list[dict[str, Any]]
    services: dict[str, dict[str, Any]]
    exposed: dict[str, dict[str, bool]]


async def _read_raw(ha: RealHomeAssistant) -> RawHome:
    async with ha.websocket() as ws:
        listed = await ws.command("config/entity_registry/list")
        registry = await ws.command("config/entity_registry/get_entries", entity_ids=[e["entity_id"] for e in listed])
        return RawHome(
            config=await ws.command("get_config"),
            floors=await ws.command("config/floor_registry/list"),
            areas=await ws.command("config/area_registry/list"),
            labels=await ws.command("config/label_registry/list"),
            devices=await ws.command("config/device_registry/list"),
            registry=registry,
            states=await ws.command("get_states"),
            services=await ws.command("get_services"),
            exposed=(await ws.command("homeassistant/expose_entity/list"))["exposed_entities"],
        )


def _field_names(fields: dict[str, Any]) -> list[str]:
    """A service's field names; HA nests some in sections (`{"fields": {...}}`, no selector)."""
    names: list[str] = []
    for name, spec in fields.items():
        spec = spec or {}
        names += _field_names(spec["fields"]) if "fields" in spec and "selector" not in spec else [name]
    return sorted(names)


def _expected(raw: RawHome) -> dict[str, Any]:
    device_area = {d["id"]: d["area_id"] for d in raw.devices}
    area_floor = {a["area_id"]: a.get("floor_id") for a in raw.areas}

    def entity(state: dict[str, Any]) -> dict[str, Any]:
        entity_id = state["entity_id"]
        entry = raw.registry.get(entity_id)
        listed = raw.exposed.get(entity_id, {}).get("conversation", False)
        if entry is None:  # state-only: only HA's list knows its exposure
            area, exposed = None, listed
        else:
            area = entry["area_id"] or device_area.get(entry["device_id"])
            choice = (entry["options"].get("conversation") or {}).get("should_expose")
            exposed = listed if choice is None else choice
        return {
            "state": state["state"],
            # Registry name, else friendly_name; with neither, the object id.
            "name": (entry or {}).get("name") or state["attributes"].get("friendly_name") or entity_id.split(".")[1],
            "area_id": area,
            "floor_id": area_floor.get(area),
            "device_id": (entry or {}).get("device_id"),
            "labels": sorted((entry or {}).get("labels") or ()),
            # HA 2026 lists an entity's own (computed) name among its aliases as null, to keep its
            # place in the order of names; the mirror has that name as `name`, not as an alias.
            "aliases": sorted(a for a in (entry or {}).get("aliases") or () if a is not None),
            "exposed": exposed,
            "in_registry": entry is not None,
        }

    entities = {s["entity_id"]: entity(s) for s in raw.states}

    def domain_of(entity_id: str) -> str:
        return entity_id.split(".", 1)[0]

    def script_fields(entity_id: str) -> dict[str, bool]:
        """Field name -> required, from the script's own service (`script.<object_id>`)."""
        fields = raw.services["script"][entity_id.split(".", 1)[1]]["fields"]
        return {name: bool(spec.get("required")) for name, spec in fields.items()}

    return {
        "config": {key: raw.config[key] for key in CONFIG_KEYS},
        "floors": {f["floor_id"]: (f["name"], f["level"], sorted(f["aliases"])) for f in raw.floors},
        "areas": {
            a["area_id"]: (a["name"], a.get("floor_id"), sorted(a["aliases"]), sorted(a["labels"])) for a in raw.areas
        },
        "labels": {label["label_id"]: (label["name"], label["color"]) for label in raw.labels},
        "devices": {
            d["id"]: (d["name_by_user"] or d["name"], d["area_id"], sorted(d["labels"]), d["manufacturer"], d["model"])
            for d in raw.devices
        },
        "entities": entities,
        "services": {
            f"{domain}.{service}": _field_names(spec.get("fields") or {})
            for domain, services in raw.services.items()
            for service, spec in services.items()
        },
        "helpers": sorted(e for e in entities if domain_of(e) in HELPER_DOMAINS),
        "scenes": sorted(e for e in entities if domain_of(e) == "scene"),
        "scripts": {e: script_fields(e) for e in entities if domain_of(e) == "script"},
    }


async def _mirrored(env: Env) -> dict[str, Any]:
    config = (await env.reader.config()).items["config"]
    entities = await env.items("entities")
    return {
        "config": {key: getattr(config, key) for key in CONFIG_KEYS} | {"unit_system": dict(config.unit_system)},
        "floors": {k: (f.name, f.level, list(f.aliases)) for k, f in (await env.items("floors")).items()},
        "areas": {
            k: (a.name, a.floor_id, list(a.aliases), list(a.labels)) for k, a in (await env.items("areas")).items()
        },
        "labels": {k: (label.name, label.color) for k, label in (await env.items("labels")).items()},
        "devices": {
            k: (d.name, d.area_id, list(d.labels), d.manufacturer, d.model)
            for k, d in (await env.items("devices")).items()
        },
        "entities": {
            k: {
                "state": e.state,
                "name": e.name,
                "area_id": e.area_id,
                "floor_id": e.floor_id,
                "device_id": e.device_id,
                "labels": list(e.labels),
                "aliases": list(e.aliases),
                "exposed": e.exposed,
                "in_registry": e.in_registry,
            }
            for k, e in entities.items()
        },
        "services": {k: sorted(f.name for f in s.fields) for k, s in (await env.items("services")).items()},
        "helpers": sorted(await env.items("helpers")),
        "scenes": sorted(await env.items("scenes")),
        "scripts": {k: {f.name: f.required for f in s.fields} for k, s in (await env.items("scripts")).items()},
    }


# --- full sync ----------------------------------------------------------------------------------


async def test_mirror_equals_what_the_real_ha_reports(env: Env, real_ha: RealHomeAssistant):
    # The demo changes a few states on its own (image_processing every few seconds): compare
    # again when one moved between HA's reply and the mirror's event.
    for _ in range(3):
        raw = await _read_raw(real_ha)
        expected, actual = _expected(raw), await _mirrored(env)
        if actual == expected:
            break
        await asyncio.sleep(0.5)
    for kind in expected:
        assert actual[kind] == expected[kind], kind

    # The harness's home really has what the comparison is meant to cover.
    declared = {f"{domain}.{object_id}" for domain, items in HELPERS.items() for object_id in items}
    assert declared <= set(actual["helpers"])
    assert {e.split(".")[0] for e in actual["helpers"]} == HELPER_DOMAINS
    assert actual["scenes"] and set(actual["scripts"]) == {f"script.{name}" for name in SCRIPTS}
    assert actual["scripts"]["script.announce"] == {"message": True, "volume": False}
    entities = actual["entities"]
    assert any(not e["in_registry"] for e in entities.values())
    assert any(e["in_registry"] and e["area_id"] and not raw.registry[k]["area_id"] for k, e in entities.items())
    assert {e["exposed"] for e in entities.values() if not e["in_registry"]} == {True, False}


async def test_state_only_entities_are_exposed_exactly_when_ha_lists_them(env: Env, real_ha: RealHomeAssistant):
    """The mirror's rule (`build_entity`): a state-only entity is exposed only when HA's list
    names it. On the real HA the list names every state-only entity of a default-exposed
    domain (media players, humidifiers; on 2025.4 also the demo's vacuums and water heaters,
    which have registry entries on 2026.11) and none of the others (locks, sirens, ...)."""
    raw = await _read_raw(real_ha)
    state_only = {s["entity_id"] for s in raw.states} - set(raw.registry)
    listed = {e for e in state_only if raw.exposed.get(e, {}).get("conversation")}
    entities = await env.items("entities")
    assert {e for e in state_only if entities[e].exposed} == listed
    assert (
        {"humidifier", "media_player"}
        <= {e.split(".")[0] for e in listed}
        <= {"humidifier", "media_player", "vacuum", "water_heater"}
    )
    assert not any(e.startswith(("lock.", "siren.", "valve.")) for e in listed)


async def test_a_new_state_only_entity_gets_the_exposure_ha_decides(env: Env, real_ha: RealHomeAssistant):
    """When a state-only entity appears, HA's conversation integration stores HA's default
    Assist choice for it (`async_should_expose` on state added) and fires no event for that:
    the media player is listed as exposed at once, the lock is not. The mirror must agree."""
    added = {"media_player.ha_agent_probe": "idle", "lock.ha_agent_probe": "locked"}
    async with httpx.AsyncClient(base_url=real_ha.url, headers=real_ha.headers()) as rest:
        try:
            for entity_id, state in added.items():
                assert (await rest.post(f"/api/states/{entity_id}", json={"state": state})).is_success
            raw = await _read_raw(real_ha)
            assert raw.exposed.get("media_player.ha_agent_probe") == {"conversation": True}
            assert "lock.ha_agent_probe" not in raw.exposed
            await wait_for(lambda: set(added) <= set(env.peek("entities")), what="added")
            await wait_for(lambda: env.peek("entities")["media_player.ha_agent_probe"].exposed, 2, "exposed")
            assert not env.peek("entities")["lock.ha_agent_probe"].exposed
        finally:  # HA keeps the exposure choice of a removed state; the states go
            for entity_id in added:
                await rest.delete(f"/api/states/{entity_id}")


# --- changes in HA, seen through the mirror's REST API -------------------------------------------


@pytest.fixture
async def api(env: Env) -> AsyncIterator[httpx.AsyncClient]:
    server = HttpServer(create_app(env.reader, env.settings))
    url = await server.start()
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            yield client
    finally:
        await server.stop()


async def _seen_after(
    api: httpx.AsyncClient, path: str, check: Callable[[dict[str, Any]], bool], started: float, timeout: float = 5.0
) -> float:
    """Poll `path` until `check(body)`; the seconds since `started` (a perf_counter reading)."""
    while True:
        response = await api.get(path)
        assert response.status_code == 200, response.text
        if check(response.json()):
            return time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            raise AssertionError(f"{path} did not show the change in {timeout} s: {response.json()}")
        await asyncio.sleep(0.005)


Command = tuple[str, dict[str, Any]]  # a WebSocket command type and its fields


async def _delay_until_served(
    real_ha: RealHomeAssistant,
    api: httpx.AsyncClient,
    change: Command,
    undo: Command,
    path: str,
    check: Callable[[dict[str, Any]], bool],
    then: Callable[[], Awaitable[None]] | None = None,
) -> float:
    """Seconds from sending `change` to HA until the API's `path` passes `check` (`then` runs
    next, while HA still has the change); HA is put back with `undo` whatever happens (the
    instance is shared by the session)."""
    async with real_ha.websocket() as ws:
        try:
            started = time.perf_counter()
            await ws.command(change[0], **change[1])
            delay = await _seen_after(api, path, check, started)
            if then is not None:
                await then()
        finally:
            await ws.command(undo[0], **undo[1])
    print(f"{change[0]} {change[1]} served after {delay * 1000:.1f} ms")
    return delay


async def test_a_state_change_in_ha_shows_in_the_api_within_a_second(
    env: Env, api: httpx.AsyncClient, real_ha: RealHomeAssistant
):
    light, path = "light.bed_light", "/api/v1/entities/light.bed_light"
    before = (await api.get(path)).json()["item"]["state"]
    wanted = "off" if before == "on" else "on"

    def turn(state: str) -> Command:
        return "call_service", {"domain": "light", "service": f"turn_{state}", "target": {"entity_id": light}}

    delay = await _delay_until_served(
        real_ha, api, turn(wanted), turn(before), path, lambda body: body["item"]["state"] == wanted
    )
    assert delay < MAX_DELAY_S


async def test_an_area_rename_in_ha_shows_in_the_api_within_a_second(
    env: Env, api: httpx.AsyncClient, real_ha: RealHomeAssistant
):
    area_id, new_name = "garage", "Garage workshop"
    members = (await api.get("/api/v1/entities", params={"area": area_id})).json()["items"]
    old_name = next(a["name"] for a in (await api.get("/api/v1/areas")).json()["items"] if a["area_id"] == area_id)

    def rename(name: str) -> Command:
        return "config/area_registry/update", {"area_id": area_id, "name": name}

    def renamed(body: dict[str, Any]) -> bool:
        return any(a["area_id"] == area_id and a["name"] == new_name for a in body["items"])

    async def filter_by_new_name() -> None:
        by_name = (await api.get("/api/v1/entities", params={"area": new_name})).json()["items"]
        assert members and [e["entity_id"] for e in by_name] == [e["entity_id"] for e in members]

    delay = await _delay_until_served(
        real_ha, api, rename(new_name), rename(old_name), "/api/v1/areas", renamed, filter_by_new_name
    )
    assert delay < MAX_DELAY_S


async def test_a_core_config_update_in_ha_shows_in_the_api_within_a_second(
    env: Env, api: httpx.AsyncClient, real_ha: RealHomeAssistant
):
    new_name = "ha-agent Renamed Home"

    def name(location_name: str) -> Command:
        return "config/core/update", {"location_name": location_name}

    async with real_ha.websocket() as ws:
        events = await ws.subscribe("subscribe_events", event_type="core_config_updated")
        delay = await _delay_until_served(
            real_ha,
            api,
            name(new_name),
            name(LOCATION_NAME),
            "/api/v1/config",
            lambda body: body["item"]["location_name"] == new_name,
        )
        event = (await asyncio.wait_for(events.get(), 5))["event"]
    assert delay < MAX_DELAY_S
    assert event["data"] == {"location_name": new_name}  # what the simulator sends too


async def test_an_exposure_change_in_ha_shows_in_the_api_within_a_second(
    env: Env, api: httpx.AsyncClient, real_ha: RealHomeAssistant
):
    light, path = "light.bed_light", "/api/v1/entities/light.bed_light"
    assert (await api.get(path)).json()["item"]["exposed"] is True

    def expose(should_expose: bool) -> Command:
        return "homeassistant/expose_entity", {
            "assistants": ["conversation"],
            "entity_ids": [light],
            "should_expose": should_expose,
        }

    delay = await _delay_until_served(
        real_ha, api, expose(False), expose(True), path, lambda body: body["item"]["exposed"] is False
    )
    assert delay < MAX_DELAY_S
