"""Databases: engines for SQLite and PostgreSQL, errors as `StoreError`, migration chains, and the
`BaseStore` every store builds on."""

from .base_store import BaseStore
from .errors import StoreError, guard

__all__ = ["BaseStore", "StoreError", "guard"]
