"""The service catalogue: one declaration per service gives both what `get_services` describes
and how a call is validated, so the two can never disagree.

Shapes follow HA 2025.4.4 `helpers/service.py` (`async_get_all_descriptions`): each service is
`{name, description, fields{f: {filter?, required?, advanced?, example?, default?, selector,
name, description}}, target?, response?: {optional}}`; sections (light.turn_on's
`advanced_fields`) nest `{collapsed, fields}`. Entity services refuse unknown keys and need one
of entity_id/device_id/area_id/floor_id/label_id (cv.make_entity_service_schema). The wording of
names and descriptions is the simulator's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from . import schema as v

Response = Literal["none", "optional", "only"]
Check = Callable[[dict[str, Any]], None]

TARGET_KEYS = ("entity_id", "device_id", "area_id", "floor_id", "label_id")
_TARGET_SCHEMA_KEYS = (
    v.optional("entity_id", v.target_ids),
    *(v.optional(key, v.id_list) for key in TARGET_KEYS[1:]),
)


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    validator: v.Validator
    selector: dict[str, Any]
    label: str
    description: str
    required: bool = False
    example: Any = None
    default: Any = None
    filter: dict[str, Any] | None = None
    advanced: bool = False
    group: str | None = None  # vol.Exclusive group

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.filter is not None:
            out["filter"] = self.filter
        if self.required:
            out["required"] = True
        if self.advanced:
            out["advanced"] = True
        if self.example is not None:
            out["example"] = self.example
        if self.default is not None:
            out["default"] = self.default
        out["selector"] = self.selector
        out["name"] = self.label
        out["description"] = self.description
        return out


@dataclass(frozen=True, slots=True)
class Section:
    """A collapsible group of fields in the description; flat for validation."""

    name: str
    fields: tuple[Field, ...]
    collapsed: bool = True


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    domain: str
    service: str
    name: str
    description: str
    fields: tuple[Field | Section, ...] = ()
    target: bool = True  # an entity service of its own domain
    features: tuple[int, ...] | None = None  # entity needs one of these feature sets
    response: Response = "none"
    extra: bool = False  # voluptuous ALLOW_EXTRA
    target_domains: tuple[str, ...] | None = None  # target filter when not the own domain
    # Cross-field rules of the schema's vol.All, before (`pre`) and after (`post`) the fields.
    pre: tuple[Check, ...] = ()
    post: tuple[Check, ...] = ()
    schema: v.Schema = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = [
            v.optional(f.name, f.validator, group=f.group) if not f.required else v.required(f.name, f.validator)
            for f in self.flat_fields()
        ]
        if self.target:
            keys.extend(_TARGET_SCHEMA_KEYS)
        object.__setattr__(self, "schema", v.Schema(keys, extra=self.extra))

    def flat_fields(self) -> Iterable[Field]:
        for item in self.fields:
            if isinstance(item, Section):
                yield from item.fields
            else:
                yield item

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return the validated data or raise `schema.Invalid`."""
        for check in self.pre:
            check(data)
        result = self.schema(data)
        if self.target and not any(key in result for key in TARGET_KEYS):
            raise v.Invalid(f"must contain at least one of {', '.join(TARGET_KEYS)}.")
        for check in self.post:
            check(result)
        return result

    def describe(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for item in self.fields:
            if isinstance(item, Section):
                fields[item.name] = {
                    "collapsed": item.collapsed,
                    "fields": {f.name: f.describe() for f in item.fields},
                }
            else:
                fields[item.name] = item.describe()
        out: dict[str, Any] = {"name": self.name, "description": self.description, "fields": fields}
        if self.target:
            entity_filter: dict[str, Any] = {"domain": list(self.target_domains or (self.domain,))}
            if self.features:
                entity_filter["supported_features"] = list(self.features)
            out["target"] = {"entity": [entity_filter]}
        elif self.target_domains is not None:  # homeassistant.turn_on: any entity
            out["target"] = {"entity": [{}]}
        if self.response != "none":
            out["response"] = {"optional": self.response == "optional"}
        return out


# --- field builders -------------------------------------------------------------------------

NUMBER_BOX = {"mode": "box"}


def _num(min: float, max: float, step: float | None = None, unit: str | None = None, **extra: Any) -> dict[str, Any]:
    selector: dict[str, Any] = {"min": min, "max": max}
    if step is not None:
        selector["step"] = step
    if unit is not None:
        selector["unit_of_measurement"] = unit
    selector.update(extra)
    return {"number": selector}


TEXT: dict[str, Any] = {"text": None}
BOOLEAN: dict[str, Any] = {"boolean": None}


def _select(options: Iterable[str], key: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"options": list(options)}
    if key:
        body["translation_key"] = key
    return {"select": body}


def _features(*flags: int) -> dict[str, Any]:
    return {"supported_features": list(flags)}


def _color_modes(*modes: str) -> dict[str, Any]:
    return {"attribute": {"supported_color_modes": list(modes)}}


BRIGHTNESS_MODES = ("brightness", "color_temp", "hs", "xy", "rgb", "rgbw", "rgbww")
COLOR_MODES = ("hs", "xy", "rgb", "rgbw", "rgbww")
CT_MODES = ("color_temp", "hs", "xy", "rgb", "rgbw", "rgbww")


def _rgb(value: Any) -> list[int]:
    items = v.list_of(v.number(0, 255, integer=True))(value)
    if len(items) != 3:
        raise v.Invalid("length of value must be exactly 3")
    return items


def _pair(value: Any) -> list[float]:
    items = v.list_of(v.number())(value)
    if len(items) != 2:
        raise v.Invalid("length of value must be exactly 2")
    return items


TRANSITION = Field(
    "transition",
    v.number(0, 6553),
    _num(0, 300, unit="seconds"),
    "Transition",
    "Seconds the change takes.",
    filter=_features(32),
)
_BRIGHT = "brightness"
_COLOR = "Color descriptors"

LIGHT_ON_FIELDS: tuple[Field | Section, ...] = (
    TRANSITION,
    Field(
        "rgb_color",
        _rgb,
        {"color_rgb": None},
        "Color",
        "Red, green and blue, 0-255 each.",
        example="[255, 100, 100]",
        filter=_color_modes(*COLOR_MODES),
        group=_COLOR,
    ),
    Field(
        "color_temp_kelvin",
        v.number(0, integer=True),
        {"color_temp": {"unit": "kelvin", "min": 2000, "max": 6500}},
        "Color temperature",
        "White colour temperature in kelvin.",
        filter=_color_modes(*CT_MODES),
        group=_COLOR,
    ),
    Field(
        "brightness_pct",
        v.number(0, 100),
        _num(0, 100, unit="%"),
        "Brightness",
        "Brightness in percent; 0 turns the light off.",
        filter=_color_modes(*BRIGHTNESS_MODES),
        group=_BRIGHT,
    ),
    Field(
        "brightness_step_pct",
        v.number(-100, 100, clamp=True),
        _num(-100, 100, unit="%"),
        "Brightness step",
        "Change the brightness by this many percent.",
        filter=_color_modes(*BRIGHTNESS_MODES),
        group=_BRIGHT,
    ),
    Field("effect", v.string, TEXT, "Effect", "Light effect.", filter=_features(4)),
    Section(
        "advanced_fields",
        (
            Field(
                "color_name",
                v.string,
                _select(["red", "green", "blue", "white", "warmwhite", "orange", "yellow", "purple", "pink", "cyan"]),
                "Color name",
                "A colour name such as red or warm white.",
                filter=_color_modes(*COLOR_MODES),
                group=_COLOR,
                advanced=True,
            ),
            Field(
                "hs_color",
                _pair,
                {"object": None},
                "Hue/Sat color",
                "Hue (0-360) and saturation (0-100).",
                example="[300, 70]",
                filter=_color_modes(*COLOR_MODES),
                group=_COLOR,
                advanced=True,
            ),
            Field(
                "xy_color",
                _pair,
                {"object": None},
                "XY-color",
                "CIE xy colour.",
                example="[0.52, 0.43]",
                filter=_color_modes(*COLOR_MODES),
                group=_COLOR,
                advanced=True,
            ),
            Field(
                "brightness",
                v.number(0, 255, integer=True, clamp=True),
                _num(0, 255),
                "Brightness value",
                "Brightness from 0 to 255.",
                filter=_color_modes(*BRIGHTNESS_MODES),
                group=_BRIGHT,
                advanced=True,
            ),
            Field(
                "brightness_step",
                v.number(-255, 255, integer=True, clamp=True),
                _num(-225, 255),
                "Brightness step value",
                "Change the brightness by this much.",
                filter=_color_modes(*BRIGHTNESS_MODES),
                group=_BRIGHT,
                advanced=True,
            ),
            Field(
                "flash",
                v.one_of(["short", "long"]),
                _select(["long", "short"]),
                "Flash",
                "Make the light flash.",
                filter=_features(8),
                advanced=True,
            ),
        ),
    ),
)

CLIMATE_HVAC_MODES = ("off", "auto", "cool", "dry", "fan_only", "heat_cool", "heat")


def HVAC_MODE(value: Any) -> str:
    """vol.Coerce(HVACMode)."""
    if value not in CLIMATE_HVAC_MODES:
        raise v.Invalid("expected HVACMode")
    return str(value)


_TEMP = _num(0, 250, step=0.1, mode="box")
_ID = v.string

# Feature flags (HA's *EntityFeature enums).
COVER_OPEN, COVER_CLOSE, COVER_SET_POSITION, COVER_STOP = 1, 2, 4, 8
COVER_OPEN_TILT, COVER_CLOSE_TILT, COVER_STOP_TILT, COVER_SET_TILT = 16, 32, 64, 128
CLIMATE_TARGET_TEMP, CLIMATE_TARGET_RANGE, CLIMATE_TARGET_HUMIDITY = 1, 2, 4
CLIMATE_FAN_MODE, CLIMATE_PRESET, CLIMATE_SWING, CLIMATE_OFF, CLIMATE_ON = 8, 16, 32, 128, 256
CLIMATE_SWING_HORIZONTAL = 512
MP_PAUSE, MP_SEEK, MP_VOLUME_SET, MP_VOLUME_MUTE, MP_PREVIOUS, MP_NEXT = 1, 2, 4, 8, 16, 32
MP_ON, MP_OFF, MP_PLAY_MEDIA, MP_VOLUME_STEP, MP_SOURCE, MP_STOP = 128, 256, 512, 1024, 2048, 4096
MP_PLAY, MP_SHUFFLE, MP_SOUND_MODE, MP_REPEAT, MP_GROUPING = 16384, 32768, 65536, 262144, 524288
FAN_SPEED, FAN_OSCILLATE, FAN_DIRECTION, FAN_PRESET, FAN_OFF, FAN_ON = 1, 2, 4, 8, 16, 32
LOCK_OPEN = 1
LIGHT_EFFECT, LIGHT_FLASH, LIGHT_TRANSITION = 4, 8, 32
VACUUM_PAUSE, VACUUM_STOP, VACUUM_RETURN, VACUUM_FAN_SPEED, VACUUM_LOCATE = 4, 8, 16, 32, 512
VACUUM_BATTERY, VACUUM_SEND_COMMAND, VACUUM_CLEAN_SPOT = 64, 256, 1024
VACUUM_STATE, VACUUM_START = 4096, 8192
VALVE_OPEN, VALVE_CLOSE, VALVE_SET_POSITION, VALVE_STOP = 1, 2, 4, 8
TODO_CREATE, TODO_DELETE, TODO_UPDATE, TODO_MOVE = 1, 2, 4, 8
TODO_DUE_DATE, TODO_DUE_DATETIME, TODO_DESCRIPTION = 16, 32, 64
CALENDAR_CREATE, CALENDAR_DELETE, CALENDAR_UPDATE = 1, 2, 4
ALARM_HOME, ALARM_AWAY, ALARM_NIGHT, ALARM_TRIGGER, ALARM_BYPASS, ALARM_VACATION = 1, 2, 4, 8, 16, 32
WEATHER_DAILY, WEATHER_HOURLY, WEATHER_TWICE_DAILY = 1, 2, 4
UPDATE_INSTALL, UPDATE_SPECIFIC_VERSION, UPDATE_PROGRESS, UPDATE_BACKUP = 1, 2, 4, 8


def _reload(domain: str, what: str) -> ServiceSpec:
    return ServiceSpec(domain, "reload", "Reload", f"Reloads {what} from the YAML configuration.", target=False)


def _on_off_toggle(
    domain: str,
    noun: str,
    features: dict[str, tuple[int, ...]] | None = None,
) -> tuple[ServiceSpec, ...]:
    features = features or {}
    return (
        ServiceSpec(domain, "turn_on", "Turn on", f"Turns {noun} on.", features=features.get("turn_on")),
        ServiceSpec(domain, "turn_off", "Turn off", f"Turns {noun} off.", features=features.get("turn_off")),
        ServiceSpec(domain, "toggle", "Toggle", f"Toggles {noun} on or off.", features=features.get("toggle")),
    )


_SELECT_NAV = (
    ServiceSpec("select", "select_first", "First", "Selects the first option."),
    ServiceSpec("select", "select_last", "Last", "Selects the last option."),
    ServiceSpec(
        "select",
        "select_next",
        "Next",
        "Selects the next option.",
        (Field("cycle", v.boolean, BOOLEAN, "Cycle", "Wrap around after the last option.", default=True),),
    ),
    ServiceSpec(
        "select",
        "select_previous",
        "Previous",
        "Selects the previous option.",
        (Field("cycle", v.boolean, BOOLEAN, "Cycle", "Wrap around before the first option.", default=True),),
    ),
    ServiceSpec(
        "select",
        "select_option",
        "Select",
        "Selects an option.",
        (Field("option", v.string, TEXT, "Option", "The option to select.", required=True, example='"Item A"'),),
    ),
)


def _input_select_nav() -> tuple[ServiceSpec, ...]:
    specs = tuple(ServiceSpec("input_select", s.service, s.name, s.description, s.fields) for s in _SELECT_NAV)
    return (
        *specs,
        ServiceSpec(
            "input_select",
            "set_options",
            "Set options",
            "Replaces the list of options.",
            (
                Field(
                    "options",
                    v.list_of(v.string, coerce=True, min_len=1),
                    TEXT,
                    "Options",
                    "The new options.",
                    required=True,
                    example='["Item A", "Item B"]',
                ),
            ),
        ),
        _reload("input_select", "input selects"),
    )


TODO_STATUSES = ("needs_action", "completed")


def _non_empty(value: Any) -> str:
    """vol.All(cv.string, vol.Length(min=1))."""
    text = v.string(value)
    if not text:
        raise v.Invalid("length of value must be at least 1")
    return text


def _or_none(validator: v.Validator) -> v.Validator:
    """vol.Any(validator, None): clearing a field is allowed."""
    return lambda value: None if value is None else validator(value)


def _dict_or_list(value: Any) -> Any:
    """vol.Any(dict, cv.ensure_list)."""
    return value if isinstance(value, (dict, list)) else [value]


_TODO_ITEM_FIELDS = (
    Field(
        "due_date", _or_none(v.date_value), {"date": None}, "Due date", "The day the item is due.", example="2023-11-17"
    ),
    Field(
        "due_datetime",
        _or_none(v.datetime_value),
        {"datetime": None},
        "Due date and time",
        "The moment the item is due.",
        example="2023-11-17 13:30:00",
    ),
    Field(
        "description",
        _or_none(v.string),
        TEXT,
        "Description",
        "Details of the item.",
        example="A more complete description of the to-do item than that provided by the summary.",
    ),
)


def _event_in(value: Any) -> dict[str, int]:
    """calendar.create_event `in`: {days: n} or {weeks: n}."""
    data = v.dictionary(value)
    unknown = set(data) - {"days", "weeks"}
    if unknown:
        raise v.Invalid("extra keys not allowed", (sorted(unknown)[0],))
    if len(data) > 1:
        raise v.Invalid("two or more values in the same group of exclusion 'event_types'", (v.Group("event_types"),))
    return {key: v.number(0, integer=True)(amount) for key, amount in data.items()}


def _min_duration(start: str, end: str) -> Check:
    """Events created in HA last at least a second."""

    def check(data: dict[str, Any]) -> None:
        if start in data and end in data and not data[end] > data[start]:
            raise v.Invalid(f"Expected minimum event duration of 0:00:01 ({data[start]}, {data[end]})")

    return check


def _positive_period(data: dict[str, Any]) -> None:
    """calendar.get_events: a positive duration, or an end after the start."""
    duration = data.get("duration")
    if duration is not None:
        if duration.total_seconds() <= 0:
            raise v.Invalid(f"Expected positive duration ({duration})")
        return
    start, end = data.get("start_date_time"), data.get("end_date_time")
    if start is not None and end is not None and start >= end:
        raise v.Invalid(f"Expected end time to be after start time ({start}, {end})")


def _alarm_services() -> tuple[ServiceSpec, ...]:
    """alarm_control_panel: every service takes an optional code; disarm needs no feature."""
    code = (Field("code", v.string, TEXT, "Code", "Code to arm or disarm the alarm.", example="1234"),)
    return tuple(
        ServiceSpec("alarm_control_panel", service, name, description, code, features=(feature,) if feature else None)
        for service, name, description, feature in (
            ("alarm_disarm", "Disarm", "Disarms the alarm.", 0),
            ("alarm_arm_home", "Arm home", "Arms the alarm in home mode.", ALARM_HOME),
            ("alarm_arm_away", "Arm away", "Arms the alarm in away mode.", ALARM_AWAY),
            ("alarm_arm_night", "Arm night", "Arms the alarm in night mode.", ALARM_NIGHT),
            ("alarm_arm_vacation", "Arm vacation", "Arms the alarm in vacation mode.", ALARM_VACATION),
            (
                "alarm_arm_custom_bypass",
                "Arm with custom bypass",
                "Arms the alarm while bypassing some zones.",
                ALARM_BYPASS,
            ),
            ("alarm_trigger", "Trigger", "Triggers the alarm.", ALARM_TRIGGER),
        )
    )


CATALOGUE: tuple[ServiceSpec, ...] = (
    # --- homeassistant (core) --------------------------------------------------------------
    ServiceSpec(
        "homeassistant",
        "turn_on",
        "Generic turn on",
        "Turns on devices of any domain.",
        target=False,
        extra=True,
        target_domains=(),
    ),
    ServiceSpec(
        "homeassistant",
        "turn_off",
        "Generic turn off",
        "Turns off devices of any domain.",
        target=False,
        extra=True,
        target_domains=(),
    ),
    ServiceSpec(
        "homeassistant",
        "toggle",
        "Generic toggle",
        "Toggles devices of any domain on or off.",
        target=False,
        extra=True,
        target_domains=(),
    ),
    ServiceSpec(
        "homeassistant",
        "update_entity",
        "Update entity",
        "Asks entities to refresh their data.",
        (
            Field(
                "entity_id",
                v.entity_ids,
                {"entity": {"multiple": True}},
                "Entities",
                "Entities to refresh.",
                required=True,
            ),
        ),
        target=False,
    ),
    ServiceSpec("homeassistant", "restart", "Restart", "Restarts Home Assistant.", target=False),
    ServiceSpec("homeassistant", "stop", "Stop", "Stops Home Assistant.", target=False),
    ServiceSpec(
        "homeassistant",
        "check_config",
        "Check configuration",
        "Checks the YAML configuration for errors.",
        target=False,
    ),
    ServiceSpec(
        "homeassistant",
        "reload_all",
        "Reload all",
        "Reloads every YAML configuration that can be reloaded.",
        target=False,
    ),
    ServiceSpec(
        "homeassistant",
        "reload_core_config",
        "Reload core configuration",
        "Reloads the core configuration from YAML.",
        target=False,
    ),
    # --- light ------------------------------------------------------------------------------
    ServiceSpec(
        "light", "turn_on", "Turn on", "Turns lights on and sets their brightness, colour or effect.", LIGHT_ON_FIELDS
    ),
    ServiceSpec(
        "light",
        "turn_off",
        "Turn off",
        "Turns lights off.",
        (
            TRANSITION,
            Field(
                "flash",
                v.one_of(["short", "long"]),
                _select(["long", "short"]),
                "Flash",
                "Make the light flash.",
                filter=_features(8),
                advanced=True,
            ),
        ),
    ),
    ServiceSpec("light", "toggle", "Toggle", "Toggles lights on or off.", LIGHT_ON_FIELDS),
    # --- switch, fan, climate, cover, lock ---------------------------------------------------
    *_on_off_toggle("switch", "a switch"),
    ServiceSpec(
        "fan",
        "turn_on",
        "Turn on",
        "Turns a fan on.",
        (
            Field(
                "percentage",
                v.number(0, 100, integer=True),
                _num(0, 100, unit="%"),
                "Percentage",
                "Fan speed.",
                filter=_features(FAN_SPEED),
            ),
            Field(
                "preset_mode",
                v.string,
                TEXT,
                "Preset mode",
                "Preset mode.",
                example="auto",
                filter=_features(FAN_PRESET),
            ),
        ),
        features=(FAN_ON,),
    ),
    ServiceSpec("fan", "turn_off", "Turn off", "Turns a fan off.", features=(FAN_OFF,)),
    ServiceSpec("fan", "toggle", "Toggle", "Toggles a fan on or off.", features=(FAN_OFF, FAN_ON)),
    ServiceSpec(
        "fan",
        "set_percentage",
        "Set speed",
        "Sets the speed of a fan.",
        (
            Field(
                "percentage",
                v.number(0, 100, integer=True),
                _num(0, 100, unit="%"),
                "Percentage",
                "Fan speed.",
                required=True,
            ),
        ),
        features=(FAN_SPEED,),
    ),
    ServiceSpec(
        "fan",
        "increase_speed",
        "Increase speed",
        "Makes a fan faster.",
        (
            Field(
                "percentage_step",
                v.number(0, 100, integer=True),
                _num(0, 100, unit="%"),
                "Increment",
                "Percent to add.",
                advanced=True,
            ),
        ),
        features=(FAN_SPEED,),
    ),
    ServiceSpec(
        "fan",
        "decrease_speed",
        "Decrease speed",
        "Makes a fan slower.",
        (
            Field(
                "percentage_step",
                v.number(0, 100, integer=True),
                _num(0, 100, unit="%"),
                "Decrement",
                "Percent to remove.",
                advanced=True,
            ),
        ),
        features=(FAN_SPEED,),
    ),
    ServiceSpec(
        "fan",
        "oscillate",
        "Oscillate",
        "Turns oscillation on or off.",
        (Field("oscillating", v.boolean, BOOLEAN, "Oscillating", "Oscillate or not.", required=True),),
        features=(FAN_OSCILLATE,),
    ),
    ServiceSpec(
        "fan",
        "set_direction",
        "Set direction",
        "Sets the rotation direction.",
        (
            Field(
                "direction", v.string, _select(["forward", "reverse"], "direction"), "Direction", "Rotation direction."
            ),
        ),
        features=(FAN_DIRECTION,),
    ),
    ServiceSpec(
        "fan",
        "set_preset_mode",
        "Set preset mode",
        "Sets a preset mode.",
        (Field("preset_mode", v.string, TEXT, "Preset mode", "Preset mode.", required=True, example="auto"),),
        features=(FAN_SPEED, FAN_PRESET),
    ),
    ServiceSpec("climate", "turn_on", "Turn on", "Turns climate device on.", features=(CLIMATE_ON,)),
    ServiceSpec("climate", "turn_off", "Turn off", "Turns climate device off.", features=(CLIMATE_OFF,)),
    ServiceSpec(
        "climate", "toggle", "Toggle", "Toggles climate device on or off.", features=(CLIMATE_OFF + CLIMATE_ON,)
    ),
    ServiceSpec(
        "climate",
        "set_temperature",
        "Set target temperature",
        "Sets the temperature setpoint.",
        (
            Field(
                "temperature",
                v.number(),
                _TEMP,
                "Target temperature",
                "The setpoint.",
                filter=_features(CLIMATE_TARGET_TEMP),
            ),
            Field(
                "target_temp_high",
                v.number(),
                _TEMP,
                "Upper target temperature",
                "Upper setpoint of a range.",
                filter=_features(CLIMATE_TARGET_RANGE),
                advanced=True,
            ),
            Field(
                "target_temp_low",
                v.number(),
                _TEMP,
                "Lower target temperature",
                "Lower setpoint of a range.",
                filter=_features(CLIMATE_TARGET_RANGE),
                advanced=True,
            ),
            Field(
                "hvac_mode",
                HVAC_MODE,
                _select(CLIMATE_HVAC_MODES, "hvac_mode"),
                "HVAC mode",
                "Operation mode to switch to as well.",
            ),
        ),
        features=(CLIMATE_TARGET_TEMP, CLIMATE_TARGET_RANGE),
        pre=(v.at_least_one("temperature", "target_temp_high", "target_temp_low"),),
        post=(v.together("target_temp_high", "target_temp_low", group="temperature"),),
    ),
    ServiceSpec(
        "climate",
        "set_hvac_mode",
        "Set HVAC mode",
        "Sets the operation mode.",
        (
            Field(
                "hvac_mode",
                HVAC_MODE,
                _select(CLIMATE_HVAC_MODES, "hvac_mode"),
                "HVAC mode",
                "Operation mode.",
                required=True,
            ),
        ),
    ),
    ServiceSpec(
        "climate",
        "set_preset_mode",
        "Set preset mode",
        "Sets a preset mode.",
        (Field("preset_mode", v.string, TEXT, "Preset mode", "Preset mode.", required=True, example="away"),),
        features=(CLIMATE_PRESET,),
    ),
    ServiceSpec(
        "climate",
        "set_fan_mode",
        "Set fan mode",
        "Sets the fan mode.",
        (Field("fan_mode", v.string, TEXT, "Fan mode", "Fan mode.", required=True, example="low"),),
        features=(CLIMATE_FAN_MODE,),
    ),
    ServiceSpec(
        "climate",
        "set_swing_mode",
        "Set swing mode",
        "Sets the swing mode.",
        (Field("swing_mode", v.string, TEXT, "Swing mode", "Swing mode.", required=True, example="on"),),
        features=(CLIMATE_SWING,),
    ),
    ServiceSpec(
        "climate",
        "set_swing_horizontal_mode",
        "Set horizontal swing mode",
        "Sets the horizontal swing mode.",
        (
            Field(
                "swing_horizontal_mode",
                v.string,
                TEXT,
                "Horizontal swing mode",
                "Horizontal swing mode.",
                required=True,
                example="on",
            ),
        ),
        features=(CLIMATE_SWING_HORIZONTAL,),
    ),
    ServiceSpec(
        "climate",
        "set_humidity",
        "Set target humidity",
        "Sets the humidity setpoint.",
        (
            Field(
                "humidity",
                v.number(integer=True),
                _num(30, 99, unit="%"),
                "Humidity",
                "Target humidity.",
                required=True,
            ),
        ),
        features=(CLIMATE_TARGET_HUMIDITY,),
    ),
    ServiceSpec("cover", "open_cover", "Open", "Opens a cover.", features=(COVER_OPEN,)),
    ServiceSpec("cover", "close_cover", "Close", "Closes a cover.", features=(COVER_CLOSE,)),
    ServiceSpec("cover", "stop_cover", "Stop", "Stops a moving cover.", features=(COVER_STOP,)),
    ServiceSpec(
        "cover", "toggle", "Toggle", "Opens a closed cover or closes an open one.", features=(COVER_OPEN | COVER_CLOSE,)
    ),
    ServiceSpec(
        "cover",
        "set_cover_position",
        "Set position",
        "Moves a cover to a position.",
        (
            Field(
                "position",
                v.number(0, 100, integer=True),
                _num(0, 100, unit="%"),
                "Position",
                "Target position, 0 closed and 100 open.",
                required=True,
            ),
        ),
        features=(COVER_SET_POSITION,),
    ),
    ServiceSpec("cover", "open_cover_tilt", "Open tilt", "Tilts a cover open.", features=(COVER_OPEN_TILT,)),
    ServiceSpec("cover", "close_cover_tilt", "Close tilt", "Tilts a cover closed.", features=(COVER_CLOSE_TILT,)),
    ServiceSpec(
        "cover",
        "set_cover_tilt_position",
        "Set tilt position",
        "Moves a cover's tilt to a position.",
        (
            Field(
                "tilt_position",
                v.number(0, 100, integer=True),
                _num(0, 100, unit="%"),
                "Tilt position",
                "Target tilt position.",
                required=True,
            ),
        ),
        features=(COVER_SET_TILT,),
    ),
    ServiceSpec(
        "lock",
        "lock",
        "Lock",
        "Locks a lock.",
        (Field("code", v.string, TEXT, "Code", "Code to lock with.", example="1234"),),
    ),
    ServiceSpec(
        "lock",
        "unlock",
        "Unlock",
        "Unlocks a lock.",
        (Field("code", v.string, TEXT, "Code", "Code to unlock with.", example="1234"),),
    ),
    ServiceSpec(
        "lock",
        "open",
        "Open",
        "Opens (unlatches) a lock.",
        (Field("code", v.string, TEXT, "Code", "Code to open with.", example="1234"),),
        features=(LOCK_OPEN,),
    ),
    # --- media_player ------------------------------------------------------------------------
    ServiceSpec("media_player", "turn_on", "Turn on", "Powers a media player on.", features=(MP_ON,)),
    ServiceSpec("media_player", "turn_off", "Turn off", "Powers a media player off.", features=(MP_OFF,)),
    ServiceSpec("media_player", "toggle", "Toggle", "Toggles a media player's power.", features=(MP_ON | MP_OFF,)),
    ServiceSpec(
        "media_player", "volume_up", "Turn up volume", "Turns the volume up.", features=(MP_VOLUME_SET, MP_VOLUME_STEP)
    ),
    ServiceSpec(
        "media_player",
        "volume_down",
        "Turn down volume",
        "Turns the volume down.",
        features=(MP_VOLUME_SET, MP_VOLUME_STEP),
    ),
    ServiceSpec(
        "media_player",
        "volume_set",
        "Set volume",
        "Sets the volume level.",
        (
            Field(
                "volume_level",
                v.number(0, 1),
                _num(0, 1, step=0.01),
                "Level",
                "Volume from 0 (silent) to 1 (loudest).",
                required=True,
            ),
        ),
        features=(MP_VOLUME_SET,),
    ),
    ServiceSpec(
        "media_player",
        "volume_mute",
        "Mute/unmute volume",
        "Mutes or unmutes.",
        (Field("is_volume_muted", v.boolean, BOOLEAN, "Muted", "Mute or not.", required=True),),
        features=(MP_VOLUME_MUTE,),
    ),
    ServiceSpec(
        "media_player", "media_play_pause", "Play/Pause", "Toggles play and pause.", features=(MP_PLAY | MP_PAUSE,)
    ),
    ServiceSpec("media_player", "media_play", "Play", "Starts playing.", features=(MP_PLAY,)),
    ServiceSpec("media_player", "media_pause", "Pause", "Pauses.", features=(MP_PAUSE,)),
    ServiceSpec("media_player", "media_stop", "Stop", "Stops playing.", features=(MP_STOP,)),
    ServiceSpec("media_player", "media_next_track", "Next", "Skips to the next track.", features=(MP_NEXT,)),
    ServiceSpec(
        "media_player", "media_previous_track", "Previous", "Goes back to the previous track.", features=(MP_PREVIOUS,)
    ),
    ServiceSpec(
        "media_player",
        "select_source",
        "Select source",
        "Switches the input source.",
        (Field("source", v.string, TEXT, "Source", "Name of the source.", required=True, example="HDMI 1"),),
        features=(MP_SOURCE,),
    ),
    ServiceSpec(
        "media_player",
        "play_media",
        "Play media",
        "Plays the given media.",
        (
            Field(
                "media_content_id",
                v.string,
                TEXT,
                "Content ID",
                "What to play.",
                required=True,
                example="https://example.com/radio.mp3",
            ),
            Field(
                "media_content_type", v.string, TEXT, "Content type", "Kind of media.", required=True, example="music"
            ),
            Field(
                "enqueue",
                v.one_of(["play", "next", "add", "replace"]),
                _select(["play", "next", "add", "replace"], "enqueue"),
                "Enqueue",
                "Play now or queue it.",
            ),
            Field("announce", v.boolean, BOOLEAN, "Announce", "Play as an announcement.", example="true"),
        ),
        features=(MP_PLAY_MEDIA,),
    ),
    ServiceSpec(
        "media_player",
        "shuffle_set",
        "Set shuffle",
        "Turns shuffle on or off.",
        (Field("shuffle", v.boolean, BOOLEAN, "Shuffle mode", "Shuffle or not.", required=True),),
        features=(MP_SHUFFLE,),
    ),
    ServiceSpec(
        "media_player",
        "repeat_set",
        "Set repeat",
        "Sets the repeat mode.",
        (
            Field(
                "repeat",
                v.one_of(["off", "all", "one"]),
                _select(["off", "all", "one"], "repeat"),
                "Repeat mode",
                "Repeat nothing, everything or one item.",
                required=True,
            ),
        ),
        features=(MP_REPEAT,),
    ),
    ServiceSpec(
        "media_player",
        "join",
        "Join",
        "Groups players for synchronous playback.",
        (
            Field(
                "group_members",
                v.entity_ids,
                {"entity": {"multiple": True, "domain": "media_player"}},
                "Group members",
                "Players to join.",
                required=True,
            ),
        ),
        features=(MP_GROUPING,),
    ),
    ServiceSpec("media_player", "unjoin", "Unjoin", "Removes a player from its group.", features=(MP_GROUPING,)),
    # --- vacuum, weather, scene, script, automation -----------------------------------------
    ServiceSpec("vacuum", "start", "Start", "Starts cleaning.", features=(VACUUM_START,)),
    ServiceSpec("vacuum", "pause", "Pause", "Pauses cleaning.", features=(VACUUM_PAUSE,)),
    ServiceSpec("vacuum", "stop", "Stop", "Stops cleaning.", features=(VACUUM_STOP,)),
    ServiceSpec(
        "vacuum", "return_to_base", "Return to dock", "Sends the vacuum to its dock.", features=(VACUUM_RETURN,)
    ),
    ServiceSpec("vacuum", "locate", "Locate", "Makes the vacuum beep.", features=(VACUUM_LOCATE,)),
    ServiceSpec(
        "vacuum",
        "set_fan_speed",
        "Set fan speed",
        "Sets the suction power.",
        (Field("fan_speed", v.string, TEXT, "Fan speed", "Suction level.", required=True, example="quiet"),),
        features=(VACUUM_FAN_SPEED,),
    ),
    ServiceSpec(
        "vacuum", "clean_spot", "Clean spot", "Cleans the area around the vacuum.", features=(VACUUM_CLEAN_SPOT,)
    ),
    ServiceSpec(
        "vacuum",
        "send_command",
        "Send command",
        "Sends a raw command to the vacuum.",
        (
            Field("command", v.string, TEXT, "Command", "Command to send.", required=True, example="set_dnd_timer"),
            Field(
                "params",
                _dict_or_list,
                {"object": None},
                "Parameters",
                "Command parameters.",
                example='{ "key": "value" }',
            ),
        ),
        features=(VACUUM_SEND_COMMAND,),
    ),
    # --- valve, alarm control panel, to-do lists, calendars ----------------------------------
    ServiceSpec("valve", "open_valve", "Open", "Opens a valve.", features=(VALVE_OPEN,)),
    ServiceSpec("valve", "close_valve", "Close", "Closes a valve.", features=(VALVE_CLOSE,)),
    ServiceSpec(
        "valve",
        "set_valve_position",
        "Set position",
        "Moves a valve to a position.",
        (
            Field(
                "position",
                v.number(0, 100, integer=True),
                _num(0, 100, unit="%"),
                "Position",
                "Target position, 0 closed and 100 open.",
                required=True,
            ),
        ),
        features=(VALVE_SET_POSITION,),
    ),
    ServiceSpec("valve", "stop_valve", "Stop", "Stops a moving valve.", features=(VALVE_STOP,)),
    ServiceSpec(
        "valve", "toggle", "Toggle", "Opens a closed valve or closes an open one.", features=(VALVE_OPEN | VALVE_CLOSE,)
    ),
    *_alarm_services(),
    ServiceSpec(
        "todo",
        "add_item",
        "Add item",
        "Adds an item to a to-do list.",
        (
            Field(
                "item",
                _non_empty,
                TEXT,
                "Item name",
                "Name of the item.",
                required=True,
                example="Submit income tax return",
            ),
            *_TODO_ITEM_FIELDS,
        ),
        features=(TODO_CREATE,),
        post=(v.at_most_one("due_date", "due_datetime"),),
    ),
    ServiceSpec(
        "todo",
        "update_item",
        "Update item",
        "Renames an item or changes its status.",
        (
            Field(
                "item",
                _non_empty,
                TEXT,
                "Item name",
                "Name or id of the item.",
                required=True,
                example="Submit income tax return",
            ),
            Field("rename", _non_empty, TEXT, "Rename item", "The new name.", example="Something"),
            Field(
                "status",
                v.one_of(TODO_STATUSES),
                _select(TODO_STATUSES, "status"),
                "Set status",
                "needs_action or completed.",
                example="needs_action",
            ),
            *_TODO_ITEM_FIELDS,
        ),
        features=(TODO_UPDATE,),
        post=(
            v.at_most_one("due_date", "due_datetime"),
            v.at_least_one("rename", "status", "due_date", "due_datetime", "description"),
        ),
    ),
    ServiceSpec(
        "todo",
        "remove_item",
        "Remove item",
        "Removes items from a to-do list.",
        (
            Field(
                "item", v.list_of(v.string, coerce=True), TEXT, "Item name", "Names or ids of the items.", required=True
            ),
        ),
        features=(TODO_DELETE,),
    ),
    ServiceSpec(
        "todo",
        "get_items",
        "Get items",
        "Returns the items of to-do lists.",
        (
            Field(
                "status",
                v.list_of(v.one_of(TODO_STATUSES), coerce=True),
                {"select": {"options": list(TODO_STATUSES), "translation_key": "status", "multiple": True}},
                "Status",
                "Only items with these statuses.",
                example="needs_action",
            ),
        ),
        response="only",
    ),
    ServiceSpec(
        "todo",
        "remove_completed_items",
        "Remove completed items",
        "Removes every completed item.",
        features=(TODO_DELETE,),
    ),
    ServiceSpec(
        "calendar",
        "create_event",
        "Create event",
        "Adds a new calendar event.",
        (
            Field(
                "summary", v.string, TEXT, "Summary", "Title of the event.", required=True, example="Department Party"
            ),
            Field(
                "description",
                v.string,
                TEXT,
                "Description",
                "Details of the event.",
                example="Meeting to provide technical review for 'Phoenix' design.",
            ),
            Field(
                "start_date_time",
                v.datetime_value,
                {"datetime": None},
                "Start time",
                "When a timed event starts.",
                example="2022-03-22 20:00:00",
            ),
            Field(
                "end_date_time",
                v.datetime_value,
                {"datetime": None},
                "End time",
                "When a timed event ends (exclusive).",
                example="2022-03-22 22:00:00",
            ),
            Field(
                "start_date",
                v.date_value,
                {"date": None},
                "Start date",
                "The first day of an all-day event.",
                example="2022-03-22",
            ),
            Field(
                "end_date",
                v.date_value,
                {"date": None},
                "End date",
                "The day after the last day of an all-day event.",
                example="2022-03-23",
            ),
            Field(
                "in",
                _event_in,
                {"object": None},
                "In",
                "Days or weeks from now.",
                example='{"days": 2} or {"weeks": 2}',
            ),
            Field(
                "location",
                v.string,
                TEXT,
                "Location",
                "Where the event takes place.",
                example="Conference Room - F123, Bldg. 002",
            ),
        ),
        features=(CALENDAR_CREATE,),
        pre=(
            v.at_least_one("start_date", "start_date_time", "in"),
            v.at_most_one("start_date", "start_date_time", "in"),
        ),
        post=(
            v.together("start_date", "end_date", group="dates", message="Start and end dates must both be specified"),
            v.together(
                "start_date_time",
                "end_date_time",
                group="datetimes",
                message="Start and end datetimes must both be specified",
            ),
            _min_duration("start_date", "end_date"),
            _min_duration("start_date_time", "end_date_time"),
        ),
    ),
    ServiceSpec(
        "calendar",
        "get_events",
        "Get events",
        "Returns the events in a period.",
        (
            Field(
                "start_date_time",
                v.datetime_value,
                {"datetime": None},
                "Start time",
                "Start of the period; now if omitted.",
                example="2022-03-22 20:00:00",
            ),
            Field(
                "end_date_time",
                v.datetime_value,
                {"datetime": None},
                "End time",
                "End of the period (exclusive).",
                example="2022-03-22 22:00:00",
            ),
            Field(
                "duration",
                v.time_period,
                {"duration": None},
                "Duration",
                "Length of the period from the start.",
                example='{"hours": 24}',
            ),
        ),
        response="only",
        pre=(v.at_least_one("end_date_time", "duration"), v.at_most_one("end_date_time", "duration")),
        post=(_positive_period,),
    ),
    ServiceSpec(
        "weather",
        "get_forecasts",
        "Get forecasts",
        "Returns the weather forecast.",
        (
            Field(
                "type",
                v.one_of(["daily", "hourly", "twice_daily"]),
                _select(["daily", "hourly", "twice_daily"], "forecast_type"),
                "Forecast type",
                "Forecast period.",
                required=True,
            ),
        ),
        features=(WEATHER_DAILY, WEATHER_HOURLY, WEATHER_TWICE_DAILY),
        response="only",
    ),
    ServiceSpec(
        "scene",
        "turn_on",
        "Activate",
        "Activates a scene.",
        (
            Field(
                "transition", v.number(0, 6553), _num(0, 300, unit="seconds"), "Transition", "Seconds the change takes."
            ),
        ),
    ),
    _reload("scene", "scenes"),
    ServiceSpec(
        "script",
        "turn_on",
        "Turn on",
        "Starts a script.",
        (Field("variables", v.mapping, {"object": None}, "Variables", "Variables for the script."),),
    ),
    ServiceSpec("script", "turn_off", "Turn off", "Stops a running script."),
    ServiceSpec("script", "toggle", "Toggle", "Starts a script or stops it when running."),
    _reload("script", "scripts"),
    ServiceSpec(
        "automation",
        "trigger",
        "Trigger",
        "Runs the actions of an automation.",
        (
            Field(
                "skip_condition",
                v.boolean,
                BOOLEAN,
                "Skip conditions",
                "Run even if the conditions do not hold.",
                default=True,
            ),
        ),
    ),
    ServiceSpec("automation", "turn_on", "Turn on", "Enables an automation."),
    ServiceSpec(
        "automation",
        "turn_off",
        "Turn off",
        "Disables an automation.",
        (Field("stop_actions", v.boolean, BOOLEAN, "Stop actions", "Stop running actions too.", default=True),),
    ),
    ServiceSpec("automation", "toggle", "Toggle", "Enables or disables an automation."),
    _reload("automation", "automations"),
    # --- helpers -----------------------------------------------------------------------------
    *_on_off_toggle("input_boolean", "a boolean helper"),
    _reload("input_boolean", "input booleans"),
    ServiceSpec(
        "input_number",
        "set_value",
        "Set",
        "Sets the value.",
        (
            Field(
                "value",
                v.number(),
                _num(0, 9223372036854775807, step=0.001, mode="box"),
                "Value",
                "The new value.",
                required=True,
            ),
        ),
    ),
    ServiceSpec("input_number", "increment", "Increment", "Adds one step to the value."),
    ServiceSpec("input_number", "decrement", "Decrement", "Removes one step from the value."),
    _reload("input_number", "input numbers"),
    *_input_select_nav(),
    ServiceSpec(
        "input_text",
        "set_value",
        "Set",
        "Sets the text.",
        (Field("value", v.string, TEXT, "Value", "The new text.", required=True, example="This is an example text"),),
    ),
    _reload("input_text", "input texts"),
    ServiceSpec(
        "input_datetime",
        "set_datetime",
        "Set",
        "Sets the date and/or time.",
        (
            Field("date", v.string, TEXT, "Date", "The new date.", example='"2019-04-20"'),
            Field("time", v.string, {"time": None}, "Time", "The new time.", example='"05:04:20"'),
            Field("datetime", v.string, TEXT, "Date & time", "The new date and time.", example='"2019-04-20 05:04:20"'),
            Field(
                "timestamp",
                v.number(),
                _num(0, 9223372036854775807, mode="box"),
                "Timestamp",
                "The new date and time as a UNIX timestamp.",
            ),
        ),
    ),
    _reload("input_datetime", "input datetimes"),
    ServiceSpec("input_button", "press", "Press", "Presses the button helper."),
    _reload("input_button", "input buttons"),
    ServiceSpec("counter", "increment", "Increment", "Adds one step to a counter."),
    ServiceSpec("counter", "decrement", "Decrement", "Removes one step from a counter."),
    ServiceSpec("counter", "reset", "Reset", "Sets a counter back to its initial value."),
    ServiceSpec(
        "counter",
        "set_value",
        "Set",
        "Sets a counter to a value.",
        (
            Field(
                "value",
                v.number(0, integer=True),
                _num(0, 9223372036854775807, mode="box"),
                "Value",
                "The new value.",
                required=True,
            ),
        ),
    ),
    ServiceSpec(
        "timer",
        "start",
        "Start",
        "Starts or restarts a timer.",
        (Field("duration", v.string, TEXT, "Duration", "Run for this long instead.", example="00:01:00 or 60"),),
    ),
    ServiceSpec("timer", "pause", "Pause", "Pauses a running timer."),
    ServiceSpec("timer", "cancel", "Cancel", "Stops a timer without finishing it."),
    ServiceSpec("timer", "finish", "Finish", "Finishes a running timer now."),
    ServiceSpec(
        "timer",
        "change",
        "Change",
        "Adds time to or removes it from a running timer.",
        (
            Field(
                "duration",
                v.string,
                TEXT,
                "Duration",
                "Time to add (negative removes).",
                required=True,
                example="00:01:00, 60 or -60",
                default=0,
            ),
        ),
    ),
    _reload("timer", "timers"),
    ServiceSpec("schedule", "get_schedule", "Get schedule", "Returns the time ranges of schedules.", response="only"),
    _reload("schedule", "schedules"),
    # --- device configuration entities --------------------------------------------------------
    ServiceSpec("button", "press", "Press", "Presses a button."),
    ServiceSpec(
        "number",
        "set_value",
        "Set",
        "Sets the value of a number.",
        (Field("value", v.number(), TEXT, "Value", "The new value.", required=True, example=42),),
    ),
    *_SELECT_NAV,
    ServiceSpec(
        "update",
        "install",
        "Install update",
        "Installs an available update.",
        (
            Field("version", v.string, TEXT, "Version", "Version to install; latest if omitted.", example="1.0.0"),
            Field(
                "backup", v.boolean, BOOLEAN, "Backup", "Back up before installing.", filter=_features(UPDATE_BACKUP)
            ),
        ),
        features=(UPDATE_INSTALL,),
    ),
    ServiceSpec("update", "skip", "Skip update", "Marks the available update as skipped."),
    ServiceSpec("update", "clear_skipped", "Clear skipped update", "Forgets a skipped update."),
    # --- people, places, notifications -----------------------------------------------------------
    _reload("person", "persons"),
    _reload("zone", "zones"),
    ServiceSpec(
        "persistent_notification",
        "create",
        "Create",
        "Shows a notification in the sidebar.",
        (
            Field(
                "message",
                v.string,
                TEXT,
                "Message",
                "Body of the notification.",
                required=True,
                example="Please check your configuration.yaml.",
            ),
            Field("title", v.string, TEXT, "Title", "Title of the notification.", example="Test"),
            Field(
                "notification_id",
                v.string,
                TEXT,
                "Notification ID",
                "Id to replace or dismiss it later.",
                example="1234",
            ),
        ),
        target=False,
    ),
    ServiceSpec(
        "persistent_notification",
        "dismiss",
        "Dismiss",
        "Removes a notification.",
        (
            Field(
                "notification_id",
                v.string,
                TEXT,
                "Notification ID",
                "Id of the notification.",
                required=True,
                example="1234",
            ),
        ),
        target=False,
    ),
)


def notify_service(service: str, who: str) -> ServiceSpec:
    """A legacy notify service (`notify.<service>`), one per phone plus `notify.notify`."""
    return ServiceSpec(
        "notify",
        service,
        f"Send a notification via {service}",
        f"Sends a notification message to {who}.",
        (
            Field(
                "message",
                v.string,
                TEXT,
                "Message",
                "Body of the notification.",
                required=True,
                example="The garage door has been open for 10 minutes.",
            ),
            Field("title", v.string, TEXT, "Title", "Title of the notification.", example="Your Garage Door Friend"),
            Field(
                "target",
                v.any_value,
                {"object": None},
                "Target",
                "Recipients, if supported.",
                example="platform specific",
            ),
            Field(
                "data", v.any_value, {"object": None}, "Data", "Extra platform options.", example="platform specific"
            ),
        ),
        target=False,
    )


def script_service(
    object_id: str,
    name: str,
    description: str,
    fields: dict[str, Any],
) -> DescribedService:
    """`script.<object_id>`: described by the script's own fields, any data accepted (HA's
    SCRIPT_SERVICE_SCHEMA is `vol.Schema(dict)`), response optional."""
    return DescribedService(
        "script",
        object_id,
        {"name": name, "description": description, "fields": fields, "response": {"optional": True}},
    )


@dataclass(frozen=True, slots=True)
class DescribedService:
    """A service known only by its `get_services` description: a script's own service, or one
    registered at runtime (`SimHome.register_service`). Any data is accepted (HA registers
    these without a schema, or with `vol.Schema(dict)`) and a call changes nothing."""

    domain: str
    service: str
    description: dict[str, Any]
    target: bool = False
    features: tuple[int, ...] | None = None

    @property
    def response(self) -> Response:
        spec = self.description.get("response")
        if spec is None:
            return "none"
        return "optional" if spec.get("optional") else "only"

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        return v.mapping(data)

    def describe(self) -> dict[str, Any]:
        return self.description


AnyService = ServiceSpec | DescribedService
