"""Health parts every service shares: the database check, uptime, request metrics."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from data_api.platform.db.errors import StoreError

from . import prometheus
from .stats import BUCKETS, RequestStats

_DB_PING_TIMEOUT = 2.0  # a hung database must not hang the health check with it


async def database_state(store: Any) -> dict[str, Any]:
    try:
        seconds = await asyncio.wait_for(store.ping(), _DB_PING_TIMEOUT)
    except StoreError as exc:
        return {"ok": False, "latency_ms": None, "error": str(exc)}
    except TimeoutError:
        return {"ok": False, "latency_ms": None, "error": f"no answer within {_DB_PING_TIMEOUT:g} s"}
    return {"ok": True, "latency_ms": round(seconds * 1000, 3), "error": None}


def uptime_seconds(stats: RequestStats) -> float:
    return round(datetime.now(UTC).timestamp() - stats.started, 3)


def request_metrics(out: prometheus.Exposition, stats: RequestStats) -> None:
    """Requests by method, route and status, and their durations: the same for every service."""
    endpoints = sorted(stats.endpoints.items())
    out.metric(
        "requests_total",
        "counter",
        "Requests answered, by method, route template and status.",
        (
            ({"method": method, "route": route, "status": str(status)}, n)
            for (method, route), s in endpoints
            for status, n in sorted(s.statuses.items())
        ),
    )
    out.histogram(
        "request_duration_seconds",
        "Time to answer a request, by method and route template.",
        BUCKETS,
        (({"method": method, "route": route}, s.buckets, s.total, s.count) for (method, route), s in endpoints),
    )
