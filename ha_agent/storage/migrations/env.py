"""Alembic environment of the agent's chain (the machinery is the platform's `run_env`):
every `agent_` table, in one MetaData."""

from __future__ import annotations

from data_api.platform.db.migrate import run_env
from ha_agent.storage.chain import VERSION_TABLE, include_name
from ha_agent.storage.schema import metadata

run_env(target_metadata=metadata, version_table=VERSION_TABLE, include_name=include_name)
