"""Alembic, configured in code: the mirror's migration chain and how it is applied.

No `alembic.ini`: the script location is a package resource, so migrations work from an
installed wheel as well as from a checkout. The version table is the mirror's own, because the
agent keeps a separate migration chain in the same database.

For a new revision during development::

    from alembic import command
    from data_api.store.migrate import alembic_config
    command.revision(alembic_config("sqlite+aiosqlite:///./data/dev.db"), "what changed", autogenerate=True)
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

SCRIPT_LOCATION = "data_api.store:migrations"
VERSION_TABLE = "alembic_version_mirror"
TABLE_PREFIX = "mirror_"
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


def include_name(name: str | None, type_: str, _parent: Any) -> bool:
    """Autogenerate looks at the mirror's tables only, never proposing to drop the agent's."""
    return type_ != "table" or (name or "").startswith(TABLE_PREFIX)


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser escaping
    if connection is not None:
        config.attributes["connection"] = connection  # env.py runs on it (same transaction)
    return config


def upgrade(connection: Connection) -> None:
    """Apply every pending migration on `connection` (sync side of an async connection)."""
    command.upgrade(alembic_config(connection=connection), "head")
