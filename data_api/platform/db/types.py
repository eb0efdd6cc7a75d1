"""Column types every store's tables use, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, String, TypeDecorator

# Byte-order ("C") collation on PostgreSQL for ids: keys then sort the same as in Python and
# SQLite whatever the database's locale, so `after` pagination and key order agree everywhere;
# C comparisons are also the cheapest. SQLite's default BINARY collation is already byte order.
KEY = String().with_variant(String(collation="C"), "postgresql")
HOME_ID = String(64).with_variant(String(64, collation="C"), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both databases (SQLite has no time zone type; it stores naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
