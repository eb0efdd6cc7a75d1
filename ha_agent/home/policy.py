"""What the assistant may read and do: the owner's policy, from settings only.

Nothing the model sends and nothing in the home's data (names, states) reaches these rules as
anything but a value to compare: the model can narrow what it does, never widen it.

- An entity is usable when HA exposes it to Assist, no deny rule names it (entity pattern or
  domain) and, if allow lists are set, one of them names it.
- A service is refused when a deny pattern matches it, per targeted entity after mapping
  `homeassistant.turn_on/turn_off/toggle` to the service it really runs on that entity
  (`homeassistant.turn_on` on a cover opens it), so a generic service is no way around a rule.
- A confirmation rule `service[@class|class]` asks the user first when it matches; with device
  classes, only for targets of those classes (garage doors, not blinds).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from data_api import Entity
from data_api.platform.settings import ToolSettings

# homeassistant.<service> runs <domain>.<service> on each entity, except on covers (HA core,
# components/homeassistant/__init__.py: turn_on/turn_off/toggle map to open/close/toggle).
GENERIC_DOMAIN = "homeassistant"
_COVER_SERVICES = {"turn_on": "open_cover", "turn_off": "close_cover", "toggle": "toggle"}
EXPOSE_HINT = "the owner can expose it in Home Assistant: Settings > Voice assistants > Expose"


def effective_service(domain: str, service: str, entity_domain: str) -> str:
    """The `domain.service` a call really runs on an entity of `entity_domain`."""
    if domain != GENERIC_DOMAIN:
        return f"{domain}.{service}"
    if entity_domain == "cover" and service in _COVER_SERVICES:
        return f"cover.{_COVER_SERVICES[service]}"
    return f"{entity_domain}.{service}"


@dataclass(frozen=True, slots=True)
class ConfirmRule:
    pattern: str
    device_classes: frozenset[str]  # empty: every target

    @classmethod
    def parse(cls, text: str) -> ConfirmRule:
        pattern, _, classes = text.partition("@")
        return cls(pattern.strip(), frozenset(c.strip() for c in classes.split("|") if c.strip()))

    def matches(self, service: str, entity: Entity | None) -> bool:
        if not fnmatchcase(service, self.pattern):
            return False
        if not self.device_classes:
            return True
        return entity is not None and (entity.device_class or "") in self.device_classes


def _any_match(value: str, patterns: Iterable[str]) -> bool:
    return any(fnmatchcase(value, p) for p in patterns)


class Policy:
    def __init__(
        self,
        *,
        allow_domains: Sequence[str] = (),
        deny_domains: Sequence[str] = (),
        allow_entities: Sequence[str] = (),
        deny_entities: Sequence[str] = (),
        deny_services: Sequence[str] = (),
        confirm: Sequence[str] = (),
        confirm_script_domains: Sequence[str] = (),
        confirm_unknown_effects: bool = False,
    ) -> None:
        self.allow_domains = frozenset(allow_domains)
        self.deny_domains = frozenset(deny_domains)
        self.allow_entities = tuple(allow_entities)
        self.deny_entities = tuple(deny_entities)
        self.deny_services = tuple(deny_services)
        self.confirm_rules = tuple(ConfirmRule.parse(rule) for rule in confirm)
        self.confirm_script_domains = frozenset(confirm_script_domains)
        self.confirm_unknown_effects = confirm_unknown_effects

    @property
    def rules(self) -> tuple[Any, ...]:
        """Everything the policy decides by: equal rules, equal decisions (a cache key)."""
        return (
            self.allow_domains,
            self.deny_domains,
            self.allow_entities,
            self.deny_entities,
            self.deny_services,
            self.confirm_rules,
            self.confirm_script_domains,
            self.confirm_unknown_effects,
        )

    @classmethod
    def from_settings(cls, settings: ToolSettings) -> Policy:
        return cls(
            allow_domains=settings.allow_domains,
            deny_domains=settings.deny_domains,
            allow_entities=settings.allow_entities,
            deny_entities=settings.deny_entities,
            deny_services=settings.deny_services,
            confirm=settings.confirm,
            confirm_script_domains=settings.confirm_script_domains,
            confirm_unknown_effects=settings.confirm_unknown_effects,
        )

    # --- entities ---------------------------------------------------------------------------
    def entity_refusal(self, entity: Entity) -> str | None:
        """Why the assistant may not use this entity, or None if it may."""
        entity_id = entity.entity_id
        if not entity.exposed:
            return f"{entity_id} is not exposed to the assistant ({EXPOSE_HINT})"
        if entity.domain in self.deny_domains or _any_match(entity_id, self.deny_entities):
            return f"{entity_id} is on the owner's deny list"
        if (self.allow_domains or self.allow_entities) and not (
            entity.domain in self.allow_domains or _any_match(entity_id, self.allow_entities)
        ):
            return f"{entity_id} is not on the owner's allow list"
        return None

    def usable(self, entity: Entity) -> bool:
        return self.entity_refusal(entity) is None

    # --- services ---------------------------------------------------------------------------
    def service_refusal(self, service: str) -> str | None:
        if _any_match(service, self.deny_services):
            return f"{service} is a service the owner does not let the assistant call"
        return None

    def needs_confirmation(self, service: str, entity: Entity | None) -> bool:
        return any(rule.matches(service, entity) for rule in self.confirm_rules)

    def may_need_confirmation(self, entity: Entity, services: Iterable[str]) -> bool:
        """Whether changing `entity` in some way (a scene sets a state, not a service) could
        need confirmation: a rule matches one of its domain's `services`, or, where none are
        known, a rule names its domain at all."""
        keys = [f"{entity.domain}.{service}" for service in services]
        if not keys:
            keys = [f"{entity.domain}.{rule.pattern.partition('.')[2] or '*'}" for rule in self.confirm_rules]
        return any(rule.matches(key, entity) for key in keys for rule in self.confirm_rules)
