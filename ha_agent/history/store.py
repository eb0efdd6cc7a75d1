"""Conversations and their messages in the database, each message's token count stored with it.

Counting tokens is the expensive part of assembling a history (tens of microseconds per
message); it happens once, in `append`, before the write transaction opens. Loads and window
selection read the stored counts and never tokenize again.

Writes: `append` is one transaction of two statements whatever the batch size (bump the
conversation's counter, one bulk insert); `delete` and `purge_older_than` are one statement
each (messages go by ON DELETE CASCADE). Reads: `load` is one ordered query on the
(conversation_id, seq) index. See `schema.py` for why order is a sequence number.

One process shares the mirror's engine (`ConversationStore(store.engine)`); a separate agent
process makes its own with `from_settings`. Database failures raise the mirror's `StoreError`,
so callers have one error to catch for the database tier.

A turn, as the agent should store it: the user's message alone, before the model is called
(nothing is lost if the model or the process fails); then each assistant message with tool
calls together with their results in one `append` (one transaction: never calls without
results); then the answer. `append` returns the stored messages, so a turn can extend the list
it loaded instead of loading again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from data_api.platform.db.engine import create_engine, pool_options
from ha_agent.storage import AgentStore, conversations, messages

from .messages import (
    Conversation,
    ConversationNotFound,
    StoredMessage,
    check_message,
    count_message_tokens,
)
from .window import Window, select_window

if TYPE_CHECKING:
    from data_api.platform.settings import DatabaseSettings

_C = conversations.c
_M = messages.c
# In StoredMessage's field order, so a row becomes a message without per-field work.
_MESSAGE_COLUMNS = (
    _M.id,
    _M.conversation_id,
    _M.seq,
    _M.role,
    _M.content,
    _M.tool_calls,
    _M.tool_call_id,
    _M.name,
    _M.token_count,
    _M.created_at,
    _M.meta,
)
_CONVERSATION_COLUMNS = (_C.id, _C.home_id, _C.title, _C.created_at, _C.updated_at, _C.last_seq)
_MESSAGES_IN_ORDER = select(*_MESSAGE_COLUMNS).order_by(_M.seq)  # narrowed to one conversation per use
# Messages read beyond those a window's tokens reach: room for the unit it stops at (an
# assistant's calls and their results). A bigger unit only costs a second read (`load_window`).
_UNIT_SLACK = 16


def _now() -> datetime:
    return datetime.now(UTC)


class ConversationStore(AgentStore):
    """The agent's conversations, in the mirror's database (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine, *, owns_engine: bool = False) -> None:
        """`owns_engine`: `close()` disposes of the engine (not when it is shared)."""
        super().__init__(engine, owns_engine=owns_engine)

    @classmethod
    def from_settings(cls, settings: DatabaseSettings) -> ConversationStore:
        """A store with its own engine, for an agent process that does not host the mirror."""
        engine = create_engine(
            settings.url,
            **pool_options(settings),
            busy_timeout=5.0,
            connect_timeout=10.0,
            application_name="ha-agent-history",
        )
        return cls(engine, owns_engine=True)

    # --- writes ---------------------------------------------------------------------------
    async def create(self, home_id: str, title: str | None = None) -> str:
        """A new, empty conversation of `home_id`; returns its id."""
        conversation_id = uuid.uuid4().hex
        now = _now()
        row = {
            "id": conversation_id,
            "home_id": home_id,
            "title": title,
            "created_at": now,
            "updated_at": now,
            "last_seq": 0,
        }
        async with self._guard(f"creating a conversation of home {home_id!r}"), self._writer.begin() as conn:
            await conn.execute(insert(conversations), row)
        return conversation_id

    async def append(
        self,
        conversation_id: str,
        new_messages: Sequence[Mapping[str, Any]],
        model: str,
        *,
        home_id: str | None = None,
    ) -> list[StoredMessage]:
        """Store messages at the end of a conversation, in order, all or none.

        Each message's token count is computed here, once, with `model`'s tokenizer. Raises
        `InvalidMessage` for a malformed message (nothing stored) and `ConversationNotFound`
        (also when `home_id` is given and the conversation is another home's: an id that came
        from outside is checked in the same statement that takes the next sequence numbers).
        """
        for position, message in enumerate(new_messages):
            check_message(message, position)
        if not new_messages:
            return []
        # Counted before the transaction: the conversation's row lock is then held only for
        # the two statements, not for the tokenizer.
        counts = [count_message_tokens(message, model) for message in new_messages]
        now = _now()
        bump = (
            update(conversations)
            .where(_C.id == conversation_id, *([_C.home_id == home_id] if home_id is not None else []))
            .values(last_seq=_C.last_seq + len(new_messages), updated_at=now)
            .returning(_C.last_seq)
        )
        async with self._guard(f"appending to conversation {conversation_id!r}"), self._writer.begin() as conn:
            last_seq = (await conn.execute(bump)).scalar_one_or_none()
            if last_seq is None:
                raise ConversationNotFound(conversation_id)
            first_seq = last_seq - len(new_messages) + 1
            stored = [
                StoredMessage(
                    id=uuid.uuid4().hex,
                    conversation_id=conversation_id,
                    seq=first_seq + offset,
                    role=message["role"],
                    content=message.get("content"),
                    tool_calls=message.get("tool_calls"),
                    tool_call_id=message.get("tool_call_id"),
                    name=message.get("name"),
                    token_count=count,
                    created_at=now,
                    meta=dict(meta) if (meta := message.get("meta")) is not None else None,
                )
                for offset, (message, count) in enumerate(zip(new_messages, counts, strict=True))
            ]
            await conn.execute(insert(messages), [_message_row(message) for message in stored])
        return stored

    async def delete(self, conversation_id: str, *, home_id: str) -> bool:
        """Delete a conversation of `home_id` and its messages (one statement); False if there
        was none."""
        statement = delete(conversations).where(_C.id == conversation_id, _C.home_id == home_id)
        async with self._guard(f"deleting conversation {conversation_id!r}"), self._writer.begin() as conn:
            return bool((await conn.execute(statement)).rowcount)

    async def purge_older_than(self, days: float, *, home_id: str) -> int:
        """Delete `home_id`'s conversations idle (no message appended) for more than `days`, in
        one statement; returns how many. `days` <= 0 keeps everything, as the retention
        setting's 0 means "forever". Other homes sharing the database keep their own retention."""
        if days <= 0:
            return 0
        statement = delete(conversations).where(_C.home_id == home_id, _C.updated_at < _now() - timedelta(days=days))
        async with self._guard(f"purging conversations older than {days} days"), self._writer.begin() as conn:
            return int((await conn.execute(statement)).rowcount)

    # --- reads ----------------------------------------------------------------------------
    async def exists(self, conversation_id: str) -> bool:
        query = select(_C.id).where(_C.id == conversation_id)
        async with self._guard(f"looking up conversation {conversation_id!r}"), self._engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    async def load(self, conversation_id: str) -> list[StoredMessage]:
        """The conversation's messages in order (empty for an unknown id); one query."""
        async with self._guard(f"loading conversation {conversation_id!r}"), self._engine.connect() as conn:
            rows = (await conn.execute(_MESSAGES_IN_ORDER.where(_M.conversation_id == conversation_id))).all()
        return [StoredMessage(*row) for row in rows]

    async def load_recent(self, conversation_id: str, max_tokens: int, *, at_least: int = 0) -> list[StoredMessage]:
        """What a window of `max_tokens` can take, in order, in one query whose rows do not grow
        with the conversation: its first and last user messages, the newest messages whose
        tokens reach `max_tokens`, `_UNIT_SLACK` older ones (so the unit the window stops at is
        whole: a tool group cut in two would read as results without their call), and at least
        the newest `at_least` (see `load_window`). Measured on SQLite: 500 stored messages took
        ~10 ms to load whole, every turn."""
        mine = _M.conversation_id == conversation_id
        # Tokens of the messages after each one (seq runs 1..n): only the small columns are read
        # for the whole conversation, every column for the rows returned.
        before = (func.sum(_M.token_count).over(order_by=_M.seq.desc()) - _M.token_count).label("before")
        tokens = select(before).where(mine).subquery()
        reach = select(func.count()).where(tokens.c.before < max_tokens).scalar_subquery()
        last = select(func.max(_M.seq)).where(mine).scalar_subquery()
        user = select(_M.seq).where(mine, _M.role == "user")
        pinned = (
            user.order_by(_M.seq).limit(1).scalar_subquery(),
            user.order_by(_M.seq.desc()).limit(1).scalar_subquery(),
        )
        query = _MESSAGES_IN_ORDER.where(
            mine, or_(_M.seq > last - reach - _UNIT_SLACK, _M.seq > last - at_least, _M.seq.in_(pinned))
        )
        async with self._guard(f"loading conversation {conversation_id!r}"), self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [StoredMessage(*found) for found in rows]

    async def load_window(
        self, conversation_id: str, budget_tokens: int, *, at_least: int = 0
    ) -> tuple[list[StoredMessage], Window]:
        """The window of `budget_tokens` (`select_window`) and the messages read to choose it:
        the newest the window can take (`load_recent`). When the window took every one of them,
        the whole conversation is read and the window chosen again: calls never answered and
        results without their call cost nothing, so a damaged history can reach further back
        than the newest messages' tokens say."""
        recent = await self.load_recent(conversation_id, budget_tokens, at_least=at_least)
        window = select_window(recent, budget_tokens)
        if window.reached_start and recent and len(recent) < recent[-1].seq:  # seq runs 1..n
            recent = await self.load(conversation_id)
            window = select_window(recent, budget_tokens)
        return recent, window

    async def get(self, conversation_id: str, *, home_id: str) -> Conversation | None:
        """The conversation of `home_id` with its messages, or None."""
        query = select(*_CONVERSATION_COLUMNS).where(_C.id == conversation_id, _C.home_id == home_id)
        async with (
            self._guard(f"reading conversation {conversation_id!r}"),
            self._engine.begin() as conn,  # one transaction: on SQLite, one snapshot for both
        ):
            row = (await conn.execute(query)).first()
            if row is None:
                return None
            rows = (await conn.execute(_MESSAGES_IN_ORDER.where(_M.conversation_id == conversation_id))).all()
        found = tuple(StoredMessage(*message_row) for message_row in rows)
        # The count is that of the messages read: on PostgreSQL an append may commit between
        # the two queries, and the counter would then be ahead of them.
        return Conversation(*row[:-1], message_count=len(found), messages=found)

    async def list_recent(self, home_id: str, limit: int = 20) -> list[Conversation]:
        """A home's conversations, most recently active first, without their messages."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        query = (
            select(*_CONVERSATION_COLUMNS)
            .where(_C.home_id == home_id)
            .order_by(_C.updated_at.desc(), _C.id.desc())
            .limit(limit)
        )
        async with self._guard(f"listing conversations of home {home_id!r}"), self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Conversation(*row) for row in rows]


def _message_row(message: StoredMessage) -> dict[str, Any]:
    return {column.name: getattr(message, column.name) for column in _MESSAGE_COLUMNS}
