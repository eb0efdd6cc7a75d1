"""The tools' audit trail and pending confirmations (owned by `ha_agent/tools/`).

Revision ID: 0002_agent_tools
Revises: 0001_agent_history
Create Date: 2025-05-02

Types are spelled out here rather than imported from `ha_agent/storage/schema.py`: a migration
is a frozen record of what it created.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_agent_tools"
down_revision = "0001_agent_history"
branch_labels = None
depends_on = None

KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
HOME_ID = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
AUDIT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "agent_audit",
        sa.Column("id", AUDIT_ID, nullable=False, autoincrement=True),
        sa.Column("home_id", HOME_ID, nullable=False),
        sa.Column("conversation_id", KEY, nullable=False),
        sa.Column("tool", sa.String(64), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agent_audit"),
    )
    op.create_index("ix_agent_audit_created_at", "agent_audit", ["created_at"])
    op.create_index("ix_agent_audit_conversation_id_created_at", "agent_audit", ["conversation_id", "created_at"])

    op.create_table(
        "agent_pending_actions",
        sa.Column("conversation_id", KEY, nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_agent_pending_actions"),
    )


def downgrade() -> None:
    op.drop_table("agent_pending_actions")
    op.drop_table("agent_audit")  # its indexes go with it
