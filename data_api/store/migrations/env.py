"""Alembic environment of the mirror's schema.

`Store.migrate()` hands over an open connection (in its transaction) through
`config.attributes["connection"]`; tooling may instead set `sqlalchemy.url`, and then an async
engine is made here for the run.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from data_api.store.migrate import (
    PG_MIGRATION_LOCK,
    PG_MIGRATION_LOCK_TIMEOUT,
    VERSION_TABLE,
    include_name,
)
from data_api.store.schema import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        include_name=include_name,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Held to the end of the transaction: a second migrator waits, then finds it done.
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{PG_MIGRATION_LOCK_TIMEOUT}'")
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
        context.run_migrations()


async def _run_with_url(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
elif (shared := config.attributes.get("connection")) is not None:
    _run(shared)
else:
    asyncio.run(_run_with_url(config.get_main_option("sqlalchemy.url") or ""))
