"""The store the agent's stores build on: the platform's `BaseStore` and the agent's one chain."""

from __future__ import annotations

from data_api.platform.db import BaseStore

from .chain import SCRIPT_LOCATION


class AgentStore(BaseStore):
    async def migrate(self) -> None:
        """Bring the agent's schema (history and tools) to its newest migration; idempotent, and
        safe concurrently with the mirror's chain (both take the same locks)."""
        await self._migrate(SCRIPT_LOCATION, "the agent schema")
