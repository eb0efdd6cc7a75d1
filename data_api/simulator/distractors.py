"""Distractors: pad a home with realistic entities that are not the ones a sentence is about,
so an assistant's accuracy can be measured against the size of the home (`--scale N`).

The padding is built by the home generator itself (catalog.py's rooms and devices, the
generator's registry and state shapes) as extra buildings of the same site: "Guest House
Kitchen", "Annex Office"... Each gets the rooms' usual devices (lights, switches, sensors,
binary sensors, covers, media), and the home's own lights, switches, fans, covers, players and
thermostats get namesakes there ("Kitchen Light" -> "Guest House Kitchen Light"), which a
sentence written for the home must not be answered with. Distractor areas and entities carry
no aliases, so no distractor can become a better match for a sentence than its target.

The home's own entities, devices, areas and floors are never changed; ids never collide; the
same home, count and seed give the same distractors.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from . import catalog as C
from .generator import _Builder, _Room
from .util import slugify

if TYPE_CHECKING:
    from .home import SimHome

BUILDINGS = (
    "Guest House",
    "Annex",
    "Studio",
    "Coach House",
    "Lodge",
    "Pavilion",
    "West Wing",
    "East Wing",
    "Barn",
    "Cottage",
    "Boathouse",
    "Gatehouse",
)
# Rooms of a dwelling, in the order a building gets them.
_ROOMS = (
    "Living Room",
    "Kitchen",
    "Hallway",
    "Master Bedroom",
    "Bathroom",
    "Office",
    "Dining Room",
    "Bedroom",
    "Garage",
    "Toilet",
    "Guest Room",
    "Landing",
    "Utility Room",
    "Storage",
    "Garden",
    "Driveway",
)
# The device a namesake of the home's own entity is, by domain.
_NAMESAKES = {
    "light": "lamp",
    "switch": "heater",
    "fan": "ceiling_fan",
    "cover": "blinds",
    "media_player": "tv",
    "climate": "trv",
}


def add_distractors(
    home: SimHome,
    count: int,
    *,
    seed: int = 0,
    now: float | None = None,
) -> list[str]:
    """Add exactly `count` distractor entities (states) to a home that is not served yet;
    returns their entity ids."""
    if count <= 0:
        return []
    moment = float(int(time.time())) if now is None else now
    metric = home.config["unit_system"]["temperature"] == "°C"
    plan = replace(
        C.PLANS["medium"],
        time_zone=home.config["time_zone"],
        metric=metric,
        devices_per_room=None,
        extras_share=0.5,
        own_area_share=0.0,
        unavailable_share=0.0,
    )
    builder = _Builder(plan, random.Random(f"distractors:{seed}"), moment)
    # The builder sees the home's registries, so every id it picks is free in the home.
    builder.states, builder.entities = dict(home.states), dict(home.entities)
    builder.areas, builder.floors = dict(home.areas), dict(home.floors)
    builder.devices, builder.labels = dict(home.devices), dict(home.labels)
    before = set(builder.states)
    for label in C.LABELS:
        if slugify(label[0]) not in builder.labels:
            builder.add_label(*label)
    site = _Site(builder, home)
    for entity_id, name, area in _home_namesakes(home)[: max(1, count // 10)]:
        if _added(builder, before) >= count:
            break
        room = site.room_like(area)
        template = C.DEVICES[_NAMESAKES[entity_id.split(".", 1)[0]]]
        builder._device(template, f"{room.name} {_without_area(name, area)}", room)
    while _added(builder, before) < count:
        room = site.next_room()
        builder._furnish(room)
        for spec in room.template.yaml:
            builder._yaml_entity(spec, room.name)
    added = _trim(builder, before, count)
    _merge(home, builder, added)
    return added


def _added(builder: _Builder, before: set[str]) -> int:
    return len(builder.states) - len(before)


def _home_namesakes(home: SimHome) -> list[tuple[str, str, str | None]]:
    """(entity_id, name, area name) of the home's own entities that get a namesake."""
    own = getattr(home, "written", None) or home.states
    found = []
    for entity_id in sorted(own):
        if entity_id.split(".", 1)[0] not in _NAMESAKES or entity_id not in home.states:
            continue
        area_id = home.effective_area(entity_id)
        area = home.areas[area_id]["name"] if area_id in home.areas else None
        found.append((entity_id, home.states[entity_id]["attributes"].get("friendly_name") or entity_id, area))
    return found


def _without_area(name: str, area: str | None) -> str:
    """ "Kitchen Light" in the Kitchen -> "Light": the namesake gets its own area's name."""
    if area and name.casefold().startswith(area.casefold() + " "):
        return name[len(area) + 1 :]
    return name


class _Site:
    """The distractor buildings, one floor each, filled room by room; building names the home
    already uses (in an area or floor name) are skipped."""

    def __init__(self, builder: _Builder, home: SimHome) -> None:
        self.builder = builder
        taken = " ".join(item["name"].casefold() for item in (*home.areas.values(), *home.floors.values()))
        self.buildings = [name for name in BUILDINGS if name.casefold() not in taken]
        self.counts: dict[str, int] = {}
        self.floor_of: dict[str, str] = {}
        self.made = 0
        self.by_template: dict[str, _Room] = {}
        self.placed: set[tuple[str, str]] = set()  # (building, room template)

    def _room(self, template: str, building: str) -> _Room:
        builder = self.builder
        if building not in self.floor_of:
            self.floor_of[building] = builder.add_floor(C.FloorPlan(building, 0, ()))
        builder._place_room(template, self.floor_of[building], self.counts, f"{building} ")
        self.placed.add((building, template))
        room = builder.rooms[-1]
        builder.areas[room.area_id]["aliases"] = []  # see the module docstring
        self.by_template.setdefault(template, room)
        return room

    def next_room(self) -> _Room:
        """The next room of the site, building by building (skipping rooms a namesake already
        needed)."""
        while True:
            index, self.made = self.made, self.made + 1
            rounds, slot = divmod(index, len(_ROOMS))
            building = self.buildings[rounds % len(self.buildings)]
            if rounds >= len(self.buildings):  # a very large site: numbered buildings
                building = f"{building} {rounds // len(self.buildings) + 1}"
            if (building, _ROOMS[slot]) not in self.placed:
                return self._room(_ROOMS[slot], building)

    def room_like(self, area: str | None) -> _Room:
        """A distractor room of the same kind as the home's area (else an office)."""
        template = next((name for name in C.ROOMS if area and name.casefold() in area.casefold()), "Office")
        if template in self.by_template:
            return self.by_template[template]
        return self._room(template, self.buildings[0])


def _trim(builder: _Builder, before: set[str], count: int) -> list[str]:
    """Exactly `count` new states: the last ones made go, with devices left without entities."""
    added = [entity_id for entity_id in builder.states if entity_id not in before]
    for entity_id in added[count:]:
        del builder.states[entity_id]
        builder.legacy_exposure.pop(entity_id, None)
        entry = builder.entities.pop(entity_id, None)
        device_id = entry["device_id"] if entry else None
        if device_id and not any(e["device_id"] == device_id for e in builder.entities.values()):
            builder.devices.pop(device_id, None)
    for entry in builder.entities.values():
        if entry["entity_id"] not in before:
            entry["aliases"] = []
    return added[:count]


def _merge(home: SimHome, builder: _Builder, added: list[str]) -> None:
    for key in ("entities", "devices", "areas", "floors", "labels"):
        mine: dict[str, Any] = getattr(home, key)
        for item_id, item in getattr(builder, key).items():
            mine.setdefault(item_id, item)
    for entity_id in added:
        home.states[entity_id] = builder.states[entity_id]
        home.history.seed(home.states[entity_id])
        if entity_id in builder.legacy_exposure:
            home.legacy_exposure[entity_id] = builder.legacy_exposure[entity_id]
    components = (
        set(home.config["components"]) | builder.components | {entity_id.split(".", 1)[0] for entity_id in added}
    )
    home.config["components"] = sorted(components)
    home.refresh_services()
