"""One kind's in-memory tier: a TTL-bounded copy (a `Collection`) in front of the database,
single-flight refills."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache

from .collection import Collection

_LOGGER = logging.getLogger(__name__)
_KEY = "data"


@dataclass
class TierStats:
    hits: int = 0
    misses: int = 0
    refills: int = 0
    refill_errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        lookups = self.hits + self.misses
        return {
            "hits": self.hits,
            "misses": self.misses,
            "refills": self.refills,
            "refill_errors": self.refill_errors,
            "hit_rate": round(self.hits / lookups, 4) if lookups else None,
        }


Loader = Callable[[], Awaitable[Collection]]


class Tier:
    """Memory → (loader: database, else Home Assistant) for one kind.

    `get()` answers from memory while the TTL holds. On a miss, one refill runs no matter how
    many readers are waiting (single-flight); when the miss is an expiry rather than a cold
    start, `on_expired` is called so the owner can resync the kind from Home Assistant. An
    expiry does not make readers wait: the last copy is at least as new as the database (this
    process wrote it there), so they get it while the refill and the resync run — a turn in a
    quiet 5,000-entity home would otherwise pay a ~200 ms reload every TTL.
    """

    def __init__(
        self,
        kind: str,
        ttl: float,
        loader: Loader,
        on_expired: Callable[[str], None] | None = None,
    ) -> None:
        self.kind = kind
        self.ttl = ttl
        self._loader = loader
        self._on_expired = on_expired
        self._memory: TTLCache[str, Collection] = TTLCache(maxsize=1, ttl=ttl)
        self._refill: asyncio.Future[Collection] | None = None
        self._last: Collection | None = None
        self.stats = TierStats()

    def peek(self) -> Collection | None:
        """The memory copy if present and fresh, without counting or loading."""
        return self._memory.get(_KEY)

    @property
    def last(self) -> Collection | None:
        """The newest copy this tier has held, expired or not (for versions and health)."""
        return self._last

    async def get(self) -> Collection:
        data = self._memory.get(_KEY)
        if data is not None:
            self.stats.hits += 1
            return data
        self.stats.misses += 1
        if self._refill is None:
            self.stats.refills += 1
            self._refill = asyncio.ensure_future(self._load())
            self._refill.add_done_callback(self._refilled)
        if self._last is not None:
            return self._last
        # shield: one reader giving up (cancelled) must not cancel the others' refill.
        return await asyncio.shield(self._refill)

    async def _load(self) -> Collection:
        expired = self._last is not None
        try:
            data = await self._loader()
            self.set(data)
        finally:
            self._refill = None
            # Also when the database failed: Home Assistant can still refresh the copy.
            if expired and self._on_expired is not None:
                self._on_expired(self.kind)
        return data

    def _refilled(self, refill: asyncio.Future[Collection]) -> None:
        """A failed refill that readers served from the last copy never awaited: say so once
        here (else: "exception never retrieved"), and count it for health."""
        if refill.cancelled() or refill.exception() is None:
            return
        self.stats.refill_errors += 1
        if self._last is not None:
            _LOGGER.warning(
                "%s: refilling from the database failed (%s); serving the last copy", self.kind, refill.exception()
            )

    async def close(self) -> None:
        """Cancel a refill still running (the owner is stopping)."""
        if self._refill is not None:
            self._refill.cancel()
            await asyncio.gather(self._refill, return_exceptions=True)

    def set(self, data: Collection) -> None:
        """Put a copy in memory (after a sync, or a refill) and restart its TTL."""
        self._memory[_KEY] = data
        self._last = data

    def invalidate(self) -> None:
        self._memory.pop(_KEY, None)
