"""The home as one turn's tool calls see it, and how names the model gives become ids.

Every name the model gives — entity, area, floor, label, device — is resolved here through
the mirror: an id, a name or an alias, in any case. A name of several things comes back as an
error listing them; an unknown one as an error with the closest matches. The model never
reaches Home Assistant with a name: only with ids this module produced and the policy checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from data_api import Collection as MirrorCollection
from data_api import Entity, Service

from .errors import HomeError
from .index import HomeIndex
from .policy import Policy
from .search import search
from .view import HomeView
from .words import fold

KINDS = ("entities", "areas", "floors", "devices", "labels", "services", "config")
_GROUPS = {"area": "areas", "floor": "floors", "label": "labels", "device": "devices"}
_INDEXED = ("entities", "areas", "floors", "devices", "labels")  # what the home index is built from
_LISTED = 12  # names listed in an error, at most
_SUGGESTED = 5


class IndexCache:
    """The last built `HomeIndex`, reused while the layout of the home is unchanged."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._index: HomeIndex | None = None

    def get(self, data: dict[str, MirrorCollection]) -> HomeIndex:
        # Generations: no copy, new or reloaded from the database, ever reuses one.
        key = tuple(data[k].generation for k in _INDEXED)
        if self._index is None or key != self._key:
            self._index = HomeIndex(*(data[k] for k in _INDEXED))
            self._key = key
        return self._index


@dataclass(frozen=True, slots=True)
class Snapshot:
    data: dict[str, MirrorCollection]
    index: HomeIndex
    policy: Policy

    @classmethod
    async def read(cls, home: HomeView, cache: IndexCache) -> Snapshot:
        """The home as it is now, with the view's policy and the index of this layout."""
        kinds = await asyncio.gather(*(home.kind(k) for k in KINDS))
        data = dict(zip(KINDS, kinds))
        return cls(data, cache.get(data), home.policy)

    # --- plain lookups -----------------------------------------------------------------------
    @property
    def entities(self) -> dict[str, Entity]:
        return self.data["entities"].items

    def entity(self, entity_id: str) -> Entity | None:
        return self.entities.get(entity_id)

    def service(self, key: str) -> Service | None:
        return self.data["services"].items.get(key)

    def services_of(self, domain: str) -> list[str]:
        return sorted(s.service for s in self.data["services"].items.values() if s.domain == domain)

    def usable(self, entity_id: str) -> bool:
        entity = self.entities.get(entity_id)
        return entity is not None and self.policy.usable(entity)

    def time_zone(self) -> str:
        config = self.data["config"].items.get("config")
        return config.time_zone if config is not None else "UTC"

    def area_name(self, area_id: str | None) -> str | None:
        area = self.data["areas"].items.get(area_id or "")
        return area.name if area is not None else None

    def describe(self, entity: Entity) -> str:
        """`light.x "Reading lamp" (Bedroom)`: how candidates are listed to the model."""
        area = self.area_name(entity.area_id)
        return f'{entity.entity_id} "{entity.name}"' + (f" ({area})" if area else "")

    # --- entities -------------------------------------------------------------------------
    def resolve_entity(self, ref: str, domains: Collection[str] = ()) -> Entity:
        """The usable entity `ref` names (id, name or alias), or HomeError saying why not."""
        if not isinstance(ref, str) or not ref.strip():
            raise HomeError("an entity must be given as an entity_id or a name")
        text = ref.strip()
        entity = self.entities.get(text) or self.entities.get(text.lower())
        if entity is None and "." not in text:  # "house_mode" for input_select.house_mode
            for domain in domains:
                entity = self.entities.get(f"{domain}.{text.lower()}")
                if entity is not None:
                    break
        if entity is not None:
            self._check(entity)
            return entity
        named = self.data["entities"].named(text) | set(self.index.object_ids.get(fold(text), ()))
        candidates = [self.entities[e] for e in sorted(named) if e in self.entities]
        if domains:
            candidates = [e for e in candidates if e.domain in domains] or candidates
        usable = [e for e in candidates if self.policy.usable(e)]
        if len(usable) == 1:
            return usable[0]
        if usable:
            raise HomeError(
                f"{text!r} is ambiguous: it names {_listing(self.describe(e) for e in usable)}; "
                "give the entity_id of the one you mean"
            )
        if candidates:
            self._check(candidates[0])  # named, but not for the assistant: say why
        closest = self.search(text, domains, limit=_SUGGESTED) or self.search(text, (), limit=_SUGGESTED)
        hint = f"; closest: {_listing(self.describe(self.entities[e]) for e in closest)}" if closest else ""
        raise HomeError(f"no entity is named {text!r}{hint}")

    def resolve_entities(self, refs: Sequence[str], domains: Collection[str] = ()) -> list[Entity]:
        """Each ref resolved; every problem reported at once, so one retry can fix them all."""
        found: dict[str, Entity] = {}
        problems: list[str] = []
        for ref in refs:
            try:
                entity = self.resolve_entity(ref, domains)
            except HomeError as exc:
                problems.append(str(exc))
            else:
                found.setdefault(entity.entity_id, entity)
        if problems:
            raise HomeError("; ".join(problems))
        return list(found.values())

    def _check(self, entity: Entity) -> None:
        refusal = self.policy.entity_refusal(entity)
        if refusal is not None:
            raise HomeError(refusal)

    def search(self, query: str, domains: Collection[str] = (), limit: int = 10) -> list[str]:
        def wanted(entity_id: str) -> bool:
            entity = self.entities.get(entity_id)
            return entity is not None and (not domains or entity.domain in domains) and self.policy.usable(entity)

        return search(self.index, query, wanted, limit)

    # --- areas, floors, labels, devices --------------------------------------------------------
    def resolve_group(self, what: str, ref: str) -> str:
        """The id of the area/floor/label/device `ref` names (id, name or alias, any case)."""
        kind = _GROUPS[what]
        items = self.data[kind].items
        if not isinstance(ref, str) or not ref.strip():
            raise HomeError(f"a {what} must be given as an id or a name")
        for key in (ref, ref.strip().lower()):  # an id, in any case
            if key in items:
                return key
        ids = sorted(self.data[kind].named(ref))
        if len(ids) == 1:
            return ids[0]
        if ids:
            raise HomeError(f"{ref!r} names several {kind}: {_listing(ids)}; give the id")
        known = _listing(f"{key} ({items[key].name})" if what == "device" else key for key in sorted(items))
        raise HomeError(f"no {what} is named {ref!r}; {kind}: {known or 'none'}")

    def members(self, what: str, group_id: str) -> list[str]:
        """Entities a target of this area/floor/label/device reaches, as HA expands it: hidden
        and configuration/diagnostic entities are left out (helpers/service.py)."""
        if what == "label":
            reached: Iterable[str] = self.index.by_label.get(group_id, ())
        else:
            reached = sorted(self.data["entities"].keys_with(f"{what}_id", group_id))
        out = []
        for entity_id in reached:
            entity = self.entities.get(entity_id)
            if entity is not None and not entity.hidden and entity.entity_category is None:
                out.append(entity_id)
        return out

    def usable_entities(self, entity_ids: Iterable[str] | None = None) -> list[Entity]:
        source = (
            self.data["entities"].sorted_items()
            if entity_ids is None
            else (self.entities[e] for e in entity_ids if e in self.entities)
        )
        return [e for e in source if self.policy.usable(e)]


def _listing(items: Iterable[str], limit: int = _LISTED) -> str:
    listed = list(items)
    more = f" and {len(listed) - limit} more" if len(listed) > limit else ""
    return ", ".join(listed[:limit]) + more
