"""Lookups over one layout of the home: names → entity ids, groups → members, search words.

Built once per layout (the entity kind's layout version and the registries' versions), so a
turn resolves names with dictionary lookups at any home size. Everything that can change
without a layout change (states, exposure details, hidden flags) is read from the live entity
when used, never stored here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from data_api.ha import Area, Device, Entity, Floor, Label
from ha_agent.context.relevance import DOMAIN_WORDS  # one vocabulary for the agent
from ha_agent.context.relevance import words

# How much a word says about an entity, by where it comes from.
NAME_WEIGHT = 3.0
ID_WEIGHT = 2.0
AREA_WEIGHT = 2.0
DOMAIN_WEIGHT = 2.0
FLOOR_WEIGHT = 1.0
DEVICE_WEIGHT = 1.0


def fold(text: str) -> str:
    """The form names are compared in: case-insensitive, outer and repeated spaces ignored."""
    return " ".join(text.casefold().split())


def entity_names(entity: Entity) -> list[str]:
    return [entity.name, *entity.aliases]


class HomeIndex:
    def __init__(
        self,
        entities: Iterable[Entity],
        areas: Mapping[str, Area],
        floors: Mapping[str, Floor],
        devices: Mapping[str, Device],
        labels: Mapping[str, Label],
    ) -> None:
        self.names: dict[str, list[str]] = {}
        self.area_keys = _keys(areas.values(), lambda a: (a.area_id, a.name, *a.aliases))
        self.floor_keys = _keys(floors.values(), lambda f: (f.floor_id, f.name, *f.aliases))
        self.label_keys = _keys(labels.values(), lambda lb: (lb.label_id, lb.name))
        self.device_keys = _keys(devices.values(), lambda d: (d.id, d.name))
        self.by_area: dict[str, list[str]] = {}
        self.by_floor: dict[str, list[str]] = {}
        self.by_device: dict[str, list[str]] = {}
        self.by_label: dict[str, list[str]] = {}
        self.word_docs: dict[str, dict[str, float]] = {}
        labelled_devices = {label: [d for d in devices.values() if label in d.labels] for label in labels}
        labelled_areas = {label: [a for a in areas.values() if label in a.labels] for label in labels}
        for entity in entities:
            self._add(entity, areas, floors, devices)
        for label in labels:
            members = set(self.by_label.get(label, ()))
            for device in labelled_devices[label]:
                members.update(self.by_device.get(device.id, ()))
            for area in labelled_areas[label]:
                members.update(self.by_area.get(area.area_id, ()))
            self.by_label[label] = sorted(members)
        self.vocabulary = sorted(self.word_docs)

    def _add(self, entity: Entity, areas: Mapping[str, Area], floors: Mapping[str, Floor],
             devices: Mapping[str, Device]) -> None:  # fmt: skip
        entity_id = entity.entity_id
        object_id = entity_id.partition(".")[2]
        for name in {fold(n) for n in entity_names(entity)} | {object_id, object_id.replace("_", " ")}:
            self.names.setdefault(name, []).append(entity_id)
        if entity.area_id:
            self.by_area.setdefault(entity.area_id, []).append(entity_id)
        if entity.floor_id:
            self.by_floor.setdefault(entity.floor_id, []).append(entity_id)
        if entity.device_id:
            self.by_device.setdefault(entity.device_id, []).append(entity_id)
        for label in entity.labels:
            self.by_label.setdefault(label, []).append(entity_id)
        # Search words: where a word comes from says how much it weighs.
        sources: list[tuple[Iterable[str], float]] = [
            (entity_names(entity), NAME_WEIGHT),
            ((object_id.replace("_", " "),), ID_WEIGHT),
            ((entity.domain, entity.device_class or "", *DOMAIN_WORDS.get(entity.domain, ())), DOMAIN_WEIGHT),
        ]
        area = areas.get(entity.area_id or "")
        if area is not None:
            sources.append(((area.name, *area.aliases, area.area_id.replace("_", " ")), AREA_WEIGHT))
            floor = floors.get(area.floor_id or "")
            if floor is not None:
                sources.append(((floor.name, *floor.aliases), FLOOR_WEIGHT))
        device = devices.get(entity.device_id or "")
        if device is not None:
            sources.append(((device.name,), DEVICE_WEIGHT))
        for texts, weight in sources:
            for text in texts:
                for word in words(text):
                    docs = self.word_docs.setdefault(word, {})
                    if docs.get(entity_id, 0.0) < weight:
                        docs[entity_id] = weight


def _keys(items: Iterable[Any], keys_of: Any) -> dict[str, list[str]]:
    """Folded id, name and aliases → the ids of the items they name (names may repeat)."""
    out: dict[str, list[str]] = {}
    for item in items:
        for key in {fold(k) for k in keys_of(item) if k}:
            out.setdefault(key, []).append(item.key)
    return out
