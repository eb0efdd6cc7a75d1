"""Which entities a recognised sentence is about: by name, or by area, floor and kind.

HA's matcher says *what* was said ("the reading lamp", "the lights upstairs"); this module
finds the entities meant, among those the assistant may use, and says plainly when that is
not one clear set (an unknown or shared name, nothing of that kind in the area). Entities are
read live from the mirror, so states are those of this moment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from data_api.ha import Entity

from .vocabulary import Vocabulary

# How a kind of entity is spoken of in replies: (one, several).
DOMAIN_WORDS: dict[str, tuple[str, str]] = {
    "light": ("light", "lights"),
    "switch": ("switch", "switches"),
    "fan": ("fan", "fans"),
    "cover": ("cover", "covers"),
    "lock": ("lock", "locks"),
    "climate": ("thermostat", "thermostats"),
    "media_player": ("media player", "media players"),
    "sensor": ("sensor", "sensors"),
    "binary_sensor": ("sensor", "sensors"),
    "valve": ("valve", "valves"),
    "vacuum": ("vacuum", "vacuums"),
    "scene": ("scene", "scenes"),
    "script": ("script", "scripts"),
}
_CLASS_WORDS = {"garage": ("garage door", "garage doors")}
_LISTED = 10  # names in one reply, at most


@dataclass(frozen=True, slots=True)
class Targets:
    entities: tuple[Entity, ...] = ()
    problem: str | None = None  # why this is not one clear set, in words for the user
    what: str = "devices"  # "lights", "garage doors": the kind, for replies
    where: str = ""  # " in the Kitchen", " on the First Floor"

    @property
    def ids(self) -> list[str]:
        return [e.entity_id for e in self.entities]

    @property
    def names(self) -> str:
        return join_names(e.name for e in self.entities)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a sentence names, as slot values: a name, or an area/floor and a kind."""

    name: str | None
    area_id: str | None
    floor_id: str | None
    domains: tuple[str, ...]  # allowed kinds (empty: any)
    device_class: str | None

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any], domains: Sequence[str]) -> Scope:
        return cls(
            name=_text(slots.get("name")),
            area_id=_text(slots.get("area")),
            floor_id=_text(slots.get("floor")),
            domains=tuple(domains),
            device_class=_text(slots.get("device_class")),
        )


def find_targets(scope: Scope, vocabulary: Vocabulary, entities: Mapping[str, Entity]) -> Targets:
    what = kind_words(scope.domains, scope.device_class)[1]
    where = _where(scope, vocabulary)
    if scope.name is not None:
        return _by_name(scope, vocabulary, entities, where)
    if not scope.domains and scope.device_class is None:
        # "turn off the kitchen" names no kind: everything in a room is too much to guess.
        return Targets(problem=f"I am not sure what to act on{where}.", what=what, where=where)
    ids: set[str] | None = None
    if scope.area_id is not None:
        ids = set(vocabulary.by_area.get(scope.area_id, ()))
    if scope.floor_id is not None:
        on_floor = set(vocabulary.by_floor.get(scope.floor_id, ()))
        ids = on_floor if ids is None else ids & on_floor
    candidates = [entities[e] for d in scope.domains for e in vocabulary.by_domain.get(d, ()) if e in entities]
    found = tuple(e for e in candidates if (ids is None or e.entity_id in ids) and _fits(e, scope))
    if not found:
        return Targets(problem=f"I found no {what}{where}.", what=what, where=where)
    return Targets(found, what=what, where=where)


def _by_name(scope: Scope, vocabulary: Vocabulary, entities: Mapping[str, Entity], where: str) -> Targets:
    assert scope.name is not None
    named = [entities[e] for e in vocabulary.entity_ids(scope.name) if e in entities]
    found = [e for e in named if _fits(e, scope)]
    if scope.area_id is not None:
        found = [e for e in found if e.area_id == scope.area_id]
    if scope.floor_id is not None:
        found = [e for e in found if _floor(e, vocabulary) == scope.floor_id]
    what = kind_words((found[0].domain,) if found else scope.domains, scope.device_class)[1]
    if not found:
        return Targets(problem=f"I found nothing called {scope.name!r}{where}.", what=what, where=where)
    if len(found) > 1:
        places = join_names(_described(e, vocabulary) for e in found)
        return Targets(problem=f"Several things are called {scope.name!r}: {places}. Which one do you mean?",
                       what=what, where=where)  # fmt: skip
    return Targets(tuple(found), what=what, where=where)


def _fits(entity: Entity, scope: Scope) -> bool:
    if scope.domains and entity.domain not in scope.domains:
        return False
    return scope.device_class is None or entity.device_class == scope.device_class


def _floor(entity: Entity, vocabulary: Vocabulary) -> str | None:
    area = vocabulary.areas.get(entity.area_id or "")
    return entity.floor_id or (area.floor_id if area is not None else None)


def _described(entity: Entity, vocabulary: Vocabulary) -> str:
    area = vocabulary.areas.get(entity.area_id or "")
    return f"{entity.name} (in the {area.name})" if area is not None else entity.name


def _where(scope: Scope, vocabulary: Vocabulary) -> str:
    if scope.area_id is not None and scope.area_id in vocabulary.areas:
        return f" in the {vocabulary.areas[scope.area_id].name}"
    if scope.floor_id is not None and scope.floor_id in vocabulary.floors:
        return f" on the {vocabulary.floors[scope.floor_id].name}"
    return ""


def kind_words(domains: Sequence[str], device_class: str | None = None) -> tuple[str, str]:
    if device_class in _CLASS_WORDS:
        return _CLASS_WORDS[device_class]
    if device_class:
        return device_class.replace("_", " "), f"{device_class.replace('_', ' ')}s"
    if len(domains) == 1 and domains[0] in DOMAIN_WORDS:
        return DOMAIN_WORDS[domains[0]]
    return "device", "devices"


def join_names(names: Any, limit: int = _LISTED) -> str:
    """"A, B and C"; long lists end in "and 7 more"."""
    items = list(names)
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
