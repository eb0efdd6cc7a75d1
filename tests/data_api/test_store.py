"""The mirror's database tier, on SQLite and on PostgreSQL (the same tests on both).

PostgreSQL: see `tests/support/databases.py` (skipped when unreachable, failed on CI); the
`backend` fixture is in conftest. Each test writes under its own home_id and deletes it
afterwards, so runs never collide.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, inspect, text

from data_api.ha.models import (
    Area,
    Device,
    Entity,
    Floor,
    HAConfig,
    Label,
    Service,
    ServiceField,
)
from data_api.platform.settings import Settings
from data_api.store import CONFIG_KEY, KINDS, Kind, Store, StoredKind, StoreError
from data_api.store.chain import VERSION_TABLE, include_name
from data_api.store.schema import Base
from tests.support.databases import PG_URL
from tests.support.needs import unavailable

SYNCED_AT = datetime(2025, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)

# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


async def _open_store(backend: str, folder: Path, **options: Any) -> Store:
    """A migrated store on `backend`; PostgreSQL skips (fails on CI) when unreachable."""
    if backend == "sqlite":
        store = Store(f"sqlite+aiosqlite:///{folder / 'mirror.db'}", **options)
        await store.migrate()
        return store
    store = Store(PG_URL, connect_timeout=5, **options)
    try:
        await store.ping()
    except StoreError as exc:
        await store.close()
        unavailable(f"PostgreSQL not reachable at {store.database}: {exc}")
    await store.migrate()
    return store


@pytest.fixture
async def store(backend: str, tmp_path: Path) -> AsyncIterator[Store]:
    store = await _open_store(backend, tmp_path)
    yield store
    await store.close()


@pytest.fixture
async def new_home(store: Store) -> AsyncIterator[Callable[[], str]]:
    """Makes unique home ids, and deletes everything stored under them afterwards."""
    made: list[str] = []

    def make() -> str:
        made.append(f"test-{uuid.uuid4().hex[:12]}")
        return made[-1]

    yield make
    for home_id in made:
        await store.delete_home(home_id)


@pytest.fixture
def home(new_home: Callable[[], str]) -> str:
    return new_home()


@contextmanager
def counting_statements(store: Store) -> Iterator[list[str]]:
    """Every statement the store sends to the database while inside, as SQL text."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", count)


# ---------------------------------------------------------------------------------------------
# A small, realistic home, built by hand
# ---------------------------------------------------------------------------------------------

CONFIG = HAConfig(
    location_name="Maple Street",
    time_zone="Europe/Amsterdam",
    language="en",
    country="NL",
    version="2025.4.4",
    latitude=52.3731,
    longitude=4.8922,
    currency="EUR",
    unit_system={"length": "km", "mass": "g", "temperature": "°C", "volume": "L"},
    state="RUNNING",
)
FLOORS = [
    Floor("ground_floor", "Ground floor", aliases=("downstairs", "beneden"), level=0, icon="mdi:home-floor-0"),
    Floor("first_floor", "First floor", aliases=("upstairs",), level=1),
    Floor("attic", "Attic"),
]
LABELS = [
    Label("energy", "Energy", color="amber", icon="mdi:lightning-bolt", description="Things that use power"),
    Label("night", "Night mode", color="indigo"),
    Label("security", "Security"),
]
AREAS = [
    Area("kitchen", "Kitchen", aliases=("cooking",), floor_id="ground_floor", labels=("energy",), icon="mdi:stove"),
    Area("living_room", "Living room", aliases=("lounge", "sitting room"), floor_id="ground_floor"),
    Area("bedroom", "Bedroom", floor_id="first_floor", labels=("night", "security")),
    Area("garden", "Garden"),
]
DEVICES = [
    Device("d0a1", "Hue bridge", manufacturer="Signify", model="BSB002"),
    Device("d0a2", "Kitchen ceiling", area_id="kitchen", manufacturer="Signify", model="LCT015", via_device_id="d0a1"),
    Device("d0a3", "Bedroom sensor", area_id="bedroom", manufacturer="Aqara", model="WSDCGQ11LM", labels=("night",)),
    Device("d0a4", "Old plug", manufacturer="TP-Link", disabled=True, labels=("energy", "security")),
]


def entity(entity_id: str, **changes: Any) -> Entity:
    domain, _, object_id = entity_id.partition(".")
    base = Entity(
        entity_id=entity_id,
        domain=domain,
        name=object_id.replace("_", " ").title(),
        state="on",
        attributes={"friendly_name": object_id.replace("_", " ").title()},
        last_changed="2025-05-01T10:00:00.000000+00:00",
        last_updated="2025-05-01T10:00:00.000000+00:00",
    )
    return replace(base, **changes)


ENTITIES = [
    entity(
        "light.kitchen_ceiling",
        attributes={
            "friendly_name": "Kitchen ceiling",
            "supported_color_modes": ["color_temp", "hs"],
            "brightness": 180,
            "hs_color": [30.0, 64.5],
            "min_color_temp_kelvin": 2202,
            "effect": None,
        },
        aliases=("ceiling light", "main light"),
        area_id="kitchen",
        floor_id="ground_floor",
        device_id="d0a2",
        labels=("energy",),
        platform="hue",
        exposed=True,
        in_registry=True,
    ),
    entity(
        "sensor.bedroom_temperature",
        name="Bedroom temperature",
        state="19.5",
        attributes={"unit_of_measurement": "°C", "device_class": "temperature", "state_class": "measurement"},
        area_id="bedroom",
        floor_id="first_floor",
        device_id="d0a3",
        labels=("night", "security"),
        platform="xiaomi_aqara",
        device_class="temperature",
        exposed=True,
        in_registry=True,
    ),
    entity(
        "sensor.bedroom_battery",
        state="87",
        area_id="bedroom",
        floor_id="first_floor",
        device_id="d0a3",
        platform="xiaomi_aqara",
        device_class="battery",
        entity_category="diagnostic",
        in_registry=True,
    ),
    entity("switch.old_plug", state="off", device_id="d0a4", labels=("energy",), hidden=True, in_registry=True),
    entity("sun.sun", state="above_horizon", attributes={"elevation": 41.2, "rising": False}, last_changed=None),
    # Keys whose order differs between byte order and locale collations ('1' < '_' < 'b').
    entity("light.a_b", area_id="living_room", floor_id="ground_floor", exposed=True, in_registry=True),
    entity("light.ab", area_id="living_room", floor_id="ground_floor", labels=("night",), in_registry=True),
    entity("light.a1", area_id="garden", exposed=True, in_registry=True),
]
SERVICES = [
    Service(
        domain="light",
        service="turn_on",
        name="Turn on",
        description="Turns on one or more lights and adjusts their properties.",
        fields=(
            ServiceField("transition", selector={"number": {"min": 0, "max": 300, "unit_of_measurement": "seconds"}}),
            ServiceField("brightness_pct", selector={"number": {"min": 0, "max": 100}}, example=47),
            ServiceField("rgb_color", selector={"color_rgb": {}}, example="[255, 100, 100]", description="Colour"),
        ),
        has_target=True,
        response=None,
    ),
    Service("weather", "get_forecasts", "Get forecasts", None, (ServiceField("type", required=True),), True, "only"),
    Service("script", "reload", None, None, (), False, None),
    Service("todo", "get_items", "Get items", "Gets items.", (), True, "optional"),
]
HOME: dict[Kind, list[Any]] = {
    "config": [CONFIG],
    "floors": FLOORS,
    "areas": AREAS,
    "labels": LABELS,
    "devices": DEVICES,
    "entities": ENTITIES,
    "services": SERVICES,
}


def by_key(kind: Kind, items: list[Any]) -> list[Any]:
    return list(items) if kind == "config" else sorted(items, key=lambda item: item.key)


def ids(entities: list[Entity]) -> list[str]:
    return [e.entity_id for e in entities]


def many_entities(count: int) -> list[Entity]:
    return [
        entity(
            f"light.lamp_{i:05d}",
            area_id=f"area_{i % 7}",
            floor_id=f"floor_{i % 2}",
            device_id=f"device_{i // 3}",
            labels=("energy", "night") if i % 3 == 0 else (),
            exposed=i % 2 == 0,
        )
        for i in range(count)
    ]


async def store_home(store: Store, home_id: str) -> None:
    for version, (kind, items) in enumerate(HOME.items(), start=1):
        await store.replace_kind(home_id, kind, items, version, SYNCED_AT)


# ---------------------------------------------------------------------------------------------
# Schema and migrations
# ---------------------------------------------------------------------------------------------

EXPECTED_INDEXES = {
    "mirror_entities": {
        ("home_id", "domain", "entity_id"),
        ("home_id", "area_id", "entity_id"),
        ("home_id", "floor_id", "entity_id"),
        ("home_id", "device_id", "entity_id"),
    },
    "mirror_item_labels": {("home_id", "kind", "label_id", "item_id")},
    "mirror_services": {("home_id", "domain")},
    "mirror_devices": {("home_id", "area_id")},
    "mirror_areas": {("home_id", "floor_id")},
}


async def test_migrate_is_idempotent_and_creates_tables_and_indexes(store: Store) -> None:
    await store.migrate()
    await store.migrate()

    def inspect_schema(conn: Any) -> tuple[set[str], dict[str, set[tuple[str, ...]]], dict[str, list[str]], str]:
        inspector = inspect(conn)
        tables = set(inspector.get_table_names())
        indexes = {
            table: {tuple(ix["column_names"]) for ix in inspector.get_indexes(table)} for table in EXPECTED_INDEXES
        }
        keys = {
            table: inspector.get_pk_constraint(table)["constrained_columns"]
            for table in tables
            if table.startswith("mirror_")
        }
        version = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one()
        return tables, indexes, keys, version

    async with store.engine.connect() as conn:
        tables, indexes, keys, version = await conn.run_sync(inspect_schema)
    assert {f"mirror_{kind}" for kind in KINDS} | {"mirror_item_labels", "mirror_sync_state", VERSION_TABLE} <= tables
    assert indexes == EXPECTED_INDEXES
    assert all(columns[0] == "home_id" for columns in keys.values()), keys  # every row is a home's
    assert version == "0001_mirror"


async def test_concurrent_migrations_do_not_collide(store: Store, tmp_path: Path) -> None:
    """Services starting together: in one process (Alembic's globals) and against one database."""
    # SQLite: a fresh file, so every migration really runs concurrently.
    url = PG_URL if store.dialect == "postgresql" else f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    stores = [Store(url) for _ in range(3)]
    try:
        await asyncio.wait_for(asyncio.gather(*(other.migrate() for other in stores)), 60)
        assert await stores[-1].load_sync_state("nobody") == {}
    finally:
        for other in stores:
            await other.close()


async def test_migration_matches_the_models(store: Store) -> None:
    """The hand-written migration creates exactly the schema the models describe."""

    def differences(conn: Any) -> Any:
        context = MigrationContext.configure(conn, opts={"include_name": include_name, "compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with store.engine.connect() as conn:
        assert await conn.run_sync(differences) == []


def test_migrations_ship_with_the_package() -> None:
    from importlib.resources import files

    migrations = files("data_api.store") / "migrations"
    assert (migrations / "env.py").is_file()
    assert (migrations / "versions" / "0001_mirror.py").is_file()


# ---------------------------------------------------------------------------------------------
# Round trips, replacement, isolation
# ---------------------------------------------------------------------------------------------


async def test_replace_then_load_gives_back_every_kind_exactly(store: Store, home: str) -> None:
    await store_home(store, home)
    for version, (kind, items) in enumerate(HOME.items(), start=1):
        stored = await store.load_kind(home, kind)
        assert stored == StoredKind(by_key(kind, items), version, SYNCED_AT), kind
        assert all(type(a) is type(b) for a, b in zip(stored.items, by_key(kind, items), strict=True))


async def test_keys_come_back_in_byte_order_on_every_database(store: Store, home: str) -> None:
    await store.replace_kind(home, "entities", ENTITIES, 1, SYNCED_AT)
    ids = [e.entity_id for e in (await store.load_kind(home, "entities")).items]
    assert ids == sorted(ids)
    assert ids.index("light.a1") < ids.index("light.a_b") < ids.index("light.ab")


async def test_never_stored_kind_loads_empty(store: Store, home: str) -> None:
    assert await store.load_kind(home, "entities") == StoredKind([], 0, None)
    assert await store.load_sync_state(home) == {}


async def test_replace_removes_items_no_longer_present(store: Store, home: str) -> None:
    await store_home(store, home)
    kept = [e for e in ENTITIES if e.entity_id != "light.kitchen_ceiling"]
    await store.replace_kind(home, "entities", kept, 10, SYNCED_AT)
    await store.replace_kind(home, "areas", AREAS[:1], 11, SYNCED_AT)

    assert (await store.load_kind(home, "entities")).items == by_key("entities", kept)
    assert (await store.load_kind(home, "areas")).items == AREAS[:1]
    # Its labels went with it.
    assert [e.entity_id for e in await store.query_entities(home, label="energy")] == ["switch.old_plug"]

    await store.replace_kind(home, "entities", [], 12, SYNCED_AT)
    await store.replace_kind(home, "config", [], 13, SYNCED_AT)
    assert (await store.load_kind(home, "entities")).items == []
    assert (await store.load_kind(home, "config")).items == []
    assert await store.query_entities(home, label="night") == []
    state = await store.load_sync_state(home)
    assert state["entities"] == (12, SYNCED_AT, 0)
    assert state["config"].item_count == 0


async def test_replace_with_changed_items_updates_them_and_their_labels(store: Store, home: str) -> None:
    await store.replace_kind(home, "entities", ENTITIES, 1, SYNCED_AT)
    changed = [replace(e, state="off", labels=("night",)) if e.domain == "light" else e for e in ENTITIES]
    await store.replace_kind(home, "entities", changed, 2, SYNCED_AT)
    assert (await store.load_kind(home, "entities")).items == by_key("entities", changed)
    night = await store.query_entities(home, label="night")
    assert ids(night) == ["light.a1", "light.a_b", "light.ab", "light.kitchen_ceiling", "sensor.bedroom_temperature"]


async def test_two_homes_do_not_see_each_other(store: Store, new_home: Callable[[], str]) -> None:
    first, second = new_home(), new_home()
    await store_home(store, first)
    other_entities = [entity("light.kitchen_ceiling", state="off", area_id="kitchen"), entity("fan.attic")]
    await store.replace_kind(second, "entities", other_entities, 7, SYNCED_AT)

    assert (await store.load_kind(second, "entities")).items == by_key("entities", other_entities)
    assert (await store.load_kind(first, "entities")).items == by_key("entities", ENTITIES)
    assert (await store.load_kind(second, "areas")).items == []
    assert [e.state for e in await store.query_entities(second, area="kitchen")] == ["off"]
    assert await store.query_entities(second, label="energy") == []

    # Replacing one home's kind leaves the other's alone, and so does deleting a home.
    await store.replace_kind(second, "entities", [], 8, SYNCED_AT)
    assert len((await store.load_kind(first, "entities")).items) == len(ENTITIES)
    await store.delete_home(first)
    assert (await store.load_kind(first, "devices")).items == []
    assert await store.load_sync_state(first) == {}


async def test_config_is_one_row_per_home(store: Store, home: str) -> None:
    await store.replace_kind(home, "config", [CONFIG], 1, SYNCED_AT)
    renamed = replace(CONFIG, location_name="Oak Lane", unit_system={"length": "mi"})
    await store.upsert_items(home, "config", [renamed], 2)
    assert (await store.load_kind(home, "config")).items == [renamed]
    await store.delete_items(home, "config", [CONFIG_KEY], 3)
    assert await store.load_kind(home, "config") == StoredKind([], 3, SYNCED_AT)


# ---------------------------------------------------------------------------------------------
# Event writes and sync state
# ---------------------------------------------------------------------------------------------


async def test_upsert_and_delete_items(store: Store, home: str) -> None:
    await store.replace_kind(home, "entities", ENTITIES, 1, SYNCED_AT)
    turned_off = replace(ENTITIES[0], state="off", labels=("night",))
    added = entity("cover.garage_door", state="closed", labels=("security",))
    await store.upsert_items(home, "entities", [turned_off, added], 2)

    stored = await store.load_kind(home, "entities")
    assert stored.version == 2 and stored.synced_at == SYNCED_AT  # events do not count as a full sync
    assert turned_off in stored.items and added in stored.items and ENTITIES[0] not in stored.items
    assert "light.kitchen_ceiling" not in [e.entity_id for e in await store.query_entities(home, label="energy")]
    assert "light.kitchen_ceiling" in [e.entity_id for e in await store.query_entities(home, label="night")]

    await store.delete_items(home, "entities", ["cover.garage_door", "sun.sun", "light.never_existed"], 3)
    ids = [e.entity_id for e in (await store.load_kind(home, "entities")).items]
    assert "cover.garage_door" not in ids and "sun.sun" not in ids
    assert await store.query_entities(home, label="security") == [ENTITIES[1]]
    assert (await store.load_sync_state(home))["entities"] == (3, SYNCED_AT, len(ENTITIES) - 1)


async def test_upsert_before_any_full_sync_has_no_synced_at(store: Store, home: str) -> None:
    await store.upsert_items(home, "devices", DEVICES[:2], 5)
    assert await store.load_kind(home, "devices") == StoredKind(by_key("devices", DEVICES[:2]), 5, None)


async def test_version_and_synced_at_are_persisted(store: Store, home: str, backend: str, tmp_path: Path) -> None:
    later = SYNCED_AT + timedelta(hours=3)
    in_another_zone = later.astimezone(timezone(timedelta(hours=-5)))
    await store.replace_kind(home, "labels", LABELS, 2**40, in_another_zone)
    await store.replace_kind(home, "floors", FLOORS, 3, SYNCED_AT)
    await store.close()

    reopened = await _open_store(backend, tmp_path)  # a restart: nothing cached in the process
    try:
        state = await reopened.load_sync_state(home)
        assert state == {"labels": (2**40, later, len(LABELS)), "floors": (3, SYNCED_AT, len(FLOORS))}
        assert state["labels"].synced_at is not None and state["labels"].synced_at.tzinfo == UTC
        labels = await reopened.load_kind(home, "labels")
        assert (labels.version, labels.synced_at) == (2**40, later)
    finally:
        await reopened.close()


async def test_naive_synced_at_is_refused(store: Store, home: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.replace_kind(home, "labels", LABELS, 1, datetime(2025, 5, 1))


async def test_wrong_kind_or_item_type_is_refused(store: Store, home: str) -> None:
    with pytest.raises(ValueError, match="unknown kind 'scenes'"):
        await store.load_kind(home, "scenes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="areas takes Area items, not Floor"):
        await store.replace_kind(home, "areas", FLOORS, 1, SYNCED_AT)


# ---------------------------------------------------------------------------------------------
# Entity queries
# ---------------------------------------------------------------------------------------------


async def test_query_entities_filters(store: Store, home: str) -> None:
    await store_home(store, home)
    query = store.query_entities
    assert ids(await query(home, area="bedroom")) == ["sensor.bedroom_battery", "sensor.bedroom_temperature"]
    assert ids(await query(home, floor="ground_floor")) == [
        "light.a_b",
        "light.ab",
        "light.kitchen_ceiling",
    ]
    assert ids(await query(home, domain="light")) == ["light.a1", "light.a_b", "light.ab", "light.kitchen_ceiling"]
    assert ids(await query(home, device_id="d0a3")) == ["sensor.bedroom_battery", "sensor.bedroom_temperature"]
    assert ids(await query(home, label="energy")) == ["light.kitchen_ceiling", "switch.old_plug"]
    assert ids(await query(home, exposed=True)) == [
        "light.a1",
        "light.a_b",
        "light.kitchen_ceiling",
        "sensor.bedroom_temperature",
    ]
    assert len(await query(home, exposed=False)) == len(ENTITIES) - 4
    assert ids(await query(home, floor="ground_floor", label="night", domain="light")) == ["light.ab"]
    assert ids(await query(home, area="bedroom", exposed=True)) == ["sensor.bedroom_temperature"]
    assert await query(home, area="no_such_area") == []
    # Whole entities come back, not just ids.
    assert await query(home, device_id="d0a2") == [ENTITIES[0]]
    assert ids(await query(home)) == sorted(ids(ENTITIES))


async def test_query_entities_pagination_walks_every_entity_once(store: Store, home: str) -> None:
    entities = many_entities(45)
    await store.replace_kind(home, "entities", entities, 1, SYNCED_AT)
    pages: list[list[str]] = []
    after: str | None = None
    while page := ids(await store.query_entities(home, limit=10, after=after)):
        pages.append(page)
        after = page[-1]
    assert [len(p) for p in pages] == [10, 10, 10, 10, 5]
    assert [i for p in pages for i in p] == ids(entities)

    labelled = [e.entity_id for e in entities if "night" in e.labels]
    first = ids(await store.query_entities(home, label="night", limit=4))
    rest = ids(await store.query_entities(home, label="night", after=first[-1]))
    assert first + rest == labelled


# ---------------------------------------------------------------------------------------------
# Statement counts: a kind of N items costs the same statements for any N
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["replace_kind", "upsert_items", "load_kind", "query_entities"])
async def test_statement_count_does_not_grow_with_items(
    store: Store, new_home: Callable[[], str], operation: str
) -> None:
    counts = []
    for size in (10, 1000):
        home_id = new_home()
        entities = many_entities(size)
        await store.replace_kind(home_id, "entities", entities, 1, SYNCED_AT)
        changed = [replace(e, state="off") for e in entities]
        with counting_statements(store) as statements:
            if operation == "replace_kind":
                await store.replace_kind(home_id, "entities", changed[: size // 2], 2, SYNCED_AT)
            elif operation == "upsert_items":
                await store.upsert_items(home_id, "entities", changed, 2)
            elif operation == "load_kind":
                assert len((await store.load_kind(home_id, "entities")).items) == size
            else:
                assert len(await store.query_entities(home_id, label="night")) == len(entities[::3])
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 6, counts


# ---------------------------------------------------------------------------------------------
# Errors: locked, unreachable
# ---------------------------------------------------------------------------------------------


async def test_locked_database_raises_store_error_not_a_hang(backend: str, tmp_path: Path, home: str) -> None:
    store = await _open_store(backend, tmp_path, busy_timeout=0.3)
    await store.replace_kind(home, "labels", LABELS, 1, SYNCED_AT)
    release = await _hold_write_lock(store, tmp_path)
    try:
        started = time.monotonic()
        with pytest.raises(StoreError) as info:
            await asyncio.wait_for(store.replace_kind(home, "labels", LABELS[:1], 2, SYNCED_AT), 10)
        assert time.monotonic() - started < 5
        assert info.value.reason == "busy"
        assert "is busy" in str(info.value) and "replacing labels" in str(info.value)
        if backend == "sqlite":  # WAL: readers never wait for the writer
            assert (await store.load_kind(home, "labels")).items == by_key("labels", LABELS)
    finally:
        await release()
    await store.replace_kind(home, "labels", LABELS[:1], 2, SYNCED_AT)  # works again
    assert (await store.load_kind(home, "labels")).items == LABELS[:1]
    await store.close()


async def _hold_write_lock(store: Store, folder: Path) -> Callable[[], Any]:
    """Another connection, outside the store, holding the write lock; returns its release."""
    if store.dialect == "sqlite":
        blocker = sqlite3.connect(folder / "mirror.db", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")

        async def release_sqlite() -> None:
            blocker.execute("ROLLBACK")
            blocker.close()

        return release_sqlite
    other = Store(PG_URL)
    conn = await other.engine.connect()
    await conn.execute(text("LOCK TABLE mirror_labels IN EXCLUSIVE MODE"))

    async def release_postgres() -> None:
        await conn.rollback()
        await conn.close()
        await other.close()

    return release_postgres


async def test_unreachable_postgres_raises_store_error_without_the_password() -> None:
    store = Store("postgresql+asyncpg://mirror:hunter2-secret@127.0.0.1:1/mirror", connect_timeout=2)
    with pytest.raises(StoreError) as info:
        await asyncio.wait_for(store.load_kind("h", "entities"), 10)
    await store.close()
    message = str(info.value)
    assert info.value.reason == "unreachable"
    assert "hunter2-secret" not in message and "mirror:***@127.0.0.1:1" in message
    assert "reading entities" in message


async def test_sqlite_folder_that_cannot_be_made_raises_store_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'a-file' / 'mirror.db'}")
    with pytest.raises(StoreError, match="is unreachable"):
        await store.migrate()
    await store.close()


# ---------------------------------------------------------------------------------------------
# Engine set-up
# ---------------------------------------------------------------------------------------------


async def test_sqlite_is_wal_with_busy_timeout_in_a_new_folder(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "there.db"
    store = Store(f"sqlite+aiosqlite:///{path}", busy_timeout=1.5)
    await store.migrate()
    async with store.engine.connect() as conn:
        pragmas = [
            (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "synchronous", "busy_timeout")
        ]
    await store.close()
    assert path.is_file()
    assert pragmas == ["wal", 1, 1500]  # synchronous 1 = NORMAL


async def test_in_memory_sqlite_keeps_its_data() -> None:
    store = Store("sqlite+aiosqlite://")
    await store.migrate()
    await store.replace_kind("solo", "floors", FLOORS, 1, SYNCED_AT)
    assert len((await store.load_kind("solo", "floors")).items) == len(FLOORS)
    await store.close()


def test_from_settings_applies_the_pool_settings() -> None:
    settings = Settings(  # type: ignore[call-arg]  # pydantic fills the defaults
        database_url="postgresql://mirror:pw@db.example/ha",
        db_pool_size=3,
        db_max_overflow=4,
        db_pool_timeout=7.5,
        db_pool_recycle=600,
        db_pool_pre_ping=False,
    )
    store = Store.from_settings(settings.db)
    pool: Any = store.engine.pool
    assert (pool.size(), pool._max_overflow, pool.timeout()) == (3, 4, 7.5)
    assert (pool._recycle, pool._pre_ping) == (600, False)
    assert store.database == "postgresql+asyncpg://mirror:***@db.example/ha"
    assert "pw" not in repr(store)


async def test_ping_measures_a_round_trip(store: Store) -> None:
    seconds = await store.ping()
    assert 0 < seconds < 5
