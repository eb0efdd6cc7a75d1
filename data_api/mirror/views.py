"""Kinds derived from the entities and services: helpers, scenes, and scripts with their fields.

Each view is rebuilt only when the entities or services it comes from change, and its version
changes exactly when its content does (not whenever any entity's state does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache

from data_api.ha import HELPER_DOMAINS, Entity, Service, ServiceField

from .collection import Collection

VIEW_KINDS = ("helpers", "scenes", "scripts")


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


class Views:
    """The derived kinds of one mirror, each cached for its kind's TTL."""

    def __init__(self, mirror: Any) -> None:
        self._mirror = mirror
        self._cache: dict[str, TTLCache[tuple[int, int], Collection]] = {
            kind: TTLCache(maxsize=2, ttl=mirror.settings.cache_ttl(kind)) for kind in VIEW_KINDS
        }
        self._last: dict[str, tuple[list[Any], Collection]] = {}  # the items and collection last derived

    async def read(self, kind: str) -> Collection:
        entities = await self._mirror.read("entities")
        services = await self._mirror.read("services")
        cache = self._cache[kind]
        sources = (entities.version, services.version)
        data = cache.get(sources)
        if data is not None:
            return data
        items = derive_view(kind, entities.sorted_items(), services.items)
        # The view changes (its version and generation) exactly when its content does, not when
        # any entity does: the same content is the same collection.
        previous, data = self._last.get(kind, (None, None))
        if data is None or items != previous:
            version = data.version + 1 if data is not None else 1
            data = Collection(kind, {item.key: item for item in items}, version, entities.synced_at)
            self._last[kind] = (items, data)
        data.synced_at = entities.synced_at
        cache.clear()
        cache[sources] = data
        return data


def derive_view(kind: str, entities: Sequence[Entity], services: dict[str, Service]) -> list[Any]:
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
