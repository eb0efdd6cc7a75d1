"""Home Assistant's own Assist LLM context, rendered from our mirror: the token-count baseline.

Home Assistant 2025.4.4 gives a conversation agent with the Assist API two texts about the home
(`homeassistant/helpers/llm.py`):

- the API prompt (`AssistAPI._async_get_api_prompt`), sent every turn: fixed instructions, then
  "Static Context: ..." and a YAML list of the exposed entities — `names`, `domain`, `areas`;
- the result of its `GetLiveContext` tool, fetched when the model asks for current states: the
  same YAML list with `state` and a whitelist of attributes, under "Live Context: ...".

This module writes those texts itself from the mirror's entities and areas (it does not import
or copy Home Assistant) so the benchmark can count HA's tokens for the very home it counts ours
for. `tests/test_assist_format.py` checks it against texts recorded from a real HA 2025.4.4
(`tests/support/record_assist_format.py`).

HA's rules, and where they depend on the kind of entity:

- Which entities: those exposed to Assist (`Entity.exposed`: the mirror applies HA's exposure
  rules — a stored choice, else HA's default by domain / device class, never for hidden or
  categorised entities), minus `group.all_locks` (never exposed). Scripts and calendars are
  exposed but left out of both lists: HA turns scripts into tools of their own and calendars
  into the calendar tool (their tool schemas are not counted here).
- Names: the state's name — its `friendly_name` attribute, else the object id with `_` as
  spaces (so not `Entity.name` when the registry name and the friendly name differ, e.g. a
  device-named entity) — then the registry aliases, joined with ", ". Entities without a
  registry entry have no aliases.
- Areas: the entity's own area, else its device's (the mirror's `Entity.area_id` is already
  that), as the area name then its aliases joined with ", "; the key is left out when there is
  none — always so for entities without a registry entry. (One edge HA handles differently: an
  entity whose own area id names a deleted area gets its device's area in HA, none here; HA
  clears such ids when an area is deleted, so it should not occur.)
- Live context only: `state` (always a string, so numbers and on/off are quoted in YAML) and
  `attributes`, from this whitelist only, in the state's own attribute order: temperature,
  current_temperature, temperature_unit, brightness, humidity, unit_of_measurement,
  device_class, current_position, percentage, volume_level, media_title, media_artist,
  media_album_name. Integers (and booleans, a kind of int) become strings; floats, strings,
  lists and None stay (None prints as an empty value). Which appear depends on the domain:
  lights carry brightness (an empty value when off), climates temperature/current_temperature (and
  humidity), sensors unit_of_measurement and device_class, covers current_position, fans
  percentage, media players volume/media_*. No `attributes` key when none is present. States
  are as HA holds them (2025.4.4 does not yet convert timestamp sensors to local time).
- Order: HA lists entities in its state machine's insertion order (roughly integration load
  order), which the mirror does not keep; we list them by entity_id. HA's aliases are sets
  (arbitrary order); we list them sorted, as the mirror stores them. Neither changes the token
  count beyond a token or two.
- Prompt preamble: without a voice satellite (`device_id`), HA asks the model to ask for an
  area and says timers are unavailable; with a satellite in an area it names the area (and
  floor). Both variants are here; the benchmark uses the first (a chat, not a satellite).

Not rendered: HA's tool definitions (intent tools, GetLiveContext's own description, script
tools) and the conversation agent's own instructions / date-time line, which surround these
texts in a real request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from data_api import Area, Entity
from ha_agent.tokens import count_tokens

try:  # HA's dumper: libyaml's when available (annotatedyaml.dumper.dump)
    from yaml import CSafeDumper as _Dumper
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]

NEVER_EXPOSED = frozenset({"group.all_locks"})
# Exposed, but not listed: HA gives them tools of their own.
OWN_TOOL_DOMAINS = frozenset({"script", "calendar"})
LIVE_ATTRIBUTES = frozenset(
    {
        "temperature",
        "current_temperature",
        "temperature_unit",
        "brightness",
        "humidity",
        "unit_of_measurement",
        "device_class",
        "current_position",
        "percentage",
        "volume_level",
        "media_title",
        "media_artist",
        "media_album_name",
    }
)

# The fixed text of HA 2025.4.4's Assist API prompt (helpers/llm.py), word for word.
NO_ENTITIES_PROMPT = (
    "Only if the user wants to control a device, tell them to expose entities "
    "to their voice assistant in Home Assistant."
)
TOOL_USAGE_PROMPT = (
    "When controlling Home Assistant always call the intent tools. "
    "Use HassTurnOn to lock and HassTurnOff to unlock a lock. "
    "When controlling a device, prefer passing just name and domain. "
    "When controlling an area, prefer passing just area name and domain."
)
NO_AREA_PROMPT = (
    "When a user asks to turn on all devices of a specific type, "
    "ask user to specify an area, unless there is only one device of that type."
)
SATELLITE_AREA_EXTRA = "and all generic commands like 'turn on the lights' should target this area."
NO_TIMERS_PROMPT = "This device is not able to start timers."
DYNAMIC_CONTEXT_PROMPT = """You ARE equipped to answer questions about the current state of
the home using the `GetLiveContext` tool. This is a primary function. Do not state you lack the
functionality if the question requires live data.
If the user asks about device existence/type (e.g., "Do I have lights in the bedroom?"): Answer
from the static context below.
If the user asks about the CURRENT state, value, or mode (e.g., "Is the lock locked?",
"Is the fan on?", "What mode is the thermostat in?", "What is the temperature outside?"):
    1.  Recognize this requires live data.
    2.  You MUST call `GetLiveContext`. This tool will provide the needed real-time information \
(like temperature from the local weather, lock status, etc.).
    3.  Use the tool's response** to answer the user accurately (e.g., "The temperature outside \
is [value from tool].").
For general knowledge questions not about the home: Answer truthfully from internal knowledge.
"""
STATIC_HEADING = "Static Context: An overview of the areas and the devices in this smart home:"
LIVE_HEADING = "Live Context: An overview of the areas and the devices in this smart home:"


@dataclass(frozen=True, slots=True)
class AssistContext:
    """HA's two texts for one home, and how many entities they list."""

    prompt: str  # the Assist API prompt (no states), sent every turn
    live_context: str  # GetLiveContext's `result` text (states and attributes)
    entities: int  # entities listed (exposed, minus scripts and calendars)
    static_list: str = ""  # the prompt's YAML entity list (the part that grows with the home)
    live_list: str = ""  # the live context's YAML entity list

    @property
    def live_tool_message(self) -> str:
        """The tool result as HA's OpenAI agent sends it back to the model (JSON)."""
        return live_tool_message(self.live_context)

    def tokens(self, model: str = "gpt-4o") -> AssistTokens:
        return AssistTokens(
            prompt=count_tokens(self.prompt, model),
            live_context=count_tokens(self.live_context, model),
            entities=self.entities,
            static_list=count_tokens(self.static_list, model),
            live_list=count_tokens(self.live_list, model),
        )


@dataclass(frozen=True, slots=True)
class AssistTokens:
    """Token counts of an `AssistContext`: whole texts, and their entity lists alone."""

    prompt: int
    live_context: int
    entities: int
    static_list: int = 0
    live_list: int = 0

    @property
    def total(self) -> int:
        return self.prompt + self.live_context

    @property
    def prompt_fixed(self) -> int:
        """The prompt's fixed instructions (≈ the same for every home)."""
        return self.prompt - self.static_list

    @property
    def prompt_per_entity(self) -> float:
        return self.prompt / self.entities if self.entities else 0.0

    @property
    def live_per_entity(self) -> float:
        return self.live_context / self.entities if self.entities else 0.0

    @property
    def static_list_per_entity(self) -> float:
        """What each listed entity adds to the prompt (the fixed instructions left out)."""
        return self.static_list / self.entities if self.entities else 0.0

    @property
    def live_list_per_entity(self) -> float:
        return self.live_list / self.entities if self.entities else 0.0


def state_name(entity: Entity) -> str:
    """HA's `State.name`: the friendly_name attribute, else the object id with spaces."""
    friendly = entity.attributes.get("friendly_name")
    if friendly:
        return str(friendly)
    return entity.entity_id.partition(".")[2].replace("_", " ")


def listed_entities(entities: Iterable[Entity]) -> list[Entity]:
    """The entities HA lists: exposed, not never-exposed, not scripts or calendars; by id."""
    return sorted(
        (e for e in entities if e.exposed and e.entity_id not in NEVER_EXPOSED and e.domain not in OWN_TOOL_DOMAINS),
        key=lambda e: e.entity_id,
    )


def _live_value(value: Any) -> Any:
    # HA: str() of Enum, Decimal and int (bool included); everything else as is. Over the
    # mirror's JSON an enum is already its string value.
    return str(value) if isinstance(value, int) else value


def entity_info(entity: Entity, areas: Mapping[str, Area], *, live: bool) -> dict[str, Any]:
    """One entity's YAML mapping, keys in HA's order: names, domain, state, areas, attributes."""
    info: dict[str, Any] = {
        "names": ", ".join([state_name(entity), *entity.aliases]),
        "domain": entity.domain,
    }
    if live:
        info["state"] = entity.state
    area = areas.get(entity.area_id) if entity.area_id else None
    if area is not None:
        info["areas"] = ", ".join([area.name, *area.aliases])
    if live:
        attributes = {name: _live_value(value) for name, value in entity.attributes.items() if name in LIVE_ATTRIBUTES}
        if attributes:
            info["attributes"] = attributes
    return info


def dump_yaml(data: Any) -> str:
    """HA's YAML dump (annotatedyaml): block style, unicode, insertion order, no `null`."""
    text = yaml.dump(data, Dumper=_Dumper, default_flow_style=False, allow_unicode=True, sort_keys=False)
    return text.replace(": null\n", ":\n")


def static_list(entities: Iterable[Entity], areas: Mapping[str, Area]) -> str:
    """The prompt's YAML list (no states); "" when nothing is listed."""
    listed = listed_entities(entities)
    return dump_yaml([entity_info(e, areas, live=False) for e in listed]) if listed else ""


def live_list(entities: Iterable[Entity], areas: Mapping[str, Area]) -> str:
    """The live context's YAML list (states, attributes); "" when nothing is listed."""
    listed = listed_entities(entities)
    return dump_yaml([entity_info(e, areas, live=True) for e in listed]) if listed else ""


def prompt_text(
    entity_list: str,
    *,
    satellite_area: str | None = None,
    satellite_floor: str | None = None,
    satellite_timers: bool = False,
) -> str:
    """HA's Assist API prompt around a rendered entity list (`static_list`)."""
    if not entity_list:
        return NO_ENTITIES_PROMPT
    parts = [TOOL_USAGE_PROMPT]
    if satellite_area and satellite_floor:
        parts.append(f"You are in area {satellite_area} (floor {satellite_floor}) {SATELLITE_AREA_EXTRA}")
    elif satellite_area:
        parts.append(f"You are in area {satellite_area} {SATELLITE_AREA_EXTRA}")
    else:
        parts.append(NO_AREA_PROMPT)
    if not satellite_timers:
        parts.append(NO_TIMERS_PROMPT)
    parts += [DYNAMIC_CONTEXT_PROMPT, STATIC_HEADING, entity_list]
    return "\n".join(parts)


def live_text(entity_list: str) -> str:
    """GetLiveContext's `result` around a rendered list (`live_list`); "" when it is empty (HA
    then answers with an error instead)."""
    return "\n".join([LIVE_HEADING, entity_list]) if entity_list else ""


def render_prompt(
    entities: Iterable[Entity],
    areas: Mapping[str, Area],
    *,
    satellite_area: str | None = None,
    satellite_floor: str | None = None,
    satellite_timers: bool = False,
) -> str:
    """HA's Assist API prompt. Without `satellite_area`, a chat's (no voice satellite); a
    satellite in an area (and floor) gets "You are in area ..." instead of the ask-for-an-area
    line, and "not able to start timers" unless `satellite_timers`."""
    return prompt_text(
        static_list(entities, areas),
        satellite_area=satellite_area,
        satellite_floor=satellite_floor,
        satellite_timers=satellite_timers,
    )


def render_live_context(entities: Iterable[Entity], areas: Mapping[str, Area]) -> str:
    """GetLiveContext's `result` text ("" when nothing is listed)."""
    return live_text(live_list(entities, areas))


def live_tool_message(live_context: str) -> str:
    """The tool response as HA's OpenAI agent sends it to the model: `json.dumps` of the dict."""
    if not live_context:
        return json.dumps({"success": False, "error": NO_ENTITIES_PROMPT})
    return json.dumps({"success": True, "result": live_context})


def render(entities: Iterable[Entity], areas: Mapping[str, Area] | Iterable[Area]) -> AssistContext:
    """Both texts (a chat's prompt: no voice satellite) from model objects; areas by id, or a
    plain list of them."""
    if not isinstance(areas, Mapping):
        areas = {a.area_id: a for a in areas}
    listed = listed_entities(entities)
    static, live = static_list(listed, areas), live_list(listed, areas)
    return AssistContext(
        prompt=prompt_text(static),
        live_context=live_text(live),
        entities=len(listed),
        static_list=static,
        live_list=live,
    )


async def assist_context(home: Any) -> AssistContext:
    """HA's Assist texts for a home read like the context builder reads it (`await
    home.kind(...)`: a `LocalHome`, a remote data-api home, ...)."""
    entities = await home.kind("entities")
    areas = await home.kind("areas")
    return render(entities.items.values(), areas.items)


async def assist_tokens(home: Any, model: str = "gpt-4o") -> AssistTokens:
    return (await assist_context(home)).tokens(model)
