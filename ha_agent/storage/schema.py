"""The agent's tables, in one MetaData and one migration chain: conversations and their
messages (the history's), the audit trail and actions awaiting confirmation (the tools'), beside
the mirror's tables in one database.

Message order is a per-conversation sequence number, not a timestamp. Two agent replicas may
append to one conversation at the same moment, from machines whose clocks disagree; `created_at`
then neither orders causally nor breaks ties. `agent_conversations.last_seq` is a counter that
an append bumps by its batch size in one `UPDATE .. RETURNING`: the row lock it takes
serialises appenders of the same conversation (only of the same one), and each batch gets a
contiguous block of numbers. The unique (conversation_id, seq) constraint turns any bug that
would duplicate a position into an error instead of a silent reorder, and its index serves the
ordered load. (conversation_id, created_at) serves time-based queries over one conversation.

The audit keeps no foreign key to a conversation: deleting a conversation must not erase what was
done in it. A pending action is keyed by its conversation: at most one question is open per
conversation (a request in the same turn adds to it).

Tables are prefixed `agent_`; the migrations in `migrations/versions/` create exactly this
schema (a test compares them).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from data_api.platform.db.types import HOME_ID, KEY, UTCDateTime

metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    }
)

conversations = Table(
    "agent_conversations",
    metadata,
    Column("id", KEY, primary_key=True),  # uuid4 hex: made by any replica without asking the database
    Column("home_id", HOME_ID, nullable=False),
    Column("title", String, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),  # last append: retention and "recent" go by it
    Column("last_seq", Integer, nullable=False, server_default="0"),  # highest seq handed out
    Index(None, "updated_at"),
    Index(None, "home_id", "updated_at"),
)

messages = Table(
    "agent_messages",
    metadata,
    Column("id", KEY, primary_key=True),
    Column(
        "conversation_id",
        KEY,
        ForeignKey("agent_conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("content", Text, nullable=True),
    Column("tool_calls", JSON(none_as_null=True), nullable=True),
    Column("tool_call_id", String, nullable=True),
    Column("name", String, nullable=True),
    Column("token_count", Integer, nullable=False),  # computed once, when stored
    Column("created_at", UTCDateTime, nullable=False),
    Column("meta", JSON(none_as_null=True), nullable=True),  # timings, usage: kept with the message, never sent
    UniqueConstraint("conversation_id", "seq"),
    Index(None, "conversation_id", "created_at"),
)

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
AUDIT_ID = BigInteger().with_variant(Integer(), "sqlite")

audit = Table(
    "agent_audit",
    metadata,
    Column("id", AUDIT_ID, primary_key=True, autoincrement=True),
    Column("home_id", HOME_ID, nullable=False),
    Column("conversation_id", KEY, nullable=False),
    Column("tool", String(64), nullable=False),
    Column("arguments", JSON, nullable=True),  # the parsed arguments, or {"raw": text} if unparseable
    Column("result", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Index(None, "created_at"),
    Index(None, "conversation_id", "created_at"),
)

pending_actions = Table(
    "agent_pending_actions",
    metadata,
    Column("conversation_id", KEY, primary_key=True),
    Column("action", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)
