"""The home's words for the sentence matcher: entity names, areas and floors as slot lists.

Built from the mirror once per layout (entities' layout version, the areas' and floors'
versions) and reused for every sentence until the layout changes: building and indexing lists
for 5,000 entities takes ~0.3 s, a hundred times a recognition. The build runs in a worker
thread, so the event loop goes on serving meanwhile. States are never stored here; they are
read from the live entities when a sentence is answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hassil import SlotList, TextSlotList, TextSlotValue

from data_api.cache import KindData
from data_api.ha import Area, Entity, Floor
from ha_agent.tools import Policy
from ha_agent.tools.index import fold

from .language import HOME_LISTS

# The attributes a name's value carries as context, so sentences that require a domain or a
# device class ("open {name}" needs a cover or a valve) only match entities that have it.
_CONTEXT_ATTRIBUTES = ("device_class",)


@dataclass(slots=True)
class Vocabulary:
    """Slot lists for hassil, and what their values stand for."""

    slot_lists: dict[str, SlotList]
    names: dict[str, tuple[str, ...]]  # folded name or alias → entity ids (several share one)
    areas: dict[str, Area]  # area_id → area, as the lists were built
    floors: dict[str, Floor]
    # Usable entities by group, for sentences naming an area, a floor or a kind of thing.
    by_area: dict[str, tuple[str, ...]] = field(default_factory=dict)
    by_floor: dict[str, tuple[str, ...]] = field(default_factory=dict)
    by_domain: dict[str, tuple[str, ...]] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)  # domain → a name from this home

    @classmethod
    def build(cls, entities: Iterable[Entity], areas: Mapping[str, Area], floors: Mapping[str, Floor],
              policy: Policy) -> Vocabulary:  # fmt: skip
        values: dict[tuple[str, str, str | None], TextSlotValue] = {}
        names: dict[str, dict[str, None]] = {}
        examples: dict[str, str] = {}
        groups: dict[str, dict[str, list[str]]] = {"area": {}, "floor": {}, "domain": {}}
        for entity in sorted(entities, key=lambda e: e.entity_id):
            # Only what the assistant may use is a word it knows: an unexposed entity is not
            # matched here, and the tools would refuse it anyway.
            if not policy.usable(entity) or entity.hidden or entity.entity_category is not None:
                continue
            context: dict[str, Any] = {"domain": entity.domain}
            context.update({a: entity.attributes[a] for a in _CONTEXT_ATTRIBUTES if entity.attributes.get(a)})
            for name in (entity.name, *entity.aliases):
                key = fold(name)
                if not key:
                    continue
                names.setdefault(key, {})[entity.entity_id] = None
                # One value per spoken form and kind: twins that share a name are told apart
                # when the match is resolved, not by the matcher.
                slot_key = (key, entity.domain, context.get("device_class"))
                if slot_key not in values:
                    values[slot_key] = TextSlotValue.from_tuple((name.strip(), key, context), allow_template=False)
            examples.setdefault(entity.domain, entity.name)
            area = areas.get(entity.area_id or "")
            floor_id = entity.floor_id or (area.floor_id if area is not None else None)
            memberships: tuple[tuple[str, str | None], ...] = (
                ("area", entity.area_id), ("floor", floor_id), ("domain", entity.domain))  # fmt: skip
            for group, group_key in memberships:
                if group_key:
                    groups[group].setdefault(group_key, []).append(entity.entity_id)
        area_values = [
            TextSlotValue.from_tuple((text.strip(), area.area_id), allow_template=False)
            for area in areas.values() for text in (area.name, *area.aliases) if text.strip()
        ]  # fmt: skip
        floor_values = [
            TextSlotValue.from_tuple((text.strip(), floor.floor_id), allow_template=False)
            for floor in floors.values() for text in (floor.name, *floor.aliases) if text.strip()
        ]  # fmt: skip
        text_lists = {
            "name": TextSlotList(name="name", values=list(values.values())),
            "area": TextSlotList(name="area", values=area_values),
            "floor": TextSlotList(name="floor", values=floor_values),
        }
        assert set(text_lists) == set(HOME_LISTS)
        for text_list in text_lists.values():
            text_list.get_candidates("")  # builds its index now, not during the first sentence

        def grouped(group: str) -> dict[str, tuple[str, ...]]:
            return {key: tuple(ids) for key, ids in groups[group].items()}

        slot_lists: dict[str, SlotList] = {**text_lists}
        return cls(
            slot_lists=slot_lists,
            names={key: tuple(ids) for key, ids in names.items()},
            areas=dict(areas),
            floors=dict(floors),
            by_area=grouped("area"),
            by_floor=grouped("floor"),
            by_domain=grouped("domain"),
            examples=examples,
        )

    def entity_ids(self, name: str) -> tuple[str, ...]:
        return self.names.get(fold(name), ())


class VocabularyCache:
    """The last built vocabulary, reused while the layout of the home is unchanged."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._key: tuple[Any, ...] | None = None
        self._vocabulary: Vocabulary | None = None
        self._building = asyncio.Lock()  # one build at a time; sentences meanwhile wait for it

    @property
    def last(self) -> Vocabulary | None:
        return self._vocabulary

    async def get(self, entities: KindData, areas: KindData, floors: KindData) -> Vocabulary:
        # The copies' identities too: a copy reloaded from the database restarts its versions,
        # and an equal number must not pass for the same layout.
        key = (id(entities), entities.layout_version, id(areas), areas.version, id(floors), floors.version)
        if self._vocabulary is not None and key == self._key:
            return self._vocabulary
        async with self._building:
            if self._vocabulary is None or key != self._key:
                # Copies: the mirror changes its dicts on the event loop while the thread reads.
                self._vocabulary = await asyncio.to_thread(
                    Vocabulary.build, list(entities.items.values()), dict(areas.items), dict(floors.items),
                    self._policy,
                )  # fmt: skip
                self._key = key
            return self._vocabulary
