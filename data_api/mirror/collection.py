"""One kind of the mirror in memory: its items, and indexes kept current on every write.

Like Home Assistant's own registry containers (`helpers/entity_registry.py` keeps its indexes
by device, area and config entry up to date on every change), a `Collection` maintains, for the
attributes readers group by (area, floor, device, labels, domain, exposure), which items have
each value, and which items each folded name or alias names. Readers — the REST filters, the
agent's context, tools and intents — ask these indexes instead of building their own.

Versions:
- `version` changes exactly when the data does (ETags and views rely on it); it is stored with
  the data, so a copy reloaded from the database carries the same version for the same data;
- `generation` changes whenever the *layout* does (an item added, removed, regrouped or renamed,
  not a state change), and comes from one counter for the whole process: no copy, new or
  reloaded, ever reuses another's generation, so a cache keyed by it can never mistake a reload
  for the layout it built from.

The collection is mutated in place by the mirror on the event loop: asyncio runs one task at a
time, so an update made without an await in between is seen whole or not at all by readers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

# The attributes an item is grouped by (those it has); `labels` is a tuple: one group per label.
GROUPED = ("area_id", "floor_id", "device_id", "labels", "domain", "exposed")
# What places an item in its groups and names: a change here is a change of layout.
_LAYOUT = (*GROUPED, "name", "aliases")
_generations = itertools.count(1)
_MISSING = object()


def fold(text: str) -> str:
    """The form names are compared in: case-insensitive, outer and repeated spaces ignored."""
    return " ".join(text.casefold().split())


def _layout(item: Any) -> tuple[Any, ...]:
    return tuple(getattr(item, name, None) for name in _LAYOUT)


def _names(item: Any) -> set[str]:
    name = getattr(item, "name", None)
    found = {fold(name)} if isinstance(name, str) and name.strip() else set()
    return found | {fold(alias) for alias in getattr(item, "aliases", ()) or () if alias.strip()}


class Collection:
    """The memory copy of one kind: items by key (sorted on read) and their indexes."""

    def __init__(self, kind: str, items: dict[str, Any], version: int = 0, synced_at: datetime | None = None) -> None:
        self.kind = kind
        self.items = items
        self.version = version
        self.synced_at = synced_at
        self.generation = next(_generations)
        self._sorted: list[Any] | None = None
        self._sorted_version = -1
        # Built when first asked for, then kept current by every write.
        self._groups: dict[str, dict[Any, set[str]]] = {}
        self._by_name: dict[str, set[str]] | None = None

    def __repr__(self) -> str:
        return (
            f"Collection({self.kind!r}, {len(self.items)} items, version={self.version}, generation={self.generation})"
        )

    # --- reads ----------------------------------------------------------------------------
    def sorted_items(self) -> list[Any]:
        if self._sorted_version != self.version or self._sorted is None:
            self._sorted = [self.items[k] for k in sorted(self.items)]
            self._sorted_version = self.version
        return self._sorted

    def groups(self, attr: str) -> Mapping[Any, set[str]]:
        """Value of `attr` → keys of the items that have it (a label: each item it is on)."""
        if attr not in GROUPED:
            raise ValueError(f"{attr!r} is not an indexed attribute ({', '.join(GROUPED)})")
        index = self._groups.get(attr)
        if index is None:
            index = self._groups[attr] = {}
            for key, item in self.items.items():
                _add(index, key, getattr(item, attr, _MISSING))
        return index

    def keys_with(self, attr: str, value: Any) -> set[str]:
        return self.groups(attr).get(value, set())

    def named(self, name: str) -> set[str]:
        """Keys of the items whose name or an alias is `name` (folded: any case and spacing)."""
        if self._by_name is None:
            self._by_name = {}
            for key, item in self.items.items():
                for folded in _names(item):
                    self._by_name.setdefault(folded, set()).add(key)
        return self._by_name.get(fold(name), set())

    # --- writes ---------------------------------------------------------------------------
    def replace_all(self, items: Iterable[Any], *, key: Callable[[Any], str]) -> bool:
        """Replace every item; returns whether anything changed (and bumps the version if so)."""
        new = {key(item): item for item in items}
        if new == self.items:
            return False
        layout_changed = new.keys() != self.items.keys() or any(_layout(new[k]) != _layout(self.items[k]) for k in new)
        self.items = new
        if layout_changed:
            self._groups.clear()
            self._by_name = None
        self._bump(layout_changed)
        return True

    def put(self, key: str, item: Any) -> bool:
        old = self.items.get(key)
        if old == item:
            return False
        self.items[key] = item
        moved = old is None or _layout(old) != _layout(item)
        if moved:
            self._unindex(key, old)
            self._index(key, item)
        self._bump(moved)
        return True

    def remove(self, key: str) -> bool:
        old = self.items.pop(key, None)
        if old is None:
            return False
        self._unindex(key, old)
        self._bump(True)
        return True

    def _bump(self, layout_changed: bool) -> None:
        self.version += 1
        if layout_changed:
            self.generation = next(_generations)

    def _index(self, key: str, item: Any) -> None:
        for attr, index in self._groups.items():
            _add(index, key, getattr(item, attr, _MISSING))
        if self._by_name is not None:
            for folded in _names(item):
                self._by_name.setdefault(folded, set()).add(key)

    def _unindex(self, key: str, item: Any) -> None:
        if item is None:
            return
        for attr, index in self._groups.items():
            _discard(index, key, getattr(item, attr, _MISSING))
        if self._by_name is not None:
            for folded in _names(item):
                _discard(self._by_name, key, folded, many=False)


def _values(value: Any) -> tuple[Any, ...]:
    if value is _MISSING:
        return ()
    return value if isinstance(value, tuple) else (value,)


def _add(index: dict[Any, set[str]], key: str, value: Any) -> None:
    for one in _values(value):
        index.setdefault(one, set()).add(key)


def _discard(index: dict[Any, set[str]], key: str, value: Any, *, many: bool = True) -> None:
    for one in _values(value) if many else (value,):
        keys = index.get(one)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del index[one]
