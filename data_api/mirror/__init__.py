"""The mirror: one Home Assistant home kept fresh in memory and in the database, and read.

`sync` (the `Mirror`: full sync, events, resyncs), `write_behind` (batched writes), `tier` (a
kind's memory copy with its TTL), `query` (the read interface: filters, cursors, listings) and
`views` (helpers, scenes and scripts derived from the entities).
"""

from .collection import Collection, fold
from .query import FILTERS, LIST_KINDS, MAX_LIMIT, Listing, MirrorReader, Query, QueryError
from .sync import KINDS, Mirror
from .tier import Tier, TierStats
from .views import ScriptView

__all__ = [
    "FILTERS",
    "KINDS",
    "LIST_KINDS",
    "MAX_LIMIT",
    "Collection",
    "Listing",
    "Mirror",
    "MirrorReader",
    "Query",
    "QueryError",
    "ScriptView",
    "Tier",
    "TierStats",
    "fold",
]
