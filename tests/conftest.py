"""Shared pytest fixtures, one section per fixture group."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.needs import progress, unavailable
from tests.support.real_ha import (
    HA_VERSIONS,
    HANotAvailable,
    HAStartError,
    RealHomeAssistant,
    Report,
    runner_for,
)

# The HA integration's unit tests need Home Assistant's own test harness: they run in their own
# venv, driven by tests/test_ha_integration_e2e.py, never collected here.
collect_ignore = ["ha_integration_unit"]

# ---------------------------------------------------------------------------------------------
# Real Home Assistant, every version in HA_VERSIONS (marker `real_ha`)
# ---------------------------------------------------------------------------------------------


class RealHAs:
    """The session's real Home Assistants: each version installed (cached) and started on first
    use, then shared by every test until the session ends. A version that cannot be had is
    remembered, so its other tests skip (or fail, on CI) at once with the same reason."""

    def __init__(self, report: Report) -> None:
        self._report = report
        self._started: dict[str, RealHomeAssistant] = {}
        self._missing: dict[str, str] = {}
        self._broken: dict[str, HAStartError] = {}

    def get(self, version: str) -> RealHomeAssistant:
        if version in self._started:
            return self._started[version]
        if version in self._broken:  # installed but does not start: an error, not a skip
            raise self._broken[version]
        if version not in self._missing:
            ha = RealHomeAssistant(runner=runner_for(version, self._report), report=self._report)
            try:
                ha.start()
                self._started[version] = ha
                return ha
            except HANotAvailable as exc:
                self._missing[version] = exc.reason
                ha.close()
            except HAStartError as exc:
                self._broken[version] = exc
                ha.close()
                raise
        unavailable(f"real Home Assistant {version} unavailable: {self._missing[version]}")

    def close(self) -> None:
        for ha in self._started.values():
            ha.close()
        self._started.clear()


@pytest.fixture(scope="session")
def real_has(request: pytest.FixtureRequest) -> Iterator[RealHAs]:
    pool = RealHAs(progress(request, "real-ha"))
    yield pool
    pool.close()


@pytest.fixture(scope="session", params=HA_VERSIONS)
def real_ha(request: pytest.FixtureRequest, real_has: RealHAs) -> RealHomeAssistant:
    """A started, onboarded and enriched Home Assistant of each version, shared by the session.

    Tests may restart it (`real_ha.restart()`); the URL and token stay valid.
    """
    return real_has.get(request.param)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the `real_ha` fixture get the `real_ha` marker (`-m "not real_ha"`)."""
    for item in items:
        if "real_ha" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.real_ha)


# ---------------------------------------------------------------------------------------------
# Simulated Home Assistant, and "the HA under test" (simulator and real one, same tests)
# ---------------------------------------------------------------------------------------------

import asyncio  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

from data_api.simulator import HA_VERSION as SIMULATED_HA_VERSION  # noqa: E402
from data_api.simulator import SimulatedHA, generate_home  # noqa: E402
from ha_agent.simulator.scripted_server import ScriptedLLMServer  # noqa: E402


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedHA]:
    """A simulated HA serving the small home (~130 entities, like HA's demo)."""
    async with SimulatedHA(generate_home("small")) as server:
        yield server


@pytest.fixture
async def llm() -> AsyncIterator[ScriptedLLMServer]:
    """A scripted OpenAI-compatible model server (`llm.script(...)` its answers)."""
    async with ScriptedLLMServer() as server:
        yield server


@pytest.fixture
async def sim_large() -> AsyncIterator[SimulatedHA]:
    """A simulated HA serving the 5,000-entity home."""
    async with SimulatedHA(generate_home("large")) as server:
        yield server


@dataclass
class HATarget:
    """What a client test needs of an HA: where it is, a token, and a way to cut connections."""

    kind: str
    url: str
    token: str
    backend: Any
    version: str  # the Home Assistant version it reports

    async def drop(self) -> None:
        """Cut every WebSocket: the simulator aborts them; the real HA is restarted."""
        if self.kind == "sim":
            await self.backend.drop_connections()
        else:
            await asyncio.to_thread(self.backend.restart)


@pytest.fixture(params=["sim", *(pytest.param(version, marks=pytest.mark.real_ha) for version in HA_VERSIONS)])
async def ha_target(request: pytest.FixtureRequest) -> AsyncIterator[HATarget]:
    """The simulator, then each real Home Assistant version."""
    if request.param == "sim":
        async with SimulatedHA(generate_home("small")) as server:
            yield HATarget("sim", server.url, server.token, server, SIMULATED_HA_VERSION)
    else:
        real = request.getfixturevalue("real_has").get(request.param)
        yield HATarget("real", real.url, real.token, real, real.version)


# ---------------------------------------------------------------------------------------------
# Databases: the same tests on SQLite and PostgreSQL (marker `postgres`)
# ---------------------------------------------------------------------------------------------

from pathlib import Path  # noqa: E402

from sqlalchemy import text  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from tests.support.databases import PG_URL  # noqa: E402


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(backend: str, tmp_path: Path) -> str:
    """A database to test against: a fresh SQLite file, or the shared PostgreSQL once it has
    answered (skipped when unreachable, failed on CI). Tests on PostgreSQL share one database,
    so they write under their own home ids and clean up."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ha-agent.db'}"
    probe = create_async_engine(PG_URL, poolclass=NullPool, connect_args={"timeout": 5})
    unreachable: str | None = None
    try:
        async with probe.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        unreachable = f"PostgreSQL not reachable at {probe.url.render_as_string(hide_password=True)}: {exc}"
    finally:
        await probe.dispose()
    if unreachable is not None:  # outside the except block: no chained traceback in the report
        unavailable(unreachable)
    return PG_URL
