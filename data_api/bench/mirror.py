"""`ha-agent bench mirror`: sync time, event lag, read throughput and memory of the mirror.

The mirror runs in a child process (so its RSS is its own, not the simulator's): the parent
starts a simulated HA with a per-command latency, the child syncs a fresh mirror from it and
serves the REST API, the parent changes states in HA and the child reports how long each took
to reach the mirror; then a load generator (wrk when installed, else aiohttp) measures reads
per second. The baseline, measured in the same run, answers the same request the way a client
without a mirror must: asking HA for registries and states each time.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp

from data_api.platform.settings import load_settings

_LAG_EVENTS = 300


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


# --- child: the mirror and its API ------------------------------------------------------------------


async def _child(ha_url: str, token: str) -> None:
    from data_api.api.app import create_app
    from data_api.mirror import Mirror, MirrorReader, Query
    from data_api.platform.http.server import HttpServer
    from data_api.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(ha_url=ha_url, ha_token=token, database_url=f"sqlite+aiosqlite:///{tmp}/bench.db")
        store = Store.from_settings(settings.db)
        mirror = Mirror(settings, store, owns_process=True)  # as served
        started = time.perf_counter()
        await mirror.start(wait=True)
        sync_seconds = time.perf_counter() - started
        reader = MirrorReader(mirror)
        entities = await mirror.read("entities")
        lags: list[float] = []
        done = asyncio.Event()

        def on_change(kind: str, key: str) -> None:
            # HA stamps each state with the time it changed; same machine, same clock.
            if kind == "entities" and key in entities.items and len(lags) < _LAG_EVENTS:
                stamp = entities.items[key].last_updated
                lags.append(time.time() - datetime.fromisoformat(stamp).timestamp())
                if len(lags) == _LAG_EVENTS:
                    done.set()

        mirror.add_listener(on_change)
        areas = (await reader.list("areas", Query(limit=1000))).items
        server = HttpServer(create_app(reader, settings), "127.0.0.1", 0)
        url = await server.start()
        _report({"url": url, "areas": [a.area_id for a in areas], "sync_seconds": sync_seconds})
        await done.wait()
        _report({"lag_p50_ms": percentile(lags, 50) * 1000, "lag_p99_ms": percentile(lags, 99) * 1000})
        await asyncio.to_thread(sys.stdin.read)  # serve until the parent closes our stdin
        await server.stop()
        await mirror.stop()
        await store.close()


def _report(data: dict[str, Any]) -> None:
    print(json.dumps(data), flush=True)


async def _change_states(sim: Any) -> None:
    """State changes in HA, spread out as in a home rather than in one burst."""
    switchable = sorted(e for e in sim.home.states if e.startswith(("light.", "switch.", "input_boolean.")))
    rng = random.Random(1)
    for _ in range(_LAG_EVENTS):
        entity_id = rng.choice(switchable)
        new = "off" if sim.home.states[entity_id]["state"] == "on" else "on"
        sim.home.set_state(entity_id, new, dict(sim.home.states[entity_id]["attributes"]))
        await asyncio.sleep(0.003)


# --- parent: load and memory -----------------------------------------------------------------------


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


async def _load(urls: list[str], seconds: float, concurrency: int, headers: dict[str, str] | None = None) -> Load:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.get(urls[i % len(urls)]) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)
                i += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - began
    return Load(len(latencies), elapsed, percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000, errors)


async def _before_path(ha_url: str, token: str, areas: list[str], requests: int) -> Load:
    """The same question answered without a mirror: registries and states from HA each time."""
    from data_api.ha import HAClient

    latencies = []
    async with HAClient(ha_url, token) as client:
        began = time.perf_counter()
        for i in range(requests):
            started = time.perf_counter()
            home = await client.fetch_home()
            area = areas[i % len(areas)]
            [e for e in home.entities if e.area_id == area]
            latencies.append(time.perf_counter() - started)
        elapsed = time.perf_counter() - began
    return Load(requests, elapsed, percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000, 0)


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def _wrk(url: str, seconds: float, concurrency: int) -> Load | None:
    """wrk (C, one thread) loads the server without competing with it for Python time."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    proc = await asyncio.create_subprocess_exec(
        wrk,
        "-t1",
        f"-c{concurrency}",
        f"-d{seconds:.0f}s",
        "--latency",
        "-H",
        "Accept-Encoding: gzip",
        url,
        stdout=subprocess.PIPE,
    )
    out = (await proc.communicate())[0].decode()
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Load(total, total / rate, _wrk_ms(out, "50%"), _wrk_ms(out, "99%"), int(errors.group(1)) if errors else 0)


def _wrk_ms(out: str, pct: str) -> float:
    value, unit = re.search(rf"{re.escape(pct)}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def bench_home(size: str, latency: float, seconds: float, concurrency: int) -> dict[str, Any]:
    from data_api.simulator import SimulatedHA, generate_home

    home = generate_home(size)
    async with SimulatedHA(home) as sim:
        sim.latency = latency
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "data_api.bench.mirror",
            "--child",
            sim.url,
            sim.token,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "LOG_LEVEL": "WARNING"},
        )
        try:
            assert child.stdout is not None and child.stdin is not None
            info = await _read_report(child.stdout, size)
            await _change_states(sim)
            info.update(await _read_report(child.stdout, size))
            rss_synced = _rss_mb(child.pid)
            url = f"{info['url']}/api/v1/entities?area={info['areas'][0]}"
            load = await _wrk(url, seconds, concurrency)
            if load is None:  # no wrk: a Python load generator (it, not the server, limits the rate)
                urls = [f"{info['url']}/api/v1/entities?area={a}" for a in info["areas"]]
                await _load(urls[:2], 1.0, concurrency)
                load = await _load(urls, seconds, concurrency)
            rss_loaded = _rss_mb(child.pid)
            before = await _before_path(sim.url, sim.token, info["areas"], requests=5 if size == "large" else 10)
            child.stdin.close()
            await asyncio.wait_for(child.wait(), 60)
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
    return {
        "home": size,
        "entities": len(home.states),
        "ha_latency_ms": latency * 1000,
        "sync_seconds": round(info["sync_seconds"], 3),
        "event_lag_p50_ms": round(info["lag_p50_ms"], 2),
        "event_lag_p99_ms": round(info["lag_p99_ms"], 2),
        "reads_per_second": round(load.per_second),
        "read_p50_ms": round(load.p50_ms, 2),
        "read_p99_ms": round(load.p99_ms, 2),
        "read_errors": load.errors,
        "load_generator": "wrk" if shutil.which("wrk") else "aiohttp",
        "before_reads_per_second": round(before.per_second, 2),
        "before_p50_ms": round(before.p50_ms, 1),
        "ratio": round(load.per_second / before.per_second, 1),
        "rss_mb_synced": round(rss_synced, 1),
        "rss_mb_after_load": round(rss_loaded, 1),
    }


async def _read_report(stream: asyncio.StreamReader, size: str) -> dict[str, Any]:
    line = await asyncio.wait_for(stream.readline(), 300)
    if not line:
        raise RuntimeError(f"the {size} benchmark child exited without reporting")
    return json.loads(line)


def format_table(rows: list[dict[str, Any]]) -> str:
    header = (
        "| home | entities | HA latency | sync | event lag p50 / p99 | reads/s (p99) | "
        "before: reads/s | ratio | RSS |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for r in rows:
        lines.append(
            f"| {r['home']} | {r['entities']} | {r['ha_latency_ms']:.0f} ms | {r['sync_seconds']:.2f} s | "
            f"{r['event_lag_p50_ms']:.2f} / {r['event_lag_p99_ms']:.2f} ms | "
            f"{r['reads_per_second']} ({r['read_p99_ms']:.1f} ms) | {r['before_reads_per_second']} | "
            f"{r['ratio']}× | {r['rss_mb_after_load']:.0f} MB |"
        )
    return "\n".join(lines)


async def run(sizes: list[str], latency: float, seconds: float, concurrency: int) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        print(f"bench mirror: {size} home, {latency * 1000:.0f} ms per HA command…", file=sys.stderr, flush=True)
        row = await bench_home(size, latency, seconds, concurrency)
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        asyncio.run(_child(sys.argv[2], sys.argv[3]))
