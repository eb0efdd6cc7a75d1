"""Shared pytest fixtures, one section per fixture group."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.needs import progress, unavailable
from tests.support.real_ha import (
    HA_VERSION,
    HANotAvailable,
    RealHomeAssistant,
    ensure_ha_venv,
)

# The HA integration's unit tests need Home Assistant's own test harness: they run in their own
# venv, driven by tests/test_ha_integration_e2e.py, never collected here.
collect_ignore = ["ha_integration_unit"]

# ---------------------------------------------------------------------------------------------
# Real Home Assistant 2025.4.4 (marker `real_ha`)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def real_ha(request: pytest.FixtureRequest) -> Iterator[RealHomeAssistant]:
    """A started, onboarded and enriched Home Assistant, shared by the whole session.

    Tests may restart it (`real_ha.restart()`); the URL and token stay valid.
    """
    report = progress(request, "real-ha")
    missing: str | None = None
    try:
        python = ensure_ha_venv(report)
    except HANotAvailable as exc:
        missing = exc.reason
    if missing is not None:  # outside the except block: no chained traceback in the report
        unavailable(f"real Home Assistant {HA_VERSION} unavailable: {missing}")
    ha = RealHomeAssistant(python=python, report=report)
    try:
        ha.start()  # an HA that is installed but does not start is an error, not a skip
        yield ha
    finally:
        ha.close()


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

from data_api.simulator import SimulatedHA, generate_home  # noqa: E402


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedHA]:
    """A simulated HA serving the small home (~130 entities, like HA's demo)."""
    async with SimulatedHA(generate_home("small")) as server:
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

    async def drop(self) -> None:
        """Cut every WebSocket: the simulator aborts them; the real HA is restarted."""
        if self.kind == "sim":
            await self.backend.drop_connections()
        else:
            await asyncio.to_thread(self.backend.restart)


@pytest.fixture(params=["sim", pytest.param("real", marks=pytest.mark.real_ha)])
async def ha_target(request: pytest.FixtureRequest) -> AsyncIterator[HATarget]:
    if request.param == "sim":
        async with SimulatedHA(generate_home("small")) as server:
            yield HATarget("sim", server.url, server.token, server)
    else:
        real = request.getfixturevalue("real_ha")
        yield HATarget("real", real.url, real.token, real)


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
