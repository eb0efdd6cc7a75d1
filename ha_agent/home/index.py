"""What no single collection indexes: lookups across kinds, built once per layout of the home.

Names, areas, floors, devices and labels by value are the mirror's collections' own indexes
(`data_api.Collection`, kept current on every write); this adds what spans kinds:
- an entity by its object id ("kitchen_light", "kitchen light" for light.kitchen_light);
- a label's members: the entities labelled, and those of labelled devices and areas (as HA
  expands a `label_id` target);
- the search words: every word of an entity's names, id, area, floor, device and kind, with
  how much it says about the entity (a word of the name counts more than one of the area).

Built for the layout the collections' generations name, so a turn resolves at any home size
with dictionary lookups. States are never stored here: they are read from the live entity.
"""

from __future__ import annotations

from collections.abc import Iterable

from data_api import Collection, Entity

from .words import DOMAIN_WORDS, words

# How much a word says about an entity, by where it comes from.
NAME_WEIGHT = 3.0
ID_WEIGHT = 2.0
AREA_WEIGHT = 2.0
DOMAIN_WEIGHT = 2.0
FLOOR_WEIGHT = 1.0
DEVICE_WEIGHT = 1.0


def entity_names(entity: Entity) -> list[str]:
    return [entity.name, *entity.aliases]


class HomeIndex:
    def __init__(
        self, entities: Collection, areas: Collection, floors: Collection, devices: Collection, labels: Collection
    ) -> None:
        self.object_ids: dict[str, list[str]] = {}
        self.by_label: dict[str, list[str]] = {}
        self.word_docs: dict[str, dict[str, float]] = {}
        for entity in entities.items.values():
            self._add(entity, areas, floors, devices)
        for label in labels.items:
            members = set(entities.keys_with("labels", label))
            for device_id in devices.keys_with("labels", label):
                members.update(entities.keys_with("device_id", device_id))
            for area_id in areas.keys_with("labels", label):
                members.update(entities.keys_with("area_id", area_id))
            self.by_label[label] = sorted(members)
        self.vocabulary = sorted(self.word_docs)

    def _add(self, entity: Entity, areas: Collection, floors: Collection, devices: Collection) -> None:
        entity_id = entity.entity_id
        object_id = entity_id.partition(".")[2]
        for form in {object_id, object_id.replace("_", " ")}:
            self.object_ids.setdefault(form, []).append(entity_id)
        # Search words: where a word comes from says how much it weighs.
        sources: list[tuple[Iterable[str], float]] = [
            (entity_names(entity), NAME_WEIGHT),
            ((object_id.replace("_", " "),), ID_WEIGHT),
            ((entity.domain, entity.device_class or "", *DOMAIN_WORDS.get(entity.domain, ())), DOMAIN_WEIGHT),
        ]
        area = areas.items.get(entity.area_id or "")
        if area is not None:
            sources.append(((area.name, *area.aliases, area.area_id.replace("_", " ")), AREA_WEIGHT))
            floor = floors.items.get(area.floor_id or "")
            if floor is not None:
                sources.append(((floor.name, *floor.aliases), FLOOR_WEIGHT))
        device = devices.items.get(entity.device_id or "")
        if device is not None:
            sources.append(((device.name,), DEVICE_WEIGHT))
        for texts, weight in sources:
            for text in texts:
                for word in words(text):
                    docs = self.word_docs.setdefault(word, {})
                    if docs.get(entity_id, 0.0) < weight:
                        docs[entity_id] = weight
