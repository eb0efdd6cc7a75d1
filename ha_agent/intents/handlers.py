"""HA's intents as calls of our tools: the same tools and policy a model's calls go through.

Each handler turns one recognised intent into tool calls (`Step`s) on the entities it names,
or into a `problem` when the sentence does not name one clear set of them. Nothing here
calls Home Assistant: the toolbox runs the calls, checks the policy and asks for
confirmations exactly as for a model.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from data_api import Entity
from ha_agent.home import Snapshot
from ha_agent.llm import ToolCall

from .language import HELPER_DOMAINS, HELPER_INTENT
from .model import IntentMatch, Question, Step
from .targets import Scope, Targets, find_targets, join_names, spoken_of

# Domains with nothing to switch: a sentence turning one on is a misunderstanding.
_READ_ONLY = frozenset({"sensor", "binary_sensor", "person", "weather", "sun", "zone", "device_tracker", "event"})
# What HassTurnOn/HassTurnOff run per domain (HA's own mapping: covers open, locks lock).
_POWER = {
    "lock": (("lock", "lock", "Locked"), ("unlock", "unlock", "Unlocked")),
    "cover": (("open_cover", "open", "Opened"), ("close_cover", "close", "Closed")),
    "valve": (("open_valve", "open", "Opened"), ("close_valve", "close", "Closed")),
}
_DEFAULT_POWER = (("turn_on", "turn on", "Turned on"), ("turn_off", "turn off", "Turned off"))
QUESTIONS = frozenset({"one", "one_yesno", "any", "all", "which", "how_many"})
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Recognized:
    """One recognised sentence, with what is needed to find the entities it names."""

    intent: str
    response: str | None
    slots: dict[str, Any]
    said: dict[str, str]  # each slot's words as the user said them ("open" for state "on")
    domains: tuple[str, ...]  # the kinds the matched sentence allows (empty: any)
    home: Snapshot

    def targets(self, domains: Sequence[str] = ()) -> Targets:
        """The entities meant; `domains` narrows the sentence's own kinds (a handler's)."""
        allowed = tuple(d for d in self.domains if not domains or d in domains) or tuple(domains)
        return find_targets(Scope.from_slots(self.slots, allowed), self.home)

    def match(self, *steps: Step, question: Question | None = None) -> IntentMatch:
        return IntentMatch(self.intent, dict(self.slots), tuple(steps), question)

    def unclear(self, problem: str) -> IntentMatch:
        return IntentMatch(self.intent, dict(self.slots), problem=problem)


Handler = Callable[[Recognized], IntentMatch]


def tool_call(name: str, arguments: dict[str, Any]) -> ToolCall:
    # Ids tell the local engine's calls apart from a model's in the audit trail.
    return ToolCall(f"local_{next(_ids)}", name, json.dumps(arguments, ensure_ascii=False))


def service_step(
    domain: str,
    service: str,
    entities: Sequence[Entity],
    verb: str,
    past: str,
    *,
    data: dict[str, Any] | None = None,
    to: str = "",
    detail: str | None = None,
) -> Step:
    arguments: dict[str, Any] = {
        "service": f"{domain}.{service}",
        "target": {"entity_id": [e.entity_id for e in entities]},
    }
    if data:
        arguments["data"] = data
    names = join_names(e.name for e in entities)
    return Step(tool_call("call_service", arguments), verb, past, names, to=to, detail=detail)


def _by_domain(entities: Sequence[Entity]) -> dict[str, list[Entity]]:
    groups: dict[str, list[Entity]] = {}
    for entity in entities:
        groups.setdefault(entity.domain, []).append(entity)
    return groups


# --- on and off: lights, switches, covers, locks, scenes, scripts, helpers ----------------------
def _power(on: bool) -> Handler:
    def handle(r: Recognized) -> IntentMatch:
        targets = r.targets()
        if targets.problem:
            return r.unclear(targets.problem)
        steps: list[Step] = []
        for domain, entities in _by_domain(targets.entities).items():
            found = _power_steps(domain, entities, on)
            if isinstance(found, str):
                return r.unclear(found)
            steps += found
        return r.match(*steps)

    return handle


def _power_steps(domain: str, entities: list[Entity], on: bool) -> list[Step] | str:
    names = join_names(e.name for e in entities)
    if domain in _READ_ONLY:
        return f"{names} cannot be turned {'on' if on else 'off'}."
    if domain == "scene":
        if not on:
            return f"A scene cannot be turned off ({names})."
        return [
            Step(tool_call("activate_scene", {"scene": e.entity_id}), "activate", "Activated", e.name, report=False)
            for e in entities
        ]
    if domain == "script" and on:
        return [
            Step(tool_call("run_script", {"script": e.entity_id}), "run", "Ran", e.name, report=False) for e in entities
        ]
    if domain == "input_boolean":
        verb, past = ("turn on", "Turned on") if on else ("turn off", "Turned off")
        return [
            Step(tool_call("set_helper", {"helper": e.entity_id, "value": on}), verb, past, e.name) for e in entities
        ]
    service, verb, past = _POWER.get(domain, _DEFAULT_POWER)[0 if on else 1]
    return [service_step(domain, service, entities, verb, past)]


# --- settings: brightness, colour, position, temperature, volume, fan speed, helpers ------------
def _light_set(r: Recognized) -> IntentMatch:
    targets = r.targets(("light",))
    if targets.problem:
        return r.unclear(targets.problem)
    brightness, color, kelvin = r.slots.get("brightness"), r.slots.get("color"), r.slots.get("temperature")
    # The new state says a brightness or a colour temperature; a colour it says as numbers, so
    # that reply repeats the colour asked for instead.
    data: dict[str, Any]
    if brightness is not None:
        data, to, detail = {"brightness_pct": _number(brightness)}, f" to {_number(brightness)}% brightness", None
    elif color is not None:
        data, to, detail = {"color_name": str(color)}, f" to {color}", None
    elif kelvin is not None:
        data, to, detail = {"color_temp_kelvin": int(kelvin)}, f" to {int(kelvin)} K", "color_temp_kelvin"
    else:
        return r.unclear("What should the light be set to?")
    step = service_step("light", "turn_on", targets.entities, "set", "Set", data=data, to=to, detail=detail)
    return r.match(replace(step, report=color is None))


def _set_position(r: Recognized) -> IntentMatch:
    targets = r.targets(("cover", "valve"))
    if targets.problem:
        return r.unclear(targets.problem)
    position = _number(r.slots.get("position"))
    steps = [
        service_step(
            domain, f"set_{domain}_position", entities, "set", "Set", data={"position": position}, to=f" to {position}%"
        )
        for domain, entities in _by_domain(targets.entities).items()
    ]
    return r.match(*steps)


def _climate_targets(r: Recognized) -> Targets:
    """The thermostats meant; with no name or place, the home's only one (if it has one)."""
    if any(r.slots.get(k) for k in ("name", "area", "floor")):
        return r.targets(("climate",))
    thermostats = spoken_of(r.home, r.home.data["entities"].keys_with("domain", "climate"))
    if len(thermostats) == 1:
        return Targets((thermostats[0],), what="thermostats")
    return Targets(problem="Which thermostat do you mean? Name it or its room.", what="thermostats")


def _climate_set(r: Recognized) -> IntentMatch:
    targets = _climate_targets(r)
    if targets.problem:
        return r.unclear(targets.problem)
    temperature = _number(r.slots.get("temperature"))
    return r.match(
        service_step(
            "climate",
            "set_temperature",
            targets.entities,
            "set",
            "Set",
            data={"temperature": temperature},
            to=f" to {temperature}°",
        )
    )


def _climate_get(r: Recognized) -> IntentMatch:
    targets = _climate_targets(r)
    if targets.problem and (r.slots.get("area") or r.slots.get("floor")):
        # No thermostat there: the room's temperature sensors answer as well.
        sensors = find_targets(
            Scope(None, r.slots.get("area"), r.slots.get("floor"), ("sensor",), "temperature"), r.home
        )
        targets = sensors if not sensors.problem else targets
    if targets.problem:
        return r.unclear(targets.problem)
    question = Question("temperature", "temperature", targets.where)
    return r.match(_read(targets), question=question)


def _volume(r: Recognized) -> IntentMatch:
    targets = r.targets(("media_player",))
    if targets.problem:
        return r.unclear(targets.problem)
    level = _number(r.slots.get("volume_level"))
    step = service_step(
        "media_player",
        "volume_set",
        targets.entities,
        "set the volume of",
        "Set the volume of",
        data={"volume_level": round(level / 100, 2)},
        to=f" to {level}%",
        detail="volume_level",
    )
    return r.match(step)


def _volume_step(r: Recognized) -> IntentMatch:
    step = r.slots.get("volume_step")
    if step not in ("up", "down"):
        return r.unclear("By how much should the volume change?")
    targets = r.targets(("media_player",))
    if targets.problem:
        return r.unclear(targets.problem)
    return r.match(
        service_step(
            "media_player",
            f"volume_{step}",
            targets.entities,
            f"turn {step} the volume of",
            f"Turned {step} the volume of",
            detail="volume_level",
        )
    )


def _fan_speed(r: Recognized) -> IntentMatch:
    targets = r.targets(("fan",))
    if targets.problem:
        return r.unclear(targets.problem)
    percentage = _number(r.slots.get("percentage"))
    return r.match(
        service_step(
            "fan",
            "set_percentage",
            targets.entities,
            "set",
            "Set",
            data={"percentage": percentage},
            to=f" to {percentage}%",
        )
    )


def _helper_set(r: Recognized) -> IntentMatch:
    targets = r.targets(HELPER_DOMAINS)
    value = str(r.slots.get("helper_value") or "").strip()
    if targets.problem or not value:
        return r.unclear(targets.problem or "What should it be set to?")
    (helper,) = targets.entities
    step = Step(
        tool_call("set_helper", {"helper": helper.entity_id, "value": value}),
        "set",
        "Set",
        helper.name,
        to=f" to {value}",
    )
    return r.match(step)


# --- media, vacuums ------------------------------------------------------------------------------
def _service(
    domain: str, service: str, verb: str, past: str, *, prefer: str | None = None, data: dict[str, Any] | None = None
) -> Handler:
    """One service on the entities meant; `prefer`: in a room, only those in that state (pause
    what is playing, resume what is paused), as HA does."""

    def handle(r: Recognized) -> IntentMatch:
        targets = r.targets((domain,))
        if targets.problem:
            return r.unclear(targets.problem)
        entities = list(targets.entities)
        if prefer and not r.slots.get("name"):
            entities = [e for e in entities if e.state == prefer]
            if not entities:
                return r.unclear(f"Nothing is {prefer}{targets.where}.")
        return r.match(service_step(domain, service, entities, verb, past, data=data))

    return handle


# --- questions ---------------------------------------------------------------------------------
def _read(targets: Targets) -> Step:
    return Step(tool_call("get_state", {"entities": targets.ids}), "read", "Read", targets.names, report=False)


def _get_state(r: Recognized) -> IntentMatch:
    if r.response not in QUESTIONS:
        return r.unclear("I cannot answer that kind of question without a language model.")
    targets = r.targets()
    if targets.problem:
        return r.unclear(targets.problem)
    state = r.slots.get("state")
    question = Question(
        r.response, targets.what, targets.where, str(state) if state is not None else None, r.said.get("state")
    )
    return r.match(_read(targets), question=question)


def _number(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


HANDLERS: dict[str, Handler] = {
    "HassTurnOn": _power(True),
    "HassTurnOff": _power(False),
    "HassLightSet": _light_set,
    "HassSetPosition": _set_position,
    "HassClimateSetTemperature": _climate_set,
    "HassClimateGetTemperature": _climate_get,
    "HassGetState": _get_state,
    "HassMediaPause": _service("media_player", "media_pause", "pause", "Paused", prefer="playing"),
    "HassMediaUnpause": _service("media_player", "media_play", "resume", "Resumed", prefer="paused"),
    "HassMediaNext": _service(
        "media_player", "media_next_track", "skip to the next track on", "Skipped to the next track on"
    ),
    "HassMediaPrevious": _service("media_player", "media_previous_track", "go back a track on", "Went back a track on"),
    "HassMediaPlayerMute": _service("media_player", "volume_mute", "mute", "Muted", data={"is_volume_muted": True}),
    "HassMediaPlayerUnmute": _service(
        "media_player", "volume_mute", "unmute", "Unmuted", data={"is_volume_muted": False}
    ),
    "HassVacuumStart": _service("vacuum", "start", "start", "Started"),
    "HassVacuumReturnToBase": _service("vacuum", "return_to_base", "send back to base", "Sent back to base"),
    "HassSetVolume": _volume,
    "HassSetVolumeRelative": _volume_step,
    "HassFanSetSpeed": _fan_speed,
    HELPER_INTENT: _helper_set,
}
