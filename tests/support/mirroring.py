"""A mirror running over a Home Assistant (simulated or real) for tests, and waiting on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from data_api.ha import HAClient
from data_api.mirror import Mirror, MirrorReader, Query
from data_api.platform.settings import Settings, load_settings
from data_api.simulator import SimulatedHA, generate_home
from data_api.store import Store


class HomeAssistantLike(Protocol):
    """What a mirror needs of an HA: the simulator and `RealHomeAssistant` both have these."""

    @property
    def url(self) -> str: ...

    @property
    def token(self) -> str: ...


async def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not met in {timeout} s")
        await asyncio.sleep(0.02)


def make_settings(ha: HomeAssistantLike, tmp_path: Path, **overrides: Any) -> Settings:
    return load_settings(
        ha_url=ha.url,
        ha_token=ha.token,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/mirror.db",
        ha_reconnect_min_delay=0.05,
        ha_reconnect_max_delay=0.2,
        **overrides,
    )


@dataclass
class Env:
    """A started mirror (SQLite in a temporary folder) over `ha`, and a reader of it."""

    ha_backend: Any  # the SimulatedHA or RealHomeAssistant the mirror follows
    settings: Settings
    store: Store
    mirror: Mirror
    reader: MirrorReader

    @property
    def sim(self) -> SimulatedHA:
        assert isinstance(self.ha_backend, SimulatedHA), "this test needs the simulated HA"
        return self.ha_backend

    async def new_mirror(self, **overrides: Any) -> Mirror:
        """A second mirror process over the same database (a restart)."""
        settings = self.settings.model_copy(update=overrides)
        return Mirror(settings, self.store)

    async def ha(self) -> HAClient:
        """A connected client of the same HA (the caller closes it)."""
        client = HAClient(self.ha_backend.url, self.ha_backend.token)
        await client.connect()
        return client

    async def items(self, kind: str, **filters: Any) -> dict[str, Any]:
        listing = await self.reader.list(kind, Query(limit=1000, **filters))
        return {item.key: item for item in listing.items}

    def peek(self, kind: str) -> dict[str, Any]:
        """The mirror's memory copy of a kind, without refilling it (for `wait_for`)."""
        data = self.mirror.tiers[kind].peek()
        return data.items if data is not None else {}


@asynccontextmanager
async def mirror_env(ha: HomeAssistantLike, tmp_path: Path, **overrides: Any) -> AsyncIterator[Env]:
    """A mirror over `ha`, started and fully synced; stopped (and its store closed) after."""
    settings = make_settings(ha, tmp_path, **overrides)
    store = Store.from_settings(settings.db)
    mirror = Mirror(settings, store)
    try:
        await asyncio.wait_for(mirror.start(wait=True), 60)
        yield Env(ha, settings, store, mirror, MirrorReader(mirror))
    finally:
        await mirror.stop()
        await store.close()


@asynccontextmanager
async def simulated_env(tmp_path: Path, size: str = "small", **overrides: Any) -> AsyncIterator[Env]:
    """A mirror over a freshly generated simulated home."""
    async with SimulatedHA(generate_home(size)) as sim, mirror_env(sim, tmp_path, **overrides) as env:
        yield env
