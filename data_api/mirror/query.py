"""The mirror's read interface: filtered, paginated listings with their freshness and version.

The REST API serves it over HTTP; the agent uses it in-process when both run in one process.
Filters ask the collections' own indexes (kept current on every write, `collection.py`), so
`entities?area=kitchen` is a dictionary lookup at any home size, and always of the copy read.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from data_api.ha import Entity

from .collection import Collection
from .views import VIEW_KINDS, Views

LIST_KINDS = ("floors", "areas", "labels", "devices", "entities", "services", "helpers", "scenes", "scripts")
MAX_LIMIT = 1000

# Which filters each kind understands; anything else is a clear 400, not a silent no-op.
FILTERS: dict[str, frozenset[str]] = {
    "floors": frozenset({"q"}),
    "labels": frozenset({"q"}),
    "areas": frozenset({"floor", "label", "q"}),
    "devices": frozenset({"area", "floor", "label", "q"}),
    "services": frozenset({"domain", "q"}),
    "entities": frozenset({"area", "floor", "domain", "device_id", "label", "exposed", "q"}),
    "helpers": frozenset({"area", "floor", "domain", "device_id", "label", "exposed", "q"}),
    "scenes": frozenset({"area", "floor", "label", "exposed", "q"}),
    "scripts": frozenset({"area", "floor", "label", "exposed", "q"}),
}


class QueryError(ValueError):
    """A filter, cursor or limit the caller must fix; the message says how."""


@dataclass(frozen=True, slots=True)
class Query:
    area: str | None = None
    floor: str | None = None
    domain: str | None = None
    device_id: str | None = None
    label: str | None = None
    exposed: bool | None = None
    q: str | None = None
    limit: int = 100
    cursor: str | None = None

    def filters(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("limit", "cursor") and getattr(self, f.name) is not None
        }


@dataclass(frozen=True, slots=True)
class Listing:
    kind: str
    items: list[Any]
    total: int
    next_cursor: str | None
    version: int
    fetched_at: datetime | None
    stale: bool


def encode_cursor(kind: str, key: str) -> str:
    raw = json.dumps([kind, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_kind, key = json.loads(raw)
    except (ValueError, binascii.Error, TypeError):
        raise QueryError("cursor is not valid: pass back the next_cursor of a previous page") from None
    if cursor_kind != kind or not isinstance(key, str):
        raise QueryError(f"cursor belongs to another listing than {kind}")
    return key


class MirrorReader:
    """Reads of the mirror, for the API and for an in-process agent."""

    def __init__(self, mirror: Any) -> None:
        self.mirror = mirror
        self._views = Views(mirror)

    # --- freshness ------------------------------------------------------------------------
    def freshness(self, data: Collection) -> tuple[datetime | None, bool]:
        return data.synced_at, self.mirror.stale or data.synced_at is None

    async def kind_data(self, kind: str) -> Collection:
        if kind in VIEW_KINDS:
            return await self._views.read(kind)
        return await self.mirror.read(kind)

    # --- reads ----------------------------------------------------------------------------
    async def config(self) -> Collection:
        return await self.mirror.read("config")

    async def entity(self, entity_id: str) -> tuple[Entity | None, Collection]:
        data = await self.mirror.read("entities")
        return data.items.get(entity_id), data

    async def list(self, kind: str, query: Query) -> Listing:
        if kind not in FILTERS:
            raise QueryError(f"unknown kind {kind!r}")
        if not 1 <= query.limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
        filters = query.filters()
        unknown = set(filters) - FILTERS[kind]
        if unknown:
            raise QueryError(
                f"filter {', '.join(sorted(unknown))} does not apply to {kind}; use {', '.join(sorted(FILTERS[kind]))}"
            )
        data = await self.kind_data(kind)
        keys = await self._select(kind, data, filters)
        total = len(keys)  # every match, not what is left after the cursor
        if query.cursor:
            after = decode_cursor(kind, query.cursor)
            keys = [k for k in keys if k > after]
        page = keys[: query.limit]
        fetched_at, stale = self.freshness(data)
        return Listing(
            kind=kind,
            items=[data.items[k] for k in page],
            total=total,
            next_cursor=encode_cursor(kind, page[-1]) if len(keys) > len(page) else None,
            version=data.version,
            fetched_at=fetched_at,
            stale=stale,
        )

    async def _select(self, kind: str, data: Collection, filters: dict[str, Any]) -> list[str]:
        """Keys matching every filter, in key order."""
        selected: set[str] | None = None

        def narrow(keys: Iterable[str]) -> None:
            nonlocal selected
            selected = set(keys) if selected is None else selected & set(keys)

        if "area" in filters:
            narrow(data.keys_with("area_id", await self._resolve("areas", filters["area"], "area")))
        if "floor" in filters:
            floor_id = await self._resolve("floors", filters["floor"], "floor")
            if kind == "devices":  # a device is on the floor of its area
                areas = await self.mirror.read("areas")
                narrow(k for a in areas.keys_with("floor_id", floor_id) for k in data.keys_with("area_id", a))
            else:
                narrow(data.keys_with("floor_id", floor_id))
        if "label" in filters:
            narrow(data.keys_with("labels", await self._resolve("labels", filters["label"], "label")))
        if "device_id" in filters:
            devices = await self.mirror.read("devices")
            if filters["device_id"] not in devices.items:
                raise QueryError(f"unknown device_id {filters['device_id']!r}")
            narrow(data.keys_with("device_id", filters["device_id"]))
        if "domain" in filters:
            by_domain = data.groups("domain")
            if filters["domain"] not in by_domain and kind in ("entities", "services"):
                raise QueryError(f"unknown domain {filters['domain']!r}; known: {_some(by_domain)}")
            narrow(by_domain.get(filters["domain"], ()))
        if "exposed" in filters:
            narrow(data.keys_with("exposed", filters["exposed"]))
        keys = sorted(selected) if selected is not None else sorted(data.items)
        if "q" in filters:
            needle = filters["q"].strip().casefold()
            keys = [k for k in keys if _matches(data.items[k], needle)]
        return keys

    async def _resolve(self, kind: str, value: str, what: str) -> str:
        """An id, name or alias (any case) of an area, floor or label → its id."""
        data = await self.mirror.read(kind)
        if value in data.items:
            return value
        named = sorted(data.named(value))
        if named:
            return named[0]
        raise QueryError(f"unknown {what} {value!r}; known: {_some(data.items)}")


def _matches(item: Any, needle: str) -> bool:
    haystack: list[str] = [item.key, getattr(item, "name", None) or ""]
    haystack += getattr(item, "aliases", ())
    for attr in ("manufacturer", "model", "description"):
        value = getattr(item, attr, None)
        if value:
            haystack.append(value)
    return any(needle in text.casefold() for text in haystack)


def _some(keys: Iterable[Any], limit: int = 10) -> str:
    names = sorted(str(k) for k in keys if k is not None)
    more = f", … ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


__all__ = ["FILTERS", "LIST_KINDS", "MAX_LIMIT", "Listing", "MirrorReader", "Query", "QueryError"]
