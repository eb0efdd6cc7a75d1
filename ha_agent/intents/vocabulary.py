"""The home's words for the sentence matcher: entity names, areas and floors as hassil slot lists.

Built from the home (`ha_agent.home.Snapshot`) once per layout — the generations of its
entities, areas and floors — and the owner's policy, and reused for every sentence until the
layout changes: building the lists for 5,000 entities takes ~0.3 s, a hundred times a
recognition. The build runs in a worker thread, so the event loop goes on serving meanwhile.
Which entities a matched name, area or floor stands for is the home's to say (its indexes);
the lists only carry what hassil matches against. States are never stored here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hassil import SlotList, TextSlotList, TextSlotValue

from data_api import Area, Entity, Floor
from ha_agent.home import Policy, Snapshot
from ha_agent.home.words import fold

from .language import HOME_LISTS

# The attributes a name's value carries as context, so sentences that require a domain or a
# device class ("open {name}" needs a cover or a valve) only match entities that have it.
_CONTEXT_ATTRIBUTES = ("device_class",)


@dataclass(slots=True)
class Vocabulary:
    """Slot lists for hassil, and a name from this home per kind (for examples in replies)."""

    slot_lists: dict[str, SlotList]
    # domain → a name from this home; "area" → an area with a light the assistant may use
    examples: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls, entities: Iterable[Entity], areas: Mapping[str, Area], floors: Mapping[str, Floor], policy: Policy
    ) -> Vocabulary:
        values: dict[tuple[str, str, str | None], TextSlotValue] = {}
        examples: dict[str, str] = {}
        for entity in sorted(entities, key=lambda e: e.entity_id):
            # Only what the assistant may use is a word it knows: an unexposed entity is not
            # matched here, and the tools would refuse it anyway.
            if not policy.usable(entity) or entity.hidden or entity.entity_category is not None:
                continue
            context: dict[str, Any] = {"domain": entity.domain}
            context.update({a: entity.attributes[a] for a in _CONTEXT_ATTRIBUTES if entity.attributes.get(a)})
            for name in (entity.name, *entity.aliases):
                key = fold(name)
                # One value per spoken form and kind: twins that share a name are told apart
                # when the match is resolved, not by the matcher.
                slot_key = (key, entity.domain, context.get("device_class"))
                if key and slot_key not in values:
                    values[slot_key] = TextSlotValue.from_tuple((name.strip(), key, context), allow_template=False)
            examples.setdefault(entity.domain, entity.name)
            if entity.domain == "light" and entity.area_id in areas:
                examples.setdefault("area", areas[entity.area_id].name)
        area_values = [
            TextSlotValue.from_tuple((text.strip(), area.area_id), allow_template=False)
            for area in areas.values()
            for text in (area.name, *area.aliases)
            if text.strip()
        ]
        floor_values = [
            TextSlotValue.from_tuple((text.strip(), floor.floor_id), allow_template=False)
            for floor in floors.values()
            for text in (floor.name, *floor.aliases)
            if text.strip()
        ]
        text_lists = {
            "name": TextSlotList(name="name", values=list(values.values())),
            "area": TextSlotList(name="area", values=area_values),
            "floor": TextSlotList(name="floor", values=floor_values),
        }
        assert set(text_lists) == set(HOME_LISTS)
        for text_list in text_lists.values():
            text_list.get_candidates("")  # builds its index now, not during the first sentence
        return cls(slot_lists={**text_lists}, examples=examples)


class VocabularyCache:
    """The last built vocabulary, reused while the layout of the home and its policy hold."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._vocabulary: Vocabulary | None = None
        self._building = asyncio.Lock()  # one build at a time; sentences meanwhile wait for it

    @property
    def last(self) -> Vocabulary | None:
        return self._vocabulary

    async def get(self, home: Snapshot) -> Vocabulary:
        entities, areas, floors = (home.data[k] for k in ("entities", "areas", "floors"))
        # Generations: no copy, new or reloaded from the database, ever reuses one.
        key = (entities.generation, areas.generation, floors.generation, home.policy.rules)
        if self._vocabulary is not None and key == self._key:
            return self._vocabulary
        async with self._building:
            if self._vocabulary is None or key != self._key:
                # Copies: the mirror changes its dicts on the event loop while the thread reads.
                self._vocabulary = await asyncio.to_thread(
                    Vocabulary.build,
                    list(entities.items.values()),
                    dict(areas.items),
                    dict(floors.items),
                    home.policy,
                )
                self._key = key
            return self._vocabulary
