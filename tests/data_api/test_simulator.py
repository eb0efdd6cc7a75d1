"""The simulated Home Assistant: the generated homes and the protocol, spoken over raw aiohttp.

Shapes are compared with messages recorded from a real HA 2025.4.4
(tests/support/real_ha_samples.json), so the simulator cannot drift from the real thing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from data_api.ha.models import HELPER_DOMAINS
from data_api.simulator import SimHome, SimulatedHA, generate_home

NOW = 1_745_000_000.0  # a fixed "now" makes whole homes comparable
SAMPLES = json.loads((Path(__file__).parents[1] / "support" / "real_ha_samples.json").read_text())


@pytest.fixture(scope="module")
def small() -> SimHome:
    return generate_home("small", 42, now=NOW)


@pytest.fixture(scope="module")
def medium() -> SimHome:
    return generate_home("medium", 42, now=NOW)


def _domain(entity_id: str) -> str:
    return entity_id.split(".", 1)[0]


# --- the generator ----------------------------------------------------------------------------


def test_same_size_and_seed_give_the_same_home():
    first, again = generate_home("small", 7, now=NOW), generate_home("small", 7, now=NOW)
    for name in ("config", "states", "floors", "areas", "labels", "devices", "entities"):
        assert json.dumps(getattr(first, name)) == json.dumps(getattr(again, name)), name
    other = generate_home("small", 8, now=NOW)
    assert json.dumps(other.states) != json.dumps(first.states)


@pytest.mark.parametrize(
    ("size", "entities", "devices", "areas"),
    [("small", 130, None, None), ("medium", 770, 93, 17), ("large", 5000, None, None)],
)
def test_sizes_are_within_ten_percent_of_their_targets(size, entities, devices, areas):
    for seed in (1, 42):
        home = generate_home(size, seed, now=NOW)
        assert abs(len(home.states) - entities) <= entities * 0.1, (seed, len(home.states))
        if devices is not None:
            assert abs(len(home.devices) - devices) <= devices * 0.1, (seed, len(home.devices))
        if areas is not None:
            assert len(home.areas) == areas


def test_a_home_has_every_kind_of_thing(small: SimHome):
    domains = {_domain(entity_id) for entity_id in small.states}
    assert set(HELPER_DOMAINS) <= domains
    assert {
        "light",
        "switch",
        "climate",
        "cover",
        "lock",
        "media_player",
        "binary_sensor",
        "sensor",
        "scene",
        "script",
        "automation",
        "weather",
        "sun",
        "zone",
    } <= domains
    states = small.states
    classes = {(_domain(e), s["attributes"].get("device_class")) for e, s in states.items()}
    assert {
        ("cover", "garage"),
        ("binary_sensor", "motion"),
        ("sensor", "temperature"),
        ("sensor", "humidity"),
    } <= classes
    assert {"security", "energy", "outdoor"} <= set(small.labels)
    assert {"Movie Time", "Good Night"} <= {
        s["attributes"]["friendly_name"] for e, s in states.items() if e.startswith("scene.")
    }
    temperature = next(
        s for e, s in states.items() if s["attributes"].get("device_class") == "temperature" and e.startswith("sensor.")
    )
    assert temperature["attributes"]["state_class"] == "measurement"
    assert temperature["attributes"]["unit_of_measurement"] == "°C"
    assert any(f["name"] for f in small.floors.values())
    assert {"kitchen", "living_room", "hallway", "garden"} <= set(small.areas)
    assert small.areas["living_room"]["aliases"] == ["lounge", "family room"]
    assert small.areas["garden"]["floor_id"] is None


def test_state_only_entities_exist_like_in_a_real_home(small: SimHome, medium: SimHome):
    state_only = [e for e in small.states if e not in small.entities]
    assert {"sun.sun", "zone.home"} <= set(state_only)
    assert 0.2 <= len(state_only) / len(small.states) <= 0.4  # the demo has ~30 %
    assert any(_domain(e) in ("lock", "media_player") for e in state_only)  # YAML platforms
    assert [e for e in medium.entities if e not in medium.states]  # disabled: registry only


def test_exposure_follows_ha_defaults(medium: SimHome):
    exposed = set(medium.exposed_entities()["exposed_entities"])
    for entity_id, entry in medium.entities.items():
        domain = _domain(entity_id)
        if entry["entity_category"] or entry["hidden_by"]:
            assert entity_id not in exposed, entity_id
        elif domain in ("light", "climate", "cover", "media_player", "scene", "switch"):
            assert entity_id in exposed, entity_id
        elif domain in ("lock", "script", "automation", *HELPER_DOMAINS):
            assert entity_id not in exposed, entity_id
        if entry["disabled_by"] is None:
            assert entry["options"]["conversation"]["should_expose"] == (entity_id in exposed)
    legacy = {e for e in medium.states if e not in medium.entities}
    assert exposed & legacy  # a YAML media player is exposed by default
    assert "sun.sun" not in exposed


def test_aliases_names_and_effective_areas(medium: SimHome):
    entries = medium.entities.values()
    assert any(entry["aliases"] for entry in entries)
    assert any(floor["aliases"] for floor in medium.floors.values())
    renamed = [e for e in entries if e["name"]]
    assert renamed and all(
        medium.states[e["entity_id"]]["attributes"]["friendly_name"] == e["name"]
        for e in renamed
        if e["entity_id"] in medium.states
    )
    own = [e for e in entries if e["area_id"] and e["device_id"]]
    assert own, "some entities sit in another area than their device"
    for entry in own:
        assert medium.effective_area(entry["entity_id"]) == entry["area_id"]
        assert entry["area_id"] != medium.devices[entry["device_id"]]["area_id"]
    inherited = next(
        e for e in entries if not e["area_id"] and e["device_id"] and medium.devices[e["device_id"]]["area_id"]
    )
    expected = medium.devices[inherited["device_id"]]["area_id"]
    assert medium.effective_area(inherited["entity_id"]) == expected
    categories = {e["entity_category"] for e in entries}
    assert {"diagnostic", "config"} <= categories


def test_wire_shapes_match_a_real_home_assistant(small: SimHome):
    """Same keys in the same order as HA 2025.4.4 sent them."""

    def keys(sample: dict[str, Any]) -> list[str]:
        return list(next(iter(sample.values())).keys())

    assert list(small.state_list()[0]) == keys(SAMPLES["get_states_entry"])
    assert list(small.entity_registry_list()[0]) == keys(SAMPLES["entity_registry_list_entry"])
    entry = next(iter(small.entities.values()))
    assert list(entry) == list(SAMPLES["entity_registry_get_result"])
    assert list(small.device_list()[0]) == keys(SAMPLES["device_registry_list_entry"])
    assert list(small.area_list()[0]) == keys(SAMPLES["area_registry_list_entry"])
    assert list(small.floor_list()[0]) == list(SAMPLES["floor_registry_list_entry"])
    assert list(small.label_list()[0]) == list(SAMPLES["label_registry_list_entry"])
    assert sorted(small.config) == sorted(SAMPLES["rest"]["GET /api/config keys"])
    light_on = small.services()["light"]["turn_on"]
    real = SAMPLES["get_services_light_turn_on"]
    assert list(light_on) == list(real) and list(light_on["fields"]) == list(real["fields"])
    for name, field in real["fields"].items():
        if "fields" not in field:
            assert list(light_on["fields"][name]) == list(field), name
    script = next(iter(small.services()["script"].values()))
    assert list(script) == list(next(iter(SAMPLES["get_services_script"].values())))
    assert list(small.services()["scene"]["turn_on"]) == list(SAMPLES["get_services_scene_turn_on"])


def test_services_describe_every_domain_with_fields(small: SimHome):
    services = small.services()
    for domain in {_domain(e) for e in small.states} - {
        "sun",
        "zone",
        "sensor",
        "binary_sensor",
        "device_tracker",
        "person",
    }:
        assert domain in services, domain
    assert {"restart", "stop", "turn_on", "turn_off", "toggle"} <= set(services["homeassistant"])
    assert services["climate"]["set_temperature"]["target"] == {
        "entity": [{"domain": ["climate"], "supported_features": [1, 2]}]
    }
    assert services["cover"]["set_cover_position"]["fields"]["position"]["required"] is True
    assert services["weather"]["get_forecasts"]["response"] == {"optional": False}
    announce = services["script"]["announce"]
    assert announce["fields"]["message"]["required"] is True
    assert announce["response"] == {"optional": True}
    assert "brightness_pct" in services["light"]["turn_on"]["fields"]


async def test_mutations_keep_the_home_consistent():
    home = generate_home("small", 3, now=NOW)
    events: list[dict[str, Any]] = []
    home.listen(events.append)
    light = sorted(e for e in home.entities if e.startswith("light."))[0]
    device_id = home.entities[light]["device_id"]
    home.update_device(device_id, name_by_user="Sofa Light")
    assert home.states[light]["attributes"]["friendly_name"] == "Sofa Light"
    assert [e["event_type"] for e in events][-2:] == ["state_changed", "device_registry_updated"]
    assert events[-1]["data"]["changes"] == {"name_by_user": None}
    home.update_entity(light, new_entity_id="light.sofa")
    assert "light.sofa" in home.states and light not in home.states
    assert events[-1]["data"] == {
        "action": "update",
        "entity_id": "light.sofa",
        "changes": {"entity_id": light},
        "old_entity_id": light,
    }
    area_id = home.effective_area("light.sofa")
    home.delete_area(area_id)
    assert home.effective_area("light.sofa") is None
    assert events[-1]["data"] == {"action": "remove", "area_id": area_id}
    home.remove_device(device_id)
    assert "light.sofa" not in home.states and "light.sofa" not in home.entities


# --- the server, over raw aiohttp ---------------------------------------------------------------


class Raw:
    """A minimal HA WebSocket client: frames may be arrays; events are kept aside."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 1
        self.frames: list[Any] = []
        self.events: list[dict[str, Any]] = []
        self.order: list[str] = []  # "event:<type>" / "result:<id>" as received

    async def messages(self) -> list[dict[str, Any]]:
        frame = json.loads(await self.ws.receive_str(timeout=5))
        self.frames.append(frame)
        batch = frame if isinstance(frame, list) else [frame]
        for message in batch:
            if message.get("type") == "event":
                self.events.append(message)
                self.order.append(f"event:{message['event'].get('event_type', 'entities')}")
            else:
                self.order.append(f"result:{message.get('id')}")
        return batch

    async def command(self, type: str, **fields: Any) -> dict[str, Any]:
        msg_id, self.next_id = self.next_id, self.next_id + 1
        await self.ws.send_json({"id": msg_id, "type": type, **fields})
        while True:
            for message in await self.messages():
                if message.get("id") == msg_id and message.get("type") != "event":
                    return message


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[SimulatedHA]:
    async with SimulatedHA(generate_home("small", 42)) as server:
        yield server


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def _connect(sim: SimulatedHA, session: aiohttp.ClientSession, coalesce: bool = False) -> Raw:
    ws = await session.ws_connect(sim.url + "/api/websocket", max_msg_size=0)
    assert json.loads(await ws.receive_str()) == SAMPLES["auth_required"]
    await ws.send_json({"type": "auth", "access_token": sim.token})
    assert json.loads(await ws.receive_str()) == SAMPLES["auth_ok"]
    raw = Raw(ws)
    if coalesce:
        assert (await raw.command("supported_features", features={"coalesce_messages": 1}))["success"]
    return raw


async def test_auth_ok_and_invalid(sim: SimulatedHA, session: aiohttp.ClientSession):
    raw = await _connect(sim, session)
    assert await raw.command("ping") == {"id": 1, "type": "pong"}
    ws = await session.ws_connect(sim.url + "/api/websocket")
    await ws.receive_str()
    await ws.send_json({"type": "auth", "access_token": "wrong"})
    assert json.loads(await ws.receive_str()) == SAMPLES["auth_invalid"]
    assert (await ws.receive()).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    sim.refuse_auth = True
    ws = await session.ws_connect(sim.url + "/api/websocket")
    await ws.receive_str()
    await ws.send_json({"type": "auth", "access_token": sim.token})
    assert json.loads(await ws.receive_str())["type"] == "auth_invalid"


async def test_coalesced_frames_are_arrays(sim: SimulatedHA, session: aiohttp.ClientSession):
    raw = await _connect(sim, session)
    await raw.ws.send_str(json.dumps([{"id": 1, "type": "ping"}, {"id": 2, "type": "ping"}]))
    assert json.loads(await raw.ws.receive_str()) == {"id": 1, "type": "pong"}  # not yet asked
    assert json.loads(await raw.ws.receive_str()) == {"id": 2, "type": "pong"}
    await raw.ws.send_str(
        json.dumps(
            [
                {"id": 3, "type": "supported_features", "features": {"coalesce_messages": 1}},
                *({"id": n, "type": "ping"} for n in range(4, 14)),
            ]
        )
    )
    frame = json.loads(await raw.ws.receive_str())
    real = SAMPLES["coalesced_frames"]["frames"][0]  # HA batches the ack with the pings
    assert frame == [{**real[0], "id": 3}, *({"id": n, "type": "pong"} for n in range(4, 14))]


async def test_ids_must_increase_and_errors_are_shaped_like_ha(sim: SimulatedHA, session: aiohttp.ClientSession):
    raw = await _connect(sim, session)
    await raw.command("ping")
    raw.next_id = 1
    assert await raw.command("ping") == SAMPLES["errors"]["id_reuse"]
    raw.next_id = 10
    unknown = await raw.command("no_such/command")
    assert {**unknown, "id": "<id>"} == SAMPLES["errors"]["unknown_command"]
    raw.next_id = 10  # an unknown command does not use up its id (as in HA)
    assert (await raw.command("ping"))["type"] == "pong"
    missing = await raw.command("config/area_registry/create")
    assert {**missing, "id": "<id>"} == SAMPLES["errors"]["invalid_format_missing_field"]
    extra = await raw.command("get_states", x=1)
    assert extra["error"] == {
        "code": "invalid_format",
        "message": (f"extra keys not allowed. Got {{'id': {extra['id']}, 'type': 'get_states', 'x': 1}}"),
    }
    bad = await raw.command(
        "call_service",
        domain="light",
        service="turn_on",
        target={"entity_id": "light.x"},
        service_data={"brightness": "abc"},
    )
    assert {**bad, "id": "<id>"} == SAMPLES["errors"]["call_service_invalid_data"]
    absent = await raw.command("call_service", domain="light", service="explode")
    assert {**absent, "id": "<id>"} == SAMPLES["errors"]["call_service_unknown_service"]
    not_found = await raw.command("config/entity_registry/get", entity_id="light.nope")
    assert {**not_found, "id": "<id>"} == SAMPLES["errors"]["entity_registry_get_unknown"]
    no_response = await raw.command(
        "call_service", domain="light", service="turn_on", target={"entity_id": "light.x"}, return_response=True
    )
    assert no_response["error"]["code"] == "service_validation_error"
    assert no_response["error"]["message"].startswith("Validation error: ")
    option = await raw.command(
        "call_service",
        domain="input_select",
        service="select_option",
        target={"entity_id": "input_select.house_mode"},
        service_data={"option": "Disco"},
    )
    assert option["error"] == {
        "code": "home_assistant_error",
        "message": "Invalid option: Disco (possible options: Home, Away, Night, Vacation)",
    }


async def test_call_service_changes_state_and_events_come_first(sim: SimulatedHA, session: aiohttp.ClientSession):
    raw = await _connect(sim, session, coalesce=True)
    sub = await raw.command("subscribe_events", event_type="state_changed")
    light = sorted(e for e in sim.home.states if e.startswith("light."))[0]
    await raw.command("call_service", domain="light", service="turn_off", target={"entity_id": light})
    raw.order.clear()
    result = await raw.command(
        "call_service",
        domain="light",
        service="turn_on",
        target={"entity_id": light},
        service_data={"brightness_pct": 50, "color_name": "blue"},
    )
    assert raw.order[0] == "event:state_changed" and raw.order[-1] == f"result:{result['id']}"
    event = raw.events[-1]
    assert event["id"] == sub["id"] and list(event) == ["type", "event", "id"]
    data = event["event"]["data"]
    assert list(event["event"]) == list(SAMPLES["state_changed_event"]["event"])
    assert data["old_state"]["state"] == "off" and data["new_state"]["state"] == "on"
    new = data["new_state"]
    assert new["attributes"]["brightness"] == 128
    assert new["context"] == result["result"]["context"]
    assert new["context"]["user_id"] == sim.home.user_id
    assert sim.home.states[light]["state"] == "on"
    state = (await raw.command("get_states"))["result"]
    assert next(s for s in state if s["entity_id"] == light)["attributes"]["brightness"] == 128


async def test_targets_resolve_like_ha(sim: SimulatedHA, session: aiohttp.ClientSession):
    home = sim.home
    raw = await _connect(sim, session)
    lights = {e for e in home.entities if e.startswith("light.") and not home.entities[e]["entity_category"]}
    area = home.effective_area(sorted(lights)[0])
    in_area = {
        e for e in lights if home.effective_area(e) == area and e in home.states and not home.entities[e]["hidden_by"]
    }
    await raw.command("call_service", domain="light", service="turn_off", target={"area_id": area})
    assert all(home.states[e]["state"] == "off" for e in in_area)
    floor = home.areas[area]["floor_id"]
    await raw.command("call_service", domain="homeassistant", service="turn_on", target={"floor_id": floor})
    assert all(home.states[e]["state"] == "on" for e in in_area)
    forecast = await raw.command(
        "call_service",
        domain="weather",
        service="get_forecasts",
        service_data={"type": "daily"},
        target={"entity_id": "weather.forecast_home"},
        return_response=True,
    )
    assert list(forecast["result"]) == ["context", "response"]
    assert forecast["result"]["response"]["weather.forecast_home"]["forecast"]
    garage = next(e for e, s in home.states.items() if s["attributes"].get("device_class") == "garage")
    unsupported = await raw.command(
        "call_service",
        domain="cover",
        service="set_cover_position",
        target={"entity_id": garage},
        service_data={"position": 5},
    )
    assert unsupported["error"]["translation_key"] == "service_not_supported"


async def test_registry_updates_emit_events_with_old_values(sim: SimulatedHA, session: aiohttp.ClientSession):
    raw = await _connect(sim, session)
    await raw.command("subscribe_events", event_type="entity_registry_updated")
    await raw.command("subscribe_events", event_type="area_registry_updated")
    light = sorted(e for e in sim.home.entities if e.startswith("light."))[0]
    old_area = sim.home.entities[light]["area_id"]
    updated = await raw.command(
        "config/entity_registry/update", entity_id=light, name="Reading light", aliases=["book lamp"], area_id="office"
    )
    assert updated["result"]["entity_entry"]["name"] == "Reading light"
    raw.order.clear()
    await raw.command("ping")
    event = next(e["event"] for e in raw.events if e["event"]["event_type"] == "entity_registry_updated")
    assert event["data"] == {
        "action": "update",
        "entity_id": light,
        "changes": {"aliases": [], "area_id": old_area, "name": None},
    }
    assert sim.home.states[light]["attributes"]["friendly_name"] == "Reading light"
    await raw.command("config/entity_registry/update", entity_id=light, new_entity_id="light.reading_light")
    await raw.command("ping")
    rename = raw.events[-1]["event"]["data"]
    assert rename == {
        "action": "update",
        "entity_id": "light.reading_light",
        "changes": {"entity_id": light},
        "old_entity_id": light,
    }
    entries = await raw.command("config/entity_registry/get_entries", entity_ids=["light.reading_light", "sun.sun"])
    assert entries["result"]["sun.sun"] is None
    assert entries["result"]["light.reading_light"]["aliases"] == ["book lamp"]
    assert (await raw.command("config/area_registry/delete", area_id="office"))["result"] == "success"
    await raw.command("ping")
    kinds = [e["event"]["data"].get("action") + ":" + e["event"]["event_type"] for e in raw.events[-2:]]
    assert kinds == ["update:entity_registry_updated", "remove:area_registry_updated"]


async def test_subscribe_entities_sends_states_then_diffs(sim: SimulatedHA, session: aiohttp.ClientSession):
    raw = await _connect(sim, session)
    helper = "input_boolean.guest_mode"
    sub = await raw.command("subscribe_entities", entity_ids=[helper])
    await raw.command("ping")
    initial = raw.events[0]
    assert initial["id"] == sub["id"] and set(initial["event"]["a"]) == {helper}
    assert list(initial["event"]["a"][helper]) == ["s", "a", "c", "lc"]
    await raw.command("call_service", domain="input_boolean", service="turn_on", target={"entity_id": helper})
    assert list(raw.events[-1]) == list(SAMPLES["subscribe_entities_change"])
    change = raw.events[-1]["event"]["c"][helper]["+"]
    real = SAMPLES["subscribe_entities_change"]["event"]["c"]["input_boolean.vacation_mode"]["+"]
    assert list(change) == list(real) and list(change["c"]) == list(real["c"])


async def test_rest_api(sim: SimulatedHA, session: aiohttp.ClientSession):
    url, auth = sim.url, {"Authorization": f"Bearer {sim.token}"}
    async with session.get(f"{url}/api/states") as response:
        assert response.status == 401 and await response.text() == "401: Unauthorized"
    async with session.get(f"{url}/api/", headers=auth) as response:
        assert await response.json() == {"message": "API running."}
    async with session.get(f"{url}/api/config", headers=auth) as response:
        assert (await response.json())["version"] == "2025.4.4"
    async with session.get(f"{url}/api/states", headers=auth) as response:
        assert len(await response.json()) == len(sim.home.states)
    async with session.get(f"{url}/api/states/light.nope", headers=auth) as response:
        assert response.status == 404
        assert await response.json() == SAMPLES["rest"]["GET /api/states/<unknown>"]["body"]
    async with session.get(f"{url}/api/services", headers=auth) as response:
        services = await response.json()
        assert isinstance(services, list) and {"domain", "services"} == set(services[0])
    helper = "input_boolean.guest_mode"
    async with session.post(
        f"{url}/api/services/input_boolean/toggle", headers=auth, json={"entity_id": helper}
    ) as response:
        changed = await response.json()
        assert [s["entity_id"] for s in changed] == [helper]
    async with session.post(f"{url}/api/services/light/explode", headers=auth) as response:
        assert response.status == 400 and await response.text() == "400: Bad Request"
    async with session.post(
        f"{url}/api/services/script/announce?return_response", headers=auth, json={"message": "hi"}
    ) as response:
        body = await response.json()
        assert body["service_response"] == {} and body["changed_states"]
    history_url = f"{url}/api/history/period?filter_entity_id={helper}&minimal_response"
    async with session.get(history_url, headers=auth) as response:
        (points,) = await response.json()
        assert list(points[0]) == ["entity_id", "state", "attributes", "last_changed", "last_updated"]
        assert list(points[-1]) == ["state", "last_changed"] and len(points) >= 2
        assert "editable" not in points[0]["attributes"]  # unrecorded, as in HA
    assert sim.command_counts["rest:GET /api/states"] == 2  # the refused one counts too


async def test_faults(sim: SimulatedHA, session: aiohttp.ClientSession):
    raw = await _connect(sim, session)
    sim.latency = 0.2
    started = time.perf_counter()
    await raw.command("ping")
    assert time.perf_counter() - started >= 0.2
    sim.command_latency["ping"] = 0.0
    started = time.perf_counter()
    await raw.command("ping")
    assert time.perf_counter() - started < 0.15
    sim.latency, sim.command_latency = 0.0, {}
    sim.hang_commands.add("get_config")
    await raw.ws.send_json({"id": raw.next_id, "type": "get_config"})
    raw.next_id += 1
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(raw.ws.receive_str(), 0.3)
    sim.hang_commands.clear()
    assert sim.command_counts["get_config"] == 1 and sim.command_counts["ping"] == 2
    sim.malformed_next = True
    await raw.ws.send_json({"id": raw.next_id, "type": "ping"})
    with pytest.raises(ValueError):
        json.loads(await raw.ws.receive_str())
    assert not sim.malformed_next
    await sim.drop_connections()
    message = await raw.ws.receive()
    assert message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE)
    light = sorted(e for e in sim.home.states if e.startswith("light."))[0]
    await sim.home.call_service("light", "toggle", target={"entity_id": light})
    toggled = sim.home.states[light]["state"]
    port = sim.port
    await sim.restart()
    assert sim.port == port
    again = await _connect(sim, session)
    states = (await again.command("get_states"))["result"]
    assert next(s for s in states if s["entity_id"] == light)["state"] == toggled


async def test_large_home_is_fast_enough():
    """Behaviour, loosely timed (benchmarks measure precisely): generate and serve 5,000."""
    started = time.perf_counter()
    home = generate_home("large", 42)
    generated = time.perf_counter() - started
    async with SimulatedHA(home) as sim, aiohttp.ClientSession() as client:
        raw = await _connect(sim, client)
        started = time.perf_counter()
        states = (await raw.command("get_states"))["result"]
        served = time.perf_counter() - started
    assert len(states) == len(home.states) >= 4500
    assert generated < 5 and served < 5, (generated, served)


# --- service and core config events -----------------------------------------------------------


def _event_types(raw: Raw) -> list[str]:
    return [e["event"]["event_type"] for e in raw.events]


async def test_core_config_update_fires_core_config_updated(sim: SimulatedHA, session: aiohttp.ClientSession):
    raw = await _connect(sim, session)
    await raw.command("subscribe_events", event_type="core_config_updated")
    result = await raw.command(
        "config/core/update",
        location_name="Hill House",
        unit_system="imperial",
        time_zone="America/New_York",
        update_units=True,
    )
    assert result["success"] and result["result"] is None
    await raw.command("ping")
    # HA passes what it was given (validated, minus update_units) as the event data.
    assert [e["event"]["data"] for e in raw.events] == [
        {"location_name": "Hill House", "unit_system": "us_customary", "time_zone": "America/New_York"}
    ]
    config = (await raw.command("get_config"))["result"]
    assert config["location_name"] == "Hill House" and config["time_zone"] == "America/New_York"
    assert config["unit_system"]["temperature"] == "°F" and config["config_source"] == "storage"
    # Refused the way HA 2025.4.4 refuses them (messages read off a real instance).
    for field, value, message in [
        ("country", "nl", "invalid ISO 3166 formatted country"),
        ("latitude", 100, "invalid latitude"),
        (
            "time_zone",
            "Mars/Base",
            "Invalid time zone passed in. Valid options can be found "
            "here: http://en.wikipedia.org/wiki/List_of_tz_database_time_zones",
        ),
        ("unit_system", "si", "not a valid value"),
    ]:
        error = (await raw.command("config/core/update", **{field: value}))["error"]
        assert error == {
            "code": "invalid_format",
            "message": f"{message} for dictionary value @ data['{field}']. Got {value!r}",
        }
    assert len(raw.events) == 1


async def test_registering_and_removing_services_fire_events(sim: SimulatedHA, session: aiohttp.ClientSession):
    raw = await _connect(sim, session)
    await raw.command("subscribe_events", event_type="service_registered")
    await raw.command("subscribe_events", event_type="service_removed")
    assert "backup" not in (await raw.command("get_services"))["result"]
    description = {"name": "Create backup", "description": "Makes a backup.", "fields": {}}
    sim.home.register_service("Backup", "Create", description)  # HA lower-cases both
    services = (await raw.command("get_services"))["result"]
    assert services["backup"] == {"create": description}
    called = await raw.command("call_service", domain="backup", service="create", service_data={"anything": 1})
    assert called["success"]
    sim.home.remove_service("backup", "create")
    sim.home.remove_service("backup", "create")  # unknown now: HA only logs a warning
    assert "backup" not in (await raw.command("get_services"))["result"]
    assert [(e["event"]["event_type"], e["event"]["data"]) for e in raw.events] == [
        ("service_registered", {"domain": "backup", "service": "create"}),
        ("service_removed", {"domain": "backup", "service": "create"}),
    ]


async def test_scripts_are_created_changed_and_deleted_like_in_the_ui(sim: SimulatedHA, session: aiohttp.ClientSession):
    raw = await _connect(sim, session)
    await raw.command("subscribe_events")
    url, auth = f"{sim.url}/api/config/script/config", {"Authorization": f"Bearer {sim.token}"}
    config = {
        "alias": "Wake up",
        "icon": "mdi:alarm",
        "mode": "queued",
        "fields": {
            "room": {"name": "Room", "required": True, "selector": {"area": {}}},
            "brightness": {"name": "Brightness", "default": 80, "selector": {"number": {}}},
        },
        "sequence": [{"action": "light.turn_on", "target": {"area_id": "{room}"}}],
    }

    async def post(key: str, body: Any) -> tuple[int, Any]:
        async with session.post(f"{url}/{key}", headers=auth, json=body) as response:
            return response.status, await response.json()

    async def events() -> list[str]:
        await raw.command("ping")
        seen = [t for t in _event_types(raw) if t != "call_service"]
        raw.events.clear()
        return seen

    assert await post("wake_up", config) == (200, {"result": "ok"})
    # The order HA's entity platform adds an entity in: registry entry, async_added_to_hass,
    # state (whose adding stores the Assist choice first, a registry update).
    assert await events() == [
        "entity_registry_updated",
        "service_registered",
        "entity_registry_updated",
        "state_changed",
    ]
    entry = (await raw.command("config/entity_registry/get", entity_id="script.wake_up"))["result"]
    assert (entry["platform"], entry["unique_id"], entry["original_name"]) == ("script", "wake_up", "Wake up")
    assert entry["options"] == {"conversation": {"should_expose": False}}
    state = sim.home.states["script.wake_up"]
    assert state["state"] == "off" and state["attributes"] == {
        "last_triggered": None,
        "mode": "queued",
        "current": 0,
        "max": 10,
        "icon": "mdi:alarm",
        "friendly_name": "Wake up",
    }
    service = (await raw.command("get_services"))["result"]["script"]["wake_up"]
    assert list(service) == list(next(iter(SAMPLES["get_services_script"].values())))
    assert service["fields"]["room"] == {"name": "Room", "required": True, "selector": {"area": {}}, "advanced": False}
    assert service["fields"]["brightness"]["required"] is False
    area = next(iter(sim.home.areas))
    assert (await raw.command("call_service", domain="script", service="wake_up", service_data={"room": area}))[
        "success"
    ]
    raw.events.clear()
    assert await post("wake_up", config) == (200, {"result": "ok"})
    assert await events() == []  # unchanged: the reload keeps the entity
    assert await post("wake_up", {**config, "alias": "Rise and shine"}) == (200, {"result": "ok"})
    assert await events() == [
        "service_removed",
        "state_changed",
        "entity_registry_updated",
        "service_registered",
        "state_changed",
    ]
    assert sim.home.states["script.wake_up"]["attributes"]["friendly_name"] == "Rise and shine"
    assert sim.home.states["script.wake_up"]["attributes"]["last_triggered"] is not None
    async with session.delete(f"{url}/wake_up", headers=auth) as response:
        assert (response.status, await response.json()) == (200, {"result": "ok"})
    assert await events() == ["service_removed", "state_changed", "entity_registry_updated"]
    assert "wake_up" not in (await raw.command("get_services"))["result"]["script"]
    assert "script.wake_up" not in sim.home.states and "script.wake_up" not in sim.home.entities
    async with session.delete(f"{url}/wake_up", headers=auth) as response:
        assert (response.status, await response.json()) == (400, {"message": "Resource not found"})
    assert await post("Wake-Up", config) == (400, {"message": "Key malformed: invalid slug Wake-Up (try wake_up)"})
    assert await post("turn_on", config) == (
        400,
        {"message": "Message malformed: A script's object_id must not be one of reload, toggle, turn_off, turn_on"},
    )
    assert await post("lazy", {"alias": "Lazy"}) == (
        400,
        {"message": "Message malformed: required key not provided @ data['sequence']"},
    )
    assert await events() == []


async def test_new_states_get_ha_default_exposure_as_they_are_added(sim: SimulatedHA, session: aiohttp.ClientSession):
    """Read off the real HA: POST /api/states of new state-only entities; the media player is
    listed as exposed at once, the lock is not, and only state_changed events are fired."""
    raw = await _connect(sim, session)
    await raw.command("subscribe_events")
    auth = {"Authorization": f"Bearer {sim.token}"}
    for entity_id, state in (("media_player.probe_new", "idle"), ("lock.probe_new", "locked")):
        async with session.post(f"{sim.url}/api/states/{entity_id}", headers=auth, json={"state": state}) as response:
            assert response.status == 201
    listed = (await raw.command("homeassistant/expose_entity/list"))["result"]["exposed_entities"]
    assert listed.get("media_player.probe_new") == {"conversation": True}
    assert "lock.probe_new" not in listed
    assert _event_types(raw) == ["state_changed", "state_changed"]
