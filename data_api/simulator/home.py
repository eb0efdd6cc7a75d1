"""SimHome: a generated home held in Home Assistant's wire format, and the mutations that keep
it consistent the way HA's registries and state machine do.

Every mutation fires HA events on a small bus (`listen`). Where HA reacts to an event inside
the core before WebSocket subscribers see it (an entity rewriting its state after a registry
change, areas dropping a deleted floor), the derived events are fired first, then the event
that caused them — the order a subscriber observes on a real HA 2025.4.4.

Sources: helpers/{area,floor,label,device,entity}_registry.py, core.py `StateMachine.async_set
_internal` (last_changed/last_updated/last_reported) and `ServiceRegistry` (service_registered/
service_removed), core_config.py `Config.async_update` (core_config_updated), helpers/entity.py
(friendly_name from the registry and the device name), components/script/__init__.py (a script's
entity and service), components/homeassistant/exposed_entities.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from . import protocol as P
from .generator import METRIC_UNITS, US_UNITS, GeneratedHome, build_home, default_exposed, registry_entry, script_fields
from .history import History
from .schema import valid_entity_id
from .services import AnyService, DescribedService, script_service
from .util import dumps, iso, slugify, ulid, unique_slug, uuid_hex

Event = dict[str, Any]
Listener = Callable[[Event], None]
Context = dict[str, str | None]

# `extended_dict` minus these is the `config/entity_registry/list` item (`as_partial_dict`).
EXTENDED_ONLY_KEYS = ("aliases", "capabilities", "device_class", "original_device_class", "original_icon")
_REGISTRY_ATTRS = ("device_class", "icon", "friendly_name", "supported_features")


def new_context(user_id: str | None = None, parent_id: str | None = None) -> Context:
    return {"id": ulid(time.time()), "parent_id": parent_id, "user_id": user_id}


def _normalized(name: str) -> str:
    """HA's normalize_name: names are unique case- and space-insensitively."""
    return name.casefold().replace(" ", "")


class SimHome:
    """The data of one simulated Home Assistant. Reads return wire-format dicts; do not mutate
    them, use the methods, which keep registries, states, history and events consistent."""

    def __init__(self, data: GeneratedHome, *, size: str = "custom", seed: int = 0) -> None:
        self.size = size
        self.seed = seed
        self.config = data.config
        self.states: dict[str, dict[str, Any]] = data.states  # get_states items by entity_id
        self.floors = data.floors
        self.areas = data.areas
        self.labels = data.labels
        self.devices = data.devices
        self.entities = data.entities  # extended registry entries (get_entries form)
        self.legacy_exposure = data.legacy_exposure  # conversation flag of state-only entities
        self.scenes = data.scenes  # scene entity_id -> {entity_id: {state, attributes}}
        self.scripts = data.scripts  # script entity_id -> {name, description, fields, sequence}
        self.schedules = data.schedules
        self.notify_targets = data.notify_targets
        self.user_id = data.user_id  # the owner; WebSocket/REST calls run as this user
        self.time_zone: tzinfo = ZoneInfo(self.config["time_zone"])
        self.history = History(self.states)
        self.memory: dict[str, dict[str, Any]] = {}  # per-entity scratch of the service engine
        self.running_scripts: dict[str, asyncio.Future[None]] = {}
        # What integrations keep off the state machine, by entity: a to-do list's items, a
        # calendar's events, a weather entity's forecasts, an alarm panel's code. HA shows
        # only their summary (a count, the next event) as state; services read and change them.
        self.todo_items: dict[str, list[dict[str, Any]]] = {}
        self.calendar_events: dict[str, list[dict[str, Any]]] = {}
        self.forecasts: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.alarm_codes: dict[str, str] = {}
        self.clock: float | None = None  # a pretended "now" (an evaluation's context_now)
        # Seconds a cover or valve takes to get where it was sent (0: at once); meanwhile it
        # reports opening/closing, and `motions` holds its arrival.
        self.travel_seconds = 0.0
        self.motions: dict[str, asyncio.TimerHandle] = {}
        self._listeners: list[Listener] = []
        self._state_json: dict[str, bytes] = {}
        self._entry_json: dict[str, bytes] = {}  # list-form registry entries, like HA's cache
        self._services: dict[tuple[str, str], AnyService] | None = None

    def now(self) -> float:
        """The home's current time: the pretended one when set, else the real one."""
        return self.clock if self.clock is not None else time.time()

    # --- reads in wire format -----------------------------------------------------------------

    def state_list(self) -> list[dict[str, Any]]:
        return list(self.states.values())

    def state_json(self, entity_id: str) -> bytes:
        """One state serialised once and reused until it changes (as HA caches `as_dict_json`)."""
        cached = self._state_json.get(entity_id)
        if cached is None:
            cached = self._state_json[entity_id] = dumps(self.states[entity_id])
        return cached

    def states_json(self) -> bytes:
        return b"[" + b",".join(self.state_json(entity_id) for entity_id in self.states) + b"]"

    def floor_list(self) -> list[dict[str, Any]]:
        return list(self.floors.values())

    def area_list(self) -> list[dict[str, Any]]:
        return list(self.areas.values())

    def label_list(self) -> list[dict[str, Any]]:
        return list(self.labels.values())

    def device_list(self) -> list[dict[str, Any]]:
        return list(self.devices.values())

    @staticmethod
    def partial_entry(entry: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in entry.items() if key not in EXTENDED_ONLY_KEYS}

    def entity_registry_list(self) -> list[dict[str, Any]]:
        return [self.partial_entry(entry) for entry in self.entities.values()]

    def entity_registry_json(self) -> list[bytes]:
        """Each list-form entry serialised once and reused until the entry changes."""
        cache = self._entry_json
        out = []
        for entity_id, entry in self.entities.items():
            cached = cache.get(entity_id)
            if cached is None:
                cached = cache[entity_id] = dumps(self.partial_entry(entry))
            out.append(cached)
        return out

    def entity_entry(self, entity_id: str) -> dict[str, Any] | None:
        return self.entities.get(entity_id)

    def effective_area(self, entity_id: str) -> str | None:
        """The entity's own area, else its device's (None for state-only entities)."""
        entry = self.entities.get(entity_id)
        if entry is None:
            return None
        if entry["area_id"]:
            return entry["area_id"]
        device = self.devices.get(entry["device_id"] or "")
        return device["area_id"] if device else None

    def is_exposed(self, entity_id: str) -> bool:
        entry = self.entities.get(entity_id)
        if entry is None:
            return self.legacy_exposure.get(entity_id, False)
        return bool(entry["options"].get("conversation", {}).get("should_expose", False))

    def exposed_entities(self) -> dict[str, Any]:
        """`homeassistant/expose_entity/list`: only entities exposed to some assistant."""
        exposed = {eid: {"conversation": True} for eid, flag in self.legacy_exposure.items() if flag}
        for entity_id in self.entities:
            if self.is_exposed(entity_id):
                exposed[entity_id] = {"conversation": True}
        return {"exposed_entities": exposed}

    def service_index(self) -> dict[tuple[str, str], AnyService]:
        """(domain, service) -> its spec, in registration order. Built once: like HA, services
        stay registered when the last entity of a domain goes away."""
        if self._services is None:
            from .actions import service_specs  # the engine owns which services exist

            self._services = {(spec.domain, spec.service): spec for spec in service_specs(self)}
        return self._services

    def refresh_services(self) -> None:
        """Recompute which services exist after entities of new domains were added before the
        home is served (a padded evaluation home); a served home registers them instead."""
        self._services = None

    def register_service(self, domain: str, service: str, description: dict[str, Any]) -> None:
        """`ServiceRegistry.async_register` (+ `async_set_service_schema`): add or replace a
        service described as `get_services` describes it; fires `service_registered`. Calls
        are accepted with any data and change nothing."""
        self._register(DescribedService(domain.lower(), service.lower(), description))

    def _register(self, spec: AnyService) -> None:
        self.service_index()[(spec.domain, spec.service)] = spec
        self.fire("service_registered", {"domain": spec.domain, "service": spec.service})

    def remove_service(self, domain: str, service: str) -> None:
        """`ServiceRegistry.async_remove`: fires `service_removed`; an unknown service is
        ignored (HA only logs a warning)."""
        domain, service = domain.lower(), service.lower()
        if self.service_index().pop((domain, service), None) is not None:
            self.fire("service_removed", {"domain": domain, "service": service})

    def services(self) -> dict[str, dict[str, Any]]:
        """`get_services`: descriptions of every service of a domain present in the home."""
        descriptions: dict[str, dict[str, Any]] = {}
        for (domain, service), spec in self.service_index().items():
            descriptions.setdefault(domain, {})[service] = spec.describe()
        return descriptions

    def services_list(self) -> list[dict[str, Any]]:
        """`GET /api/services`: the same as a list of {domain, services}."""
        return [{"domain": domain, "services": value} for domain, value in self.services().items()]

    # --- events -------------------------------------------------------------------------------

    def listen(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def fire(
        self, event_type: str, data: dict[str, Any], context: Context | None = None, *, at: float | None = None
    ) -> Event:
        event = {
            "event_type": event_type,
            "data": data,
            "origin": "LOCAL",
            "time_fired": iso(at if at is not None else time.time()),
            "context": context or new_context(),
        }
        for listener in list(self._listeners):
            listener(event)
        return event

    # --- states -------------------------------------------------------------------------------

    def set_state(
        self, entity_id: str, state: str, attributes: dict[str, Any] | None = None, *, context: Context | None = None
    ) -> dict[str, Any] | None:
        """Write a state like HA's state machine; returns the new state, or None when only
        `last_reported` moved (same state and attributes: no state_changed event)."""
        now = time.time()
        old = self.states.get(entity_id)
        if attributes is None:
            attributes = old["attributes"] if old else {}
        stamp = iso(now)
        if old is not None and old["state"] == state and old["attributes"] == attributes:
            old["last_reported"] = stamp
            self._state_json.pop(entity_id, None)
            return None
        context = context or new_context()
        last_changed = old["last_changed"] if old is not None and old["state"] == state else stamp
        new = {
            "entity_id": entity_id,
            "state": state,
            "attributes": attributes,
            "last_changed": last_changed,
            "last_reported": stamp,
            "last_updated": stamp,
            "context": context,
        }
        self.states[entity_id] = new
        self._state_json.pop(entity_id, None)
        self.history.record(new, now)
        if old is None:
            self._decide_exposure(entity_id)
        self.fire("state_changed", {"entity_id": entity_id, "old_state": old, "new_state": new}, context, at=now)
        return new

    def remove_state(self, entity_id: str, context: Context | None = None) -> None:
        old = self.states.pop(entity_id, None)
        self._state_json.pop(entity_id, None)
        if old is not None:
            self.fire("state_changed", {"entity_id": entity_id, "old_state": old, "new_state": None}, context)

    def _rewrite_registry_attrs(self, entity_id: str) -> None:
        """Recompute friendly_name/icon/device_class after a registry or device change, the way
        an entity rewrites its state (`async_write_ha_state`)."""
        entry, current = self.entities.get(entity_id), self.states.get(entity_id)
        if entry is None or current is None:
            return
        old = current["attributes"]
        attrs = {key: value for key, value in old.items() if key not in _REGISTRY_ATTRS}
        for key, value in (
            ("device_class", entry["device_class"] or entry["original_device_class"]),
            ("icon", entry["icon"] or entry["original_icon"]),
            ("friendly_name", self.friendly_name(entry)),
            ("supported_features", old.get("supported_features")),
        ):
            if value is not None:
                attrs[key] = value
        self.set_state(entity_id, current["state"], attrs)

    def friendly_name(self, entry: dict[str, Any]) -> str | None:
        """Registry name, else device name (+ entity name) for has_entity_name entities."""
        if entry["name"]:
            return entry["name"]
        original = entry["original_name"]
        device = self.devices.get(entry["device_id"] or "")
        if not entry["has_entity_name"] or device is None:
            return original
        device_name = device["name_by_user"] or device["name"]
        if original is None:
            return device_name
        return f"{device_name} {original}" if device_name else original

    # --- floors, areas, labels ----------------------------------------------------------------

    def _check_name(self, items: dict[str, dict[str, Any]], name: str, skip: str | None) -> None:
        for item_id, item in items.items():
            if item_id != skip and _normalized(item["name"]) == _normalized(name):
                raise P.HAError(f"The name {name} ({_normalized(name)}) is already in use", code=P.ERR_INVALID_INFO)

    def create_floor(
        self, name: str, *, aliases: Iterable[str] = (), icon: str | None = None, level: int | None = None
    ) -> dict[str, Any]:
        self._check_name(self.floors, name, None)
        now = time.time()
        floor_id = unique_slug(slugify(name), self.floors)
        floor = {
            "aliases": list(dict.fromkeys(aliases)),
            "created_at": now,
            "floor_id": floor_id,
            "icon": icon,
            "level": level,
            "name": name,
            "modified_at": now,
        }
        self.floors[floor_id] = floor
        self.fire("floor_registry_updated", {"action": "create", "floor_id": floor_id})
        return floor

    def update_floor(self, floor_id: str, **changes: Any) -> dict[str, Any]:
        floor = self.floors.get(floor_id)
        if floor is None:
            raise P.UnknownError()  # HA lets the KeyError through: "Unknown error"
        if "name" in changes:
            self._check_name(self.floors, changes["name"], floor_id)
        if self._apply(floor, changes):
            self.fire("floor_registry_updated", {"action": "update", "floor_id": floor_id})
        return floor

    def delete_floor(self, floor_id: str) -> None:
        if floor_id not in self.floors:
            raise P.HAError("Floor ID doesn't exist", code=P.ERR_INVALID_INFO)
        del self.floors[floor_id]
        for area in list(self.areas.values()):  # areas drop the floor (area registry listener)
            if area["floor_id"] == floor_id:
                self.update_area(area["area_id"], floor_id=None)
        self.fire("floor_registry_updated", {"action": "remove", "floor_id": floor_id})

    def create_area(
        self,
        name: str,
        *,
        aliases: Iterable[str] = (),
        floor_id: str | None = None,
        icon: str | None = None,
        labels: Iterable[str] = (),
        picture: str | None = None,
        humidity_entity_id: str | None = None,
        temperature_entity_id: str | None = None,
    ) -> dict[str, Any]:
        self._check_name(self.areas, name, None)
        now = time.time()
        area_id = unique_slug(slugify(name), self.areas)
        area = {
            "aliases": list(dict.fromkeys(aliases)),
            "area_id": area_id,
            "floor_id": floor_id,
            "humidity_entity_id": humidity_entity_id,
            "icon": icon,
            "labels": list(dict.fromkeys(labels)),
            "name": name,
            "picture": picture,
            "temperature_entity_id": temperature_entity_id,
            "created_at": now,
            "modified_at": now,
        }
        self.areas[area_id] = area
        self.fire("area_registry_updated", {"action": "create", "area_id": area_id})
        return area

    def update_area(self, area_id: str, **changes: Any) -> dict[str, Any]:
        area = self.areas.get(area_id)
        if area is None:
            raise P.UnknownError()
        if "name" in changes:
            self._check_name(self.areas, changes["name"], area_id)
        self._apply(area, changes)
        # HA fires an area update even when nothing changed (area_registry.async_update).
        self.fire("area_registry_updated", {"action": "update", "area_id": area_id})
        return area

    def delete_area(self, area_id: str) -> None:
        if area_id not in self.areas:
            raise P.HAError("Area ID doesn't exist", code=P.ERR_INVALID_INFO)
        for device in list(self.devices.values()):
            if device["area_id"] == area_id:
                self.update_device(device["id"], area_id=None)
        for entry in list(self.entities.values()):
            if entry["area_id"] == area_id:
                self.update_entity(entry["entity_id"], area_id=None)
        del self.areas[area_id]
        self.fire("area_registry_updated", {"action": "remove", "area_id": area_id})

    def create_label(
        self, name: str, *, color: str | None = None, icon: str | None = None, description: str | None = None
    ) -> dict[str, Any]:
        self._check_name(self.labels, name, None)
        now = time.time()
        label_id = unique_slug(slugify(name), self.labels)
        label = {
            "color": color,
            "created_at": now,
            "description": description,
            "icon": icon,
            "label_id": label_id,
            "name": name,
            "modified_at": now,
        }
        self.labels[label_id] = label
        self.fire("label_registry_updated", {"action": "create", "label_id": label_id})
        return label

    def update_label(self, label_id: str, **changes: Any) -> dict[str, Any]:
        label = self.labels.get(label_id)
        if label is None:
            raise P.UnknownError()
        if "name" in changes:
            self._check_name(self.labels, changes["name"], label_id)
        if self._apply(label, changes):
            self.fire("label_registry_updated", {"action": "update", "label_id": label_id})
        return label

    def delete_label(self, label_id: str) -> None:
        if label_id not in self.labels:
            raise P.HAError("Label ID doesn't exist", code=P.ERR_INVALID_INFO)
        del self.labels[label_id]
        # The registries drop the label in listeners that run before subscribers see the event.
        for area in list(self.areas.values()):
            if label_id in area["labels"]:
                self.update_area(area["area_id"], labels=[x for x in area["labels"] if x != label_id])
        for device in list(self.devices.values()):
            if label_id in device["labels"]:
                self.update_device(device["id"], labels=[x for x in device["labels"] if x != label_id])
        for entry in list(self.entities.values()):
            if label_id in entry["labels"]:
                self.update_entity(entry["entity_id"], labels=[x for x in entry["labels"] if x != label_id])
        self.fire("label_registry_updated", {"action": "remove", "label_id": label_id})

    @staticmethod
    def _apply(item: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """Set changed keys and bump modified_at; returns the OLD values of what changed."""
        old: dict[str, Any] = {}
        for key, value in changes.items():
            current = item[key]
            if isinstance(value, list) and isinstance(current, list):
                if set(value) == set(current):
                    continue
                value = list(dict.fromkeys(value))
            elif value == current:
                continue
            old[key] = current
            item[key] = value
        if old:
            item["modified_at"] = time.time()
        return old

    # --- devices ------------------------------------------------------------------------------

    def update_device(self, device_id: str, **changes: Any) -> dict[str, Any]:
        device = self.devices.get(device_id)
        if device is None:
            raise P.UnknownError()
        old = self._apply(device, changes)
        if not old:
            return device
        if "name_by_user" in old or "name" in old:  # entities named after the device
            for entry in self._device_entries(device_id):
                if entry["has_entity_name"]:
                    self._rewrite_registry_attrs(entry["entity_id"])
        if "disabled_by" in old:
            self._cascade_device_disabled(device_id, device["disabled_by"])
        self.fire("device_registry_updated", {"action": "update", "device_id": device_id, "changes": old})
        return device

    def _device_entries(self, device_id: str) -> list[dict[str, Any]]:
        return [entry for entry in self.entities.values() if entry["device_id"] == device_id]

    def _cascade_device_disabled(self, device_id: str, disabled_by: str | None) -> None:
        for entry in self._device_entries(device_id):
            if disabled_by is not None and entry["disabled_by"] is None:
                self.update_entity(entry["entity_id"], disabled_by="device")
            elif disabled_by is None and entry["disabled_by"] == "device":
                self.update_entity(entry["entity_id"], disabled_by=None)

    def remove_device(self, device_id: str) -> None:
        """Remove a device: its entities leave the registry and the state machine."""
        if device_id not in self.devices:
            raise P.HomeAssistantError("Unknown device")
        for other in list(self.devices.values()):
            if other["via_device_id"] == device_id:
                self.update_device(other["id"], via_device_id=None)
        for entry in self._device_entries(device_id):
            self.remove_entity(entry["entity_id"])
        del self.devices[device_id]
        self.fire("device_registry_updated", {"action": "remove", "device_id": device_id})

    # --- entities -----------------------------------------------------------------------------

    def update_entity(self, entity_id: str, *, new_entity_id: str | None = None, **changes: Any) -> dict[str, Any]:
        """`config/entity_registry/update` semantics; raises HAError for invalid input."""
        entry = self.entities.get(entity_id)
        if entry is None:
            raise P.NotFound("Entity not found")
        self._entry_json.pop(entity_id, None)
        renamed = new_entity_id is not None and new_entity_id != entity_id
        if renamed:
            assert new_entity_id is not None
            if new_entity_id in self.entities or new_entity_id in self.states:
                raise P.HAError("Entity with this ID is already registered", code=P.ERR_INVALID_INFO)
            if not valid_entity_id(new_entity_id):
                raise P.HAError("Invalid entity ID", code=P.ERR_INVALID_INFO)
            if new_entity_id.split(".")[0] != entity_id.split(".")[0]:
                raise P.HAError("New entity ID should be same domain", code=P.ERR_INVALID_INFO)
        old = self._apply(entry, changes)
        if renamed:
            assert new_entity_id is not None
            old["entity_id"] = entity_id
            entry["entity_id"] = new_entity_id
            entry["modified_at"] = time.time()
            self.entities = {new_entity_id if key == entity_id else key: value for key, value in self.entities.items()}
        if not old:
            return entry
        self._after_entity_update(entity_id, entry, old)
        data: dict[str, Any] = {"action": "update", "entity_id": entry["entity_id"], "changes": old}
        if renamed:
            data["old_entity_id"] = entity_id
        self.fire("entity_registry_updated", data)
        return entry

    def _after_entity_update(self, old_id: str, entry: dict[str, Any], old: dict[str, Any]) -> None:
        """What the entity itself does on a registry update (helpers/entity.py)."""
        new_id = entry["entity_id"]
        if entry["disabled_by"] is not None:
            self.remove_state(old_id)
            return
        if "disabled_by" in old and old["disabled_by"] is not None:
            self._restore_state(entry)
            return
        if new_id != old_id:  # removed, then added again under its new id
            current = self.states.get(old_id)
            self.remove_state(old_id)
            self.scenes = {
                sid: {new_id if t == old_id else t: v for t, v in targets.items()}
                for sid, targets in self.scenes.items()
            }
            if current is not None:
                self.history.rename(old_id, new_id)
                self.set_state(new_id, current["state"], dict(current["attributes"]))
        if old.keys() & {"name", "icon", "device_class", "entity_id"}:
            self._rewrite_registry_attrs(new_id)

    def _restore_state(self, entry: dict[str, Any]) -> None:
        """An enabled entity comes back (HA reloads its config entry) with its last state."""
        last = self.history.last(entry["entity_id"])
        if last is not None:
            self.set_state(entry["entity_id"], last["state"], dict(last["attributes"]))

    def remove_entity(self, entity_id: str) -> None:
        if entity_id not in self.entities:
            raise P.NotFound("Entity not found")
        del self.entities[entity_id]
        self._entry_json.pop(entity_id, None)
        self.remove_state(entity_id)
        self.fire("entity_registry_updated", {"action": "remove", "entity_id": entity_id})

    def set_exposed(self, entity_ids: Iterable[str], should_expose: bool) -> None:
        """`homeassistant/expose_entity` for the conversation assistant."""
        for entity_id in entity_ids:
            entry = self.entities.get(entity_id)
            if entry is None:
                self.legacy_exposure[entity_id] = should_expose
                continue
            options = dict(entry["options"])
            current = options.get("conversation", {})
            if current.get("should_expose") == should_expose:
                continue
            options["conversation"] = {**current, "should_expose": should_expose}
            self.update_entity(entity_id, options=options)

    def _decide_exposure(self, entity_id: str) -> None:
        """What conversation's state-added listener does (`async_should_expose`): an entity
        without a stored Assist choice gets HA's default one — silently for a state-only
        entity, through an entity registry update (fired before the state) for the others."""
        entry = self.entities.get(entity_id)
        if entry is None:
            self.legacy_exposure.setdefault(entity_id, self.default_exposed(entity_id))
        elif "should_expose" not in entry["options"].get("conversation", {}):
            self.set_exposed([entity_id], self.default_exposed(entity_id))

    def default_exposed(self, entity_id: str) -> bool:
        entry = self.entities.get(entity_id)
        state = self.states.get(entity_id)
        device_class = (state or {}).get("attributes", {}).get("device_class")
        if entry is None:
            return default_exposed(entity_id, device_class, hidden=False, category=None)
        return default_exposed(
            entity_id, device_class, category=entry["entity_category"], hidden=entry["hidden_by"] is not None
        )

    # --- core config --------------------------------------------------------------------------

    def update_config(self, **changes: Any) -> None:
        """`config/core/update` after validation (core_config.py `Config.async_update`): the
        config source becomes storage; `core_config_updated` carries the given fields."""
        config = self.config
        for key, value in changes.items():
            if key == "unit_system":
                config["unit_system"] = dict(US_UNITS if value == "us_customary" else METRIC_UNITS)
            else:
                config[key] = value
        if "time_zone" in changes:
            self.time_zone = ZoneInfo(changes["time_zone"])
        config["config_source"] = "storage"
        self.fire("core_config_updated", dict(changes))

    # --- scripts (scripts.yaml, as the UI edits it) ---------------------------------------------

    def save_script(self, object_id: str, config: dict[str, Any]) -> None:
        """A validated script config written to scripts.yaml, then `script.reload`: a new script
        gets a registry entry, its `script.<object_id>` service and a state, in that order; a
        changed one loses its service and state and gets them again; an unchanged one stays."""
        entity_id = f"script.{object_id}"
        script = {
            "name": config.get("alias") or object_id,
            "description": config.get("description", ""),
            "fields": script_fields(config.get("fields") or {}),
            "sequence": list(config["sequence"]),
            "icon": config.get("icon"),
            "mode": config.get("mode", "single"),
        }
        if self.scripts.get(entity_id) == script:
            return
        last_triggered = None
        if entity_id in self.scripts:  # reload removes the old entity first
            last_triggered = (
                (self.states.get(entity_id) or {}).get("attributes", {}).get("last_triggered")
            )  # restored by the new entity (RestoreEntity)
            self._remove_script_entity(entity_id)
            self.remove_state(entity_id)
        self.scripts[entity_id] = script
        entry = self.entities.get(entity_id)
        if entry is None:
            now = time.time()
            entry = registry_entry(
                entity_id,
                "script",
                object_id,
                entry_uuid=uuid_hex(),
                created=now,
                original_name=script["name"],
                original_icon=script["icon"],
                exposed=None,
            )
            self.entities[entity_id] = entry
            self.fire("entity_registry_updated", {"action": "create", "entity_id": entity_id})
        else:
            self.update_entity(entity_id, original_name=script["name"], original_icon=script["icon"])
        if entry["disabled_by"] is not None:  # a disabled entity is not added
            return
        self._register(
            script_service(object_id, entry["name"] or script["name"], script["description"], script["fields"])
        )
        attrs: dict[str, Any] = {"last_triggered": last_triggered, "mode": script["mode"], "current": 0}
        if script["mode"] in ("queued", "parallel"):
            attrs["max"] = config.get("max", 10)
        if icon := entry["icon"] or entry["original_icon"]:
            attrs["icon"] = icon
        attrs["friendly_name"] = self.friendly_name(entry)
        self.set_state(entity_id, "off", attrs)

    def delete_script(self, object_id: str) -> None:
        """A script removed from scripts.yaml: its registry entry is removed, which removes
        its service and state (HA does not reload here)."""
        entity_id = f"script.{object_id}"
        if self.scripts.pop(entity_id, None) is None:
            raise P.NotFound("Resource not found")
        self._remove_script_entity(entity_id)
        if entity_id in self.entities:
            self.remove_entity(entity_id)

    def _remove_script_entity(self, entity_id: str) -> None:
        """`ScriptEntity.async_will_remove_from_hass`: stop the script, remove its service."""
        task = self.running_scripts.pop(entity_id, None)
        if task is not None:
            task.cancel()
        self.remove_service("script", entity_id.split(".", 1)[1])

    # --- services -----------------------------------------------------------------------------

    async def call_service(
        self,
        domain: str,
        service: str,
        data: dict[str, Any] | None = None,
        target: dict[str, Any] | None = None,
        *,
        context: Context | None = None,
        return_response: bool = False,
    ) -> Any:
        """Run a service as HA's `ServiceRegistry.async_call(blocking=True)`; raises HAError."""
        from .actions import call_service

        return await call_service(
            self,
            domain,
            service,
            data,
            target,
            context=context or new_context(self.user_id),
            return_response=return_response,
        )


def generate_home(
    size: str = "small",
    seed: int = 42,
    *,
    now: float | datetime | None = None,
) -> SimHome:
    """A realistic home: `small` (~130 entities, like HA's demo), `medium` (~770 entities,
    ~93 devices, 17 areas) or `large` (~5,000 entities, a multi-building site). The same
    (size, seed, now) gives the same home; `now` defaults to the current time."""
    if isinstance(now, datetime):
        now = now.astimezone(UTC).timestamp()
    moment = float(now) if now is not None else float(int(time.time()))
    return SimHome(build_home(size, seed, moment), size=size, seed=seed)
