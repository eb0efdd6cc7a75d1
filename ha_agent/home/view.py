"""What the agent asks of a home, wherever it is read from (the mirror in this process, or a
data-api over HTTP): its kinds, entities as of this moment, whether it may lag behind Home
Assistant, and the owner's policy — so context, tools and intents all see the same home."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from data_api import Collection, Entity

if TYPE_CHECKING:
    from .policy import Policy
    from .snapshot import Snapshot


class HomeView(Protocol):
    """A home, from the mirror in-process (`LocalHome`) or a data-api over HTTP (`RemoteHome`)."""

    async def kind(self, kind: str) -> Collection: ...

    async def entities_now(self, entity_ids: Sequence[str]) -> dict[str, Entity]:
        """These entities as of this moment (a tool's result after an action)."""
        ...

    @property
    def stale(self) -> bool: ...

    @property
    def policy(self) -> Policy:
        """What the assistant may read and do here (the owner's settings)."""
        ...

    async def snapshot(self) -> Snapshot:
        """The home as it is now for one turn's reads and calls: its kinds, the index of its
        layout (shared by every reader of this view), and the policy."""
        ...
