"""The agent service at runtime: its parts started and stopped together, turns, stats, retention.

How it is put together (one process with the mirror, or an agent reading a data-api) is
`ha_agent.assemble`'s.

Turns run as tasks of the service, not of the request that asked: a client that goes away (a
closed stream, a timed-out HTTP client) does not cut a turn short, so its reply is still
stored; stopping the service waits a while for running turns before cancelling them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from typing import Any

from data_api import Mirror, MirrorReader, StoreError
from data_api.platform.http.health import database_state
from data_api.platform.settings import Settings
from ha_agent.context import ContextBuilder, Hints
from ha_agent.conversation import Agent, TurnError, TurnResult
from ha_agent.history import ConversationStore
from ha_agent.home import HomeView, RemoteHome
from ha_agent.intents import LocalEngine
from ha_agent.llm import LLMClient
from ha_agent.tokens import encoding_for_model
from ha_agent.tools import HAActions, Toolbox, ToolEnv, ToolStore

_LOGGER = logging.getLogger(__name__)

PURGE_INTERVAL = 24 * 3600.0  # retention is in days: once a day is often enough
DRAIN_TIMEOUT = 10.0  # seconds stopping waits for running turns before cancelling them
_HA_CONNECT_MAX_DELAY = 60.0


@dataclass
class TurnStats:
    """What the turns of this process did, for `/health/detailed` and `/metrics`."""

    turns: int = 0
    failed: int = 0  # TurnError: the model failed (the user's message is stored)
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    paths: dict[str, int] = field(default_factory=dict)

    def add(self, result: TurnResult) -> None:
        self.turns += 1
        self.seconds += result.timings.total_ms / 1000
        self.prompt_tokens += result.usage.prompt_tokens
        self.completion_tokens += result.usage.completion_tokens
        self.cached_tokens += result.usage.cached_tokens
        self.tool_calls += len(result.tool_calls)
        self.tool_errors += sum(1 for call in result.tool_calls if call.error is not None)
        self.paths[result.path] = self.paths.get(result.path, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "turns": self.turns,
            "failed": self.failed,
            "avg_ms": round(self.seconds / self.turns * 1000, 3) if self.turns else None,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cached_tokens": self.cached_tokens,
            "tool_calls": self.tool_calls,
            "tool_errors": self.tool_errors,
            "paths": dict(sorted(self.paths.items())),
        }


class AgentService:
    """The agent and what it reads and writes; `start()` migrates and schedules retention."""

    def __init__(
        self,
        settings: Settings,
        *,
        home: HomeView,
        history: ConversationStore,
        llm: LLMClient | None,
        actions: HAActions,
        tool_store: ToolStore,
        reader: MirrorReader | None = None,
    ) -> None:
        self.settings = settings
        self.home = home
        self.history = history
        self.llm = llm
        self.actions = actions
        self.tool_store = tool_store
        self.reader = reader  # the mirror of this process, served beside the agent; None: remote
        self.role = "all" if reader is not None else "agent"
        self.context = ContextBuilder(home, settings.context)
        self.toolbox = Toolbox(settings.tools)
        local = LocalEngine(settings.intents)
        self.agent = Agent(
            settings,
            context=self.context,
            history=history,
            llm=llm,
            toolbox=self.toolbox,
            env_for=self._env,
            local=local if local.mode != "off" else None,
        )
        self.stats = TurnStats()
        self._turns: set[asyncio.Task[Any]] = set()
        self._purger: asyncio.Task[None] | None = None

    @property
    def mirror(self) -> Mirror | None:
        return self.reader.mirror if self.reader is not None else None

    def _env(self, conversation_id: str) -> ToolEnv:
        """A turn's environment: its own budget of service calls, shared by its rounds."""
        return ToolEnv(conversation_id, self.home, self.actions, self.tool_store, self.toolbox.budget())

    # --- life cycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Load the tokenizer, migrate the agent's schema, purge what retention says, and again
        daily."""
        # ~0.5 s of decoding and hashing that the first turn would otherwise pay, holding the
        # event loop (and every turn that arrived with it): found by the load test.
        await asyncio.to_thread(encoding_for_model, self.settings.llm_model)
        await self.history.migrate()  # one chain holds the history's and the tools' tables
        await self.purge()
        self._purger = asyncio.create_task(self._purge_daily(), name="history-retention")

    async def stop(self) -> None:
        """Cancel retention, let running turns finish (up to DRAIN_TIMEOUT), then cancel them."""
        if self._purger is not None:
            self._purger.cancel()
            await asyncio.gather(self._purger, return_exceptions=True)
        if self._turns:
            _, running = await asyncio.wait(self._turns, timeout=DRAIN_TIMEOUT)
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def purge(self) -> int:
        days = self.settings.history_retention_days
        try:
            purged = await self.history.purge_older_than(days, home_id=self.settings.home_id)
        except StoreError as exc:
            _LOGGER.warning("retention: could not purge old conversations: %s", exc)
            return 0
        if purged:
            _LOGGER.info("retention: deleted %d conversation(s) idle for more than %d days", purged, days)
        return purged

    async def _purge_daily(self) -> None:
        while True:
            await asyncio.sleep(PURGE_INTERVAL)
            await self.purge()

    # --- turns ---------------------------------------------------------------------------------
    async def turn(self, message: str, conversation_id: str | None = None, hints: Hints = Hints()) -> TurnResult:
        """One turn, answered whole (the turn finishes even if the caller is cancelled)."""
        task = self._spawn(self._counted(self.agent.turn(message, conversation_id, hints)))
        return await asyncio.shield(task)

    async def stream(
        self, message: str, conversation_id: str | None = None, hints: Hints = Hints()
    ) -> AsyncIterator[dict[str, Any]]:
        """The turn's events (`start`, `text`, `tool_call`, `done`) as they happen; errors are
        raised from the iterator. The turn runs on if the consumer stops listening."""
        queue: asyncio.Queue[dict[str, Any] | BaseException | None] = asyncio.Queue()

        async def pump() -> None:
            try:
                async for event in self.agent.stream(message, conversation_id, hints):
                    if event["type"] == "done":
                        self.stats.add(event["result"])
                    queue.put_nowait(event)
            except TurnError as exc:
                self.stats.failed += 1
                queue.put_nowait(exc)
            except Exception as exc:  # handed to the consumer, which reports it
                queue.put_nowait(exc)
            finally:
                queue.put_nowait(None)

        self._spawn(pump())
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    async def _counted(self, turn: Coroutine[Any, Any, TurnResult]) -> TurnResult:
        try:
            result = await turn
        except TurnError:
            self.stats.failed += 1
            raise
        self.stats.add(result)
        return result

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._turns.add(task)
        task.add_done_callback(self._turns.discard)
        # Retrieved here so a turn whose caller left does not log "exception never retrieved".
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return task

    async def delete_conversation(self, conversation_id: str) -> bool:
        """Delete a conversation and any action awaiting its confirmation; False if none."""
        deleted = await self.history.delete(conversation_id, home_id=self.settings.home_id)
        if deleted:
            await self.tool_store.take_pending(conversation_id)
        return deleted

    # --- state ---------------------------------------------------------------------------------
    @property
    def running_turns(self) -> int:
        return len(self._turns)

    def home_state(self) -> dict[str, Any]:
        if isinstance(self.home, RemoteHome):
            return {"source": "data-api", **self.home.state()}
        return {"source": "mirror in this process", "stale": self.home.stale}

    async def database_state(self) -> dict[str, Any]:
        return await database_state(self.history)


__all__ = ["AgentService", "TurnStats"]
