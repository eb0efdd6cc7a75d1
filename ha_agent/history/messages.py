"""What the history holds: stored messages and conversations, and the one place a message's
tokens are counted.

Messages come in and go out in OpenAI's chat format (`role`, `content`, `tool_calls`,
`tool_call_id`, `name`), the format `Completion.as_message()` produces and the LLM client sends.
A message dict may also carry `meta` (JSON: timings, usage), stored beside it and never sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ha_agent import tokens

ROLES = frozenset({"system", "user", "assistant", "tool"})
FIELDS = frozenset({"role", "content", "tool_calls", "tool_call_id", "name", "meta"})

# OpenAI's published way of counting chat messages: each message is framed by about 3 tokens
# (start marker, role, separator), and a `name` adds 1 beside its own text. The 3 tokens that
# prime the reply belong to the request, not to any message, so they are not counted here.
MESSAGE_OVERHEAD = 3
NAME_OVERHEAD = 1


class InvalidMessage(ValueError):
    """A message dict is not a valid OpenAI chat message; the text says which and why."""


class ConversationNotFound(LookupError):
    """No conversation has this id (never created, deleted, or purged)."""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One message as stored, in its conversation's order (`seq` counts from 1).

    Fields are in the order `ConversationStore` selects them; `tool_calls` is the list as sent
    (treat it as read-only: it is shared with `as_openai()`'s result, not copied).
    """

    id: str
    conversation_id: str
    seq: int
    role: str
    content: str | None
    tool_calls: list[dict[str, Any]] | None
    tool_call_id: str | None
    name: str | None
    token_count: int
    created_at: datetime
    meta: dict[str, Any] | None

    def as_openai(self) -> dict[str, Any]:
        """The message to send to the model (a new dict each call; no `meta`)."""
        message: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        if self.tool_call_id is not None:
            message["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            message["name"] = self.name
        return message

    def tool_call_ids(self) -> list[str]:
        """The ids of the calls an assistant message makes (its tool results answer them)."""
        return [call["id"] for call in self.tool_calls or ()]


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation; `messages` is filled by `ConversationStore.get`, empty in listings."""

    id: str
    home_id: str
    title: str | None
    created_at: datetime
    updated_at: datetime
    message_count: int
    messages: tuple[StoredMessage, ...] = ()


def check_message(message: Any, position: int = 0) -> None:
    """Refuse what the model's API would refuse later (or what would be silently lost)."""

    def fail(why: str) -> InvalidMessage:
        return InvalidMessage(f"message {position}: {why}")

    if not isinstance(message, Mapping):
        raise fail(f"expected a dict, not {type(message).__name__}")
    unknown = set(message) - FIELDS
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)}; allowed: {sorted(FIELDS)}")
    role = message.get("role")
    if role not in ROLES:
        raise fail(f"role must be one of {sorted(ROLES)}, not {role!r}")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise fail("content must be text or null")
    tool_calls = message.get("tool_calls")
    if tool_calls is not None:
        if role != "assistant":
            raise fail("only assistant messages carry tool_calls")
        if not isinstance(tool_calls, list) or not tool_calls:
            raise fail("tool_calls must be a non-empty list (leave it out when there are none)")
        for call in tool_calls:
            if not isinstance(call, Mapping) or not isinstance(call.get("id"), str):
                raise fail("each tool call must be a dict with a string 'id'")
    if content is None and not (role == "assistant" and tool_calls):
        raise fail(f"a {role} message needs content")
    tool_call_id = message.get("tool_call_id")
    if (role == "tool") != (tool_call_id is not None) or not isinstance(tool_call_id, str | None):
        raise fail("tool messages, and only they, carry a tool_call_id (text)")
    if not isinstance(message.get("name"), str | None):
        raise fail("name must be text")
    meta = message.get("meta")
    if meta is not None and not isinstance(meta, Mapping):
        raise fail("meta must be a dict")


def count_message_tokens(message: Mapping[str, Any], model: str) -> int:
    """Tokens a message costs in a prompt for `model`, counted once when it is stored.

    MESSAGE_OVERHEAD + content + tool calls (their compact JSON, as sent: this over-counts
    the ids and keys a little, which errs on the safe side of a budget) + NAME_OVERHEAD and the
    name, when there is one. `tool_call_id` is wire framing, not text the model reads.
    """
    count = MESSAGE_OVERHEAD
    content = message.get("content")
    if content:
        count += tokens.count_tokens(content, model)
    tool_calls = message.get("tool_calls")
    if tool_calls:
        count += tokens.count_tokens(json.dumps(tool_calls, separators=(",", ":"), ensure_ascii=False), model)
    name = message.get("name")
    if name:
        count += NAME_OVERHEAD + tokens.count_tokens(name, model)
    return count
