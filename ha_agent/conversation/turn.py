"""One conversation turn: store the message, read the window, route it, store the reply.

The user's message is stored before anything else can fail, so a model outage loses nothing.
Turns of one conversation run one at a time: a turn started while another runs waits for it,
so each reply answers its own message and the history stays in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from data_api.platform.settings import Settings
from ha_agent.context import ContextBuilder, Hints
from ha_agent.history import ConversationStore
from ha_agent.intents import LocalEngine
from ha_agent.llm import LLMClient
from ha_agent.tools import Toolbox, ToolEnv

from .local import answer_locally
from .model import answer_with_model
from .result import TurnResult
from .router import Turn, answer_confirmation
from .stored import RECENT_MESSAGES


class Agent:
    def __init__(
        self,
        settings: Settings,
        *,
        context: ContextBuilder,
        history: ConversationStore,
        llm: LLMClient | None,
        toolbox: Toolbox,
        env_for: Callable[[str], ToolEnv],
        local: LocalEngine | None = None,
    ) -> None:
        """`env_for(conversation_id)` gives the tools' environment for a turn of a conversation.

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

    async def _run(
        self, message: str, conversation_id: str | None, hints: Hints, *, stream: bool
    ) -> AsyncIterator[dict[str, Any]]:
        started = time.perf_counter()
        if conversation_id is None:
            conversation_id = await self.history.create(self.settings.home_id)
        async with self._turns.hold(conversation_id):
            async for event in self._turn(message, conversation_id, hints, started, stream=stream):
                yield event

    async def _turn(
        self, message: str, conversation_id: str, hints: Hints, started: float, *, stream: bool
    ) -> AsyncIterator[dict[str, Any]]:
        # Stored first, before anything can fail; an unknown id (or another home's) raises
        # ConversationNotFound here.
        (own,) = await self.history.append(
            conversation_id, [{"role": "user", "content": message}], self.model, home_id=self.settings.home_id
        )
        yield {"type": "start", "conversation_id": conversation_id}
        env = self._env_for(conversation_id)
        # Independent reads of the turn's start, side by side: a confirmation waiting for this
        # message, and the conversation so far (only what the window can take: a turn costs the
        # same at message 10 or 1,000).
        pending, (stored, window) = await asyncio.gather(
            self.toolbox.resolve_pending(message, env),
            self.history.load_window(conversation_id, self.settings.history_max_tokens, at_least=RECENT_MESSAGES),
        )
        # Nothing after this turn's own message (another replica's turn on the same conversation).
        turn = Turn(
            message, conversation_id, hints, env, [m for m in stored if m.seq <= own.seq], window, own.seq, stream
        )
        async for event in self._route(turn, pending):
            yield event
        await self.history.append(
            conversation_id, [*turn.replied, {"role": "assistant", "content": turn.result.reply}], self.model
        )
        turn.result.timings.total_ms = (time.perf_counter() - started) * 1000
        yield {"type": "done", "result": turn.result}

    async def _route(self, turn: Turn, pending: Any) -> AsyncIterator[dict[str, Any]]:
        """Pending confirmation → local engine → model: the first that answers does."""
        async for event in answer_confirmation(turn, pending):
            yield event
        if turn.result.path == "confirmation":
            return
        if self.local is not None or self.llm is None:
            async for event in answer_locally(
                turn, self.local, self.context.home, self.toolbox, last_word=self.llm is None
            ):
                yield event
            if turn.result.path == "local":
                return
        assert self.llm is not None
        async for event in answer_with_model(
            turn,
            self.llm,
            self.context,
            self.toolbox,
            self.history,
            max_rounds=self.settings.llm_max_rounds,
            model=self.model,
        ):
            yield event


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
