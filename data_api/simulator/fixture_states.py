"""What an entity of an evaluation home (`_fixtures.yaml`) looks like in HA's state machine.

Published fixtures mix two vocabularies: the state attributes HA shows (`brightness`,
`current_position`, `temperature`) and the entity properties an integration sets, which the
community's synthetic home hands to its entities (`native_value`, `target_temperature`,
`hvac_mode`, `is_closed`, `todo_items`, `events`). Values may name HA enums as text
(`cover.CoverDeviceClass.GARAGE`, `ClimateEntityFeature.FAN_MODE | ClimateEntityFeature.TURN_ON`,
`HVACMode.HEAT`), states may be YAML booleans or hassil's `{in, out}`. `entity_spec` reads one
entity as HA 2025.4.4 would write it: the state text and the attributes in HA's order
(capabilities, state attributes, extras, unit, device_class, icon, friendly_name,
supported_features), with what an entity of that domain always shows filled in (so its
services work), plus what an integration keeps off the state machine (to-do items, events,
forecasts, an alarm code, a scene's members, a script's steps) and what a device remembers
while off (a light's brightness, a player's volume).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from . import services as S
from .color import rgb_to_hs
from .domains import todo_state
from .generator import script_fields
from .profiles import Built, compose, light_capabilities, light_color_attributes
from .util import slugify, uuid_hex


class FixtureError(ValueError):
    """A fixture HA could not load as written; the message names the entity and the value."""


# HA 2025.4.4's *EntityFeature flags, by enum name.
FEATURE_FLAGS: dict[str, dict[str, int]] = {
    "LightEntityFeature": {"EFFECT": 4, "FLASH": 8, "TRANSITION": 32},
    "FanEntityFeature": {
        "SET_SPEED": 1,
        "OSCILLATE": 2,
        "DIRECTION": 4,
        "PRESET_MODE": 8,
        "TURN_OFF": 16,
        "TURN_ON": 32,
    },
    "CoverEntityFeature": {
        "OPEN": 1,
        "CLOSE": 2,
        "SET_POSITION": 4,
        "STOP": 8,
        "OPEN_TILT": 16,
        "CLOSE_TILT": 32,
        "STOP_TILT": 64,
        "SET_TILT_POSITION": 128,
    },
    "ClimateEntityFeature": {
        "TARGET_TEMPERATURE": 1,
        "TARGET_TEMPERATURE_RANGE": 2,
        "TARGET_HUMIDITY": 4,
        "FAN_MODE": 8,
        "PRESET_MODE": 16,
        "SWING_MODE": 32,
        "AUX_HEAT": 64,
        "TURN_OFF": 128,
        "TURN_ON": 256,
        "SWING_HORIZONTAL_MODE": 512,
    },
    "MediaPlayerEntityFeature": {
        "PAUSE": 1,
        "SEEK": 2,
        "VOLUME_SET": 4,
        "VOLUME_MUTE": 8,
        "PREVIOUS_TRACK": 16,
        "NEXT_TRACK": 32,
        "TURN_ON": 128,
        "TURN_OFF": 256,
        "PLAY_MEDIA": 512,
        "VOLUME_STEP": 1024,
        "SELECT_SOURCE": 2048,
        "STOP": 4096,
        "CLEAR_PLAYLIST": 8192,
        "PLAY": 16384,
        "SHUFFLE_SET": 32768,
        "SELECT_SOUND_MODE": 65536,
        "BROWSE_MEDIA": 131072,
        "REPEAT_SET": 262144,
        "GROUPING": 524288,
        "MEDIA_ANNOUNCE": 1048576,
        "MEDIA_ENQUEUE": 2097152,
    },
    "VacuumEntityFeature": {
        "TURN_ON": 1,
        "TURN_OFF": 2,
        "PAUSE": 4,
        "STOP": 8,
        "RETURN_HOME": 16,
        "FAN_SPEED": 32,
        "BATTERY": 64,
        "STATUS": 128,
        "SEND_COMMAND": 256,
        "LOCATE": 512,
        "CLEAN_SPOT": 1024,
        "MAP": 2048,
        "STATE": 4096,
        "START": 8192,
    },
    "ValveEntityFeature": {"OPEN": 1, "CLOSE": 2, "SET_POSITION": 4, "STOP": 8},
    "LockEntityFeature": {"OPEN": 1},
    "TodoListEntityFeature": {
        "CREATE_TODO_ITEM": 1,
        "DELETE_TODO_ITEM": 2,
        "UPDATE_TODO_ITEM": 4,
        "MOVE_TODO_ITEM": 8,
        "SET_DUE_DATE_ON_ITEM": 16,
        "SET_DUE_DATETIME_ON_ITEM": 32,
        "SET_DESCRIPTION_ON_ITEM": 64,
    },
    "CalendarEntityFeature": {"CREATE_EVENT": 1, "DELETE_EVENT": 2, "UPDATE_EVENT": 4},
    "AlarmControlPanelEntityFeature": {
        "ARM_HOME": 1,
        "ARM_AWAY": 2,
        "ARM_NIGHT": 4,
        "TRIGGER": 8,
        "ARM_CUSTOM_BYPASS": 16,
        "ARM_VACATION": 32,
    },
    "WeatherEntityFeature": {"FORECAST_DAILY": 1, "FORECAST_HOURLY": 2, "FORECAST_TWICE_DAILY": 4},
    "HumidifierEntityFeature": {"MODES": 1},
    "WaterHeaterEntityFeature": {"TARGET_TEMPERATURE": 1, "OPERATION_MODE": 2, "AWAY_MODE": 4, "ON_OFF": 8},
    "SirenEntityFeature": {"TURN_ON": 1, "TURN_OFF": 2, "TONES": 4, "VOLUME_SET": 8, "DURATION": 16},
    "UpdateEntityFeature": {"INSTALL": 1, "SPECIFIC_VERSION": 2, "PROGRESS": 4, "BACKUP": 8, "RELEASE_NOTES": 16},
    "RemoteEntityFeature": {"LEARN_COMMAND": 1, "DELETE_COMMAND": 2, "ACTIVITY": 4},
    "CameraEntityFeature": {"ON_OFF": 1, "STREAM": 2},
    "LawnMowerEntityFeature": {"START_MOWING": 1, "PAUSE": 2, "DOCK": 4},
}
# The enum a bare member name ("TURN_ON") means in a domain's supported_features.
_DOMAIN_FEATURES = {
    "light": "LightEntityFeature",
    "fan": "FanEntityFeature",
    "cover": "CoverEntityFeature",
    "climate": "ClimateEntityFeature",
    "media_player": "MediaPlayerEntityFeature",
    "vacuum": "VacuumEntityFeature",
    "valve": "ValveEntityFeature",
    "lock": "LockEntityFeature",
    "todo": "TodoListEntityFeature",
    "calendar": "CalendarEntityFeature",
    "alarm_control_panel": "AlarmControlPanelEntityFeature",
    "weather": "WeatherEntityFeature",
    "humidifier": "HumidifierEntityFeature",
    "water_heater": "WaterHeaterEntityFeature",
    "siren": "SirenEntityFeature",
    "update": "UpdateEntityFeature",
    "remote": "RemoteEntityFeature",
    "camera": "CameraEntityFeature",
    "lawn_mower": "LawnMowerEntityFeature",
}
# Unit enums name their symbol, not a lower-case word.
UNITS = {
    "UnitOfTemperature.CELSIUS": "°C",
    "UnitOfTemperature.FAHRENHEIT": "°F",
    "UnitOfTemperature.KELVIN": "K",
    "UnitOfPower.WATT": "W",
    "UnitOfPower.KILO_WATT": "kW",
    "UnitOfEnergy.WATT_HOUR": "Wh",
    "UnitOfEnergy.KILO_WATT_HOUR": "kWh",
    "UnitOfElectricPotential.VOLT": "V",
    "UnitOfElectricCurrent.AMPERE": "A",
    "UnitOfPressure.HPA": "hPa",
    "UnitOfPressure.BAR": "bar",
    "UnitOfPressure.PSI": "psi",
    "UnitOfVolume.LITERS": "L",
    "UnitOfVolume.CUBIC_METERS": "m³",
    "UnitOfVolume.GALLONS": "gal",
    "UnitOfSpeed.KILOMETERS_PER_HOUR": "km/h",
    "UnitOfSpeed.METERS_PER_SECOND": "m/s",
    "UnitOfSpeed.MILES_PER_HOUR": "mph",
    "UnitOfTime.SECONDS": "s",
    "UnitOfTime.MINUTES": "min",
    "UnitOfTime.HOURS": "h",
    "UnitOfTime.DAYS": "d",
    "UnitOfLength.METERS": "m",
    "UnitOfLength.KILOMETERS": "km",
    "UnitOfLength.MILES": "mi",
    "UnitOfIlluminance.LUX": "lx",
    "UnitOfDataRate.MEGABITS_PER_SECOND": "Mbit/s",
    "UnitOfPrecipitationDepth.MILLIMETERS": "mm",
    "UnitOfMass.KILOGRAMS": "kg",
}
_ENUM = re.compile(r"^(?:[a-z_]+\.)?([A-Z][A-Za-z0-9]*)\.([A-Z][A-Z0-9_]*)$")

# Entity properties (what an integration sets) and the state attribute HA shows for each.
_PROPERTY_ATTRIBUTES = {
    "native_unit_of_measurement": "unit_of_measurement",
    "target_temperature": "temperature",
    "target_temperature_high": "target_temp_high",
    "target_temperature_low": "target_temp_low",
    "target_temperature_step": "target_temp_step",
    "target_humidity": "humidity",
    "current_cover_position": "current_position",
    "current_cover_tilt_position": "current_tilt_position",
    "current_valve_position": "current_position",
    "current_direction": "direction",
    "native_temperature": "temperature",
    "native_temperature_unit": "temperature_unit",
    "native_apparent_temperature": "apparent_temperature",
    "native_dew_point": "dew_point",
    "native_pressure": "pressure",
    "native_pressure_unit": "pressure_unit",
    "native_wind_speed": "wind_speed",
    "native_wind_speed_unit": "wind_speed_unit",
    "native_wind_gust_speed": "wind_gust_speed",
    "native_visibility": "visibility",
    "native_visibility_unit": "visibility_unit",
    "native_precipitation_unit": "precipitation_unit",
    "native_min_value": "min",
    "native_max_value": "max",
    "native_step": "step",
    "native_templow": "templow",
}
# Properties that are the entity's state, by domain (used when no `state` is written).
_STATE_PROPERTIES = {
    "sensor": ("native_value",),
    "number": ("native_value",),
    "climate": ("hvac_mode",),
    "water_heater": ("current_operation",),
    "weather": ("condition",),
    "vacuum": ("activity",),
    "alarm_control_panel": ("alarm_state",),
    "lock": ("is_locked",),
    "cover": ("is_closed",),
    "valve": ("is_closed",),
}
_ON_OFF = {
    "cover": ("open", "closed"),
    "valve": ("open", "closed"),
    "lock": ("locked", "unlocked"),
    "person": ("home", "not_home"),
    "device_tracker": ("home", "not_home"),
}
_INVERTED = {"is_closed"}  # true means the off-like state
# Attributes that hold a mode name, or a list of them, where YAML may have read off/on as bools.
_MODE_KEYS = (
    "hvac_modes",
    "hvac_mode",
    "hvac_action",
    "fan_modes",
    "fan_mode",
    "preset_modes",
    "preset_mode",
    "swing_modes",
    "swing_mode",
    "options",
    "source_list",
    "source",
    "effect_list",
    "effect",
    "operation_list",
    "repeat",
)
_MIN_TEMP_C, _MAX_TEMP_C = 7.0, 35.0  # ClimateEntity's default range


@dataclass(frozen=True, slots=True)
class HomeContext:
    """What the reading depends on besides the entity: the home's zone and unit system."""

    time_zone: ZoneInfo
    metric: bool = True


@dataclass
class EntitySpec:
    """One entity as HA holds it, plus what its integration and device keep elsewhere."""

    state: str
    attributes: dict[str, Any]
    memory: dict[str, Any] = field(default_factory=dict)  # SimHome.memory of the entity
    capabilities: dict[str, Any] | None = None  # the registry's `capabilities`
    todo_items: list[dict[str, Any]] | None = None
    events: list[dict[str, Any]] | None = None
    forecasts: dict[str, list[dict[str, Any]]] | None = None
    alarm_code: str | None = None
    scene: dict[str, dict[str, Any]] | None = None  # member -> {state, attributes}
    script: dict[str, Any] | None = None  # SimHome.scripts form


# --- values -------------------------------------------------------------------------------


def enum_value(value: Any) -> Any:
    """A value with HA enums named as text read as HA would hold them: a device class, state
    or mode becomes its value (`HVACMode.HEAT_COOL` -> "heat_cool"), a unit its symbol, a
    feature its flag; lists and mappings are read item by item."""
    if isinstance(value, str):
        match = _ENUM.match(value.strip())
        if match is None:
            return value
        enum, member = match.groups()
        if (unit := UNITS.get(f"{enum}.{member}")) is not None:
            return unit
        if enum in FEATURE_FLAGS and member in FEATURE_FLAGS[enum]:
            return FEATURE_FLAGS[enum][member]
        return member.lower()
    if isinstance(value, list):
        return [enum_value(item) for item in value]
    if isinstance(value, dict):
        return {key: enum_value(item) for key, item in value.items()}
    return value


def feature_flags(domain: str, value: Any, entity_id: str) -> int:
    """supported_features written as an int, flag names (`X.Y`, bare `Y`), a list of them, or
    names joined with `|`."""
    if value is None:
        return 0
    items = value if isinstance(value, list) else [value]
    flags = 0
    for item in items:
        if isinstance(item, str) and "|" in item:
            flags |= feature_flags(domain, [part.strip() for part in item.split("|")], entity_id)
            continue
        flags |= _one_flag(domain, item, entity_id)
    return flags


def _one_flag(domain: str, item: Any, entity_id: str) -> int:
    if isinstance(item, int) and not isinstance(item, bool):
        return item
    text = str(item).strip()
    if text.isdigit():
        return int(text)
    match = _ENUM.match(text)
    enum, member = match.groups() if match else (_DOMAIN_FEATURES.get(domain), text)
    flag = FEATURE_FLAGS.get(enum or "", {}).get(member)
    if flag is None:
        raise FixtureError(f"{entity_id}: unknown supported feature {item!r}")
    return flag


def state_text(domain: str, value: Any, key: str = "state") -> str | None:
    """A written state as HA's state text: booleans by domain (a cover's true is "open", its
    is_closed true is "closed"), numbers as text, hassil's {in, out} as its `out`."""
    if isinstance(value, dict) and "out" in value:
        value = value["out"]
    if value is None:
        return None
    if isinstance(value, bool):
        on, off = _ON_OFF.get(domain, ("on", "off"))
        return (off if value else on) if key in _INVERTED else (on if value else off)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(enum_value(value)) if isinstance(value, str) else str(value)


def number(value: Any) -> Any:
    """A number written as text ("100") read as a number; anything else as it is."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return value
    return value


def _mode_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return [_mode_text(item) for item in value]
    return value


# --- the entity ---------------------------------------------------------------------------


@dataclass
class _Raw:
    """An entity being read: its attributes are consumed (`take`) as each part is built, and
    what is left over is shown as extra state attributes."""

    entity_id: str
    domain: str
    name: str
    state: str | None
    attrs: dict[str, Any]
    context: HomeContext

    def take(self, key: str, default: Any = None) -> Any:
        return self.attrs.pop(key, default)

    def features(self, default: int) -> int:
        """The written supported_features, or the domain's default when none are written."""
        if "supported_features" not in self.attrs:
            return default
        return feature_flags(self.domain, self.take("supported_features"), self.entity_id)


def entity_spec(
    entity_id: str, name: str | None, state: Any, attributes: dict[str, Any] | None, context: HomeContext
) -> EntitySpec:
    """Read one fixture entity (`state` and `attributes` as written) as HA would hold it."""
    domain = entity_id.split(".", 1)[0]
    attrs = {key: enum_value(value) for key, value in (attributes or {}).items()}
    for key in _MODE_KEYS:
        if key in attrs:
            attrs[key] = _mode_text(attrs[key])
    for prop, attribute in _PROPERTY_ATTRIBUTES.items():
        if prop in attrs:
            value = attrs.pop(prop)
            attrs.setdefault(attribute, value)
    text = state_text(domain, state)
    for prop in (*_STATE_PROPERTIES.get(domain, ()), "is_on"):
        if prop in attrs:
            written = state_text(domain, attrs.pop(prop), prop)
            text = text if text is not None else written
    attrs.pop("friendly_name", None)
    display = name or entity_id.split(".", 1)[1].replace("_", " ").title()
    raw = _Raw(entity_id, domain, display, text, attrs, context)
    icon = raw.take("icon")
    spec, built = _BUILDERS.get(domain, _generic)(raw)
    # What the builder did not read is shown as extra attributes, except the keys HA always
    # places last.
    if "supported_features" in raw.attrs and built.supported_features is None:
        built.supported_features = raw.features(0)
    if built.device_class is None:
        built.device_class = raw.take("device_class")
    if built.unit is None:
        built.unit = raw.take("unit_of_measurement")
    for key in ("supported_features", "device_class", "unit_of_measurement"):
        raw.take(key)
    built.attributes.update(raw.attrs)
    spec.attributes = compose(built, friendly_name=display, icon=icon)
    spec.capabilities = dict(built.capabilities) if built.capabilities else None
    return spec


def _spec(state: str) -> EntitySpec:
    return EntitySpec(state, {})


def _generic(raw: _Raw) -> tuple[EntitySpec, Built]:
    """A domain without its own reading: the state and attributes as written."""
    features = raw.take("supported_features")
    built = Built(
        raw.state if raw.state is not None else "unknown",
        device_class=raw.take("device_class"),
        unit=raw.take("unit_of_measurement"),
        supported_features=None if features is None else feature_flags(raw.domain, features, raw.entity_id),
    )
    return _spec(built.state), built


def _on_off(default: str = "off") -> Any:
    def build(raw: _Raw) -> tuple[EntitySpec, Built]:
        extra: dict[str, Any] = {"editable": raw.take("editable", True)} if raw.domain == "input_boolean" else {}
        state = raw.state if raw.state is not None else default
        built = Built(state, None, extra, raw.take("device_class"))
        return _spec(state), built

    return build


def _sensor(raw: _Raw) -> tuple[EntitySpec, Built]:
    caps: dict[str, Any] = {}
    if (state_class := raw.take("state_class")) is not None:
        caps["state_class"] = state_class
    device_class = raw.take("device_class")
    if device_class == "enum" or "options" in raw.attrs:
        caps["options"] = list(raw.take("options") or [])
    state = raw.state if raw.state is not None else "unknown"
    built = Built(state, caps or None, {}, device_class, raw.take("unit_of_measurement"))
    return _spec(state), built


# --- lights ---------------------------------------------------------------------------------


def _light(raw: _Raw) -> tuple[EntitySpec, Built]:
    take = raw.take
    brightness = number(take("brightness"))
    kelvin = number(take("color_temp_kelvin"))
    if kelvin is None and (mireds := number(take("color_temp"))):
        kelvin = round(1_000_000 / mireds)
    take("color_temp")
    hs, rgb, xy = take("hs_color"), take("rgb_color"), take("xy_color")
    extra_colours = {key: take(key) for key in ("rgbw_color", "rgbww_color") if key in raw.attrs}
    if hs is None and rgb is not None:
        hs = rgb_to_hs(*rgb[:3])
    modes = take("supported_color_modes") or _inferred_color_modes(brightness, kelvin, hs or xy, extra_colours)
    modes = [modes] if isinstance(modes, str) else list(modes)
    color_mode = take("color_mode")
    if isinstance(color_mode, list):
        color_mode = color_mode[0] if color_mode else None
    state = raw.state or ("on" if isinstance(brightness, (int, float)) and brightness > 0 else "off")
    on = state == "on"
    effects, effect = take("effect_list"), take("effect")
    caps = light_capabilities(
        modes,
        effects,
        min_kelvin=number(take("min_color_temp_kelvin", 2000)),
        max_kelvin=number(take("max_color_temp_kelvin", 6535)),
    )
    for key in ("min_mireds", "max_mireds"):
        take(key)
    mode = (color_mode if color_mode in modes else modes[0]) if on else None
    if on and brightness is None and mode != "onoff":
        brightness = 255
    attrs = light_color_attributes(
        modes,
        mode,
        brightness=brightness,
        kelvin=kelvin,
        hs=tuple(hs) if hs else None,
        effect=effect if on else None,
        has_effect=bool(effects),
    )
    if on:
        attrs |= extra_colours
    spec = _spec(state)
    if not on:  # what the light comes back with when turned on
        spec.memory = {
            key: value
            for key, value in (
                ("brightness", brightness or None),
                ("kelvin", kelvin),
                ("hs", tuple(hs) if hs else None),
                ("mode", color_mode),
            )
            if value is not None
        }
    flags = raw.features(S.LIGHT_EFFECT if effects else 0)
    return spec, Built(state, caps, attrs, supported_features=flags)


def _inferred_color_modes(brightness: Any, kelvin: Any, colour: Any, extra: dict[str, Any]) -> list[str]:
    """The colour modes a light without supported_color_modes must have for what it shows."""
    if "rgbww_color" in extra:
        return ["rgbww"]
    if "rgbw_color" in extra:
        return ["rgbw"]
    modes = (["color_temp"] if kelvin is not None else []) + (["hs"] if colour else [])
    return modes or (["brightness"] if brightness is not None else ["onoff"])


# --- climate, fans, covers, valves, locks -----------------------------------------------------


def _climate(raw: _Raw) -> tuple[EntitySpec, Built]:
    take = raw.take
    state = raw.state or "off"
    modes = list(take("hvac_modes") or ["off", "heat"])
    if state not in modes and state != "unknown":
        modes.append(state)  # an entity always lists the mode it is in
    lists = {
        key: take(key)
        for key in ("fan_modes", "preset_modes", "swing_modes", "swing_horizontal_modes")
        if key in raw.attrs
    }
    default = (
        S.CLIMATE_TARGET_TEMP
        | S.CLIMATE_ON
        | S.CLIMATE_OFF
        | (S.CLIMATE_FAN_MODE if "fan_modes" in lists or "fan_mode" in raw.attrs else 0)
        | (S.CLIMATE_PRESET if "preset_modes" in lists else 0)
        | (S.CLIMATE_SWING if "swing_modes" in lists else 0)
        | (S.CLIMATE_TARGET_HUMIDITY if "humidity" in raw.attrs else 0)
    )
    flags = raw.features(default)
    take("unit_of_measurement")  # the entity's unit: temperatures are shown as written
    take("temperature_unit")
    caps: dict[str, Any] = {
        "hvac_modes": modes,
        "min_temp": number(take("min_temp", _MIN_TEMP_C)),
        "max_temp": number(take("max_temp", _MAX_TEMP_C)),
    }
    if (step := take("target_temp_step")) is not None:
        caps["target_temp_step"] = number(step)
    if flags & S.CLIMATE_TARGET_HUMIDITY:
        caps |= {"min_humidity": take("min_humidity", 30), "max_humidity": take("max_humidity", 99)}
    for flag, key, fallback in (
        (S.CLIMATE_FAN_MODE, "fan_modes", ["auto", "low", "medium", "high"]),
        (S.CLIMATE_PRESET, "preset_modes", ["none", "eco", "comfort"]),
        (S.CLIMATE_SWING, "swing_modes", ["off", "on"]),
        (S.CLIMATE_SWING_HORIZONTAL, "swing_horizontal_modes", ["off", "on"]),
    ):
        if flags & flag:
            caps[key] = list(lists.get(key) or fallback)
    attrs: dict[str, Any] = {"current_temperature": number(take("current_temperature"))}
    if flags & S.CLIMATE_TARGET_TEMP:
        attrs["temperature"] = number(take("temperature"))
    if flags & S.CLIMATE_TARGET_RANGE:
        attrs["target_temp_high"] = number(take("target_temp_high"))
        attrs["target_temp_low"] = number(take("target_temp_low"))
    if (humidity := take("current_humidity")) is not None:
        attrs["current_humidity"] = number(humidity)
    if flags & S.CLIMATE_TARGET_HUMIDITY:
        attrs["humidity"] = number(take("humidity"))
    if flags & S.CLIMATE_FAN_MODE:
        attrs["fan_mode"] = take("fan_mode") or caps["fan_modes"][0]
    if (action := take("hvac_action")) is not None:
        attrs["hvac_action"] = action
    for flag, key in (
        (S.CLIMATE_PRESET, "preset_mode"),
        (S.CLIMATE_SWING, "swing_mode"),
        (S.CLIMATE_SWING_HORIZONTAL, "swing_horizontal_mode"),
    ):
        if flags & flag:
            attrs[key] = take(key)
    for key in ("temperature", "target_temp_high", "target_temp_low", "humidity"):
        take(key)  # shown only with the feature that sets it
    return _spec(state), Built(state, caps, attrs, supported_features=flags)


def _fan(raw: _Raw) -> tuple[EntitySpec, Built]:
    """The leaderboard's fans can always be turned on and off, whatever else they list."""
    take = raw.take
    presets = take("preset_modes")
    default = (
        S.FAN_SPEED
        | (S.FAN_OSCILLATE if "oscillating" in raw.attrs else 0)
        | (S.FAN_DIRECTION if "direction" in raw.attrs else 0)
        | (S.FAN_PRESET if presets else 0)
    )
    flags = raw.features(default) | S.FAN_ON | S.FAN_OFF
    preset = take("preset_mode")
    percentage = number(take("percentage"))
    state = raw.state or ("on" if (percentage or 0) > 0 or preset else "off")
    if percentage is None:
        percentage = 100 if state == "on" and not preset else 0
    spec = _spec(state)
    if state != "on" and percentage:
        spec.memory = {"percentage": percentage}
        percentage = 0
    speed_count = number(take("speed_count", 100)) or 100
    caps = {"preset_modes": presets} if flags & (S.FAN_SPEED | S.FAN_PRESET) else None
    attrs: dict[str, Any] = {}
    if flags & S.FAN_DIRECTION:
        attrs["direction"] = take("direction", "forward")
    if flags & S.FAN_OSCILLATE:
        attrs["oscillating"] = bool(take("oscillating", False))
    if flags & S.FAN_SPEED:
        attrs |= {"percentage": percentage, "percentage_step": 100 / speed_count}
    if flags & (S.FAN_SPEED | S.FAN_PRESET):
        attrs["preset_mode"] = preset
    take("percentage_step")
    return spec, Built(state, caps, attrs, raw.take("device_class"), supported_features=flags)


def _positioned(raw: _Raw, *, cover: bool) -> tuple[EntitySpec, Built]:
    """Covers and valves: open or closed by state, is_closed or position. One reports its
    position when one is written or it can be set; a valve also when it says it does."""
    take = raw.take
    position = number(take("current_position"))
    tilt = number(take("current_tilt_position"))
    reports = bool(take("reports_position", False)) or position is not None
    if cover:
        default = (
            S.COVER_OPEN
            | S.COVER_CLOSE
            | S.COVER_STOP
            | (S.COVER_SET_POSITION if position is not None else 0)
            | (S.COVER_OPEN_TILT | S.COVER_CLOSE_TILT | S.COVER_SET_TILT if tilt is not None else 0)
        )
        flags = raw.features(default)
        reports = reports or bool(flags & S.COVER_SET_POSITION)
    else:
        flags = raw.features(S.VALVE_OPEN | S.VALVE_CLOSE | (S.VALVE_SET_POSITION if reports else 0))
        reports = reports or bool(flags & S.VALVE_SET_POSITION)
    state = raw.state or ("open" if position else "closed")
    attrs: dict[str, Any] = {}
    if reports:
        if position is None:
            position = 0 if state in ("closed", "opening") else 100
        attrs["current_position"] = position
    if tilt is not None or (cover and flags & S.COVER_SET_TILT):
        attrs["current_tilt_position"] = tilt if tilt is not None else 0
    return _spec(state), Built(state, None, attrs, raw.take("device_class"), supported_features=flags)


def _lock(raw: _Raw) -> tuple[EntitySpec, Built]:
    state = raw.state or "locked"
    attrs = {key: raw.take(key) for key in ("changed_by", "code_format") if raw.attrs.get(key) is not None}
    raw.take("code")  # a code the lock accepts is not something HA shows
    return _spec(state), Built(state, None, attrs, raw.take("device_class"), supported_features=raw.features(0))


# --- media, vacuums, alarm panels ---------------------------------------------------------

_PLAYER_DEFAULT = (
    S.MP_PAUSE
    | S.MP_PLAY
    | S.MP_STOP
    | S.MP_VOLUME_SET
    | S.MP_VOLUME_MUTE
    | S.MP_VOLUME_STEP
    | S.MP_ON
    | S.MP_OFF
    | S.MP_NEXT
    | S.MP_PREVIOUS
)
_PLAYER_STATE = (
    "volume_level",
    "is_volume_muted",
    "media_content_id",
    "media_content_type",
    "media_duration",
    "media_position",
    "media_position_updated_at",
    "media_title",
    "media_artist",
    "media_album_name",
    "media_album_artist",
    "media_track",
    "media_series_title",
    "media_season",
    "media_episode",
    "media_channel",
    "media_playlist",
    "app_id",
    "app_name",
    "source",
    "sound_mode",
    "shuffle",
    "repeat",
)


def _media_player(raw: _Raw) -> tuple[EntitySpec, Built]:
    """What a player shows while on; while off HA shows only grouping, and the player keeps
    the rest for when it is turned on."""
    take = raw.take
    state = raw.state or "idle"
    sources, modes = take("source_list"), take("sound_mode_list")
    flags = raw.features(_PLAYER_DEFAULT | (S.MP_SOURCE if sources else 0))
    caps = {
        key: value for key, value in (("source_list", sources), ("sound_mode_list", modes)) if value is not None
    } or None
    volume = number(take("volume_level", 0.5))
    if isinstance(volume, (int, float)) and volume > 1:
        volume = volume / 100  # written as a percentage; HA's volume runs from 0 to 1
    playing = {"volume_level": volume, "is_volume_muted": bool(take("is_volume_muted", False))}
    playing |= {key: take(key) for key in _PLAYER_STATE if key in raw.attrs}
    attrs: dict[str, Any] = {}
    if flags & S.MP_GROUPING:
        attrs["group_members"] = take("group_members") or []
    spec = _spec(state)
    if state == "off":
        spec.memory = {"on_attributes": playing}
    else:
        attrs |= playing
    return spec, Built(state, caps, attrs, raw.take("device_class"), supported_features=flags)


_VACUUM_DEFAULT = (
    S.VACUUM_START
    | S.VACUUM_PAUSE
    | S.VACUUM_STOP
    | S.VACUUM_RETURN
    | S.VACUUM_STATE
    | S.VACUUM_LOCATE
    | S.VACUUM_CLEAN_SPOT
)


def _vacuum(raw: _Raw) -> tuple[EntitySpec, Built]:
    take = raw.take
    state = raw.state or "docked"
    speeds = take("fan_speed_list")
    flags = raw.features(
        _VACUUM_DEFAULT
        | (S.VACUUM_FAN_SPEED if speeds else 0)
        | (S.VACUUM_BATTERY if "battery_level" in raw.attrs else 0)
    )
    caps = {"fan_speed_list": list(speeds or [])} if flags & S.VACUUM_FAN_SPEED else None
    attrs: dict[str, Any] = {}
    if flags & S.VACUUM_BATTERY:
        level = number(take("battery_level", 100))
        attrs |= {"battery_level": level, "battery_icon": take("battery_icon", f"mdi:battery-{round(level, -1):.0f}")}
    if flags & S.VACUUM_FAN_SPEED:
        attrs["fan_speed"] = take("fan_speed", (speeds or [None])[0])
    return _spec(state), Built(state, caps, attrs, supported_features=flags)


def _alarm(raw: _Raw) -> tuple[EntitySpec, Built]:
    """An alarm panel with a `code` (not shown by HA) asks for it, like HA's manual panel."""
    take = raw.take
    state = raw.state or "disarmed"
    code = take("code")
    code = None if code is None else str(code)
    flags = raw.features(S.ALARM_HOME | S.ALARM_AWAY | S.ALARM_NIGHT | S.ALARM_TRIGGER)
    code_format = take("code_format", None if code is None else "number" if code.isdigit() else "text")
    attrs = {
        "code_format": code_format,
        "changed_by": take("changed_by"),
        "code_arm_required": bool(take("code_arm_required", code is not None)),
    }
    spec = _spec(state)
    spec.alarm_code = code
    return spec, Built(state, None, attrs, supported_features=flags)


# --- to-do lists, calendars, weather ----------------------------------------------------------

_TODO_DEFAULT = sum(FEATURE_FLAGS["TodoListEntityFeature"].values())  # a local to-do list


def _todo(raw: _Raw) -> tuple[EntitySpec, Built]:
    written = raw.take("todo_items", raw.take("items")) or []
    items = [_todo_item(item, raw.entity_id) for item in written]
    flags = raw.features(_TODO_DEFAULT)
    spec = _spec(todo_state(items))
    spec.todo_items = items
    return spec, Built(spec.state, supported_features=flags)


def _todo_item(item: Any, entity_id: str) -> dict[str, Any]:
    if isinstance(item, str):
        item = {"summary": item}
    if not isinstance(item, dict) or not item.get("summary"):
        raise FixtureError(f"{entity_id}: a to-do item needs a summary, got {item!r}")
    status = state_text("todo", item.get("status")) or "needs_action"
    if status not in S.TODO_STATUSES:
        raise FixtureError(f"{entity_id}: to-do status {status!r} is not one of {', '.join(S.TODO_STATUSES)}")
    due = item.get("due")
    return {
        "summary": str(item["summary"]),
        "uid": str(item.get("uid") or uuid_hex()),
        "status": status,
        "due": due.isoformat() if isinstance(due, (date, datetime)) else due,
        "description": item.get("description"),
    }


_CALENDAR_DEFAULT = sum(FEATURE_FLAGS["CalendarEntityFeature"].values())  # a local calendar


def _calendar(raw: _Raw) -> tuple[EntitySpec, Built]:
    """Events are kept by the home; the state (on during an event) and the event attributes
    depend on the home's now, so the home writes them (`domains.calendar_state`)."""
    events = [_event(event, raw) for event in raw.take("events") or []]
    spec = _spec("off")
    spec.events = events
    return spec, Built("off", supported_features=raw.features(_CALENDAR_DEFAULT))


def _event(event: Any, raw: _Raw) -> dict[str, Any]:
    if not isinstance(event, dict) or not event.get("summary"):
        raise FixtureError(f"{raw.entity_id}: an event needs a summary, got {event!r}")
    start = _event_time(event.get("start", event.get("dtstart")), raw, "start")
    end = _event_time(event.get("end", event.get("dtend")), raw, "end")
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise FixtureError(f"{raw.entity_id}: event {event['summary']!r} mixes a date and a datetime")
    if not isinstance(start, datetime) and start == end:  # an all-day event lasts the day
        end = date.fromordinal(start.toordinal() + 1)
    return {
        "uid": str(event.get("uid") or uuid_hex()),
        "summary": str(event["summary"]),
        "start": start,
        "end": end,
        "description": event.get("description"),
        "location": event.get("location"),
    }


def _event_time(value: Any, raw: _Raw, which: str) -> date | datetime:
    """A date (all day) or a datetime; a datetime without offset is in the home's zone."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value
    elif isinstance(value, str) and len(value.strip()) == 10:
        return date.fromisoformat(value.strip())
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise FixtureError(f"{raw.entity_id}: event {which} {value!r} is not a date or a datetime") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=raw.context.time_zone)


_WEATHER_KEYS = (
    "temperature",
    "apparent_temperature",
    "dew_point",
    "temperature_unit",
    "humidity",
    "cloud_coverage",
    "uv_index",
    "pressure",
    "pressure_unit",
    "wind_bearing",
    "wind_gust_speed",
    "wind_speed",
    "wind_speed_unit",
    "visibility",
    "visibility_unit",
    "precipitation_unit",
)
_FORECASTS = {
    "daily_forecast": "daily",
    "forecast_daily": "daily",
    "forecast": "daily",
    "hourly_forecast": "hourly",
    "forecast_hourly": "hourly",
    "twice_daily_forecast": "twice_daily",
    "forecast_twice_daily": "twice_daily",
}
_FORECAST_FLAGS = {"daily": S.WEATHER_DAILY, "hourly": S.WEATHER_HOURLY, "twice_daily": S.WEATHER_TWICE_DAILY}


def _weather(raw: _Raw) -> tuple[EntitySpec, Built]:
    """Weather in the home's units (HA converts a weather entity's native temperature); its
    forecasts, when written, are what get_forecasts answers."""
    take, metric = raw.take, raw.context.metric
    unit = "°C" if metric else "°F"
    native = take("temperature_unit") or unit
    forecasts: dict[str, list[dict[str, Any]]] = {}
    for key, kind in _FORECASTS.items():
        if key in raw.attrs:
            forecasts[kind] = [_forecast_entry(entry, native, unit) for entry in take(key) or []]
    default = sum(_FORECAST_FLAGS[kind] for kind in forecasts) or S.WEATHER_DAILY | S.WEATHER_HOURLY
    flags = raw.features(default)
    attrs: dict[str, Any] = {}
    for key in _WEATHER_KEYS:
        if key in ("temperature", "apparent_temperature", "dew_point"):
            value = number(take(key))
            if value is not None:
                attrs[key] = _convert_temperature(value, native, unit)
        elif key == "temperature_unit":
            attrs[key] = unit
        elif key.endswith("_unit"):
            attrs[key] = take(
                key,
                {
                    "pressure_unit": "hPa" if metric else "inHg",
                    "wind_speed_unit": "km/h" if metric else "mph",
                    "visibility_unit": "km" if metric else "mi",
                    "precipitation_unit": "mm" if metric else "in",
                }[key],
            )
        elif key in raw.attrs:
            attrs[key] = number(take(key))
    state = raw.state or "unknown"
    spec = _spec(state)
    spec.forecasts = forecasts or None
    return spec, Built(state, None, attrs, supported_features=flags)


_FORECAST_TEMPERATURES = ("temperature", "templow", "apparent_temperature", "dew_point")


def _forecast_entry(entry: Any, native: str, unit: str) -> dict[str, Any]:
    """A forecast written as a condition, or as {condition, temperature, templow, ...} in the
    entity's native unit, converted like the entity's own temperature."""
    if not isinstance(entry, dict):
        return {"condition": str(entry)}
    out = {_PROPERTY_ATTRIBUTES.get(key, key): number(value) for key, value in entry.items()}
    for key in _FORECAST_TEMPERATURES:
        if isinstance(out.get(key), (int, float)):
            out[key] = _convert_temperature(out[key], native, unit)
    return out


def _convert_temperature(value: float, unit: str, wanted: str) -> float:
    if unit == wanted:
        return value
    celsius = (value - 32) * 5 / 9 if unit == "°F" else value
    return round(celsius if wanted == "°C" else celsius * 9 / 5 + 32, 1)


# --- people, places, helpers, scenes, scripts --------------------------------------------------


def _person(raw: _Raw) -> tuple[EntitySpec, Built]:
    state = raw.state or "unknown"
    attrs = {
        "editable": raw.take("editable", True),
        "id": raw.take("id", slugify(raw.name)),
        "device_trackers": list(raw.take("device_trackers") or []),
    }
    return _spec(state), Built(state, None, attrs)


def _tracker(raw: _Raw) -> tuple[EntitySpec, Built]:
    state = raw.state or "not_home"
    return _spec(state), Built(state, None, {"source_type": raw.take("source_type", "gps")})


def _input_number(raw: _Raw) -> tuple[EntitySpec, Built]:
    take = raw.take
    low, high = float(number(take("min", 0))), float(number(take("max", 100)))
    value = number(take("value", raw.state if raw.state is not None else low))
    state = str(float(value))
    attrs = {
        "initial": take("initial"),
        "editable": take("editable", True),
        "min": low,
        "max": high,
        "step": float(number(take("step", 1))),
        "mode": take("mode", "slider"),
    }
    return _spec(state), Built(state, None, attrs, unit=take("unit_of_measurement"))


def _options(raw: _Raw) -> tuple[EntitySpec, Built]:
    """input_select and select: the state is one of the options."""
    options = [str(option) for option in raw.take("options") or []]
    state = raw.state if raw.state is not None else (options[0] if options else "unknown")
    if state not in options and state != "unknown":
        options.append(state)
    attrs: dict[str, Any] = {"options": options}
    if raw.domain == "input_select":
        attrs["editable"] = raw.take("editable", True)
    return _spec(state), Built(state, None, attrs)


def _input_text(raw: _Raw) -> tuple[EntitySpec, Built]:
    take = raw.take
    state = raw.state if raw.state is not None else ""
    attrs = {
        "editable": take("editable", True),
        "min": take("min", 0),
        "max": take("max", 100),
        "pattern": take("pattern"),
        "mode": take("mode", "text"),
    }
    return _spec(state), Built(state, None, attrs)


def _input_datetime(raw: _Raw) -> tuple[EntitySpec, Built]:
    """has_date/has_time from what the state holds, and the parts HA shows for each."""
    state = raw.state or "unknown"
    has_date, has_time = "-" in state, ":" in state
    attrs: dict[str, Any] = {"has_date": has_date, "has_time": has_time, "editable": raw.take("editable", True)}
    try:
        moment = datetime.fromisoformat(state if has_date else f"1970-01-01 {state}")
    except ValueError:
        return _spec(state), Built(state, None, attrs)
    if has_date:
        attrs |= {"year": moment.year, "month": moment.month, "day": moment.day}
    if has_time:
        attrs |= {"hour": moment.hour, "minute": moment.minute, "second": moment.second}
    attrs["timestamp"] = (
        moment.replace(tzinfo=raw.context.time_zone).timestamp()
        if has_date
        else moment.hour * 3600 + moment.minute * 60 + moment.second
    )
    return _spec(state), Built(state, None, attrs)


def _counter(raw: _Raw) -> tuple[EntitySpec, Built]:
    take = raw.take
    state = str(int(number(raw.state if raw.state is not None else take("initial", 0))))
    attrs: dict[str, Any] = {
        "editable": take("editable", True),
        "initial": int(number(take("initial", 0))),
        "step": int(number(take("step", 1))),
    }
    for key in ("minimum", "maximum"):
        if key in raw.attrs:
            attrs[key] = int(number(take(key)))
    return _spec(state), Built(state, None, attrs)


def _timer(raw: _Raw) -> tuple[EntitySpec, Built]:
    state = raw.state or "idle"
    attrs = {"duration": str(raw.take("duration", "0:00:00")), "editable": raw.take("editable", True)}
    return _spec(state), Built(state, None, attrs)


def _number_entity(raw: _Raw) -> tuple[EntitySpec, Built]:
    take = raw.take
    caps = {
        "min": number(take("min", 0)),
        "max": number(take("max", 100)),
        "step": number(take("step", 1)),
        "mode": take("mode", "auto"),
    }
    state = raw.state if raw.state is not None else "unknown"
    return _spec(state), Built(state, caps, {}, take("device_class"), take("unit_of_measurement"))


def _pressable(raw: _Raw) -> tuple[EntitySpec, Built]:
    """Buttons: the state is the time of the last press."""
    state = raw.state or "unknown"
    extra = {"editable": raw.take("editable", True)} if raw.domain == "input_button" else {}
    return _spec(state), Built(state, None, extra, raw.take("device_class"))


def _scene(raw: _Raw) -> tuple[EntitySpec, Built]:
    """A scene's members as HA's scene config writes them: {entity_id: state or {state,
    attribute: value, ...}}; the state lists them, and the scene is "unknown" until used."""
    members: dict[str, dict[str, Any]] = {}
    for target, wanted in (raw.take("entities") or {}).items():
        domain = str(target).split(".", 1)[0]
        if isinstance(wanted, dict):
            values = {key: enum_value(value) for key, value in wanted.items()}
            state = state_text(domain, values.pop("state", None))
            members[str(target)] = {"state": state, "attributes": values}
        else:
            members[str(target)] = {"state": state_text(domain, wanted), "attributes": {}}
    listed = list(members) or list(raw.take("entity_id") or [])
    raw.take("entity_id")
    state = raw.state or "unknown"
    spec = _spec(state)
    spec.scene = members
    attrs = {"entity_id": listed, "id": raw.take("id", raw.entity_id.split(".", 1)[1])}
    return spec, Built(state, None, attrs)


def _script(raw: _Raw) -> tuple[EntitySpec, Built]:
    """A script with its steps (HA actions) and fields, run by script.turn_on and its own
    script.<object_id> service."""
    take = raw.take
    mode = take("mode", "single")
    spec = _spec("off")
    spec.script = {
        "name": raw.name,
        "description": take("description", ""),
        "fields": script_fields(take("fields") or {}),
        "sequence": list(take("sequence") or []),
        "icon": None,
        "mode": mode,
    }
    attrs: dict[str, Any] = {"last_triggered": take("last_triggered"), "mode": mode, "current": 0}
    if mode in ("queued", "parallel"):
        attrs["max"] = take("max", 10)
    return spec, Built("off", None, attrs)


def _zone(raw: _Raw) -> tuple[EntitySpec, Built]:
    take = raw.take
    persons = list(take("persons") or [])
    attrs = {
        "latitude": take("latitude", 0.0),
        "longitude": take("longitude", 0.0),
        "radius": take("radius", 100),
        "passive": take("passive", False),
        "persons": persons,
        "editable": take("editable", True),
    }
    state = raw.state or str(len(persons))
    return _spec(state), Built(state, None, attrs)


_BUILDERS: dict[str, Any] = {
    **{
        domain: _on_off()
        for domain in (
            "switch",
            "input_boolean",
            "siren",
            "humidifier",
            "remote",
            "automation",
            "binary_sensor",
            "schedule",
        )
    },
    "sensor": _sensor,
    "light": _light,
    "climate": _climate,
    "fan": _fan,
    "cover": lambda raw: _positioned(raw, cover=True),
    "valve": lambda raw: _positioned(raw, cover=False),
    "lock": _lock,
    "media_player": _media_player,
    "vacuum": _vacuum,
    "alarm_control_panel": _alarm,
    "todo": _todo,
    "calendar": _calendar,
    "weather": _weather,
    "person": _person,
    "device_tracker": _tracker,
    "input_number": _input_number,
    "input_select": _options,
    "select": _options,
    "input_text": _input_text,
    "input_datetime": _input_datetime,
    "counter": _counter,
    "timer": _timer,
    "number": _number_entity,
    "button": _pressable,
    "input_button": _pressable,
    "scene": _scene,
    "script": _script,
    "zone": _zone,
}
