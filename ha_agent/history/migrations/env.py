"""Alembic environment of the agent's chain (the machinery is the mirror's `run_env`).

The chain holds every `agent_` table: the history's, and the tools' (revision
`0002_agent_tools`); autogenerate compares against all of their models.
"""

from __future__ import annotations

from data_api.store.migrate import run_env, tables_prefixed
from ha_agent.history.migrate import VERSION_TABLE
from ha_agent.history.schema import TABLE_PREFIX
from ha_agent.history.schema import metadata as history_metadata
from ha_agent.tools.schema import metadata as tools_metadata

run_env(
    target_metadata=[history_metadata, tools_metadata],
    version_table=VERSION_TABLE,
    include_name=tables_prefixed(TABLE_PREFIX),
)
