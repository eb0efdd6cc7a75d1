"""Composition roots: the agent's parts assembled from the settings, in every shape it runs in.

- `one_process(settings)`: the mirror and the agent in one process (`ha-agent serve`): the
  mirror of this process is the home (`LocalHome`), its HA client runs the actions, and the
  conversations and the tools' audit live in the mirror's database, on the mirror's engine. The
  CLI, the tests and the benchmarks all build this one stack;
- `remote_service(settings)`: `ha-agent serve --role agent`: a separate data-api is the home
  (`RemoteHome` over `DATA_API_URL`), the agent has its own HA client for actions and its own
  database engine;
- `run_agent_service(...)`: either of them served over HTTP until a signal;
- `run_demo(...)`: a simulated home (the only place runtime code reaches the simulator).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from data_api import DataApiClient, DataApiError, HAClient, HAError, Mirror, MirrorReader, Store
from data_api.platform.http.auth import require_keys_or_loopback
from data_api.platform.http.server import HttpServer, stop_on_signals
from data_api.platform.logs import display_url
from data_api.platform.settings import Settings, SettingsError
from ha_agent.history import ConversationStore
from ha_agent.home import LocalHome, Policy, RemoteHome
from ha_agent.llm import LLMClient
from ha_agent.service import AgentService
from ha_agent.tools import HAActions, ToolStore

_LOGGER = logging.getLogger(__name__)
_HA_CONNECT_MAX_DELAY = 60.0


def _llm(settings: Settings, stack: AsyncExitStack) -> LLMClient | None:
    """The model client, or None when the local intent engine answers alone (LLM_PROVIDER)."""
    if settings.effective_llm_provider == "local":
        return None
    settings.require("llm_base_url")
    llm = LLMClient.from_settings(settings.llm)
    stack.push_async_callback(llm.close)
    return llm


@asynccontextmanager
async def local_service(
    settings: Settings, mirror: Mirror, reader: MirrorReader | None = None
) -> AsyncIterator[AgentService]:
    """The agent in the mirror's process: its reader, HA client and database engine, shared.
    The caller starts and stops the mirror (before and after this)."""
    reader = reader or MirrorReader(mirror)
    engine = mirror.store.engine
    async with AsyncExitStack() as stack:
        llm = _llm(settings, stack)
        service = AgentService(
            settings,
            home=LocalHome(reader, Policy.from_settings(settings.tools)),
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
async def one_process(
    settings: Settings, *, wait: bool = False, owns_process: bool = False, report: Callable[[str], None] | None = None
) -> AsyncIterator[AgentService]:
    """The mirror (store, HA connection) and the agent on it, started; stopped in reverse order
    (the mirror flushes its writes last). `wait`: return only after a first full sync;
    `owns_process`: the process is this service's (see `Mirror`); `report`: told what it opens."""
    async with AsyncExitStack() as stack:
        store = Store.from_settings(settings.db)
        stack.push_async_callback(store.close)
        mirror = Mirror(settings, store, owns_process=owns_process)  # SettingsError without HA_URL/HA_TOKEN
        if report is not None:
            report(f"opening the database {store.database} and connecting to {display_url(settings.ha_url)}")
        await mirror.start(wait=wait)  # migrates; the stored copy is served (stale) until the first sync
        stack.push_async_callback(mirror.stop)
        yield await stack.enter_async_context(local_service(settings, mirror))


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
        ha = HAClient.from_settings(settings.ha)
        stack.push_async_callback(ha.close)
        connector = asyncio.create_task(_connect_in_background(ha), name="agent-ha-connect")
        stack.push_async_callback(_cancel, connector)
        history = ConversationStore.from_settings(settings.db)
        stack.push_async_callback(history.close)
        llm = _llm(settings, stack)
        home = RemoteHome(data_api, Policy.from_settings(settings.tools), refresh=settings.remote_home_refresh)
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
            service = await stack.enter_async_context(
                one_process(settings, owns_process=True, report=lambda line: print(f"ha-agent: {line}", flush=True))
            )
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


async def run_demo(
    settings: Settings,
    size: str,
    host: str,
    port: int,
    *,
    database: str | None = None,
    ready: Callable[[str, str], None] | None = None,
) -> None:
    """A simulated home of `size`, its mirror and the agent, served until a signal; a temporary
    SQLite database unless `database`. `ready(url, an area of the home)` once it answers."""
    import tempfile

    from pydantic import SecretStr

    from data_api.simulator import SimulatedHA, generate_home

    print(f"demo: generating the {size} home…", flush=True)
    home = generate_home(size)
    with tempfile.TemporaryDirectory(prefix="ha-agent-demo-") as scratch:
        async with SimulatedHA(home) as sim:
            print(f"demo: simulated Home Assistant at {sim.url} ({len(home.states)} entities)", flush=True)
            demo = settings.model_copy(
                update={
                    "ha_url": sim.url,
                    "ha_token": SecretStr(sim.token),
                    "database_url": database or f"sqlite+aiosqlite:///{scratch}/demo.db",
                }
            )
            area = sorted(home.areas)[0]
            await run_agent_service(demo, host, port, ready=(lambda url: ready(url, area)) if ready else None)
