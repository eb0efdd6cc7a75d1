"""What every store of the distribution shares: its engine, a view of it for write transactions,
a password-free name for logs and errors, failures translated into `StoreError`, migrating a
chain, and the health check (the mirror's `Store`, the agent's history and tools build on it)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from sqlalchemy.ext.asyncio import AsyncEngine

from .engine import WRITE_OPTION, ping
from .errors import guard
from .migrate import migration_lock, upgrade


class BaseStore:
    def __init__(self, engine: AsyncEngine, *, owns_engine: bool = True) -> None:
        """`owns_engine`: `close()` disposes of the engine (not when another store shares it)."""
        self._engine = engine
        self._owns_engine = owns_engine
        # Same pool; its connections begin write transactions (SQLite: BEGIN IMMEDIATE, so two
        # writers queue on the lock instead of one failing to upgrade a read lock).
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        url = engine.url
        self.database = url.render_as_string(hide_password=True)  # fit for logs and errors
        self._secrets = (str(url.password),) if url.password else ()

    @property
    def engine(self) -> AsyncEngine:
        """The engine, for code sharing the database (and tests counting statements)."""
        return self._engine

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.database!r})"

    def _guard(self, action: str) -> AbstractAsyncContextManager[None]:
        return guard(action, self.database, self._secrets)

    async def _migrate(self, script_location: str, what: str) -> None:
        """Bring a chain to its newest migration (idempotent; safe concurrently: every chain takes
        the same locks)."""
        async with migration_lock(), self._guard(f"migrating {what}"), self._writer.begin() as conn:
            await conn.run_sync(upgrade, script_location)

    async def ping(self) -> float:
        """Seconds a check that the database could take a write takes (`engine.ping`)."""
        async with self._guard("ping"):
            return await ping(self._engine)

    async def close(self) -> None:
        if self._owns_engine:
            await self._engine.dispose()
