"""What simulated homes are made of: device templates, room templates and one plan per size.

A home is rooms (from room templates) on floors of buildings; each room places devices (from
device templates); each device brings its entities. Everything else (helpers, scenes, scripts,
automations, people, YAML-only entities) is listed here too, so the generator holds no names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# --- devices --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntityTemplate:
    domain: str
    name: str | None  # None: the device's main feature, named after the device
    profile: str
    category: str | None = None  # "config" | "diagnostic"
    disabled: bool = False  # registry entry only, no state (disabled by the integration)
    labels: tuple[str, ...] = ()


def E(domain: str, name: str | None, profile: str, **kw: Any) -> EntityTemplate:
    return EntityTemplate(domain, name, profile, **kw)


def diag(domain: str, name: str, profile: str, **kw: Any) -> EntityTemplate:
    return EntityTemplate(domain, name, profile, category="diagnostic", **kw)


def conf(domain: str, name: str, profile: str, **kw: Any) -> EntityTemplate:
    return EntityTemplate(domain, name, profile, category="config", **kw)


_IDENTIFY = conf("button", "Identify", "button_identify")
_FW = conf("update", "Firmware", "update")
_RESTART = conf("button", "Restart", "button_restart")
_RSSI = diag("sensor", "Signal strength", "signal", disabled=True)
_LQI = diag("sensor", "LQI", "lqi", disabled=True)
_BATTERY = diag("sensor", "Battery", "battery")


@dataclass(frozen=True, slots=True)
class Integration:
    domain: str  # the registry `platform`
    title: str
    manufacturer: str
    connection: str | None = None  # "mac" | "zigbee" | None
    hub: str | None = None  # model of a hub device the others are `via_device_id` of
    common: tuple[EntityTemplate, ...] = ()  # entities the integration adds to every device


INTEGRATIONS = {
    i.domain: i
    for i in (
        Integration("hue", "Philips Hue", "Signify Netherlands B.V.", "zigbee", "Hue Bridge"),
        # ZHA gives every device identify, firmware and (disabled) radio diagnostics.
        Integration("zha", "Zigbee", "Aqara", "zigbee", "SkyConnect", (_IDENTIFY, _RSSI, _LQI)),
        Integration("shelly", "Shelly", "Shelly", "mac", None, (_RESTART, _FW, _RSSI)),
        Integration("sonos", "Sonos", "Sonos", "mac"),
        Integration("webostv", "LG webOS TV", "LG", "mac"),
        Integration("tado", "tado°", "tado°", None, "Internet Bridge"),
        Integration("somfy_mylink", "Somfy", "Somfy", None),
        Integration("nuki", "Nuki", "Nuki Home Solutions GmbH", "mac", None, (_FW,)),
        Integration("ratgdo", "ratgdo", "ratgdo", "mac", None, (_RESTART, _FW)),
        Integration("home_connect", "Home Connect", "Bosch", None),
        Integration("roborock", "Roborock", "Roborock", None, None, (_FW,)),
        Integration("fritz", "AVM FRITZ!Box", "AVM", "mac", None, (_RESTART, _FW)),
        Integration("dsmr", "DSMR Smart Meter", "Landis+Gyr", None),
        Integration("solaredge", "SolarEdge", "SolarEdge", None),
        Integration("wallbox", "Wallbox", "Wallbox", None),
        Integration("netatmo", "Netatmo", "Netatmo", "mac"),
        Integration("daikin", "Daikin AC", "Daikin", "mac"),
        Integration("nut", "Network UPS Tools", "APC", None),
        Integration("met", "Meteorologisk institutt (Met.no)", "Met.no", None),
        Integration("rainbird", "Rain Bird", "Rain Bird", "mac"),
    )
}


@dataclass(frozen=True, slots=True)
class DeviceTemplate:
    name: str  # appended to the room name: "Kitchen" + "Ceiling Light"
    platform: str
    model: str
    entities: tuple[EntityTemplate, ...]
    labels: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # aliases of the main entity
    entry_type: str | None = None  # "service" for web services

    def all_entities(self) -> tuple[EntityTemplate, ...]:
        return self.entities + INTEGRATIONS[self.platform].common


DEVICES: dict[str, DeviceTemplate] = {
    "ceiling_light": DeviceTemplate(
        "Ceiling Light", "hue", "Hue White and Color Ambiance", (E("light", None, "light_color"),)
    ),
    "lamp": DeviceTemplate("Lamp", "hue", "Hue White Ambiance Go", (E("light", None, "light_ct"),)),
    "led_strip": DeviceTemplate("LED Strip", "hue", "Hue Lightstrip Plus", (E("light", None, "light_color_effect"),)),
    "spots": DeviceTemplate(
        "Spots",
        "zha",
        "Dimmer Module T1",
        (E("light", None, "light_dimmable"), conf("select", "Power on behavior", "select_power_on")),
    ),
    "light_switch": DeviceTemplate(
        "Light Switch",
        "shelly",
        "Shelly Plus 1PM",
        (
            E("light", None, "light_onoff"),
            E("sensor", "Power", "power", labels=("energy",)),
            E("sensor", "Energy", "energy", labels=("energy",)),
            diag("sensor", "Device temperature", "device_temperature"),
        ),
    ),
    "plug": DeviceTemplate(
        "Plug",
        "shelly",
        "Shelly Plus Plug S",
        (
            E("switch", None, "outlet"),
            E("sensor", "Power", "power"),
            E("sensor", "Energy", "energy"),
            diag("sensor", "Voltage", "voltage"),
            diag("sensor", "Current", "current"),
            diag("binary_sensor", "Overpowering", "problem"),
            diag("sensor", "Device temperature", "device_temperature"),
            conf("select", "LED mode", "select_led"),
        ),
        labels=("energy",),
    ),
    "motion": DeviceTemplate(
        "Motion Sensor",
        "zha",
        "Motion Sensor P1",
        (
            E("binary_sensor", "Motion", "motion"),
            E("sensor", "Illuminance", "illuminance"),
            _BATTERY,
            conf("number", "Occupancy timeout", "number_level"),
        ),
    ),
    "presence": DeviceTemplate(
        "Presence Sensor",
        "zha",
        "Presence Sensor FP2",
        (E("binary_sensor", "Occupancy", "occupancy"), E("sensor", "Illuminance", "illuminance")),
    ),
    "climate_sensor": DeviceTemplate(
        "Climate Sensor",
        "zha",
        "Temperature and Humidity Sensor",
        (
            E("sensor", "Temperature", "temperature"),
            E("sensor", "Humidity", "humidity"),
            E("sensor", "Pressure", "pressure"),
            _BATTERY,
        ),
    ),
    "door_contact": DeviceTemplate(
        "Door Sensor",
        "zha",
        "Door and Window Sensor",
        (E("binary_sensor", "Door", "door"), _BATTERY),
        labels=("security",),
    ),
    "window_contact": DeviceTemplate(
        "Window Sensor",
        "zha",
        "Door and Window Sensor",
        (E("binary_sensor", "Window", "window"), _BATTERY),
        labels=("security",),
    ),
    "leak": DeviceTemplate(
        "Leak Sensor",
        "zha",
        "Water Leak Sensor",
        (E("binary_sensor", "Moisture", "moisture"), _BATTERY),
        labels=("security", "critical"),
    ),
    "smoke": DeviceTemplate(
        "Smoke Detector",
        "zha",
        "Smoke Detector",
        (E("binary_sensor", "Smoke", "smoke"), _BATTERY, conf("button", "Test", "button")),
        labels=("security", "critical"),
    ),
    "trv": DeviceTemplate(
        "Thermostat",
        "tado",
        "Smart Radiator Thermostat",
        (
            E("climate", None, "climate_trv"),
            E("sensor", "Temperature", "temperature"),
            E("sensor", "Humidity", "humidity"),
            E("sensor", "Heating", "percent"),
            diag("binary_sensor", "Battery", "battery_low"),
            E("binary_sensor", "Window open", "window"),
            diag("binary_sensor", "Connection", "connectivity"),
            conf("switch", "Child lock", "switch_config"),
            conf("switch", "Early start", "switch_config"),
        ),
        aliases=("heating", "radiator"),
    ),
    "ac": DeviceTemplate(
        "Air Conditioner",
        "daikin",
        "FTXM35R",
        (
            E("climate", None, "climate_ac"),
            E("sensor", "Outside temperature", "outdoor_temperature"),
            E("sensor", "Energy", "energy", labels=("energy",)),
            _FW,
        ),
        aliases=("aircon", "AC"),
    ),
    "blinds": DeviceTemplate(
        "Blinds", "somfy_mylink", "Sonesse 30 RTS", (E("cover", None, "blind"),), aliases=("shutters",)
    ),
    "shades": DeviceTemplate("Shades", "zha", "Roller Shade E1", (E("cover", None, "shade"), _BATTERY)),
    "curtains": DeviceTemplate("Curtains", "zha", "Curtain Driver E1", (E("cover", None, "curtain"), _BATTERY)),
    "venetian": DeviceTemplate(
        "Venetian Blinds", "shelly", "Shelly Plus 2PM", (E("cover", None, "venetian"), E("sensor", "Power", "power"))
    ),
    "awning": DeviceTemplate("Awning", "somfy_mylink", "Sunea io", (E("cover", None, "awning"),), labels=("outdoor",)),
    "garage_door": DeviceTemplate(
        "Garage Door",
        "ratgdo",
        "ratgdo 2.5",
        (
            E("cover", None, "garage"),
            E("light", "Light", "light_onoff"),
            E("binary_sensor", "Obstruction", "problem"),
            E("binary_sensor", "Motion", "motion"),
        ),
        labels=("security",),
        aliases=("garage",),
    ),
    "gate": DeviceTemplate(
        "Gate", "shelly", "Shelly Plus 1", (E("cover", None, "gate"),), labels=("security", "outdoor")
    ),
    "front_lock": DeviceTemplate(
        "Door Lock",
        "nuki",
        "Smart Lock 4.0 Pro",
        (
            E("lock", None, "lock_openable"),
            E("binary_sensor", "Door", "door"),
            diag("sensor", "Battery", "battery"),
            diag("binary_sensor", "Battery critical", "battery_low"),
        ),
        labels=("security",),
        aliases=("front door",),
    ),
    "tv": DeviceTemplate(
        "TV", "webostv", "OLED55C3", (E("media_player", None, "tv"),), aliases=("telly", "television")
    ),
    "speaker": DeviceTemplate(
        "Speaker",
        "sonos",
        "Era 100",
        (
            E("media_player", None, "speaker"),
            conf("number", "Bass", "number_tone"),
            conf("number", "Treble", "number_tone"),
            conf("switch", "Loudness", "switch_config"),
            conf("switch", "Crossfade", "switch_config"),
            conf("switch", "Night sound", "switch_config"),
            conf("switch", "Speech enhancement", "switch_config"),
            diag("sensor", "Audio input format", "audio_format"),
            _FW,
        ),
        labels=("announcements",),
        aliases=("music",),
    ),
    "bath_fan": DeviceTemplate(
        "Extractor Fan", "shelly", "Shelly Plus 1", (E("fan", None, "fan"), E("sensor", "Humidity", "humidity"))
    ),
    "ceiling_fan": DeviceTemplate("Ceiling Fan", "shelly", "Shelly Plus 2PM", (E("fan", None, "fan_oscillating"),)),
    "purifier": DeviceTemplate(
        "Air Purifier",
        "zha",
        "Air Purifier Max",
        (E("fan", None, "air_purifier"), E("sensor", "PM2.5", "pm25"), diag("sensor", "Filter life", "percent")),
    ),
    "co2": DeviceTemplate(
        "Air Quality Monitor",
        "netatmo",
        "Healthy Home Coach",
        (E("sensor", "CO2", "co2"), E("sensor", "Temperature", "temperature"), E("sensor", "Humidity", "humidity")),
    ),
    "washer": DeviceTemplate(
        "Washing Machine",
        "home_connect",
        "WAX32M42",
        (
            E("sensor", "Operation state", "appliance_state"),
            E("sensor", "Program progress", "percent"),
            E("sensor", "Finish time", "finish_time"),
            E("binary_sensor", "Door", "door"),
            E("switch", "Power", "switch"),
        ),
        labels=("energy",),
    ),
    "dishwasher": DeviceTemplate(
        "Dishwasher",
        "home_connect",
        "SMV6ZCX49E",
        (
            E("sensor", "Operation state", "appliance_state"),
            E("sensor", "Program progress", "percent"),
            E("sensor", "Finish time", "finish_time"),
            E("binary_sensor", "Door", "door"),
            E("switch", "Power", "switch"),
        ),
        labels=("energy",),
    ),
    "fridge": DeviceTemplate(
        "Fridge",
        "home_connect",
        "KGN39AIBT",
        (
            E("sensor", "Fridge temperature", "fridge_temperature"),
            E("sensor", "Freezer temperature", "freezer_temperature"),
            E("binary_sensor", "Door", "door"),
        ),
    ),
    "vacuum": DeviceTemplate(
        "Robot Vacuum",
        "roborock",
        "Roborock S8",
        (
            E("vacuum", None, "vacuum"),
            E("sensor", "Status", "vacuum_status"),
            diag("sensor", "Battery", "battery"),
            diag("sensor", "Filter time left", "duration_min"),
            diag("sensor", "Main brush time left", "duration_min"),
        ),
        labels=("cleaning",),
        aliases=("hoover",),
    ),
    "router": DeviceTemplate(
        "Router",
        "fritz",
        "FRITZ!Box 7590",
        (
            diag("binary_sensor", "Connection", "connectivity"),
            E("sensor", "Download throughput", "data_rate"),
            E("sensor", "Upload throughput", "data_rate"),
            diag("sensor", "External IP", "ip_address"),
            diag("sensor", "Last restart", "uptime"),
        ),
    ),
    "energy_meter": DeviceTemplate(
        "Energy Meter",
        "dsmr",
        "E360",
        (
            E("sensor", "Power consumption", "power"),
            E("sensor", "Power production", "power"),
            E("sensor", "Energy consumption tariff 1", "energy"),
            E("sensor", "Energy consumption tariff 2", "energy"),
            E("sensor", "Energy production", "energy"),
            E("sensor", "Gas consumption", "gas"),
            diag("sensor", "Voltage phase L1", "voltage"),
        ),
        labels=("energy",),
    ),
    "solar": DeviceTemplate(
        "Solar Inverter",
        "solaredge",
        "SE5000H",
        (
            E("sensor", "Current power", "power"),
            E("sensor", "Energy today", "energy"),
            E("sensor", "Lifetime energy", "energy"),
            diag("sensor", "Inverter temperature", "device_temperature"),
        ),
        labels=("energy",),
    ),
    "ev_charger": DeviceTemplate(
        "EV Charger",
        "wallbox",
        "Pulsar Plus",
        (
            E("switch", "Charging", "switch"),
            E("sensor", "Charging power", "power"),
            E("sensor", "Added energy", "energy"),
            E("binary_sensor", "Plugged in", "plug_in"),
            conf("number", "Maximum charging current", "number_level"),
        ),
        labels=("energy",),
    ),
    "weather_station": DeviceTemplate(
        "Weather Station",
        "netatmo",
        "Outdoor Module",
        (E("sensor", "Temperature", "outdoor_temperature"), E("sensor", "Humidity", "humidity"), _BATTERY),
        labels=("outdoor",),
    ),
    "irrigation": DeviceTemplate(
        "Sprinkler",
        "rainbird",
        "ESP-ME3",
        (
            E("switch", "Zone 1", "switch"),
            E("switch", "Zone 2", "switch"),
            E("binary_sensor", "Rain sensor", "moisture"),
        ),
        labels=("outdoor",),
    ),
    "outdoor_light": DeviceTemplate(
        "Outdoor Light", "shelly", "Shelly Plus 1", (E("light", None, "light_onoff"),), labels=("outdoor",)
    ),
    "doorbell": DeviceTemplate(
        "Doorbell",
        "zha",
        "Doorbell G4",
        (E("binary_sensor", "Ding", "occupancy"), E("binary_sensor", "Motion", "motion"), _BATTERY),
        labels=("security",),
    ),
    "heater": DeviceTemplate(
        "Towel Heater",
        "shelly",
        "Shelly Plus 1PM",
        (E("switch", None, "switch"), E("sensor", "Power", "power")),
        labels=("energy",),
    ),
    "ups": DeviceTemplate(
        "UPS",
        "nut",
        "Back-UPS Pro 1500",
        (
            E("sensor", "Battery charge", "battery"),
            E("sensor", "Load", "percent"),
            E("sensor", "Status", "ups_status"),
            diag("sensor", "Input voltage", "voltage"),
        ),
    ),
    "water_meter": DeviceTemplate(
        "Water Meter",
        "shelly",
        "Shelly Plus Uni",
        (E("sensor", "Water consumption", "water"), E("binary_sensor", "Leak", "moisture")),
    ),
    "weather": DeviceTemplate("Forecast", "met", "Forecast", (E("weather", None, "weather"),), entry_type="service"),
}


# --- rooms ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    device: str  # key into DEVICES
    name: str | None = None  # overrides the template's name ("Floor Lamp")
    chance: float = 1.0  # probability the room has it (drawn per room)


@dataclass(frozen=True, slots=True)
class YamlEntity:
    """A state-only entity from YAML without unique_id: no registry entry, no device."""

    domain: str
    name: str  # "{room}" is replaced by the room name
    profile: str


@dataclass(frozen=True, slots=True)
class RoomTemplate:
    name: str
    aliases: tuple[str, ...] = ()
    icon: str | None = None
    places: tuple[Place, ...] = ()  # most important first: small homes keep only the first few
    yaml: tuple[YamlEntity, ...] = ()
    labels: tuple[str, ...] = ()


P = Place
_MEAN_TEMP = YamlEntity("sensor", "{room} Mean Temperature", "temperature")
_OCCUPIED = YamlEntity("binary_sensor", "{room} Occupied", "occupancy")
_LAST_MOTION = YamlEntity("sensor", "{room} Last Motion", "uptime")

ROOMS: dict[str, RoomTemplate] = {
    r.name: r
    for r in (
        RoomTemplate(
            "Living Room",
            ("lounge", "family room"),
            "mdi:sofa",
            (
                P("ceiling_light"),
                P("tv"),
                P("trv"),
                P("speaker", "Sonos"),
                P("blinds"),
                P("lamp", "Floor Lamp"),
                P("motion"),
                P("climate_sensor"),
                P("led_strip", "TV Backlight", 0.7),
                P("plug", "Reading Lamp Plug", 0.5),
                P("window_contact", chance=0.5),
                P("ac", chance=0.3),
                P("purifier", chance=0.3),
            ),
            (_MEAN_TEMP, _OCCUPIED, YamlEntity("media_player", "{room} Radio", "speaker")),
        ),
        RoomTemplate(
            "Kitchen",
            ("cooking area",),
            "mdi:stove",
            (
                P("ceiling_light"),
                P("speaker", "Speaker"),
                P("plug", "Coffee Machine"),
                P("climate_sensor"),
                P("led_strip", "Counter Lights"),
                P("dishwasher"),
                P("motion"),
                P("spots", chance=0.6),
                P("fridge", chance=0.7),
                P("leak", chance=0.6),
                P("blinds", chance=0.5),
            ),
            (_MEAN_TEMP, YamlEntity("sensor", "{room} Coffee Count", "percent"), _LAST_MOTION),
        ),
        RoomTemplate(
            "Dining Room",
            ("dining area",),
            "mdi:table-chair",
            (
                P("ceiling_light", "Pendant"),
                P("blinds"),
                P("lamp", "Sideboard Lamp", 0.6),
                P("climate_sensor", chance=0.5),
                P("trv", chance=0.6),
            ),
            (_OCCUPIED, _MEAN_TEMP),
        ),
        RoomTemplate(
            "Hallway",
            ("hall", "entrance"),
            "mdi:door",
            (
                P("front_lock", "Front Door Lock"),
                P("ceiling_light", "Light"),
                P("motion"),
                P("door_contact", "Front Door Sensor"),
                P("doorbell", chance=0.8),
                P("smoke", chance=0.7),
            ),
            (_OCCUPIED, _LAST_MOTION, YamlEntity("sensor", "{room} Door Openings Today", "percent")),
            labels=("security",),
        ),
        RoomTemplate(
            "Toilet",
            ("wc", "loo"),
            "mdi:toilet",
            (P("spots", "Light"), P("motion", chance=0.7), P("bath_fan", chance=0.5)),
            (_OCCUPIED,),
        ),
        RoomTemplate(
            "Office",
            ("study", "work room"),
            "mdi:desk",
            (
                P("ceiling_light"),
                P("lamp", "Desk Lamp"),
                P("router"),
                P("plug", "Monitor Plug"),
                P("climate_sensor"),
                P("speaker", "Speaker", 0.5),
                P("co2", chance=0.6),
                P("blinds", chance=0.6),
                P("trv", chance=0.7),
                P("ups", chance=0.4),
            ),
            (_MEAN_TEMP, YamlEntity("sensor", "{room} Focus Time", "duration_min"), _OCCUPIED),
        ),
        RoomTemplate(
            "Garage",
            ("car port",),
            "mdi:garage",
            (
                P("garage_door", "Door"),
                P("spots", "Light"),
                P("energy_meter", chance=0.8),
                P("ev_charger", chance=0.7),
                P("motion"),
                P("plug", "Freezer Plug", 0.5),
                P("solar", chance=0.5),
            ),
            (
                YamlEntity("lock", "{room} Side Door", "lock"),
                _LAST_MOTION,
                YamlEntity("switch", "{room} Heater", "switch"),
            ),
            labels=("security",),
        ),
        RoomTemplate(
            "Master Bedroom",
            ("main bedroom", "our bedroom"),
            "mdi:bed-king",
            (
                P("ceiling_light"),
                P("shades"),
                P("trv"),
                P("lamp", "Bedside Lamp"),
                P("climate_sensor"),
                P("lamp", "Reading Lamp", 0.6),
                P("speaker", "Speaker", 0.6),
                P("tv", chance=0.4),
                P("window_contact", chance=0.5),
                P("ceiling_fan", chance=0.4),
            ),
            (_MEAN_TEMP, _OCCUPIED, YamlEntity("media_player", "{room} Clock Radio", "speaker")),
        ),
        RoomTemplate(
            "Bedroom",
            ("kids room",),
            "mdi:bed",
            (
                P("ceiling_light"),
                P("lamp", "Night Light"),
                P("curtains"),
                P("trv"),
                P("climate_sensor"),
                P("speaker", "Speaker", 0.4),
                P("window_contact", chance=0.4),
            ),
            (_MEAN_TEMP, _OCCUPIED),
        ),
        RoomTemplate(
            "Guest Room",
            ("spare room",),
            "mdi:bed-empty",
            (
                P("ceiling_light"),
                P("blinds"),
                P("trv"),
                P("lamp", "Bedside Lamp", 0.7),
                P("climate_sensor", chance=0.6),
            ),
            (_OCCUPIED,),
        ),
        RoomTemplate(
            "Bathroom",
            ("washroom",),
            "mdi:shower",
            (
                P("spots", "Ceiling Spots"),
                P("bath_fan"),
                P("climate_sensor"),
                P("heater"),
                P("leak"),
                P("led_strip", "Mirror Light", 0.6),
                P("motion", chance=0.6),
                P("speaker", "Speaker", 0.3),
            ),
            (_MEAN_TEMP, _OCCUPIED, YamlEntity("binary_sensor", "{room} Shower Running", "running")),
        ),
        RoomTemplate(
            "Landing",
            ("upstairs hall", "stairs"),
            "mdi:stairs",
            (P("spots", "Light"), P("motion"), P("smoke"), P("vacuum", chance=0.5)),
            (_LAST_MOTION,),
        ),
        RoomTemplate(
            "Utility Room",
            ("laundry", "utility"),
            "mdi:washing-machine",
            (
                P("spots", "Light"),
                P("washer"),
                P("plug", "Dryer Plug"),
                P("leak"),
                P("water_meter", chance=0.7),
                P("climate_sensor", chance=0.5),
            ),
            (YamlEntity("binary_sensor", "{room} Laundry Done", "running"),),
        ),
        RoomTemplate(
            "Storage",
            ("store room", "cellar"),
            "mdi:archive",
            (P("spots", "Light"), P("climate_sensor"), P("leak", chance=0.5), P("motion", chance=0.5)),
            (_MEAN_TEMP,),
        ),
        RoomTemplate(
            "Garden",
            ("backyard", "yard"),
            "mdi:flower",
            (
                P("outdoor_light", "Path Lights"),
                P("irrigation"),
                P("weather_station"),
                P("outdoor_light", "Terrace Light"),
                P("motion", "Camera Motion"),
                P("plug", "Pond Pump", 0.6),
                P("awning", chance=0.5),
            ),
            (
                YamlEntity("sensor", "{room} Soil Moisture", "percent"),
                _LAST_MOTION,
                YamlEntity("switch", "{room} Fountain", "switch"),
            ),
            labels=("outdoor",),
        ),
        RoomTemplate(
            "Driveway",
            ("front yard",),
            "mdi:driveway",
            (P("outdoor_light", "Lights"), P("motion"), P("gate", chance=0.7)),
            (_LAST_MOTION,),
            labels=("outdoor",),
        ),
        # Offices and outbuildings of a large site.
        RoomTemplate(
            "Reception",
            ("front desk", "lobby"),
            "mdi:account-tie",
            (
                P("ceiling_light", "Lights"),
                P("front_lock", "Entrance Lock"),
                P("door_contact", "Entrance Door"),
                P("spots", "Downlights"),
                P("motion"),
                P("climate_sensor"),
                P("tv", "Screen"),
                P("co2"),
            ),
            (_OCCUPIED,),
            labels=("security",),
        ),
        RoomTemplate(
            "Open Office",
            ("workspace", "open plan"),
            "mdi:desk",
            (
                P("ceiling_light", "Lights North"),
                P("ceiling_light", "Lights South"),
                P("spots"),
                P("presence"),
                P("co2"),
                P("climate_sensor"),
                P("ac"),
                P("blinds", "Blinds East"),
                P("blinds", "Blinds West"),
                P("plug", "Printer Plug", 0.5),
                P("speaker", chance=0.3),
            ),
            (_MEAN_TEMP, _OCCUPIED),
        ),
        RoomTemplate(
            "Meeting Room",
            ("conference room",),
            "mdi:account-group",
            (
                P("ceiling_light", "Lights"),
                P("tv", "Display"),
                P("presence"),
                P("co2"),
                P("ac", chance=0.6),
                P("blinds"),
                P("speaker", "Conference Speaker", 0.5),
            ),
            (_OCCUPIED,),
        ),
        RoomTemplate(
            "Kitchenette",
            ("pantry", "coffee corner"),
            "mdi:coffee",
            (
                P("spots", "Lights"),
                P("plug", "Coffee Machine"),
                P("dishwasher", chance=0.5),
                P("fridge", chance=0.6),
                P("leak"),
                P("motion"),
            ),
        ),
        RoomTemplate(
            "Server Room",
            ("it room", "comms room"),
            "mdi:server",
            (P("spots", "Light"), P("ups"), P("ac"), P("climate_sensor"), P("leak"), P("router"), P("door_contact")),
            labels=("security",),
        ),
        RoomTemplate(
            "Restroom",
            ("toilets", "washroom"),
            "mdi:human-male-female",
            (P("spots", "Lights"), P("motion"), P("bath_fan"), P("leak", chance=0.5)),
        ),
        RoomTemplate(
            "Corridor",
            ("hallway", "passage"),
            "mdi:walk",
            (P("spots", "Lights"), P("motion"), P("smoke"), P("door_contact", "Fire Door", 0.6)),
            labels=("security",),
        ),
        RoomTemplate(
            "Workshop",
            ("shed", "barn"),
            "mdi:hammer-wrench",
            (
                P("ceiling_light", "Lights"),
                P("garage_door", "Roller Door"),
                P("plug", "Compressor"),
                P("plug", "Saw Plug"),
                P("climate_sensor"),
                P("motion"),
            ),
            (YamlEntity("lock", "{room} Padlock", "lock"),),
        ),
        RoomTemplate(
            "Pool House",
            ("pool",),
            "mdi:pool",
            (
                P("outdoor_light", "Pool Lights"),
                P("plug", "Pool Pump"),
                P("heater", "Pool Heater"),
                P("weather_station", "Water Thermometer"),
                P("motion"),
            ),
            labels=("outdoor",),
        ),
        RoomTemplate(
            "Parking",
            ("car park",),
            "mdi:parking",
            (
                P("outdoor_light", "Lights"),
                P("ev_charger", "Charger 1"),
                P("ev_charger", "Charger 2"),
                P("gate", "Barrier"),
                P("motion"),
            ),
            labels=("outdoor",),
        ),
    )
}

# --- site plans -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FloorPlan:
    name: str
    level: int | None
    rooms: tuple[str, ...]  # room template names; repeats get numbered ("Meeting Room 2")
    aliases: tuple[str, ...] = ()
    icon: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    location_name: str
    time_zone: str
    country: str
    currency: str
    latitude: float
    longitude: float
    elevation: int
    metric: bool
    floors: tuple[FloorPlan, ...]
    outdoor: tuple[str, ...]  # areas without a floor
    people: tuple[str, ...]
    devices_per_room: int | None  # keep the first N placed devices of a room (None: all)
    helpers_per_domain: int
    automations: int
    yaml_per_room: int  # room YAML entities to keep
    room_scenes: int = 0  # per-room lighting scenes ("Kitchen Relax") for rooms with lights
    extras_share: float = 1.0  # share of config/diagnostic entities kept (lean devices < 1)
    user_named_share: float = 0.03  # entities renamed by the user (registry `name`)
    own_area_share: float = 0.04  # device entities placed in another area than their device
    unavailable_share: float = 0.01


_GROUND = ("Ground Floor", 0, ("downstairs",), "mdi:home-floor-0")
_FIRST = ("First Floor", 1, ("upstairs",), "mdi:home-floor-1")
_BASEMENT = ("Basement", -1, ("cellar",), "mdi:home-floor-negative-1")


_FloorSpec = tuple[str, int, tuple[str, ...], str]


def _floor(spec: _FloorSpec, rooms: tuple[str, ...], prefix: str = "") -> FloorPlan:
    name, level, aliases, icon = spec
    return FloorPlan(f"{prefix}{name}", level, rooms, aliases if not prefix else (), icon)


def _office_floor(level: int) -> FloorPlan:
    rooms = (("Reception",) if level == 0 else ()) + ("Open Office",) * 4 + ("Meeting Room",) * 4
    rooms += ("Kitchenette", "Restroom", "Restroom", "Corridor", "Corridor")
    rooms += ("Server Room",) if level in (0, 4) else ()
    return FloorPlan(f"Office Building Floor {level}", level, rooms, icon="mdi:office-building")


PLANS: dict[str, Plan] = {
    "small": Plan(
        "Maple Cottage",
        "Europe/Amsterdam",
        "NL",
        "EUR",
        52.3676,
        4.9041,
        2,
        True,
        (
            _floor(_GROUND, ("Living Room", "Kitchen", "Hallway", "Garage")),
            _floor(_FIRST, ("Master Bedroom", "Bathroom", "Office")),
        ),
        ("Garden",),
        ("Anna", "Ben"),
        devices_per_room=3,
        helpers_per_domain=1,
        automations=5,
        yaml_per_room=2,
        extras_share=0.3,
        own_area_share=0.08,
        user_named_share=0.05,
    ),
    "medium": Plan(
        "Oak House",
        "Europe/London",
        "GB",
        "GBP",
        51.4545,
        -2.5879,
        40,
        True,
        (
            _floor(_BASEMENT, ("Utility Room", "Storage")),
            _floor(_GROUND, ("Living Room", "Kitchen", "Dining Room", "Hallway", "Toilet", "Office", "Garage")),
            _floor(_FIRST, ("Master Bedroom", "Bedroom", "Bedroom", "Guest Room", "Bathroom", "Landing")),
        ),
        ("Garden", "Driveway"),
        ("Alex", "Sam", "Robin", "Kim"),
        devices_per_room=7,
        helpers_per_domain=8,
        automations=210,
        yaml_per_room=3,
        room_scenes=3,
    ),
    "large": Plan(
        "Cedar Park Campus",
        "America/New_York",
        "US",
        "USD",
        40.7128,
        -74.006,
        10,
        False,
        (
            _floor(_BASEMENT, ("Utility Room", "Storage", "Storage", "Workshop"), "Main House "),
            _floor(
                _GROUND,
                ("Living Room", "Kitchen", "Dining Room", "Hallway", "Toilet", "Office", "Garage", "Living Room"),
                "Main House ",
            ),
            _floor(
                _FIRST,
                ("Master Bedroom", "Bedroom", "Bedroom", "Bedroom", "Guest Room", "Bathroom", "Bathroom", "Landing"),
                "Main House ",
            ),
            *(_office_floor(level) for level in range(9)),
            FloorPlan("Guest House Ground Floor", 0, ("Living Room", "Kitchen", "Hallway", "Bathroom")),
            FloorPlan("Guest House First Floor", 1, ("Bedroom", "Bedroom", "Bathroom", "Landing")),
            FloorPlan("Workshop Building", 0, ("Workshop", "Workshop", "Storage", "Garage")),
        ),
        ("Garden", "Driveway", "Pool House", "Parking", "Parking"),
        ("Alex", "Sam", "Robin", "Kim", "Jordan", "Taylor"),
        devices_per_room=None,
        helpers_per_domain=25,
        automations=800,
        yaml_per_room=2,
        room_scenes=2,
    ),
}

# --- everything that is not a device --------------------------------------------------------

# (name, options) per helper domain; the generator instantiates the set `helper_sets` times,
# numbering names after the first.
HELPERS: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    "input_boolean": (
        ("Guest Mode", {"icon": "mdi:account-multiple"}),
        ("Vacation Mode", {"icon": "mdi:airplane"}),
        ("Night Mode", {}),
        ("Cleaning Day", {}),
    ),
    "input_number": (
        ("Target Temperature", {"min": 15.0, "max": 25.0, "step": 0.5, "mode": "slider", "unit": "°C", "value": 20.5}),
        ("Wake-up Volume", {"min": 0.0, "max": 100.0, "step": 5.0, "mode": "slider", "unit": "%", "value": 30.0}),
    ),
    "input_select": (
        ("House Mode", {"options": ["Home", "Away", "Night", "Vacation"]}),
        ("Heating Schedule", {"options": ["Comfort", "Eco", "Off"]}),
    ),
    "input_text": (
        ("Welcome Message", {"value": "Welcome home!"}),
        ("Wi-Fi Guest Password", {"value": "sunflower42", "mode": "password"}),
    ),
    "input_datetime": (
        ("Wake-up Time", {"has_date": False, "has_time": True, "value": "07:00:00"}),
        ("Next Bin Day", {"has_date": True, "has_time": False, "value": "2025-04-24"}),
        ("Holiday Start", {"has_date": True, "has_time": True, "value": "2025-07-12 09:30:00"}),
    ),
    "input_button": (("Reset Filters", {}), ("Ring All Speakers", {})),
    "counter": (
        ("Coffee Cups", {"initial": 0, "step": 1, "value": 3}),
        ("Front Door Openings", {"initial": 0, "step": 1, "value": 17}),
    ),
    "timer": (("Laundry", {"duration": "0:45:00"}), ("Pizza Oven", {"duration": "0:12:00"})),
    "schedule": (
        (
            "Heating Workdays",
            {"days": ("monday", "tuesday", "wednesday", "thursday", "friday"), "from": "06:30:00", "to": "22:00:00"},
        ),
        (
            "Quiet Hours",
            {
                "days": ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
                "from": "22:00:00",
                "to": "23:59:59",
            },
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class SceneTemplate:
    name: str
    icon: str | None
    # (domain, room or None for every room, state, attributes) applied to matching entities.
    targets: tuple[tuple[str, str | None, str, dict[str, Any]], ...]


# Per-room lighting scenes: (name, brightness of the room's lights).
ROOM_SCENES: tuple[tuple[str, int], ...] = (("Bright", 255), ("Relax", 120), ("Nightlight", 15))

SCENES: tuple[SceneTemplate, ...] = (
    SceneTemplate(
        "Movie Time",
        "mdi:movie-open",
        (
            ("light", "Living Room", "on", {"brightness": 40}),
            ("cover", "Living Room", "closed", {}),
            ("media_player", "Living Room", "on", {}),
        ),
    ),
    SceneTemplate(
        "Good Night",
        "mdi:weather-night",
        (("light", None, "off", {}), ("lock", None, "locked", {}), ("cover", None, "closed", {})),
    ),
    SceneTemplate(
        "Good Morning",
        "mdi:weather-sunny",
        (("cover", None, "open", {}), ("light", "Kitchen", "on", {"brightness": 200})),
    ),
    SceneTemplate(
        "Dinner",
        "mdi:silverware-fork-knife",
        (("light", "Dining Room", "on", {"brightness": 120}), ("light", "Kitchen", "on", {"brightness": 90})),
    ),
    SceneTemplate(
        "Away",
        "mdi:home-export-outline",
        (("light", None, "off", {}), ("media_player", None, "off", {}), ("lock", None, "locked", {})),
    ),
    SceneTemplate("Reading", "mdi:book-open-variant", (("light", "Living Room", "on", {"brightness": 255}),)),
)


@dataclass(frozen=True, slots=True)
class ScriptTemplate:
    name: str
    description: str
    icon: str | None
    fields: dict[str, Any]  # HA's field descriptions, as declared in scripts.yaml
    # Steps {"action", "target"?, "data"?}; a "{field}" string is replaced by that variable.
    sequence: tuple[dict[str, Any], ...]


SCRIPTS: tuple[ScriptTemplate, ...] = (
    ScriptTemplate(
        "Announce",
        "Speaks a message on the speakers.",
        "mdi:bullhorn",
        {
            "message": {
                "name": "Message",
                "description": "What to say.",
                "required": True,
                "example": "Dinner is ready",
                "selector": {"text": {}},
            },
            "volume": {
                "name": "Volume",
                "description": "Volume from 0 to 1.",
                "required": False,
                "default": 0.4,
                "selector": {"number": {"min": 0.0, "max": 1.0, "step": 0.05, "mode": "slider"}},
            },
        },
        (
            {
                "action": "media_player.volume_set",
                "target": {"label_id": "announcements"},
                "data": {"volume_level": "{volume}"},
            },
        ),
    ),
    ScriptTemplate(
        "Good Night Routine",
        "Locks up and turns everything off.",
        "mdi:sleep",
        {},
        ({"action": "scene.turn_on", "target": {"entity_id": "scene.good_night"}},),
    ),
    ScriptTemplate(
        "Set Room Lights",
        "Sets the lights of a room to a brightness.",
        "mdi:lightbulb-group",
        {
            "room": {"name": "Room", "description": "The area to light.", "required": True, "selector": {"area": {}}},
            "brightness": {
                "name": "Brightness",
                "description": "Brightness in percent.",
                "required": False,
                "default": 80,
                "selector": {
                    "number": {"min": 0.0, "max": 100.0, "step": 1.0, "mode": "slider", "unit_of_measurement": "%"}
                },
            },
        },
        ({"action": "light.turn_on", "target": {"area_id": "{room}"}, "data": {"brightness_pct": "{brightness}"}},),
    ),
    ScriptTemplate(
        "Leave Home",
        "Everything off, doors locked, heating to eco.",
        "mdi:exit-run",
        {},
        ({"action": "scene.turn_on", "target": {"entity_id": "scene.away"}},),
    ),
    ScriptTemplate(
        "Start Vacuum",
        "Starts the robot vacuum if nobody is home.",
        "mdi:robot-vacuum",
        {},
        ({"action": "vacuum.start", "target": {"label_id": "cleaning"}},),
    ),
)

AUTOMATION_PATTERNS: tuple[str, ...] = (
    "{room} lights on motion",
    "{room} lights off after no motion",
    "{room} heating schedule",
    "{room} blinds at sunset",
    "{room} window open heating off",
    "{room} humidity alert",
    "{room} night light",
    "{room} morning lights",
    "{room} away mode off",
    "{room} temperature report",
    "{room} dim lights at bedtime",
    "{room} presence simulation",
    "{room} low battery alert",
    "{room} door left open alert",
)
HOME_AUTOMATIONS: tuple[str, ...] = (
    "Notify when washing is done",
    "Lock doors at night",
    "Arrive home welcome",
    "Leave home everything off",
    "Porch light at sunset",
    "Low battery report",
    "Water leak alert",
    "Smoke alarm alert",
    "Morning scene on weekdays",
    "Bin day reminder",
)

LABELS: tuple[tuple[str, str, str, str | None], ...] = (
    # (name, color, icon, description)
    ("Security", "red", "mdi:shield-home", "Locks, doors and alarm sensors"),
    ("Energy", "amber", "mdi:lightning-bolt", "Power and energy monitoring"),
    ("Outdoor", "green", "mdi:tree", "Things outside the house"),
    ("Announcements", "blue", "mdi:bullhorn", "Speakers used for announcements"),
    ("Cleaning", "teal", "mdi:broom", "Cleaning devices"),
    ("Critical", "deep-orange", "mdi:alert", None),
)

# Home-level state-only entities besides sun/zones/trackers: YAML sensors without unique_id.
HOME_YAML: tuple[YamlEntity, ...] = (
    YamlEntity("sensor", "Processor Use", "percent"),
    YamlEntity("sensor", "Memory Use", "percent"),
    YamlEntity("sensor", "Disk Use", "percent"),
    YamlEntity("sensor", "Last Boot", "uptime"),
    YamlEntity("sensor", "Processor Temperature", "device_temperature"),
    YamlEntity("binary_sensor", "Anyone Home", "occupancy"),
    YamlEntity("sensor", "Lights On", "percent"),
    YamlEntity("sensor", "Average Indoor Temperature", "temperature"),
    YamlEntity("sensor", "Average Indoor Humidity", "humidity"),
    YamlEntity("sensor", "Internet Speed", "data_rate"),
    YamlEntity("binary_sensor", "Internet Up", "connectivity"),
    YamlEntity("switch", "Christmas Lights", "switch"),
    YamlEntity("media_player", "Kitchen Radio", "speaker"),
    YamlEntity("lock", "Shed Lock", "lock"),
)

EXTRA_ZONES: tuple[tuple[str, float, float, int], ...] = (
    ("Work", 0.021, -0.013, 150),
    ("School", -0.009, 0.017, 100),
    ("Gym", 0.004, 0.031, 80),
)
