"""Alembic, configured in code: how any migration chain of the distribution is applied.

No `alembic.ini`: a chain's script location is a package resource, so migrations work from an
installed wheel as well as from a checkout. Each chain (the mirror's, `data_api.store.chain`; the
agent's, `ha_agent.storage`) has its own version table in the same database; all run through
the functions here, under the same locks.

For a new revision during development::

    from alembic import command
    from data_api.platform.db.migrate import alembic_config
    command.revision(alembic_config("sqlite+aiosqlite:///./data/dev.db", script_location="data_api.store:migrations"),
                     "what changed", autogenerate=True)
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

# Serialises concurrent migrators on PostgreSQL (two services starting at once); any constant
# that no other application uses as an advisory lock key.
PG_MIGRATION_LOCK = 0x68612D6D6972  # "ha-mir"
# How long a migrator waits for another's (longer than the store's lock_timeout for writes).
PG_MIGRATION_LOCK_TIMEOUT = "60s"

_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def migration_lock() -> asyncio.Lock:
    """Held while Alembic runs, by every migration chain in the process (mirror and agent).

    Alembic's `context` and `op` are module globals: two upgrades interleaved on one event
    loop (e.g. both services starting in one process) would run each other's operations on the
    wrong connection. One lock per event loop, as an asyncio.Lock belongs to one loop.
    """
    loop = asyncio.get_running_loop()
    lock = _LOCKS.get(loop)
    if lock is None:
        lock = _LOCKS[loop] = asyncio.Lock()
    return lock


IncludeName = Callable[[str | None, str, Any], bool]


def tables_prefixed(prefix: str) -> IncludeName:
    """An autogenerate filter seeing only one chain's tables (by their name prefix), so it never
    proposes to drop the tables of the other chain sharing the database."""

    def include(name: str | None, type_: str, _parent: Any) -> bool:
        return type_ != "table" or (name or "").startswith(prefix)

    return include


def alembic_config(url: str | None = None, connection: Connection | None = None, *, script_location: str) -> Config:
    config = Config()
    config.set_main_option("script_location", script_location)
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser escaping
    if connection is not None:
        config.attributes["connection"] = connection  # env.py runs on it (same transaction)
    return config


def upgrade(connection: Connection, script_location: str) -> None:
    """Apply every pending migration of a chain on `connection` (sync side of an async
    connection). Callers hold `migration_lock()` around it."""
    command.upgrade(alembic_config(connection=connection, script_location=script_location), "head")


def run_env(*, target_metadata: MetaData | Sequence[MetaData], version_table: str, include_name: IncludeName) -> None:
    """The whole of a chain's `env.py`: each chain names its models (one MetaData, or several
    when modules share a chain), its version table and its autogenerate filter.

    `upgrade()` hands over an open connection (in its transaction) through
    `config.attributes["connection"]`; tooling may instead set `sqlalchemy.url`, and then an
    async engine is made here for the run. On PostgreSQL every chain takes the same advisory
    lock, so migrators in different processes run one at a time.
    """

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=version_table,
            include_name=include_name,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Held to the end of the transaction: a second migrator waits, then finds it done.
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{PG_MIGRATION_LOCK_TIMEOUT}'")
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
            context.run_migrations()

    async def run_with_url(url: str) -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(run)
                await connection.commit()
        finally:
            await engine.dispose()

    config = context.config
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=target_metadata,
            version_table=version_table,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    elif (shared := config.attributes.get("connection")) is not None:
        run(shared)
    else:
        asyncio.run(run_with_url(config.get_main_option("sqlalchemy.url") or ""))
