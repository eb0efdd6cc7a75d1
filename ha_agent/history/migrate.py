"""Where the agent's migration chain lives and what it records its version in.

The chain (the history's tables, then the tools') runs through the mirror's machinery
(`data_api.store.migrate`): the same in-process lock and PostgreSQL advisory lock, its own
version table, so the mirror's chain and this one upgrade one database independently.
"""

from __future__ import annotations

SCRIPT_LOCATION = "ha_agent.history:migrations"
VERSION_TABLE = "alembic_version_agent"
