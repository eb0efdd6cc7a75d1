"""The mirror's database tier: bulk writes and indexed reads of whole kinds, per home.

Every write is one transaction and costs a fixed number of statements whatever the number of
items: one upsert (executemany) and one delete per kind, plus the labels and the sync state.
Every read is one query for the items (plus one for the sync state). Items are stored whole as
JSON and rebuilt with the model's `from_dict`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Delete,
    Insert,
    Select,
    Text,
    any_,
    bindparam,
    cast,
    delete,
    false,
    func,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from data_api.ha.models import Entity
from data_api.platform.db.base_store import BaseStore
from data_api.platform.db.engine import create_engine, pool_options

from .chain import SCRIPT_LOCATION
from .kinds import CONFIG_KEY, KINDS, Kind, KindSpec, spec_for
from .schema import EntityRow, ItemLabelRow, SyncStateRow, table_of

if TYPE_CHECKING:
    from data_api.platform.settings import DatabaseSettings

_ENTITIES = table_of(EntityRow)
_ITEM_LABELS = table_of(ItemLabelRow)
_SYNC_STATE = table_of(SyncStateRow)


@dataclass(frozen=True, slots=True)
class StoredKind:
    """One kind as stored: its items in key order, their version, and the last full sync."""

    items: list[Any]
    version: int
    synced_at: datetime | None


class SyncState(NamedTuple):
    version: int
    synced_at: datetime | None
    item_count: int


class Store(BaseStore):
    """The mirror's tables in one SQLite file or PostgreSQL database, shared by many homes."""

    def __init__(
        self,
        database_url: str,
        *,
        pool_size: int = 5,
        max_overflow: int = 10,
        pool_recycle: int = 1800,
        pool_timeout: float = 30.0,
        pool_pre_ping: bool = True,
        busy_timeout: float = 5.0,
        connect_timeout: float = 10.0,
    ) -> None:
        """`busy_timeout`: seconds a write waits for another writer's lock before `StoreError`
        (SQLite `busy_timeout`, PostgreSQL `lock_timeout`); `connect_timeout`: seconds to wait
        for a new PostgreSQL connection."""
        super().__init__(
            create_engine(
                database_url,
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_recycle=pool_recycle,
                pool_timeout=pool_timeout,
                pool_pre_ping=pool_pre_ping,
                busy_timeout=busy_timeout,
                connect_timeout=connect_timeout,
            )
        )
        self.dialect: str = self._engine.dialect.name
        # The dialect's INSERT, which has ON CONFLICT (the two dialects spell it the same).
        self._insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        self._upserts: dict[str, Insert] = {}

    @classmethod
    def from_settings(cls, settings: DatabaseSettings) -> Store:
        return cls(settings.url, **pool_options(settings))

    # --- lifecycle ------------------------------------------------------------------------
    async def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent; safe to run concurrently)."""
        await self._migrate(SCRIPT_LOCATION, "the mirror schema")

    # --- writes ---------------------------------------------------------------------------
    async def replace_kind(
        self, home_id: str, kind: Kind, items: Iterable[Any], version: int, synced_at: datetime
    ) -> None:
        """Make the stored kind exactly `items` (a full sync): upsert all, delete the rest."""
        if synced_at.tzinfo is None:
            raise ValueError("synced_at must be timezone-aware")
        spec = spec_for(kind)
        by_key = self._by_key(spec, items)
        async with self._guard(f"replacing {kind} of home {home_id!r}"), self._writer.begin() as conn:
            await self._upsert(conn, spec, home_id, by_key)
            await conn.execute(self._delete(spec, home_id, self._key_filter(spec, list(by_key), present=False)))
            if spec.labelled:
                await self._write_labels(conn, spec, home_id, by_key, whole_kind=True)
            await conn.execute(self._sync_state(spec, home_id, version, synced_at))

    async def upsert_items(self, home_id: str, kind: Kind, items: Iterable[Any], version: int) -> None:
        """Add or change some items (events); the kind's `synced_at` stays that of the last full sync."""
        spec = spec_for(kind)
        by_key = self._by_key(spec, items)
        if not by_key:
            return
        async with self._guard(f"writing {kind} of home {home_id!r}"), self._writer.begin() as conn:
            await self._upsert(conn, spec, home_id, by_key)
            if spec.labelled:
                await self._write_labels(conn, spec, home_id, by_key, whole_kind=False)
            await conn.execute(self._sync_state(spec, home_id, version, None))

    async def delete_items(self, home_id: str, kind: Kind, keys: Iterable[str], version: int) -> None:
        """Remove items by key (config: `CONFIG_KEY`); unknown keys are ignored."""
        spec = spec_for(kind)
        keys = sorted(set(keys))
        if not keys:
            return
        async with self._guard(f"deleting {kind} of home {home_id!r}"), self._writer.begin() as conn:
            await conn.execute(self._delete(spec, home_id, self._key_filter(spec, keys, present=True)))
            if spec.labelled:
                labels = _ITEM_LABELS.c
                await conn.execute(
                    delete(_ITEM_LABELS).where(
                        labels.home_id == home_id, labels.kind == kind, self._in(labels.item_id, keys)
                    )
                )
            await conn.execute(self._sync_state(spec, home_id, version, None))

    async def delete_home(self, home_id: str) -> None:
        """Remove everything stored for one home."""
        tables = [spec_for(kind).table for kind in KINDS] + [_ITEM_LABELS, _SYNC_STATE]
        async with self._guard(f"deleting home {home_id!r}"), self._writer.begin() as conn:
            for table in tables:
                await conn.execute(delete(table).where(table.c.home_id == home_id))

    # --- reads ----------------------------------------------------------------------------
    async def load_kind(self, home_id: str, kind: Kind) -> StoredKind:
        """The stored items of a kind in key order, with their version (0: never stored)."""
        spec = spec_for(kind)
        table = spec.table
        query = select(table.c.data).where(table.c.home_id == home_id)
        if spec.key is not None:
            query = query.order_by(spec.key)
        async with self._guard(f"reading {kind} of home {home_id!r}"), self._engine.connect() as conn:
            # The version is read before the items: should a write land between the two (no
            # shared snapshot on PostgreSQL's READ COMMITTED), the items are newer than the
            # version says, so a reader reloads once more; never older data under a newer version.
            state = (
                await conn.execute(
                    select(_SYNC_STATE.c.version, _SYNC_STATE.c.synced_at).where(
                        _SYNC_STATE.c.home_id == home_id, _SYNC_STATE.c.kind == kind
                    )
                )
            ).first()
            rows = (await conn.execute(query)).scalars().all()
        items = [spec.model.from_dict(data) for data in rows]
        if state is None:
            return StoredKind(items, 0, None)
        return StoredKind(items, state.version, state.synced_at)

    async def load_sync_state(self, home_id: str) -> dict[str, SyncState]:
        """Per stored kind of a home: (version, synced_at, item_count)."""
        query = select(
            _SYNC_STATE.c.kind, _SYNC_STATE.c.version, _SYNC_STATE.c.synced_at, _SYNC_STATE.c.item_count
        ).where(_SYNC_STATE.c.home_id == home_id)
        async with self._guard(f"reading the sync state of home {home_id!r}"), self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {row.kind: SyncState(row.version, row.synced_at, row.item_count) for row in rows}

    async def query_entities(
        self,
        home_id: str,
        *,
        area: str | None = None,
        floor: str | None = None,
        domain: str | None = None,
        device_id: str | None = None,
        label: str | None = None,
        exposed: bool | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[Entity]:
        """Entities matching every given filter (ids, not names), in entity_id order.

        `after` is the last entity_id of the previous page (keyset pagination: a page costs the
        same however deep it is).
        """
        e = _ENTITIES.c
        query = select(e.data).where(e.home_id == home_id)
        for column, value in ((e.area_id, area), (e.floor_id, floor), (e.domain, domain), (e.device_id, device_id)):
            if value is not None:
                query = query.where(column == value)
        if exposed is not None:
            query = query.where(e.exposed == exposed)
        if label is not None:
            labels = _ITEM_LABELS.c
            query = query.join(
                _ITEM_LABELS,
                (labels.home_id == e.home_id) & (labels.kind == "entities") & (labels.item_id == e.entity_id),
            ).where(labels.label_id == label)
        if after is not None:
            query = query.where(e.entity_id > after)
        query = query.order_by(e.entity_id)
        if limit is not None:
            query = query.limit(limit)
        async with self._guard(f"querying entities of home {home_id!r}"), self._engine.connect() as conn:
            rows = (await conn.execute(query)).scalars().all()
        return [Entity.from_dict(data) for data in rows]

    # --- statement builders ---------------------------------------------------------------
    @staticmethod
    def _by_key(spec: KindSpec, items: Iterable[Any]) -> dict[str, Any]:
        """Items by key, last one winning; a key twice in one upsert is an error on PostgreSQL."""
        by_key: dict[str, Any] = {}
        for item in items:
            if not isinstance(item, spec.model):
                raise TypeError(f"{spec.name} takes {spec.model.__name__} items, not {type(item).__name__}")
            by_key[spec.key_of(item)] = item
        return by_key

    async def _upsert(self, conn: AsyncConnection, spec: KindSpec, home_id: str, by_key: dict[str, Any]) -> None:
        if by_key:
            await conn.execute(self._upsert_statement(spec), [spec.row(home_id, item) for item in by_key.values()])

    def _upsert_statement(self, spec: KindSpec) -> Insert:
        """INSERT .. ON CONFLICT DO UPDATE of every column, built once per kind."""
        statement = self._upserts.get(spec.name)
        if statement is None:
            table = spec.table
            insert_ = self._insert(table)
            statement = insert_.on_conflict_do_update(
                index_elements=list(table.primary_key.columns),
                set_={c.name: insert_.excluded[c.name] for c in table.columns if not c.primary_key},
                # An unchanged item is not rewritten: a resync of a mostly unchanged home then
                # costs reads, not a table's worth of new row versions (PostgreSQL) or WAL pages.
                where=cast(table.c.data, Text).is_distinct_from(cast(insert_.excluded.data, Text)),
            )
            self._upserts[spec.name] = statement
        return statement

    def _in(self, column: ColumnElement[str], keys: Sequence[str], *, present: bool = True) -> ColumnElement[bool]:
        """`column` is (present) or is not one of `keys`, bound as ONE parameter (a PostgreSQL
        array, JSON text on SQLite): the statement stays the same for any number of keys and
        clear of bound-parameter limits.
        """
        if self.dialect == "postgresql":
            array = bindparam(None, list(keys), type_=ARRAY(Text))
            if present:  # an index condition: one probe per key, whatever the table's statistics
                return column == any_(array)
            # A hashed anti-join, not a scan of the list per row. The key columns' collation,
            # or PostgreSQL cannot pick one to compare with.
            return column.not_in(select(func.unnest(array).collate("C")))
        each = func.json_each(bindparam(None, json.dumps(keys))).table_valued("value")
        return column.in_(select(each.c.value)) if present else column.not_in(select(each.c.value))

    def _pair_set(self, pairs: Sequence[tuple[str, str]]) -> Select[Any, Any]:
        """(item_id, label_id) pairs as a two-column subquery, bound as in `_in`."""
        if self.dialect == "postgresql":
            items = bindparam(None, [item for item, _ in pairs], type_=ARRAY(Text))
            labels = bindparam(None, [label for _, label in pairs], type_=ARRAY(Text))
            rows = func.unnest(items, labels).table_valued("item_id", "label_id").render_derived()
            return select(rows.c.item_id.collate("C"), rows.c.label_id.collate("C"))
        each = func.json_each(bindparam(None, json.dumps(pairs))).table_valued("value")
        return select(func.json_extract(each.c.value, "$[0]"), func.json_extract(each.c.value, "$[1]"))

    def _key_filter(self, spec: KindSpec, keys: Sequence[str], *, present: bool) -> ColumnElement[bool]:
        """Rows of the kind whose key is (present=True) or is not (False) in `keys`."""
        if spec.key is None:  # config: one row per home, keyed by CONFIG_KEY
            return true() if (CONFIG_KEY in keys) == present else false()
        return self._in(spec.key, keys, present=present)

    @staticmethod
    def _delete(spec: KindSpec, home_id: str, which: ColumnElement[bool]) -> Delete:
        return delete(spec.table).where(spec.table.c.home_id == home_id, which)

    async def _write_labels(
        self, conn: AsyncConnection, spec: KindSpec, home_id: str, by_key: dict[str, Any], *, whole_kind: bool
    ) -> None:
        """Make item_labels hold exactly the items' labels: add missing pairs, drop stale ones.

        Pairs already there are left alone (not deleted and re-added), so a sync that changes
        no labels writes nothing here. `whole_kind`: the items are all of the kind (a full sync),
        so labels of items not among them go too; otherwise only the given items are touched.
        """
        pairs = [(key, label_id) for key, item in by_key.items() for label_id in sorted(set(item.labels))]
        if pairs:
            rows = [{"home_id": home_id, "kind": spec.name, "item_id": i, "label_id": lb} for i, lb in pairs]
            await conn.execute(self._insert(_ITEM_LABELS).on_conflict_do_nothing(), rows)
        labels = _ITEM_LABELS.c
        stale = delete(_ITEM_LABELS).where(
            labels.home_id == home_id,
            labels.kind == spec.name,
            tuple_(labels.item_id, labels.label_id).not_in(self._pair_set(pairs)),
        )
        if not whole_kind:
            stale = stale.where(self._in(labels.item_id, list(by_key)))
        await conn.execute(stale)

    def _sync_state(self, spec: KindSpec, home_id: str, version: int, synced_at: datetime | None) -> Insert:
        """Upsert the kind's sync state; `synced_at` None leaves the stored one as it is."""
        count = select(func.count()).select_from(spec.table).where(spec.table.c.home_id == home_id).scalar_subquery()
        insert_ = self._insert(_SYNC_STATE)
        statement = insert_.values(
            home_id=home_id, kind=spec.name, version=version, synced_at=synced_at, item_count=count
        )
        updates: dict[str, Any] = {"version": insert_.excluded.version, "item_count": insert_.excluded.item_count}
        if synced_at is not None:
            updates["synced_at"] = insert_.excluded.synced_at
        return statement.on_conflict_do_update(index_elements=list(_SYNC_STATE.primary_key.columns), set_=updates)
