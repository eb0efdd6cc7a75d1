"""The mirror's tables: one per kind, plus item labels and per-kind sync state.

Every row carries `home_id` (many homes may share one database) and every table's primary key
starts with it. An item is stored whole in `data` (its `as_dict()`); the other columns are
copies of the fields the API filters or sorts by, so those queries run on indexes.

Tables are prefixed `mirror_` because the agent keeps its own tables in the same database.
The migration in `migrations/versions/` creates exactly this schema (a test compares them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from data_api.platform.db.types import HOME_ID, KEY, UTCDateTime


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "pk": "pk_%(table_name)s",
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        }
    )


class ConfigRow(Base):
    """One per home: Home Assistant's core configuration."""

    __tablename__ = "mirror_config"
    home_id: Mapped[str] = mapped_column(HOME_ID, primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class FloorRow(Base):
    __tablename__ = "mirror_floors"
    home_id: Mapped[str] = mapped_column(HOME_ID, primary_key=True)
    floor_id: Mapped[str] = mapped_column(KEY, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    level: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class AreaRow(Base):
    __tablename__ = "mirror_areas"
    home_id: Mapped[str] = mapped_column(HOME_ID, primary_key=True)
    area_id: Mapped[str] = mapped_column(KEY, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    floor_id: Mapped[str | None] = mapped_column(KEY)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (Index(None, "home_id", "floor_id"),)


class LabelRow(Base):
    __tablename__ = "mirror_labels"
    home_id: Mapped[str] = mapped_column(HOME_ID, primary_key=True)
    label_id: Mapped[str] = mapped_column(KEY, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class DeviceRow(Base):
    __tablename__ = "mirror_devices"
    home_id: Mapped[str] = mapped_column(HOME_ID, primary_key=True)
    device_id: Mapped[str] = mapped_column(KEY, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    area_id: Mapped[str | None] = mapped_column(KEY)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (Index(None, "home_id", "area_id"),)


class EntityRow(Base):
    __tablename__ = "mirror_entities"
    home_id: Mapped[str] = mapped_column(HOME_ID, primary_key=True)
    entity_id: Mapped[str] = mapped_column(KEY, primary_key=True)
    domain: Mapped[str] = mapped_column(KEY)
    name: Mapped[str] = mapped_column(String)
    area_id: Mapped[str | None] = mapped_column(KEY)
    floor_id: Mapped[str | None] = mapped_column(KEY)
    device_id: Mapped[str | None] = mapped_column(KEY)
    exposed: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String)
    # HA's ISO-8601 UTC text: sorts correctly as text, and loads back unchanged.
    last_changed: Mapped[str | None] = mapped_column(String)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    # entity_id last: a filtered page comes off the index already in key order (no sort step),
    # and `after` pagination seeks into it.
    __table_args__ = (
        Index(None, "home_id", "domain", "entity_id"),
        Index(None, "home_id", "area_id", "entity_id"),
        Index(None, "home_id", "floor_id", "entity_id"),
        Index(None, "home_id", "device_id", "entity_id"),
    )


class ServiceRow(Base):
    __tablename__ = "mirror_services"
    home_id: Mapped[str] = mapped_column(HOME_ID, primary_key=True)
    service_id: Mapped[str] = mapped_column(KEY, primary_key=True)  # "domain.service"
    domain: Mapped[str] = mapped_column(KEY)
    service: Mapped[str] = mapped_column(String)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (Index(None, "home_id", "domain"),)


class ItemLabelRow(Base):
    """Which labels an area, device or entity carries (`kind` is the item's kind)."""

    __tablename__ = "mirror_item_labels"
    home_id: Mapped[str] = mapped_column(HOME_ID, primary_key=True)
    kind: Mapped[str] = mapped_column(KEY, primary_key=True)
    item_id: Mapped[str] = mapped_column(KEY, primary_key=True)
    label_id: Mapped[str] = mapped_column(KEY, primary_key=True)

    # item_id last: "items with label X" is answered from the index alone.
    __table_args__ = (Index(None, "home_id", "kind", "label_id", "item_id"),)


class SyncStateRow(Base):
    """Per home and kind: the data's version, when HA last sent it whole, and how many items."""

    __tablename__ = "mirror_sync_state"
    home_id: Mapped[str] = mapped_column(HOME_ID, primary_key=True)
    kind: Mapped[str] = mapped_column(KEY, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    item_count: Mapped[int] = mapped_column(Integer)


def table_of(row_class: type[Base]) -> Table:
    """A model's Table, typed as one (`__table__` is typed as a plain FromClause)."""
    table = row_class.__table__
    assert isinstance(table, Table)
    return table
