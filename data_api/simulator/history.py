"""A small recorder: a bounded history of state changes per entity, queried the way HA's
`GET /api/history/period` answers (components/history/__init__.py and
components/recorder/history/modern.py `_sorted_states_to_dict`).

Each entity starts with one seeded earlier point so history is never empty. Points are the
state dicts themselves (states are replaced, not mutated, on change), so keeping them costs
a reference, not a copy.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

from .util import iso

MAX_POINTS = 50  # per entity; the oldest points fall off

# recorder/history/const.py
SIGNIFICANT_DOMAINS = frozenset({"climate", "device_tracker", "humidifier", "thermostat", "water_heater"})
NEED_ATTRIBUTE_DOMAINS = frozenset({"climate", "humidifier", "input_datetime", "thermostat", "water_heater"})

# Attributes the recorder never stores (`_entity_component_unrecorded_attributes` and
# `_unrecorded_attributes` of each platform, plus recorder's ALL_DOMAIN_EXCLUDE_ATTRS).
_ALWAYS_UNRECORDED = frozenset({"supported_features", "attribution", "restored"})
_SCRIPT_LIKE = frozenset({"last_triggered", "mode", "current", "max", "last_action"})
UNRECORDED: dict[str, frozenset[str]] = {
    "light": frozenset(
        {
            "supported_color_modes",
            "effect_list",
            "min_mireds",
            "max_mireds",
            "min_color_temp_kelvin",
            "max_color_temp_kelvin",
            "brightness",
            "color_mode",
            "color_temp",
            "color_temp_kelvin",
            "effect",
            "hs_color",
            "rgb_color",
            "rgbw_color",
            "rgbww_color",
            "xy_color",
        }
    ),
    "climate": frozenset(
        {
            "hvac_modes",
            "fan_modes",
            "swing_modes",
            "min_temp",
            "max_temp",
            "min_humidity",
            "max_humidity",
            "target_temp_step",
            "preset_modes",
        }
    ),
    "media_player": frozenset(
        {
            "entity_picture_local",
            "entity_picture",
            "source_list",
            "media_position_updated_at",
            "media_position",
            "sound_mode_list",
        }
    ),
    "sensor": frozenset({"options"}),
    "select": frozenset({"options"}),
    "fan": frozenset({"preset_modes"}),
    "script": _SCRIPT_LIKE,
    "automation": _SCRIPT_LIKE | {"id"},
    "input_number": frozenset({"editable", "min", "max", "mode", "step"}),
    "input_text": frozenset({"editable", "min", "max", "mode", "pattern"}),
    "input_datetime": frozenset({"editable", "has_date", "has_time"}),
    "sun": frozenset(
        {
            "azimuth",
            "elevation",
            "rising",
            "next_dawn",
            "next_dusk",
            "next_midnight",
            "next_noon",
            "next_rising",
            "next_setting",
        }
    ),
}
_EDITABLE = frozenset({"editable"})
for _domain in ("input_boolean", "input_button", "input_select", "counter", "timer", "schedule", "person"):
    UNRECORDED[_domain] = _EDITABLE

_FLIP = {
    "on": "off",
    "off": "on",
    "open": "closed",
    "closed": "open",
    "home": "not_home",
    "not_home": "home",
    "locked": "unlocked",
    "unlocked": "locked",
    "playing": "paused",
    "paused": "playing",
    "idle": "playing",
    "heat": "off",
    "cool": "off",
    "auto": "off",
}


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


class History:
    def __init__(self, states: dict[str, dict[str, Any]]) -> None:
        self._points: dict[str, deque[dict[str, Any]]] = {}
        for entity_id, state in states.items():
            self._points[entity_id] = deque(self._seed(state), maxlen=MAX_POINTS)

    @staticmethod
    def _seed(state: dict[str, Any]) -> list[dict[str, Any]]:
        """One plausible earlier state, hours before the current one began."""
        changed = _ts(state["last_changed"])
        earlier = iso(changed - 3600 * (2 + len(state["entity_id"]) % 9))
        value = state["state"]
        try:
            previous = f"{float(value) * 0.97:.{max(0, len(value.partition('.')[2]))}f}"
        except ValueError:
            previous = _FLIP.get(value, value)
        past = {**state, "state": previous, "last_changed": earlier, "last_updated": earlier, "last_reported": earlier}
        return [past, state]

    def seed(self, state: dict[str, Any]) -> None:
        """Start the history of an entity added to the home before it is served."""
        self._points[state["entity_id"]] = deque(self._seed(state), maxlen=MAX_POINTS)

    def record(self, state: dict[str, Any], _now: float) -> None:
        points = self._points.get(state["entity_id"])
        if points is None:
            points = self._points[state["entity_id"]] = deque(maxlen=MAX_POINTS)
        points.append(state)

    def rename(self, old_id: str, new_id: str) -> None:
        points = self._points.pop(old_id, None)
        if points is not None:
            self._points[new_id] = deque(({**p, "entity_id": new_id} for p in points), maxlen=MAX_POINTS)

    def last(self, entity_id: str) -> dict[str, Any] | None:
        points = self._points.get(entity_id)
        return points[-1] if points else None

    def period(
        self,
        entity_ids: list[str],
        start: float,
        end: float,
        *,
        include_start_state: bool = True,
        significant_only: bool = True,
        minimal: bool = False,
        no_attributes: bool = False,
    ) -> list[list[dict[str, Any]]]:
        """The JSON body of /api/history/period: one list per entity with points, in the
        order asked; entities without points are left out (as HA filters empty lists)."""
        result = []
        for entity_id in entity_ids:
            domain = entity_id.split(".", 1)[0]
            rows = self._rows(
                entity_id, start, end, include_start_state, significant_only and domain not in SIGNIFICANT_DOMAINS
            )
            if not rows:
                continue
            keep_attributes = not minimal or domain in NEED_ATTRIBUTE_DOMAINS
            hidden = UNRECORDED.get(domain, frozenset()) | _ALWAYS_UNRECORDED
            out = [self._full(rows[0], hidden, no_attributes)]
            previous = rows[0]["state"]
            for row in rows[1:]:
                if keep_attributes:
                    out.append(self._full(row, hidden, no_attributes))
                elif row["state"] != previous:
                    out.append({"state": row["state"], "last_changed": row["last_updated"]})
                previous = row["state"]
            result.append(out)
        return result

    def _rows(
        self, entity_id: str, start: float, end: float, include_start_state: bool, state_changes_only: bool
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        before: dict[str, Any] | None = None
        for point in self._points.get(entity_id, ()):
            updated = _ts(point["last_updated"])
            if updated < start:
                before = point
                continue
            if updated > end:
                break
            if state_changes_only and point["last_changed"] != point["last_updated"]:
                continue
            rows.append(point)
        if include_start_state and before is not None:
            stamp = iso(start)  # the recorder reports the start-time state at `start`
            rows.insert(0, {**before, "last_changed": stamp, "last_updated": stamp})
        return rows

    @staticmethod
    def _full(
        point: dict[str, Any],
        hidden: frozenset[str],
        no_attributes: bool,
    ) -> dict[str, Any]:
        attributes = (
            {} if no_attributes else {key: value for key, value in point["attributes"].items() if key not in hidden}
        )
        return {
            "entity_id": point["entity_id"],
            "state": point["state"],
            "attributes": attributes,
            "last_changed": point["last_changed"],
            "last_updated": point["last_updated"],
        }
