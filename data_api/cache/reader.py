"""The mirror's read interface: filtered, paginated listings with their freshness and version.

The REST API serves it over HTTP; the agent uses it in-process when both run in one process.
Filtering runs on per-kind indexes that are rebuilt only when an item's grouping changes (not
on every state change), so `entities?area=kitchen` is a dictionary lookup at any home size.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from cachetools import TTLCache

from data_api.cache.tier import KindData, index_by
from data_api.ha import HELPER_DOMAINS, Entity, Service, ServiceField

LIST_KINDS = ("floors", "areas", "labels", "devices", "entities", "services", "helpers", "scenes", "scripts")
VIEW_KINDS = ("helpers", "scenes", "scripts")
MAX_LIMIT = 1000

# Which filters each kind understands; anything else is a clear 400, not a silent no-op.
FILTERS: dict[str, frozenset[str]] = {
    "floors": frozenset({"q"}),
    "labels": frozenset({"q"}),
    "areas": frozenset({"floor", "label", "q"}),
    "devices": frozenset({"area", "floor", "label", "q"}),
    "services": frozenset({"domain", "q"}),
    "entities": frozenset({"area", "floor", "domain", "device_id", "label", "exposed", "q"}),
    "helpers": frozenset({"area", "floor", "domain", "device_id", "label", "exposed", "q"}),
    "scenes": frozenset({"area", "floor", "label", "exposed", "q"}),
    "scripts": frozenset({"area", "floor", "label", "exposed", "q"}),
}


class QueryError(ValueError):
    """A filter, cursor or limit the caller must fix; the message says how."""


@dataclass(frozen=True, slots=True)
class Query:
    area: str | None = None
    floor: str | None = None
    domain: str | None = None
    device_id: str | None = None
    label: str | None = None
    exposed: bool | None = None
    q: str | None = None
    limit: int = 100
    cursor: str | None = None

    def filters(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("limit", "cursor") and getattr(self, f.name) is not None
        }


@dataclass(frozen=True, slots=True)
class Listing:
    kind: str
    items: list[Any]
    total: int
    next_cursor: str | None
    version: int
    fetched_at: datetime | None
    stale: bool


@dataclass(frozen=True, slots=True)
class ScriptView:
    """A script entity with the fields it takes (from its `script.<name>` service)."""

    entity: Entity
    fields: tuple[ServiceField, ...]

    @property
    def key(self) -> str:
        return self.entity.entity_id

    def __getattr__(self, name: str) -> Any:  # filters and indexes read the entity's attributes
        return getattr(self.entity, name)

    def as_dict(self) -> dict[str, Any]:
        return {**self.entity.as_dict(), "fields": [f.as_dict() for f in self.fields]}


def encode_cursor(kind: str, key: str) -> str:
    raw = json.dumps([kind, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_kind, key = json.loads(raw)
    except (ValueError, binascii.Error, TypeError):
        raise QueryError("cursor is not valid: pass back the next_cursor of a previous page") from None
    if cursor_kind != kind or not isinstance(key, str):
        raise QueryError(f"cursor belongs to another listing than {kind}")
    return key


class _Index:
    """Items of one kind grouped by each filterable attribute, kept per layout version."""

    def __init__(self) -> None:
        self.layout_version = -1
        self.groups: dict[str, Any] = {}

    def get(self, data: KindData, attr: str) -> dict[Any, list[str]]:
        if data.layout_version != self.layout_version:
            self.groups = {}
            self.layout_version = data.layout_version
        if attr not in self.groups:
            self.groups[attr] = {
                value: [item.key for item in items]
                for value, items in index_by(data.sorted_items(), attr).items()
            }
        return self.groups[attr]


class MirrorReader:
    """Reads of the mirror, for the API and for an in-process agent."""

    def __init__(self, mirror: Any) -> None:
        self.mirror = mirror
        self._indexes: dict[str, _Index] = {kind: _Index() for kind in LIST_KINDS}
        self._views: dict[str, TTLCache[tuple[int, int], KindData]] = {
            kind: TTLCache(maxsize=2, ttl=mirror.settings.cache_ttl(kind)) for kind in VIEW_KINDS
        }
        self._view_versions: dict[str, tuple[int, list[Any]]] = {}

    # --- freshness ------------------------------------------------------------------------
    def freshness(self, data: KindData) -> tuple[datetime | None, bool]:
        return data.synced_at, self.mirror.stale or data.synced_at is None

    async def kind_data(self, kind: str) -> KindData:
        if kind in VIEW_KINDS:
            return await self._view(kind)
        return await self.mirror.read(kind)

    # --- reads ----------------------------------------------------------------------------
    async def config(self) -> KindData:
        return await self.mirror.read("config")

    async def entity(self, entity_id: str) -> tuple[Entity | None, KindData]:
        data = await self.mirror.read("entities")
        return data.items.get(entity_id), data

    async def list(self, kind: str, query: Query) -> Listing:
        if kind not in FILTERS:
            raise QueryError(f"unknown kind {kind!r}")
        if not 1 <= query.limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
        filters = query.filters()
        unknown = set(filters) - FILTERS[kind]
        if unknown:
            raise QueryError(
                f"filter {', '.join(sorted(unknown))} does not apply to {kind}; "
                f"use {', '.join(sorted(FILTERS[kind]))}"
            )
        data = await self.kind_data(kind)
        keys = await self._select(kind, data, filters)
        total = len(keys)  # every match, not what is left after the cursor
        if query.cursor:
            after = decode_cursor(kind, query.cursor)
            keys = [k for k in keys if k > after]
        page = keys[: query.limit]
        fetched_at, stale = self.freshness(data)
        return Listing(
            kind=kind,
            items=[data.items[k] for k in page],
            total=total,
            next_cursor=encode_cursor(kind, page[-1]) if len(keys) > len(page) else None,
            version=data.version,
            fetched_at=fetched_at,
            stale=stale,
        )

    async def _select(self, kind: str, data: KindData, filters: dict[str, Any]) -> list[str]:
        """Keys matching every filter, in key order."""
        index = self._indexes[kind]
        selected: set[str] | None = None

        def narrow(keys: Iterable[str]) -> None:
            nonlocal selected
            selected = set(keys) if selected is None else selected & set(keys)

        if "area" in filters:
            area_id = await self._resolve("areas", filters["area"], "area")
            narrow(index.get(data, "area_id").get(area_id, ()))
        if "floor" in filters:
            floor_id = await self._resolve("floors", filters["floor"], "floor")
            if kind == "devices":  # a device is on the floor of its area
                areas = (await self.mirror.read("areas")).items.values()
                by_area = index.get(data, "area_id")
                narrow(k for a in areas if a.floor_id == floor_id for k in by_area.get(a.area_id, ()))
            else:
                narrow(index.get(data, "floor_id").get(floor_id, ()))
        if "label" in filters:
            label_id = await self._resolve("labels", filters["label"], "label")
            narrow(index.get(data, "labels").get(label_id, ()))
        if "device_id" in filters:
            devices = await self.mirror.read("devices")
            if filters["device_id"] not in devices.items:
                raise QueryError(f"unknown device_id {filters['device_id']!r}")
            narrow(index.get(data, "device_id").get(filters["device_id"], ()))
        if "domain" in filters:
            by_domain = index.get(data, "domain")
            if filters["domain"] not in by_domain and kind in ("entities", "services"):
                raise QueryError(f"unknown domain {filters['domain']!r}; known: {_some(by_domain)}")
            narrow(by_domain.get(filters["domain"], ()))
        if "exposed" in filters:
            narrow(index.get(data, "exposed").get(filters["exposed"], ()))
        keys = sorted(selected) if selected is not None else sorted(data.items)
        if "q" in filters:
            needle = filters["q"].strip().casefold()
            keys = [k for k in keys if _matches(data.items[k], needle)]
        return keys

    async def _resolve(self, kind: str, value: str, what: str) -> str:
        """An id, name or alias (any case) of an area, floor or label → its id."""
        data = await self.mirror.read(kind)
        if value in data.items:
            return value
        wanted = value.strip().casefold()
        for item in data.items.values():
            names = (item.name, *getattr(item, "aliases", ()))
            if any(n.casefold() == wanted for n in names):
                return item.key
        raise QueryError(f"unknown {what} {value!r}; known: {_some(data.items)}")

    # --- derived views: helpers, scenes, scripts ---------------------------------------------
    async def _view(self, kind: str) -> KindData:
        entities = await self.mirror.read("entities")
        services = await self.mirror.read("services")
        cache = self._views[kind]
        sources = (entities.version, services.version)
        data = cache.get(sources)
        if data is not None:
            return data
        items = _derive(kind, entities.sorted_items(), services.items)
        # The view's version changes exactly when its content does, not when any entity does.
        version, previous = self._view_versions.get(kind, (0, None))
        if items != previous:
            version += 1
            self._view_versions[kind] = (version, items)
        data = KindData(kind, {item.key: item for item in items}, version, entities.synced_at, layout_version=version)
        cache.clear()
        cache[sources] = data
        return data


def _derive(kind: str, entities: Sequence[Entity], services: dict[str, Service]) -> list[Any]:
    if kind == "helpers":
        return [e for e in entities if e.domain in HELPER_DOMAINS]
    if kind == "scenes":
        return [e for e in entities if e.domain == "scene"]
    scripts = []
    for entity in entities:
        if entity.domain == "script":
            service = services.get(entity.entity_id)  # script.x's service is named script.x
            scripts.append(ScriptView(entity, service.fields if service else ()))
    return scripts


def _matches(item: Any, needle: str) -> bool:
    haystack: list[str] = [item.key, getattr(item, "name", None) or ""]
    haystack += getattr(item, "aliases", ())
    for attr in ("manufacturer", "model", "description"):
        value = getattr(item, attr, None)
        if value:
            haystack.append(value)
    return any(needle in text.casefold() for text in haystack)


def _some(keys: Iterable[Any], limit: int = 10) -> str:
    names = sorted(str(k) for k in keys if k is not None)
    more = f", … ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


__all__ = ["FILTERS", "Listing", "MirrorReader", "Query", "QueryError", "ScriptView", "LIST_KINDS", "MAX_LIMIT"]
