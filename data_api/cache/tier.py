"""One kind's in-memory tier: a TTL-bounded copy in front of the database, single-flight refills.

The memory copy (`KindData`) is mutable in place: asyncio runs one task at a time, so an update
made without an await in between is seen whole or not at all by readers. Every change bumps
`version` — the kind's version changes exactly when its data does (readers and ETags rely on it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cachetools import TTLCache

_LOGGER = logging.getLogger(__name__)
_KEY = "data"


@dataclass
class KindData:
    """The memory copy of one kind: items by key, sorted on read."""

    kind: str
    items: dict[str, Any]
    version: int = 0
    synced_at: datetime | None = None
    # Bumped only when membership or grouping changes (not on a state change): indexes use it.
    layout_version: int = 0
    _sorted: list[Any] | None = field(default=None, repr=False)
    _sorted_version: int = field(default=-1, repr=False)

    def sorted_items(self) -> list[Any]:
        if self._sorted_version != self.version or self._sorted is None:
            self._sorted = [self.items[k] for k in sorted(self.items)]
            self._sorted_version = self.version
        return self._sorted

    def replace_all(self, items: Iterable[Any], *, key: Callable[[Any], str]) -> bool:
        """Replace every item; returns whether anything changed (and bumps the version if so)."""
        new = {key(item): item for item in items}
        if new == self.items:
            return False
        layout_changed = new.keys() != self.items.keys() or any(
            _layout(new[k]) != _layout(self.items[k]) for k in new
        )
        self.items = new
        self._bump(layout_changed)
        return True

    def put(self, key: str, item: Any) -> bool:
        old = self.items.get(key)
        if old == item:
            return False
        self.items[key] = item
        self._bump(old is None or _layout(old) != _layout(item))
        return True

    def remove(self, key: str) -> bool:
        if self.items.pop(key, None) is None:
            return False
        self._bump(True)
        return True

    def _bump(self, layout_changed: bool) -> None:
        self.version += 1
        if layout_changed:
            self.layout_version += 1


def _layout(item: Any) -> tuple[Any, ...]:
    """What groups an item (area, floor, domain, device, labels, exposure), not its state."""
    return tuple(
        getattr(item, name, None)
        for name in ("area_id", "floor_id", "device_id", "labels", "exposed", "name", "aliases")
    )


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


Loader = Callable[[], Awaitable[KindData]]


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
        self._memory: TTLCache[str, KindData] = TTLCache(maxsize=1, ttl=ttl)
        self._refill: asyncio.Future[KindData] | None = None
        self._last: KindData | None = None
        self.stats = TierStats()

    def peek(self) -> KindData | None:
        """The memory copy if present and fresh, without counting or loading."""
        return self._memory.get(_KEY)

    @property
    def last(self) -> KindData | None:
        """The newest copy this tier has held, expired or not (for versions and health)."""
        return self._last

    async def get(self) -> KindData:
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

    async def _load(self) -> KindData:
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

    def _refilled(self, refill: asyncio.Future[KindData]) -> None:
        """A failed refill that readers served from the last copy never awaited: say so once
        here (else: "exception never retrieved"), and count it for health."""
        if refill.cancelled() or refill.exception() is None:
            return
        self.stats.refill_errors += 1
        if self._last is not None:
            _LOGGER.warning("%s: refilling from the database failed (%s); serving the last copy", self.kind,
                            refill.exception())  # fmt: skip

    async def close(self) -> None:
        """Cancel a refill still running (the owner is stopping)."""
        if self._refill is not None:
            self._refill.cancel()
            await asyncio.gather(self._refill, return_exceptions=True)

    def set(self, data: KindData) -> None:
        """Put a copy in memory (after a sync, or a refill) and restart its TTL."""
        self._memory[_KEY] = data
        self._last = data

    def invalidate(self) -> None:
        self._memory.pop(_KEY, None)


def index_by(items: Iterable[Any], attr: str) -> Mapping[Any, list[Any]]:
    """Group items by an attribute; tuple attributes (labels) put an item in each group."""
    groups: dict[Any, list[Any]] = {}
    for item in items:
        value = getattr(item, attr, None)
        for one in value if isinstance(value, tuple) else (value,):
            groups.setdefault(one, []).append(item)
    return groups
