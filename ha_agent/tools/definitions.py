"""The tool set the model sees: seven compact functions with the reach of HA's Assist tools.

Home Assistant's Assist API offers 16 intent tools (turn on/off, light set, position,
media controls, volume, lists, vacuum, timers, live context: 1,847 tokens). One generic
`call_service` over the mirror's service list covers every one of them and every other
targeted service, so the set stays small: the schemas are sent with every request, and
every token here is paid on every turn. The list is built once and never changes, so it
stays part of the cacheable prompt prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ha_agent.home import Snapshot

from .plan import Plan
from .reads import plan_get_state, plan_history, plan_search
from .writes import plan_call_service, plan_helper, plan_scene, plan_script

_IDS = {"type": "array", "items": {"type": "string"}}
_TEXT = {"type": "string"}
_OBJECT = {"type": "object"}


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    properties: dict[str, Any]
    required: tuple[str, ...]
    plan: Callable[[Snapshot, dict[str, Any]], Plan]

    @property
    def parameters(self) -> dict[str, Any]:
        parameters: dict[str, Any] = {"type": "object", "properties": self.properties}
        if self.required:
            parameters["required"] = list(self.required)
        return parameters

    def schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


TOOLS: tuple[Tool, ...] = (
    Tool(
        "get_state",
        "Current state of entities (ids or names), or of all in an area/floor/domain.",
        {"entities": _IDS, "area": _TEXT, "floor": _TEXT, "domain": _TEXT},
        (),
        plan_get_state,
    ),
    Tool(
        "search_entities",
        "Find entities by words: name, alias, area, kind (e.g. 'bedroom lamp').",
        {"query": _TEXT, "domain": _TEXT, "limit": {"type": "integer"}},
        ("query",),
        plan_search,
    ),
    Tool(
        "call_service",
        "Call a service, e.g. light.turn_on, on targets given by ids or names; data uses the service's fields.",
        {
            "service": _TEXT,
            "target": {
                "type": "object",
                "properties": {
                    "entity_id": _IDS,
                    "area_id": _IDS,
                    "floor_id": _IDS,
                    "label_id": _IDS,
                    "device_id": _IDS,
                },
            },
            "data": _OBJECT,
        },
        ("service",),
        plan_call_service,
    ),
    Tool("activate_scene", "Activate a scene.", {"scene": _TEXT}, ("scene",), plan_scene),
    Tool("run_script", "Run a script with its fields.", {"script": _TEXT, "fields": _OBJECT}, ("script",), plan_script),
    Tool(
        "set_helper",
        "Set an input_number, input_select, input_text, input_boolean or input_datetime.",
        {"helper": _TEXT, "value": {"type": ["string", "number", "boolean"]}},
        ("helper", "value"),
        plan_helper,
    ),
    Tool(
        "get_history",
        "State changes of an entity over the last hours (default 24).",
        {"entity": _TEXT, "hours": {"type": "number"}},
        ("entity",),
        plan_history,
    ),
)

TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}
