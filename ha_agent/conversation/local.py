"""The local intent engine's answer to a turn: what it recognises, run through the same toolbox."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from ha_agent.home import HomeView
from ha_agent.intents import LocalEngine
from ha_agent.tools import Toolbox

from .router import Turn, put_question
from .stored import tool_round

NO_MODEL = "No language model is configured: set LLM_BASE_URL (and LLM_MODEL, LLM_API_KEY)."


async def answer_locally(
    turn: Turn, engine: LocalEngine | None, home: HomeView, toolbox: Toolbox, *, last_word: bool
) -> AsyncIterator[dict[str, Any]]:
    """The engine's answer, if it has one; `last_word` (no model behind it): it answers whatever
    it is, with its help where it does not understand."""
    result = turn.result
    mark = time.perf_counter()
    answer = await engine.answer(turn.message, home, toolbox, turn.env) if engine is not None else None
    result.timings.tools_ms += (time.perf_counter() - mark) * 1000
    if answer is None and not last_word:
        return  # not recognised with certainty: the model's turn
    result.reply = answer.reply if answer is not None else engine.help_reply() if engine is not None else NO_MODEL
    outcomes = answer.outcomes if answer is not None else []
    result.path = "local"
    result.tool_calls += outcomes
    if any(o.needs_confirmation for o in outcomes):
        await put_question(turn, toolbox)
    # Stored as a tool round, so a model taking over later sees what was done and why.
    turn.replied += tool_round(outcomes)
    for outcome in outcomes:
        yield {"type": "tool_call", **outcome.as_api()}
