"""Who answers a turn, in order: the person's answer to a question awaiting a yes (code), then the
local intent engine (what it recognises), then the model. Each writes into the turn's result
and says, by `result.path`, that it answered."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ha_agent.context import Hints
from ha_agent.history import StoredMessage, Window
from ha_agent.tools import PendingResolution, Toolbox, ToolEnv
from ha_agent.tools.confirm import refusal_reply

from .result import TurnResult
from .stored import tool_round


@dataclass
class Turn:
    """One turn as its answerers see it: the message, where it belongs, what was said before."""

    message: str
    conversation_id: str
    hints: Hints
    env: ToolEnv
    stored: Sequence[StoredMessage]  # read to choose the window, up to this turn's message
    window: Window
    own_seq: int
    stream: bool
    result: TurnResult = field(init=False)
    replied: list[dict[str, Any]] = field(default_factory=list)  # messages to store with the reply

    def __post_init__(self) -> None:
        self.result = TurnResult(self.conversation_id, "")


async def answer_confirmation(turn: Turn, pending: PendingResolution | None) -> AsyncIterator[dict[str, Any]]:
    """The person answered the question the code asked: what runs (or not) is decided here, by
    code, before any model sees the message. Anything but a yes or a plain no goes on."""
    if pending is None or (pending.cancelled and not pending.refused):
        return
    result = turn.result
    result.path = "confirmation"
    result.tool_calls += pending.outcomes
    result.reply = pending.reply if not pending.cancelled else refusal_reply(pending.asked)
    turn.replied += tool_round(pending.outcomes)
    for outcome in pending.outcomes:
        yield {"type": "tool_call", **outcome.as_api()}


async def put_question(turn: Turn, toolbox: Toolbox) -> None:
    """The reply of a turn that asked for confirmation: the code's question, first (the text
    of whoever answered may follow it, never replace it)."""
    question = await toolbox.open_question(turn.env)
    if question is None:  # expired already, or it could not be stored (the calls say so)
        return
    result = turn.result
    result.confirmation = question
    result.reply = question.question + (f"\n\n{result.reply}" if result.reply.strip() else "")
