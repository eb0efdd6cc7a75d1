"""Alembic environment of the mirror's schema (the machinery is `migrate.run_env`)."""

from __future__ import annotations

from data_api.platform.db.migrate import run_env
from data_api.store.chain import VERSION_TABLE, include_name
from data_api.store.schema import Base

run_env(target_metadata=Base.metadata, version_table=VERSION_TABLE, include_name=include_name)
