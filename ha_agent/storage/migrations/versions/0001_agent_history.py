"""The agent's conversations and messages.

Revision ID: 0001_agent_history
Revises:
Create Date: 2025-05-01

Types are spelled out here rather than imported from `schema.py`: a migration is a frozen
record of what it created, and must not change when the models do later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_agent_history"
down_revision = None
branch_labels = None
depends_on = None

# Byte-order collation for ids on PostgreSQL, as in the mirror's tables.
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
HOME_ID = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agent_conversations",
        sa.Column("id", KEY, nullable=False),
        sa.Column("home_id", HOME_ID, nullable=False),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_agent_conversations"),
    )
    op.create_index("ix_agent_conversations_updated_at", "agent_conversations", ["updated_at"])
    op.create_index("ix_agent_conversations_home_id_updated_at", "agent_conversations", ["home_id", "updated_at"])

    op.create_table(
        "agent_messages",
        sa.Column("id", KEY, nullable=False),
        sa.Column("conversation_id", KEY, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("tool_calls", sa.JSON(), nullable=True),
        sa.Column("tool_call_id", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("token_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_agent_messages"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["agent_conversations.id"],
            name="fk_agent_messages_conversation_id_agent_conversations",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_agent_messages_conversation_id_seq"),
    )
    op.create_index("ix_agent_messages_conversation_id_created_at", "agent_messages", ["conversation_id", "created_at"])


def downgrade() -> None:
    op.drop_table("agent_messages")
    op.drop_table("agent_conversations")  # their indexes go with them
