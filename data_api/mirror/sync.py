"""The mirror: keeps a local copy of one Home Assistant home fresh, in memory and in the database.

Life of the data:
- start: the database copy is served at once (flagged stale), while the client connects;
- full sync (at start and after every reconnect): everything is read in parallel and each kind
  replaced whole, which also removes what HA no longer has;
- events: state changes update one entity; registry events re-read the kind they name;
- TTL expiry of a kind's memory copy: refilled from the database, and the kind resynced from HA;
- HA down: the last data keeps being served with `stale: true`; the client reconnects by itself.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from data_api.ha import (
    Area,
    Device,
    Entity,
    HAClient,
    HAError,
    RegistryEntry,
    State,
    build_entity,
    merge_entities,
)

from .collection import Collection
from .tier import Tier
from .write_behind import WriteBehind

if TYPE_CHECKING:
    from data_api.platform.settings import Settings
    from data_api.store import Store

_LOGGER = logging.getLogger(__name__)

# Kinds the mirror stores (the database has a table for each).
KINDS = ("config", "floors", "areas", "labels", "devices", "entities", "services")
_REGISTRY_EVENTS = {
    "floor_registry_updated": "floors",
    "area_registry_updated": "areas",
    "label_registry_updated": "labels",
    "device_registry_updated": "devices",
}
_SERVICE_EVENT_DEBOUNCE = 0.25  # integrations register services in bursts at HA start
_EXPOSURE_REFRESH_DEBOUNCE = 0.05  # new entities come in bursts too (an integration loading)
_INITIAL_SYNC_WAIT = 30.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _key(item: Any) -> str:
    return item.key


def _newer(candidate: str | None, current: str | None) -> bool:
    """Whether a state stamped `candidate` is at least as new as one stamped `current`."""
    if not candidate or not current:
        return True
    try:
        return datetime.fromisoformat(candidate) >= datetime.fromisoformat(current)
    except ValueError:
        return True


class Mirror:
    def __init__(
        self, settings: Settings, store: Store, client: HAClient | None = None, *, owns_process: bool = False
    ) -> None:
        """`owns_process`: the mirror is what this process is for (a service, not a test or a
        tool): after each full sync the heap is frozen for the cyclic GC (see `full_sync`)."""
        self.settings = settings
        self.owns_process = owns_process
        self.home_id: str = settings.home_id
        self.store = store
        self.client = client or HAClient.from_settings(settings.ha)
        self.client.ws.on_reconnect = self._on_reconnect
        self.client.ws.on_disconnect = self._on_disconnect
        self.tiers: dict[str, Tier] = {
            kind: Tier(kind, settings.cache_ttl(kind), self._loader(kind), self._on_expired) for kind in KINDS
        }
        self.writer = WriteBehind(store, self.home_id)
        self._registry: dict[str, RegistryEntry] = {}
        self._exposed: frozenset[str] = frozenset()
        # Resolved by the first full sync; readers of a never-synced database wait on it.
        self._initial_sync: asyncio.Future[None] = asyncio.Future()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._resyncing: set[str] = set()
        self._debounced: dict[str, asyncio.TimerHandle] = {}  # pending refreshes by name
        self._unlisted_new: set[str] = set()  # new state-only entities HA's list did not name
        self._connector: asyncio.Task[None] | None = None
        self.last_sync: datetime | None = None
        self._in_sync = False  # True from a completed full sync until the connection drops
        self.last_sync_seconds: float | None = None
        self.last_error: str | None = None
        self.events_applied = 0
        self._listeners: list[Callable[[str, str], None]] = []

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self, *, wait: bool = False) -> None:
        """Open the database copy and start connecting; `wait` returns only after a first sync."""
        await self.store.migrate()
        self.writer.start()
        self._connector = asyncio.create_task(self._connect_until_synced(), name="mirror-connect")
        if wait:
            await asyncio.shield(self._initial_sync)

    async def stop(self) -> None:
        if self._connector:
            self._connector.cancel()
        for timer in self._debounced.values():
            timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, *(t for t in [self._connector] if t), return_exceptions=True)
        await self.client.close()
        await self.writer.stop()
        if not self._initial_sync.done():
            self._initial_sync.cancel()
        for tier in self.tiers.values():
            await tier.close()
        if self.owns_process:
            gc.unfreeze()  # what this mirror held may go now (a process that serves on, such as a test's)

    @property
    def connected(self) -> bool:
        return self.client.connected

    @property
    def stale(self) -> bool:
        """True while the copy may lag behind HA: not connected, or not resynced since."""
        return not (self.connected and self._in_sync)

    def add_listener(self, listener: Callable[[str, str], None]) -> None:
        """Call `listener(kind, key)` after each change the mirror applies (tests, benchmarks)."""
        self._listeners.append(listener)

    async def _connect_until_synced(self) -> None:
        delay = self.settings.ha_reconnect_min_delay
        while True:
            try:
                await self.client.connect()
                await self.client.subscribe_mirror_events(self._on_event)
                await self.full_sync()
                return
            except HAError as exc:
                self.last_error = str(exc)
                _LOGGER.warning("Home Assistant unavailable (%s); serving the stored copy, retrying", exc)
                await self.client.ws.close()
            await asyncio.sleep(delay / 2 + random.uniform(0, delay / 2))
            delay = min(delay * 2, self.settings.ha_reconnect_max_delay)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            self.last_error = str(exc)
            _LOGGER.warning("mirror update failed: %s", exc)

    # --- tiers: memory → database → Home Assistant ------------------------------------------------
    def _loader(self, kind: str) -> Callable[[], Any]:
        async def load() -> Collection:
            data = await self._load_from_db(kind)
            if data.synced_at is None and not self._initial_sync.done():
                # The database never held this kind: the HA tier answers, via the first sync.
                try:
                    await asyncio.wait_for(asyncio.shield(self._initial_sync), _INITIAL_SYNC_WAIT)
                except (TimeoutError, HAError):
                    return data
                return self.tiers[kind].peek() or data
            return data

        return load

    async def _load_from_db(self, kind: str) -> Collection:
        await self.writer.flush(kind)  # the database must hold every update memory has
        stored = await self.store.load_kind(self.home_id, kind)
        return Collection(kind, {_key(i): i for i in stored.items}, stored.version, stored.synced_at)

    async def _current(self, kind: str) -> Collection:
        """The kind's memory copy for an update (never waits on the first sync)."""
        tier = self.tiers[kind]
        data = tier.peek()
        if data is None:
            data = tier.last if tier.last is not None else await self._load_from_db(kind)
            tier.set(data)
        return data

    def _on_expired(self, kind: str) -> None:
        if self.connected and kind not in self._resyncing:
            self._spawn(self.resync(kind))

    async def read(self, kind: str) -> Collection:
        return await self.tiers[kind].get()

    # --- syncing --------------------------------------------------------------------------
    async def full_sync(self) -> None:
        started = time.perf_counter()
        _LOGGER.info("full sync: reading everything from Home Assistant")
        snapshot = await self.client.fetch_home()
        fetched = time.perf_counter()
        # Storing a large home takes a while: say what is coming, then what was done.
        _LOGGER.info(
            "full sync: read %d entities and %d devices in %.2f s; storing",
            len(snapshot.entities),
            len(snapshot.devices),
            fetched - started,
        )
        self._registry = {entry.entity_id: entry for entry in snapshot.registry}
        self._exposed = snapshot.exposed
        now = _utcnow()
        await self._replace("config", [snapshot.config], now)
        await self._replace("floors", snapshot.floors, now)
        await self._replace("areas", snapshot.areas, now)
        await self._replace("labels", snapshot.labels, now)
        await self._replace("devices", snapshot.devices, now)
        await self._replace("services", snapshot.services, now)
        await self._replace_entities(snapshot.entities, now)
        self.last_sync = now
        self._in_sync = self.connected
        self.last_sync_seconds = time.perf_counter() - started
        self.last_error = None
        _LOGGER.info(
            "synced %d entities, %d devices, %d areas, %d floors, %d labels, %d services "
            "in %.2f s (read %.2f s, stored %.2f s)",
            len(snapshot.entities),
            len(snapshot.devices),
            len(snapshot.areas),
            len(snapshot.floors),
            len(snapshot.labels),
            len(snapshot.services),
            self.last_sync_seconds,
            fetched - started,
            self.last_sync_seconds - (fetched - started),
        )
        if self.owns_process:
            _freeze_heap()
        if not self._initial_sync.done():
            self._initial_sync.set_result(None)

    async def _replace(self, kind: str, items: Iterable[Any], synced_at: datetime) -> bool:
        data = await self._current(kind)
        changed = data.replace_all(items, key=_key)
        data.synced_at = synced_at
        self.writer.discard(kind)
        await self.store.replace_kind(self.home_id, kind, data.sorted_items(), data.version, synced_at)
        self.tiers[kind].set(data)
        if changed:
            self._notify(kind, "*")
        return changed

    async def _replace_entities(self, entities: list[Entity], synced_at: datetime) -> bool:
        current = (await self._current("entities")).items
        # An event applied while the snapshot was in flight may be newer than the snapshot.
        merged = [
            current[e.entity_id]
            if e.entity_id in current and not _newer(e.last_updated, current[e.entity_id].last_updated)
            else e
            for e in entities
        ]
        return await self._replace("entities", merged, synced_at)

    async def resync(self, kind: str) -> None:
        """Re-read one kind from HA (after its TTL expired, or an event named it)."""
        self._resyncing.add(kind)
        try:
            now = _utcnow()
            if kind == "config":
                await self._replace("config", [await self.client.fetch_config()], now)
            elif kind == "floors":
                await self._replace("floors", await self.client.fetch_floors(), now)
            elif kind == "labels":
                await self._replace("labels", await self.client.fetch_labels(), now)
            elif kind == "areas":
                if await self._replace("areas", await self.client.fetch_areas(), now):
                    await self._rebuild_entities()  # an area's floor is the entities' floor
            elif kind == "devices":
                if await self._replace("devices", await self.client.fetch_devices(), now):
                    await self._rebuild_entities()  # a device's area is its entities' area
            elif kind == "services":
                await self._replace("services", await self.client.fetch_services(), now)
            elif kind == "entities":
                await self._resync_entities(now)
        finally:
            self._resyncing.discard(kind)

    async def _resync_entities(self, now: datetime) -> None:
        registry, states, exposed = await asyncio.gather(
            self.client.fetch_registry(), self.client.fetch_states(), self.client.fetch_exposed()
        )
        self._registry = {entry.entity_id: entry for entry in registry}
        self._exposed = exposed
        devices, areas = await self._devices_and_areas()
        await self._replace_entities(merge_entities(states, registry, devices, areas, exposed), now)

    async def _devices_and_areas(self) -> tuple[dict[str, Device], dict[str, Area]]:
        devices = (await self._current("devices")).items
        areas = (await self._current("areas")).items
        return devices, areas

    async def _rebuild_entities(self, entity_ids: Iterable[str] | None = None) -> None:
        """Recompute merged entities (after their registry entry, device or area changed)."""
        data = await self._current("entities")
        devices, areas = await self._devices_and_areas()
        for entity_id in list(data.items if entity_ids is None else entity_ids):
            entity = data.items.get(entity_id)
            if entity is not None:
                self._put_entity(data, self._build(entity.as_state(), devices, areas))

    def _build(self, state: State, devices: dict[str, Device], areas: dict[str, Area]) -> Entity:
        entity_id = state.entity_id
        return build_entity(state, self._registry.get(entity_id), devices, areas, entity_id in self._exposed)

    def _put_entity(self, data: Collection, entity: Entity) -> None:
        if data.put(entity.entity_id, entity):
            self.writer.put("entities", entity.entity_id, entity, data.version)
            self._notify("entities", entity.entity_id)

    def _remove(self, data: Collection, key: str) -> None:
        if data.remove(key):
            self.writer.delete(data.kind, key, data.version)
            self._notify(data.kind, key)

    def _notify(self, kind: str, key: str) -> None:
        for listener in self._listeners:
            listener(kind, key)

    # --- connection events ----------------------------------------------------------------
    async def _on_reconnect(self) -> None:
        _LOGGER.info("reconnected to Home Assistant: full resync")
        await self.full_sync()

    def _on_disconnect(self, error: HAError) -> None:
        self._in_sync = False
        self.last_error = str(error)

    # --- HA events ------------------------------------------------------------------------
    async def _on_event(self, event: dict[str, Any]) -> None:
        event_type = event.get("event_type")
        data = event.get("data") or {}
        if event_type == "state_changed":
            await self._on_state_changed(data)
        elif event_type == "entity_registry_updated":
            await self._on_entity_registry_updated(data)
        elif event_type in _REGISTRY_EVENTS:
            await self.resync(_REGISTRY_EVENTS[event_type])
        elif event_type in ("service_registered", "service_removed"):
            self._debounce("services", _SERVICE_EVENT_DEBOUNCE, lambda: self.resync("services"))
        elif event_type == "core_config_updated":
            await self.resync("config")
        else:
            return
        self.events_applied += 1

    async def _on_state_changed(self, data: dict[str, Any]) -> None:
        entity_id = data.get("entity_id")
        if not entity_id:
            return
        entities = await self._current("entities")
        new_state = data.get("new_state")
        if new_state is None:
            self._remove(entities, entity_id)
            return
        state = State.from_ha(new_state)
        old = entities.items.get(entity_id)
        if old is not None and not _newer(state.last_updated, old.last_updated):
            return  # a full sync already stored something newer
        if old is not None and old.in_registry and entity_id not in self._registry:
            # Registry not read in this process yet (HA down at start): keep what we know.
            self._put_entity(entities, _with_state(old, state))
            return
        devices, areas = await self._devices_and_areas()
        self._put_entity(entities, self._build(state, devices, areas))
        if old is None and entity_id not in self._registry and entity_id not in self._exposed:
            # HA stores its default Assist choice for a new state-only entity as the state is
            # added, and fires no event for it: re-read HA's list.
            self._unlisted_new.add(entity_id)
            self._debounce("exposure", _EXPOSURE_REFRESH_DEBOUNCE, self._refresh_exposure)

    async def _refresh_exposure(self) -> None:
        entity_ids, self._unlisted_new = self._unlisted_new, set()
        self._exposed = await self.client.fetch_exposed()
        await self._rebuild_entities(entity_ids)

    async def _on_entity_registry_updated(self, data: dict[str, Any]) -> None:
        entity_id = data.get("entity_id")
        if not entity_id:
            return
        entities = await self._current("entities")
        old_id = data.get("old_entity_id")
        if old_id and old_id != entity_id:  # renamed: the old id is gone
            self._registry.pop(old_id, None)
            renamed = entities.items.get(old_id)
            self._remove(entities, old_id)
            if renamed is not None and entity_id not in entities.items:
                # Build the new id from the old state now; its own state_changed follows.
                state = State(entity_id, renamed.state, renamed.attributes, renamed.last_changed, renamed.last_updated)
                await self._refresh_registry_entry(entity_id)
                devices, areas = await self._devices_and_areas()
                self._put_entity(entities, self._build(state, devices, areas))
                return
        if data.get("action") == "remove":
            self._registry.pop(entity_id, None)
        else:
            await self._refresh_registry_entry(entity_id)
        await self._rebuild_entities([entity_id])

    async def _refresh_registry_entry(self, entity_id: str) -> None:
        entries = await self.client.fetch_registry([entity_id])
        if entries:
            entry = entries[0]
            self._registry[entity_id] = entry
            if entry.should_expose is not None:
                # Keep the exposure list in step with the registry's stored choice.
                exposed = set(self._exposed)
                (exposed.add if entry.should_expose else exposed.discard)(entity_id)
                self._exposed = frozenset(exposed)
        else:
            self._registry.pop(entity_id, None)

    def _debounce(self, name: str, delay: float, refresh: Callable[[], Any]) -> None:
        """Run `refresh()` once, `delay` after the last of a burst of calls with this name."""
        if (timer := self._debounced.get(name)) is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._debounced[name] = loop.call_later(delay, lambda: self._spawn(refresh()))


def _with_state(entity: Entity, state: State) -> Entity:
    return replace(
        entity,
        state=state.state,
        attributes=state.attributes,
        last_changed=state.last_changed,
        last_updated=state.last_updated,
    )


def _freeze_heap() -> None:
    """Move what lives now — the copy just synced, mostly, which lives until the next sync —
    out of the cyclic GC's sight: its full collections stop rescanning it. They were the mirror's
    read p99 pauses of 70-100 ms (measured with `ha-agent bench`; 17-25 ms without them).
    Unfrozen and collected first, so the previous sync's cycles are not kept forever. Process
    wide: only a process that is the mirror's does it."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
