"""One conversation turn: store the message, build the context, run the model and its tools.

The user's message is stored before anything else can fail, so a model outage loses nothing.
Every assistant message with tool calls is stored together with all of its results, so the
history never holds an unanswered tool call. The model gets at most `llm_max_rounds` rounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ha_agent.context import ContextBuilder, Hints
from ha_agent.history import ConversationStore, StoredMessage
from ha_agent.intents import LocalEngine
from ha_agent.llm import Completion, LLMClient, LLMError, LLMRateLimited, LLMTimeout, TextDelta, ToolCall, Usage
from ha_agent.tools import OpenQuestion, Toolbox, ToolEnv, ToolOutcome
from ha_agent.tools.confirm import refusal_reply
from ha_agent.tools.outcome import compact_json

_ENTITY_ID = re.compile(r"\b[a-z_]+\.[a-z0-9_]+\b")
_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what providers accept as a function name
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
        self._turns = _OneAtATime()

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
        # One turn at a time per conversation: a turn started while another runs waits for it,
        # so each reply answers its own message and the history stays in order.
        async with self._turns.hold(conversation_id):
            async for event in self._turn(message, conversation_id, hints, started, stream=stream):
                yield event

    async def _turn(self, message: str, conversation_id: str, hints: Hints, started: float, *,
                    stream: bool) -> AsyncIterator[dict[str, Any]]:  # fmt: skip
        # Stored first, before anything can fail; an unknown id (or another home's) raises
        # ConversationNotFound here.
        (own,) = await self.history.append(
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
        # Nothing after this turn's own message (another replica's turn on the same conversation).
        stored = [m for m in stored if m.seq <= own.seq]
        if pending is not None and (not pending.cancelled or pending.refused):
            # The person answered the question the code asked: what runs (or not) is decided
            # here, by code, before any model sees the message.
            result.path = "confirmation"
            result.tool_calls += pending.outcomes
            result.reply = pending.reply if not pending.cancelled else refusal_reply(pending.asked)
            for outcome in pending.outcomes:
                yield {"type": "tool_call", **outcome.as_api()}
            await self.history.append(conversation_id, [*_tool_round(pending.outcomes),
                                                        {"role": "assistant", "content": result.reply}], self.model)  # fmt: skip
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
        messages += [m.as_openai() for m in window if m.seq <= own.seq]
        tools = self.toolbox.schemas()
        asked = False  # a call of this turn awaits the person's yes: its question comes first

        for _ in range(self.settings.llm_max_rounds):
            mark = time.perf_counter()
            try:
                if stream:
                    completion = None
                    async for event in self.llm.stream(messages, tools):
                        if isinstance(event, TextDelta):
                            if not asked:  # after a question, the text waits to follow it
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
                break
            completion = _well_formed(completion)
            mark = time.perf_counter()
            outcomes = await self.toolbox.execute(completion.tool_calls, env)
            result.timings.tools_ms += (time.perf_counter() - mark) * 1000
            result.tool_calls += outcomes
            asked = asked or any(o.needs_confirmation for o in outcomes)
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
        if asked:
            await self._put_question(result, env)
            if stream:  # the text held back since the question, after it
                yield {"type": "text", "delta": result.reply}
        await self.history.append(conversation_id, [{"role": "assistant", "content": result.reply}], self.model)
        yield self._done(result, started)

    async def _put_question(self, result: TurnResult, env: ToolEnv) -> None:
        """The reply of a turn that asked for confirmation: the code's question, first."""
        question = await self.toolbox.open_question(env)
        if question is None:  # expired already, or it could not be stored (the calls say so)
            return
        result.confirmation = question
        result.reply = question.question + (f"\n\n{result.reply}" if result.reply.strip() else "")

    async def _local(self, message: str, conversation_id: str, env: ToolEnv,
                     result: TurnResult) -> AsyncIterator[dict[str, Any]]:  # fmt: skip
        """The local intent engine's answer, stored like a model's; `result.path` says if it answered."""
        mark = time.perf_counter()
        answer = await self.local.answer(message, self.context.home, self.toolbox, env) if self.local else None
        result.timings.tools_ms += (time.perf_counter() - mark) * 1000
        if answer is None and self.llm is not None:
            return  # not recognised with certainty: the model's turn
        result.reply = answer.reply if answer is not None else _help(self.local)
        outcomes = answer.outcomes if answer is not None else []
        result.path = "local"
        result.tool_calls += outcomes
        if any(o.needs_confirmation for o in outcomes):
            await self._put_question(result, env)
        # Stored as a tool round, so a model taking over later sees what was done and why.
        await self.history.append(conversation_id, [*_tool_round(outcomes),
                                                    {"role": "assistant", "content": result.reply}], self.model)  # fmt: skip
        for outcome in outcomes:
            yield {"type": "tool_call", **outcome.as_api()}

    @staticmethod
    def _done(result: TurnResult, started: float) -> dict[str, Any]:
        result.timings.total_ms = (time.perf_counter() - started) * 1000
        return {"type": "done", "result": result}


def _text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else compact_json(arguments)


def _tool_round(outcomes: Sequence[ToolOutcome]) -> list[dict[str, Any]]:
    """Calls the code made (the local engine, a confirmed question) as a stored tool round."""
    if not outcomes:
        return []
    calls = [{"id": o.id, "type": "function", "function": {"name": o.name, "arguments": _text(o.arguments)}}
             for o in outcomes]  # fmt: skip
    return [{"role": "assistant", "content": None, "tool_calls": calls}, *(o.as_tool_message() for o in outcomes)]


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


class _OneAtATime:
    """A lock per conversation id, kept only while some turn holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.setdefault(conversation_id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._locks[conversation_id]


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
