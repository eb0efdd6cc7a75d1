"""What the LLM client returns: completions, tool calls, token usage and stream events.

Plain dataclasses, independent of the transport, so the agent, history and tests can build and
compare them without a server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import ToolArgumentsError


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens one request cost; `cached_tokens` is the part of the prompt the provider cached."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        # A user turn spans several model rounds; the agent reports their sum.
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cached_tokens + other.cached_tokens,
        )

    @classmethod
    def from_wire(cls, usage: Any) -> Usage:
        """Read OpenAI's `usage` object; servers that omit parts (or all) of it count as 0."""
        if not isinstance(usage, dict):
            return cls()
        details = usage.get("prompt_tokens_details")
        cached = details.get("cached_tokens") if isinstance(details, dict) else None
        return cls(_count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens")), _count(cached))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One function call the model asked for; `arguments` is the JSON text exactly as sent."""

    id: str
    name: str
    arguments: str

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; `ToolArgumentsError` says what is wrong if they are not one.

        An empty string counts as no arguments: some local servers send "" for tools without
        parameters where OpenAI sends "{}".
        """
        if not self.arguments.strip():
            return {}
        try:
            value = json.loads(self.arguments)
        except json.JSONDecodeError as exc:
            raise ToolArgumentsError(
                f"the arguments of tool call {self.name!r} ({self.id}) are not valid JSON: {exc.msg} "
                f"at character {exc.pos}"
            ) from None
        if not isinstance(value, dict):
            raise ToolArgumentsError(
                f"the arguments of tool call {self.name!r} ({self.id}) must be a JSON object, "
                f"not {type(value).__name__}"
            )
        return value

    def as_wire(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


@dataclass(frozen=True, slots=True)
class Completion:
    """One answer of the model: text, tool calls, or both."""

    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None

    def as_message(self) -> dict[str, Any]:
        """The assistant message to append to the history before answering its tool calls."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            # OpenAI rejects an empty `tool_calls` list, so the key is present only with calls.
            message["tool_calls"] = [call.as_wire() for call in self.tool_calls]
        elif self.content is None:
            # An assistant message needs content or tool calls; an empty answer is "".
            message["content"] = ""
        return message


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer's text while streaming, in order."""

    text: str


StreamEvent = TextDelta | Completion
