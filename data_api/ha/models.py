"""Typed models of what Home Assistant sends, and the merge of states with the registries.

Each model is built from HA's wire format by `from_ha` and is immutable: the mirror replaces an
item when it changes, so a reader holding one never sees it half-updated. `as_dict` gives the
mirror's own JSON form (stable field names, no HA internals).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

_M = TypeVar("_M")

HELPER_DOMAINS = frozenset(
    {
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
)

# Home Assistant's default Assist exposure (homeassistant/components/homeassistant/
# exposed_entities.py in 2025.4.4): used for entities HA has not stored a choice for yet.
DEFAULT_EXPOSED_DOMAINS = frozenset(
    {
        "climate",
        "cover",
        "fan",
        "humidifier",
        "light",
        "media_player",
        "scene",
        "switch",
        "todo",
        "vacuum",
        "water_heater",
    }
)
DEFAULT_EXPOSED_BINARY_SENSOR_CLASSES = frozenset(
    {"door", "garage_door", "lock", "motion", "opening", "presence", "window"}
)
DEFAULT_EXPOSED_SENSOR_CLASSES = frozenset(
    {
        "aqi",
        "carbon_monoxide",
        "carbon_dioxide",
        "humidity",
        "pm10",
        "pm25",
        "temperature",
        "volatile_organic_compounds",
    }
)


def _plain(item: Any) -> dict[str, Any]:
    """A model's fields as JSON-ready values: tuples become lists, mappings plain dicts.

    Shallow on purpose: `dataclasses.asdict` deep-copies every attribute and was half the time
    of storing a 5,000-entity home.
    """
    data = {}
    for name in item.__slots__:
        value = getattr(item, name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        data[name] = value
    return data


def _tuple(value: Iterable[Any] | None) -> tuple[Any, ...]:
    return tuple(value or ())


_FIELD_NAMES: dict[type, frozenset[str]] = {}


def _field_names(cls: type) -> frozenset[str]:
    # Cached: loading a kind rebuilds thousands of items of the same few classes.
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in fields(cls))
    return names


def _from_dict(cls: type[_M], data: Mapping[str, Any], tuples: Iterable[str] = ()) -> _M:
    """The inverse of `as_dict`: known fields only, JSON lists back to tuples.

    Unknown keys (e.g. `Service.as_dict`'s derived `service_id`) are dropped, and missing ones
    take the field's default, so rows stored by an older version of a model still load.
    """
    names = _field_names(cls)
    values = {name: value for name, value in data.items() if name in names}
    for name in tuples:
        if name in values:
            values[name] = _tuple(values[name])
    return cls(**values)


def split_entity_id(entity_id: str) -> tuple[str, str]:
    domain, _, object_id = entity_id.partition(".")
    return domain, object_id


@dataclass(frozen=True, slots=True)
class HAConfig:
    location_name: str
    time_zone: str
    language: str
    country: str | None
    version: str
    latitude: float | None
    longitude: float | None
    currency: str | None
    unit_system: Mapping[str, str]
    state: str | None

    @classmethod
    def from_ha(cls, data: Mapping[str, Any]) -> HAConfig:
        return cls(
            location_name=data.get("location_name") or "Home",
            time_zone=data.get("time_zone") or "UTC",
            language=data.get("language") or "en",
            country=data.get("country"),
            version=str(data.get("version", "")),
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            currency=data.get("currency"),
            unit_system=dict(data.get("unit_system") or {}),
            state=data.get("state"),
        )

    @property
    def key(self) -> str:
        return "config"  # one per home

    def as_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HAConfig:
        return _from_dict(cls, data)


@dataclass(frozen=True, slots=True)
class State:
    entity_id: str
    state: str
    attributes: Mapping[str, Any]
    last_changed: str | None
    last_updated: str | None

    @classmethod
    def from_ha(cls, data: Mapping[str, Any]) -> State:
        return cls(
            entity_id=data["entity_id"],
            state=str(data.get("state", "unknown")),
            attributes=data.get("attributes") or {},
            last_changed=data.get("last_changed"),
            last_updated=data.get("last_updated"),
        )


@dataclass(frozen=True, slots=True)
class Floor:
    floor_id: str
    name: str
    aliases: tuple[str, ...] = ()
    level: int | None = None
    icon: str | None = None

    @classmethod
    def from_ha(cls, data: Mapping[str, Any]) -> Floor:
        return cls(
            floor_id=data["floor_id"],
            name=data.get("name") or data["floor_id"],
            aliases=tuple(sorted(data.get("aliases") or ())),
            level=data.get("level"),
            icon=data.get("icon"),
        )

    @property
    def key(self) -> str:
        return self.floor_id

    def as_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Floor:
        return _from_dict(cls, data, ("aliases",))


@dataclass(frozen=True, slots=True)
class Area:
    area_id: str
    name: str
    aliases: tuple[str, ...] = ()
    floor_id: str | None = None
    labels: tuple[str, ...] = ()
    icon: str | None = None

    @classmethod
    def from_ha(cls, data: Mapping[str, Any]) -> Area:
        return cls(
            area_id=data["area_id"],
            name=data.get("name") or data["area_id"],
            aliases=tuple(sorted(data.get("aliases") or ())),
            floor_id=data.get("floor_id"),
            labels=tuple(sorted(data.get("labels") or ())),
            icon=data.get("icon"),
        )

    @property
    def key(self) -> str:
        return self.area_id

    def as_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Area:
        return _from_dict(cls, data, ("aliases", "labels"))


@dataclass(frozen=True, slots=True)
class Label:
    label_id: str
    name: str
    color: str | None = None
    icon: str | None = None
    description: str | None = None

    @classmethod
    def from_ha(cls, data: Mapping[str, Any]) -> Label:
        return cls(
            label_id=data["label_id"],
            name=data.get("name") or data["label_id"],
            color=data.get("color"),
            icon=data.get("icon"),
            description=data.get("description"),
        )

    @property
    def key(self) -> str:
        return self.label_id

    def as_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Label:
        return _from_dict(cls, data)


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    name: str
    area_id: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    via_device_id: str | None = None
    disabled: bool = False
    labels: tuple[str, ...] = ()

    @classmethod
    def from_ha(cls, data: Mapping[str, Any]) -> Device:
        return cls(
            id=data["id"],
            # What HA's UI shows: the user's name wins over the integration's.
            name=data.get("name_by_user") or data.get("name") or data.get("model") or data["id"],
            area_id=data.get("area_id"),
            manufacturer=data.get("manufacturer"),
            model=data.get("model"),
            via_device_id=data.get("via_device_id"),
            disabled=data.get("disabled_by") is not None,
            labels=tuple(sorted(data.get("labels") or ())),
        )

    @property
    def key(self) -> str:
        return self.id

    def as_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Device:
        return _from_dict(cls, data, ("labels",))


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """An entity registry entry (the list form, enriched by `get_entries` when available)."""

    entity_id: str
    device_id: str | None = None
    area_id: str | None = None
    name: str | None = None
    original_name: str | None = None
    platform: str | None = None
    disabled: bool = False
    hidden: bool = False
    entity_category: str | None = None
    labels: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    device_class: str | None = None
    should_expose: bool | None = None

    @classmethod
    def from_ha(cls, data: Mapping[str, Any]) -> RegistryEntry:
        options = data.get("options") or {}
        conversation = options.get("conversation") or {}
        return cls(
            entity_id=data["entity_id"],
            device_id=data.get("device_id"),
            area_id=data.get("area_id"),
            name=data.get("name"),
            original_name=data.get("original_name"),
            platform=data.get("platform"),
            disabled=data.get("disabled_by") is not None,
            hidden=data.get("hidden_by") is not None,
            entity_category=data.get("entity_category"),
            labels=tuple(sorted(data.get("labels") or ())),
            aliases=tuple(sorted(a for a in data.get("aliases") or () if a)),
            device_class=data.get("device_class") or data.get("original_device_class"),
            should_expose=conversation.get("should_expose"),
        )

    def with_details(self, extended: Mapping[str, Any]) -> RegistryEntry:
        """Add what only `config/entity_registry/get_entries` carries (aliases, device class)."""
        detailed = RegistryEntry.from_ha(extended)
        return replace(
            self,
            aliases=detailed.aliases,
            device_class=detailed.device_class or self.device_class,
            should_expose=(self.should_expose if detailed.should_expose is None else detailed.should_expose),
        )


@dataclass(frozen=True, slots=True)
class ServiceField:
    name: str
    required: bool = False
    selector: Mapping[str, Any] = field(default_factory=dict)
    example: Any = None
    description: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceField:
        return _from_dict(cls, data)


@dataclass(frozen=True, slots=True)
class Service:
    domain: str
    service: str
    name: str | None
    description: str | None
    fields: tuple[ServiceField, ...]
    has_target: bool
    response: str | None  # None, "optional" or "only"

    @classmethod
    def from_ha(cls, domain: str, service: str, data: Mapping[str, Any]) -> Service:
        return cls(
            domain=domain,
            service=service,
            name=data.get("name"),
            description=data.get("description"),
            fields=tuple(_service_fields(data.get("fields") or {})),
            has_target="target" in data,
            response=_response_kind(data.get("response")),
        )

    @property
    def key(self) -> str:
        return f"{self.domain}.{self.service}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "service_id": self.key,
            "domain": self.domain,
            "service": self.service,
            "name": self.name,
            "description": self.description,
            "fields": [f.as_dict() for f in self.fields],
            "has_target": self.has_target,
            "response": self.response,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Service:
        service_fields = tuple(ServiceField.from_dict(f) for f in data.get("fields") or ())
        return _from_dict(cls, {**data, "fields": service_fields})


def _response_kind(response: Mapping[str, Any] | None) -> str | None:
    if not response:
        return None
    return "optional" if response.get("optional") else "only"


def _service_fields(fields: Mapping[str, Any]) -> Iterable[ServiceField]:
    for name, spec in fields.items():
        spec = spec or {}
        # HA groups advanced fields in sections: {"advanced_fields": {"fields": {...}}}.
        if "fields" in spec and "selector" not in spec:
            yield from _service_fields(spec["fields"])
            continue
        yield ServiceField(
            name=name,
            required=bool(spec.get("required", False)),
            selector=spec.get("selector") or {},
            example=spec.get("example"),
            description=spec.get("description"),
        )


def parse_services(data: Mapping[str, Mapping[str, Any]]) -> list[Service]:
    """`get_services` (domain → service → description) as a flat, sorted list."""
    return [
        Service.from_ha(domain, service, spec)
        for domain, services in sorted(data.items())
        for service, spec in sorted(services.items())
    ]


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity as the mirror serves it: the registry merged with the live state."""

    entity_id: str
    domain: str
    name: str
    state: str
    attributes: Mapping[str, Any]
    aliases: tuple[str, ...] = ()
    area_id: str | None = None  # effective: the entity's own area, else its device's
    floor_id: str | None = None
    device_id: str | None = None
    labels: tuple[str, ...] = ()
    platform: str | None = None
    device_class: str | None = None
    entity_category: str | None = None
    hidden: bool = False
    exposed: bool = False
    in_registry: bool = False
    last_changed: str | None = None
    last_updated: str | None = None

    @property
    def key(self) -> str:
        return self.entity_id

    def as_state(self) -> State:
        return State(self.entity_id, self.state, self.attributes, self.last_changed, self.last_updated)

    def as_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entity:
        return _from_dict(cls, data, ("aliases", "labels"))


def _state_name(state: State) -> str:
    return str(state.attributes.get("friendly_name") or split_entity_id(state.entity_id)[1])


def default_exposed(entity_id: str, device_class: str | None, *, hidden: bool, category: str | None) -> bool:
    """Whether HA exposes an entity to Assist when nobody has chosen (HA's own default rule)."""
    if hidden or category is not None:
        return False
    domain = split_entity_id(entity_id)[0]
    if domain in DEFAULT_EXPOSED_DOMAINS:
        return True
    if domain == "binary_sensor":
        return device_class in DEFAULT_EXPOSED_BINARY_SENSOR_CLASSES
    if domain == "sensor":
        return device_class in DEFAULT_EXPOSED_SENSOR_CLASSES
    return False


def merge_entities(
    states: Iterable[State],
    registry: Iterable[RegistryEntry],
    devices: Mapping[str, Device],
    areas: Mapping[str, Area],
    exposed: Collection[str],
) -> list[Entity]:
    """Merge live states with the entity registry, as HA's own UI does.

    Every state becomes an entity, with or without a registry entry (HA's demo has ~40 of 130
    states with none). Registry entries without a state (disabled, or not loaded) are left out:
    they cannot be read or acted on. `exposed` is the set HA lists as exposed to Assist
    (`homeassistant/expose_entity/list` names only exposed entities).
    """
    by_id = {entry.entity_id: entry for entry in registry}
    merged = []
    for state in states:
        entry = by_id.get(state.entity_id)
        merged.append(build_entity(state, entry, devices, areas, state.entity_id in exposed))
    merged.sort(key=lambda e: e.entity_id)
    return merged


def build_entity(
    state: State,
    entry: RegistryEntry | None,
    devices: Mapping[str, Device],
    areas: Mapping[str, Area],
    listed_exposed: bool,
) -> Entity:
    """One entity from its state and registry entry.

    Exposure: the registry's stored choice; else listed by HA as exposed; else, for a registry
    entity HA has not decided yet, HA's default rule. A state-only entity HA does not
    list stays unexposed: HA may hold an explicit "no" for it that only the list reveals by
    leaving it out, and the owner's "no" must never be widened.
    """
    domain = split_entity_id(state.entity_id)[0]
    device_class = state.attributes.get("device_class")
    if entry is None:
        return Entity(
            entity_id=state.entity_id,
            domain=domain,
            name=_state_name(state),
            state=state.state,
            attributes=state.attributes,
            device_class=device_class,
            exposed=listed_exposed,
            last_changed=state.last_changed,
            last_updated=state.last_updated,
        )
    device = devices.get(entry.device_id) if entry.device_id else None
    area_id = entry.area_id or (device.area_id if device else None)
    area = areas.get(area_id) if area_id else None
    device_class = entry.device_class or device_class
    # The registry's stored choice is what HA's list is made of; the list decides only for
    # entities without one.
    exposed = entry.should_expose
    if exposed is None and listed_exposed:
        exposed = True
    if exposed is None:
        exposed = default_exposed(state.entity_id, device_class, hidden=entry.hidden, category=entry.entity_category)
    return Entity(
        entity_id=state.entity_id,
        domain=domain,
        name=entry.name or _state_name(state),
        state=state.state,
        attributes=state.attributes,
        aliases=entry.aliases,
        area_id=area_id,
        floor_id=area.floor_id if area else None,
        device_id=entry.device_id,
        labels=entry.labels,
        platform=entry.platform,
        device_class=device_class,
        entity_category=entry.entity_category,
        hidden=entry.hidden,
        exposed=exposed,
        in_registry=True,
        last_changed=state.last_changed,
        last_updated=state.last_updated,
    )
