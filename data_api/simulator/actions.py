"""The service engine: `call_service` as HA's `ServiceRegistry.async_call(blocking=True)`.

Order of checks (core.py `async_call`, helpers/service.py `entity_service_call`): unknown
service -> `not_found`; return_response mismatch -> service_validation_error; voluptuous schema
-> invalid_format; then the target is resolved (entity/device/area/floor/label ids, skipping
hidden and entity_category entities reached indirectly), unavailable entities are skipped and an
explicitly named entity lacking the service's feature fails with `service_not_supported`.
Each entity's change is written through `SimHome.set_state`, so `state_changed` events go out
before the call returns, as in HA.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import protocol as P
from . import services as S
from .color import name_to_rgb, rgb_to_hs, xy_to_rgb
from .profiles import light_color_attributes, media_attributes
from .reproduce import reproduce_calls
from .schema import Invalid
from .util import iso

if TYPE_CHECKING:
    from .home import Context, SimHome

# Domains whose services exist in every home (their integrations are always loaded).
ALWAYS_LOADED = (
    "homeassistant",
    "persistent_notification",
    "notify",
    "person",
    "zone",
    "scene",
    "script",
    "automation",
    "input_boolean",
    "input_number",
    "input_select",
    "input_text",
    "input_datetime",
    "input_button",
    "counter",
    "timer",
    "schedule",
)
_LOGGER = logging.getLogger(__name__)
# What every entity shows last, whatever its domain writes before (helpers/entity.py).
TAIL_KEYS = _TAIL = ("unit_of_measurement", "device_class", "icon", "friendly_name", "supported_features")
DELETE: Any = object()


def service_specs(home: SimHome) -> list[S.AnyService]:
    """The services of this home: the catalogue for loaded domains, one `script.<id>` per
    script and one `notify.<target>` per phone, in registration order."""
    loaded = set(ALWAYS_LOADED) | {entity_id.split(".", 1)[0] for entity_id in home.states}
    specs: list[S.AnyService] = []
    for spec in S.CATALOGUE:
        if spec.domain not in loaded:
            continue
        if spec.domain == "script" and spec.service == "turn_on":
            for entity_id, script in home.scripts.items():
                specs.append(
                    S.script_service(
                        entity_id.split(".", 1)[1], script["name"], script["description"], script["fields"]
                    )
                )
        specs.append(spec)
    specs.append(S.notify_service("notify", "every phone"))
    specs.extend(S.notify_service(target, who) for target, who in home.notify_targets.items())
    return specs


def _find(home: SimHome, domain: str, service: str) -> S.AnyService:
    index = home.service_index()
    spec = index.get((domain, service)) or index.get((domain.lower(), service.lower()))
    if spec is not None:
        return spec
    raise P.core_error(
        P.NotFound, "service_not_found", f"Service {domain}.{service} not found.", domain=domain, service=service
    )


# --- the call -------------------------------------------------------------------------------


@dataclass
class Call:
    home: SimHome
    domain: str
    service: str
    data: dict[str, Any]
    context: Context
    return_response: bool

    def write(self, entity_id: str, state: str | None = None, **updates: Any) -> None:
        """Set a new state and/or attributes, keeping HA's attribute order."""
        current = self.home.states[entity_id]
        attrs = merge(current["attributes"], updates)
        self.home.set_state(entity_id, current["state"] if state is None else state, attrs, context=self.context)

    def memory(self, entity_id: str) -> dict[str, Any]:
        """Per-entity scratch (a light's last colour) that a real device would remember."""
        return self.home.memory.setdefault(entity_id, {})


def merge(attrs: dict[str, Any], updates: dict[str, Any]) -> dict[str, Any]:
    body = {key: value for key, value in attrs.items() if key not in _TAIL}
    for key, value in updates.items():
        if value is DELETE:
            body.pop(key, None)
        else:
            body[key] = value
    return body | {key: attrs[key] for key in _TAIL if key in attrs}


async def call_service(
    home: SimHome,
    domain: str,
    service: str,
    data: dict[str, Any] | None,
    target: dict[str, Any] | None,
    *,
    context: Context,
    return_response: bool,
) -> Any:
    """Validate and run a service; returns the service response (or None)."""
    spec = _find(home, domain, service)
    if return_response and spec.response == "none":
        raise P.core_error(
            P.ServiceValidationError,
            "service_does_not_support_response",
            "An action which does not return responses can't be called with return_response=True",
            return_response="return_response=True",
        )
    if not return_response and spec.response == "only":
        raise P.core_error(
            P.ServiceValidationError,
            "service_lacks_response_request",
            "The action requires responses and must be called with return_response=True",
            return_response="return_response=True",
        )
    raw = dict(data or {})
    if target:
        raw.update(target)
    try:
        validated = spec.validate(raw)
    except Invalid as err:
        raise err.as_ha_error() from None
    home.fire("call_service", {"domain": domain, "service": service, "service_data": raw}, context)
    call = Call(home, domain, service, validated, context, return_response)
    domain_handler = DOMAIN_SERVICES.get((domain, service)) or (
        _run_script if domain == "script" and service not in SCRIPT_DOMAIN_SERVICES else None
    )
    if domain_handler is not None:
        result = domain_handler(call)
        response = await result if inspect.isawaitable(result) else result
    elif spec.target:
        response = await _entity_service(call, spec)
    else:
        response = None  # reloads, restart, notifications: accepted, nothing to simulate
    if not return_response:
        return None
    return response


# --- targets --------------------------------------------------------------------------------


def _ids(value: Any) -> list[str]:
    if value is None or value == "none":
        return []
    return [value] if isinstance(value, str) else list(value)


def referenced_entities(home: SimHome, data: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(explicitly named, reached through device/area/floor/label) entity ids, as HA's
    `async_extract_referenced_entity_ids` (hidden and categorised entities are not reached)."""
    named = {entity_id.lower() for entity_id in _ids(data.get("entity_id"))}
    if not any(data.get(key) for key in S.TARGET_KEYS[1:]):
        return named, set()
    device_ids = set(_ids(data.get("device_id")))
    area_ids = set(_ids(data.get("area_id")))
    indirect: set[str] = set()
    visible = [e for e in home.entities.values() if e["entity_category"] is None and e["hidden_by"] is None]
    for label_id in _ids(data.get("label_id")):
        indirect.update(e["entity_id"] for e in visible if label_id in e["labels"])
        device_ids.update(d["id"] for d in home.devices.values() if label_id in d["labels"])
        area_ids.update(a["area_id"] for a in home.areas.values() if label_id in a["labels"])
    for floor_id in _ids(data.get("floor_id")):
        area_ids.update(a["area_id"] for a in home.areas.values() if a["floor_id"] == floor_id)
    area_devices = {d["id"] for d in home.devices.values() if d["area_id"] in area_ids}
    for entry in visible:
        if (
            entry["device_id"] in device_ids
            or entry["area_id"] in area_ids
            or (entry["device_id"] in area_devices and not entry["area_id"])
        ):
            indirect.add(entry["entity_id"])
    return named, indirect


async def _entity_service(call: Call, spec: S.AnyService) -> Any:
    home, domain = call.home, call.domain
    handler = ENTITY_SERVICES[(domain, call.service)]
    if call.data.get("entity_id") == "all":
        named: set[str] = set()
        candidates = [eid for eid in home.states if eid.startswith(domain + ".")]
    else:
        named, indirect = referenced_entities(home, call.data)
        prefix = domain + "."
        candidates = sorted(eid for eid in named | indirect if eid.startswith(prefix) and eid in home.states)
    targets = []
    for entity_id in candidates:
        state = home.states[entity_id]
        if state["state"] == "unavailable":
            continue
        if spec.features and not _supports(state, spec.features):
            if entity_id in named:
                raise P.core_error(
                    P.ServiceValidationError,
                    "service_not_supported",
                    f"Entity {entity_id} does not support action {domain}.{call.service}",
                    entity_id=entity_id,
                    domain=domain,
                    service=call.service,
                )
            continue
        targets.append(entity_id)
    if not targets:
        if call.return_response:
            raise P.HomeAssistantError("Service call requested response data but did not match any entities")
        return None
    responses: dict[str, Any] = {}
    for entity_id in targets:
        result = handler(call, entity_id, home.states[entity_id])
        responses[entity_id] = await result if inspect.isawaitable(result) else result
    return responses if call.return_response else None


def _supports(state: dict[str, Any], feature_sets: tuple[int, ...]) -> bool:
    features = state["attributes"].get("supported_features")
    if features is None:
        return False
    return any(features & wanted == wanted for wanted in feature_sets)


# --- entity services ------------------------------------------------------------------------

EntityHandler = Callable[[Call, str, dict[str, Any]], Any]
ENTITY_SERVICES: dict[tuple[str, str], EntityHandler] = {}


def handles(domain: str, *services: str) -> Callable[[EntityHandler], EntityHandler]:
    def register(handler: EntityHandler) -> EntityHandler:
        for service in services:
            ENTITY_SERVICES[(domain, service)] = handler
        return handler

    return register


def _on_off(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    """turn_on / turn_off / toggle of anything whose states are on and off."""
    on = {"turn_on": True, "turn_off": False}.get(call.service, state["state"] != "on")
    call.write(entity_id, "on" if on else "off")


for _domain in ("switch", "input_boolean", "automation"):
    handles(_domain, "turn_on", "turn_off", "toggle")(_on_off)


@handles("light", "turn_on", "turn_off", "toggle")
def _light(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    attrs, data = state["attributes"], call.data
    is_on = state["state"] == "on"
    service = call.service if call.service != "toggle" else ("turn_off" if is_on else "turn_on")
    modes = attrs.get("supported_color_modes") or ["onoff"]
    memory = call.memory(entity_id)
    effects = "effect_list" in attrs
    if is_on:  # what a light remembers when it goes off
        memory.update(
            brightness=attrs.get("brightness"),
            mode=attrs.get("color_mode"),
            kelvin=attrs.get("color_temp_kelvin"),
            hs=attrs.get("hs_color"),
        )
    if service == "turn_off":
        call.write(
            entity_id,
            "off",
            **light_color_attributes(
                modes, None, brightness=None, kelvin=None, hs=None, effect=None, has_effect=effects
            ),
        )
        return
    current = (attrs.get("brightness") if is_on else None) or memory.get("brightness") or 255
    brightness = current
    if "brightness" in data:
        brightness = data["brightness"]
    elif "brightness_pct" in data:
        brightness = round(data["brightness_pct"] * 255 / 100)
    elif "brightness_step" in data or "brightness_step_pct" in data:
        step = data.get("brightness_step")
        if step is None:
            step = round(data["brightness_step_pct"] * 255 / 100)
        brightness = max(0, min(255, (attrs.get("brightness") or 0 if is_on else 0) + step))
    if brightness == 0:  # HA turns a light off when asked for brightness 0
        call.write(
            entity_id,
            "off",
            **light_color_attributes(
                modes, None, brightness=None, kelvin=None, hs=None, effect=None, has_effect=effects
            ),
        )
        return
    mode = memory.get("mode") if not is_on else attrs.get("color_mode")
    mode = mode if mode in modes else modes[0]
    kelvin = attrs.get("color_temp_kelvin") or memory.get("kelvin") or 2700
    hs = attrs.get("hs_color") or memory.get("hs") or (30.0, 75.0)
    rgb = None
    if "color_name" in data:
        rgb = name_to_rgb(data["color_name"])
    elif "rgb_color" in data:
        rgb = tuple(data["rgb_color"])
    elif "xy_color" in data:
        rgb = xy_to_rgb(*data["xy_color"])
    if rgb is not None or "hs_color" in data:
        hs = tuple(data["hs_color"]) if "hs_color" in data else rgb_to_hs(*rgb)  # type: ignore[misc]
        mode = "hs" if "hs" in modes else mode
    if "color_temp_kelvin" in data and "color_temp" in modes:
        low = attrs.get("min_color_temp_kelvin", 2000)
        high = attrs.get("max_color_temp_kelvin", 6535)
        kelvin = max(low, min(high, data["color_temp_kelvin"]))
        mode = "color_temp"
    effect = attrs.get("effect") if is_on else None
    if effects and data.get("effect") in attrs.get("effect_list", []):
        effect = data["effect"]
    call.write(
        entity_id,
        "on",
        **light_color_attributes(
            modes, mode, brightness=brightness, kelvin=kelvin, hs=tuple(hs), effect=effect, has_effect=effects
        ),
    )


@handles(
    "fan",
    "turn_on",
    "turn_off",
    "toggle",
    "set_percentage",
    "increase_speed",
    "decrease_speed",
    "oscillate",
    "set_direction",
    "set_preset_mode",
)
def _fan(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    """A fan is on while it has a speed or a preset (FanEntity.is_on). Turned on without a
    speed it resumes its last one, else runs at full speed; speed steps follow HA's
    speed_count ranges (100 / percentage_step speeds)."""
    attrs, data, service = state["attributes"], call.data, call.service
    percentage = attrs.get("percentage") or 0
    memory = call.memory(entity_id)
    if service == "toggle":
        service = "turn_off" if state["state"] == "on" else "turn_on"
    if "preset_mode" in data:
        presets = attrs.get("preset_modes") or []
        if data["preset_mode"] not in presets:
            raise P.ServiceValidationError(
                f"Preset mode {data['preset_mode']} is not valid, valid preset modes are: {', '.join(presets)}.",
                translation_key="not_valid_preset_mode",
                translation_domain="fan",
                translation_placeholders={"preset_mode": data["preset_mode"], "preset_modes": ", ".join(presets)},
            )
    if service == "oscillate":
        call.write(entity_id, oscillating=data["oscillating"])
        return
    if service == "set_direction":
        call.write(entity_id, direction=data.get("direction"))
        return
    presets = {"preset_mode": None} if "preset_mode" in attrs else {}
    if service == "turn_off":
        memory["percentage"] = percentage or memory.get("percentage")
        call.write(entity_id, "off", percentage=0, **presets)
        return
    if service == "set_preset_mode" or (service == "turn_on" and "preset_mode" in data):
        call.write(entity_id, "on", preset_mode=data["preset_mode"])
        return
    if service in ("increase_speed", "decrease_speed"):
        percentage = _next_speed(
            percentage, attrs.get("percentage_step") or 1.0, data.get("percentage_step"), service == "increase_speed"
        )
    elif "percentage" in data:
        percentage = data["percentage"]
    elif service == "turn_on":
        percentage = memory.get("percentage") or 100
    call.write(entity_id, "on" if percentage else "off", percentage=percentage, **presets)


def _next_speed(current: int, step: float, given: int | None, up: bool) -> int:
    """FanEntity._async_adjust_speed: a given step in percent, else the next of speed_count
    evenly spaced speeds."""
    sign = 1 if up else -1
    if given is not None:
        return max(0, min(100, current + sign * given))
    count = max(1, round(100 / step))
    index = math.ceil(current * count / 100)
    return max(0, min(100, int((index + sign) * 100 // count)))


def _temperature_check(attrs: dict[str, Any], value: float) -> None:
    low, high = attrs.get("min_temp", 7), attrs.get("max_temp", 35)
    if value < low or value > high:
        raise P.ServiceValidationError(
            f"Provided temperature {value} is not valid. Accepted range is {low} to {high}.",
            translation_key="temp_out_of_range",
            translation_domain="climate",
            translation_placeholders={"check_temp": str(value), "min_temp": str(low), "max_temp": str(high)},
        )


def _climate_mode_error(kind: str, mode: str, modes: list[str]) -> P.HAError:
    label = {"preset": "Preset", "fan": "Fan", "swing": "Swing", "horizontal_swing": "Horizontal swing"}[kind]
    return P.ServiceValidationError(
        f"{label} mode {mode} is not valid. Valid {label.lower()} modes are: {', '.join(modes)}.",
        translation_key=f"not_valid_{kind}_mode",
        translation_domain="climate",
        translation_placeholders={"mode": mode, "modes": ", ".join(modes)},
    )


def _climate_error(key: str, message: str) -> P.HAError:
    return P.ServiceValidationError(
        message, translation_key=key, translation_domain="climate", translation_placeholders=None
    )


def _hvac_action(mode: str, attrs: dict[str, Any]) -> str:
    if mode == "off":
        return "off"
    current, target = attrs.get("current_temperature"), attrs.get("temperature")
    if current is None or target is None:
        return "idle"
    if mode in ("heat", "auto", "heat_cool") and target > current:
        return "heating"
    if mode in ("cool", "auto", "heat_cool") and target < current:
        return "cooling"
    return "idle"


def _climate_on_mode(modes: list[str], remembered: str | None) -> str:
    """The mode turn_on picks: the device's last one, else ClimateEntity.async_turn_on's rule
    (the only other mode of an off/X pair, else heat_cool, heat or cool)."""
    if remembered in modes and remembered != "off":
        return remembered
    others = [mode for mode in modes if mode != "off"]
    if len(modes) == 2 and len(others) == 1:
        return others[0]
    return next((mode for mode in ("heat_cool", "heat", "cool") if mode in modes), others[0] if others else "heat")


_CLIMATE_MODES = {
    "set_preset_mode": "preset",
    "set_fan_mode": "fan",
    "set_swing_mode": "swing",
    "set_swing_horizontal_mode": "swing_horizontal",
}


@handles(
    "climate",
    "turn_on",
    "turn_off",
    "toggle",
    "set_temperature",
    "set_hvac_mode",
    "set_preset_mode",
    "set_fan_mode",
    "set_humidity",
    "set_swing_mode",
    "set_swing_horizontal_mode",
)
def _climate(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    attrs, data, service = state["attributes"], call.data, call.service
    modes = attrs.get("hvac_modes") or ["off", "heat"]
    features = attrs.get("supported_features") or 0
    memory = call.memory(entity_id)
    mode = state["state"]
    if service == "toggle":
        service = "turn_off" if mode != "off" else "turn_on"
    updates: dict[str, Any] = {}
    if service == "turn_off":
        memory["mode"] = mode
        mode = "off"
    elif service == "turn_on":
        mode = _climate_on_mode(modes, memory.get("mode"))
    elif service == "set_hvac_mode":
        mode = data["hvac_mode"]  # HA 2025.4 only logs a mode outside hvac_modes
    elif service == "set_temperature":
        if "temperature" in data and not features & S.CLIMATE_TARGET_TEMP:
            raise _climate_error(
                "missing_target_temperature_entity_feature",
                "Set temperature action was used with the target temperature "
                "parameter but the entity does not support it.",
            )
        if "target_temp_low" in data and not features & S.CLIMATE_TARGET_RANGE:
            raise _climate_error(
                "missing_target_temperature_range_entity_feature",
                "Set temperature action was used with the target temperature "
                "low/high parameter but the entity does not support it.",
            )
        if (
            data.get("target_temp_low")
            and data.get("target_temp_high")
            and data["target_temp_low"] > data["target_temp_high"]
        ):
            raise _climate_error(
                "low_temp_higher_than_high_temp",
                "Target temperature low can not be higher than Target temperature high.",
            )
        for key in ("temperature", "target_temp_low", "target_temp_high"):
            if key in data:
                _temperature_check(attrs, data[key])
                updates[key] = data[key]
        mode = data.get("hvac_mode", mode)
    elif service in _CLIMATE_MODES:
        kind = _CLIMATE_MODES[service]
        key = "swing_horizontal_mode" if kind == "swing_horizontal" else f"{kind}_mode"
        value, allowed = data[key], attrs.get(f"{key}s") or []
        if value not in allowed:
            raise _climate_mode_error("horizontal_swing" if kind == "swing_horizontal" else kind, value, allowed)
        updates[key] = value
    elif service == "set_humidity":
        low, high = attrs.get("min_humidity", 30), attrs.get("max_humidity", 99)
        if not low <= data["humidity"] <= high:
            raise P.ServiceValidationError(
                f"Provided humidity {data['humidity']} is not valid. Accepted range is {low} to {high}.",
                translation_key="humidity_out_of_range",
                translation_domain="climate",
                translation_placeholders={
                    "humidity": str(data["humidity"]),
                    "min_humidity": str(low),
                    "max_humidity": str(high),
                },
            )
        updates["humidity"] = data["humidity"]
    if "hvac_action" in attrs:
        updates["hvac_action"] = _hvac_action(mode, {**attrs, **updates})
    call.write(entity_id, mode, **updates)


@handles(
    "cover",
    "open_cover",
    "close_cover",
    "stop_cover",
    "toggle",
    "set_cover_position",
    "open_cover_tilt",
    "close_cover_tilt",
    "set_cover_tilt_position",
)
def _cover(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    attrs, service = state["attributes"], call.service
    moving = state["state"] in ("opening", "closing")
    if service == "toggle":
        if moving and (attrs.get("supported_features") or 0) & S.COVER_STOP:
            service = "stop_cover"  # CoverEntity.async_toggle stops a moving cover
        else:
            service = "close_cover" if state["state"] in ("open", "opening") else "open_cover"
    if service == "stop_cover":
        stop_moving(call, entity_id, state)
        return
    if service.endswith("tilt") or service == "set_cover_tilt_position":
        tilt = {"open_cover_tilt": 100, "close_cover_tilt": 0}.get(service)
        call.write(entity_id, current_tilt_position=call.data.get("tilt_position", tilt))
        return
    position = {"open_cover": 100, "close_cover": 0}.get(service)
    move_to(call, entity_id, state, call.data["position"] if position is None else position)


def move_to(call: Call, entity_id: str, state: dict[str, Any], position: int) -> None:
    """A cover or valve goes to `position` (0 closed, 100 open): at once by default, or, with
    the home's `travel_seconds`, reporting opening/closing until it arrives, as motors do."""
    home, attrs = call.home, state["attributes"]
    final = "open" if position > 0 else "closed"
    updates = {"current_position": position} if "current_position" in attrs else {}
    pending = home.motions.pop(entity_id, None)
    if pending is not None:
        pending.cancel()
    current = attrs.get("current_position", 100 if state["state"] == "open" else 0)
    if home.travel_seconds <= 0 or (state["state"] == final and current == position):
        call.write(entity_id, final, **updates)
        return
    call.write(entity_id, "opening" if position > current else "closing")

    def arrive() -> None:
        home.motions.pop(entity_id, None)
        if entity_id in home.states:
            call.write(entity_id, final, **updates)

    home.motions[entity_id] = asyncio.get_running_loop().call_later(home.travel_seconds, arrive)


def stop_moving(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    """Stop where it is (a position is not tracked on the way: it keeps the last one)."""
    pending = call.home.motions.pop(entity_id, None)
    if pending is None:
        return
    pending.cancel()
    position = state["attributes"].get("current_position")
    call.write(entity_id, "open" if position is None or position > 0 else "closed")


@handles("lock", "lock", "unlock", "open")
def _lock(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    """Locks report the transition (locking, unlocking, opening) before the end state; a code
    must match the lock's code_format (LockEntity.add_default_code)."""
    transition, final = {
        "lock": ("locking", "locked"),
        "unlock": ("unlocking", "unlocked"),
        "open": ("opening", "open"),
    }[call.service]
    pattern = state["attributes"].get("code_format")
    if pattern and not re.match(pattern, call.data.get("code") or ""):
        raise P.ServiceValidationError(
            f"The code for {entity_id} doesn't match pattern {pattern}.",
            translation_key="add_default_code",
            translation_domain="lock",
            translation_placeholders={"entity_id": entity_id, "code_format": pattern},
        )
    if state["state"] == final:
        return
    call.write(entity_id, transition)
    call.write(entity_id, final)


_MP_KEPT_OFF = ("source_list", "sound_mode_list", "group_members")  # capabilities stay
_MP_STATES = {
    "turn_on": None,
    "turn_off": "off",
    "media_play": "playing",
    "media_pause": "paused",
    "media_stop": "idle",
    "play_media": "playing",
}


@handles(
    "media_player",
    "turn_on",
    "turn_off",
    "toggle",
    "volume_up",
    "volume_down",
    "volume_set",
    "volume_mute",
    "media_play_pause",
    "media_play",
    "media_pause",
    "media_stop",
    "media_next_track",
    "media_previous_track",
    "select_source",
    "play_media",
    "shuffle_set",
    "repeat_set",
    "join",
    "unjoin",
)
def _media_player(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    attrs, data, service = state["attributes"], call.data, call.service
    kind = "tv" if attrs.get("device_class") == "tv" else "speaker"
    current = state["state"]
    if service == "toggle":
        service = "turn_off" if current != "off" else "turn_on"
    if service == "media_play_pause":
        service = "media_pause" if current == "playing" else "media_play"
    if service in _MP_STATES:
        new = _MP_STATES[service] or ("on" if kind == "tv" else "idle")
        if new == current:
            return
        memory = call.memory(entity_id)
        body: dict[str, Any] = {}
        if new == "off":  # HA shows nothing but grouping while off; the player remembers
            memory["on_attributes"] = {
                key: value for key, value in attrs.items() if key not in _TAIL and key not in _MP_KEPT_OFF
            }
        elif current == "off":
            remembered = memory.pop("on_attributes", None)
            body = dict(remembered) if remembered is not None else media_attributes(kind, new)
        removed = (
            {key: DELETE for key in attrs if key not in _TAIL and key not in _MP_KEPT_OFF and key not in body}
            if new == "off"
            else {}
        )
        if service == "play_media":
            body |= {"media_content_id": data["media_content_id"], "media_content_type": data["media_content_type"]}
        call.write(entity_id, new, **removed, **body)
        return
    if current == "off":
        return  # nothing to adjust on a player that is off
    volume = attrs.get("volume_level", 0.5)
    updates: dict[str, Any] = {
        "volume_set": lambda: {"volume_level": data.get("volume_level")},
        "volume_up": lambda: {"volume_level": round(min(1.0, volume + 0.1), 2)},
        "volume_down": lambda: {"volume_level": round(max(0.0, volume - 0.1), 2)},
        "volume_mute": lambda: {"is_volume_muted": data.get("is_volume_muted")},
        "select_source": lambda: {"source": data.get("source")},
        "shuffle_set": lambda: {"shuffle": data.get("shuffle")},
        "repeat_set": lambda: {"repeat": data.get("repeat")},
        "media_next_track": lambda: {"media_track": (attrs.get("media_track") or 1) + 1},
        "media_previous_track": lambda: {"media_track": max(1, (attrs.get("media_track") or 2) - 1)},
        "join": lambda: {"group_members": [entity_id, *data.get("group_members", [])]},
        "unjoin": lambda: {"group_members": []},
    }[service]()
    call.write(entity_id, **updates)


@handles("vacuum", "start", "pause", "stop", "return_to_base", "locate", "set_fan_speed", "clean_spot", "send_command")
def _vacuum(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    """The activity a command starts (it reports returning until docked, which a run of an
    evaluation does not wait for); locate and raw commands change nothing visible."""
    if call.service == "set_fan_speed":
        call.write(entity_id, fan_speed=call.data["fan_speed"])
        return
    new = {
        "start": "cleaning",
        "clean_spot": "cleaning",
        "pause": "paused",
        "stop": "idle",
        "return_to_base": "returning",
    }.get(call.service)
    if new is not None:
        call.write(entity_id, new)


@handles("input_number", "set_value", "increment", "decrement")
def _input_number(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    attrs = state["attributes"]
    low, high, step = attrs["min"], attrs["max"], attrs["step"]
    current = float(state["state"])
    value = {
        "set_value": lambda: float(call.data["value"]),
        "increment": lambda: current + step,
        "decrement": lambda: current - step,
    }[call.service]()
    if value < low or value > high:
        shown = call.data["value"] if call.service == "set_value" else value
        raise P.InvalidFormat(f"Invalid value for {entity_id}: {shown} (range {low} - {high})")
    call.write(entity_id, str(value))


def _options_service(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    """input_select and select: choose, step through or replace options."""
    options: list[str] = state["attributes"].get("options") or []
    current = state["state"]
    service = call.service
    if service == "set_options":
        new_options = call.data["options"]
        if len(set(new_options)) != len(new_options):
            raise P.HomeAssistantError(f"Duplicated options: {new_options}")
        call.write(entity_id, current if current in new_options else new_options[0], options=new_options)
        return
    if service == "select_option":
        option = call.data["option"]
        if option not in options:
            if call.domain == "input_select":
                raise P.HomeAssistantError(f"Invalid option: {option} (possible options: {', '.join(options)})")
            raise P.ServiceValidationError(
                f"Option {option} is not valid for entity {entity_id}, valid options are: {', '.join(options)}.",
                translation_key="not_valid_option",
                translation_domain="select",
                translation_placeholders={"entity_id": entity_id, "option": option, "options": ", ".join(options)},
            )
        call.write(entity_id, option)
        return
    index = options.index(current) if current in options else 0
    cycle = call.data.get("cycle", True)
    if service == "select_first":
        index = 0
    elif service == "select_last":
        index = len(options) - 1
    elif service == "select_next":
        index = (index + 1) % len(options) if cycle else min(index + 1, len(options) - 1)
    elif service == "select_previous":
        index = (index - 1) % len(options) if cycle else max(index - 1, 0)
    call.write(entity_id, options[index])


for _domain in ("input_select", "select"):
    handles(_domain, "select_option", "select_first", "select_last", "select_next", "select_previous")(_options_service)
handles("input_select", "set_options")(_options_service)


@handles("input_text", "set_value")
def _input_text(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    value, attrs = call.data["value"], state["attributes"]
    if not attrs.get("min", 0) <= len(value) <= attrs.get("max", 100):
        return  # HA logs a warning and keeps the old text
    call.write(entity_id, value)


@handles("input_datetime", "set_datetime")
def _input_datetime(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    attrs, data = state["attributes"], call.data
    has_date, has_time = attrs["has_date"], attrs["has_time"]
    tz = call.home.time_zone
    try:
        if "timestamp" in data:
            moment = datetime.fromtimestamp(data["timestamp"], tz)
        elif "datetime" in data:
            moment = datetime.fromisoformat(data["datetime"]).replace(tzinfo=tz)
        else:
            day = data.get("date") or (state["state"][:10] if has_date else "1970-01-01")
            clock = data.get("time") or (state["state"][-8:] if has_time else "00:00:00")
            moment = datetime.fromisoformat(f"{day} {clock}").replace(tzinfo=tz)
    except ValueError as err:
        raise P.InvalidFormat(f"Invalid datetime specified: {err}") from None
    updates: dict[str, Any] = {}
    if has_date:
        updates |= {"year": moment.year, "month": moment.month, "day": moment.day}
    if has_time:
        updates |= {"hour": moment.hour, "minute": moment.minute, "second": moment.second}
    updates["timestamp"] = moment.timestamp() if has_date else (moment.hour * 3600 + moment.minute * 60 + moment.second)
    text = (
        moment.strftime("%Y-%m-%d %H:%M:%S")
        if has_date and has_time
        else moment.strftime("%Y-%m-%d")
        if has_date
        else moment.strftime("%H:%M:%S")
    )
    call.write(entity_id, text, **updates)


def _pressed(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    """Buttons have the time of their last press as state."""
    call.write(entity_id, iso(time.time()))


handles("input_button", "press")(_pressed)
handles("button", "press")(_pressed)


@handles("counter", "increment", "decrement", "reset", "set_value")
def _counter(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    attrs, current = state["attributes"], int(state["state"])
    step = attrs.get("step", 1)
    value = {
        "increment": current + step,
        "decrement": current - step,
        "reset": attrs.get("initial", 0),
        "set_value": call.data.get("value", current),
    }[call.service]
    below = "minimum" in attrs and value < attrs["minimum"]
    if below or ("maximum" in attrs and value > attrs["maximum"]):
        raise P.HAError(f"Value {value} for {entity_id} exceeding the limits")
    call.write(entity_id, str(value))


def _parse_duration(text: str) -> timedelta:
    if text.lstrip("-").isdigit():
        return timedelta(seconds=int(text))
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("-").split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    return sign * timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])


def _fmt_duration(delta: timedelta) -> str:
    return str(timedelta(seconds=round(delta.total_seconds())))


@handles("timer", "start", "pause", "cancel", "finish", "change")
def _timer(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    attrs, service, now = state["attributes"], call.service, time.time()
    remaining = _parse_duration(attrs.get("remaining") or attrs["duration"])
    if service == "start":
        duration = _parse_duration(call.data.get("duration") or attrs["duration"])
        call.write(
            entity_id,
            "active",
            duration=_fmt_duration(duration),
            finishes_at=iso(now + duration.total_seconds()),
            remaining=_fmt_duration(duration),
        )
    elif service == "pause" and state["state"] == "active":
        left = datetime.fromisoformat(attrs["finishes_at"]).timestamp() - now
        call.write(entity_id, "paused", finishes_at=DELETE, remaining=_fmt_duration(timedelta(seconds=max(0.0, left))))
    elif service in ("cancel", "finish") and state["state"] != "idle":
        call.write(entity_id, "idle", finishes_at=DELETE, remaining=DELETE)
        event = "timer.cancelled" if service == "cancel" else "timer.finished"
        call.home.fire(event, {"entity_id": entity_id}, call.context)
    elif service == "change" and state["state"] == "active":
        new = remaining + _parse_duration(str(call.data["duration"]))
        call.write(
            entity_id,
            remaining=_fmt_duration(new),
            finishes_at=iso(
                datetime.fromisoformat(attrs["finishes_at"]).timestamp()
                + _parse_duration(str(call.data["duration"])).total_seconds()
            ),
        )


@handles("schedule", "get_schedule")
def _schedule(call: Call, entity_id: str, state: dict[str, Any]) -> dict[str, Any]:
    return call.home.schedules.get(entity_id, {})


@handles("number", "set_value")
def _number(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    attrs, value = state["attributes"], call.data["value"]
    low, high = attrs.get("min", 0), attrs.get("max", 100)
    if not low <= value <= high:
        raise P.ServiceValidationError(
            f"Value {value} for {entity_id} is outside valid range {low} - {high}.",
            translation_key="out_of_range",
            translation_domain="number",
            translation_placeholders={
                "value": str(value),
                "entity_id": entity_id,
                "min_value": str(low),
                "max_value": str(high),
            },
        )
    call.write(entity_id, str(value))


@handles("update", "install", "skip", "clear_skipped")
def _update(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    attrs = state["attributes"]
    if call.service == "install":
        version = call.data.get("version") or attrs["latest_version"]
        call.write(entity_id, "off" if version == attrs["latest_version"] else "on", installed_version=version)
    elif call.service == "skip":
        call.write(entity_id, "off", skipped_version=attrs["latest_version"])
    else:
        newer = attrs["installed_version"] != attrs["latest_version"]
        call.write(entity_id, "on" if newer else "off", skipped_version=None)


_FORECAST_FEATURES = {"daily": S.WEATHER_DAILY, "hourly": S.WEATHER_HOURLY, "twice_daily": S.WEATHER_TWICE_DAILY}


@handles("weather", "get_forecasts")
def _forecast(call: Call, entity_id: str, state: dict[str, Any]) -> dict[str, Any]:
    """The forecast of the asked kind: the entity's own (an evaluation home's), else one made
    up around the current temperature; a kind the entity does not offer is an error."""
    kind, attrs = call.data["type"], state["attributes"]
    if not (attrs.get("supported_features") or 0) & _FORECAST_FEATURES[kind]:
        raise P.HomeAssistantError(f"Weather entity '{entity_id}' does not support '{kind}' forecast")
    step = {"daily": 86400, "hourly": 3600, "twice_daily": 43200}[kind]
    given = call.home.forecasts.get(entity_id, {}).get(kind)
    if given is not None:
        local = datetime.fromtimestamp(call.home.now(), call.home.time_zone)
        first = local.replace(minute=0, second=0, microsecond=0)
        if kind != "hourly":
            first = first.replace(hour=12 if kind == "daily" else 6)
        return {
            "forecast": [
                {"datetime": (first + timedelta(seconds=step * index)).isoformat(), **entry}
                for index, entry in enumerate(given)
            ]
        }
    base = attrs.get("temperature", 15.0)
    conditions = ("sunny", "partlycloudy", "cloudy", "rainy", "partlycloudy")
    start = (int(call.home.now()) // step + 1) * step
    forecast = []
    for index in range(5 if kind == "daily" else 12):
        entry = {
            "condition": conditions[index % 5],
            "datetime": iso(start + index * step),
            "wind_bearing": 220.0,
            "temperature": round(base + (index % 4) - 1, 1),
            "templow": round(base - 5 + index % 3, 1),
            "wind_speed": 12.2,
            "precipitation": 0.4 * (index % 3),
            "humidity": 70 + index % 5,
        }
        if kind == "twice_daily":
            entry["is_daytime"] = index % 2 == 0
        forecast.append(entry)
    return {"forecast": forecast}


@handles("automation", "trigger")
def _trigger(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    call.home.fire(
        "automation_triggered",
        {"name": state["attributes"].get("friendly_name"), "entity_id": entity_id, "source": "action"},
        call.context,
    )
    call.write(entity_id, last_triggered=iso(time.time()))


@handles("scene", "turn_on")
async def _scene(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    """Reproduce each member's state through its own domain's services, using only what the
    member supports (reproduce_state); the scene's state becomes the time it was activated."""
    home = call.home
    for target, wanted in home.scenes.get(entity_id, {}).items():
        current = home.states.get(target)
        if current is None:
            continue
        domain = target.split(".", 1)[0]
        for service, data in reproduce_calls(domain, current, wanted):
            spec = home.service_index().get((domain, service))
            if spec is None or (spec.features and not _supports(home.states[target], spec.features)):
                continue
            await call_service(
                home, domain, service, data, {"entity_id": target}, context=call.context, return_response=False
            )
    call.write(entity_id, iso(time.time()))


@handles("script", "turn_on", "turn_off", "toggle")
def _script_entity(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    """script.turn_on starts the script and returns at once; turn_off stops it."""
    running = state["state"] == "on"
    service = call.service if call.service != "toggle" else ("turn_off" if running else "turn_on")
    if service == "turn_off":
        task = call.home.running_scripts.pop(entity_id, None)
        if task is not None:
            task.cancel()
        if running:
            call.write(entity_id, "off", current=0)
        return
    variables = call.data.get("variables") or {}
    task = asyncio.ensure_future(_run_in_background(call.home, entity_id, variables, call.context))
    call.home.running_scripts[entity_id] = task


async def _run_in_background(home: SimHome, entity_id: str, variables: dict[str, Any], context: Context) -> None:
    try:
        await run_script(home, entity_id, variables, context)
    except P.HAError as err:  # HA logs a failing script; nobody awaits it
        _LOGGER.warning("%s failed: %s", entity_id, err.message)


SCRIPT_DOMAIN_SERVICES = ("turn_on", "turn_off", "toggle", "reload")


async def _run_script(call: Call) -> dict[str, Any]:
    """`script.<object_id>`: runs to the end before the call returns; responds `{}`."""
    entity_id = f"script.{call.service}"
    await run_script(call.home, entity_id, call.data, call.context)
    return {}


async def run_script(home: SimHome, entity_id: str, variables: dict[str, Any], context: Context) -> None:
    script = home.scripts.get(entity_id)
    if script is None or entity_id not in home.states:
        return
    if home.states[entity_id]["state"] == "on":  # mode: single
        return
    values = {name: spec.get("default") for name, spec in script["fields"].items()}
    values.update(variables)
    home.fire("script_started", {"name": script["name"], "entity_id": entity_id}, context)
    call = Call(home, "script", "turn_on", {}, context, False)
    call.write(entity_id, "on", last_triggered=iso(time.time()), current=1)
    try:
        for step in script["sequence"]:
            if "action" not in step:
                continue  # only service calls are simulated (no delays, conditions, ...)
            domain, service = step["action"].split(".", 1)
            data = {key: _fill(value, values) for key, value in step.get("data", {}).items()}
            target = {key: _fill(value, values) for key, value in step.get("target", {}).items()}
            await call_service(home, domain, service, data, target, context=context, return_response=False)
    finally:
        home.running_scripts.pop(entity_id, None)
        if entity_id in home.states:
            call.write(entity_id, "off", current=0)


def _fill(value: Any, variables: dict[str, Any]) -> Any:
    """Replace a "{field}" placeholder with the script variable (templates, simply)."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return variables.get(value[1:-1])
    return value


# --- domain-level services ------------------------------------------------------------------


async def _homeassistant_turn(call: Call) -> None:
    """homeassistant.turn_on/off/toggle: group the targets by domain and call that domain's
    service where it exists (components/homeassistant/__init__.py)."""
    named, indirect = referenced_entities(call.home, call.data)
    by_domain: dict[str, list[str]] = {}
    for entity_id in sorted(named | indirect):
        by_domain.setdefault(entity_id.split(".", 1)[0], []).append(entity_id)
    extra = {key: value for key, value in call.data.items() if key not in S.TARGET_KEYS}
    services = call.home.service_index()
    for domain, entity_ids in by_domain.items():
        if domain == "homeassistant" or (domain, call.service) not in services:
            continue  # HA logs the entities of domains without the service and goes on
        await call_service(
            call.home,
            domain,
            call.service,
            extra,
            {"entity_id": entity_ids},
            context=call.context,
            return_response=False,
        )


DomainHandler = Callable[[Call], Any]
DOMAIN_SERVICES: dict[tuple[str, str], DomainHandler] = {
    ("homeassistant", "turn_on"): _homeassistant_turn,
    ("homeassistant", "turn_off"): _homeassistant_turn,
    ("homeassistant", "toggle"): _homeassistant_turn,
}

from . import domains as _domains  # noqa: E402,F401 - registers the handlers of more domains
