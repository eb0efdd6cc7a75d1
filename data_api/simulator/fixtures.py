"""Evaluation homes: a home written in the community's `_fixtures.yaml` format, loaded into the
simulated HA exactly as a generated home is served (see ../../shared/eval-format.md).

    fixture = read_fixture("tests/eval/flat")          # a folder with _fixtures.yaml, or the file
    home = load_home(fixture, scale=500, seed=1)       # an EvalHome; 500 distractor entities
    async with SimulatedHA(home) as sim:
        home.apply_setup({"light.kitchen_light": {"state": "off"}})
        before = home.snapshot()
        ...                                            # the assistant acts over sim.url
        changed = diff(before, home.snapshot())
        home.reset()                                   # back to the loaded home, for the next case

The home is what the leaderboard's Home Assistant holds for the same file: floors, areas
(created when only referenced, by id or by name, as a device's suggested area is), devices from
one config entry with their `info`, and every entity with a registry entry (platform
`synthetic_home`, the leaderboard's integration; helpers, scenes, scripts and people under their
own), its effective area (its own, else its device's) and its exposure: every listed entity is
exposed to Assist, also locks and scripts HA would not expose by default, except those written
with `exposed: false`. Entity attributes are read by `fixture_states.entity_spec`.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .distractors import add_distractors
from .evalhome import EvalHome, Written
from .fixture_states import EntitySpec, FixtureError, HomeContext, entity_spec
from .generator import (
    CORE_COMPONENTS,
    GeneratedHome,
    area_entry,
    core_config,
    device_entry,
    floor_entry,
    registry_entry,
    state_entry,
)
from .schema import valid_entity_id
from .util import slugify, ulid, unique_slug, uuid_hex

FIXTURE_FILE = "_fixtures.yaml"
HOME_FILE = "_home.yaml"
PLATFORM = "synthetic_home"  # the integration the leaderboard's HA loads these homes with
# Entities whose integration is the domain itself (HA's helpers, scenes, scripts, people).
_OWN_PLATFORM = {
    "input_boolean",
    "input_number",
    "input_select",
    "input_text",
    "input_datetime",
    "input_button",
    "counter",
    "timer",
    "schedule",
    "script",
    "person",
    "zone",
}
_SCENE_PLATFORM = "homeassistant"
# HA's default location (San Diego) for a home that names none.
_DEFAULT_LATITUDE, _DEFAULT_LONGITUDE = 32.87336, -117.22743
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class HomeFixture:
    """A parsed `_fixtures.yaml` (and the folder's `_home.yaml`), not yet a running home:
    one fixture can be loaded many times (`load_home`)."""

    name: str
    floors: tuple[dict[str, Any], ...]
    areas: tuple[dict[str, Any], ...]
    devices: tuple[dict[str, Any], ...]
    entities: tuple[dict[str, Any], ...]
    description: dict[str, Any] = field(default_factory=dict)  # _home.yaml, as written
    language: str | None = None
    source: Path | None = None


def read_fixture(path: str | Path) -> HomeFixture:
    """Read a home from a folder holding `_fixtures.yaml` (and maybe `_home.yaml`), or from the
    fixture file itself."""
    path = Path(path)
    file = path / FIXTURE_FILE if path.is_dir() else path
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as err:
        raise FixtureError(f"{file}: not valid YAML: {err}") from None
    description: dict[str, Any] = {}
    home_file = file.parent / HOME_FILE
    if home_file.exists():
        description = yaml.load(home_file.read_text(encoding="utf-8"), Loader=_Loader) or {}
    return parse_fixture(data, name=file.parent.name, description=description, source=file)


def parse_fixture(
    data: Any, *, name: str = "Home", description: Mapping[str, Any] | None = None, source: Path | None = None
) -> HomeFixture:
    """A home from the fixture's parsed YAML; refuses what cannot be loaded, saying where."""
    where = str(source or name)
    if not isinstance(data, Mapping):
        raise FixtureError(f"{where}: a home is a mapping of floors, areas, devices, entities")
    lists = {}
    for key in ("floors", "areas", "devices", "entities"):
        items = data.get(key) or []
        if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
            raise FixtureError(f"{where}: `{key}` must be a list of mappings")
        lists[key] = tuple(dict(item) for item in items)
    if not lists["entities"]:
        raise FixtureError(f"{where}: the home lists no entities")
    seen: set[str] = set()
    for entity in lists["entities"]:
        entity_id = str(entity.get("id") or "").lower()  # HA's state machine lower-cases ids
        entity["id"] = entity_id
        if not valid_entity_id(entity_id):
            raise FixtureError(f"{where}: {entity_id!r} is not a valid entity id")
        if entity_id in seen:
            raise FixtureError(f"{where}: {entity_id} is listed twice")
        seen.add(entity_id)
    home = dict(description or {})
    return HomeFixture(
        name=str(home.get("name") or name),
        floors=lists["floors"],
        areas=lists["areas"],
        devices=lists["devices"],
        entities=lists["entities"],
        description=home,
        language=data.get("language"),
        source=source,
    )


_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")
_ALTERNATIVES = re.compile(r"\(([^()]*)\)")


def plain_name(name: Any) -> str:
    """A name written as a hassil template ("Trader Joe[']s", "(TV|television)") as the name
    it stands for: optional parts kept, the first alternative taken."""
    text = str(name)
    text = _OPTIONAL.sub(lambda match: match.group(1), text)
    text = _ALTERNATIVES.sub(lambda match: match.group(1).split("|")[0], text)
    return " ".join(text.split())


# --- building the home ----------------------------------------------------------------------


class _Places:
    """Floors and areas by id or by name (any case); a reference to an unknown one creates it,
    as HA creates a device's suggested area."""

    def __init__(self, created: float) -> None:
        self.created = created
        self.floors: dict[str, dict[str, Any]] = {}
        self.areas: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _resolve(
        items: dict[str, dict[str, Any]], ref: Any, key: str, make: Callable[[str], dict[str, Any]]
    ) -> str | None:
        """The id of the item `ref` names (its id, its name or its name's slug), else of a new
        one `make` builds."""
        if ref is None or ref == "":
            return None
        text = str(ref)
        if text in items:
            return text
        found = next(
            (
                item_id
                for item_id, item in items.items()
                if item["name"].casefold() == text.casefold() or item[key] == slugify(text)
            ),
            None,
        )
        if found is not None:
            return found
        new_id = unique_slug(slugify(text), items)
        items[new_id] = make(new_id)
        return new_id

    def floor(
        self,
        ref: Any,
        *,
        name: str | None = None,
        level: Any = None,
        aliases: Iterable[str] = (),
        icon: str | None = None,
    ) -> str | None:
        return self._resolve(
            self.floors,
            ref,
            "floor_id",
            lambda floor_id: floor_entry(
                floor_id,
                plain_name(name or ref),
                created=self.created,
                aliases=aliases,
                icon=icon,
                level=None if level is None else int(level),
            ),
        )

    def area(
        self,
        ref: Any,
        *,
        name: str | None = None,
        floor: Any = None,
        aliases: Iterable[str] = (),
        icon: str | None = None,
    ) -> str | None:
        return self._resolve(
            self.areas,
            ref,
            "area_id",
            lambda area_id: area_entry(
                area_id,
                plain_name(name or ref),
                created=self.created,
                floor_id=self.floor(floor),
                aliases=aliases,
                icon=icon,
            ),
        )


def _time_zone(fixture: HomeFixture, given: str | None) -> str:
    zone = given or fixture.description.get("time_zone") or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise FixtureError(f"{fixture.name}: unknown time zone {zone!r}") from None
    return str(zone)


def _location(fixture: HomeFixture) -> tuple[float, float]:
    place = fixture.description.get("location")
    if isinstance(place, Mapping) and "latitude" in place and "longitude" in place:
        return float(place["latitude"]), float(place["longitude"])
    return _DEFAULT_LATITUDE, _DEFAULT_LONGITUDE


def build_data(
    fixture: HomeFixture,
    *,
    time_zone: str | None = None,
    metric: bool | None = None,
    now: float | None = None,
) -> tuple[GeneratedHome, dict[str, Written], dict[str, EntitySpec], HomeContext]:
    """Everything a SimHome holds for the fixture, plus each entity as written and as read."""
    moment = float(int(time.time())) if now is None else now
    rng = random.Random(f"fixture:{fixture.name}")
    created = round(moment - 30 * 86400, 6)
    zone = _time_zone(fixture, time_zone)
    if metric is None:
        metric = fixture.description.get("unit_system", "metric") != "us_customary"
    context = HomeContext(ZoneInfo(zone), metric)
    places = _Places(created)
    for floor in fixture.floors:
        places.floor(
            floor.get("id") or floor.get("name"),
            name=floor.get("name"),
            level=floor.get("level"),
            aliases=floor.get("aliases") or (),
            icon=floor.get("icon"),
        )
    for area in fixture.areas:
        places.area(
            area.get("id") or area.get("name"),
            name=area.get("name"),
            floor=area.get("floor"),
            aliases=area.get("aliases") or (),
            icon=area.get("icon"),
        )
    entry_id = ulid(created, rng)
    devices: dict[str, dict[str, Any]] = {}
    device_ids: dict[str, str] = {}
    for device in fixture.devices:
        key = str(device.get("id") or device.get("name"))
        info = device.get("info") or {}
        device_id = uuid_hex(rng)
        device_ids[key] = device_id
        version = info.get("sw_version", info.get("firmware"))
        devices[device_id] = device_entry(
            device_id,
            plain_name(device.get("name") or key),
            created=created,
            entry_id=entry_id,
            identifiers=[[PLATFORM, key]],
            area_id=places.area(device.get("area")),
            manufacturer=_text(info.get("manufacturer")),
            model=_text(info.get("model")),
            sw_version=_text(version),
            hw_version=_text(info.get("hw_version")),
        )
    states: dict[str, dict[str, Any]] = {}
    entries: dict[str, dict[str, Any]] = {}
    written: dict[str, Written] = {}
    specs: dict[str, EntitySpec] = {}
    for entity in fixture.entities:
        entity_id = str(entity["id"])
        name = plain_name(
            entity.get("name")
            or (entity.get("attributes") or {}).get("friendly_name")
            or entity_id.split(".", 1)[1].replace("_", " ").title()
        )
        written[entity_id] = Written(name, entity.get("state"), dict(entity.get("attributes") or {}))
        try:
            spec = entity_spec(entity_id, name, entity.get("state"), entity.get("attributes"), context)
        except (TypeError, ValueError) as err:
            raise FixtureError(f"{fixture.name}: {entity_id}: {err}") from None
        specs[entity_id] = spec
        device_ref = entity.get("device")
        device_id = device_ids.get(str(device_ref)) if device_ref is not None else None
        if device_ref is not None and device_id is None:
            raise FixtureError(f"{fixture.name}: {entity_id} names device {device_ref!r}, which the home does not list")
        own_area = places.area(entity.get("area"))
        device_area = devices[device_id]["area_id"] if device_id else None
        domain = entity_id.split(".", 1)[0]
        platform = domain if domain in _OWN_PLATFORM else _SCENE_PLATFORM if domain == "scene" else PLATFORM
        entry = registry_entry(
            entity_id,
            platform,
            f"{device_ref or 'home'}-{entity_id}",
            entry_uuid=uuid_hex(rng),
            created=created,
            config_entry_id=entry_id if platform == PLATFORM else None,
            device_id=device_id,
            category=entity.get("entity_category"),
            hidden=bool(entity.get("hidden", False)),
            exposed=entity.get("exposed", True) is not False,
            original_name=name,
            aliases=[plain_name(alias) for alias in entity.get("aliases") or ()],
            capabilities=spec.capabilities,
            original_device_class=spec.attributes.get("device_class"),
            original_icon=spec.attributes.get("icon"),
        )
        # An entity in its device's area inherits it, as in HA; one placed elsewhere keeps its own.
        entry["area_id"] = own_area if own_area != device_area else None
        entries[entity_id] = entry
        states[entity_id] = state_entry(
            entity_id, spec.state, spec.attributes, changed=created, context_id=ulid(created, rng)
        )
    latitude, longitude = _location(fixture)
    domains = {entity_id.split(".", 1)[0] for entity_id in states}
    config = core_config(
        location_name=fixture.name,
        time_zone=zone,
        country=fixture.description.get("country_code"),
        currency=str(fixture.description.get("currency", "EUR")),
        latitude=latitude,
        longitude=longitude,
        elevation=0,
        metric=metric,
        components={*CORE_COMPONENTS, *domains, PLATFORM, *(f"{PLATFORM}.{d}" for d in domains)},
    )
    if fixture.language:
        config["language"] = str(fixture.language)
    data = GeneratedHome(
        config=config,
        states=states,
        floors=places.floors,
        areas=places.areas,
        labels={},
        devices=devices,
        entities=entries,
        legacy_exposure={},
        scenes={},
        scripts={},
        schedules={},
        notify_targets={},
        user_id=uuid_hex(rng),
    )
    return data, written, specs, context


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def load_home(
    fixture: HomeFixture | str | Path | Mapping[str, Any],
    *,
    scale: int = 0,
    seed: int = 0,
    time_zone: str | None = None,
    metric: bool | None = None,
    now: float | None = None,
) -> EvalHome:
    """A running evaluation home: the fixture's home, padded with `scale` distractor entities
    (seeded by `seed`), whose loaded state `EvalHome.reset()` returns to."""
    if isinstance(fixture, (str, Path)):
        fixture = read_fixture(fixture)
    elif not isinstance(fixture, HomeFixture):
        fixture = parse_fixture(fixture)
    data, written, specs, context = build_data(fixture, time_zone=time_zone, metric=metric, now=now)
    home = EvalHome(data, fixture, written, context)
    for entity_id, spec in specs.items():
        home.apply_spec(entity_id, spec, fire=False)
    if scale:
        add_distractors(home, scale, seed=seed, now=now)
    home.freeze()
    return home
