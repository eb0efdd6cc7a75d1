"""One conversation turn: store the message, build the context, run the model and its tools.

The user's message is stored before anything else can fail, so a model outage loses nothing.
Every assistant message with tool calls is stored together with all of its results, so the
history never holds an unanswered tool call. The model gets at most `llm_max_rounds` rounds.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ha_agent.context import ContextBuilder, Hints
from ha_agent.history import ConversationStore, StoredMessage
from ha_agent.intents import LocalEngine
from ha_agent.llm import LLMClient, LLMError, LLMRateLimited, LLMTimeout, TextDelta, Usage
from ha_agent.tools import Toolbox, ToolEnv, ToolOutcome
from ha_agent.tools.outcome import compact_json

_ENTITY_ID = re.compile(r"\b[a-z_]+\.[a-z0-9_]+\b")
_RECENT_MESSAGES = 12  # how far back "entities used earlier" looks


class TurnError(Exception):
    """The turn could not be answered (the model failed); the user's message is kept."""

    def __init__(self, message: str, conversation_id: str, status: int = 502) -> None:
        super().__init__(message)
        self.conversation_id = conversation_id
        self.status = status


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
        }


class Agent:
    def __init__(
        self,
        settings: Any,
        *,
        context: ContextBuilder,
        history: ConversationStore,
        llm: LLMClient | None,
        toolbox: Toolbox,
        env_for: Any,
        local: LocalEngine | None = None,
    ) -> None:
        """`env_for(conversation_id)` gives the tools' environment for a conversation.

        `local`: the intent engine that answers what it recognises (all of it without `llm`,
        what it is certain of with one); `llm` None: the local engine alone.
        """
        self.settings = settings
        self.context = context
        self.history = history
        self.llm = llm
        self.toolbox = toolbox
        self.local = local
        self._env_for = env_for
        self.model = settings.llm_model

    async def turn(self, message: str, conversation_id: str | None = None, hints: Hints = Hints()) -> TurnResult:
        """Answer one user message (non-streaming)."""
        result: TurnResult | None = None
        async for event in self._run(message, conversation_id, hints, stream=False):
            if event["type"] == "done":
                result = event["result"]
        assert result is not None
        return result

    async def stream(
        self, message: str, conversation_id: str | None = None, hints: Hints = Hints()
    ) -> AsyncIterator[dict[str, Any]]:
        """The same turn as events: `text` deltas, each `tool_call` as it finishes, then `done`."""
        async for event in self._run(message, conversation_id, hints, stream=True):
            yield event

    # --- the turn ----------------------------------------------------------------------------
    async def _run(
        self, message: str, conversation_id: str | None, hints: Hints, *, stream: bool
    ) -> AsyncIterator[dict[str, Any]]:
        started = time.perf_counter()
        if conversation_id is None:
            conversation_id = await self.history.create(self.settings.home_id)
        # Stored first, before anything can fail; an unknown id (or another home's) raises
        # ConversationNotFound here.
        await self.history.append(
            conversation_id, [{"role": "user", "content": message}], self.model, home_id=self.settings.home_id
        )
        yield {"type": "start", "conversation_id": conversation_id}
        env = self._env_for(conversation_id)
        result = TurnResult(conversation_id, "")

        # Independent reads of the turn's start, side by side: a confirmation waiting for this
        # message, and the conversation so far.
        pending, (stored, window) = await asyncio.gather(
            self.toolbox.resolve_pending(message, env),
            # Only what the window can take is read: a turn costs the same at message 10 or 1,000.
            self.history.load_window(conversation_id, self.settings.history_max_tokens, at_least=_RECENT_MESSAGES),
        )
        if pending is not None and not pending.cancelled:
            result.tool_calls.append(pending.outcome)
            result.reply = pending.reply
            result.path = "confirmation"
            yield {"type": "tool_call", **pending.outcome.as_api()}
            await self.history.append(conversation_id, [{"role": "assistant", "content": pending.reply}], self.model)
            yield self._done(result, started)
            return

        if self.local is not None or self.llm is None:
            async for event in self._local(message, conversation_id, env, result):
                yield event
            if result.path == "local":
                yield self._done(result, started)
                return
        assert self.llm is not None

        mark = time.perf_counter()
        context = await self.context.build(message, _recent_entity_ids(stored[-_RECENT_MESSAGES:]), hints)
        result.timings.context_ms = (time.perf_counter() - mark) * 1000
        messages: list[dict[str, Any]] = [{"role": "system", "content": context.system_prompt}]
        messages += [m.as_openai() for m in window]
        tools = self.toolbox.schemas()

        for _ in range(self.settings.llm_max_rounds):
            mark = time.perf_counter()
            try:
                if stream:
                    completion = None
                    async for event in self.llm.stream(messages, tools):
                        if isinstance(event, TextDelta):
                            yield {"type": "text", "delta": event.text}
                        else:
                            completion = event
                    assert completion is not None
                else:
                    completion = await self.llm.complete(messages, tools)
            except LLMError as exc:
                raise TurnError(exc.user_message, conversation_id, _status(exc)) from None
            finally:
                result.timings.llm_ms += (time.perf_counter() - mark) * 1000
            result.usage = result.usage + completion.usage
            if not completion.tool_calls:
                result.reply = completion.content or ""
                await self.history.append(conversation_id, [completion.as_message()], self.model)
                break
            mark = time.perf_counter()
            outcomes = await self.toolbox.execute(completion.tool_calls, env)
            result.timings.tools_ms += (time.perf_counter() - mark) * 1000
            result.tool_calls += outcomes
            for outcome in outcomes:
                yield {"type": "tool_call", **outcome.as_api()}
            # The call and all of its answers are stored together: history never holds an
            # unanswered tool call, whatever happens next.
            round_messages = [completion.as_message(), *(o.as_tool_message() for o in outcomes)]
            await self.history.append(conversation_id, round_messages, self.model)
            messages += round_messages
        else:
            result.reply = (
                f"I could not finish this in {self.settings.llm_max_rounds} steps. "
                "Please ask again, perhaps in smaller parts."
            )
            await self.history.append(conversation_id, [{"role": "assistant", "content": result.reply}], self.model)
        yield self._done(result, started)

    async def _local(self, message: str, conversation_id: str, env: ToolEnv,
                     result: TurnResult) -> AsyncIterator[dict[str, Any]]:  # fmt: skip
        """The local intent engine's answer, stored like a model's; `result.path` says if it answered."""
        mark = time.perf_counter()
        answer = await self.local.answer(message, self.context.home, self.toolbox, env) if self.local else None
        result.timings.tools_ms += (time.perf_counter() - mark) * 1000
        if answer is None and self.llm is not None:
            return  # not recognised with certainty: the model's turn
        reply = answer.reply if answer is not None else _help(self.local)
        outcomes = answer.outcomes if answer is not None else []
        messages: list[dict[str, Any]] = []
        if outcomes:
            # Stored as a tool round, so a model taking over later sees what was done and why.
            calls = [{"id": o.id, "type": "function",
                      "function": {"name": o.name, "arguments": _text(o.arguments)}}
                     for o in outcomes]  # fmt: skip
            messages += [{"role": "assistant", "content": None, "tool_calls": calls}]
            messages += [o.as_tool_message() for o in outcomes]
        messages.append({"role": "assistant", "content": reply})
        await self.history.append(conversation_id, messages, self.model)
        result.reply, result.path = reply, "local"
        result.tool_calls += outcomes
        for outcome in outcomes:
            yield {"type": "tool_call", **outcome.as_api()}

    @staticmethod
    def _done(result: TurnResult, started: float) -> dict[str, Any]:
        result.timings.total_ms = (time.perf_counter() - started) * 1000
        return {"type": "done", "result": result}


def _text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else compact_json(arguments)


def _help(local: LocalEngine | None) -> str:
    if local is not None:
        return local.help_reply()
    return "No language model is configured: set LLM_BASE_URL (and LLM_MODEL, LLM_API_KEY)."


def _recent_entity_ids(messages: Sequence[StoredMessage]) -> list[str]:
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


def _status(exc: LLMError) -> int:
    """The HTTP status that tells a client what kind of failure this was."""
    if isinstance(exc, LLMRateLimited):
        return 503
    if isinstance(exc, LLMTimeout):
        return 504
    return 502


__all__ = ["Agent", "TurnError", "TurnResult", "Timings"]
