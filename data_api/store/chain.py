"""The mirror's migration chain: where its scripts are, its version table, its tables' prefix."""

from __future__ import annotations

from data_api.platform.db.migrate import tables_prefixed

SCRIPT_LOCATION = "data_api.store:migrations"
VERSION_TABLE = "alembic_version_mirror"
TABLE_PREFIX = "mirror_"
include_name = tables_prefixed(TABLE_PREFIX)
