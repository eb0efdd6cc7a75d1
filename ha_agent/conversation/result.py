"""What a turn gives back: the reply, the calls made, tokens and timings, and how it was answered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ha_agent.llm import LLMError, LLMRateLimited, LLMTimeout, Usage
from ha_agent.tools import OpenQuestion, ToolOutcome


class TurnError(Exception):
    """The turn could not be answered (the model failed); the user's message is kept."""

    def __init__(self, message: str, conversation_id: str, status: int = 502) -> None:
        super().__init__(message)
        self.conversation_id = conversation_id
        self.status = status

    @classmethod
    def of(cls, exc: LLMError, conversation_id: str) -> TurnError:
        """The model's failure, with the HTTP status that tells a client what kind it was."""
        status = 503 if isinstance(exc, LLMRateLimited) else 504 if isinstance(exc, LLMTimeout) else 502
        return cls(exc.user_message, conversation_id, status)


@dataclass
class Timings:
    context_ms: float = 0.0
    llm_ms: float = 0.0
    tools_ms: float = 0.0
    total_ms: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 2) for k, v in self.__dict__.items()}


@dataclass
class TurnResult:
    conversation_id: str
    reply: str
    tool_calls: list[ToolOutcome] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    timings: Timings = field(default_factory=Timings)
    path: str = "llm"  # "llm", "local" (the intent engine), "confirmation" (a pending action)
    confirmation: OpenQuestion | None = None  # the question this turn left awaiting a yes

    def as_api(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "reply": self.reply,
            "tool_calls": [outcome.as_api() for outcome in self.tool_calls],
            "usage": {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
                "cached_tokens": self.usage.cached_tokens,
            },
            "timings": self.timings.as_dict(),
            "path": self.path,
            "confirmation": self.confirmation.as_api() if self.confirmation is not None else None,
        }
