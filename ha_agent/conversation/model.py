"""The model's answer to a turn: the context, then rounds of completions and their tool calls.

Every assistant message with tool calls is stored together with all of its results, so the
history never holds an unanswered tool call. The model gets at most `llm_max_rounds` rounds.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from ha_agent.context import ContextBuilder
from ha_agent.history import ConversationStore
from ha_agent.llm import Completion, LLMClient, LLMError, TextDelta, ToolCall
from ha_agent.tools import Toolbox

from .result import TurnError
from .router import Turn, put_question
from .stored import RECENT_MESSAGES, recent_entity_ids

_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what providers accept as a function name


async def answer_with_model(
    turn: Turn,
    llm: LLMClient,
    context: ContextBuilder,
    toolbox: Toolbox,
    history: ConversationStore,
    *,
    max_rounds: int,
    model: str,
) -> AsyncIterator[dict[str, Any]]:
    result = turn.result
    result.path = "llm"
    mark = time.perf_counter()
    built = await context.build(turn.message, recent_entity_ids(turn.stored[-RECENT_MESSAGES:]), turn.hints)
    result.timings.context_ms = (time.perf_counter() - mark) * 1000
    messages: list[dict[str, Any]] = [{"role": "system", "content": built.system_prompt}]
    messages += [m.as_openai() for m in turn.window if m.seq <= turn.own_seq]
    tools = toolbox.schemas()
    asked = False  # a call of this turn awaits the person's yes: its question comes first

    for _ in range(max_rounds):
        mark = time.perf_counter()
        try:
            if turn.stream:
                completion = None
                async for event in llm.stream(messages, tools):
                    if isinstance(event, TextDelta):
                        if not asked:  # after a question, the text waits to follow it
                            yield {"type": "text", "delta": event.text}
                    else:
                        completion = event
                assert completion is not None
            else:
                completion = await llm.complete(messages, tools)
        except LLMError as exc:
            raise TurnError.of(exc, turn.conversation_id) from None
        finally:
            result.timings.llm_ms += (time.perf_counter() - mark) * 1000
        result.usage = result.usage + completion.usage
        if not completion.tool_calls:
            result.reply = completion.content or ""
            break
        completion = _well_formed(completion)
        mark = time.perf_counter()
        outcomes = await toolbox.execute(completion.tool_calls, turn.env)
        result.timings.tools_ms += (time.perf_counter() - mark) * 1000
        result.tool_calls += outcomes
        asked = asked or any(o.needs_confirmation for o in outcomes)
        for outcome in outcomes:
            yield {"type": "tool_call", **outcome.as_api()}
        # The call and all of its answers are stored together: history never holds an
        # unanswered tool call, whatever happens next.
        round_messages = [completion.as_message(), *(o.as_tool_message() for o in outcomes)]
        await history.append(turn.conversation_id, round_messages, model)
        messages += round_messages
    else:
        result.reply = f"I could not finish this in {max_rounds} steps. Please ask again, perhaps in smaller parts."
    if asked:
        await put_question(turn, toolbox)
        if turn.stream:  # the text held back since the question, after it
            yield {"type": "text", "delta": result.reply}


def _well_formed(completion: Completion) -> Completion:
    """The model's calls with ids unique and names present, as they are run and stored: a
    repeated id or an empty name must cost that call (its error result), not the turn — a
    provider rejects the next request whose history repeats an id or lacks a name."""
    seen: set[str] = set()
    calls = []
    for n, call in enumerate(completion.tool_calls):
        call_id = call.id if call.id and call.id not in seen else f"call_{n}_{uuid.uuid4().hex[:8]}"
        seen.add(call_id)
        name = call.name if _TOOL_NAME.fullmatch(call.name or "") else "invalid_tool_name"
        calls.append(call if (call_id, name) == (call.id, call.name) else ToolCall(call_id, name, call.arguments))
    return completion if calls == completion.tool_calls else replace(completion, tool_calls=calls)
