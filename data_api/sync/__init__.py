"""Keeping the mirror fresh: full sync, events, resync on reconnect and on TTL expiry."""

from .mirror import KINDS, Mirror

__all__ = ["KINDS", "Mirror"]
