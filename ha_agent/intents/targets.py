"""Which entities a recognised sentence is about: by name, or by area, floor and kind.

HA's matcher says *what* was said ("the reading lamp", "the lights upstairs"); this module
finds the entities meant in the home (`ha_agent.home.Snapshot`: the mirror's indexes and the
owner's policy), among those the assistant may use, and says plainly when that is not one clear
set (an unknown or shared name, nothing of that kind in the area). Entities are read live from
the mirror, so states are those of this moment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from data_api import Entity
from ha_agent.home import Snapshot
from ha_agent.home.words import CLASS_WORDS, KIND_WORDS

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


def spoken_of(home: Snapshot, entity_ids: Iterable[str]) -> list[Entity]:
    """The entities a sentence can name: usable by the assistant, neither hidden nor a
    configuration or diagnostic entity (HA leaves those out of what an area reaches too)."""
    found = (home.entities.get(e) for e in sorted(entity_ids))
    return [e for e in found if e is not None and home.policy.usable(e) and not e.hidden and e.entity_category is None]


def find_targets(scope: Scope, home: Snapshot) -> Targets:
    what = kind_words(scope.domains, scope.device_class)[1]
    where = _where(scope, home)
    if scope.name is not None:
        return _by_name(scope, home, where)
    if not scope.domains and scope.device_class is None:
        # "turn off the kitchen" names no kind: everything in a room is too much to guess.
        return Targets(problem=f"I am not sure what to act on{where}.", what=what, where=where)
    entities = home.data["entities"]
    ids: set[str] | None = None
    if scope.area_id is not None:
        ids = set(entities.keys_with("area_id", scope.area_id))
    if scope.floor_id is not None:
        on_floor = entities.keys_with("floor_id", scope.floor_id)
        ids = set(on_floor) if ids is None else ids & on_floor
    of_kind = {e for d in scope.domains for e in entities.keys_with("domain", d)}
    candidates = spoken_of(home, of_kind if ids is None else of_kind & ids)
    found = tuple(e for e in candidates if _fits(e, scope))
    if not found:
        return Targets(problem=f"I found no {what}{where}.", what=what, where=where)
    return Targets(found, what=what, where=where)


def _by_name(scope: Scope, home: Snapshot, where: str) -> Targets:
    assert scope.name is not None
    named = spoken_of(home, home.data["entities"].named(scope.name))
    found = [e for e in named if _fits(e, scope)]
    if scope.area_id is not None:
        found = [e for e in found if e.area_id == scope.area_id]
    if scope.floor_id is not None:
        found = [e for e in found if e.floor_id == scope.floor_id]
    what = kind_words((found[0].domain,) if found else scope.domains, scope.device_class)[1]
    if not found:
        return Targets(problem=f"I found nothing called {scope.name!r}{where}.", what=what, where=where)
    if len(found) > 1:
        places = join_names(_described(e, home) for e in found)
        return Targets(
            problem=f"Several things are called {scope.name!r}: {places}. Which one do you mean?",
            what=what,
            where=where,
        )
    return Targets(tuple(found), what=what, where=where)


def _fits(entity: Entity, scope: Scope) -> bool:
    if scope.domains and entity.domain not in scope.domains:
        return False
    return scope.device_class is None or entity.device_class == scope.device_class


def _described(entity: Entity, home: Snapshot) -> str:
    area = home.area_name(entity.area_id)
    return f"{entity.name} (in the {area})" if area is not None else entity.name


def _where(scope: Scope, home: Snapshot) -> str:
    area, floors = home.area_name(scope.area_id), home.data["floors"].items
    if area is not None:
        return f" in the {area}"
    if scope.floor_id is not None and scope.floor_id in floors:
        return f" on the {floors[scope.floor_id].name}"
    return ""


def kind_words(domains: Sequence[str], device_class: str | None = None) -> tuple[str, str]:
    if device_class in CLASS_WORDS:
        return CLASS_WORDS[device_class]
    if device_class:
        return device_class.replace("_", " "), f"{device_class.replace('_', ' ')}s"
    if len(domains) == 1 and domains[0] in KIND_WORDS:
        return KIND_WORDS[domains[0]]
    return "device", "devices"


def join_names(names: Any, limit: int = _LISTED) -> str:
    """ "A, B and C"; long lists end in "and 7 more"."""
    items = list(names)
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
