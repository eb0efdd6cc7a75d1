"""The Home Assistant client, run against the simulator AND each real Home Assistant (2025.4.4, 2026.11.0).

Every test that does not need a fault only the simulator can inject runs against both: the
simulator stays faithful because the same assertions hold for the real thing.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from data_api.ha import (
    HAAuthError,
    HAClient,
    HACommandError,
    HAConnectionError,
    HAProtocolError,
    HARest,
    HATimeoutError,
    HAWebSocket,
)
from tests.support.mirroring import wait_for


async def _first(entities_domain: str, client: HAClient) -> str:
    states = await client.fetch_states()
    return sorted(s.entity_id for s in states if s.entity_id.startswith(entities_domain + "."))[0]


# --- handshake and errors -------------------------------------------------------------------


async def test_handshake_reports_version(ha_target):
    async with HAClient(ha_target.url, ha_target.token) as client:
        assert client.connected
        assert client.ws.ha_version == ha_target.version
        config = await client.fetch_config()
        assert config.location_name
        assert config.version == ha_target.version


async def test_bad_token_is_an_auth_error_without_the_token(ha_target):
    bad = "not-a-token-" + "x" * 40
    client = HAClient(ha_target.url, bad, request_timeout=5)
    with pytest.raises(HAAuthError) as info:
        await client.connect()
    assert bad not in str(info.value)
    assert "token" in str(info.value).lower()
    await client.close()
    rest = HARest(ha_target.url, bad)
    with pytest.raises(HAAuthError):
        await rest.get_states()
    await rest.close()


async def test_unreachable_host_is_a_connection_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connection refused
        client = HAClient(f"http://127.0.0.1:{port}", "token-" + "y" * 30, request_timeout=2)
        with pytest.raises(HAConnectionError) as info:
            await client.connect()
        assert "cannot reach" in str(info.value)
        await client.close()
        rest = HARest(f"http://127.0.0.1:{port}", "t" * 30)
        with pytest.raises(HAConnectionError):
            await rest.get_config()
        await rest.close()


async def test_unknown_command_is_a_typed_error(ha_target):
    async with HAClient(ha_target.url, ha_target.token) as client:
        with pytest.raises(HACommandError) as info:
            await client.ws.send_command("no_such/command")
        assert info.value.code == "unknown_command"
        # The connection stays usable after an error result.
        await client.ws.ping()


async def test_unknown_service_is_a_typed_error(ha_target):
    async with HAClient(ha_target.url, ha_target.token) as client:
        with pytest.raises(HACommandError) as info:
            await client.call_service("light", "no_such_service", target={"entity_id": "light.nothing"})
        assert info.value.code == "not_found"


# --- routing, coalescing, events ----------------------------------------------------------


async def test_concurrent_commands_are_routed_by_id(ha_target):
    async with HAClient(ha_target.url, ha_target.token) as client:
        results = await asyncio.gather(
            *(client.ws.send_command("get_config") for _ in range(5)),
            *(client.ws.send_command("get_states") for _ in range(5)),
            *(client.ws.ping() for _ in range(10)),
            client.ws.send_command("get_services"),
        )
        assert all(isinstance(r, dict) and "location_name" in r for r in results[:5])
        assert all(isinstance(r, list) and r and "entity_id" in r[0] for r in results[5:10])
        assert all(r is None for r in results[10:20])
        assert "light" in results[20]


async def test_state_changes_arrive_as_events(ha_target):
    async with HAClient(ha_target.url, ha_target.token) as client:
        light = await _first("light", client)
        events: list[dict] = []
        await client.subscribe_events(events.append, "state_changed")
        await client.call_service("light", "turn_off", target={"entity_id": light})
        await client.call_service("light", "turn_on", {"brightness_pct": 40}, target={"entity_id": light})
        await wait_for(
            lambda: any(
                e["data"]["entity_id"] == light and (e["data"]["new_state"] or {}).get("state") == "on" for e in events
            )
        )
        change = next(e for e in events if e["data"]["entity_id"] == light)
        assert change["event_type"] == "state_changed"
        assert {"entity_id", "old_state", "new_state"} <= set(change["data"])


async def test_many_events_in_a_burst_all_arrive(ha_target):
    """A burst of changes is where HA coalesces messages into array frames."""
    async with HAClient(ha_target.url, ha_target.token) as client:
        light = await _first("light", client)
        events: list[dict] = []
        await client.subscribe_events(events.append, "state_changed")
        await asyncio.gather(*(client.call_service("light", "toggle", target={"entity_id": light}) for _ in range(20)))
        await wait_for(lambda: sum(e["data"]["entity_id"] == light for e in events) >= 20)


async def test_slow_event_handler_does_not_block_commands(ha_target):
    async with HAClient(ha_target.url, ha_target.token) as client:
        light = await _first("light", client)
        gate = asyncio.Event()
        seen: list[dict] = []

        async def slow(event: dict) -> None:
            await gate.wait()
            seen.append(event)

        await client.subscribe_events(slow, "state_changed")
        await client.call_service("light", "toggle", target={"entity_id": light})
        # The handler is stuck, yet commands still complete: the reader never waits on it.
        await asyncio.wait_for(client.ws.send_command("get_config"), 5)
        gate.set()
        await wait_for(lambda: len(seen) >= 1)


async def test_call_service_with_target_and_response(ha_target):
    async with HAClient(ha_target.url, ha_target.token) as client:
        weather = await _first("weather", client)
        result = await client.call_service(
            "weather", "get_forecasts", {"type": "daily"}, target={"entity_id": weather}, return_response=True
        )
        assert "context" in result
        assert weather in result["response"]
        assert "forecast" in result["response"][weather]


async def test_unsubscribe_stops_events(ha_target):
    async with HAClient(ha_target.url, ha_target.token) as client:
        light = await _first("light", client)
        events: list[dict] = []
        sub = await client.subscribe_events(events.append, "state_changed")
        await client.ws.unsubscribe(sub)
        await client.call_service("light", "toggle", target={"entity_id": light})
        await client.ws.send_command("get_config")  # after this, any event would have arrived
        await asyncio.sleep(0.2)
        assert events == []


# --- typed reads and the merge -------------------------------------------------------------


async def test_full_read_merges_states_with_the_registry(ha_target):
    async with HAClient(ha_target.url, ha_target.token) as client:
        home = await client.fetch_home()
        states = await client.fetch_states()
        assert {e.entity_id for e in home.entities} == {s.entity_id for s in states}
        state_only = [e for e in home.entities if not e.in_registry]
        assert state_only, "HA always has state-only entities (sun, zones, YAML entities)"
        assert home.areas and home.floors and home.devices and home.services
        devices = {d.id: d for d in home.devices}
        by_entity = {r.entity_id: r for r in home.registry}
        with_device_area = [
            e
            for e in home.entities
            if e.in_registry and not by_entity[e.entity_id].area_id and e.device_id and devices[e.device_id].area_id
        ]
        assert with_device_area, "some entity should inherit its device's area"
        for entity in with_device_area:
            assert entity.area_id == devices[entity.device_id].area_id
        own_area = [e for e in home.entities if e.in_registry and by_entity[e.entity_id].area_id]
        assert own_area, "some entity should have an area of its own"
        for entity in own_area:
            assert entity.area_id == by_entity[entity.entity_id].area_id
        areas = {a.area_id: a for a in home.areas}
        assert all(e.floor_id == areas[e.area_id].floor_id for e in home.entities if e.area_id)
        assert any(e.aliases for e in home.entities), "get_entries aliases must reach entities"
        assert any(e.exposed for e in home.entities) and not all(e.exposed for e in home.entities)
        light_on = next(s for s in home.services if s.key == "light.turn_on")
        assert light_on.has_target and any(f.name == "brightness_pct" for f in light_on.fields)


async def test_rest_fallback_reads_and_acts(ha_target):
    rest = HARest(ha_target.url, ha_target.token)
    try:
        config = await rest.get_config()
        states = await rest.get_states()
        services = await rest.get_services()
        assert config["version"] == ha_target.version
        assert isinstance(services, dict) and "turn_on" in services["light"]
        light = sorted(s["entity_id"] for s in states if s["entity_id"].startswith("light."))[0]
        changed = await rest.call_service("light", "turn_off", {"entity_id": light})
        assert isinstance(changed, list)
        assert (await rest.get_state(light))["state"] == "off"
        with pytest.raises(HACommandError) as info:
            await rest.get_state("light.does_not_exist")
        assert info.value.code == "not_found"
    finally:
        await rest.close()


async def test_client_falls_back_to_rest_when_the_websocket_is_down(ha_target):
    client = HAClient(ha_target.url, ha_target.token)  # never connected: WebSocket down
    try:
        states = await client.fetch_states()
        services = await client.fetch_services()
        assert states and services
        light = sorted(s.entity_id for s in states if s.entity_id.startswith("light."))[0]
        result = await client.call_service("light", "turn_on", target={"entity_id": light})
        assert any(s["entity_id"] == light for s in result["changed_states"])
    finally:
        await client.close()


# --- reconnect ------------------------------------------------------------------------------


async def test_reconnects_resubscribes_and_asks_for_resync(ha_target):
    resyncs = asyncio.Event()
    disconnects: list[Exception] = []

    async def on_reconnect() -> None:
        resyncs.set()

    client = HAClient(
        ha_target.url,
        ha_target.token,
        reconnect_min_delay=0.05,
        reconnect_max_delay=0.5,
        on_reconnect=on_reconnect,
        on_disconnect=disconnects.append,
    )
    await client.connect()
    try:
        light = await _first("light", client)
        events: list[dict] = []
        await client.subscribe_events(events.append, "state_changed")
        await ha_target.drop()
        await asyncio.wait_for(resyncs.wait(), 60)
        assert disconnects and isinstance(disconnects[0], HAConnectionError)
        assert client.connected and client.ws.reconnects == 1
        await client.call_service("light", "toggle", target={"entity_id": light})
        await wait_for(lambda: any(e["data"]["entity_id"] == light for e in events))
    finally:
        await client.close()


# --- faults only the simulator can inject ----------------------------------------------------


async def test_pending_commands_fail_fast_when_the_connection_drops(sim):
    async with HAClient(sim.url, sim.token, reconnect_min_delay=0.05) as client:
        sim.hang_commands.add("get_states")
        pending = asyncio.create_task(client.ws.send_command("get_states"))
        await asyncio.sleep(0.1)
        await sim.drop_connections()
        with pytest.raises(HAConnectionError):
            await asyncio.wait_for(pending, 5)
        sim.hang_commands.clear()


async def test_a_command_that_never_answers_times_out(sim):
    async with HAClient(sim.url, sim.token, request_timeout=0.3) as client:
        sim.hang_commands.add("get_services")
        with pytest.raises(HATimeoutError) as info:
            await client.ws.send_command("get_services")
        assert "get_services" in str(info.value)
        sim.hang_commands.clear()
        await client.ws.send_command("get_config")


async def test_malformed_frame_is_a_protocol_error(sim):
    async with HAClient(sim.url, sim.token, reconnect_min_delay=0.05) as client:
        sim.malformed_next = True
        with pytest.raises((HAProtocolError, HAConnectionError)):
            await asyncio.wait_for(client.ws.send_command("get_config"), 5)
        # It reconnects and carries on.
        await wait_for(lambda: client.connected and client.ws.reconnects >= 1)
        assert (await client.fetch_config()).version == "2025.4.4"


async def test_auth_refused_by_server(sim):
    sim.refuse_auth = True
    try:
        with pytest.raises(HAAuthError):
            await HAWebSocket(sim.url, sim.token, request_timeout=2).connect()
    finally:
        sim.refuse_auth = False


async def test_large_home_states_arrive_in_one_frame(sim_large):
    async with HAClient(sim_large.url, sim_large.token) as client:
        states = await client.fetch_states()
        assert len(states) >= 4500


async def test_ids_strictly_increase_under_concurrency(sim):
    async with HAClient(sim.url, sim.token) as client:
        # The simulator rejects a reused or decreasing id with `id_reuse`, as HA does.
        await asyncio.gather(*(client.ws.ping() for _ in range(200)))
