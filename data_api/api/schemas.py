"""The shapes of the API's JSON bodies, for OpenAPI (clients, generators and the fuzzer read it).

Bodies are serialized from the models' `as_dict()` (see `bodies.py`), not through these classes:
they document the contract, and the schema-conformance tests hold the two together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model


# --- items (the `as_dict()` of data_api.ha.models) -----------------------------------------------
class Floor(BaseModel):
    floor_id: str
    name: str
    aliases: list[str]
    level: int | None
    icon: str | None


class Area(BaseModel):
    area_id: str
    name: str
    aliases: list[str]
    floor_id: str | None
    labels: list[str]
    icon: str | None


class Label(BaseModel):
    label_id: str
    name: str
    color: str | None
    icon: str | None
    description: str | None


class Device(BaseModel):
    id: str
    name: str
    area_id: str | None
    manufacturer: str | None
    model: str | None
    via_device_id: str | None
    disabled: bool
    labels: list[str]


class Entity(BaseModel):
    entity_id: str
    domain: str
    name: str
    state: str
    attributes: dict[str, Any]
    aliases: list[str]
    area_id: str | None = Field(description="The entity's own area, else its device's")
    floor_id: str | None
    device_id: str | None
    labels: list[str]
    platform: str | None
    device_class: str | None
    entity_category: str | None
    hidden: bool
    exposed: bool = Field(description="Exposed to voice assistants (Assist) by the home's owner")
    in_registry: bool
    last_changed: str | None
    last_updated: str | None


class ServiceField(BaseModel):
    name: str
    required: bool
    selector: dict[str, Any]
    example: Any = None
    description: str | None


class Service(BaseModel):
    service_id: str = Field(description="`domain.service`")
    domain: str
    service: str
    name: str | None
    description: str | None
    fields: list[ServiceField]
    has_target: bool
    response: Literal["optional", "only"] | None


class Script(Entity):
    fields: list[ServiceField] = Field(description="The fields the script takes when run")


class Config(BaseModel):
    location_name: str
    time_zone: str
    language: str
    country: str | None
    version: str
    latitude: float | None
    longitude: float | None
    currency: str | None
    unit_system: dict[str, str]
    state: str | None


ITEM_MODELS: dict[str, type[BaseModel]] = {
    "floors": Floor,
    "areas": Area,
    "labels": Label,
    "devices": Device,
    "entities": Entity,
    "services": Service,
    "helpers": Entity,
    "scenes": Entity,
    "scripts": Script,
}


# --- envelopes ---------------------------------------------------------------------------------
class Freshness(BaseModel):
    version: int = Field(description="Changes exactly when the data does (within one server process)")
    fetched_at: datetime | None = Field(description="When the data was last synced from Home Assistant")
    stale: bool = Field(description="True while the mirror may lag behind Home Assistant")


class _Page(Freshness):
    total: int = Field(description="Items matching the filters, over all pages")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


def page_model(kind: str) -> type[BaseModel]:
    item = ITEM_MODELS[kind]
    name = f"{kind.capitalize()}Page"
    return create_model(name, __base__=_Page, items=(list[item], ...))  # type: ignore[valid-type]


def item_model(name: str, item: type[BaseModel]) -> type[BaseModel]:
    return create_model(name, __base__=Freshness, item=(item, ...))


class Health(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["ok", "degraded"] = Field(description="degraded: behind Home Assistant, or the database fails")
    connected: bool = Field(description="Connected to Home Assistant")
    stale: bool
    database: dict[str, Any] = Field(description="ok, latency_ms, error: whether the database could take a write")
