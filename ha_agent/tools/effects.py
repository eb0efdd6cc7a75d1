"""What running a scene, a script or an automation will touch, so the policy can check it.

A scene, script or automation is a way to act on other entities: checked only as itself, an
exposed "Good Morning" scene would open a garage door no confirmation rule sees, and an exposed
script could unlock a door the owner never exposed. So each is expanded to its effects and
those are checked like direct calls:

- a scene sets its members (HA lists them in the scene's `entity_id` attribute; the mirror has
  them); which state it sets is not listed, so a member counts as changed any way its domain can
  be changed;
- a script's or an automation's effects come from its configuration (`script/config`,
  `automation/config`): the services its actions call and the targets they name, through
  `choose`, `if`, `parallel`, `repeat` and nested scripts. What a configuration does not show —
  a templated service or target, an event it fires, a device action's exact entity, a script it
  cannot read — is *unknown*, and the owner's settings say what unknown effects cost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_LOGGER = logging.getLogger(__name__)

# The services that run a script or an automation, per domain (`script.<name>` too).
RUN_SERVICES = {"script": frozenset({"turn_on", "toggle"}), "automation": frozenset({"trigger"})}
TARGET_KEYS = ("entity_id", "area_id", "floor_id", "label_id", "device_id")
_GROUP_KEYS = {"area_id": "area", "floor_id": "floor", "label_id": "label", "device_id": "device"}
# Steps that change nothing themselves (their nested sequences are walked separately).
_INERT = frozenset(
    {
        "delay",
        "wait_template",
        "wait_for_trigger",
        "condition",
        "conditions",
        "variables",
        "stop",
        "set_conversation_response",
        "alias",
        "enabled",
        "continue_on_error",
        "timeout",
        "continue_on_timeout",
        "response_variable",
        "error",
    }
)
_NESTED = ("sequence", "then", "else", "default", "parallel")
_MAX_DEPTH = 8  # scripts calling scripts: deeper than this is unknown


@dataclass(frozen=True, slots=True)
class Call:
    """One service call a script makes: the service and the targets its config names."""

    service: str
    entity_ids: tuple[str, ...] = ()
    groups: tuple[tuple[str, str], ...] = ()  # (area|floor|label|device, id)


@dataclass(frozen=True, slots=True)
class Effects:
    """What a script or automation does, as far as its configuration shows."""

    calls: tuple[Call, ...] = ()
    runs: tuple[str, ...] = ()  # other scripts it runs (their effects are its effects too)
    unknown: tuple[str, ...] = ()  # why some of its effects cannot be known, in plain words

    @property
    def domains(self) -> frozenset[str]:
        return frozenset(call.service.partition(".")[0] for call in self.calls)


UNREADABLE = Effects(unknown=("its configuration cannot be read",))


def runs_of(domain: str, service: str, entity_id: str) -> bool:
    """Whether `domain.service` on `entity_id` runs it (a script or an automation)."""
    kind = entity_id.partition(".")[0]
    if kind not in RUN_SERVICES:
        return False
    if domain == kind and (service in RUN_SERVICES[kind] or f"{domain}.{service}" == entity_id):
        return True
    return domain == "homeassistant" and kind == "script" and service in ("turn_on", "toggle")


def effects_of(config: Mapping[str, Any] | None) -> Effects:
    """The effects the configuration of a script or an automation shows (see the module doc)."""
    if not isinstance(config, Mapping):
        return UNREADABLE
    walker = _Walker()
    # A script's steps are its `sequence`; an automation's its `actions` (`action` before 2024.10).
    for key in ("sequence", "actions", "action"):
        if key in config:
            walker.steps(config[key], 0)
    return Effects(tuple(walker.calls), tuple(dict.fromkeys(walker.runs)), tuple(dict.fromkeys(walker.unknown)))


@dataclass
class _Walker:
    calls: list[Call] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def steps(self, steps: Any, depth: int) -> None:
        if depth > _MAX_DEPTH:
            self.unknown.append("its steps nest too deeply to follow")
            return
        for step in steps if isinstance(steps, list) else [steps]:
            if isinstance(step, Mapping):
                self.step(step, depth + 1)
            elif step is not None:
                self.unknown.append("a step that is not a mapping")

    def step(self, step: Mapping[str, Any], depth: int) -> None:
        service = step.get("action", step.get("service"))
        if isinstance(service, str) and "." in service:
            self.service_call(service, step)
        elif "scene" in step:  # `scene: scene.x`, the shorthand for scene.turn_on
            self.service_call("scene.turn_on", {"target": {"entity_id": step["scene"]}})
        elif "device_id" in step and "domain" in step:  # a device action: `type` on a device's entity
            self.calls.append(
                Call(f"{step['domain']}.{step.get('type', '')}", (), (("device", str(step["device_id"])),))
            )
            if step.get("entity_id"):
                self.calls.append(Call(f"{step['domain']}.{step.get('type', '')}", _ids(step["entity_id"])))
        elif "event" in step:
            self.unknown.append("it fires an event, which other automations may act on")
        elif service is not None:
            self.unknown.append("it calls a service chosen by a template")
        for key in _NESTED:
            if key in step:
                self.steps(step[key], depth)
        choose = step.get("choose")
        for option in choose if isinstance(choose, list) else ():
            if isinstance(option, Mapping):
                self.steps(option.get("sequence"), depth)
        if isinstance(step.get("repeat"), Mapping):
            self.steps(step["repeat"].get("sequence"), depth)
        if isinstance(step.get("if"), (list, Mapping)) and "then" not in step:
            self.unknown.append("an `if` without `then`")
        known = {
            "action",
            "service",
            "target",
            "data",
            "service_data",
            "entity_id",
            "scene",
            "device_id",
            "domain",
            "type",
            "event",
            "event_data",
            "choose",
            "repeat",
            "if",
            *_NESTED,
            *_INERT,
        }
        if service is None and not (set(step) & known):
            self.unknown.append(f"a step of a kind it cannot follow ({', '.join(sorted(step))})")

    def service_call(self, service: str, step: Mapping[str, Any]) -> None:
        if _templated(service):
            self.unknown.append("it calls a service chosen by a template")
            return
        targets: dict[str, Any] = {}
        for source in (step.get("target"), step.get("data"), step.get("service_data"), step):
            if isinstance(source, Mapping):
                for key in TARGET_KEYS:
                    if source.get(key) is not None:
                        targets.setdefault(key, source[key])
        if any(_templated(value) for value in targets.values()):
            self.unknown.append(f"it calls {service} on targets chosen by a template")
            return
        entity_ids = _ids(targets.get("entity_id"))
        groups = tuple((_GROUP_KEYS[key], group) for key in _GROUP_KEYS for group in _ids(targets.get(key)))
        domain, _, name = service.partition(".")
        if domain == "script" and name in ("turn_on", "toggle"):
            self.runs += [e for e in entity_ids if e.startswith("script.")]  # other scripts: their effects are ours
        elif domain == "script" and name not in ("turn_off", "reload"):
            self.runs.append(service)  # `script.<name>`: that script, run to its end
        self.calls.append(Call(service, entity_ids, groups))


def _ids(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return tuple(str(v) for v in value if v)
    return ()


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, (list, tuple)):
        return any(_templated(v) for v in value)
    return isinstance(value, Mapping)  # a target given as a mapping is not one we can read


def merged(effects: Iterable[Effects]) -> Effects:
    """Several effects as one (a script with the scripts it runs)."""
    calls: list[Call] = []
    runs: list[str] = []
    unknown: list[str] = []
    for one in effects:
        calls += one.calls
        runs += one.runs
        unknown += one.unknown
    return Effects(tuple(calls), tuple(dict.fromkeys(runs)), tuple(dict.fromkeys(unknown)))


Reader = Callable[[str], Awaitable["Mapping[str, Any] | None"]]


class EffectsCache:
    """Effects of scripts and automations, read from Home Assistant when a call would run one
    and kept for `ttl` seconds (configurations change only when the owner edits them)."""

    def __init__(self, ttl: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._known: dict[str, tuple[float, Effects]] = {}

    async def get(self, entity_ids: Iterable[str], read: Reader) -> dict[str, Effects]:
        """Each one's effects and those of the scripts it runs, to `_MAX_DEPTH` levels."""
        found: dict[str, Effects] = {}
        wanted = sorted(set(entity_ids))
        for _ in range(_MAX_DEPTH):
            for entity_id, effects in zip(wanted, await asyncio.gather(*(self._one(e, read) for e in wanted))):
                found[entity_id] = effects
            wanted = sorted({run for effects in found.values() for run in effects.runs} - found.keys())
            if not wanted:
                break
        return found

    async def _one(self, entity_id: str, read: Reader) -> Effects:
        now = self._clock()
        cached = self._known.get(entity_id)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        try:
            effects = effects_of(await read(entity_id))
        except Exception as exc:  # HA away, not admin, a script HA does not know: unknown effects
            _LOGGER.warning("tools: cannot read the configuration of %s: %s", entity_id, exc)
            return UNREADABLE  # not cached: the next call tries again
        if len(self._known) > 1000:  # bounded: a home has tens of scripts, not thousands
            self._known.clear()
        self._known[entity_id] = (now, effects)
        return effects
