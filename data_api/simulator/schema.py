"""A tiny validator with voluptuous' error messages, so bad input fails as it does in HA.

HA validates with voluptuous; callers see its wording in two forms:
`call_service` sends `str(err)` ("value must be at most 100 for dictionary value @
data['brightness_pct']") and other commands send `humanize_error` (the same plus ". Got 150").
Only what the simulator needs is here: mappings, numbers, strings, booleans, choices, lists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from .protocol import InvalidFormat

Validator = Callable[[Any], Any]

_ENTITY_ID = re.compile(r"^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$")


class Invalid(Exception):
    """One validation failure at a path inside the validated data."""

    def __init__(self, message: str, path: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        if not self.path:
            return self.message
        return f"{self.message} @ data[{']['.join(repr(p) for p in self.path)}]"

    def humanize(self, data: Any) -> str:
        """`voluptuous.humanize.humanize_error`: the message and the offending value."""
        value: Any = data
        for key in self.path:
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                value = None
                break
        return f"{self}. Got {value!r}"

    def as_ha_error(self) -> InvalidFormat:
        return InvalidFormat(str(self))


class Group(str):
    """A path step naming a vol.Exclusive/Inclusive group, which voluptuous prints as <name>."""

    def __repr__(self) -> str:
        return f"<{self}>"


def valid_entity_id(entity_id: str) -> bool:
    return bool(_ENTITY_ID.match(entity_id))


# --- value validators -----------------------------------------------------------------------


def number(
    min: float | None = None,
    max: float | None = None,
    *,
    integer: bool = False,
    clamp: bool = False,
) -> Validator:
    """vol.All(vol.Coerce(float|int), vol.Range|vol.Clamp(min, max))."""
    kind = int if integer else float

    def validate(value: Any) -> Any:
        try:
            result = kind(value)
        except (TypeError, ValueError):
            raise Invalid(f"expected {kind.__name__}") from None
        if min is not None and result < min:
            if not clamp:
                raise Invalid(f"value must be at least {min}")
            result = kind(min)
        if max is not None and result > max:
            if not clamp:
                raise Invalid(f"value must be at most {max}")
            result = kind(max)
        return result

    return validate


def string(value: Any) -> str:
    """cv.string: numbers become strings, containers and None are refused."""
    if isinstance(value, str):
        return value
    if value is None:
        raise Invalid("string value is None")
    if isinstance(value, (list, dict)):
        raise Invalid("value should be a string")
    return str(value)


def strict_string(value: Any) -> str:
    """A plain `str` in a vol.Schema: anything else is 'expected str'."""
    if not isinstance(value, str):
        raise Invalid("expected str")
    return value


def optional_string(value: Any) -> str | None:
    return None if value is None else strict_string(value)


def boolean(value: Any) -> bool:
    """cv.boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.lower().strip()
        if lowered in ("1", "true", "yes", "on", "enable"):
            return True
        if lowered in ("0", "false", "no", "off", "disable"):
            return False
    elif isinstance(value, (int, float)):
        return bool(value)
    raise Invalid(f"invalid boolean value {value}")


def strict_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("expected bool")
    return value


def one_of(options: Iterable[Any]) -> Validator:
    """vol.In."""
    choices = list(options)

    def validate(value: Any) -> Any:
        if value not in choices:
            raise Invalid(f"value must be one of {sorted(choices, key=str)}")
        return value

    return validate


def list_of(item: Validator, *, coerce: bool = False, min_len: int = 0) -> Validator:
    """`[item]`, or cv.ensure_list + `[item]` when `coerce`."""

    def validate(value: Any) -> list[Any]:
        if coerce and not isinstance(value, list):
            value = [] if value is None else [value]
        if not isinstance(value, list):
            raise Invalid("expected list")
        if len(value) < min_len:
            raise Invalid(f"length of value must be at least {min_len}")
        result = []
        for index, element in enumerate(value):
            try:
                result.append(item(element))
            except Invalid as err:
                raise Invalid(err.message, (index, *err.path)) from None
        return result

    return validate


def any_value(value: Any) -> Any:
    return value


def mapping(value: Any) -> dict[str, Any]:
    """`dict` in a vol.Schema."""
    if not isinstance(value, dict):
        raise Invalid("expected dict")
    return value


def dictionary(value: Any) -> dict[str, Any]:
    """A nested vol.Schema: 'expected a dictionary'."""
    if not isinstance(value, dict):
        raise Invalid("expected a dictionary")
    return value


def int_values(value: Any) -> dict[str, int]:
    """`{str: int}`."""
    value = dictionary(value)
    for key, item in value.items():
        if not isinstance(item, int):
            raise Invalid("expected int for dictionary value", (key,))
    return value


def entity_id(value: Any) -> str:
    """cv.entity_id."""
    text = string(value).lower()
    if not valid_entity_id(text):
        raise Invalid(f"Entity ID {value} is an invalid entity ID")
    return text


def entity_ids(value: Any) -> list[str]:
    """cv.entity_ids: a list or a comma separated string of entity ids (errors name the
    whole value, not the item)."""
    if value is None:
        raise Invalid("Entity IDs can not be None")
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    return [entity_id(item) for item in (value if isinstance(value, list) else [value])]


def target_ids(value: Any) -> Any:
    """The `entity_id` of an entity service: 'all', 'none' or entity ids."""
    if isinstance(value, str) and value.lower() in ("all", "none"):
        return value.lower()
    return entity_ids(value)


def id_list(value: Any) -> Any:
    """device_id / area_id / floor_id / label_id: 'none' or a list of strings."""
    if isinstance(value, str) and value.lower() == "none":
        return "none"
    return list_of(string, coerce=True)(value)


def date_value(value: Any) -> date:
    """cv.date: a date, or text in ISO form."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise Invalid("Not a parseable type")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("Could not parse date") from None


def datetime_value(value: Any) -> datetime:
    """cv.datetime: a datetime, or ISO text (a naive one is read later in the home's zone)."""
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise Invalid(f"Invalid datetime specified: {value}") from None


_PERIOD_KEYS = ("days", "hours", "minutes", "seconds", "milliseconds")


def time_period(value: Any) -> timedelta:
    """cv.time_period: "HH:MM[:SS]", seconds, or {days, hours, minutes, seconds}."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, dict):
        unknown = set(value) - set(_PERIOD_KEYS)
        if unknown or not value:
            raise Invalid("expected a time period dictionary")
        return timedelta(**{key: float(amount) for key, amount in value.items()})
    if isinstance(value, str) and ":" in value:
        sign = -1 if value.startswith("-") else 1
        parts = value.lstrip("+-").split(":")
        if len(parts) not in (2, 3):
            raise Invalid(f"offset {value} should be format 'HH:MM', 'HH:MM:SS' or 'HH:MM:SS.F'")
        try:
            hours, minutes = int(parts[0]), int(parts[1])
            seconds = float(parts[2]) if len(parts) == 3 else 0.0
        except ValueError:
            raise Invalid(f"offset {value} should be format 'HH:MM', 'HH:MM:SS' or 'HH:MM:SS.F'") from None
        return sign * timedelta(hours=hours, minutes=minutes, seconds=seconds)
    try:
        return timedelta(seconds=float(value))
    except (TypeError, ValueError):
        raise Invalid(f"Expected seconds, got {value}") from None


def at_least_one(*keys: str) -> Callable[[dict[str, Any]], None]:
    """cv.has_at_least_one_key."""

    def check(data: dict[str, Any]) -> None:
        if not any(key in data for key in keys):
            raise Invalid(f"must contain at least one of {', '.join(keys)}.")

    return check


def at_most_one(*keys: str) -> Callable[[dict[str, Any]], None]:
    """cv.has_at_most_one_key."""

    def check(data: dict[str, Any]) -> None:
        if sum(key in data for key in keys) > 1:
            raise Invalid(f"must contain at most one of {', '.join(keys)}.")

    return check


def together(
    *keys: str,
    group: str,
    message: str | None = None,
) -> Callable[[dict[str, Any]], None]:
    """vol.Inclusive: all keys of the group, or none of them."""

    def check(data: dict[str, Any]) -> None:
        present = sum(key in data for key in keys)
        if 0 < present < len(keys):
            raise Invalid(
                message or f"some but not all values in the same group of inclusion '{group}'", (Group(group),)
            )

    return check


# --- mappings -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Key:
    name: str
    validator: Validator = any_value
    required: bool = False
    default: Any = None  # only used when `has_default`
    has_default: bool = False
    group: str | None = None  # vol.Exclusive group


def required(name: str, validator: Validator = any_value) -> Key:
    return Key(name, validator, required=True)


def optional(name: str, validator: Validator = any_value, *, default: Any = ..., group: str | None = None) -> Key:
    return Key(name, validator, default=default, has_default=default is not ..., group=group)


class Schema:
    """vol.Schema over a dict; `extra` lets unknown keys through (vol.ALLOW_EXTRA)."""

    def __init__(self, keys: Iterable[Key], *, extra: bool = False) -> None:
        self.keys: dict[str, Key] = {key.name: key for key in keys}
        self.extra = extra

    def __call__(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise Invalid("expected a dictionary")
        result: dict[str, Any] = {}
        groups: dict[str, str] = {}
        for name, value in data.items():
            key = self.keys.get(name)
            if key is None:
                if not self.extra:
                    raise Invalid("extra keys not allowed", (name,))
                result[name] = value
                continue
            if key.group is not None:
                if key.group in groups:
                    raise Invalid(
                        f"two or more values in the same group of exclusion '{key.group}'",
                        (Group(key.group),),
                    )
                groups[key.group] = name
            try:
                result[name] = key.validator(value)
            except Invalid as err:
                message = err.message if err.path else f"{err.message} for dictionary value"
                raise Invalid(message, (name, *err.path)) from None
        for key in self.keys.values():
            if key.name in result:
                continue
            if key.required:
                raise Invalid("required key not provided", (key.name,))
            if key.has_default:
                result[key.name] = key.default
        return result

    def extend(self, keys: Iterable[Key], *, extra: bool | None = None) -> Schema:
        return Schema([*self.keys.values(), *keys], extra=self.extra if extra is None else extra)
