"""How the agent reads the home: the mirror in the same process, or a data-api over HTTP."""

from __future__ import annotations

from data_api.cache import KindData, MirrorReader


class LocalHome:
    """The mirror of this process (no HTTP, no copies: the reader's own memory tier)."""

    def __init__(self, reader: MirrorReader) -> None:
        self.reader = reader

    async def kind(self, kind: str) -> KindData:
        return await self.reader.kind_data(kind)

    @property
    def stale(self) -> bool:
        return self.reader.mirror.stale
