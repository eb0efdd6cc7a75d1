"""Entity profiles: the initial state and attributes of each kind of simulated entity.

Attribute order follows HA's `Entity.__async_calculate_state` (helpers/entity.py): capability
attributes, then state attributes, then unit_of_measurement, device_class, icon, friendly_name,
supported_features. Per-domain shapes were checked against a running HA 2025.4.4 demo
(`get_states`), e.g. a light that is off keeps `brightness: null` and the colour keys.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import services as S
from .color import hs_to_rgb, kelvin_to_mired, kelvin_to_rgb, rgb_to_hs, rgb_to_xy
from .util import iso


@dataclass(slots=True)
class Built:
    """An entity's native description before the registry adds friendly_name and friends."""

    state: str
    capabilities: dict[str, Any] | None = None  # also the registry's `capabilities`
    attributes: dict[str, Any] = field(default_factory=dict)
    device_class: str | None = None
    unit: str | None = None
    supported_features: int | None = None


@dataclass(frozen=True, slots=True)
class Context:
    rng: random.Random
    now: float
    name: str  # display name of the entity, for profiles that echo it


Profile = Callable[[Context], Built]


def compose(
    built: Built, *, friendly_name: str | None, device_class: str | None = None, icon: str | None = None
) -> dict[str, Any]:
    """The state's attribute dict, in HA's order."""
    attrs: dict[str, Any] = dict(built.capabilities or {})
    attrs.update(built.attributes)
    if built.unit is not None:
        attrs["unit_of_measurement"] = built.unit
    if (effective_class := device_class or built.device_class) is not None:
        attrs["device_class"] = effective_class
    if icon is not None:
        attrs["icon"] = icon
    if friendly_name is not None:
        attrs["friendly_name"] = friendly_name
    if built.supported_features is not None:
        attrs["supported_features"] = built.supported_features
    return attrs


# --- lights ---------------------------------------------------------------------------------

MIN_KELVIN, MAX_KELVIN = 2202, 6535


def light_color_attributes(
    modes: list[str],
    color_mode: str | None,
    *,
    brightness: int | None,
    kelvin: int | None,
    hs: tuple[float, float] | None,
    effect: str | None,
    has_effect: bool,
) -> dict[str, Any]:
    """A light's state attributes for a colour mode (None = off), as LightEntity writes them."""
    attrs: dict[str, Any] = {}
    if has_effect:
        attrs["effect"] = effect
    attrs["color_mode"] = color_mode
    if any(m not in ("onoff",) for m in modes):
        attrs["brightness"] = brightness if color_mode else None
    ct = "color_temp" in modes
    colour = any(m in ("hs", "xy", "rgb", "rgbw", "rgbww") for m in modes)
    if ct:
        is_ct = color_mode == "color_temp" and kelvin is not None
        attrs["color_temp_kelvin"] = kelvin if is_ct else None
        attrs["color_temp"] = kelvin_to_mired(kelvin) if is_ct and kelvin else None
    if ct or colour:
        rgb = None
        if color_mode == "color_temp" and kelvin:
            rgb = kelvin_to_rgb(kelvin)
            hs = rgb_to_hs(*rgb)
        elif color_mode == "hs" and hs is not None:
            rgb = hs_to_rgb(*hs)
        attrs["hs_color"] = list(hs) if rgb and hs else None
        attrs["rgb_color"] = list(rgb) if rgb else None
        attrs["xy_color"] = list(rgb_to_xy(*rgb)) if rgb else None
    return attrs


def light_capabilities(
    modes: list[str],
    effects: list[str] | None,
    *,
    min_kelvin: int = MIN_KELVIN,
    max_kelvin: int = MAX_KELVIN,
) -> dict[str, Any]:
    """A light's capability attributes: colour temperature range, effects, colour modes."""
    caps: dict[str, Any] = {}
    if "color_temp" in modes:
        caps |= {
            "min_color_temp_kelvin": min_kelvin,
            "max_color_temp_kelvin": max_kelvin,
            "min_mireds": kelvin_to_mired(max_kelvin) + 1,
            "max_mireds": kelvin_to_mired(min_kelvin),
        }
    if effects:
        caps["effect_list"] = effects
    caps["supported_color_modes"] = modes
    return caps


def _light(modes: list[str], *, effects: list[str] | None = None) -> Profile:
    def build(ctx: Context) -> Built:
        rng = ctx.rng
        on = rng.random() < 0.35
        caps = light_capabilities(modes, effects)
        mode = None
        if on:
            mode = "hs" if "hs" in modes and rng.random() < 0.3 else modes[0]
        attrs = light_color_attributes(
            modes,
            mode,
            brightness=rng.choice([77, 128, 180, 255]),
            kelvin=rng.choice([2700, 3000, 4000]),
            hs=(rng.choice([30.0, 220.0, 345.0]), 75.0),
            effect=None,
            has_effect=bool(effects),
        )
        features = S.LIGHT_TRANSITION | (S.LIGHT_EFFECT if effects else 0)
        return Built("on" if on else "off", caps, attrs, supported_features=features)

    return build


# --- sensors --------------------------------------------------------------------------------


def _sensor(
    device_class: str | None,
    unit: str | None,
    low: float,
    high: float,
    *,
    digits: int = 1,
    state_class: str | None = "measurement",
) -> Profile:
    def build(ctx: Context) -> Built:
        value = ctx.rng.uniform(low, high)
        text = f"{value:.{digits}f}" if digits else str(round(value))
        caps = {"state_class": state_class} if state_class else None
        return Built(text, caps, device_class=device_class, unit=unit)

    return build


def _enum_sensor(options: list[str]) -> Profile:
    def build(ctx: Context) -> Built:
        return Built(ctx.rng.choice(options), {"options": options}, device_class="enum")

    return build


def _timestamp_sensor(offset_hours: float) -> Profile:
    def build(ctx: Context) -> Built:
        return Built(iso(int(ctx.now + offset_hours * 3600)), device_class="timestamp")

    return build


def _text_sensor(values: list[str]) -> Profile:
    def build(ctx: Context) -> Built:
        return Built(ctx.rng.choice(values))

    return build


def _binary(device_class: str, on_chance: float = 0.1) -> Profile:
    def build(ctx: Context) -> Built:
        return Built("on" if ctx.rng.random() < on_chance else "off", device_class=device_class)

    return build


# --- actuators ------------------------------------------------------------------------------


def _switch(device_class: str | None = None, on_chance: float = 0.4) -> Profile:
    def build(ctx: Context) -> Built:
        return Built("on" if ctx.rng.random() < on_chance else "off", device_class=device_class)

    return build


def _climate(kind: str) -> Profile:
    def build(ctx: Context) -> Built:
        rng = ctx.rng
        current = round(rng.uniform(18.5, 22.5), 1)
        if kind == "trv":
            caps = {
                "hvac_modes": ["off", "heat", "auto"],
                "min_temp": 5.0,
                "max_temp": 30.0,
                "target_temp_step": 0.5,
                "preset_modes": ["eco", "comfort", "away", "boost"],
            }
            mode = rng.choice(["heat", "auto", "heat"])
            target = rng.choice([19.0, 20.0, 20.5, 21.0])
            attrs = {
                "current_temperature": current,
                "temperature": target,
                "hvac_action": "heating" if target > current else "idle",
                "preset_mode": rng.choice(["comfort", "eco"]),
            }
            features = S.CLIMATE_TARGET_TEMP | S.CLIMATE_PRESET | S.CLIMATE_OFF | S.CLIMATE_ON
            return Built(mode, caps, attrs, supported_features=features)
        caps = {
            "hvac_modes": ["off", "heat", "cool", "heat_cool", "dry", "fan_only"],
            "min_temp": 16.0,
            "max_temp": 31.0,
            "target_temp_step": 1.0,
            "fan_modes": ["auto", "low", "medium", "high"],
            "swing_modes": ["off", "vertical"],
        }
        on = rng.random() < 0.3
        attrs = {
            "current_temperature": current,
            "temperature": 22.0,
            "current_humidity": round(rng.uniform(35, 60)),
            "fan_mode": "auto",
            "hvac_action": "cooling" if on else "off",
            "swing_mode": "off",
        }
        features = S.CLIMATE_TARGET_TEMP | S.CLIMATE_FAN_MODE | S.CLIMATE_SWING | S.CLIMATE_OFF | S.CLIMATE_ON
        return Built("cool" if on else "off", caps, attrs, supported_features=features)

    return build


def _cover(device_class: str, *, position: bool = True, tilt: bool = False) -> Profile:
    def build(ctx: Context) -> Built:
        rng = ctx.rng
        attrs: dict[str, Any] = {}
        pos = rng.choice([0, 0, 40, 100, 100]) if position else None
        if position:
            attrs["current_position"] = pos
        if tilt:
            attrs["current_tilt_position"] = 50
        features = S.COVER_OPEN | S.COVER_CLOSE
        if position:
            features |= S.COVER_SET_POSITION | S.COVER_STOP
        if tilt:
            features |= S.COVER_OPEN_TILT | S.COVER_CLOSE_TILT | S.COVER_SET_TILT
        state = ("open" if pos else "closed") if position else rng.choice(["closed", "closed", "open"])
        return Built(state, None, attrs, device_class, supported_features=features)

    return build


def _lock(openable: bool) -> Profile:
    def build(ctx: Context) -> Built:
        state = "locked" if ctx.rng.random() < 0.8 else "unlocked"
        return Built(state, supported_features=S.LOCK_OPEN if openable else 0)

    return build


TV_FEATURES = (
    S.MP_ON
    | S.MP_OFF
    | S.MP_VOLUME_SET
    | S.MP_VOLUME_MUTE
    | S.MP_VOLUME_STEP
    | S.MP_SOURCE
    | S.MP_PLAY
    | S.MP_PAUSE
    | S.MP_STOP
    | S.MP_PLAY_MEDIA
    | S.MP_NEXT
    | S.MP_PREVIOUS
)
SPEAKER_FEATURES = (
    S.MP_PAUSE
    | S.MP_SEEK
    | S.MP_VOLUME_SET
    | S.MP_VOLUME_MUTE
    | S.MP_PREVIOUS
    | S.MP_NEXT
    | S.MP_PLAY_MEDIA
    | S.MP_SOURCE
    | S.MP_STOP
    | S.MP_PLAY
    | S.MP_SHUFFLE
    | S.MP_REPEAT
    | S.MP_GROUPING
    | S.MP_VOLUME_STEP
)

_SONGS = [
    ("Blue in Green", "Miles Davis", "Kind of Blue"),
    ("Clair de Lune", "Claude Debussy", "Suite bergamasque"),
    ("Teardrop", "Massive Attack", "Mezzanine"),
    ("Holocene", "Bon Iver", "Bon Iver"),
]


def media_attributes(kind: str, state: str, rng: random.Random | None = None) -> dict[str, Any]:
    """State attributes of a media player: nothing but grouping while off (HA's rule)."""
    attrs: dict[str, Any] = {}
    if kind == "speaker":
        attrs["group_members"] = []
    if state == "off":
        return attrs
    attrs |= {"volume_level": 0.25, "is_volume_muted": False}
    if kind == "tv":
        attrs |= {"media_content_type": "channel", "media_title": "BBC One", "app_name": "TV", "source": "Live TV"}
    elif state in ("playing", "paused"):
        title, artist, album = (rng or random).choice(_SONGS)
        attrs |= {
            "media_content_type": "music",
            "media_title": title,
            "media_artist": artist,
            "media_album_name": album,
            "source": "Spotify",
        }
    if kind == "speaker":
        attrs |= {"shuffle": False, "repeat": "off"}
    return attrs


def _media_player(kind: str) -> Profile:
    def build(ctx: Context) -> Built:
        rng = ctx.rng
        if kind == "tv":
            caps = {"source_list": ["Live TV", "HDMI 1", "HDMI 2", "Netflix", "YouTube"]}
            state = "on" if rng.random() < 0.3 else "off"
            return Built(state, caps, media_attributes(kind, state), "tv", supported_features=TV_FEATURES)
        caps = {"source_list": ["Spotify", "TV", "Line-in"]}
        state = rng.choice(["idle", "paused", "playing", "idle"])
        return Built(state, caps, media_attributes(kind, state, rng), "speaker", supported_features=SPEAKER_FEATURES)

    return build


def _fan(*, oscillate: bool, presets: list[str] | None = None) -> Profile:
    def build(ctx: Context) -> Built:
        on = ctx.rng.random() < 0.2
        attrs: dict[str, Any] = {}
        if oscillate:
            attrs["oscillating"] = False
        attrs |= {"percentage": 33 if on else 0, "percentage_step": 100 / 3, "preset_mode": None}
        features = S.FAN_SPEED | S.FAN_ON | S.FAN_OFF
        features |= S.FAN_OSCILLATE if oscillate else 0
        features |= S.FAN_PRESET if presets else 0
        return Built("on" if on else "off", {"preset_modes": presets}, attrs, supported_features=features)

    return build


def _vacuum(ctx: Context) -> Built:
    caps = {"fan_speed_list": ["quiet", "balanced", "turbo", "max"]}
    attrs = {"battery_level": 100, "battery_icon": "mdi:battery-charging-100", "fan_speed": "balanced"}
    features = (
        S.VACUUM_PAUSE
        | S.VACUUM_STOP
        | S.VACUUM_RETURN
        | S.VACUUM_FAN_SPEED
        | S.VACUUM_LOCATE
        | S.VACUUM_STATE
        | S.VACUUM_START
        | 1024
        | 2048
    )
    return Built("docked", caps, attrs, supported_features=features)


def _weather(ctx: Context) -> Built:
    rng = ctx.rng
    attrs = {
        "temperature": round(rng.uniform(4, 24), 1),
        "dew_point": 6.1,
        "temperature_unit": "°C",
        "humidity": round(rng.uniform(45, 90)),
        "cloud_coverage": 40.6,
        "uv_index": 1.2,
        "pressure": 1014.2,
        "pressure_unit": "hPa",
        "wind_bearing": 218.4,
        "wind_speed": 14.4,
        "wind_speed_unit": "km/h",
        "visibility_unit": "km",
        "precipitation_unit": "mm",
        "attribution": "Weather forecast from met.no, delivered by the Norwegian Meteorological Institute.",
    }
    return Built(
        rng.choice(["partlycloudy", "cloudy", "sunny", "rainy"]),
        None,
        attrs,
        supported_features=S.WEATHER_DAILY | S.WEATHER_HOURLY,
    )


# --- device configuration entities --------------------------------------------------------


def _button(device_class: str | None) -> Profile:
    def build(ctx: Context) -> Built:
        return Built("unknown", device_class=device_class)

    return build


def _number(
    low: float,
    high: float,
    step: float,
    value: float,
    unit: str | None = None,
) -> Profile:
    def build(ctx: Context) -> Built:
        caps = {"min": low, "max": high, "step": step, "mode": "slider"}
        return Built(str(value), caps, unit=unit)

    return build


def _select(options: list[str]) -> Profile:
    def build(ctx: Context) -> Built:
        return Built(options[0], {"options": options})

    return build


def _update(ctx: Context) -> Built:
    installed = f"1.{ctx.rng.randint(2, 9)}.{ctx.rng.randint(0, 9)}"
    newer = ctx.rng.random() < 0.15
    latest = installed[:-1] + str(int(installed[-1]) + 1) if newer else installed
    attrs = {
        "auto_update": False,
        "display_precision": 0,
        "installed_version": installed,
        "in_progress": False,
        "latest_version": latest,
        "release_summary": None,
        "release_url": None,
        "skipped_version": None,
        "title": None,
        "update_percentage": None,
    }
    features = S.UPDATE_INSTALL | S.UPDATE_PROGRESS
    return Built("on" if newer else "off", None, attrs, "firmware", supported_features=features)


PROFILES: dict[str, Profile] = {
    "light_color": _light(["color_temp", "hs"]),
    "light_color_effect": _light(["color_temp", "hs"], effects=["colorloop", "candle", "none"]),
    "light_ct": _light(["color_temp"]),
    "light_dimmable": _light(["brightness"]),
    "light_onoff": _light(["onoff"]),
    "switch": _switch(),
    "outlet": _switch("outlet"),
    "switch_config": _switch(None, on_chance=0.0),
    "temperature": _sensor("temperature", "°C", 18.0, 23.5),
    "outdoor_temperature": _sensor("temperature", "°C", 3.0, 22.0),
    "fridge_temperature": _sensor("temperature", "°C", 3.0, 6.0),
    "freezer_temperature": _sensor("temperature", "°C", -20.0, -16.0),
    "humidity": _sensor("humidity", "%", 38.0, 62.0, digits=0),
    "pressure": _sensor("atmospheric_pressure", "hPa", 995.0, 1030.0),
    "illuminance": _sensor("illuminance", "lx", 0.0, 800.0, digits=0),
    "co2": _sensor("carbon_dioxide", "ppm", 420.0, 1200.0, digits=0),
    "pm25": _sensor("pm25", "µg/m³", 2.0, 25.0, digits=0),
    "power": _sensor("power", "W", 0.0, 240.0),
    "energy": _sensor("energy", "kWh", 0.0, 900.0, digits=2, state_class="total_increasing"),
    "voltage": _sensor("voltage", "V", 228.0, 236.0),
    "current": _sensor("current", "A", 0.0, 1.5, digits=2),
    "battery": _sensor("battery", "%", 20.0, 100.0, digits=0),
    "signal": _sensor("signal_strength", "dBm", -85.0, -45.0, digits=0),
    "lqi": _sensor(None, None, 60.0, 255.0, digits=0),
    "device_temperature": _sensor("temperature", "°C", 30.0, 48.0),
    "percent": _sensor(None, "%", 0.0, 100.0, digits=0),
    "gas": _sensor("gas", "m³", 1000.0, 4000.0, digits=3, state_class="total_increasing"),
    "data_rate": _sensor("data_rate", "Mbit/s", 1.0, 180.0),
    "duration_min": _sensor("duration", "min", 5.0, 120.0, digits=0),
    "water": _sensor("water", "L", 10000.0, 90000.0, digits=0, state_class="total_increasing"),
    "uptime": _timestamp_sensor(-24 * 11.3),
    "finish_time": _timestamp_sensor(1.4),
    "appliance_state": _enum_sensor(["inactive", "ready", "run", "finished"]),
    "vacuum_status": _enum_sensor(["charging", "cleaning", "returning", "idle"]),
    "ups_status": _text_sensor(["Online", "Online Battery Charging"]),
    "ip_address": _text_sensor(["84.104.17.23"]),
    "audio_format": _text_sensor(["Dolby 5.1", "PCM 2.0", "No audio"]),
    "motion": _binary("motion", 0.15),
    "occupancy": _binary("occupancy", 0.2),
    "door": _binary("door", 0.1),
    "window": _binary("window", 0.15),
    "garage_door": _binary("garage_door", 0.0),
    "moisture": _binary("moisture", 0.0),
    "smoke": _binary("smoke", 0.0),
    "connectivity": _binary("connectivity", 1.0),
    "problem": _binary("problem", 0.02),
    "running": _binary("running", 0.2),
    "battery_low": _binary("battery", 0.05),
    "plug_in": _binary("plug", 0.5),
    "climate_trv": _climate("trv"),
    "climate_ac": _climate("ac"),
    "blind": _cover("blind"),
    "shade": _cover("shade"),
    "curtain": _cover("curtain"),
    "awning": _cover("awning"),
    "venetian": _cover("blind", tilt=True),
    "garage": _cover("garage", position=False),
    "gate": _cover("gate", position=False),
    "lock": _lock(openable=False),
    "lock_openable": _lock(openable=True),
    "tv": _media_player("tv"),
    "speaker": _media_player("speaker"),
    "fan": _fan(oscillate=False),
    "fan_oscillating": _fan(oscillate=True),
    "air_purifier": _fan(oscillate=False, presets=["auto", "sleep", "turbo"]),
    "vacuum": _vacuum,
    "weather": _weather,
    "button": _button(None),
    "button_restart": _button("restart"),
    "button_identify": _button("identify"),
    "number_level": _number(0, 100, 1, 50, "%"),
    "number_tone": _number(-10, 10, 1, 0),
    "select_power_on": _select(["previous", "on", "off", "toggle"]),
    "select_mode": _select(["auto", "eco", "comfort"]),
    "select_led": _select(["switch", "power", "off"]),
    "update": _update,
}
