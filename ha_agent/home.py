"""How the agent reads the home: the mirror in the same process, or a data-api over HTTP."""

from __future__ import annotations

from collections.abc import Sequence

from data_api.cache import KindData, MirrorReader
from data_api.ha import Entity


class LocalHome:
    """The mirror of this process (no HTTP, no copies: the reader's own memory tier)."""

    def __init__(self, reader: MirrorReader) -> None:
        self.reader = reader

    async def kind(self, kind: str) -> KindData:
        return await self.reader.kind_data(kind)

    async def entities_now(self, entity_ids: Sequence[str]) -> dict[str, Entity]:
        items = (await self.kind("entities")).items  # memory follows HA's events: already now
        return {e: items[e] for e in entity_ids if e in items}

    @property
    def stale(self) -> bool:
        return self.reader.mirror.stale
