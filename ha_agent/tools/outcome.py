"""The result of one tool call, in the two shapes it leaves the toolbox in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any


def compact_json(value: Any) -> str:
    # No spaces and no ASCII escaping: fewer tokens for the same content.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    id: str
    name: str
    arguments: dict[str, Any] | str  # parsed, or the raw text when it was not a JSON object
    result: Any
    error: str | None
    duration_ms: float
    started_at: float  # time.monotonic() when the call began to run (after what it waited for)
    ended_at: float
    needs_confirmation: bool = False

    def as_tool_message(self) -> dict[str, Any]:
        """The `tool` message answering this call in the model's history."""
        content = {"error": self.error} if self.error is not None else self.result
        return {"role": "tool", "tool_call_id": self.id, "content": compact_json(content)}

    def as_api(self) -> dict[str, Any]:
        """The chat API's `tool_calls` item (design.md)."""
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "arguments": self.arguments,
            "result": self.result,
            "duration_ms": round(self.duration_ms, 1),
        }
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass(frozen=True, slots=True)
class PendingResolution:
    """What became of a conversation's pending confirmation when the user answered.

    Confirmed: `outcomes` are the results of every call that was asked about (`outcome` the
    first) and `reply` says in plain words what happened. Anything but a yes: `cancelled`, no
    outcome and no reply; `refused` when the answer was a plain no (the turn ends with saying
    what was not done), else the turn goes on with the message. `asked`: what the question named.
    """

    outcome: ToolOutcome | None
    reply: str | None
    cancelled: bool = False
    outcomes: tuple[ToolOutcome, ...] = ()
    asked: tuple[str, ...] = ()
    refused: bool = False


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    """A question awaiting the person's yes, as the code wrote it: `question` names every
    action (`actions`, the summaries, one per call in `call_ids`) until `expires_at`."""

    question: str
    actions: tuple[str, ...]
    call_ids: tuple[str, ...]
    expires_at: datetime

    def as_api(self) -> dict[str, Any]:
        return {"question": self.question, "actions": list(self.actions), "expires_at": self.expires_at.isoformat()}
