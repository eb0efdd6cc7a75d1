"""The home read from a separate data-api over HTTP (`ha-agent serve --role agent`).

`RemoteHome` is the `HomeView` of an agent that does not host the mirror: per kind it keeps a
copy rebuilt into the mirror's own models (`from_dict`, the inverse of what the data-api serves),
so the context builder cannot tell it from `LocalHome`.

Cost per turn: a kind checked less than `refresh` seconds ago is answered from memory; after
that one conditional request revalidates it (`If-None-Match` with the first page's ETag, a 304
when nothing changed). One page's ETag stands for the whole kind: it is derived from the kind's
version, which changes exactly when any of its items does, and from its freshness.

Versions: each copy is a `Collection` whose own version and generation change exactly when the
rebuilt items differ (`Collection.replace_all`), not the data-api's numbers: those restart with the
data-api process, and a reused number would let the context builder's caches serve old text.

When the data-api cannot be reached, the last copy is served and the home is flagged stale (as
the mirror does when Home Assistant is away); with no copy yet, the kind's read fails and the
context marks that section unavailable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from data_api import (
    MAX_LIMIT,
    Area,
    Collection,
    DataApiError,
    Device,
    Entity,
    Floor,
    HAConfig,
    Label,
    ScriptView,
    Service,
    ServiceField,
)

from .policy import Policy
from .snapshot import IndexCache, Snapshot

_LOGGER = logging.getLogger(__name__)
_MAX_PAGE_RESTARTS = 3  # the kind changed while its pages were read: read them again


class DataApiReader(Protocol):
    """What `RemoteHome` needs of a client (`data_api.api.client.DataApiClient`)."""

    async def entity(self, entity_id: str) -> dict[str, Any]: ...

    async def revalidate(
        self, path: str, params: dict[str, Any] | None = None, etag: str | None = None
    ) -> tuple[dict[str, Any] | None, str | None]: ...


def _script(data: Mapping[str, Any]) -> ScriptView:
    # The data-api serves a script as its entity's fields plus `fields`; Entity.from_dict ignores
    # the extra key.
    return ScriptView(Entity.from_dict(data), tuple(ServiceField.from_dict(f) for f in data.get("fields") or ()))


_MODELS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "config": HAConfig.from_dict,
    "floors": Floor.from_dict,
    "areas": Area.from_dict,
    "labels": Label.from_dict,
    "devices": Device.from_dict,
    "entities": Entity.from_dict,
    "services": Service.from_dict,
    "helpers": Entity.from_dict,
    "scenes": Entity.from_dict,
    "scripts": _script,
}


@dataclass
class _Copy:
    data: Collection
    etag: str | None = None
    remote_version: int | None = None
    stale: bool = True
    checked_at: float = float("-inf")


class RemoteHome:
    """A `HomeView` over a data-api's REST API; see the module docstring."""

    def __init__(
        self,
        client: DataApiReader,
        policy: Policy,
        *,
        refresh: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.policy = policy
        self._index = IndexCache()
        self.refresh = refresh
        self._clock = clock
        self._copies: dict[str, _Copy] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._unreachable = False
        self.requests = 0  # conditional requests sent (tests and health read it)
        self.not_modified = 0

    async def snapshot(self) -> Snapshot:
        return await Snapshot.read(self, self._index)

    @property
    def stale(self) -> bool:
        """True while the data-api is unreachable or says its mirror may lag behind HA."""
        return self._unreachable or any(copy.stale for copy in self._copies.values())

    def state(self) -> dict[str, Any]:
        """For `/health/detailed`: where, how fresh, and what revalidating cost so far."""
        return {
            "url": getattr(self.client, "url", None),
            "stale": self.stale,
            "reachable": not self._unreachable,
            "refresh_seconds": self.refresh,
            "requests": self.requests,
            "not_modified": self.not_modified,
            "kinds": {
                kind: {"items": len(copy.data.items), "remote_version": copy.remote_version, "stale": copy.stale}
                for kind, copy in sorted(self._copies.items())
            },
        }

    async def kind(self, kind: str) -> Collection:
        if kind not in _MODELS:
            raise ValueError(f"unknown kind {kind!r}; known: {', '.join(_MODELS)}")
        copy = self._copies.get(kind)
        if copy is not None and self._clock() - copy.checked_at < self.refresh:
            return copy.data
        lock = self._locks.setdefault(kind, asyncio.Lock())
        async with lock:  # concurrent turns share one revalidation per kind
            copy = self._copies.get(kind)
            if copy is not None and self._clock() - copy.checked_at < self.refresh:
                return copy.data
            try:
                copy = await self._revalidate(kind, copy)
            except Exception as exc:  # unreachable, refusing, or answering nonsense: all the same here
                if copy is None:
                    raise
                self._unreachable = True
                _LOGGER.warning("data-api: serving the last copy of %s (stale): %s", kind, exc)
                return copy.data
            self._unreachable = False
            return copy.data

    async def entities_now(self, entity_ids: Sequence[str]) -> dict[str, Entity]:
        """These entities as the data-api holds them this moment, one small request each: what a
        tool reports right after an action, when the copy may be up to `refresh` old. A copy
        found behind is revalidated by the next read. Unreachable: the copy's, as `kind` does."""

        async def one(entity_id: str) -> Entity | None:
            try:
                return Entity.from_dict((await self.client.entity(quote(entity_id, safe="")))["item"])
            except DataApiError as exc:
                if exc.status == 404:
                    return None
                raise

        try:
            found = await asyncio.gather(*(one(e) for e in entity_ids))
        except DataApiError as exc:  # unreachable or refusing (the client wraps transport errors)
            copy = self._copies.get("entities")
            if copy is None:
                raise
            if not self._unreachable:
                _LOGGER.warning("data-api: reporting the last copy of %s (stale): %s", ", ".join(entity_ids), exc)
            self._unreachable = True
            return {e: copy.data.items[e] for e in entity_ids if e in copy.data.items}
        self._unreachable = False
        now = {entity.entity_id: entity for entity in found if entity is not None}
        copy = self._copies.get("entities")
        if copy is not None and any(copy.data.items.get(e) != entity for e, entity in now.items()):
            copy.checked_at = float("-inf")
        return now

    # --- reading -------------------------------------------------------------------------------
    async def _revalidate(self, kind: str, copy: _Copy | None) -> _Copy:
        checked_at = self._clock()
        body, etag, items = await self._read(kind, copy.etag if copy is not None else None)
        self.requests += 1
        if body is None:  # 304: the copy is current
            assert copy is not None
            self.not_modified += 1
            copy.checked_at = checked_at
            return copy
        if copy is None:
            copy = self._copies[kind] = _Copy(Collection(kind, {}))
        copy.data.replace_all(items, key=lambda item: item.key)
        copy.data.synced_at = _moment(body.get("fetched_at"))
        copy.etag, copy.remote_version = etag, body.get("version")
        copy.stale = bool(body.get("stale"))
        copy.checked_at = checked_at
        return copy

    async def _read(self, kind: str, etag: str | None) -> tuple[dict[str, Any] | None, str | None, list[Any]]:
        """(first body, its ETag, every item rebuilt); (None, etag, []) when `etag` is current."""
        build = _MODELS[kind]
        if kind == "config":
            body, etag = await self.client.revalidate("/api/v1/config", None, etag)
            return body, etag, ([] if body is None else [build(body["item"])])
        for _ in range(_MAX_PAGE_RESTARTS):
            first, first_etag = await self.client.revalidate(f"/api/v1/{kind}", {"limit": MAX_LIMIT}, etag)
            if first is None:
                return None, etag, []
            items = [build(item) for item in first["items"]]
            page = first
            while page.get("next_cursor"):
                page, _ = await self.client.revalidate(
                    f"/api/v1/{kind}", {"limit": MAX_LIMIT, "cursor": page["next_cursor"]}
                )
                assert page is not None
                if page.get("version") != first.get("version"):
                    break  # changed under us: the pages do not belong together
                items += [build(item) for item in page["items"]]
            else:
                return first, first_etag, items
        raise RuntimeError(f"the data-api's {kind} kept changing while being read; try again")


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


__all__ = ["DataApiReader", "RemoteHome"]
