"""The served stack an evaluation talks to: the simulated HA holding the home, and per path the
one-process shape of `ha-agent serve` — a mirror (on its own SQLite file) following that HA and
the agent over real HTTP. The only module of the eval that assembles the product; everything
else speaks HTTP to it.

A path is a set of settings: "local" (no model: the intent engine alone) and "model" (the
configured model, with the fast path as configured). `--path both` serves both against the
same simulated HA: one home, loaded once, seen identically by both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from data_api import Mirror
from data_api.platform.http.server import HttpServer
from data_api.platform.settings import Settings
from data_api.simulator import EvalHome, SimulatedHA
from ha_agent.api.app import create_app
from ha_agent.assemble import one_process

# A turn of a slow local model can take minutes; the harness waits as long as the agent does.
_HTTP_TIMEOUT = 600.0


@dataclass
class ServedPath:
    name: str
    settings: Settings
    mirror: Mirror
    url: str
    http: httpx.AsyncClient


@asynccontextmanager
async def _served(settings: Settings) -> AsyncIterator[tuple[Mirror, str]]:
    """`ha-agent serve` in this process (the stack `assemble.one_process` builds, first sync
    done) over HTTP; yields the mirror (to wait on) and the served URL."""
    async with AsyncExitStack() as stack:
        service = await stack.enter_async_context(one_process(settings, wait=True))
        assert service.mirror is not None
        server = HttpServer(create_app(service, settings))
        url = await server.start()
        stack.push_async_callback(server.stop)
        yield service.mirror, url


@asynccontextmanager
async def serve_home(home: EvalHome, paths: Mapping[str, Settings], scratch: Path,
                     ) -> AsyncIterator[tuple[SimulatedHA, dict[str, ServedPath]]]:  # fmt: skip
    """The home in a simulated HA, and each path's stack following it; `paths` gives each
    path's settings (HA's URL, token and the database are filled in here)."""
    async with AsyncExitStack() as stack:
        sim = await stack.enter_async_context(SimulatedHA(home))
        served: dict[str, ServedPath] = {}
        for name, settings in paths.items():
            settings = settings.model_copy(update={
                "ha_url": sim.url, "ha_token": SecretStr(sim.token),
                "database_url": f"sqlite+aiosqlite:///{scratch / f'{name}.db'}",
            })  # fmt: skip
            mirror, url = await stack.enter_async_context(_served(settings))
            http = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=_HTTP_TIMEOUT))
            served[name] = ServedPath(name, settings, mirror, url, http)
        yield sim, served


class MirrorBarrier:
    """Waits until every mirror holds each state the simulated HA wrote since the last wait:
    a case's setup (and a reset's rewrites) must have reached the agent before its sentence."""

    def __init__(self, home: EvalHome, mirrors: list[Mirror]) -> None:
        self._written: dict[str, str | None] = {}  # entity → last_updated written (None: removed)
        self._mirrors = mirrors
        self._changed = asyncio.Event()
        self._stop = home.listen(self._on_event)
        for mirror in mirrors:
            mirror.add_listener(lambda kind, key: self._changed.set())

    def _on_event(self, event: dict[str, Any]) -> None:
        if event["event_type"] == "state_changed":
            new = event["data"]["new_state"]
            self._written[event["data"]["entity_id"]] = new["last_updated"] if new else None

    def close(self) -> None:
        self._stop()

    async def wait(self, timeout: float = 30.0) -> None:
        """Raises TimeoutError if a mirror still lags after `timeout` seconds (the next wait
        then starts afresh rather than waiting on the same writes again)."""
        try:
            async with asyncio.timeout(timeout):
                while not self._caught_up():
                    self._changed.clear()
                    await self._changed.wait()
        finally:
            self._written.clear()

    def _caught_up(self) -> bool:
        for mirror in self._mirrors:
            data = mirror.tiers["entities"].last
            items = data.items if data is not None else {}
            for entity_id, stamp in self._written.items():
                held = items.get(entity_id)
                if (held.last_updated if held is not None else None) != stamp:
                    return False
        return True
