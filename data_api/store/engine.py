"""Async engines for the two supported databases, set up for the mirror's access pattern.

SQLite (aiosqlite): WAL so readers never wait for the writer; `synchronous=NORMAL` (safe with
WAL, fsync only at checkpoints); `busy_timeout` so a second writer waits a bounded time instead
of failing at once. Python's sqlite3 module would open transactions implicitly and only before
writes, so reads would see no snapshot and a write could start deferred and fail to upgrade its
lock; instead the driver is put in autocommit mode and each transaction is begun explicitly:
`BEGIN` for reads (one snapshot across statements), `BEGIN IMMEDIATE` for writes (take the write
lock first, waiting up to `busy_timeout`).

PostgreSQL (asyncpg): a queue pool sized from the settings, pre-ping and recycle so a restarted
server or a dropped idle connection costs a reconnect, not a failed request; `lock_timeout` so a
write blocked by another transaction's lock fails with a clear error instead of hanging.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

WRITE_OPTION = "mirror_write"  # execution option marking a connection that will write


def sqlite_is_memory(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or url.query.get("mode") == "memory"


def pool_options(settings: Any) -> dict[str, Any]:
    """The pool settings (`DB_*`) every engine of the distribution takes, as `create_engine`
    keywords: the mirror's store and an agent's history read them alike."""
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_recycle": settings.db_pool_recycle,
        "pool_timeout": settings.db_pool_timeout,
        "pool_pre_ping": settings.db_pool_pre_ping,
    }


def create_engine(
    database_url: str,
    *,
    pool_size: int,
    max_overflow: int,
    pool_recycle: int,
    pool_timeout: float,
    pool_pre_ping: bool,
    busy_timeout: float,
    connect_timeout: float,
    application_name: str = "ha-agent-mirror",
) -> AsyncEngine:
    """`application_name` tells the services apart in PostgreSQL's `pg_stat_activity`."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, pool_size, max_overflow, pool_timeout, busy_timeout)
    if backend == "postgresql":
        return create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_recycle=pool_recycle,
            pool_timeout=pool_timeout,
            pool_pre_ping=pool_pre_ping,
            connect_args={
                "timeout": connect_timeout,  # asyncpg waits 60 s for a silent host otherwise
                "server_settings": {
                    "application_name": application_name,
                    "lock_timeout": str(int(busy_timeout * 1000)),
                },
            },
        )
    raise ValueError(f"unsupported database {backend!r}: use sqlite+aiosqlite or postgresql+asyncpg")


def _sqlite_engine(
    url: URL, pool_size: int, max_overflow: int, pool_timeout: float, busy_timeout: float
) -> AsyncEngine:
    memory = sqlite_is_memory(url)
    # A queue pool, as for PostgreSQL: each aiosqlite connection is a thread with its own page
    # cache, so keeping a few open saves a reopen and schema parse per request, and WAL lets
    # them read in parallel. Pre-ping and recycle are left out: a local file does not drop
    # connections. An in-memory database lives and dies with its one connection, so it gets a
    # pool of exactly one, never recycled.
    engine = create_async_engine(
        url,
        poolclass=AsyncAdaptedQueuePool,
        pool_size=1 if memory else pool_size,
        max_overflow=0 if memory else max_overflow,
        pool_timeout=pool_timeout,
        pool_recycle=-1,
        pool_pre_ping=False,
    )
    busy_ms = int(busy_timeout * 1000)

    @event.listens_for(engine.sync_engine, "do_connect")
    def _make_folder(*_args: Any) -> None:
        # Here rather than at construction: a Store does no I/O until used, and a folder that
        # cannot be made fails inside a store call, as a StoreError.
        if not memory:
            Path(url.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # autocommit: transactions begin below
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            # SQLite ignores foreign keys unless asked, per connection; the agent's history
            # relies on ON DELETE CASCADE (the mirror's tables have none, so are unaffected).
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


async def ping(engine: AsyncEngine) -> float:
    """Seconds a `SELECT 1` takes, connection checkout included; `OSError` if the database
    could not take a write now (a read alone would not notice: an SQLite file deleted under
    open connections still answers reads, and a read-only one reads fine)."""
    started = time.perf_counter()
    url = engine.url
    if url.get_backend_name() == "sqlite" and not sqlite_is_memory(url):
        path = Path(url.database or "").expanduser()
        if not path.exists():
            raise OSError(f"the database file {path} is gone")
        folder = path.parent
        if not os.access(path, os.W_OK) or not os.access(folder, os.W_OK):
            raise OSError(f"the database file {path} (or its folder, which holds its journal) is read-only")
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            raise OSError(f"the database file {path} is on a read-only file system")
    async with engine.connect() as conn:
        if url.get_backend_name() == "postgresql":
            if (await conn.execute(text("SHOW transaction_read_only"))).scalar() == "on":
                raise OSError("the database is read-only (a standby, or default_transaction_read_only)")
        else:
            await conn.execute(text("SELECT 1"))
    return time.perf_counter() - started
