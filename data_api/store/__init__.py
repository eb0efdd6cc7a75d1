"""The mirror's database tier: SQLite by default, PostgreSQL by `DATABASE_URL`.

Many homes may share one database; every row carries its `home_id`.
"""

from data_api.platform.db.errors import StoreError

from .kinds import CONFIG_KEY, KINDS, Kind
from .store import Store, StoredKind, SyncState

__all__ = ["CONFIG_KEY", "KINDS", "Kind", "Store", "StoreError", "StoredKind", "SyncState"]
