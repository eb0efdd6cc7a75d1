"""Rendering the home as compact, model-friendly text.

Rules that keep it cheap and clear:
- an entity's names are a list (name, then aliases), never one comma-joined string — joined
  names break name matching (HA issues 126391, 176324);
- a name that only repeats the entity id (`light.kitchen_ceiling` "Kitchen ceiling") is left
  out: the id already says it, and it is the most common case;
- an entity is one line: id, names, state — grouped under its area's heading;
- everything is sorted, so equal data renders to equal bytes (prompt caching needs that).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from data_api import Area, Entity, Floor, HAConfig, Service

_SLUG = re.compile(r"[^a-z0-9]+")
_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_PLAIN_NAME = re.compile(r"[\w .,:;'’()&/+@!?-]{1,100}")
# Domains whose state says nothing useful (a scene's state is when it last ran).
STATELESS = frozenset({"scene", "script", "input_button"})


def quoted(text: str) -> str:
    """A value from the home as a JSON string: whatever a name holds (quotes, line breaks, `##`),
    it stays one value on its line and cannot open a section of its own."""
    return json.dumps(text, ensure_ascii=False)


def one_line(text: str) -> str:
    """A value from the home where quotes would be noise (an id, a unit): on one line."""
    return _BREAKS.sub(" ", str(text)).strip()


def heading(name: str) -> str:
    """A name as a heading's text: as it is when it reads like a name, quoted when it holds
    what could pass for markup (`#`, quotes, line breaks)."""
    return name if _PLAIN_NAME.fullmatch(name) else quoted(name)


def slug(text: str) -> str:
    return _SLUG.sub("_", text.casefold()).strip("_")


def names(entity: Entity) -> list[str]:
    """The names a person may use for an entity: its name (unless the id says it) and aliases."""
    own = [] if slug(entity.name) == entity.entity_id.partition(".")[2] else [entity.name]
    return own + [a for a in entity.aliases if a != entity.name]


def catalog_line(entity: Entity) -> str:
    """`light.kitchen_ceiling ["Cooking light"]` — the stable part of an entity."""
    listed = names(entity)
    if not listed:
        return entity.entity_id
    return f"{entity.entity_id} [{_quoted(listed)}]"


def state_text(entity: Entity) -> str:
    """The state with the one or two attributes that matter for its domain."""
    a = entity.attributes
    state = entity.state
    domain = entity.domain
    if domain == "light" and state == "on" and a.get("brightness") is not None:
        return f"on {round(a['brightness'] * 100 / 255)}%"
    if domain == "cover" and a.get("current_position") is not None and state not in ("closed",):
        return f"{state} {a['current_position']}%"
    if domain == "climate":
        current, target = a.get("current_temperature"), a.get("temperature")
        parts = [state]
        if current is not None:
            parts.append(f"now {current}")
        if target is not None:
            parts.append(f"target {target}")
        return " ".join(parts)
    if domain == "media_player" and state in ("playing", "paused", "on") and a.get("volume_level") is not None:
        return f"{state} vol {round(a['volume_level'] * 100)}%"
    if domain == "fan" and state == "on" and a.get("percentage") is not None:
        return f"on {a['percentage']}%"
    unit = a.get("unit_of_measurement")
    return f"{state} {unit}" if unit and state not in ("unknown", "unavailable") else state


def state_line(entity: Entity) -> str:
    return f"{entity.entity_id}={state_text(entity)}"


def render_home(config: HAConfig) -> str:
    units = config.unit_system
    unit_text = ", ".join(str(units[k]) for k in ("temperature", "length", "volume", "mass") if units.get(k))
    parts = [quoted(config.location_name), f"time zone {one_line(config.time_zone)}"]
    if unit_text:
        parts.append(f"units {one_line(unit_text)}")
    parts.append(f"language {one_line(config.language)}")
    return "## Home\n" + "; ".join(parts)


def render_areas(floors: Sequence[Floor], areas: Sequence[Area]) -> str:
    by_floor = _areas_by_floor(areas)
    lines = ["## Floors and areas (id: names)"]
    for floor in _ordered(floors):
        lines.append(f"{floor.floor_id}: {_quoted([floor.name, *floor.aliases])}")
        lines += [f"  {_area(a)}" for a in by_floor.get(floor.floor_id, [])]
    lines += [_area(a) for a in by_floor.get(None, [])]
    return "\n".join(lines)


def render_areas_compact(floors: Sequence[Floor], areas: Sequence[Area]) -> str:
    """Area ids per floor only, for homes whose full area list would crowd out the entities."""
    by_floor = _areas_by_floor(areas)
    lines = ["## Areas by floor (ids; search finds them by name too)"]
    for floor in _ordered(floors):
        lines.append(f"{floor.floor_id}: " + ", ".join(a.area_id for a in by_floor.get(floor.floor_id, [])))
    if by_floor.get(None):
        lines.append("no floor: " + ", ".join(a.area_id for a in by_floor[None]))
    return "\n".join(lines)


def _areas_by_floor(areas: Sequence[Area]) -> dict[str | None, list[Area]]:
    by_floor: dict[str | None, list[Area]] = {}
    for area in areas:
        by_floor.setdefault(area.floor_id, []).append(area)
    return by_floor


def _ordered(floors: Sequence[Floor]) -> list[Floor]:
    return sorted(floors, key=lambda f: (f.level if f.level is not None else 99, f.floor_id))


def _area(area: Area) -> str:
    return f"{area.area_id}: {_quoted([area.name, *area.aliases])}"


def _quoted(values: Iterable[Any]) -> str:
    return ", ".join(quoted(str(v)) for v in values)


def entity_line(entity: Entity, *, with_state: bool = True) -> str:
    """`light.kitchen_ceiling ["Cooking light"] = on 80%`."""
    line = catalog_line(entity)
    return f"{line} = {state_text(entity)}" if with_state else line


def render_entities(entities: Sequence[Entity], areas: Mapping[str, Area]) -> str:
    """Exposed entities by area, each with its names and state, one line each.

    One list rather than names in the stable part and states in the volatile part: the ids
    would be written twice, and they are most of the tokens (measured: 14 tokens an entity
    this way, 20 split).
    """
    lines = ["## Entities by area (entity_id [names] = state)"]
    for area_id, members in _by_area(entities):
        lines.append(f"### {heading(areas[area_id].name) if area_id in areas else 'No area'}")
        lines += [entity_line(e, with_state=e.domain not in STATELESS) for e in members]
    return "\n".join(lines)


def _by_area(entities: Iterable[Entity]) -> list[tuple[str | None, list[Entity]]]:
    groups: dict[str | None, list[Entity]] = {}
    for entity in entities:
        groups.setdefault(entity.area_id, []).append(entity)
    return sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))


def render_summary(entities: Sequence[Entity]) -> str:
    """What is not listed in full: counts per floor and domain, so the model knows to search."""
    by_floor: dict[str, dict[str, int]] = {}
    for entity in entities:
        counts = by_floor.setdefault(entity.floor_id or "no floor", {})
        counts[entity.domain] = counts.get(entity.domain, 0) + 1
    lines = ["## Exposed entities, counted per floor (search to list them)"]
    for floor_id, counts in sorted(by_floor.items()):
        lines.append(f"{floor_id}: " + ", ".join(f"{n} {d}" for d, n in sorted(counts.items())))
    return "\n".join(lines)


def render_services(services: Sequence[Service], domains: set[str]) -> str:
    """Services of the exposed domains: `light.turn_on(brightness_pct, color_name, …)`; * = required."""
    lines = ["## Services (domain.service(fields), * = required)"]
    for service in services:
        if service.domain not in domains:
            continue
        fields = ", ".join(one_line(f.name) + ("*" if f.required else "") for f in service.fields)
        lines.append(f"{one_line(service.key)}({fields})")
    return "\n".join(lines)


def render_scenes(scenes: Sequence[Entity]) -> str:
    return "## Scenes\n" + "\n".join(catalog_line(s) for s in scenes)


def render_scripts(scripts: Sequence[Any]) -> str:
    """Scripts with the fields they take: `script.announce(message*, volume) ["Announce"]`."""
    lines = ["## Scripts (fields, * = required)"]
    for script in scripts:
        fields = ", ".join(one_line(f.name) + ("*" if f.required else "") for f in script.fields)
        listed = names(script.entity)
        suffix = f" [{_quoted(listed)}]" if listed else ""
        lines.append(f"{script.entity.entity_id}({fields}){suffix}")
    return "\n".join(lines)


def render_helpers(helpers: Sequence[Entity]) -> str:
    """Helpers with what values they take (options, range)."""
    lines = ["## Helpers"]
    for helper in helpers:
        a = helper.attributes
        extra = ""
        if a.get("options"):
            extra = " options: " + _quoted(a["options"])
        elif a.get("min") is not None and a.get("max") is not None:
            extra = f" range {a['min']}..{a['max']}" + (f" step {a['step']}" if a.get("step") else "")
        lines.append(catalog_line(helper) + extra)
    return "\n".join(lines)
