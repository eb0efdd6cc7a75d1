"""Checking a call's arguments against the tool's own JSON schema (one source of truth).

Models slip in small, predictable ways; what is unambiguous is accepted (a single id where a
list is expected, a number written as a string), everything else comes back as an error that
names the argument and what it should be. Every problem of a call is reported at once.
"""

from __future__ import annotations

from typing import Any

from .errors import ToolError

_TYPE_WORDS = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}


def check_arguments(tool: str, schema: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    problems: list[str] = []
    value = _object(args, schema, tool, problems, top=True)
    if problems:
        raise ToolError(f"invalid arguments for {tool}: " + "; ".join(problems))
    return value


def _object(
    value: dict[str, Any], schema: dict[str, Any], where: str, problems: list[str], top: bool = False
) -> dict[str, Any]:
    properties: dict[str, Any] = schema.get("properties", {})
    out: dict[str, Any] = {}
    if not properties:  # a free-form object (service data, script fields)
        return dict(value)
    for key, item in value.items():
        label = key if top else f"{where}.{key}"
        if key not in properties:
            problems.append(f"unknown argument {label!r} (takes {', '.join(properties)})")
            continue
        if item is None:  # an explicit null means "not given"
            continue
        checked = _value(item, properties[key], label, problems)
        if checked is not None:
            out[key] = checked
    for key in schema.get("required", ()):
        if value.get(key) is None:
            problems.append(f"missing {key!r}")
    return out


def _value(value: Any, schema: dict[str, Any], label: str, problems: list[str]) -> Any:
    types = schema.get("type")
    allowed = types if isinstance(types, list) else [types]
    for kind in allowed:
        converted = _convert(value, kind, schema, label, problems)
        if converted is not _NO:
            return converted
    wanted = " or ".join(_TYPE_WORDS.get(k, str(k)) for k in allowed)
    problems.append(f"{label} must be {wanted}, not {json_type(value)}")
    return None


_NO = object()


def _convert(value: Any, kind: str | None, schema: dict[str, Any], label: str, problems: list[str]) -> Any:
    if kind == "string":
        if isinstance(value, str):
            return value
        return _NO
    if kind in ("number", "integer"):
        if isinstance(value, bool):
            return _NO
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return _NO
        if isinstance(value, (int, float)):
            if kind == "integer":
                return int(value) if float(value).is_integer() else _NO
            return value
        return _NO
    if kind == "boolean":
        return value if isinstance(value, bool) else _NO
    if kind == "array":
        items = [value] if isinstance(value, str) else value  # one id for a list of ids
        if not isinstance(items, list):
            return _NO
        item_schema = schema.get("items", {})
        checked = [_value(item, item_schema, f"{label}[{n}]", problems) for n, item in enumerate(items)]
        return [item for item in checked if item is not None]
    if kind == "object":
        if not isinstance(value, dict):
            return _NO
        return _object(value, schema, label, problems)
    return value  # no type: anything


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
