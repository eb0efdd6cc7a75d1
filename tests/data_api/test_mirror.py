"""The mirror against the simulated HA: full sync, events, reconnect, HA down, tiers, versions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from data_api.mirror import Collection, Mirror, MirrorReader, Query, Tier
from tests.support.mirroring import Env, simulated_env, wait_for


@pytest.fixture
async def env(tmp_path) -> AsyncIterator[Env]:
    async with simulated_env(tmp_path) as env:
        yield env


# --- full sync ------------------------------------------------------------------------------


async def test_full_sync_equals_the_simulated_home(env):
    home = env.sim.home
    entities = await env.items("entities")
    assert set(entities) == set(home.states)
    for entity_id, entity in entities.items():
        entry = home.entities.get(entity_id)
        assert entity.state == home.states[entity_id]["state"]
        assert entity.area_id == home.effective_area(entity_id), entity_id
        assert entity.exposed == home.is_exposed(entity_id), entity_id
        assert entity.in_registry == (entry is not None)
        assert set(entity.aliases) == set((entry or {}).get("aliases") or ())
    assert set(await env.items("areas")) == set(home.areas)
    assert set(await env.items("floors")) == set(home.floors)
    assert set(await env.items("labels")) == set(home.labels)
    devices = await env.items("devices")
    assert set(devices) == set(home.devices)
    assert all(d.name == (home.devices[k]["name_by_user"] or home.devices[k]["name"]) for k, d in devices.items())
    services = await env.items("services")
    assert set(services) == {f"{d}.{s}" for d, ss in home.services().items() for s in ss}
    helpers = await env.items("helpers")
    assert {e.split(".")[0] for e in helpers} == {
        "input_boolean",
        "input_number",
        "input_select",
        "input_text",
        "input_datetime",
        "input_button",
        "counter",
        "timer",
        "schedule",
    }
    assert set(await env.items("scenes")) == {e for e in home.states if e.startswith("scene.")}
    scripts = await env.items("scripts")
    assert set(scripts) == {e for e in home.states if e.startswith("script.")}
    for entity_id, script in scripts.items():
        expected = set((home.scripts.get(entity_id) or {}).get("fields") or ())
        assert {f.name for f in script.fields} == expected, entity_id
    config = await env.reader.config()
    assert config.items["config"].location_name == home.config["location_name"]


async def test_every_listing_says_how_fresh_it_is(env):
    listing = await env.reader.list("entities", Query(limit=5))
    assert listing.stale is False and listing.fetched_at is not None
    assert listing.total == len(env.sim.home.states) and len(listing.items) == 5


# --- events ------------------------------------------------------------------------------


async def test_state_change_reaches_the_mirror(env):
    light = sorted(e for e in env.sim.home.states if e.startswith("light."))[0]
    client = await env.ha()
    try:
        before = (await env.reader.kind_data("entities")).version
        await client.call_service("light", "turn_off", target={"entity_id": light})
        await client.call_service("light", "turn_on", {"brightness_pct": 30}, target={"entity_id": light})

        async def state():
            return (await env.reader.entity(light))[0]

        await wait_for(lambda: env.mirror.tiers["entities"].peek().items[light].state == "on", what="light on")
        entity = await state()
        assert entity.attributes.get("brightness") == round(30 * 255 / 100)
        assert (await env.reader.kind_data("entities")).version > before
    finally:
        await client.close()


async def test_area_rename_and_floor_and_label_creation(env):
    area_id = sorted(env.sim.home.areas)[0]
    client = await env.ha()
    try:
        await client.ws.send_command(
            "config/area_registry/update", area_id=area_id, name="Renamed Room", aliases=["den"]
        )
        await client.ws.send_command("config/floor_registry/create", name="Attic", level=3)
        await client.ws.send_command("config/label_registry/create", name="Holiday")
        await wait_for(lambda: env.mirror.tiers["areas"].peek().items[area_id].name == "Renamed Room", what="rename")
        await wait_for(lambda: "attic" in env.mirror.tiers["floors"].peek().items, what="floor")
        await wait_for(lambda: "holiday" in env.mirror.tiers["labels"].peek().items, what="label")
        # The new name and alias resolve as filters at once.
        by_name = await env.reader.list("entities", Query(area="renamed room", limit=1000))
        by_alias = await env.reader.list("entities", Query(area="DEN", limit=1000))
        assert by_name.items and [e.entity_id for e in by_name.items] == [e.entity_id for e in by_alias.items]
    finally:
        await client.close()


async def test_device_moved_to_another_area_moves_its_entities(env):
    home = env.sim.home
    entities = await env.items("entities")
    device_id = next(
        e.device_id for e in entities.values() if e.device_id and not home.entities[e.entity_id].get("area_id")
    )
    target = next(a for a in sorted(home.areas) if a != home.devices[device_id]["area_id"])
    client = await env.ha()
    try:
        await client.ws.send_command("config/device_registry/update", device_id=device_id, area_id=target)
        members = [
            e.entity_id
            for e in entities.values()
            if e.device_id == device_id and not home.entities[e.entity_id].get("area_id")
        ]

        def moved() -> bool:
            items = env.mirror.tiers["entities"].peek().items
            return all(items[m].area_id == target for m in members)

        await wait_for(moved, what="entities follow their device")
        assert env.mirror.tiers["devices"].peek().items[device_id].area_id == target
    finally:
        await client.close()


async def test_entity_registry_update_rename_and_remove(env):
    home = env.sim.home
    registry_lights = sorted(e for e in home.entities if e.startswith("light.") and e in home.states)
    named, renamed, removed = registry_lights[:3]
    client = await env.ha()
    try:
        await client.ws.send_command(
            "config/entity_registry/update", entity_id=named, name="Reading lamp", aliases=["book light"]
        )
        await client.ws.send_command(
            "config/entity_registry/update", entity_id=renamed, new_entity_id="light.brand_new_id"
        )
        await client.ws.send_command("config/entity_registry/remove", entity_id=removed)

        def applied() -> bool:
            items = env.mirror.tiers["entities"].peek().items
            return (
                items.get(named) is not None
                and items[named].name == "Reading lamp"
                and "book light" in items[named].aliases
                and renamed not in items
                and "light.brand_new_id" in items
                and removed not in items
            )

        await wait_for(applied, what="registry changes")
        found = await env.reader.list("entities", Query(q="BOOK LIGHT"))
        assert [e.entity_id for e in found.items] == [named]
    finally:
        await client.close()


# --- reconnect, HA down, restart ---------------------------------------------------------------


async def test_reconnect_resync_removes_what_ha_no_longer_has(env):
    home = env.sim.home
    gone_entity = sorted(e for e in home.entities if e.startswith("switch.") and e in home.states)[0]
    client = await env.ha()
    gone_area = (await client.ws.send_command("config/area_registry/create", name="Sunroom"))["area_id"]
    await client.close()
    await wait_for(lambda: gone_area in env.mirror.tiers["areas"].peek().items, what="new area")
    await env.sim.stop()
    await wait_for(lambda: env.mirror.stale, what="stale while down")
    home.remove_entity(gone_entity)  # while nobody listens: the mirror misses these events
    home.delete_area(gone_area)
    await env.sim.start()
    await wait_for(
        lambda: not env.mirror.stale and gone_entity not in env.mirror.tiers["entities"].peek().items, 20, "resync"
    )
    assert gone_area not in (await env.items("areas"))
    stored = await env.store.load_kind(env.mirror.home_id, "entities")
    assert gone_entity not in {e.entity_id for e in stored.items}


async def test_serves_stale_data_while_ha_is_down_then_recovers(env):
    synced_at = env.mirror.last_sync
    await env.sim.stop()
    await wait_for(lambda: env.mirror.stale, what="stale")
    listing = await env.reader.list("entities", Query(domain="light"))
    assert listing.items and listing.stale is True
    assert listing.fetched_at == synced_at
    await env.sim.start()
    await wait_for(lambda: not env.mirror.stale, 20, "recovery")
    listing = await env.reader.list("entities", Query(domain="light"))
    assert listing.stale is False and listing.fetched_at > synced_at


async def test_restart_with_ha_unreachable_serves_the_database(env):
    expected = await env.items("entities")
    await env.mirror.stop()
    await env.sim.stop()
    mirror = await env.new_mirror()
    await mirror.start()  # HA is down: returns at once, serving the stored copy
    try:
        reader = MirrorReader(mirror)
        listing = await reader.list("entities", Query(limit=1000))
        assert listing.stale is True
        assert {e.entity_id: e for e in listing.items} == expected
        await env.sim.start()
        await wait_for(lambda: not mirror.stale, 20, "sync after HA returns")
    finally:
        await mirror.stop()


# --- tiers ---------------------------------------------------------------------------------


async def test_concurrent_cold_reads_cause_one_refill(env):
    await env.mirror.stop()
    mirror = await env.new_mirror()  # a new process: empty memory, full database
    await mirror.store.migrate()
    reader = MirrorReader(mirror)
    try:
        listings = await asyncio.gather(*(reader.list("entities", Query(domain="light")) for _ in range(100)))
        assert len({tuple(e.entity_id for e in listing.items) for listing in listings}) == 1
        stats = mirror.tiers["entities"].stats
        assert stats.refills == 1
        assert stats.misses + stats.hits >= 100
    finally:
        await mirror.stop()


async def test_ttl_expiry_refills_from_the_database_and_resyncs(tmp_path):
    async with simulated_env(tmp_path, cache_ttl_areas=0.3) as env:
        mirror, reader, sim = env.mirror, env.reader, env.sim
        area_id = sorted(sim.home.areas)[0]
        # A change whose event the mirror never sees (as if it were lost).
        sim.home.areas[area_id]["name"] = "Quietly renamed"
        await asyncio.sleep(0.4)
        listing = await reader.list("areas", Query())  # expired: refill + background resync
        assert mirror.tiers["areas"].stats.refills >= 1
        assert any(a.area_id == area_id for a in listing.items)
        await wait_for(lambda: mirror.tiers["areas"].last.items[area_id].name == "Quietly renamed", what="resync")


async def test_an_expired_copy_is_served_while_the_refill_runs():
    """A reader never waits for the database when the tier already held a copy; the one
    refill replaces it when done, and only a cold tier makes readers wait."""
    release = asyncio.Event()
    loads = 0

    async def slow_database() -> Collection:
        nonlocal loads
        loads += 1
        await release.wait()
        return Collection("areas", {"kitchen": f"copy {loads}"}, version=loads)

    expired: list[str] = []
    tier = Tier("areas", 0.05, slow_database, on_expired=expired.append)
    cold = asyncio.ensure_future(tier.get())
    await asyncio.sleep(0.01)
    assert not cold.done()  # nothing to serve yet: the first reader waits
    release.set()
    assert (await cold).items == {"kitchen": "copy 1"}
    release.clear()
    await asyncio.sleep(0.1)  # the TTL runs out
    served = await asyncio.wait_for(asyncio.gather(*(tier.get() for _ in range(10))), 1)
    assert {data.version for data in served} == {1}  # the last copy, at once
    assert tier.stats.refills == 2  # one refill for the ten readers
    release.set()
    await wait_for(lambda: tier.last.version == 2, what="background refill")
    assert expired == ["areas"]  # and the owner told, to resync from Home Assistant


async def test_a_failing_refill_keeps_the_last_copy_and_still_asks_for_a_resync(caplog):
    calls = 0

    async def database() -> Collection:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise OSError("database is locked")
        return Collection("areas", {"kitchen": "copy"}, version=1)

    expired: list[str] = []
    tier = Tier("areas", 0.05, database, on_expired=expired.append)
    await tier.get()
    await asyncio.sleep(0.1)  # expired
    assert (await tier.get()).version == 1  # the last copy, not the error
    await wait_for(lambda: tier.stats.refill_errors == 1, what="the failed refill counted")
    assert expired == ["areas"]  # Home Assistant can still refresh it
    assert "refilling from the database failed (database is locked)" in caplog.text
    await tier.close()


async def test_a_serving_mirror_freezes_its_copy_for_the_gc_and_lets_it_go_when_stopped(env):
    """Only a mirror that owns its process freezes the heap (reads' p99 pauses were the cyclic
    GC's full collections); stopping unfreezes, or everything it held would never be freed."""
    import gc
    import weakref

    assert gc.get_freeze_count() == 0  # the test's own mirror does not own the process
    await env.mirror.stop()
    serving = Mirror(env.settings, env.store, owns_process=True)
    await serving.start(wait=True)
    try:
        assert gc.get_freeze_count() > 0
        copy = weakref.ref(serving.tiers["entities"].last)
    finally:
        await serving.stop()
    assert gc.get_freeze_count() == 0
    del serving
    gc.collect()
    assert copy() is None  # freed: nothing kept it past the stop


async def test_versions_change_exactly_when_data_changes(env):
    versions = {kind: env.mirror.tiers[kind].last.version for kind in env.mirror.tiers}
    await env.mirror.full_sync()  # nothing changed in HA
    assert {kind: env.mirror.tiers[kind].last.version for kind in env.mirror.tiers} == versions
    light = sorted(e for e in env.sim.home.states if e.startswith("light."))[0]
    client = await env.ha()
    try:
        await client.call_service("light", "toggle", target={"entity_id": light})
        await wait_for(lambda: env.mirror.tiers["entities"].last.version > versions["entities"], what="bump")
        after = {kind: env.mirror.tiers[kind].last.version for kind in env.mirror.tiers}
        assert after["entities"] == versions["entities"] + 1
        assert {k: v for k, v in after.items() if k != "entities"} == {
            k: v for k, v in versions.items() if k != "entities"
        }
    finally:
        await client.close()


async def test_large_home_syncs_completely(tmp_path):
    async with simulated_env(tmp_path, "large") as env:
        listing = await env.reader.list("entities", Query(limit=1))
        assert listing.total == len(env.sim.home.states) >= 4500
        stored = await env.store.load_kind(env.settings.home_id, "entities")
        assert len(stored.items) == listing.total
