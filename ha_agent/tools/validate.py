"""Service data checked against the service's fields as the mirror knows them.

Catches before Home Assistant what a model typically gets wrong — a field the service does
not have, a required one left out, a number out of range, an option that does not exist — and
says what to fix in one error. It is a first line only: anything it lets through still meets
Home Assistant's own validation, whose message also goes back to the model.

Fields that name entities, areas, floors, labels or devices (their selector says so) accept
names and are resolved like targets; entities named in data are checked by the policy too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from data_api import Service, ServiceField
from ha_agent.home import HomeError

from .args import json_type
from .errors import ToolError

if TYPE_CHECKING:
    from ha_agent.home import Snapshot

TARGET_KEYS = ("entity_id", "device_id", "area_id", "floor_id", "label_id")
_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


@dataclass(frozen=True, slots=True)
class CheckedData:
    data: dict[str, Any]
    entity_ids: tuple[str, ...]  # entities the data names (entity selectors)


class _Invalid(Exception):
    pass


def check_service_data(service: Service, data: dict[str, Any], home: Snapshot) -> CheckedData:
    misplaced = [key for key in TARGET_KEYS if key in data]
    if misplaced and service.has_target:
        raise ToolError(f"put {', '.join(misplaced)} in `target`, not in `data`")
    fields = {f.name: f for f in service.fields}
    problems: list[str] = []
    unknown = [key for key in data if key not in fields]
    if unknown:
        valid = f"its fields: {', '.join(fields)}" if fields else "it takes no data fields"
        problems.append(f"{service.key} has no field {', '.join(map(repr, unknown))} ({valid})")
    problems += [f"{service.key} needs {f.name!r}" for f in service.fields if f.required and data.get(f.name) is None]
    out: dict[str, Any] = {}
    named: list[str] = []
    for key, value in data.items():
        spec = fields.get(key)
        if spec is None or value is None:
            continue
        try:
            out[key] = _check(spec, value, home, named)
        except _Invalid as exc:
            problems.append(f"{key} {exc}")
        except HomeError as exc:
            problems.append(f"{key}: {exc}")
    if problems:
        raise ToolError(f"invalid data for {service.key}: " + "; ".join(problems))
    return CheckedData(out, tuple(named))


def _selector(spec: ServiceField) -> tuple[str | None, dict[str, Any]]:
    if not spec.selector:
        return None, {}
    kind = next(iter(spec.selector))
    config = spec.selector[kind]
    return kind, config if isinstance(config, dict) else {}


def _check(spec: ServiceField, value: Any, home: Snapshot, named: list[str]) -> Any:
    kind, config = _selector(spec)
    if kind in ("number", "color_temp"):
        return _number(value, config)
    if kind == "boolean":
        return _boolean(value)
    if kind == "select":
        return _select(value, config)
    if kind == "color_rgb":
        if not (isinstance(value, list) and len(value) == 3 and all(_is_int(v) and 0 <= v <= 255 for v in value)):
            raise _Invalid(f"must be [red, green, blue] with each 0 to 255, not {value!r}")
        return value
    if kind in ("text", "time", "date", "datetime", "icon", "template"):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _Invalid(f"must be text, not {json_type(value)}")
        return value if isinstance(value, str) else str(value)
    if kind == "entity":
        return _entities(value, config, home, named)
    if kind in ("area", "floor", "label", "device"):
        return _map(value, config, lambda ref: home.resolve_group(kind, ref))
    return value  # object, color_hs, … : Home Assistant checks these


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any, config: dict[str, Any]) -> int | float:
    low, high = config.get("min"), config.get("max")
    number: Any = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
        else:
            number = int(number) if number.is_integer() else number
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise _Invalid(f"must be a number{_range(low, high)}, not {value!r}")
    if (low is not None and number < low) or (high is not None and number > high):
        raise _Invalid(f"must be{_range(low, high)}, not {value!r}")
    return number


def _range(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f" from {_plain(low)} to {_plain(high)}"
    if low is not None:
        return f" of at least {_plain(low)}"
    if high is not None:
        return f" of at most {_plain(high)}"
    return ""


def _plain(number: Any) -> Any:
    return int(number) if isinstance(number, float) and number.is_integer() else number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Invalid(f"must be true or false, not {value!r}")


def _select(value: Any, config: dict[str, Any]) -> Any:
    options = [o.get("value") if isinstance(o, dict) else o for o in config.get("options") or ()]
    if not options or config.get("custom_value"):
        return value
    by_fold = {str(o).casefold(): o for o in options}

    def one(item: Any) -> Any:
        match = by_fold.get(str(item).casefold())
        if match is None:
            raise _Invalid(f"must be one of {', '.join(map(str, options))}, not {item!r}")
        return match

    if config.get("multiple"):
        return [one(item) for item in (value if isinstance(value, list) else [value])]
    return one(value)


def _entities(value: Any, config: dict[str, Any], home: Snapshot, named: list[str]) -> Any:
    filters = config.get("filter") or []
    filters = filters if isinstance(filters, list) else [filters]
    domains = {d for f in filters for d in _as_list(f.get("domain"))} | set(_as_list(config.get("domain")))

    def one(ref: Any) -> str:
        entity = home.resolve_entity(str(ref), domains)
        named.append(entity.entity_id)
        return entity.entity_id

    return _map(value, config, one)


def _map(value: Any, config: dict[str, Any], resolve: Any) -> Any:
    if isinstance(value, list):
        return [resolve(item) for item in value]
    return resolve(value)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
