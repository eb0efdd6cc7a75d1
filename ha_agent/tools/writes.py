"""The tools that act: call a service, activate a scene, run a script, set a helper.

Each turns the model's arguments into one `Action` on resolved, policy-checked entity ids.
Targets given as areas, floors, labels or devices are expanded here, the way Home Assistant
expands them, and sent to HA as the resulting entity ids: HA acts on exactly the entities the
policy checked, never on an entity the owner did not expose that happens to share an area.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from data_api import Entity
from ha_agent.home import GENERIC_DOMAIN, HomeError, Snapshot, effective_service

from .errors import ToolError
from .plan import Action, Plan, plan_action, summarize
from .validate import CheckedData, check_service_data
from .wording import describe, the

# Target keys of call_service, and the group each one names.
_GROUP_KEYS = {"area_id": "area", "floor_id": "floor", "label_id": "label", "device_id": "device"}
HELPER_SERVICES = ("input_number", "input_select", "input_text", "input_boolean", "input_datetime")
_UNKNOWN_EFFECTS = frozenset({"script", "automation"})


# --- call_service ------------------------------------------------------------------------------
def plan_call_service(home: Snapshot, args: dict[str, Any]) -> Plan:
    key = args["service"].strip().lower()
    domain, _, name = key.partition(".")
    if not domain or not name:
        raise ToolError("service must be 'domain.service', e.g. light.turn_on")
    service = home.service(key)
    if service is None:
        known = home.services_of(domain)
        more = f"; {domain} has: {', '.join(known)}" if known else f"; there is no {domain!r} domain"
        raise ToolError(f"unknown service {key!r}{more}")
    data = args.get("data") or {}
    if domain == "script" and not service.has_target and home.entity(key) is not None:
        return plan_script(home, {"script": key, "fields": data})  # a script by its own service
    refusal = home.policy.service_refusal(key)
    if refusal is not None:
        raise ToolError(f"refused: {refusal}")
    if not service.has_target:
        raise ToolError(
            f"refused: {key} acts on no entity, so nothing the owner exposed vouches for it; "
            "the assistant only calls services on exposed entities (and scripts, with run_script)"
        )
    target = args.get("target") or {}
    if not any(target.values()):
        raise ToolError(f"{key} needs a target: entity_id, area_id, floor_id, label_id or device_id")
    entity_ids = expand_target(home, domain, name, target)
    checked = check_service_data(service, data, home)
    read_only = service.response == "only"
    action = Action(
        domain,
        name,
        entity_ids,
        checked.data,
        related=checked.entity_ids,
        report=_scene_members(home, entity_ids) if domain == "scene" else (),
        return_response=read_only,
        read_only=read_only,
        # What a script or automation does is not known beforehand.
        touches_all=domain in _UNKNOWN_EFFECTS,
        summary=summarize(home, domain, name, entity_ids),
    )
    return plan_action(home, action)


def expand_target(home: Snapshot, domain: str, service: str, target: dict[str, Any]) -> tuple[str, ...]:
    """Entity ids a target reaches, in the order given; every problem reported at once."""
    own_domain = None if domain == GENERIC_DOMAIN else domain
    problems: list[str] = []
    refused: list[str] = []
    found: dict[str, Entity] = {}
    for ref in target.get("entity_id") or ():
        try:
            entity = home.resolve_entity(ref, (own_domain,) if own_domain else ())
        except HomeError as exc:
            problems.append(str(exc))
            continue
        found.setdefault(entity.entity_id, entity)
    for key, what in _GROUP_KEYS.items():
        for ref in target.get(key) or ():
            try:
                group_id = home.resolve_group(what, ref)
            except HomeError as exc:
                problems.append(str(exc))
                continue
            # Like HA, a group reaches only the members the service applies to (a sensor in the
            # area is no reason to refuse "turn off the garage"); named entities must all fit.
            members = [home.entities[e] for e in home.members(what, group_id)]
            members = [e for e in members if _misfit(home, domain, service, e) is None]
            if not members:
                problems.append(f"{what} {ref!r} has no entity {domain}.{service} applies to")
            for entity in members:
                refusal = home.policy.entity_refusal(entity)
                if refusal is not None:
                    reason = refusal.removeprefix(f"{entity.entity_id} ")
                    refused.append(f"{what} {ref!r} includes {entity.entity_id}, which {reason}")
                else:
                    found.setdefault(entity.entity_id, entity)
    problems += [m for m in (_misfit(home, domain, service, e) for e in found.values()) if m]
    if refused:
        others = ", ".join(found) or "none"
        hint = f"to act on the others, target them by entity_id: {others}"
        problems.append("refused: " + "; ".join(refused) + f" ({hint})")
    if problems:
        raise ToolError("; ".join(problems))
    return tuple(found)


def _misfit(home: Snapshot, domain: str, service: str, entity: Entity) -> str | None:
    """Why the service cannot act on this entity: a service acts on entities of its own
    domain; `homeassistant.*` on any whose domain has the service it maps to."""
    if domain == GENERIC_DOMAIN:
        runs = effective_service(domain, service, entity.domain)
        if home.service(runs) is None:
            return f"{domain}.{service} cannot act on {entity.entity_id} ({runs} does not exist)"
        return None
    if entity.domain != domain:
        return (
            f"{domain}.{service} cannot act on {entity.entity_id}: use a {entity.domain} service "
            f"({', '.join(home.services_of(entity.domain)) or 'none'})"
        )
    return None


# --- scenes and scripts --------------------------------------------------------------------
def plan_scene(home: Snapshot, args: dict[str, Any]) -> Plan:
    scene = _one_of_domain(home, args["scene"], "scene")
    action = Action(
        "scene",
        "turn_on",
        (scene.entity_id,),
        report=_scene_members(home, (scene.entity_id,)),
        summary=describe("scene.turn_on", [scene.name]),
    )
    return plan_action(home, action)


def _scene_members(home: Snapshot, scenes: tuple[str, ...]) -> tuple[str, ...]:
    """The usable entities the scenes set (HA lists them in the scene's `entity_id`)."""
    members: dict[str, None] = {}
    for scene in scenes:
        entity = home.entity(scene)
        for member in (entity.attributes.get("entity_id") if entity else None) or ():
            if home.usable(member):
                members.setdefault(member)
    return tuple(members) or scenes


def plan_script(home: Snapshot, args: dict[str, Any]) -> Plan:
    script = _one_of_domain(home, args["script"], "script")
    service = home.service(script.entity_id)  # script.x's service is named script.x
    if service is None:
        raise ToolError(f"{script.entity_id} cannot be run right now (Home Assistant lists no service for it)")
    checked: CheckedData = check_service_data(service, args.get("fields") or {}, home)
    action = Action(
        "script",
        script.entity_id.partition(".")[2],
        (script.entity_id,),
        checked.data,
        targeted=False,
        related=checked.entity_ids,
        # Scripts declaring a response give it back; a script's other effects are unknown.
        return_response=service.response is not None,
        touches_all=True,
        summary=describe("script.turn_on", [script.name]),
    )
    return plan_action(home, action)


def _one_of_domain(home: Snapshot, ref: str, domain: str) -> Entity:
    entity = home.resolve_entity(ref, (domain,))
    if entity.domain != domain:
        raise ToolError(f"{entity.entity_id} is not a {domain}")
    return entity


# --- helpers ------------------------------------------------------------------------------
def plan_helper(home: Snapshot, args: dict[str, Any]) -> Plan:
    helper = home.resolve_entity(args["helper"], HELPER_SERVICES)
    if helper.domain not in HELPER_SERVICES:
        raise ToolError(
            f"set_helper sets {', '.join(HELPER_SERVICES)}; for {helper.entity_id} use call_service "
            f"({', '.join(f'{helper.domain}.{s}' for s in home.services_of(helper.domain)) or 'no services'})"
        )
    service, data = _helper_call(helper, args["value"])
    action = Action(
        helper.domain, service, (helper.entity_id,), data, summary=f"set {the(helper.name)} to {args['value']}"
    )
    return plan_action(home, action)


def _helper_call(helper: Entity, value: Any) -> tuple[str, dict[str, Any]]:
    """The service and data that set `helper` to `value`, checked against its attributes."""
    a = helper.attributes
    name = helper.entity_id
    if helper.domain == "input_number":
        number = _as_number(value)
        low, high = a.get("min"), a.get("max")
        if number is None or (low is not None and number < low) or (high is not None and number > high):
            raise ToolError(f"{name} takes a number from {low} to {high}, not {value!r}")
        return "set_value", {"value": number}
    if helper.domain == "input_select":
        options = [str(o) for o in a.get("options") or ()]
        match = next((o for o in options if o.casefold() == str(value).strip().casefold()), None)
        if match is None:
            raise ToolError(f"{name} takes one of {', '.join(options)}, not {value!r}")
        return "select_option", {"option": match}
    if helper.domain == "input_text":
        text = str(value)
        low, high = a.get("min", 0), a.get("max", 255)
        if not low <= len(text) <= high:
            raise ToolError(f"{name} takes text of {low} to {high} characters, not {len(text)}")
        return "set_value", {"value": text}
    if helper.domain == "input_boolean":
        flag = (
            value
            if isinstance(value, bool)
            else {"on": True, "true": True, "off": False, "false": False}.get(str(value).strip().lower())
        )
        if flag is None:
            raise ToolError(f"{name} takes true or false, not {value!r}")
        return ("turn_on" if flag else "turn_off"), {}
    return "set_datetime", _datetime_data(helper, str(value).strip())


def _datetime_data(helper: Entity, text: str) -> dict[str, Any]:
    has_date, has_time = helper.attributes.get("has_date", True), helper.attributes.get("has_time", True)
    try:
        if has_date and has_time:
            return {"datetime": datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S")}
        if has_date:
            return {"date": date.fromisoformat(text).isoformat()}
        return {"time": time.fromisoformat(text).strftime("%H:%M:%S")}
    except ValueError:
        wanted = "YYYY-MM-DD HH:MM" if has_date and has_time else "YYYY-MM-DD" if has_date else "HH:MM"
        raise ToolError(f"{helper.entity_id} takes a value like {wanted}, not {text!r}") from None


def _as_number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        number = float(str(value))
    except ValueError:
        return None
    return int(number) if number.is_integer() else number
