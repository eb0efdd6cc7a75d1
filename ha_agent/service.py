"""The agent service: its parts assembled from the settings, started and stopped together.

Two shapes share one `AgentService`:
- one process (`ha-agent serve`): the mirror of this process is the home (`LocalHome`), its HA
  client runs the actions, and the conversations and the tools' audit live in the mirror's
  database, on the mirror's engine;
- `ha-agent serve --role agent`: a separate data-api is the home (`RemoteHome` over
  `DATA_API_URL`), the agent has its own HA client for actions and its own database engine.

Turns run as tasks of the service, not of the request that asked: a client that goes away (a
closed stream, a timed-out HTTP client) does not cut a turn short, so its reply is still
stored; stopping the service waits a while for running turns before cancelling them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any


from data_api.api.auth import require_keys_or_loopback
from data_api.api.client import DataApiClient, DataApiError
from data_api.api.health import database_state
from data_api.api.server import HttpServer, stop_on_signals
from data_api.cache import MirrorReader
from data_api.ha import HAClient, HAError
from data_api.logs import display_url
from data_api.settings import Settings, SettingsError
from data_api.store import Store, StoreError
from data_api.store.engine import ping
from data_api.store.errors import guard
from data_api.sync import Mirror

from ha_agent.agent import Agent, TurnError, TurnResult
from ha_agent.context import ContextBuilder, Hints, HomeView
from ha_agent.history import ConversationStore
from ha_agent.home import LocalHome
from ha_agent.intents import LocalEngine
from ha_agent.llm import LLMClient
from ha_agent.remote_home import RemoteHome
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


class _Database:
    """Pings the agent's database (the mirror's `Store` pings its own the same way)."""

    def __init__(self, history: ConversationStore) -> None:
        self._history = history

    async def ping(self) -> float:
        async with guard("ping", self._history.database):
            return await ping(self._history.engine)


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
        self.context = ContextBuilder(home, settings)
        self.toolbox = Toolbox(settings)
        local = LocalEngine(settings)
        self.agent = Agent(
            settings, context=self.context, history=history, llm=llm, toolbox=self.toolbox, env_for=self._env,
            local=local if local.mode != "off" else None,
        )  # fmt: skip
        self.stats = TurnStats()
        self._database = _Database(history)
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
        return await database_state(self._database)


# --- assembling ------------------------------------------------------------------------------
def _llm(settings: Settings, stack: AsyncExitStack) -> LLMClient | None:
    """The model client, or None when the local intent engine answers alone (LLM_PROVIDER)."""
    if settings.effective_llm_provider == "local":
        return None
    settings.require("llm_base_url")
    llm = LLMClient.from_settings(settings)
    stack.push_async_callback(llm.close)
    return llm


@asynccontextmanager
async def local_service(settings: Settings, mirror: Mirror, reader: MirrorReader | None = None) -> AsyncIterator[AgentService]:
    """The agent in the mirror's process: its reader, HA client and database engine, shared.
    The caller starts and stops the mirror (before and after this)."""
    reader = reader or MirrorReader(mirror)
    engine = mirror.store.engine
    async with AsyncExitStack() as stack:
        llm = _llm(settings, stack)
        service = AgentService(
            settings,
            home=LocalHome(reader),
            history=ConversationStore(engine),  # shared engine: closing it is the store's job
            llm=llm,
            actions=HAActions(mirror.client),
            tool_store=ToolStore(engine, home_id=settings.home_id),
            reader=reader,
        )
        await service.start()
        stack.push_async_callback(service.stop)
        yield service


@asynccontextmanager
async def remote_service(settings: Settings) -> AsyncIterator[AgentService]:
    """The agent of `--role agent`: the home from DATA_API_URL, its own HA client and engine."""
    settings.require("data_api_url", "ha_url", "ha_token")
    assert settings.data_api_url is not None
    async with AsyncExitStack() as stack:
        # The data-api of a deployment shares its API keys: the first one opens it.
        key = settings.api_keys[0].get_secret_value() if settings.api_keys else None
        data_api = DataApiClient(settings.data_api_url, key)
        stack.push_async_callback(data_api.close)
        ha = HAClient.from_settings(settings)
        stack.push_async_callback(ha.close)
        connector = asyncio.create_task(_connect_in_background(ha), name="agent-ha-connect")
        stack.push_async_callback(_cancel, connector)
        history = ConversationStore.from_settings(settings)
        stack.push_async_callback(history.close)
        llm = _llm(settings, stack)
        home = RemoteHome(data_api, refresh=settings.remote_home_refresh)
        await _probe(home, settings.data_api_url)
        service = AgentService(
            settings,
            home=home,
            history=history,
            llm=llm,
            actions=HAActions(ha),
            tool_store=ToolStore(history.engine, home_id=settings.home_id),
        )
        await service.start()
        stack.push_async_callback(service.stop)
        yield service


async def _probe(home: RemoteHome, url: str) -> None:
    """A refused key is a setting to fix: fail now. An absent data-api may come later (the
    services start in any order): the context says the home is unavailable until it does."""
    try:
        await home.kind("config")
    except DataApiError as exc:
        if exc.status == 401:
            raise SettingsError(f"{exc} (the agent sends the first of API_KEYS to DATA_API_URL)") from None
        _LOGGER.warning("the data-api at %s does not answer yet: %s", display_url(url), exc)


async def _connect_in_background(client: HAClient) -> None:
    """Actions go over REST until the WebSocket is up; once up, it reconnects by itself."""
    delay = 1.0
    while True:
        try:
            await client.connect()
            return
        except HAError as exc:
            _LOGGER.warning("Home Assistant not reachable for actions yet (%s); retrying in %.0f s", exc, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, _HA_CONNECT_MAX_DELAY)


async def _cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


# --- serving ---------------------------------------------------------------------------------
async def run_agent_service(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8030,
    *,
    ready: Callable[[str], None] | None = None,
    remote: bool = False,
) -> None:
    """Serve the agent until SIGINT or SIGTERM: with the mirror in this process (its REST API at
    the same address), or, `remote`, reading the data-api at DATA_API_URL. Stopping lets running
    turns finish, then stops the mirror, which flushes its writes.

    `ready(url)` is called once the API answers.
    """
    from ha_agent.api.app import create_app  # the web stack only when serving

    require_keys_or_loopback(host, settings.api_keys)  # before touching HA or the database
    async with AsyncExitStack() as stack:
        if remote:
            settings.require("data_api_url")
            print(f"ha-agent: reading the home from the data-api at {display_url(settings.data_api_url)}", flush=True)
            service = await stack.enter_async_context(remote_service(settings))
        else:
            if settings.data_api_url:
                print(
                    "ha-agent: DATA_API_URL is ignored: without --role the mirror runs in this process "
                    "(--role agent reads the data-api at DATA_API_URL instead)",
                    flush=True,
                )
            store = Store.from_settings(settings)
            stack.push_async_callback(store.close)
            mirror = Mirror(settings, store, owns_process=True)  # SettingsError without HA_URL/HA_TOKEN
            print(f"ha-agent: opening the database {store.database} and connecting to {display_url(settings.ha_url)}", flush=True)
            await mirror.start()  # migrates; the stored copy is served (stale) until the first sync
            stack.push_async_callback(mirror.stop)  # flushes pending writes
            service = await stack.enter_async_context(local_service(settings, mirror))
        server = HttpServer(create_app(service, settings), host, port)
        stack.push_async_callback(server.stop)
        with stop_on_signals(server):
            url = await server.start()
            keys = f"{len(settings.api_keys)} API key(s)" if settings.api_keys else "no API keys (loopback only)"
            serves = "chat" if remote else "chat and the mirror"
            model = "local intent engine" if service.llm is None else f"model {settings.llm_model}"
            print(
                f"ha-agent: serving home {settings.home_id!r} at {url}/api/v1 ({serves}; {model}; {keys}); "
                "Ctrl+C stops",
                flush=True,
            )
            if ready is not None:
                ready(url)
            await server.wait()
            print("ha-agent: stopping", flush=True)


__all__ = ["AgentService", "TurnStats", "local_service", "remote_service", "run_agent_service"]
