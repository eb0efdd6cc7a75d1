"""The tools' tables: the audit trail of every tool call, and actions awaiting confirmation.

They live in the agent's migration chain (`ha_agent/history/migrations/`, revision
`0002_agent_tools`), beside the conversations, prefixed `agent_` like them. The audit keeps no
foreign key to a conversation: deleting a conversation must not erase what was done in it.
A pending action is keyed by its conversation: at most one question is open per conversation,
and a new one replaces the old.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Float, Index, Integer, MetaData, String, Table, Text

from data_api.store.schema import HOME_ID, KEY, UTCDateTime

metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    }
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
