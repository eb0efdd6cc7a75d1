"""Builds a home from a plan (catalog.py) into HA's wire-format dicts. Deterministic: the same
(size, seed, now) always gives the same home, ids and timestamps included.

Registry shapes follow HA 2025.4.4: areas `AreaEntry.json_fragment`, floors/labels the
`_entry_dict` of components/config/{floor,label}_registry.py, devices `DeviceEntry.dict_repr`,
entities `RegistryEntry.extended_dict` (the list form drops five keys, see home.py).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from data_api.ha.models import default_exposed  # HA's rule, written once for the project

from . import catalog as C
from .profiles import PROFILES, Built, Context, compose
from .protocol import HA_VERSION
from .util import iso, slugify, ulid, unique_slug, uuid_hex


# HA's default Assist exposure (components/homeassistant/exposed_entities.py).
def registry_entry(
    entity_id: str,
    platform: str,
    unique_id: str,
    *,
    entry_uuid: str,
    created: float,
    modified: float | None = None,
    config_entry_id: str | None = None,
    device_id: str | None = None,
    disabled: bool = False,
    category: str | None = None,
    has_entity_name: bool = False,
    hidden: bool = False,
    labels: list[str] | None = None,
    name: str | None = None,
    exposed: bool | None = False,
    original_name: str | None = None,
    aliases: list[str] | None = None,
    capabilities: dict[str, Any] | None = None,
    original_device_class: str | None = None,
    original_icon: str | None = None,
) -> dict[str, Any]:
    """An entity registry entry in `RegistryEntry.extended_dict` form (keys in HA's order).
    `exposed=None`: no Assist choice stored yet (HA stores one when the state is added)."""
    return {
        "area_id": None,
        "categories": {},
        "config_entry_id": config_entry_id,
        "config_subentry_id": None,
        "created_at": created,
        "device_id": device_id,
        "disabled_by": "integration" if disabled else None,
        "entity_category": category,
        "entity_id": entity_id,
        "has_entity_name": has_entity_name,
        "hidden_by": "user" if hidden else None,
        "icon": None,
        "id": entry_uuid,
        "labels": labels or [],
        "modified_at": created if modified is None else modified,
        "name": name,
        "options": {} if disabled or exposed is None else {"conversation": {"should_expose": exposed}},
        "original_name": original_name,
        "platform": platform,
        "translation_key": None,
        "unique_id": unique_id,
        "aliases": aliases or [],
        "capabilities": capabilities,
        "device_class": None,
        "original_device_class": original_device_class,
        "original_icon": original_icon,
    }


def script_fields(fields: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A script's fields as HA's script config holds them: `required` and `advanced` filled in
    (kept where given, else appended, as voluptuous fills defaults)."""
    return {
        name: {**spec, "required": spec.get("required", False), "advanced": spec.get("advanced", False)}
        for name, spec in fields.items()
    }


def floor_entry(
    floor_id: str,
    name: str,
    *,
    created: float,
    aliases: Iterable[str] = (),
    icon: str | None = None,
    level: int | None = None,
) -> dict[str, Any]:
    """A floor as `config/floor_registry/list` lists it."""
    return {
        "aliases": list(aliases),
        "created_at": created,
        "floor_id": floor_id,
        "icon": icon,
        "level": level,
        "name": name,
        "modified_at": created,
    }


def area_entry(
    area_id: str,
    name: str,
    *,
    created: float,
    floor_id: str | None = None,
    aliases: Iterable[str] = (),
    icon: str | None = None,
    labels: Iterable[str] = (),
) -> dict[str, Any]:
    """An area in `AreaEntry.json_fragment` form."""
    return {
        "aliases": list(aliases),
        "area_id": area_id,
        "floor_id": floor_id,
        "humidity_entity_id": None,
        "icon": icon,
        "labels": list(labels),
        "name": name,
        "picture": None,
        "temperature_entity_id": None,
        "created_at": created,
        "modified_at": created,
    }


def device_entry(
    device_id: str,
    name: str,
    *,
    created: float,
    entry_id: str,
    identifiers: list[list[str]],
    area_id: str | None = None,
    manufacturer: str | None = None,
    model: str | None = None,
    sw_version: str | None = None,
    hw_version: str | None = None,
    connections: list[list[str]] | None = None,
    labels: Iterable[str] = (),
    entry_type: str | None = None,
    via_device_id: str | None = None,
) -> dict[str, Any]:
    """A device in `DeviceEntry.dict_repr` form, from one config entry."""
    return {
        "area_id": area_id,
        "configuration_url": None,
        "config_entries": [entry_id],
        "config_entries_subentries": {entry_id: [None]},
        "connections": connections or [],
        "created_at": created,
        "disabled_by": None,
        "entry_type": entry_type,
        "hw_version": hw_version,
        "id": device_id,
        "identifiers": identifiers,
        "labels": list(labels),
        "manufacturer": manufacturer,
        "model": model,
        "model_id": None,
        "modified_at": created,
        "name_by_user": None,
        "name": name,
        "primary_config_entry": entry_id,
        "serial_number": None,
        "sw_version": sw_version,
        "via_device_id": via_device_id,
    }


def state_entry(
    entity_id: str, state: str, attributes: dict[str, Any], *, changed: float, context_id: str
) -> dict[str, Any]:
    """A `get_states` item that last changed at `changed`."""
    stamp = iso(changed)
    return {
        "entity_id": entity_id,
        "state": state,
        "attributes": attributes,
        "last_changed": stamp,
        "last_reported": stamp,
        "last_updated": stamp,
        "context": {"id": context_id, "parent_id": None, "user_id": None},
    }


def core_config(
    *,
    location_name: str,
    time_zone: str,
    country: str | None,
    currency: str,
    latitude: float,
    longitude: float,
    elevation: int,
    metric: bool,
    components: Iterable[str],
) -> dict[str, Any]:
    """`get_config` of a running HA with these settings and loaded components."""
    dirs = ["/config/www", "/media"]
    return {
        "allowlist_external_dirs": dirs,
        "allowlist_external_urls": [],
        "components": sorted(components),
        "config_dir": "/config",
        "config_source": "storage",
        "country": country,
        "currency": currency,
        "debug": False,
        "elevation": elevation,
        "external_url": None,
        "internal_url": None,
        "language": "en",
        "latitude": latitude,
        "location_name": location_name,
        "longitude": longitude,
        "radius": 100,
        "recovery_mode": False,
        "safe_mode": False,
        "state": "RUNNING",
        "time_zone": time_zone,
        "unit_system": dict(METRIC_UNITS if metric else US_UNITS),
        "version": HA_VERSION,
        "whitelist_external_dirs": dirs,
    }


METRIC_UNITS = {
    "length": "km",
    "accumulated_precipitation": "mm",
    "area": "m²",
    "mass": "g",
    "pressure": "Pa",
    "temperature": "°C",
    "volume": "L",
    "wind_speed": "m/s",
}
US_UNITS = {
    "length": "mi",
    "accumulated_precipitation": "in",
    "area": "ft²",
    "mass": "lb",
    "pressure": "psi",
    "temperature": "°F",
    "volume": "gal",
    "wind_speed": "mph",
}
CORE_COMPONENTS = (
    "api",
    "auth",
    "automation",
    "config",
    "conversation",
    "counter",
    "frontend",
    "history",
    "homeassistant",
    "http",
    "input_boolean",
    "input_button",
    "input_datetime",
    "input_number",
    "input_select",
    "input_text",
    "logbook",
    "onboarding",
    "person",
    "recorder",
    "scene",
    "schedule",
    "script",
    "sun",
    "timer",
    "websocket_api",
    "zone",
)


@dataclass
class GeneratedHome:
    """Everything SimHome holds, as plain data."""

    config: dict[str, Any]
    states: dict[str, dict[str, Any]]
    floors: dict[str, dict[str, Any]]
    areas: dict[str, dict[str, Any]]
    labels: dict[str, dict[str, Any]]
    devices: dict[str, dict[str, Any]]
    entities: dict[str, dict[str, Any]]
    legacy_exposure: dict[str, bool]
    scenes: dict[str, dict[str, dict[str, Any]]]
    scripts: dict[str, dict[str, Any]]
    schedules: dict[str, dict[str, list[dict[str, str]]]]
    notify_targets: dict[str, str]
    user_id: str


def _f(celsius: float) -> float:
    return round(celsius * 9 / 5 + 32, 1)


@dataclass
class _Room:
    area_id: str
    name: str
    template: C.RoomTemplate
    floor_id: str | None
    device_ids: list[str] = field(default_factory=list)


class _Builder:
    """Accumulates one home; `build()` runs the steps in a fixed order for determinism."""

    def __init__(self, plan: C.Plan, rng: random.Random, now: float) -> None:
        self.plan = plan
        self.rng = rng
        self.now = now
        self.clock = now - 400 * 86400  # registry creation times start a year ago
        self.tz = ZoneInfo(plan.time_zone)
        self.states: dict[str, dict[str, Any]] = {}
        self.entities: dict[str, dict[str, Any]] = {}
        self.devices: dict[str, dict[str, Any]] = {}
        self.floors: dict[str, dict[str, Any]] = {}
        self.areas: dict[str, dict[str, Any]] = {}
        self.labels: dict[str, dict[str, Any]] = {}
        self.legacy_exposure: dict[str, bool] = {}
        self.scenes: dict[str, dict[str, dict[str, Any]]] = {}
        self.scripts: dict[str, dict[str, Any]] = {}
        self.schedules: dict[str, dict[str, list[dict[str, str]]]] = {}
        self.notify_targets: dict[str, str] = {}
        self.rooms: list[_Room] = []
        self.entry_ids: dict[str, str] = {}
        self.hubs: dict[str, str] = {}
        self.user_id = uuid_hex(rng)
        self.components: set[str] = set(CORE_COMPONENTS)

    # --- time and ids ---------------------------------------------------------------------

    def tick(self) -> float:
        """A creation timestamp, increasing like a registry filled over time."""
        self.clock += self.rng.uniform(60, 3600)
        return round(min(self.clock, self.now - 60), 6)

    def changed_at(self) -> float:
        return round(self.now - self.rng.uniform(30, 3 * 86400), 6)

    def config_entry(self, platform: str) -> str:
        if platform not in self.entry_ids:
            self.entry_ids[platform] = ulid(self.tick(), self.rng)
            self.components.add(platform)
        return self.entry_ids[platform]

    # --- registries ---------------------------------------------------------------------------

    def add_label(self, name: str, color: str, icon: str, description: str | None) -> None:
        created = self.tick()
        label_id = unique_slug(slugify(name), self.labels)
        self.labels[label_id] = {
            "color": color,
            "created_at": created,
            "description": description,
            "icon": icon,
            "label_id": label_id,
            "name": name,
            "modified_at": created,
        }

    def add_floor(self, floor: C.FloorPlan) -> str:
        created = self.tick()
        floor_id = unique_slug(slugify(floor.name), self.floors)
        self.floors[floor_id] = floor_entry(
            floor_id, floor.name, created=created, aliases=floor.aliases, icon=floor.icon, level=floor.level
        )
        return floor_id

    def add_area(self, name: str, template: C.RoomTemplate, floor_id: str | None) -> _Room:
        created = self.tick()
        area_id = unique_slug(slugify(name), self.areas)
        self.areas[area_id] = area_entry(
            area_id,
            name,
            created=created,
            floor_id=floor_id,
            aliases=template.aliases,
            icon=template.icon,
            labels=[slugify(label) for label in template.labels],
        )
        room = _Room(area_id, name, template, floor_id)
        self.rooms.append(room)
        return room

    def add_device(self, template: C.DeviceTemplate, name: str, area_id: str | None, *, via_hub: bool = True) -> str:
        """A device; those of hub-based integrations (Hue, Zigbee) hang off their hub."""
        integration = C.INTEGRATIONS[template.platform]
        entry_id = self.config_entry(template.platform)
        via = self.hub(integration) if via_hub and integration.hub else None
        device_id = uuid_hex(self.rng)
        created = self.tick()
        serial = f"{self.rng.getrandbits(64):016x}"
        connections: list[list[str]] = []
        if integration.connection == "mac":
            mac = ":".join(f"{self.rng.getrandbits(8):02x}" for _ in range(6))
            connections.append(["mac", mac])
        elif integration.connection == "zigbee":
            connections.append(["zigbee", ":".join(serial[i : i + 2] for i in range(0, 16, 2))])
        sw_version = None if template.entry_type else f"{self.rng.randint(1, 9)}.{self.rng.randint(0, 30)}.0"
        self.devices[device_id] = device_entry(
            device_id,
            name,
            created=created,
            entry_id=entry_id,
            identifiers=[[template.platform, serial]],
            area_id=area_id,
            manufacturer=integration.manufacturer,
            model=template.model,
            sw_version=sw_version,
            connections=connections,
            labels=[slugify(label) for label in template.labels],
            entry_type=template.entry_type,
            via_device_id=via,
        )
        return device_id

    def hub(self, integration: C.Integration) -> str:
        """The integration's bridge or coordinator, created with its first device (in the
        office when there is one)."""
        if integration.domain not in self.hubs:
            area = next(
                (r.area_id for r in self.rooms if r.template.name == "Office"),
                self.rooms[0].area_id if self.rooms else None,
            )
            model = integration.hub or "Hub"
            hub = C.DeviceTemplate(model, integration.domain, model, ())
            self.hubs[integration.domain] = self.add_device(hub, model, area, via_hub=False)
        return self.hubs[integration.domain]

    # --- entities -----------------------------------------------------------------------------

    def add_entity(
        self,
        domain: str,
        object_name: str,
        built: Built,
        *,
        original_name: str | None,
        friendly_name: str,
        platform: str | None,
        unique_id: str | None,
        device_id: str | None = None,
        has_entity_name: bool = False,
        category: str | None = None,
        disabled: bool = False,
        hidden: bool = False,
        labels: tuple[str, ...] = (),
        aliases: tuple[str, ...] = (),
        icon: str | None = None,
        name: str | None = None,
        unavailable: bool = False,
        config_entry: bool = True,
    ) -> str:
        """Add an entity; without `platform` it is state-only (YAML without unique_id)."""
        entity_id = self._free_entity_id(domain, object_name)
        display = name or friendly_name
        exposed = default_exposed(entity_id, built.device_class, category=category, hidden=hidden)
        if not disabled:
            if unavailable:
                built = Built(
                    "unavailable", built.capabilities, {}, built.device_class, built.unit, built.supported_features
                )
            self.states[entity_id] = self.state_dict(
                entity_id, built.state, compose(built, friendly_name=display, icon=icon)
            )
        if platform is None:
            self.legacy_exposure[entity_id] = exposed
            return entity_id
        created = self.tick()
        self.entities[entity_id] = registry_entry(
            entity_id,
            platform,
            unique_id,
            entry_uuid=uuid_hex(self.rng),
            created=created,
            modified=self.tick() if name or aliases else created,
            config_entry_id=self.entry_ids.get(platform) if config_entry else None,
            device_id=device_id,
            disabled=disabled,
            category=category,
            has_entity_name=has_entity_name,
            hidden=hidden,
            labels=[slugify(label) for label in labels],
            name=name,
            exposed=exposed,
            original_name=original_name,
            aliases=list(aliases),
            capabilities=built.capabilities,
            original_device_class=built.device_class,
            original_icon=icon,
        )
        return entity_id

    def _free_entity_id(self, domain: str, object_name: str) -> str:
        base = slugify(object_name)
        object_id, tries = base, 1
        while f"{domain}.{object_id}" in self.states or f"{domain}.{object_id}" in self.entities:
            tries += 1
            object_id = f"{base}_{tries}"
        return f"{domain}.{object_id}"

    def state_dict(self, entity_id: str, state: str, attributes: dict[str, Any]) -> dict[str, Any]:
        changed = self.changed_at()
        return state_entry(entity_id, state, attributes, changed=changed, context_id=ulid(self.now - 5, self.rng))

    def build_profile(self, profile: str, name: str) -> Built:
        built = PROFILES[profile](Context(self.rng, self.now, name))
        if not self.plan.metric:
            built = self._imperial(built)
        return built

    def _imperial(self, built: Built) -> Built:
        """Temperatures in °F, as HA converts sensors and climate to the unit system."""
        if built.unit == "°C":
            built.state = f"{_f(float(built.state)):.1f}"
            built.unit = "°F"
        caps = built.capabilities or {}
        if "min_temp" in caps:
            built.capabilities = caps | {
                "min_temp": round(_f(caps["min_temp"])),
                "max_temp": round(_f(caps["max_temp"])),
            }
            for key in ("current_temperature", "temperature"):
                if built.attributes.get(key) is not None:
                    built.attributes[key] = round(_f(built.attributes[key]))
        if built.attributes.get("temperature_unit") == "°C":  # weather
            built.attributes |= {
                "temperature": _f(built.attributes["temperature"]),
                "dew_point": _f(built.attributes["dew_point"]),
                "temperature_unit": "°F",
                "pressure": 29.95,
                "pressure_unit": "inHg",
                "wind_speed": 8.9,
                "wind_speed_unit": "mph",
                "visibility_unit": "mi",
                "precipitation_unit": "in",
            }
        return built

    # --- the steps ----------------------------------------------------------------------------

    def build(self) -> None:
        for label in C.LABELS:
            self.add_label(*label)
        room_counts: dict[str, int] = {}
        for floor in self.plan.floors:
            floor_id = self.add_floor(floor)
            for template in floor.rooms:
                self._place_room(template, floor_id, room_counts, self._prefix(floor.name))
        for template in self.plan.outdoor:
            self._place_room(template, None, room_counts, prefix="")
        for room in self.rooms:
            self._furnish(room)
        self._weather()
        self._own_areas()
        self._people_and_places()
        self._helpers()
        self._scenes()
        self._scripts()
        self._automations()
        self._yaml()

    @staticmethod
    def _prefix(floor_name: str) -> str:
        """Rooms of a multi-building site carry the building name ("Guest House Kitchen")."""
        for building in ("Office Building", "Guest House", "Workshop Building"):
            if floor_name.startswith(building):
                return building.removesuffix(" Building") + " "
        return ""

    def _place_room(self, template_name: str, floor_id: str | None, counts: dict[str, int], prefix: str) -> None:
        template = C.ROOMS[template_name]
        key = prefix + template_name
        counts[key] = counts.get(key, 0) + 1
        name = key if counts[key] == 1 else f"{key} {counts[key]}"
        if name in (r.name for r in self.rooms):  # e.g. two buildings' "Workshop"
            name = f"{name} {len(self.rooms)}"
        self.add_area(name, template, floor_id)

    def _furnish(self, room: _Room) -> None:
        cap = self.plan.devices_per_room
        for place in room.template.places:
            if place.chance < 1.0 and self.rng.random() >= place.chance:
                continue
            if cap is not None and len(room.device_ids) >= cap:
                break
            template = C.DEVICES[place.device]
            self._device(template, f"{room.name} {place.name or template.name}", room)

    def _device(self, template: C.DeviceTemplate, name: str, room: _Room | None) -> str:
        device_id = self.add_device(template, name, room.area_id if room else None)
        if room:
            room.device_ids.append(device_id)
        unavailable = self.rng.random() < self.plan.unavailable_share
        renamed = False
        for index, spec in enumerate(template.all_entities()):
            if spec.category and self.rng.random() >= self.plan.extras_share:
                continue
            friendly = f"{name} {spec.name}" if spec.name else name
            built = self.build_profile(spec.profile, friendly)
            main = spec.category is None and index == 0
            aliases = template.aliases if main and template.aliases and self.rng.random() < 0.7 else ()
            user_name = None
            if spec.category is None and not renamed and room and self.rng.random() < self.plan.user_named_share * 3:
                user_name = f"{room.name} {spec.name or template.name}"
                renamed = True
            hidden = spec.category is None and not main and self.rng.random() < 0.03
            unique_id = f"{device_id[:12]}-{slugify(spec.name or spec.domain)}"
            entity_id = self.add_entity(
                spec.domain,
                friendly,
                built,
                original_name=spec.name,
                friendly_name=friendly,
                platform=template.platform,
                unique_id=unique_id,
                device_id=device_id,
                has_entity_name=True,
                category=spec.category,
                disabled=spec.disabled,
                hidden=hidden,
                labels=spec.labels,
                aliases=aliases,
                name=user_name,
                unavailable=unavailable,
            )
            if (
                room
                and built.device_class in ("temperature", "humidity")
                and spec.domain == "sensor"
                and not spec.disabled
            ):
                key = f"{built.device_class}_entity_id"
                area = self.areas[room.area_id]
                if area[key] is None:
                    area[key] = entity_id
        return device_id

    def _weather(self) -> None:
        self._device(C.DEVICES["weather"], "Forecast Home", None)

    def _own_areas(self) -> None:
        """Some entities sit elsewhere than their device (a relay wired to the next room)."""
        by_floor: dict[str | None, list[str]] = {}
        for room in self.rooms:
            by_floor.setdefault(room.floor_id, []).append(room.area_id)
        for entry in self.entities.values():
            device_id = entry["device_id"]
            if not device_id or entry["entity_category"] or entry["disabled_by"]:
                continue
            if self.rng.random() >= self.plan.own_area_share:
                continue
            device_area = self.devices[device_id]["area_id"]
            if device_area is None:
                continue
            floor = self.areas[device_area]["floor_id"]
            others = [a for a in by_floor.get(floor, []) if a != device_area]
            if others:
                entry["area_id"] = self.rng.choice(others)

    def _people_and_places(self) -> None:
        plan, lat, lon = self.plan, self.plan.latitude, self.plan.longitude
        at_home: list[str] = []
        for person in plan.people:
            slug = slugify(person)
            home = self.rng.random() < 0.6
            tracker = self.add_entity(
                "device_tracker",
                f"{person} Phone",
                Built(
                    "home" if home else "not_home",
                    None,
                    {
                        "source_type": "gps",
                        "battery_level": self.rng.randint(20, 100),
                        "latitude": round(lat + (0 if home else 0.02), 6),
                        "longitude": round(lon + (0 if home else -0.013), 6),
                        "gps_accuracy": 12,
                    },
                ),
                original_name=None,
                friendly_name=f"{person} Phone",
                platform=None,
                unique_id=None,
            )
            self.notify_targets[f"mobile_app_{slug}_phone"] = f"{person}'s phone"
            attrs: dict[str, Any] = {"editable": True, "id": slug, "device_trackers": [tracker]}
            if home:
                attrs |= {"latitude": lat, "longitude": lon, "gps_accuracy": 12, "source": tracker}
            attrs["user_id"] = self.user_id if person == plan.people[0] else uuid_hex(self.rng)
            person_id = self.add_entity(
                "person",
                person,
                Built("home" if home else "not_home", None, attrs),
                original_name=person,
                friendly_name=person,
                platform="person",
                unique_id=slug,
                config_entry=False,
            )
            if home:
                at_home.append(person_id)
        self.add_entity(
            "zone",
            "home",
            Built(
                str(len(at_home)),
                None,
                {
                    "latitude": lat,
                    "longitude": lon,
                    "radius": 100,
                    "passive": False,
                    "persons": at_home,
                    "editable": True,
                },
            ),
            original_name=None,
            friendly_name=plan.location_name,
            platform=None,
            unique_id=None,
            icon="mdi:home",
        )
        for name, dlat, dlon, radius in C.EXTRA_ZONES[: 1 + len(plan.people) // 3]:
            self.add_entity(
                "zone",
                name,
                Built(
                    "0",
                    None,
                    {
                        "latitude": round(lat + dlat, 6),
                        "longitude": round(lon + dlon, 6),
                        "radius": radius,
                        "passive": False,
                        "persons": [],
                        "editable": False,
                    },
                ),
                original_name=None,
                friendly_name=name,
                platform=None,
                unique_id=None,
                icon="mdi:briefcase" if name == "Work" else "mdi:map-marker",
            )
        self.add_entity(
            "sun", "sun", self._sun(), original_name=None, friendly_name="Sun", platform=None, unique_id=None
        )
        self.components.update({"mobile_app", "notify", "persistent_notification"})

    def _sun(self) -> Built:
        """Plausible (not astronomical) sun times around `now`."""
        local = datetime.fromtimestamp(self.now, self.tz)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)

        def next_at(hour: float) -> str:
            moment = day + timedelta(hours=hour)
            if moment.timestamp() <= self.now:
                moment += timedelta(days=1)
            return iso(moment.timestamp())

        up = 6.5 <= local.hour + local.minute / 60 < 20.5
        return Built(
            "above_horizon" if up else "below_horizon",
            None,
            {
                "next_dawn": next_at(6.0),
                "next_dusk": next_at(21.0),
                "next_midnight": next_at(1.3),
                "next_noon": next_at(13.3),
                "next_rising": next_at(6.5),
                "next_setting": next_at(20.5),
                "elevation": 31.2 if up else -12.4,
                "azimuth": 180.3,
                "rising": local.hour < 13,
            },
        )

    def _helpers(self) -> None:
        """`helpers_per_domain` of each helper domain, cycling the catalogue and numbering
        names on later rounds ("Guest Mode 2")."""
        for domain, items in C.HELPERS.items():
            for index in range(self.plan.helpers_per_domain):
                name, options = items[index % len(items)]
                round_ = index // len(items)
                self._helper(domain, name if round_ == 0 else f"{name} {round_ + 1}", options)

    def _helper(self, domain: str, name: str, options: dict[str, Any]) -> None:
        attrs: dict[str, Any] = {}
        caps: dict[str, Any] | None = None
        unit = None
        state = "unknown"
        if domain == "input_boolean":
            state = "off"
            attrs = {"editable": True}
        elif domain == "input_number":
            low, high, value = options["min"], options["max"], options["value"]
            unit = options.get("unit")
            if unit == "°C" and not self.plan.metric:
                low, high, value, unit = float(round(_f(low))), float(round(_f(high))), float(round(_f(value))), "°F"
            state = str(value)
            attrs = {
                "initial": None,
                "editable": True,
                "min": low,
                "max": high,
                "step": options["step"],
                "mode": options["mode"],
            }
        elif domain == "input_select":
            state = options["options"][0]
            attrs = {"options": list(options["options"]), "editable": True}
        elif domain == "input_text":
            state = options["value"]
            attrs = {"editable": True, "min": 0, "max": 100, "pattern": None, "mode": options.get("mode", "text")}
        elif domain == "input_datetime":
            state, attrs = self._datetime_helper(options)
        elif domain == "input_button":
            attrs = {"editable": True}
        elif domain == "counter":
            state = str(options["value"])
            attrs = {"editable": True, "initial": options["initial"], "step": options["step"]}
        elif domain == "timer":
            state = "idle"
            attrs = {"duration": options["duration"], "editable": True}
        elif domain == "schedule":
            state, attrs = self._schedule(name, options)
        built = Built(state, caps, attrs, unit=unit)
        icon = options.get("icon")
        entity_id = self.add_entity(
            domain,
            name,
            built,
            original_name=name,
            friendly_name=name,
            platform=domain,
            unique_id=slugify(name),
            icon=icon,
            config_entry=False,
        )
        if domain == "schedule":
            self.schedules[entity_id] = self._week(options)

    def _datetime_helper(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        has_date, has_time, value = options["has_date"], options["has_time"], options["value"]
        attrs: dict[str, Any] = {"has_date": has_date, "has_time": has_time, "editable": True}
        if has_date:
            moment = datetime.fromisoformat(value).replace(tzinfo=self.tz)
        else:
            moment = datetime.fromisoformat(f"1970-01-01 {value}")
        if has_date:
            attrs |= {"year": moment.year, "month": moment.month, "day": moment.day}
        if has_time:
            attrs |= {"hour": moment.hour, "minute": moment.minute, "second": moment.second}
        if has_date:
            attrs["timestamp"] = moment.timestamp()
        else:
            attrs["timestamp"] = moment.hour * 3600 + moment.minute * 60 + moment.second
        return value, attrs

    @staticmethod
    def _week(options: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
        days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        return {
            day: ([{"from": options["from"], "to": options["to"]}] if day in options["days"] else []) for day in days
        }

    def _schedule(self, name: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        local = datetime.fromtimestamp(self.now, self.tz)
        start = datetime.strptime(options["from"], "%H:%M:%S").time()
        end = datetime.strptime(options["to"], "%H:%M:%S").time()
        today = local.strftime("%A").lower() in options["days"]
        on = today and start <= local.time() < end
        boundary = end if on else start
        event = local.replace(hour=boundary.hour, minute=boundary.minute, second=boundary.second, microsecond=0)
        if event <= local:
            event += timedelta(days=1)
        return ("on" if on else "off"), {"editable": True, "next_event": event.isoformat()}

    def _scenes(self) -> None:
        self._by_area = self._index_main_entities()
        for template in C.SCENES:
            targets: dict[str, dict[str, Any]] = {}
            for domain, room_name, state, attributes in template.targets:
                # A list in room order, not a set: the home must not depend on hash seeds.
                areas = [r.area_id for r in self.rooms if room_name is None or r.template.name == room_name]
                for entity_id in self._main_entities(domain, areas):
                    targets[entity_id] = {"state": state, "attributes": attributes}
            self._scene(template.name, template.icon, targets)
        for room in self.rooms:
            lights = self._main_entities("light", [room.area_id])
            for name, brightness in C.ROOM_SCENES[: self.plan.room_scenes if lights else 0]:
                targets = {light: {"state": "on", "attributes": {"brightness": brightness}} for light in lights}
                self._scene(f"{room.name} {name}", "mdi:palette", targets)

    def _scene(self, name: str, icon: str | None, targets: dict[str, dict[str, Any]]) -> None:
        if not targets:
            return
        scene_id = slugify(name)
        entity_id = self.add_entity(
            "scene",
            name,
            Built("unknown", None, {"entity_id": list(targets), "id": scene_id}),
            original_name=name,
            friendly_name=name,
            platform="homeassistant",
            unique_id=scene_id,
            icon=icon,
            config_entry=False,
        )
        self.scenes[entity_id] = targets

    def _index_main_entities(self) -> dict[str | None, list[str]]:
        """Effective area -> registry entities with a state and without a category."""
        index: dict[str | None, list[str]] = {}
        for entry in self.entities.values():
            if entry["entity_category"] or entry["entity_id"] not in self.states:
                continue
            area = entry["area_id"] or (self.devices[entry["device_id"]]["area_id"] if entry["device_id"] else None)
            index.setdefault(area, []).append(entry["entity_id"])
        return index

    def _main_entities(self, domain: str, areas: list[str]) -> list[str]:
        prefix = domain + "."
        return [
            entity_id for area in areas for entity_id in self._by_area.get(area, ()) if entity_id.startswith(prefix)
        ]

    def _scripts(self) -> None:
        for template in C.SCRIPTS:
            object_id = slugify(template.name)
            attrs = {"last_triggered": None, "mode": "single", "current": 0}
            entity_id = self.add_entity(
                "script",
                template.name,
                Built("off", None, attrs),
                original_name=template.name,
                friendly_name=template.name,
                platform="script",
                unique_id=object_id,
                icon=template.icon,
                config_entry=False,
            )
            self.scripts[entity_id] = {
                "name": template.name,
                "description": template.description,
                "fields": script_fields(template.fields),
                "sequence": list(template.sequence),
                "icon": template.icon,
                "mode": "single",
            }

    def _automations(self) -> None:
        names = list(C.HOME_AUTOMATIONS)
        for pattern in C.AUTOMATION_PATTERNS:
            names.extend(pattern.format(room=room.name) for room in self.rooms)
        for index, name in enumerate(names[: self.plan.automations]):
            automation_id = str(1_700_000_000_000 + index * 7_919)
            triggered = iso(self.changed_at()) if self.rng.random() < 0.7 else None
            attrs = {"id": automation_id, "last_triggered": triggered, "mode": "single", "current": 0}
            self.add_entity(
                "automation",
                name,
                Built("on" if self.rng.random() < 0.9 else "off", None, attrs),
                original_name=name,
                friendly_name=name,
                platform="automation",
                unique_id=automation_id,
                config_entry=False,
            )

    def _yaml(self) -> None:
        for room in self.rooms:
            for spec in room.template.yaml[: self.plan.yaml_per_room]:
                self._yaml_entity(spec, room.name)
        for spec in C.HOME_YAML:
            self._yaml_entity(spec, "")

    def _yaml_entity(self, spec: C.YamlEntity, room: str) -> None:
        name = spec.name.format(room=room).strip()
        built = self.build_profile(spec.profile, name)
        self.add_entity(spec.domain, name, built, original_name=None, friendly_name=name, platform=None, unique_id=None)
        self.components.add("template")

    def config(self) -> dict[str, Any]:
        plan = self.plan
        components = (
            self.components
            | {d.split(".")[0] for d in self.states}
            | {f"{e['platform']}.{e['entity_id'].split('.')[0]}" for e in self.entities.values()}
        )
        return core_config(
            location_name=plan.location_name,
            time_zone=plan.time_zone,
            country=plan.country,
            currency=plan.currency,
            latitude=plan.latitude,
            longitude=plan.longitude,
            elevation=plan.elevation,
            metric=plan.metric,
            components=components,
        )


def build_home(size: str, seed: int, now: float) -> GeneratedHome:
    if size not in C.PLANS:
        raise ValueError(f"unknown home size {size!r}; choose one of {', '.join(C.PLANS)}")
    rng = random.Random(f"{size}:{seed}")
    builder = _Builder(C.PLANS[size], rng, now)
    builder.build()
    return GeneratedHome(
        config=builder.config(),
        states=builder.states,
        floors=builder.floors,
        areas=builder.areas,
        labels=builder.labels,
        devices=builder.devices,
        entities=builder.entities,
        legacy_exposure=builder.legacy_exposure,
        scenes=builder.scenes,
        scripts=builder.scripts,
        schedules=builder.schedules,
        notify_targets=builder.notify_targets,
        user_id=builder.user_id,
    )
