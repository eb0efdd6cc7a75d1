"""What one tool call will do, decided before anything runs: its reads, its writes, its action.

Every tool that changes the home ends in an `Action`: one service call on entity ids the
policy has checked one by one. Scenes, scripts and helpers are actions too, so no tool is a
way around a rule. The executor orders calls by the entity sets a plan declares.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from data_api.ha import Entity

from .errors import ToolError
from .policy import effective_service
from .snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class Action:
    domain: str
    service: str
    entity_ids: tuple[str, ...]  # every entity it acts on, checked by the policy
    data: Mapping[str, Any] = field(default_factory=dict)
    targeted: bool = True  # False: a script's own service, called without a target
    related: tuple[str, ...] = ()  # entities its data names (checked, not sent as the target)
    report: tuple[str, ...] = ()  # entities whose new state the result shows (default: targets)
    return_response: bool = False
    read_only: bool = False  # a service that only answers (weather.get_forecasts)
    touches_all: bool = False  # effects unknown beforehand (a script)
    summary: str = ""  # "unlock Front Door": how it is named to the user

    @property
    def key(self) -> str:
        return f"{self.domain}.{self.service}"

    @property
    def watched(self) -> tuple[str, ...]:
        return self.report or self.entity_ids

    def as_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "service": self.service,
            "entity_ids": list(self.entity_ids),
            "data": dict(self.data),
            "targeted": self.targeted,
            "related": list(self.related),
            "report": list(self.report),
            "return_response": self.return_response,
            "read_only": self.read_only,
            "touches_all": self.touches_all,
            "summary": self.summary,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Action:
        return cls(
            domain=str(data["domain"]),
            service=str(data["service"]),
            entity_ids=tuple(data.get("entity_ids") or ()),
            data=dict(data.get("data") or {}),
            targeted=bool(data.get("targeted", True)),
            related=tuple(data.get("related") or ()),
            report=tuple(data.get("report") or ()),
            return_response=bool(data.get("return_response", False)),
            read_only=bool(data.get("read_only", False)),
            touches_all=bool(data.get("touches_all", False)),
            summary=str(data.get("summary") or ""),
        )


Reader = Callable[[Any], Awaitable[Any]]  # receives the ToolEnv


@dataclass(frozen=True, slots=True)
class Plan:
    reads: frozenset[str] = frozenset()
    writes: frozenset[str] = frozenset()
    writes_all: bool = False  # its effects are not known beforehand (a script)
    read: Reader | None = None
    action: Action | None = None
    confirm: bool = False  # the policy wants the user's yes first

    @property
    def is_write(self) -> bool:
        return self.action is not None and not self.action.read_only

    def waits_for(self, other: Plan, other_first: bool) -> bool:
        """Whether this call must run after `other` (`other_first`: the model gave it first).

        Writes on overlapping entities keep the model's order; a read of an entity that any
        write of the turn changes runs after that write, so it reports the new state.
        """
        if not other.is_write:
            return False
        if self.is_write:
            return other_first and (self.writes_all or other.writes_all or bool(self.writes & other.writes))
        return other.writes_all or bool(self.reads & other.writes)


def plan_action(home: Snapshot, action: Action, *, confirmed: bool = False) -> Plan:
    """Check an action against the policy now (again, for a confirmed one) and plan it."""
    policy = home.policy
    problems: list[str] = []
    entities: list[Entity] = []
    for position, entity_id in enumerate((*action.entity_ids, *action.related)):
        entity = home.entity(entity_id)
        if entity is None:
            problems.append(f"{entity_id} does not exist (any more)")
            continue
        refusal = policy.entity_refusal(entity)
        if refusal is not None:
            problems.append(refusal)
            continue
        if position >= len(action.entity_ids):
            continue  # named in the data: usable is enough, the service does not run on it
        entities.append(entity)
        refusal = policy.service_refusal(effective_service(action.domain, action.service, entity.domain))
        if refusal is not None:
            problems.append(refusal)
    own = policy.service_refusal(action.key)
    if own is not None:
        problems.insert(0, own)
    if problems:
        raise ToolError("refused: " + "; ".join(dict.fromkeys(problems)))
    confirm = not confirmed and not action.read_only and (
        any(policy.needs_confirmation(effective_service(action.domain, action.service, e.domain), e)
            for e in entities)  # fmt: skip
        or (not entities and policy.needs_confirmation(action.key, None))
    )
    ids = frozenset((*action.entity_ids, *action.related, *action.report))
    if action.read_only:
        return Plan(reads=ids, action=action)
    return Plan(writes=ids, writes_all=action.touches_all, action=action, confirm=confirm)


def summarize(home: Snapshot, domain: str, service: str, entity_ids: tuple[str, ...]) -> str:
    """`unlock Front Door`, `turn on Kitchen, Hall and 3 more`: the action in plain words."""
    verb = service.replace("_", " ")
    names = [home.entities[e].name if e in home.entities else e for e in entity_ids]
    if not names:
        return f"run {domain}.{service}"
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"{verb} {shown}"
