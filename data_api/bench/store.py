"""Timings of the store's bulk operations on a generated home, one column per database.

    python -m data_api.bench.store [--entities 5000] [--rounds 5] [URL ...]

Without URLs: a temporary SQLite file, and PostgreSQL at $TEST_DATABASE_URL when reachable.
Each figure is the median of the rounds, in milliseconds. `as_dict` and `from_dict` are the
models' own share (pure Python, the same on every database), shown apart from the SQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from data_api.ha.models import Entity
from data_api.platform.db.errors import StoreError
from data_api.store import Store

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def generate_entities(count: int) -> list[Entity]:
    """A home's worth of entities: 20 areas on 2 floors, 4 entities per device, some labelled."""
    domains = ("light", "switch", "sensor", "binary_sensor", "climate", "cover", "media_player")
    entities = []
    for i in range(count):
        domain = domains[i % len(domains)]
        area = i % 20
        entities.append(
            Entity(
                entity_id=f"{domain}.thing_{i:05d}",
                domain=domain,
                name=f"Thing {i}",
                state="on" if i % 2 else "off",
                attributes={"friendly_name": f"Thing {i}", "device_class": "power", "icon": "mdi:flash"},
                aliases=(f"thing {i}",) if i % 5 == 0 else (),
                area_id=f"area_{area}",
                floor_id=f"floor_{area % 2}",
                device_id=f"device_{i // 4}",
                labels=("energy",) if i % 3 == 0 else (),
                platform="demo",
                exposed=i % 2 == 0,
                in_registry=True,
                last_changed="2025-05-01T12:00:00.000000+00:00",
                last_updated="2025-05-01T12:00:00.000000+00:00",
            )
        )
    return entities


async def _median_ms(rounds: int, run: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def measure(url: str, count: int, rounds: int) -> dict[str, float]:
    store = Store(url)
    home = f"bench-{uuid.uuid4().hex[:8]}"
    entities = generate_entities(count)
    changed = [replace(e, state="unavailable") for e in entities]
    now = datetime.now(UTC)
    results: dict[str, float] = {}
    try:
        await store.migrate()

        async def fresh() -> None:
            await store.delete_home(home)
            await store.replace_kind(home, "entities", entities, 1, now)

        results["replace, empty table"] = await _median_ms(rounds, fresh)
        results["replace, unchanged"] = await _median_ms(
            rounds, lambda: store.replace_kind(home, "entities", entities, 2, now)
        )
        flip = iter([changed, entities] * rounds)
        results["replace, all changed"] = await _median_ms(
            rounds, lambda: store.replace_kind(home, "entities", next(flip), 3, now)
        )
        results["upsert 100 (events)"] = await _median_ms(
            rounds, lambda: store.upsert_items(home, "entities", changed[:100], 4)
        )
        results["load_kind"] = await _median_ms(rounds, lambda: store.load_kind(home, "entities"))
        results["query area (1/20)"] = await _median_ms(rounds, lambda: store.query_entities(home, area="area_3"))
        results["query label, page 50"] = await _median_ms(
            rounds, lambda: store.query_entities(home, label="energy", limit=50, after="light.thing_01000")
        )
        stored = [e.as_dict() for e in entities]
        results["  of which as_dict"] = await _median_ms(rounds, _sync(lambda: [e.as_dict() for e in entities]))
        results["  of which from_dict"] = await _median_ms(rounds, _sync(lambda: [Entity.from_dict(d) for d in stored]))
    finally:
        try:
            await store.delete_home(home)
        finally:
            await store.close()
    return results


def _sync(work: Callable[[], object]) -> Callable[[], Awaitable[object]]:
    async def run() -> object:
        return work()

    return run


async def _main(urls: list[str], count: int, rounds: int) -> None:
    columns: dict[str, dict[str, float]] = {}
    for url in urls:
        name = "sqlite" if url.startswith("sqlite") else "postgresql"
        print(f"measuring {name} ({count} entities, {rounds} rounds)...", flush=True)
        try:
            columns[name] = await measure(url, count, rounds)
        except StoreError as exc:
            print(f"  skipped: {exc}")
    if not columns:
        return
    rows = next(iter(columns.values())).keys()
    print(f"\n{'ms (median)':<24}" + "".join(f"{name:>12}" for name in columns))
    for row in rows:
        print(f"{row:<24}" + "".join(f"{columns[name][row]:>12.1f}" for name in columns))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="*")
    parser.add_argument("--entities", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        urls = args.urls or [
            f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}",
            os.environ.get("TEST_DATABASE_URL", DEFAULT_PG),
        ]
        asyncio.run(_main(urls, args.entities, args.rounds))


if __name__ == "__main__":
    main()
