"""The tools that read: entity states, search, and an entity's recent history.

Names are resolved when the call is planned (names do not change within a turn); states are
read from the mirror when the call runs, which is after any write of the same turn to the
same entities, so a read reports the new state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ha_agent.home import HomeError, Snapshot

from .errors import ToolError
from .plan import Plan
from .states import state_row

MAX_ROWS = 50  # states listed by one get_state, at most
MAX_MATCHES = 25
MAX_POINTS = 50  # history changes returned, the most recent
MAX_HOURS = 24 * 7


def plan_get_state(home: Snapshot, args: dict[str, Any]) -> Plan:
    refs = args.get("entities") or []
    filters = {k: args[k] for k in ("area", "floor", "domain") if args.get(k)}
    if not refs and not filters:
        raise ToolError("give entities (ids or names), or an area, floor or domain to list")
    chosen: dict[str, None] = {}
    problems: list[str] = []
    for ref in refs:
        try:
            chosen.setdefault(home.resolve_entity(ref).entity_id)
        except HomeError as exc:
            problems.append(str(exc))
    listed = _filtered(home, filters) if filters else []
    more = max(0, len(listed) - MAX_ROWS)
    for entity_id in listed[:MAX_ROWS]:
        chosen.setdefault(entity_id)
    if not chosen:
        if problems:
            raise ToolError("; ".join(problems))
        raise ToolError(f"no entity the assistant may read matches {_words(filters)}")
    ids = tuple(chosen)

    async def read(env: Any) -> dict[str, Any]:
        result: dict[str, Any] = {"states": await _rows(env, home, ids)}
        if more:
            result["more"] = f"{more} more match; narrow by area, floor or domain"
        if problems:
            result["problems"] = problems
        return result

    return Plan(reads=frozenset(ids), read=read)


def _filtered(home: Snapshot, filters: dict[str, str]) -> list[str]:
    ids: set[str] | None = None
    for what in ("area", "floor"):
        if what in filters:
            members = set(home.members(what, home.resolve_group(what, filters[what])))
            ids = members if ids is None else ids & members
    entities = home.usable_entities(sorted(ids) if ids is not None else None)
    domain = filters.get("domain", "").strip().lower()
    if domain:
        if not any(e.domain == domain for e in home.entities.values()):
            raise ToolError(f"there are no entities of domain {domain!r}")
        entities = [e for e in entities if e.domain == domain]
    return [e.entity_id for e in entities]


def _words(filters: dict[str, str]) -> str:
    return ", ".join(f"{k} {v!r}" for k, v in filters.items())


async def _rows(env: Any, home: Snapshot, ids: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows from the mirror as it is now (after any write this call waited for)."""
    entities = (await env.home.kind("entities")).items
    return [state_row(entities[e], home.area_name(entities[e].area_id)) for e in ids if e in entities]


def plan_search(home: Snapshot, args: dict[str, Any]) -> Plan:
    domain = (args.get("domain") or "").strip().lower()
    limit = max(1, min(int(args.get("limit") or 10), MAX_MATCHES))
    ids = tuple(home.search(args["query"], (domain,) if domain else (), limit))

    async def read(env: Any) -> dict[str, Any]:
        rows = await _rows(env, home, ids)
        if not rows:
            return {"matches": [], "note": "nothing matched: try other words, or get_state with an area"}
        return {"matches": rows}

    return Plan(reads=frozenset(ids), read=read)


def plan_history(home: Snapshot, args: dict[str, Any]) -> Plan:
    entity = home.resolve_entity(args["entity"])
    hours = float(args.get("hours") or 24)
    if not 0 < hours <= MAX_HOURS:
        raise ToolError(f"hours must be more than 0 and at most {MAX_HOURS}")
    zone = _zone(home.time_zone())

    async def read(env: Any) -> dict[str, Any]:
        end = datetime.now(UTC)
        answer = await env.actions.history([entity.entity_id], end - timedelta(hours=hours), end)
        points = next((p for p in answer if p and p[0].get("entity_id", entity.entity_id) == entity.entity_id), [])
        changes = [[_local(p.get("last_changed"), zone), p.get("state")] for p in points]
        result: dict[str, Any] = {"entity_id": entity.entity_id, "hours": _plain(hours)}
        result["changes"] = changes[-MAX_POINTS:]
        if len(changes) > MAX_POINTS:
            result["older_changes_left_out"] = len(changes) - MAX_POINTS
        return result

    return Plan(reads=frozenset({entity.entity_id}), read=read)


def _zone(name: str) -> Any:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return UTC


def _local(stamp: Any, zone: Any) -> str | None:
    """HA's ISO time as the home's local time, to the second (what a person would say)."""
    try:
        return datetime.fromisoformat(str(stamp)).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _plain(number: float) -> float | int:
    return int(number) if number.is_integer() else number
