"""How each kind of item maps onto its table: model class, key column, filter columns, labels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import Column, Table

from data_api.ha.models import Area, Device, Entity, Floor, HAConfig, Label, Service

from .schema import (
    AreaRow,
    ConfigRow,
    DeviceRow,
    EntityRow,
    FloorRow,
    LabelRow,
    ServiceRow,
    table_of,
)

Kind = Literal["config", "floors", "areas", "labels", "devices", "entities", "services"]
KINDS: tuple[Kind, ...] = get_args(Kind)

# HAConfig is one per home and has no key of its own; this stands for it in key lists.
CONFIG_KEY = "config"


@dataclass(frozen=True, slots=True)
class KindSpec:
    name: Kind
    table: Table
    model: type[Any]
    key: Column[str] | None  # None: one row per home (config)
    columns: Callable[[Any], dict[str, Any]]  # the filter/sort columns of one item
    labelled: bool  # whether its items' labels go to the item_labels table

    def key_of(self, item: Any) -> str:
        return CONFIG_KEY if self.key is None else item.key

    def row(self, home_id: str, item: Any) -> dict[str, Any]:
        return {"home_id": home_id, **self.columns(item), "data": item.as_dict()}


def _config(_: HAConfig) -> dict[str, Any]:
    return {}


def _floor(floor: Floor) -> dict[str, Any]:
    return {"floor_id": floor.floor_id, "name": floor.name, "level": floor.level}


def _area(area: Area) -> dict[str, Any]:
    return {"area_id": area.area_id, "name": area.name, "floor_id": area.floor_id}


def _label(label: Label) -> dict[str, Any]:
    return {"label_id": label.label_id, "name": label.name}


def _device(device: Device) -> dict[str, Any]:
    return {"device_id": device.id, "name": device.name, "area_id": device.area_id}


def _entity(entity: Entity) -> dict[str, Any]:
    return {
        "entity_id": entity.entity_id,
        "domain": entity.domain,
        "name": entity.name,
        "area_id": entity.area_id,
        "floor_id": entity.floor_id,
        "device_id": entity.device_id,
        "exposed": entity.exposed,
        "state": entity.state,
        "last_changed": entity.last_changed,
    }


def _service(service: Service) -> dict[str, Any]:
    return {"service_id": service.key, "domain": service.domain, "service": service.service}


SPECS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (
        KindSpec("config", table_of(ConfigRow), HAConfig, None, _config, False),
        KindSpec("floors", table_of(FloorRow), Floor, table_of(FloorRow).c.floor_id, _floor, False),
        KindSpec("areas", table_of(AreaRow), Area, table_of(AreaRow).c.area_id, _area, True),
        KindSpec("labels", table_of(LabelRow), Label, table_of(LabelRow).c.label_id, _label, False),
        KindSpec("devices", table_of(DeviceRow), Device, table_of(DeviceRow).c.device_id, _device, True),
        KindSpec("entities", table_of(EntityRow), Entity, table_of(EntityRow).c.entity_id, _entity, True),
        KindSpec("services", table_of(ServiceRow), Service, table_of(ServiceRow).c.service_id, _service, False),
    )
}


def spec_for(kind: str) -> KindSpec:
    try:
        return SPECS[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}: expected one of {', '.join(KINDS)}") from None
