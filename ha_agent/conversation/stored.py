"""How what the code did is kept in a conversation's history, so a model later sees it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from ha_agent.history import StoredMessage
from ha_agent.tools import ToolOutcome
from ha_agent.tools.outcome import compact_json

_ENTITY_ID = re.compile(r"\b[a-z_]+\.[a-z0-9_]+\b")
RECENT_MESSAGES = 12  # how far back "entities used earlier" looks; a window reads at least these


def tool_round(outcomes: Sequence[ToolOutcome]) -> list[dict[str, Any]]:
    """Calls the code made (the local engine, a confirmed question) as a stored tool round."""
    if not outcomes:
        return []
    calls = [
        {"id": o.id, "type": "function", "function": {"name": o.name, "arguments": _text(o.arguments)}}
        for o in outcomes
    ]
    return [{"role": "assistant", "content": None, "tool_calls": calls}, *(o.as_tool_message() for o in outcomes)]


def _text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else compact_json(arguments)


def recent_entity_ids(messages: Sequence[StoredMessage]) -> list[str]:
    """Entity ids the recent turns touched (tool calls and results), newest first."""
    seen: dict[str, None] = {}
    for message in reversed(messages):
        texts: Iterable[str] = [message.content or ""]
        if message.tool_calls:
            texts = [*texts, *(str(call.get("function", {}).get("arguments", "")) for call in message.tool_calls)]
        for text in texts:
            for entity_id in _ENTITY_ID.findall(text):
                seen.setdefault(entity_id, None)
    return list(seen)
