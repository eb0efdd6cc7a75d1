"""The mirror's tables: one per kind, item labels, sync state.

Revision ID: 0001_mirror
Revises:
Create Date: 2025-05-01

Types are spelled out here rather than imported from `schema.py`: a migration is a frozen
record of what it created, and must not change when the models do later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_mirror"
down_revision = None
branch_labels = None
depends_on = None

# Byte-order collation for ids on PostgreSQL (see schema.py).
KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
HOME_ID = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")

# (table, key column or None, extra columns, indexes as column lists)
_TABLES: list[tuple[str, str | None, list[sa.Column[object]], list[list[str]]]] = [
    ("mirror_config", None, [], []),
    (
        "mirror_floors",
        "floor_id",
        [sa.Column("name", sa.String(), nullable=False), sa.Column("level", sa.Integer())],
        [],
    ),
    (
        "mirror_areas",
        "area_id",
        [sa.Column("name", sa.String(), nullable=False), sa.Column("floor_id", KEY)],
        [["home_id", "floor_id"]],
    ),
    ("mirror_labels", "label_id", [sa.Column("name", sa.String(), nullable=False)], []),
    (
        "mirror_devices",
        "device_id",
        [sa.Column("name", sa.String(), nullable=False), sa.Column("area_id", KEY)],
        [["home_id", "area_id"]],
    ),
    (
        "mirror_entities",
        "entity_id",
        [
            sa.Column("domain", KEY, nullable=False),
            sa.Column("name", sa.String(), nullable=False),
            sa.Column("area_id", KEY),
            sa.Column("floor_id", KEY),
            sa.Column("device_id", KEY),
            sa.Column("exposed", sa.Boolean(), nullable=False),
            sa.Column("state", sa.String(), nullable=False),
            sa.Column("last_changed", sa.String()),
        ],
        [
            ["home_id", "domain", "entity_id"],
            ["home_id", "area_id", "entity_id"],
            ["home_id", "floor_id", "entity_id"],
            ["home_id", "device_id", "entity_id"],
        ],
    ),
    (
        "mirror_services",
        "service_id",
        [sa.Column("domain", KEY, nullable=False), sa.Column("service", sa.String(), nullable=False)],
        [["home_id", "domain"]],
    ),
]


def _index_name(table: str, columns: list[str]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    for table, key, columns, indexes in _TABLES:
        key_columns = [sa.Column(key, KEY, nullable=False)] if key else []
        op.create_table(
            table,
            sa.Column("home_id", HOME_ID, nullable=False),
            *key_columns,
            *columns,
            sa.Column("data", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("home_id", *([key] if key else []), name=f"pk_{table}"),
        )
        for index in indexes:
            op.create_index(_index_name(table, index), table, index)

    op.create_table(
        "mirror_item_labels",
        sa.Column("home_id", HOME_ID, nullable=False),
        sa.Column("kind", KEY, nullable=False),
        sa.Column("item_id", KEY, nullable=False),
        sa.Column("label_id", KEY, nullable=False),
        sa.PrimaryKeyConstraint("home_id", "kind", "item_id", "label_id", name="pk_mirror_item_labels"),
    )
    label_index = ["home_id", "kind", "label_id", "item_id"]
    op.create_index(_index_name("mirror_item_labels", label_index), "mirror_item_labels", label_index)

    op.create_table(
        "mirror_sync_state",
        sa.Column("home_id", HOME_ID, nullable=False),
        sa.Column("kind", KEY, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True)),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("home_id", "kind", name="pk_mirror_sync_state"),
    )


def downgrade() -> None:
    op.drop_table("mirror_sync_state")
    op.drop_table("mirror_item_labels")
    for table, _key, _columns, _indexes in reversed(_TABLES):
        op.drop_table(table)  # its indexes go with it
