"""The mirror's tiers (memory → database → Home Assistant) and its read interface."""

from .reader import LIST_KINDS, MAX_LIMIT, Listing, MirrorReader, Query, QueryError, ScriptView
from .tier import KindData, Tier, TierStats

__all__ = [
    "LIST_KINDS",
    "MAX_LIMIT",
    "KindData",
    "Listing",
    "MirrorReader",
    "Query",
    "QueryError",
    "ScriptView",
    "Tier",
    "TierStats",
]
