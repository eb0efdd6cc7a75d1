"""The agent's migration chain: where its scripts are, its version table, its tables' prefix.

It runs through the platform's machinery (`data_api.platform.db.migrate`): the same in-process
lock and PostgreSQL advisory lock as the mirror's chain, and a version table of its own, so the
two chains upgrade one database independently.
"""

from __future__ import annotations

from data_api.platform.db.migrate import tables_prefixed

SCRIPT_LOCATION = "ha_agent.storage:migrations"
VERSION_TABLE = "alembic_version_agent"
TABLE_PREFIX = "agent_"
include_name = tables_prefixed(TABLE_PREFIX)
