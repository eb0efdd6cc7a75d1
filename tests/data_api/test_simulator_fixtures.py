"""Evaluation homes in the simulated HA: the community's `_fixtures.yaml` loaded as HA would hold
it, a test's setup and the reset between cases, the services an evaluation needs (through the
real WebSocket API), distractor padding, and a real mirror of such a home."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from data_api.ha import HAClient
from data_api.ha.errors import HACommandError
from data_api.simulator import (
    EvalHome,
    FixtureError,
    SimulatedHA,
    add_distractors,
    load_home,
    parse_fixture,
    read_fixture,
)
from data_api.simulator.fixture_states import HomeContext, entity_spec, enum_value, feature_flags, state_text
from data_api.simulator.fixtures import plain_name
from tests.support.mirroring import mirror_env, wait_for

EDGE = Path(__file__).parents[1] / "fixtures" / "eval_homes" / "edge_home"
NOW = 1_743_580_000.0  # 2025-04-02, a fixed load time
DENTIST = datetime(2025, 4, 2, 9, 30, tzinfo=timezone(timedelta(hours=2)))  # during the event


@pytest.fixture
def home() -> EvalHome:
    return load_home(EDGE, now=NOW)


def _attrs(home: EvalHome, entity_id: str) -> dict[str, Any]:
    return home.states[entity_id]["attributes"]


def _entry(home: EvalHome, entity_id: str) -> dict[str, Any]:
    return home.entities[entity_id]


# --- reading the format -------------------------------------------------------------------


def test_floors_and_areas_by_id_or_name_and_created_when_only_referenced(home: EvalHome):
    assert home.config["location_name"] == "Willow Flat"  # from _home.yaml
    assert home.config["time_zone"] == "Europe/Amsterdam"
    assert home.config["latitude"] == 52.37
    assert {f["name"] for f in home.floors.values()} == {"Upstairs", "Ground Floor"}
    living = home.areas["living_room"]
    assert home.floors[living["floor_id"]]["name"] == "Ground Floor"  # floor known by name only
    assert home.areas["kitchen"]["floor_id"] == "upstairs"
    assert home.areas["bedroom_id"]["name"] == "Bedroom"  # the fixture's own area id is kept
    shed = next(a for a in home.areas.values() if a["name"] == "Shed")  # a device's area only
    lock_device = home.devices[_entry(home, "lock.shed")["device_id"]]
    assert lock_device["area_id"] == shed["area_id"]
    assert home.effective_area("light.reading_lamp") == "living_room"  # area given by name


def test_devices_carry_their_info_and_entities_their_effective_area(home: EvalHome):
    light = _entry(home, "light.kitchen_light")
    device = home.devices[light["device_id"]]
    assert (device["name"], device["manufacturer"], device["model"], device["sw_version"]) == (
        "Kitchen Light",
        "Philips",
        "Smart LED Bulb",
        "1.2.3",
    )
    assert device["area_id"] == "kitchen"
    assert light["area_id"] is None  # inherits its device's area, as in HA
    assert home.effective_area("light.kitchen_light") == "kitchen"
    motion = _entry(home, "binary_sensor.kitchen_motion")
    assert motion["device_id"] == light["device_id"] and motion["area_id"] == "living_room"
    assert home.effective_area("binary_sensor.kitchen_motion") == "living_room"
    shopping = home.devices[_entry(home, "todo.trader_joes")["device_id"]]
    assert shopping["area_id"] is None and shopping["manufacturer"] == "Google Tasks"
    for orphan in ("lock.front_door", "valve.garden", "calendar.personal"):
        assert _entry(home, orphan)["device_id"] is None, orphan
        assert home.effective_area(orphan) is None, orphan
    assert _entry(home, "light.reading_lamp")["device_id"] is None
    assert _entry(home, "light.kitchen_light")["platform"] == "synthetic_home"
    assert _entry(home, "input_boolean.guest_mode")["platform"] == "input_boolean"
    assert _entry(home, "scene.movie_time")["platform"] == "homeassistant"
    assert set(home.states) == {str(e["id"]) for e in read_fixture(EDGE).entities}


def test_every_listed_entity_is_exposed_unless_written_otherwise(home: EvalHome):
    exposed = set(home.exposed_entities()["exposed_entities"])
    # Locks, scripts, helpers, calendars: not exposed by HA's defaults, exposed by the eval.
    assert {
        "lock.front_door",
        "script.good_night",
        "input_boolean.guest_mode",
        "calendar.personal",
        "alarm_control_panel.house",
    } <= exposed
    assert "switch.hidden_heater" not in exposed
    assert exposed == set(home.states) - {"switch.hidden_heater"}
    assert _entry(home, "switch.hidden_heater")["options"]["conversation"]["should_expose"] is False


def test_enum_strings_and_feature_flags(home: EvalHome):
    assert _attrs(home, "binary_sensor.kitchen_motion")["device_class"] == "motion"
    assert _attrs(home, "cover.garage_door")["device_class"] == "garage"
    assert _attrs(home, "switch.coffee_maker")["device_class"] == "outlet"
    assert _attrs(home, "sensor.thermostat_temperature")["state_class"] == "measurement"
    assert _attrs(home, "sensor.thermostat_temperature")["unit_of_measurement"] == "°C"
    assert _attrs(home, "cover.garage_door")["supported_features"] == 3  # "OPEN | CLOSE"
    assert _attrs(home, "climate.thermostat")["supported_features"] == 1 | 8 | 16 | 128 | 256
    assert _attrs(home, "vacuum.robo")["supported_features"] == 8192 | 8 | 4 | 16 | 4096 | 1024 | 512
    assert _attrs(home, "media_player.living_room")["supported_features"] == 23997  # an int
    assert home.states["climate.thermostat"]["state"] == "heat"  # hvac_mode: HVACMode.HEAT
    assert enum_value("binary_sensor.BinarySensorDeviceClass.DOOR") == "door"
    assert enum_value("HVACMode.HEAT_COOL") == "heat_cool"
    assert enum_value("UnitOfTemperature.FAHRENHEIT") == "°F"
    assert enum_value(["cover.CoverDeviceClass.GARAGE", "plain text. Not.AN enum"]) == [
        "garage",
        "plain text. Not.AN enum",
    ]
    assert feature_flags("media_player", "MediaPlayerEntityFeature.PLAY | MediaPlayerEntityFeature.PAUSE", "x") == 16385
    assert feature_flags("fan", ["TURN_ON", 1, "2"], "x") == 35  # bare names, ints, digits
    with pytest.raises(FixtureError, match="fan.x: unknown supported feature 'FLY'"):
        feature_flags("fan", ["FLY"], "fan.x")


def test_booleans_and_written_states_read_per_domain(home: EvalHome):
    states = {eid: s["state"] for eid, s in home.states.items()}
    assert states["switch.coffee_maker"] == "on" and states["light.reading_lamp"] == "off"
    assert states["binary_sensor.kitchen_motion"] == "on"
    assert states["cover.garage_door"] == "closed" and states["input_boolean.guest_mode"] == "off"
    assert states["sensor.thermostat_temperature"] == "19.5"  # native_value, a number
    assert states["light.kitchen_light"] == "on"  # no state, brightness 100
    assert states["input_select.house_mode"] == "Home"  # the first option
    assert _attrs(home, "climate.thermostat")["hvac_modes"] == ["off", "heat", "cool", "auto"]
    assert state_text("cover", True) == "open" and state_text("lock", False) == "unlocked"
    assert state_text("cover", True, "is_closed") == "closed"
    assert state_text("binary_sensor", {"in": "detected", "out": "on"}) == "on"  # hassil's form
    assert state_text("sensor", 22) == "22" and state_text("sensor", 2.5) == "2.5"


def test_entity_properties_become_the_attributes_ha_shows(home: EvalHome):
    climate = _attrs(home, "climate.thermostat")
    assert climate["temperature"] == 21  # target_temperature
    assert (climate["min_temp"], climate["max_temp"]) == (7.0, 35.0)  # HA's defaults filled in
    assert climate["preset_mode"] == "eco" and climate["fan_modes"]  # FAN_MODE needs fan_modes
    assert "unit_of_measurement" not in climate and "hvac_mode" not in climate
    weather = _attrs(home, "weather.home")
    assert (home.states["weather.home"]["state"], weather["temperature"]) == ("sunny", 20.0)
    assert weather["temperature_unit"] == "°C"  # 68 °F shown in the home's units
    assert home.forecasts["weather.home"]["daily"][1] == {"condition": "rainy", "temperature": 10.0, "templow": 5.0}
    fan = _attrs(home, "fan.living_room")
    assert fan["percentage_step"] == 25.0 and fan["percentage"] == 0  # speed_count 4, off
    assert fan["supported_features"] & (16 | 32) == 48  # fans can always be turned on and off
    assert _attrs(home, "valve.garden")["current_position"] == 0
    assert _attrs(home, "cover.bedroom_blinds")["current_position"] == 60  # "60" as written
    assert "current_position" not in _attrs(home, "cover.garage_door")  # cannot be positioned
    tv = _attrs(home, "media_player.bedroom_tv")
    assert "volume_level" not in tv  # HA shows nothing of a player that is off...
    assert home.memory["media_player.bedroom_tv"]["on_attributes"]["volume_level"] == 0.3
    assert _attrs(home, "alarm_control_panel.house")["code_format"] == "number"
    assert "code" not in _attrs(home, "alarm_control_panel.house")  # ...nor an alarm's code
    assert home.states["todo.trader_joes"]["state"] == "1"  # one item still to do
    assert "todo_items" not in _attrs(home, "todo.trader_joes")
    assert _attrs(home, "todo.trader_joes")["friendly_name"] == "Trader Joe's"  # hassil name
    assert "events" not in _attrs(home, "calendar.personal")
    assert _attrs(home, "scene.movie_time")["entity_id"] == [
        "light.reading_lamp",
        "light.kitchen_light",
        "media_player.living_room",
    ]
    assert home.scripts["script.good_night"]["sequence"][1]["action"] == "lock.lock"


def test_attribute_order_is_has(home: EvalHome):
    """Capabilities, state attributes, unit, device_class, friendly_name, supported_features."""
    assert list(_attrs(home, "light.kitchen_light")) == [
        "supported_color_modes",
        "color_mode",
        "brightness",
        "friendly_name",
        "supported_features",
    ]
    assert list(_attrs(home, "sensor.thermostat_temperature")) == [
        "state_class",
        "unit_of_measurement",
        "device_class",
        "friendly_name",
    ]
    assert list(_attrs(home, "climate.thermostat"))[:3] == ["hvac_modes", "min_temp", "max_temp"]
    assert list(_attrs(home, "climate.thermostat"))[-2:] == ["friendly_name", "supported_features"]


def test_a_bare_entity_gets_what_its_services_need():
    """Entities written with nothing but an id still work like HA's."""
    context = HomeContext(ZoneInfo("UTC"))

    def spec(entity_id: str, state: Any = None, **attributes: Any) -> Any:
        return entity_spec(entity_id, None, state, attributes, context)

    assert spec("light.x").attributes["supported_color_modes"] == ["onoff"]
    assert spec("light.x", brightness=40).attributes["supported_color_modes"] == ["brightness"]
    assert spec("light.x", "on", hs_color=[30, 50]).attributes["color_mode"] == "hs"
    assert spec("fan.x").attributes["supported_features"] == 1 | 16 | 32
    assert spec("cover.x").attributes["supported_features"] == 1 | 2 | 8
    assert spec("cover.x", current_position=20).attributes["supported_features"] == 1 | 2 | 4 | 8
    assert spec("climate.x").attributes["hvac_modes"] == ["off", "heat"]
    assert spec("climate.x").attributes["supported_features"] == 1 | 128 | 256
    assert spec("media_player.x").attributes["supported_features"] & 4  # VOLUME_SET
    assert spec("vacuum.x").state == "docked"
    assert spec("todo.x").attributes["supported_features"] == 127  # a local to-do list
    assert spec("todo.x", todo_items=["eggs"]).todo_items[0]["summary"] == "eggs"
    assert spec("weather.x").attributes["supported_features"] == 3  # daily and hourly
    assert spec("input_number.x", 5).attributes["max"] == 100.0
    assert spec("alarm_control_panel.x").attributes["code_arm_required"] is False  # no code
    assert spec("sensor.x").state == "unknown"
    assert spec("camera.x", "idle", fps=5).attributes == {"fps": 5, "friendly_name": "X"}


def test_entity_ids_are_lower_cased_as_ha_s_state_machine_does():
    home = load_home({"entities": [{"id": "sensor.Price_per_kW", "state": 1}]}, now=NOW)
    assert list(home.states) == ["sensor.price_per_kw"]
    home.apply_setup({"sensor.PRICE_per_kW": {"state": 2}})
    assert home.states["sensor.price_per_kw"]["state"] == "2"


def test_hassil_names_are_plain_names():
    assert plain_name("Trader Joe[']s") == "Trader Joe's"
    assert plain_name("(TV|television) light") == "TV light"
    assert plain_name("Kitchen  Light") == "Kitchen Light"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"entities": []}, "lists no entities"),
        ({"entities": [{"id": "light.bad id"}]}, "not a valid entity id"),
        ({"entities": [{"id": "light.a"}, {"id": "light.a"}]}, "light.a is listed twice"),
        ({"entities": [{"id": "light.a", "device": "ghost"}]}, "names device 'ghost'"),
        (
            {"entities": [{"id": "fan.a", "attributes": {"supported_features": ["WARP"]}}]},
            "unknown supported feature 'WARP'",
        ),
        ({"entities": [{"id": "todo.a", "attributes": {"todo_items": [{"status": "done"}]}}]}, "needs a summary"),
        ({"entities": {"id": "light.a"}}, "must be a list of mappings"),
        (["light.a"], "a mapping of floors"),
    ],
)
def test_a_fixture_that_cannot_load_says_why(data: Any, message: str):
    with pytest.raises(FixtureError, match=message):
        load_home(parse_fixture(data, name="broken"))


# --- setup, snapshot, reset ---------------------------------------------------------------


def test_setup_writes_through_the_state_machine_as_the_fixture_is_read(home: EvalHome):
    events: list[dict[str, Any]] = []
    home.listen(lambda event: events.append(event) if event["event_type"] == "state_changed" else None)
    home.apply_setup(
        {
            "light.kitchen_light": {"state": "off", "attributes": {"brightness": 0}},
            "media_player.living_room": {"attributes": {"volume_level": 0.8}},
            "todo.trader_joes": {"attributes": {"todo_items": [{"summary": "Apples"}, {"summary": "Pears"}]}},
            "switch.coffee_maker": None,  # named without a change: rewritten as the fixture says
        }
    )
    changed = [event["data"]["entity_id"] for event in events]
    assert changed == ["light.kitchen_light", "media_player.living_room", "todo.trader_joes"]
    light = home.states["light.kitchen_light"]
    assert light["state"] == "off" and light["attributes"]["brightness"] is None  # HA shows off
    assert _attrs(home, "media_player.living_room")["volume_level"] == 0.8
    assert home.states["media_player.living_room"]["state"] == "playing"  # the fixture's state
    assert home.states["todo.trader_joes"]["state"] == "2"
    assert [i["summary"] for i in home.todo_items["todo.trader_joes"]] == ["Apples", "Pears"]
    with pytest.raises(FixtureError, match="light.nowhere, which the home does not list"):
        home.apply_setup({"light.nowhere": {"state": "on"}})
    with pytest.raises(FixtureError, match="must be"):
        home.apply_setup({"light.kitchen_light": {"brightness": 3}})


def test_snapshot_and_reset_return_to_the_loaded_home(home: EvalHome):
    loaded = home.snapshot()
    assert loaded["light.kitchen_light"] == {"state": "on", "attributes": _attrs(home, "light.kitchen_light")}
    assert set(loaded) == set(home.states)
    assert set(home.snapshot(["lock.shed", "light.nowhere"])) == {"lock.shed"}
    home.apply_setup(
        {
            "light.kitchen_light": {"state": "off"},
            "lock.front_door": {"state": "locked"},
            "todo.trader_joes": {"attributes": {"todo_items": []}},
        }
    )
    home.memory["fan.living_room"] = {"percentage": 75}
    home.set_clock(DENTIST)
    home.remove_state("switch.coffee_maker")
    home.set_state("light.made_up", "on", {})
    assert home.snapshot() != loaded
    events: list[str] = []
    home.listen(
        lambda event: events.append(event["data"]["entity_id"]) if event["event_type"] == "state_changed" else None
    )
    home.reset()
    assert home.snapshot() == loaded
    assert home.todo_items["todo.trader_joes"][0]["summary"] == "Milk"
    assert "percentage" not in home.memory["fan.living_room"] and home.clock is None
    # Only what the case touched is rewritten (and announced, for a mirror).
    assert sorted(events) == [
        "calendar.personal",
        "light.kitchen_light",
        "light.made_up",
        "lock.front_door",
        "switch.coffee_maker",
        "todo.trader_joes",
    ]
    events.clear()
    home.reset()
    assert events == []  # nothing changed since


def test_the_clock_moves_calendars(home: EvalHome):
    assert home.states["calendar.personal"]["state"] == "off"
    home.set_clock(DENTIST)
    calendar = home.states["calendar.personal"]
    assert calendar["state"] == "on"
    assert calendar["attributes"]["message"] == "Dentist"
    assert calendar["attributes"]["start_time"] == "2025-04-02 09:00:00"  # the home's time
    assert calendar["attributes"]["location"] == "Main Street 1"
    home.set_clock(DENTIST + timedelta(hours=2))
    calendar = home.states["calendar.personal"]
    assert calendar["state"] == "off" and calendar["attributes"]["message"] == "Market day"
    assert calendar["attributes"]["all_day"] is True
    home.set_clock(DENTIST + timedelta(days=5))
    assert list(_attrs(home, "calendar.personal")) == ["friendly_name", "supported_features"]


def test_a_clock_in_another_offset_moves_the_home_s_local_time(home: EvalHome):
    brisbane = timezone(timedelta(hours=10))
    home.set_clock(datetime(2025, 4, 2, 16, 30, tzinfo=brisbane))  # before the dentist
    calendar = _attrs(home, "calendar.personal")
    assert calendar["message"] == "Dentist"
    assert calendar["start_time"] == "2025-04-02 17:00:00"  # 09:00+02:00 in Brisbane
    assert home.config["time_zone"] == "Europe/Amsterdam"
    home.reset()
    assert str(home.time_zone) == "Europe/Amsterdam" and home.clock is None


def test_loading_setup_and_reset_take_milliseconds():
    fixture = read_fixture(EDGE)
    loads = []
    for _ in range(20):
        started = time.perf_counter()
        home = load_home(fixture, now=NOW)
        loads.append(time.perf_counter() - started)
    cases = []
    for _ in range(200):
        started = time.perf_counter()
        home.apply_setup({"light.kitchen_light": {"state": "off"}, "media_player.living_room": {"state": "paused"}})
        home.snapshot()
        home.set_state("light.kitchen_light", "on", dict(_attrs(home, "light.kitchen_light")))
        home.reset()
        cases.append(time.perf_counter() - started)
    # Generous bounds on a shared machine: typical figures are ~2 ms and ~0.2 ms.
    assert statistics.median(loads) < 0.05, loads
    assert statistics.median(cases) < 0.01, cases


# --- services through the WebSocket API -----------------------------------------------------


@pytest.fixture
async def ha(home: EvalHome) -> AsyncIterator[tuple[EvalHome, HAClient, SimulatedHA]]:
    async with SimulatedHA(home) as sim, HAClient(sim.url, sim.token) as client:
        yield home, client, sim


async def _call(client: HAClient, domain: str, service: str, entity_id: str | None = None, **data: Any) -> Any:
    target = {"entity_id": entity_id} if entity_id else None
    return await client.call_service(domain, service, data or None, target=target)


async def _response(client: HAClient, domain: str, service: str, entity_id: str, **data: Any) -> Any:
    result = await client.call_service(
        domain, service, data or None, target={"entity_id": entity_id}, return_response=True
    )
    return result["response"][entity_id]


async def _error(call: Any) -> HACommandError:
    with pytest.raises(HACommandError) as caught:
        await call
    return caught.value


async def test_todo_items_are_listed_added_changed_and_removed(ha):
    home, client, _ = ha
    todo = "todo.trader_joes"
    assert await _response(client, "todo", "get_items", todo) == {
        "items": [
            {"summary": "Milk", "uid": "milk", "status": "needs_action"},
            {"summary": "Bread", "uid": home.todo_items[todo][1]["uid"], "status": "completed"},
        ]
    }
    await _call(client, "todo", "add_item", todo, item="Apples")
    assert home.states[todo]["state"] == "2"
    listed = await client.ws.send_command("todo/item/list", entity_id=todo)
    assert [item["summary"] for item in listed["items"]] == ["Milk", "Bread", "Apples"]
    open_items = await _response(client, "todo", "get_items", todo, status="needs_action")
    assert [item["summary"] for item in open_items["items"]] == ["Milk", "Apples"]
    await _call(client, "todo", "update_item", todo, item="Apples", rename="Green apples")
    assert home.states[todo]["state"] == "2"  # a rename keeps the count
    await _call(client, "todo", "update_item", todo, item="milk", status="completed")  # by uid
    assert home.states[todo]["state"] == "1"
    await _call(client, "todo", "remove_item", todo, item=["Green apples", "Bread"])
    assert [item["summary"] for item in home.todo_items[todo]] == ["Milk"]
    assert home.states[todo]["state"] == "0"
    error = await _error(_call(client, "todo", "remove_item", todo, item="Cheese"))
    assert (error.code, error.message) == (
        "service_validation_error",
        "Validation error: Unable to find to-do list item: Cheese",
    )
    error = await _error(_call(client, "todo", "update_item", todo, item="milk"))
    assert error.code == "invalid_format"
    assert error.message.startswith("must contain at least one of rename, status, due_date")
    error = await _error(_call(client, "todo", "add_item", todo, item="Eggs", due_date="2025-04-05"))
    assert error.message == "Validation error: Entity does not support setting field: due_date"
    error = await _error(_call(client, "todo", "add_item", todo, item=""))
    assert error.code == "invalid_format" and "at least 1" in error.message
    error = await _error(_call(client, "todo", "get_items", todo))  # needs return_response
    assert error.code == "service_validation_error"
    await _call(client, "todo", "remove_completed_items", todo)
    assert home.todo_items[todo] == []
    error = await _error(client.ws.send_command("todo/item/list", entity_id="todo.nope"))
    assert error.code == "not_found"


async def test_a_local_to_do_list_takes_due_dates_and_descriptions(tmp_path):
    home = load_home({"entities": [{"id": "todo.chores", "name": "Chores"}]}, time_zone="Europe/Berlin", now=NOW)
    async with SimulatedHA(home) as sim, HAClient(sim.url, sim.token) as client:
        await _call(
            client,
            "todo",
            "add_item",
            "todo.chores",
            item="Taxes",
            due_datetime="2025-04-05 18:00:00",
            description="Before the weekend",
        )
        await _call(client, "todo", "add_item", "todo.chores", item="Bins", due_date="2025-04-07")
        items = (await _response(client, "todo", "get_items", "todo.chores"))["items"]
        assert [(i["summary"], i["due"], i.get("description")) for i in items] == [
            ("Taxes", "2025-04-05T18:00:00+02:00", "Before the weekend"),  # the home's zone
            ("Bins", "2025-04-07", None),
        ]
        error = await _error(
            _call(
                client,
                "todo",
                "add_item",
                "todo.chores",
                item="X",
                due_date="2025-04-07",
                due_datetime="2025-04-07 10:00",
            )
        )
        assert error.message == "must contain at most one of due_date, due_datetime."
        await _call(client, "todo", "update_item", "todo.chores", item="Taxes", due_date=None)
        assert "due" not in (await _response(client, "todo", "get_items", "todo.chores"))["items"][0]


async def test_calendar_events_come_from_the_entity(ha):
    home, client, sim = ha
    home.set_clock(DENTIST)
    calendar = "calendar.personal"
    found = await _response(client, "calendar", "get_events", calendar, duration={"days": 2})
    assert found == {
        "events": [
            {
                "start": "2025-04-02T09:00:00+02:00",
                "end": "2025-04-02T10:00:00+02:00",
                "summary": "Dentist",
                "location": "Main Street 1",
            },
            {"start": "2025-04-03", "end": "2025-04-04", "summary": "Market day"},
        ]
    }
    later = await _response(
        client,
        "calendar",
        "get_events",
        calendar,
        start_date_time="2025-04-02 12:00:00",
        end_date_time="2025-04-02 23:00:00",
    )  # naive: the home's zone
    assert later == {"events": []}
    error = await _error(
        client.call_service("calendar", "get_events", None, target={"entity_id": calendar}, return_response=True)
    )
    assert error.message == "must contain at least one of end_date_time, duration."
    error = await _error(
        client.call_service(
            "calendar",
            "get_events",
            {"start_date_time": "2025-04-02 12:00:00", "end_date_time": "2025-04-02 11:00:00"},
            target={"entity_id": calendar},
            return_response=True,
        )
    )
    assert error.message.startswith("Expected end time to be after start time")
    await _call(
        client,
        "calendar",
        "create_event",
        calendar,
        summary="Haircut",
        start_date_time="2025-04-02 09:45:00",
        end_date_time="2025-04-02 10:30:00",
    )
    found = await _response(client, "calendar", "get_events", calendar, duration="01:00:00")
    assert [event["summary"] for event in found["events"]] == ["Dentist", "Haircut"]
    await _call(
        client, "calendar", "create_event", calendar, summary="Picnic", **{"in": {"days": 2}}
    )  # two days after the pretended today
    picnic = home.calendar_events[calendar][-1]
    assert (picnic["summary"], str(picnic["start"]), str(picnic["end"])) == ("Picnic", "2025-04-04", "2025-04-05")
    error = await _error(_call(client, "calendar", "create_event", calendar, summary="X", start_date="2025-04-05"))
    assert error.message == "Start and end dates must both be specified @ data[<dates>]"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {sim.token}"}) as http:
        listing = await (await http.get(f"{sim.url}/api/calendars")).json()
        assert listing == [{"name": "Personal", "entity_id": calendar}]
        response = await http.get(
            f"{sim.url}/api/calendars/{calendar}",
            params={"start": "2025-04-03T00:00:00+02:00", "end": "2025-04-04T00:00:00+02:00"},
        )
        assert await response.json() == [
            {
                "uid": home.calendar_events[calendar][1]["uid"],
                "summary": "Market day",
                "start": {"date": "2025-04-03"},
                "end": {"date": "2025-04-04"},
                "description": None,
                "location": None,
            }
        ]
        bad = await http.get(f"{sim.url}/api/calendars/{calendar}", params={"start": "x"})
        assert bad.status == 400


async def test_weather_forecasts_are_the_entity_s_own(ha):
    home, client, _ = ha
    home.set_clock(DENTIST)
    forecast = await _response(client, "weather", "get_forecasts", "weather.home", type="daily")
    assert [(f["condition"], f.get("temperature")) for f in forecast["forecast"]] == [("sunny", None), ("rainy", 10.0)]
    assert forecast["forecast"][0]["datetime"] == "2025-04-02T12:00:00+02:00"
    error = await _error(
        client.call_service(
            "weather", "get_forecasts", {"type": "hourly"}, target={"entity_id": "weather.home"}, return_response=True
        )
    )
    assert (error.code, error.message) == (
        "home_assistant_error",
        "Weather entity 'weather.home' does not support 'hourly' forecast",
    )


async def test_valves(ha):
    home, client, _ = ha
    valve = "valve.garden"
    await _call(client, "valve", "open_valve", valve)
    assert (home.states[valve]["state"], _attrs(home, valve)["current_position"]) == ("open", 100)
    await _call(client, "valve", "set_valve_position", valve, position=30)
    assert (home.states[valve]["state"], _attrs(home, valve)["current_position"]) == ("open", 30)
    await _call(client, "valve", "toggle", valve)
    assert (home.states[valve]["state"], _attrs(home, valve)["current_position"]) == ("closed", 0)
    error = await _error(_call(client, "valve", "set_valve_position", valve, position=150))
    assert error.code == "invalid_format"
    error = await _error(_call(client, "valve", "stop_valve", valve))  # no STOP feature
    assert error.code == "service_validation_error" and "does not support" in error.message


async def test_vacuums(ha):
    home, client, _ = ha
    robo = "vacuum.robo"
    for service, state in (
        ("start", "cleaning"),
        ("pause", "paused"),
        ("return_to_base", "returning"),
        ("stop", "idle"),
        ("clean_spot", "cleaning"),
        ("locate", "cleaning"),
    ):
        await _call(client, "vacuum", service, robo)
        assert home.states[robo]["state"] == state, service
    error = await _error(_call(client, "vacuum", "set_fan_speed", robo, fan_speed="max"))
    assert error.message == ("Validation error: Entity vacuum.robo does not support action vacuum.set_fan_speed")


async def test_fans(ha):
    home, client, _ = ha
    fan = "fan.living_room"

    def now() -> tuple[str, Any, Any]:
        attrs = _attrs(home, fan)
        return home.states[fan]["state"], attrs["percentage"], attrs["preset_mode"]

    await _call(client, "fan", "turn_on", fan)
    assert now() == ("on", 100, None)  # full speed when it remembers none
    await _call(client, "fan", "set_percentage", fan, percentage=50)
    await _call(client, "fan", "increase_speed", fan)
    assert now() == ("on", 75, None)  # the next of four speeds
    await _call(client, "fan", "decrease_speed", fan, percentage_step=40)
    assert now() == ("on", 35, None)
    await _call(client, "fan", "turn_off", fan)
    assert now() == ("off", 0, None)
    await _call(client, "fan", "toggle", fan)
    assert now() == ("on", 35, None)  # back at its last speed
    await _call(client, "fan", "turn_on", fan, preset_mode="sleep")
    assert now() == ("on", 35, "sleep")
    await _call(client, "fan", "oscillate", fan, oscillating=True)
    await _call(client, "fan", "set_direction", fan, direction="reverse")
    assert (_attrs(home, fan)["oscillating"], _attrs(home, fan)["direction"]) == (True, "reverse")
    error = await _error(_call(client, "fan", "set_preset_mode", fan, preset_mode="turbo"))
    assert error.message == ("Validation error: Preset mode turbo is not valid, valid preset modes are: auto, sleep.")


async def test_covers(ha):
    home, client, _ = ha
    await _call(client, "cover", "open_cover", "cover.garage_door")
    assert home.states["cover.garage_door"]["state"] == "open"
    assert "current_position" not in _attrs(home, "cover.garage_door")
    error = await _error(_call(client, "cover", "set_cover_position", "cover.garage_door", position=20))
    assert error.code == "service_validation_error"
    blinds = "cover.bedroom_blinds"
    await _call(client, "cover", "set_cover_position", blinds, position=25)
    assert (home.states[blinds]["state"], _attrs(home, blinds)["current_position"]) == ("open", 25)
    await _call(client, "cover", "close_cover", blinds)
    assert (home.states[blinds]["state"], _attrs(home, blinds)["current_position"]) == ("closed", 0)
    await _call(client, "cover", "toggle", blinds)
    assert home.states[blinds]["state"] == "open"
    error = await _error(_call(client, "cover", "open_cover_tilt", blinds))
    assert "does not support action cover.open_cover_tilt" in error.message


async def test_covers_and_valves_can_take_their_time(ha):
    """With a travel time, a cover reports closing until it gets there, as the leaderboard's
    garage doors do; a reset stops whatever is still moving."""
    home, client, _ = ha
    home.travel_seconds = 0.2
    await _call(client, "cover", "close_cover", "cover.bedroom_blinds")
    assert home.states["cover.bedroom_blinds"]["state"] == "closing"
    await _call(client, "valve", "open_valve", "valve.garden")
    assert home.states["valve.garden"]["state"] == "opening"
    await wait_for(lambda: home.states["cover.bedroom_blinds"]["state"] == "closed", what="the blinds to close")
    assert _attrs(home, "cover.bedroom_blinds")["current_position"] == 0
    await wait_for(lambda: home.states["valve.garden"]["state"] == "open", what="the valve")
    await _call(client, "cover", "open_cover", "cover.garage_door")
    await _call(client, "cover", "toggle", "cover.garage_door")  # no STOP: reverses
    assert home.states["cover.garage_door"]["state"] == "closing"
    home.reset()
    await asyncio.sleep(0.3)
    assert home.states["cover.garage_door"]["state"] == "closed" and not home.motions
    await _call(client, "cover", "open_cover", "cover.bedroom_blinds")
    await _call(client, "cover", "stop_cover", "cover.bedroom_blinds")
    assert home.states["cover.bedroom_blinds"]["state"] == "open"  # stopped on the way
    await asyncio.sleep(0.3)
    assert _attrs(home, "cover.bedroom_blinds")["current_position"] == 60


async def test_locks_change_at_once_and_check_their_code_format(ha):
    home, client, _ = ha
    seen: list[str] = []
    await client.subscribe_events(
        lambda event: (
            seen.append(event["data"]["new_state"]["state"])
            if event["data"]["entity_id"] == "lock.front_door"
            else None
        ),
        "state_changed",
    )
    await _call(client, "lock", "lock", "lock.front_door")
    assert home.states["lock.front_door"]["state"] == "locked"
    await wait_for(lambda: len(seen) == 2, what="both lock events")
    assert seen == ["locking", "locked"]
    error = await _error(_call(client, "lock", "unlock", "lock.shed", code="12"))
    assert error.message == ("Validation error: The code for lock.shed doesn't match pattern ^\\d{4}$.")
    await _call(client, "lock", "unlock", "lock.shed", code="1234")
    assert home.states["lock.shed"]["state"] == "unlocked"
    error = await _error(_call(client, "lock", "open", "lock.front_door"))
    assert error.code == "service_validation_error"


async def test_climate(ha):
    home, client, _ = ha
    thermostat = "climate.thermostat"
    await _call(client, "climate", "set_temperature", thermostat, temperature=22.5)
    assert _attrs(home, thermostat)["temperature"] == 22.5
    error = await _error(_call(client, "climate", "set_temperature", thermostat, temperature=40))
    assert error.message == ("Validation error: Provided temperature 40.0 is not valid. Accepted range is 7.0 to 35.0.")
    error = await _error(
        _call(client, "climate", "set_temperature", thermostat, target_temp_low=18, target_temp_high=22)
    )
    assert error.message.startswith(
        "Validation error: Set temperature action was used with the target temperature low/high parameter"
    )
    error = await _error(_call(client, "climate", "set_temperature", thermostat))
    assert error.message == ("must contain at least one of temperature, target_temp_high, target_temp_low.")
    error = await _error(_call(client, "climate", "set_hvac_mode", thermostat, hvac_mode="warm"))
    assert error.message == "expected HVACMode for dictionary value @ data['hvac_mode']"
    await _call(client, "climate", "set_hvac_mode", thermostat, hvac_mode="cool")
    await _call(client, "climate", "turn_off", thermostat)
    assert home.states[thermostat]["state"] == "off"
    await _call(client, "climate", "turn_on", thermostat)
    assert home.states[thermostat]["state"] == "cool"  # the mode it had
    await _call(client, "climate", "set_preset_mode", thermostat, preset_mode="comfort")
    await _call(client, "climate", "set_fan_mode", thermostat, fan_mode="high")
    assert (_attrs(home, thermostat)["preset_mode"], _attrs(home, thermostat)["fan_mode"]) == ("comfort", "high")
    error = await _error(_call(client, "climate", "set_preset_mode", thermostat, preset_mode="boost"))
    assert error.message == ("Validation error: Preset mode boost is not valid. Valid preset modes are: eco, comfort.")
    error = await _error(_call(client, "climate", "set_swing_mode", thermostat, swing_mode="on"))
    assert error.code == "service_validation_error"  # no SWING_MODE feature


async def test_media_players(ha):
    home, client, _ = ha
    speaker = "media_player.living_room"
    await _call(client, "media_player", "media_pause", speaker)
    assert home.states[speaker]["state"] == "paused"
    await _call(client, "media_player", "media_play_pause", speaker)
    assert home.states[speaker]["state"] == "playing"
    await _call(client, "media_player", "volume_set", speaker, volume_level=0.7)
    await _call(client, "media_player", "volume_up", speaker)
    await _call(client, "media_player", "volume_mute", speaker, is_volume_muted=True)
    await _call(client, "media_player", "select_source", speaker, source="Spotify")
    attrs = _attrs(home, speaker)
    assert (attrs["volume_level"], attrs["is_volume_muted"], attrs["source"]) == (0.8, True, "Spotify")
    await _call(client, "media_player", "media_next_track", speaker)
    await _call(client, "media_player", "turn_off", speaker)
    assert home.states[speaker]["state"] == "off"
    assert set(_attrs(home, speaker)) == {"source_list", "device_class", "friendly_name", "supported_features"}
    await _call(client, "media_player", "turn_on", speaker)
    assert home.states[speaker]["state"] == "idle"
    assert _attrs(home, speaker)["volume_level"] == 0.8  # what it showed before going off
    await _call(client, "media_player", "turn_on", "media_player.bedroom_tv")
    tv = _attrs(home, "media_player.bedroom_tv")
    assert home.states["media_player.bedroom_tv"]["state"] == "on" and tv["volume_level"] == 0.3
    assert "media_title" not in tv  # nothing made up for a fixture's player
    await _call(client, "media_player", "media_stop", speaker)
    assert home.states[speaker]["state"] == "idle"


async def test_alarm_panels_check_the_code(ha):
    home, client, _ = ha
    alarm = "alarm_control_panel.house"
    error = await _error(_call(client, "alarm_control_panel", "alarm_arm_home", alarm))
    assert error.message == (
        "Validation error: Arming requires a code but none was given for alarm_control_panel.house."
    )
    error = await _error(_call(client, "alarm_control_panel", "alarm_arm_away", alarm, code="0000"))
    assert (error.code, error.message) == ("service_validation_error", "Validation error: Invalid alarm code provided")
    await _call(client, "alarm_control_panel", "alarm_arm_away", alarm, code="1234")
    assert home.states[alarm]["state"] == "armed_away"  # at once: no arming delay
    error = await _error(_call(client, "alarm_control_panel", "alarm_disarm", alarm))
    assert error.message == "Validation error: Invalid alarm code provided"
    await _call(client, "alarm_control_panel", "alarm_disarm", alarm, code="1234")
    assert home.states[alarm]["state"] == "disarmed"
    error = await _error(_call(client, "alarm_control_panel", "alarm_arm_vacation", alarm, code="1234"))
    assert "does not support action" in error.message
    await _call(client, "alarm_control_panel", "alarm_trigger", alarm)
    assert home.states[alarm]["state"] == "triggered"


async def test_scenes_reproduce_their_members(ha):
    home, client, _ = ha
    home.apply_setup({"light.reading_lamp": {"state": "on"}, "media_player.living_room": {"state": "paused"}})
    await _call(client, "scene", "turn_on", "scene.movie_time")
    assert home.states["light.reading_lamp"]["state"] == "off"
    assert _attrs(home, "light.kitchen_light")["brightness"] == 60
    player = home.states["media_player.living_room"]
    assert (player["state"], player["attributes"]["volume_level"]) == ("playing", 0.2)
    assert home.states["scene.movie_time"]["state"].startswith("20")  # activation time


async def test_scripts_run_their_steps(ha):
    home, client, _ = ha
    await _call(client, "script", "good_night")
    assert home.states["light.kitchen_light"]["state"] == "off"
    assert home.states["lock.front_door"]["state"] == "locked"
    assert home.states["script.good_night"]["attributes"]["last_triggered"]


async def test_generic_turn_on_and_off_reach_every_domain_that_has_them(ha):
    home, client, _ = ha
    await client.call_service(
        "homeassistant",
        "turn_off",
        None,
        target={
            "entity_id": [
                "light.kitchen_light",
                "switch.coffee_maker",
                "cover.bedroom_blinds",
                "input_boolean.guest_mode",
            ]
        },
    )
    assert home.states["light.kitchen_light"]["state"] == "off"
    assert home.states["switch.coffee_maker"]["state"] == "off"
    assert home.states["cover.bedroom_blinds"]["state"] == "open"  # covers have no turn_off
    await client.call_service("homeassistant", "toggle", None, target={"area_id": "living_room"})
    assert home.states["light.reading_lamp"]["state"] == "on"
    assert home.states["fan.living_room"]["state"] == "on"


async def test_services_are_described_only_for_domains_the_home_has(ha):
    home, client, _ = ha
    services = {f"{s.domain}.{s.service}": s for s in await client.fetch_services()}
    for name in (
        "todo.add_item",
        "todo.update_item",
        "todo.remove_item",
        "todo.get_items",
        "calendar.get_events",
        "calendar.create_event",
        "valve.open_valve",
        "alarm_control_panel.alarm_arm_home",
        "vacuum.clean_spot",
        "climate.set_swing_mode",
        "script.good_night",
    ):
        assert name in services, name
    assert {"person.reload"} == {name for name in services if name.startswith("person.")}
    assert not [name for name in services if name.startswith("device_tracker.")]
    assert not [name for name in services if name.startswith("water_heater.")]
    described = (await client.ws.send_command("get_services"))["todo"]["update_item"]
    assert set(described["fields"]) == {"item", "rename", "status", "due_date", "due_datetime", "description"}
    assert described["target"] == {"entity": [{"domain": ["todo"], "supported_features": [4]}]}
    assert (await client.ws.send_command("get_services"))["todo"]["get_items"]["response"] == {"optional": False}


# --- distractors ------------------------------------------------------------------------------


def test_distractors_pad_to_exactly_n_without_touching_the_home():
    plain = load_home(EDGE, now=NOW)
    padded = load_home(EDGE, scale=500, seed=3, now=NOW)
    own = set(plain.states)
    extra = set(padded.states) - own
    assert len(extra) == 500 and own <= set(padded.states)
    assert padded.snapshot(own) == plain.snapshot(own)
    for entity_id in own:
        assert padded.entities[entity_id] == plain.entities[entity_id]
    assert {k: v for k, v in padded.areas.items() if k in plain.areas} == plain.areas
    assert {k: v for k, v in padded.devices.items() if k in plain.devices} == plain.devices
    home_names = {a["name"].casefold() for a in plain.areas.values()}
    new_areas = [a for k, a in padded.areas.items() if k not in plain.areas]
    assert new_areas and not any(a["name"].casefold() in home_names for a in new_areas)
    assert all(a["aliases"] == [] for a in new_areas)
    assert all(not padded.entities[e]["aliases"] for e in extra if e in padded.entities)
    domains = {e.split(".", 1)[0] for e in extra}
    assert {"light", "switch", "sensor", "binary_sensor", "cover"} <= domains
    names = {padded.states[e]["attributes"].get("friendly_name") for e in extra}
    assert "Guest House Kitchen Light" in names  # a namesake of the home's "Kitchen Light"
    assert all(padded.effective_area(e) not in plain.areas for e in extra)
    assert ("button", "press") in padded.service_index()  # services of the new domains
    assert set(load_home(EDGE, scale=0, now=NOW).states) == own


def test_distractors_are_deterministic():
    def shape(home: EvalHome) -> list[tuple[str, str, str | None]]:
        return [(e, s["state"], s["attributes"].get("friendly_name")) for e, s in home.states.items()]

    first = load_home(EDGE, scale=200, seed=7, now=NOW)
    again = load_home(EDGE, scale=200, seed=7, now=NOW)
    other = load_home(EDGE, scale=200, seed=8, now=NOW)
    assert shape(first) == shape(again)
    assert sorted(first.devices) == sorted(again.devices)
    assert shape(first) != shape(other)


def test_a_large_padding_is_fast_and_resets_like_the_home():
    started = time.perf_counter()
    home = load_home(EDGE, scale=5000, seed=1, now=NOW)
    took = time.perf_counter() - started
    assert len(home.states) == len(read_fixture(EDGE).entities) + 5000
    assert took < 5.0, took  # typical ~0.3 s
    loaded = home.snapshot()
    distractor = next(e for e in home.states if e.startswith("light.guest_house"))
    home.set_state(distractor, "on", dict(_attrs(home, distractor)))
    started = time.perf_counter()
    home.reset()
    assert time.perf_counter() - started < 0.05  # only the touched entity is rewritten
    assert home.snapshot() == loaded


def test_a_generated_home_can_be_padded_too():
    from data_api.simulator import generate_home

    home = generate_home("small", 1, now=NOW)
    before = set(home.states)
    added = add_distractors(home, 50, seed=2, now=NOW)
    assert len(added) == 50 and not set(added) & before
    assert set(home.states) == before | set(added)


# --- a mirror of an evaluation home -----------------------------------------------------------


async def test_a_mirror_lists_the_home_with_effective_areas_and_exposure(home, tmp_path):
    async with SimulatedHA(home) as sim, mirror_env(sim, tmp_path) as env:
        entities = await env.items("entities")
        assert set(entities) == set(home.states)
        for entity_id, entity in entities.items():
            assert entity.area_id == home.effective_area(entity_id), entity_id
            assert entity.exposed == home.is_exposed(entity_id), entity_id
            assert entity.state == home.states[entity_id]["state"], entity_id
        assert entities["binary_sensor.kitchen_motion"].area_id == "living_room"
        assert entities["lock.front_door"].exposed and not entities["switch.hidden_heater"].exposed
        assert entities["todo.trader_joes"].name == "Trader Joe's"
        areas = await env.items("areas")
        assert {a.name for a in areas.values()} == {"Kitchen", "Living Room", "Bedroom", "Shed"}
        devices = await env.items("devices")
        light = devices[home.entities["light.kitchen_light"]["device_id"]]
        assert (light.manufacturer, light.model, light.area_id) == ("Philips", "Smart LED Bulb", "kitchen")
        home.apply_setup({"light.kitchen_light": {"state": "off"}})
        await wait_for(
            lambda: env.peek("entities")["light.kitchen_light"].state == "off", what="the setup in the mirror"
        )
        home.reset()
        await wait_for(
            lambda: env.peek("entities")["light.kitchen_light"].state == "on", what="the reset in the mirror"
        )


async def test_a_padded_home_is_mirrored_whole(tmp_path):
    home = load_home(EDGE, scale=300, seed=5, now=NOW)
    async with SimulatedHA(home) as sim, mirror_env(sim, tmp_path) as env:
        entities = await env.items("entities")
        assert set(entities) == set(home.states)
        guest = next(e for e in entities.values() if e.name == "Guest House Kitchen Light")
        assert guest.area_id != "kitchen" and guest.area_id == home.effective_area(guest.entity_id)


async def test_setups_run_concurrently_with_a_subscriber(home):
    """Many cases in a row through one server: every change reaches a subscriber in order."""
    async with SimulatedHA(home) as sim, HAClient(sim.url, sim.token) as client:
        seen: list[str] = []
        await client.subscribe_events(lambda event: seen.append(event["data"]["entity_id"]), "state_changed")
        for _ in range(20):
            home.apply_setup({"switch.coffee_maker": {"state": "off"}})
            await _call(client, "switch", "turn_on", "switch.coffee_maker")
            home.reset()
        await wait_for(lambda: len(seen) >= 40, what="the events")
        assert set(seen) == {"switch.coffee_maker"}
        await asyncio.sleep(0.05)
        assert len(seen) == 40  # setup and turn_on; the reset had nothing left to rewrite
