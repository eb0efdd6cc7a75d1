"""Entities as tool results: compact rows with the state and the attributes that matter.

Rows carry what a model needs to answer or act (brightness, temperatures, position, volume,
a helper's options or range) and nothing else: full attribute dicts cost many tokens and
mostly repeat what the service list already says.
"""

from __future__ import annotations

from typing import Any

from data_api import Entity

# Attributes worth a model's attention, in the order they are listed.
ATTRIBUTES = (
    "device_class",
    "unit_of_measurement",
    "current_temperature",
    "temperature",
    "target_temp_low",
    "target_temp_high",
    "hvac_action",
    "preset_mode",
    "fan_mode",
    "current_humidity",
    "humidity",
    "current_position",
    "current_tilt_position",
    "percentage",
    "volume_level",
    "is_volume_muted",
    "media_title",
    "media_artist",
    "source",
    "color_temp_kelvin",
    "rgb_color",
    "effect",
    "battery_level",
    "options",
    "min",
    "max",
    "step",
    "has_date",
    "has_time",
)


def state_row(entity: Entity, area: str | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"entity_id": entity.entity_id, "name": entity.name, "state": entity.state}
    if area:
        row["area"] = area
    attributes = entity.attributes
    brightness = attributes.get("brightness")
    if isinstance(brightness, (int, float)) and entity.state == "on":
        row["brightness_pct"] = round(brightness * 100 / 255)
    for name in ATTRIBUTES:
        value = attributes.get(name)
        if value is not None and value != [] and value != "":
            row[name] = value
    return row
