"""How the tools act on Home Assistant: a small protocol, and its implementation on our client.

The agent gives the toolbox a `HomeActions`; in one process that is `HAActions` over the
mirror's own client, so the state changes a call causes arrive on the connection the mirror
listens to, usually before the call's result.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from data_api.ha import HAClient


class HomeActions(Protocol):
    async def call_service(
        self,
        domain: str,
        service: str,
        service_data: dict[str, Any] | None = None,
        *,
        target: dict[str, Any] | None = None,
        return_response: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]: ...

    async def history(
        self, entity_ids: Sequence[str], start: datetime, end: datetime | None = None
    ) -> list[list[dict[str, Any]]]:
        """HA's `/api/history/period` answer: one list of points per entity that has any."""
        ...

    async def run_config(self, entity_id: str) -> dict[str, Any] | None:
        """A script's or automation's configuration (None if HA does not know it)."""
        ...


class HAActions:
    def __init__(self, client: HAClient) -> None:
        self.client = client

    async def call_service(
        self,
        domain: str,
        service: str,
        service_data: dict[str, Any] | None = None,
        *,
        target: dict[str, Any] | None = None,
        return_response: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        return await self.client.call_service(
            domain, service, service_data, target=target, return_response=return_response, timeout=timeout
        )

    async def history(
        self, entity_ids: Sequence[str], start: datetime, end: datetime | None = None
    ) -> list[list[dict[str, Any]]]:
        return await self.client.rest.get_history(
            list(entity_ids), start.isoformat(), end.isoformat() if end else None, minimal=True
        )

    async def run_config(self, entity_id: str) -> dict[str, Any] | None:
        return await self.client.fetch_run_config(entity_id)
