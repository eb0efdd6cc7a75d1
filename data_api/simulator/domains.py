"""Service handlers of the domains an evaluation home brings: to-do lists, calendars, valves and
alarm panels, as HA 2025.4.4 runs them (components/{todo,calendar,valve,alarm_control_panel}/
__init__.py for the checks and errors; local_todo, local_calendar and manual for what a list,
a calendar and a panel do). Registered into the engine's table by importing this module.

To-do items and calendar events live in `SimHome.todo_items` / `SimHome.calendar_events`, off
the state machine as in HA: the state shows a to-do list's open-item count and a calendar's
current or next event; `todo.get_items`, `calendar.get_events`, WS `todo/item/list` and REST
`/api/calendars/<entity_id>` return the items and events.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import protocol as P
from . import services as S
from .actions import TAIL_KEYS, Call, handles, move_to, stop_moving
from .util import uuid_hex

if TYPE_CHECKING:
    from .home import SimHome

# --- to-do lists --------------------------------------------------------------------------

_ITEM_FIELDS = (
    ("due_date", S.TODO_DUE_DATE),
    ("due_datetime", S.TODO_DUE_DATETIME),
    ("description", S.TODO_DESCRIPTION),
)


def todo_state(items: list[dict[str, Any]]) -> str:
    """A to-do list's state: how many items still need action."""
    return str(sum(item["status"] == "needs_action" for item in items))


def api_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item as `todo.get_items` and `todo/item/list` answer it: unset fields left out."""
    return {key: value for key, value in item.items() if value is not None}


def _item_error(item: str) -> P.HAError:
    return P.ServiceValidationError(
        f"Unable to find to-do list item: {item}",
        translation_key="item_not_found",
        translation_domain="todo",
        translation_placeholders={"item": item},
    )


def _check_item_fields(features: int, data: dict[str, Any]) -> None:
    for name, feature in _ITEM_FIELDS:
        if name in data and not features & feature:
            raise P.ServiceValidationError(
                f"Entity does not support setting field: {name}",
                translation_key="update_field_not_supported",
                translation_domain="todo",
                translation_placeholders={"service_field": name},
            )


def _find_item(items: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    """By uid or by summary, exactly as written (HA does not fold case)."""
    return next((item for item in items if key in (item["uid"], item["summary"])), None)


def _due(data: dict[str, Any], home: SimHome) -> str | None:
    if data.get("due_datetime") is not None:
        moment: datetime = data["due_datetime"]
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=home.time_zone)
        return moment.astimezone(home.time_zone).isoformat()
    if data.get("due_date") is not None:
        return data["due_date"].isoformat()
    return None


@handles("todo", "add_item", "update_item", "remove_item", "get_items", "remove_completed_items")
def _todo(call: Call, entity_id: str, state: dict[str, Any]) -> dict[str, Any] | None:
    home, data = call.home, call.data
    items = home.todo_items.setdefault(entity_id, [])
    features = state["attributes"].get("supported_features") or 0
    if call.service == "get_items":
        wanted = data.get("status")
        return {"items": [api_item(item) for item in items if not wanted or item["status"] in wanted]}
    if call.service == "add_item":
        _check_item_fields(features, data)
        items.append(
            {
                "summary": data["item"],
                "uid": uuid_hex(),
                "status": "needs_action",
                "due": _due(data, home),
                "description": data.get("description"),
            }
        )
    elif call.service == "update_item":
        found = _find_item(items, data["item"])
        if found is None:
            raise _item_error(data["item"])
        _check_item_fields(features, data)
        if data.get("rename"):
            found["summary"] = data["rename"]
        if data.get("status"):
            found["status"] = data["status"]
        if "due_date" in data or "due_datetime" in data:
            found["due"] = _due(data, home)
        if "description" in data:
            found["description"] = data["description"]
    elif call.service == "remove_item":
        uids = []
        for key in data["item"]:
            found = _find_item(items, key)
            if found is None:
                raise _item_error(key)
            uids.append(found["uid"])
        items[:] = [item for item in items if item["uid"] not in uids]
    else:
        items[:] = [item for item in items if item["status"] != "completed"]
    call.write(entity_id, todo_state(items))  # a rename keeps the count: no state_changed
    return None


# --- calendars ----------------------------------------------------------------------------


def local(value: date | datetime, home: SimHome) -> datetime:
    """An event bound as a local datetime: a date is local midnight (HA's start_of_local_day)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=home.time_zone)
        return moment.astimezone(home.time_zone)
    return datetime(value.year, value.month, value.day, tzinfo=home.time_zone)


def current_event(home: SimHome, entity_id: str) -> dict[str, Any] | None:
    """The event in progress, else the next one to start (what a local calendar reports)."""
    now = datetime.fromtimestamp(home.now(), UTC)
    upcoming = [event for event in home.calendar_events.get(entity_id, ()) if local(event["end"], home) > now]
    upcoming.sort(key=lambda event: local(event["start"], home))
    return upcoming[0] if upcoming else None


def calendar_state(home: SimHome, entity_id: str) -> tuple[str, dict[str, Any]]:
    """(state, state attributes) of a calendar at the home's now (CalendarEntity.state and
    state_attributes): on while an event runs; the attributes describe that or the next event."""
    event = current_event(home, entity_id)
    if event is None:
        return "off", {}
    start, end = local(event["start"], home), local(event["end"], home)
    now = datetime.fromtimestamp(home.now(), UTC)
    return ("on" if start <= now < end else "off"), {
        "message": event["summary"],
        "all_day": not isinstance(event["start"], datetime),
        "start_time": start.strftime("%Y-%m-%d %H:%M:%S"),
        "end_time": end.strftime("%Y-%m-%d %H:%M:%S"),
        "location": event.get("location") or "",
        "description": event.get("description") or "",
    }


def calendar_written(home: SimHome, entity_id: str) -> tuple[str, dict[str, Any]]:
    """What a calendar writes now: its state, its event's attributes (none without an event),
    then what every entity shows last."""
    state, event = calendar_state(home, entity_id)
    tail = {key: value for key, value in home.states[entity_id]["attributes"].items() if key in TAIL_KEYS}
    return state, {**event, **tail}


def refresh_calendar(call: Call, entity_id: str) -> None:
    """Rewrite a calendar's state after its events changed."""
    state, attributes = calendar_written(call.home, entity_id)
    call.home.set_state(entity_id, state, attributes, context=call.context)


def api_event(event: dict[str, Any], home: SimHome) -> dict[str, Any]:
    """An event as `calendar.get_events` answers it: start, end, summary, description?,
    location? (datetimes in the home's zone, dates as dates)."""
    out: dict[str, Any] = {}
    for key in ("start", "end"):
        value = event[key]
        out[key] = local(value, home).isoformat() if isinstance(value, datetime) else value.isoformat()
    out["summary"] = event["summary"]
    for key in ("description", "location"):
        if event.get(key) is not None:
            out[key] = event[key]
    return out


def rest_event(event: dict[str, Any], home: SimHome) -> dict[str, Any]:
    """An event as REST `/api/calendars/<entity_id>` answers it ({dateTime} or {date})."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if isinstance(value, datetime):
            out[key] = {"dateTime": local(value, home).isoformat()}
        elif isinstance(value, date):
            out[key] = {"date": value.isoformat()}
        else:
            out[key] = value
    return out


def events_between(
    home: SimHome,
    entity_id: str,
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """Events overlapping [start, end), in start order."""
    found = [
        event
        for event in home.calendar_events.get(entity_id, ())
        if local(event["end"], home) > start and local(event["start"], home) < end
    ]
    return sorted(found, key=lambda event: local(event["start"], home))


def _aware(moment: datetime, home: SimHome) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=home.time_zone)


@handles("calendar", "get_events", "create_event")
def _calendar(call: Call, entity_id: str, state: dict[str, Any]) -> dict[str, Any] | None:
    home, data = call.home, call.data
    if call.service == "get_events":
        start = _aware(data.get("start_date_time") or datetime.fromtimestamp(home.now(), UTC), home)
        end = start + data["duration"] if "duration" in data else _aware(data["end_date_time"], home)
        return {"events": [api_event(event, home) for event in events_between(home, entity_id, start, end)]}
    if "in" in data:  # n days or weeks from today, all day
        days = data["in"].get("days", 7 * data["in"].get("weeks", 0))
        today = datetime.fromtimestamp(home.now(), home.time_zone).date()
        start_at: date | datetime = today + timedelta(days=days)
        end_at: date | datetime = today + timedelta(days=days + 1)
    elif "start_date" in data:
        start_at, end_at = data["start_date"], data["end_date"]
    else:
        start_at = _aware(data["start_date_time"], home).astimezone(home.time_zone)
        end_at = _aware(data["end_date_time"], home).astimezone(home.time_zone)
    home.calendar_events.setdefault(entity_id, []).append(
        {
            "uid": uuid_hex(),
            "summary": data["summary"],
            "start": start_at,
            "end": end_at,
            "description": data.get("description") or "",
            "location": data.get("location"),
        }
    )
    refresh_calendar(call, entity_id)
    return None


# --- valves -------------------------------------------------------------------------------


@handles("valve", "open_valve", "close_valve", "set_valve_position", "stop_valve", "toggle")
def _valve(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    """Valves move like covers (at once, or over the home's travel time); one that reports its
    position moves there, one that does not is just open or closed (ValveEntity)."""
    service = call.service
    if service == "toggle":
        moving = state["state"] in ("opening", "closing")
        if moving and (state["attributes"].get("supported_features") or 0) & S.VALVE_STOP:
            service = "stop_valve"
        else:
            service = "open_valve" if state["state"] in ("closed", "closing") else "close_valve"
    if service == "stop_valve":
        stop_moving(call, entity_id, state)
        return
    position = call.data["position"] if service == "set_valve_position" else 100 if service == "open_valve" else 0
    move_to(call, entity_id, state, position)


# --- alarm control panels -----------------------------------------------------------------

_ARMED = {
    "alarm_arm_home": "armed_home",
    "alarm_arm_away": "armed_away",
    "alarm_arm_night": "armed_night",
    "alarm_arm_vacation": "armed_vacation",
    "alarm_arm_custom_bypass": "armed_custom_bypass",
    "alarm_trigger": "triggered",
    "alarm_disarm": "disarmed",
}


@handles("alarm_control_panel", *_ARMED)
def _alarm(call: Call, entity_id: str, state: dict[str, Any]) -> None:
    """The base entity refuses to arm without a code when one is required
    (`check_code_arm_required`); the panel (as HA's manual panel) then refuses a wrong code,
    for disarming always and for arming when arming needs the code. No arming delay."""
    attrs, service = state["attributes"], call.service
    code = call.data.get("code") or None
    required = bool(attrs.get("code_arm_required", True))
    arming = service not in ("alarm_disarm", "alarm_trigger")
    if arming and code is None and required:
        raise P.ServiceValidationError(
            f"Arming requires a code but none was given for {entity_id}.",
            translation_key="code_arm_required",
            translation_domain="alarm_control_panel",
            translation_placeholders={"entity_id": entity_id},
        )
    secret = call.home.alarm_codes.get(entity_id)
    checks_code = service == "alarm_disarm" or (arming and required)
    if secret and checks_code and code != secret:
        raise P.ServiceValidationError(
            "Invalid alarm code provided",
            translation_key="invalid_code",
            translation_domain="manual",
            translation_placeholders=None,
        )
    call.write(entity_id, _ARMED[service])
