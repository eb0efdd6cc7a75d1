"""`/health` (open), `/health/detailed` and `/metrics` (Prometheus): how the mirror is doing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from starlette.responses import JSONResponse, Response

from data_api.platform.http import prometheus
from data_api.platform.http.bodies import BodyCache
from data_api.platform.http.errors import ErrorBody
from data_api.platform.http.health import database_state, request_metrics, uptime_seconds
from data_api.platform.http.stats import RequestStats

from .schemas import Health

METRICS_PREFIX = "ha_data_api_"


def _mirror_state(mirror: Any) -> dict[str, Any]:
    last_sync: datetime | None = mirror.last_sync
    age = (datetime.now(UTC) - last_sync).total_seconds() if last_sync else None
    return {
        "connected": mirror.connected,
        "stale": mirror.stale,
        "last_sync": last_sync.isoformat() if last_sync else None,
        "last_sync_age_seconds": round(age, 3) if age is not None else None,
        "last_sync_duration_seconds": mirror.last_sync_seconds,
        "last_error": mirror.last_error,
        "events_applied": mirror.events_applied,
        "write_backlog": mirror.writer.backlog,
    }


def _tiers(mirror: Any) -> dict[str, dict[str, Any]]:
    tiers = {}
    for kind, tier in mirror.tiers.items():
        last = tier.last
        tiers[kind] = {
            **tier.stats.as_dict(),
            "version": last.version if last else None,
            "items": len(last.items) if last else 0,
        }
    return tiers


def mirror_status(mirror: Any) -> str:
    return "ok" if mirror.connected and not mirror.stale else "degraded"


def health_router(mirror: Any, stats: RequestStats, bodies: BodyCache) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get(
        "/health",
        operation_id="health",
        summary="Liveness and freshness (no API key needed)",
        response_model=Health,
        openapi_extra={"security": []},
    )
    async def health() -> JSONResponse:
        database = await database_state(mirror.store)
        status = mirror_status(mirror) if database["ok"] else "degraded"
        return JSONResponse(
            {"status": status, "connected": mirror.connected, "stale": mirror.stale, "database": database}
        )

    @router.get(
        "/health/detailed",
        operation_id="health_detailed",
        summary="Sync state, database latency, cache hit rates and per-endpoint request statistics",
        responses={200: {"description": "The service's state"}, 401: {"model": ErrorBody}},
    )
    async def health_detailed() -> JSONResponse:
        return JSONResponse(
            {
                "status": mirror_status(mirror),
                **await mirror_detail(mirror, bodies),
                "uptime_seconds": uptime_seconds(stats),
                "endpoints": stats.as_dict(),
            }
        )

    @router.get(
        "/metrics",
        operation_id="metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {prometheus.CONTENT_TYPE: {}}}, 401: {"model": ErrorBody}},
    )
    async def metrics() -> Response:
        out = prometheus.Exposition(METRICS_PREFIX)
        request_metrics(out, stats)
        mirror_metrics(out, mirror, bodies, await database_state(mirror.store))
        return Response(out.text(), media_type=prometheus.CONTENT_TYPE)

    return router


# --- parts another service reuses (the agent serving the mirror in its own process) -----------
async def mirror_detail(mirror: Any, bodies: BodyCache) -> dict[str, Any]:
    """The mirror's part of `/health/detailed`: sync state, database, cache and response cache."""
    return {
        **_mirror_state(mirror),
        "database": await database_state(mirror.store),
        "cache": _tiers(mirror),
        "responses": bodies.stats(),
    }


def mirror_metrics(out: prometheus.Exposition, mirror: Any, bodies: BodyCache, database: dict[str, Any]) -> None:
    """The mirror's cache, sync and database metrics."""
    tiers = _tiers(mirror)
    for what in ("hits", "misses", "refills", "refill_errors"):
        out.metric(
            f"cache_{what}_total",
            "counter",
            f"Memory-tier {what} of the mirror, by kind.",
            (({"kind": kind}, tier[what]) for kind, tier in tiers.items()),
        )
    out.metric(
        "cache_items", "gauge", "Items in memory, by kind.", (({"kind": k}, t["items"]) for k, t in tiers.items())
    )
    response_cache = bodies.stats()
    out.metric(
        "response_cache_hits_total",
        "counter",
        "Serialized bodies served from the cache.",
        [({}, response_cache["hits"])],
    )
    out.metric("response_cache_misses_total", "counter", "Bodies serialized.", [({}, response_cache["misses"])])
    out.metric("not_modified_total", "counter", "304 answers to If-None-Match.", [({}, response_cache["not_modified"])])
    out.gauge("response_cache_bytes", "Bytes of cached bodies.", response_cache["bytes"])
    state = _mirror_state(mirror)
    out.gauge("mirror_connected", "1 while connected to Home Assistant.", state["connected"])
    out.gauge("mirror_stale", "1 while the mirror may lag behind Home Assistant.", state["stale"])
    out.gauge(
        "mirror_last_sync_age_seconds", "Seconds since the last full sync (NaN: never).", state["last_sync_age_seconds"]
    )
    out.gauge(
        "mirror_last_sync_duration_seconds", "Duration of the last full sync.", state["last_sync_duration_seconds"]
    )
    out.metric(
        "mirror_events_applied_total", "counter", "Home Assistant events applied.", [({}, state["events_applied"])]
    )
    out.gauge("mirror_write_backlog", "Updates waiting to be written to the database.", state["write_backlog"])
    out.gauge("db_up", "1 if the database answered a ping.", database["ok"])
    latency = database["latency_ms"]
    out.gauge(
        "db_latency_seconds", "Time of a database ping (NaN: failed).", latency / 1000 if latency is not None else None
    )
