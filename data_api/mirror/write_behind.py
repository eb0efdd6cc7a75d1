"""Write-behind of event updates to the database.

An event updates memory at once (readers see it in microseconds); the database copy follows in
batches, one upsert and one delete statement per kind per flush, so a burst of a thousand state
changes costs two statements, not a thousand. A failed flush keeps its batch for the next one.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

_LOGGER = logging.getLogger(__name__)
_DELETE = object()


class WriteBehind:
    def __init__(self, store: Any, home_id: str, interval: float = 0.05) -> None:
        self._store = store
        self._home_id = home_id
        self._interval = interval
        self._pending: dict[str, dict[str, Any]] = {}
        self._versions: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.flushes = 0
        self.failures = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mirror-write-behind")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush()

    def put(self, kind: str, key: str, item: Any, version: int) -> None:
        self._pending.setdefault(kind, {})[key] = item
        self._versions[kind] = version
        self._wake.set()

    def delete(self, kind: str, key: str, version: int) -> None:
        self._pending.setdefault(kind, {})[key] = _DELETE
        self._versions[kind] = version
        self._wake.set()

    def discard(self, kind: str) -> None:
        """Forget queued writes of a kind that is about to be written whole."""
        self._pending.pop(kind, None)

    @property
    def backlog(self) -> int:
        return sum(len(items) for items in self._pending.values())

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self._interval)  # gather the rest of a burst
            self._wake.clear()
            await self.flush()
            if self._pending:  # the flush failed: try again later, not in a tight loop
                await asyncio.sleep(1.0)
                self._wake.set()

    async def flush(self, kind: str | None = None) -> None:
        async with self._lock:
            for name in [kind] if kind else list(self._pending):
                batch = self._pending.pop(name, None)
                if not batch:
                    continue
                try:
                    await self._write(name, batch)
                    self.flushes += 1
                except Exception as exc:
                    self.failures += 1
                    _LOGGER.warning("could not write %d %s to the database: %s", len(batch), name, exc)
                    # Newer writes queued meanwhile win over the failed batch.
                    self._pending[name] = {**batch, **self._pending.get(name, {})}

    async def _write(self, kind: str, batch: dict[str, Any]) -> None:
        version = self._versions[kind]
        upserts = [item for item in batch.values() if item is not _DELETE]
        deletes = [key for key, item in batch.items() if item is _DELETE]
        if upserts:
            await self._store.upsert_items(self._home_id, kind, upserts, version)
        if deletes:
            await self._store.delete_items(self._home_id, kind, deletes, version)
