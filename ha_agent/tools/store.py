"""The tools' rows in the database: the audit trail and pending confirmations.

It shares the engine of the conversation store (one pool per process). The audit of a turn is
one bulk insert after its calls have run; a pending action is taken with one
`DELETE .. RETURNING`, so two replicas answering the same "yes" cannot both run it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ha_agent.storage import AgentStore, audit, pending_actions

MAX_AUDIT_LIMIT = 1000
_A = audit.c
_P = pending_actions.c


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    conversation_id: str
    tool: str
    arguments: Any  # the parsed arguments, or {"raw": text}
    result: Any
    error: str | None
    duration_ms: float
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PendingAction:
    conversation_id: str
    action: dict[str, Any]
    created_at: datetime
    expires_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.expires_at


class ToolStore(AgentStore):
    """Audit rows and pending confirmations, on an engine the agent owns (not closed here)."""

    def __init__(self, engine: AsyncEngine, *, home_id: str = "default") -> None:
        super().__init__(engine, owns_engine=False)
        self.home_id = home_id

    # --- audit ----------------------------------------------------------------------------
    async def add_audit(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        rows = [
            {
                "home_id": self.home_id,
                "conversation_id": e.conversation_id,
                "tool": e.tool[:64],
                "arguments": e.arguments,
                "result": e.result,
                "error": e.error,
                "created_at": e.created_at,
                "duration_ms": round(e.duration_ms, 3),
            }
            for e in entries
        ]
        async with self._guard("writing the tool audit"), self._writer.begin() as conn:
            await conn.execute(insert(audit), rows)

    async def list_audit(self, limit: int = 100, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """Newest first; `limit` is clamped to 1..1000."""
        limit = max(1, min(int(limit), MAX_AUDIT_LIMIT))
        query = select(
            _A.id, _A.conversation_id, _A.tool, _A.arguments, _A.result, _A.error, _A.created_at, _A.duration_ms
        ).where(_A.home_id == self.home_id)
        if conversation_id is not None:
            query = query.where(_A.conversation_id == conversation_id)
        query = query.order_by(_A.created_at.desc(), _A.id.desc()).limit(limit)
        async with self._guard("reading the tool audit"), self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            {
                "id": row.id,
                "conversation_id": row.conversation_id,
                "tool": row.tool,
                "arguments": row.arguments,
                "result": row.result,
                "error": row.error,
                "created_at": row.created_at.isoformat(),
                "duration_ms": row.duration_ms,
            }
            for row in rows
        ]

    # --- pending confirmations ------------------------------------------------------------
    async def add_pending(self, conversation_id: str, calls: Sequence[Mapping[str, Any]], ttl: float) -> PendingAction:
        """Add calls to the conversation's open question (one per conversation) and return it.

        A question still open gets the calls added: a second request for confirmation in the
        same turn adds to what is asked, it never replaces it (each turn first takes what was
        pending, so an open question is always this turn's). An expired one is replaced.
        """
        now = utcnow()
        mine = _P.conversation_id == conversation_id
        async with self._guard("saving a pending action"), self._writer.begin() as conn:
            row = (await conn.execute(select(_P.action, _P.created_at, _P.expires_at).where(mine))).first()
            if row is not None and now < row.expires_at:
                action = {**row.action, "calls": [*(row.action.get("calls") or []), *calls]}
                created = row.created_at
                await conn.execute(
                    update(pending_actions).where(mine).values(action=action, expires_at=now + timedelta(seconds=ttl))
                )
            else:
                action, created = {"calls": list(calls)}, now
                await conn.execute(delete(pending_actions).where(mine))
                await conn.execute(
                    insert(pending_actions),
                    {
                        "conversation_id": conversation_id,
                        "action": action,
                        "created_at": now,
                        "expires_at": now + timedelta(seconds=ttl),
                    },
                )
        return PendingAction(conversation_id, action, created, now + timedelta(seconds=ttl))

    async def take_pending(self, conversation_id: str) -> PendingAction | None:
        """Remove and return the conversation's pending action (expired or not), if any."""
        statement = (
            delete(pending_actions)
            .where(_P.conversation_id == conversation_id)
            .returning(_P.conversation_id, _P.action, _P.created_at, _P.expires_at)
        )
        async with self._guard("taking a pending action"), self._writer.begin() as conn:
            row = (await conn.execute(statement)).first()
        return PendingAction(*row) if row is not None else None

    async def peek_pending(self, conversation_id: str) -> PendingAction | None:
        query = select(_P.conversation_id, _P.action, _P.created_at, _P.expires_at).where(
            _P.conversation_id == conversation_id
        )
        async with self._guard("reading a pending action"), self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return PendingAction(*row) if row is not None else None
