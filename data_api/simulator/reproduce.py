"""Reproducing a wanted state through a domain's own services, as HA's scenes do
(`async_reproduce_state` and each domain's reproduce_state.py): nothing is called for an
entity already in the wanted state; otherwise the state is reached first, then each wanted
attribute through the service that sets it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Calls = list[tuple[str, dict[str, Any]]]
_Builder = Callable[[str | None, dict[str, Any], str], Calls]

# Light colour arguments by colour mode, then in the order a light without a mode prefers.
_LIGHT_COLOUR = {"hs": "hs_color", "color_temp": "color_temp_kelvin", "rgb": "rgb_color", "xy": "xy_color"}


def reproduce_calls(domain: str, current: dict[str, Any], wanted: dict[str, Any]) -> Calls:
    """The (service, data) calls that bring `current` (a state dict) to `wanted`
    ({state, attributes}), in order; empty when it is there already or the domain cannot be
    reproduced."""
    state, attributes = wanted.get("state"), wanted.get("attributes") or {}
    now = current["attributes"]
    if (state is None or state == current["state"]) and all(now.get(key) == value for key, value in attributes.items()):
        return []
    builder = _BUILDERS.get(domain)
    return builder(state, attributes, current["state"]) if builder else []


def _on_off(state: str | None, attrs: dict[str, Any], current: str) -> Calls:
    return [("turn_on" if state == "on" else "turn_off", {})] if state in ("on", "off") else []


def _light(state: str | None, attrs: dict[str, Any], current: str) -> Calls:
    if state == "off":
        return [("turn_off", {})]
    data: dict[str, Any] = {}
    if "brightness" in attrs and attrs["brightness"] is not None:
        data["brightness"] = attrs["brightness"]
    preferred = _LIGHT_COLOUR.get(attrs.get("color_mode") or "")
    for key in ([preferred] if preferred else []) + list(_LIGHT_COLOUR.values()):
        if attrs.get(key) is not None:
            data[key] = attrs[key]
            break
    if attrs.get("effect") is not None:
        data["effect"] = attrs["effect"]
    return [("turn_on", data)]


def _setters(attrs: dict[str, Any], table: tuple[tuple[str, str, str], ...]) -> Calls:
    """One call per wanted attribute: (attribute, service, field)."""
    return [(service, {field: attrs[key]}) for key, service, field in table if attrs.get(key) is not None]


def _fan(state: str | None, attrs: dict[str, Any], current: str) -> Calls:
    if state == "off":
        return [("turn_off", {})]
    calls: Calls = []
    if state == "on":
        speed = attrs.get("percentage")
        calls.append(("turn_on", {"percentage": speed} if speed else {}))
    return calls + _setters(
        attrs,
        (
            ("oscillating", "oscillate", "oscillating"),
            ("direction", "set_direction", "direction"),
            ("preset_mode", "set_preset_mode", "preset_mode"),
        ),
    )


def _positioned(prefix: str, position_service: str) -> _Builder:
    def build(state: str | None, attrs: dict[str, Any], current: str) -> Calls:
        calls: Calls = []
        if attrs.get("current_position") is not None:
            calls.append((position_service, {"position": attrs["current_position"]}))
        elif state in ("open", "closed"):
            calls.append((f"{'open' if state == 'open' else 'close'}_{prefix}", {}))
        if attrs.get("current_tilt_position") is not None:
            calls.append(("set_cover_tilt_position", {"tilt_position": attrs["current_tilt_position"]}))
        return calls

    return build


def _climate(state: str | None, attrs: dict[str, Any], current: str) -> Calls:
    calls: Calls = [("set_hvac_mode", {"hvac_mode": state})] if state and state != current else []
    temperatures = {
        key: attrs[key] for key in ("temperature", "target_temp_low", "target_temp_high") if attrs.get(key) is not None
    }
    if temperatures:
        calls.append(("set_temperature", temperatures))
    return calls + _setters(
        attrs,
        (
            ("preset_mode", "set_preset_mode", "preset_mode"),
            ("fan_mode", "set_fan_mode", "fan_mode"),
            ("swing_mode", "set_swing_mode", "swing_mode"),
            ("humidity", "set_humidity", "humidity"),
        ),
    )


_PLAYBACK = {"playing": "media_play", "paused": "media_pause", "idle": "media_stop"}


def _media_player(state: str | None, attrs: dict[str, Any], current: str) -> Calls:
    if state == "off":
        return [("turn_off", {})]
    calls: Calls = [("turn_on", {})] if current == "off" and state else []
    if state in _PLAYBACK and state != current:
        calls.append((_PLAYBACK[state], {}))
    return calls + _setters(
        attrs,
        (
            ("volume_level", "volume_set", "volume_level"),
            ("is_volume_muted", "volume_mute", "is_volume_muted"),
            ("source", "select_source", "source"),
        ),
    )


def _by_state(table: dict[str, str]) -> _Builder:
    def build(state: str | None, attrs: dict[str, Any], current: str) -> Calls:
        return [(table[state], {})] if state in table else []

    return build


def _value(service: str, field: str, cast: Callable[[str], Any]) -> _Builder:
    def build(state: str | None, attrs: dict[str, Any], current: str) -> Calls:
        return [(service, {field: cast(state)})] if state is not None else []

    return build


def _vacuum(state: str | None, attrs: dict[str, Any], current: str) -> Calls:
    table = {
        "cleaning": "start",
        "docked": "return_to_base",
        "returning": "return_to_base",
        "idle": "stop",
        "paused": "pause",
    }
    calls: Calls = [(table[state], {})] if state in table and state != current else []
    return calls + _setters(attrs, (("fan_speed", "set_fan_speed", "fan_speed"),))


_BUILDERS: dict[str, _Builder] = {
    **{domain: _on_off for domain in ("switch", "input_boolean", "automation", "siren", "humidifier")},
    "light": _light,
    "fan": _fan,
    "climate": _climate,
    "media_player": _media_player,
    "cover": _positioned("cover", "set_cover_position"),
    "valve": _positioned("valve", "set_valve_position"),
    "lock": _by_state({"locked": "lock", "unlocked": "unlock", "open": "open"}),
    "vacuum": _vacuum,
    "alarm_control_panel": _by_state(
        {
            "disarmed": "alarm_disarm",
            "armed_home": "alarm_arm_home",
            "armed_away": "alarm_arm_away",
            "armed_night": "alarm_arm_night",
            "armed_vacation": "alarm_arm_vacation",
            "armed_custom_bypass": "alarm_arm_custom_bypass",
            "triggered": "alarm_trigger",
        }
    ),
    "input_number": _value("set_value", "value", float),
    "number": _value("set_value", "value", float),
    "input_select": _value("select_option", "option", str),
    "select": _value("select_option", "option", str),
    "input_text": _value("set_value", "value", str),
}
