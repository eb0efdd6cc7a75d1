"""The home of the mirror in this process (`ha-agent serve`): no HTTP, no copies."""

from __future__ import annotations

from collections.abc import Sequence

from data_api import Collection, Entity, MirrorReader

from .policy import Policy
from .snapshot import IndexCache, Snapshot


class LocalHome:
    """The mirror of this process (the reader's own memory tier), under the owner's `policy`."""

    def __init__(self, reader: MirrorReader, policy: Policy) -> None:
        self.reader = reader
        self.policy = policy
        self._index = IndexCache()

    async def snapshot(self) -> Snapshot:
        return await Snapshot.read(self, self._index)

    async def kind(self, kind: str) -> Collection:
        return await self.reader.kind_data(kind)

    async def entities_now(self, entity_ids: Sequence[str]) -> dict[str, Entity]:
        items = (await self.kind("entities")).items  # memory follows HA's events: already now
        return {e: items[e] for e in entity_ids if e in items}

    @property
    def stale(self) -> bool:
        return self.reader.mirror.stale
