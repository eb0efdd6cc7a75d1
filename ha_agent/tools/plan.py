"""What one tool call will do, decided before anything runs: its reads, its writes, its action.

Every tool that changes the home ends in an `Action`: one service call on entity ids the
policy has checked one by one. Scenes, scripts and helpers are actions too, so no tool is a
way around a rule. The executor orders calls by the entity sets a plan declares.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from data_api import Entity
from ha_agent.home import GENERIC_DOMAIN, Snapshot, effective_service

from .effects import UNREADABLE, Call, Effects, runs_of
from .errors import ToolError
from .wording import describe, the, third_person


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
    reasons: tuple[str, ...] = ()  # why, where a target does not say it ("changes the Garage Door")
    # Scripts and automations the action runs whose effects are not checked yet: the toolbox
    # reads their configurations and plans again (`plan_action(..., effects=...)`).
    runs: tuple[str, ...] = ()

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


def plan_action(
    home: Snapshot, action: Action, *, confirmed: bool = False, effects: Mapping[str, Effects] | None = None
) -> Plan:
    """Check an action against the policy now (again, for a confirmed one) and plan it.

    What it reaches through scenes, scripts and automations is checked like a direct target:
    `effects` holds the scripts' and automations' (see `effects.py`); without it, a plan that
    runs any says so in `runs`, and is not to be executed until planned again with them.
    """
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
    reach = Reach(home, effects)
    for entity in entities:
        reach.through(effective_service(action.domain, action.service, entity.domain), entity)
    problems += reach.problems
    if problems:
        raise ToolError("refused: " + "; ".join(dict.fromkeys(problems)))
    confirm = (
        not confirmed
        and not action.read_only
        and (
            any(
                policy.needs_confirmation(effective_service(action.domain, action.service, e.domain), e)
                for e in entities
            )
            or (not entities and policy.needs_confirmation(action.key, None))
            or bool(reach.reasons)
        )
    )
    ids = frozenset((*action.entity_ids, *action.related, *action.report))
    if action.read_only:
        return Plan(reads=ids, action=action)
    return Plan(
        writes=ids,
        writes_all=action.touches_all,
        action=action,
        confirm=confirm,
        reasons=tuple(dict.fromkeys(reach.reasons)) if confirm else (),
        runs=tuple(reach.unchecked),
    )


class Reach:
    """What an action reaches through scenes, scripts and automations, checked member by
    member: a member the assistant may not use refuses the whole call, one that needs
    confirmation makes the whole call ask (`reasons` says which, in plain words)."""

    def __init__(self, home: Snapshot, effects: Mapping[str, Effects] | None) -> None:
        self.home = home
        self.effects = effects
        self.problems: list[str] = []
        self.reasons: list[str] = []
        self.unchecked: list[str] = []
        self._seen: set[str] = set()  # scripts that run each other are checked once

    def through(self, service: str, entity: Entity, via: str = "") -> None:
        """`service` acting on `entity` (`via`: the scene or script that does it)."""
        domain, _, name = service.partition(".")
        if entity.entity_id in self._seen:
            return
        self._seen.add(entity.entity_id)
        if entity.domain == "scene" and service == "scene.turn_on":
            self._scene(entity, via)
        elif runs_of(domain, name, entity.entity_id):
            self._run(entity, via)

    def _scene(self, scene: Entity, via: str) -> None:
        policy = self.home.policy
        for member_id in scene.attributes.get("entity_id") or ():
            member = self.home.entity(str(member_id))
            if member is None:
                continue  # HA skips a member it does not have
            refusal = policy.entity_refusal(member)
            if refusal is not None:
                self.problems.append(
                    f"{via or scene.entity_id} sets {member.entity_id}, which "
                    + refusal.removeprefix(f"{member.entity_id} ")
                )
            elif policy.may_need_confirmation(member, self.home.services_of(member.domain)):
                self.reasons.append(f"changes {the(member.name)}")

    def _run(self, runnable: Entity, via: str) -> None:
        if self.effects is None:
            self.unchecked.append(runnable.entity_id)
            return
        effects = self.effects.get(runnable.entity_id, UNREADABLE)
        policy = self.home.policy
        who = via or runnable.entity_id
        for call in effects.calls:
            call_domain = call.service.partition(".")[0]
            refusal = policy.service_refusal(call.service)
            if refusal is not None:
                self.problems.append(f"{who} calls {call.service}, which {refusal.removeprefix(call.service + ' ')}")
                continue
            asked = len(self.reasons)
            for target in self._targets(call):
                effective = effective_service(call_domain, call.service.partition(".")[2], target.domain)
                refusal = policy.entity_refusal(target)
                if refusal is not None:
                    self.problems.append(
                        f"{who} acts on {target.entity_id}, which " + refusal.removeprefix(f"{target.entity_id} ")
                    )
                    continue
                if policy.needs_confirmation(effective, target):
                    self.reasons.append(third_person(describe(effective, [target.name])))
                self.through(effective, target, who)  # a scene or script it runs in turn
            if len(self.reasons) == asked and call_domain in policy.confirm_script_domains:
                self.reasons.append(f"calls {call.service}")  # whatever its targets (templates, devices)
        if effects.unknown and policy.confirm_unknown_effects:
            self.reasons.append(f"does what its configuration does not show: {'; '.join(effects.unknown)}")

    def _targets(self, call: Call) -> list[Entity]:
        found: dict[str, Entity] = {}
        for entity_id in call.entity_ids:
            entity = self.home.entity(entity_id)
            if entity is not None:
                found.setdefault(entity_id, entity)
        domain, _, name = call.service.partition(".")
        if domain == "script" and name not in ("turn_on", "toggle", "turn_off", "reload"):
            script = self.home.entity(call.service)  # `script.<name>` runs that script
            if script is not None:
                found.setdefault(script.entity_id, script)
        for what, group_id in call.groups:
            for member_id in self.home.members(what, group_id):
                member = self.home.entity(member_id)
                if member is not None and (domain == GENERIC_DOMAIN or member.domain == domain):
                    found.setdefault(member_id, member)
        return list(found.values())


def summarize(home: Snapshot, domain: str, service: str, entity_ids: tuple[str, ...]) -> str:
    """`unlock the Front Door`, `turn on the Kitchen, the Hall and 3 more`: the action in plain words."""
    names = [home.entities[e].name if e in home.entities else e for e in entity_ids]
    if domain == GENERIC_DOMAIN and entity_ids:
        first = home.entities.get(entity_ids[0])
        if first is not None and all(e.startswith(f"{first.domain}.") for e in entity_ids):
            return describe(effective_service(domain, service, first.domain), names)
    return describe(f"{domain}.{service}", names)
