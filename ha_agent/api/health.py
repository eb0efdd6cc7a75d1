"""The agent's `/health` (open), `/health/detailed` and `/metrics`.

In one process with the mirror these paths would collide with the mirror's own: the agent's
answer them for both, and include the mirror's part (its sync state and cache, and its metrics
under the data-api's `ha_data_api_` prefix, so dashboards built for a separate data-api work).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from starlette.responses import JSONResponse, Response

from data_api import METRICS_PREFIX, mirror_detail, mirror_metrics
from data_api.platform.http import prometheus
from data_api.platform.http.bodies import BodyCache
from data_api.platform.http.errors import ErrorBody
from data_api.platform.http.health import request_metrics, uptime_seconds
from data_api.platform.http.stats import RequestStats

from . import schemas

if TYPE_CHECKING:
    from ha_agent.service import AgentService


async def _health(service: AgentService) -> dict[str, Any]:
    """Live, and whether the home lags and the database could store a turn."""
    database = await service.database_state()
    status = "degraded" if service.home.stale or not database["ok"] else "ok"
    health: dict[str, Any] = {"status": status, "role": service.role, "stale": service.home.stale}
    if service.mirror is not None:
        health["connected"] = service.mirror.connected
    health["database"] = database
    return health


def health_router(service: AgentService, stats: RequestStats, bodies: BodyCache | None) -> APIRouter:
    """`bodies`: the mirror routes' body cache, when the mirror is served beside the agent."""
    router = APIRouter(tags=["health"])

    @router.get(
        "/health",
        operation_id="health",
        summary="Liveness and freshness of the home (no API key needed)",
        response_model=None,
        responses={200: {"model": schemas.HealthOut, "description": "Live; `stale` says whether the home lags"}},
        openapi_extra={"security": []},
    )
    async def health() -> JSONResponse:
        return JSONResponse(await _health(service))

    @router.get(
        "/health/detailed",
        operation_id="health_detailed",
        summary="The home's source, the database, turns and tokens, per-endpoint request statistics",
        response_model=None,
        responses={
            200: {"model": schemas.HealthDetailedOut, "description": "The service's state"},
            401: {"model": ErrorBody, "description": "Missing or wrong API key"},
        },
    )
    async def health_detailed() -> JSONResponse:
        detail: dict[str, Any] = {
            **await _health(service),
            "uptime_seconds": uptime_seconds(stats),
            "home": service.home_state(),
            "llm": {
                "model": service.llm.model if service.llm is not None else None,
                "provider": "local" if service.llm is None else service.settings.effective_llm_provider,
            },
            "turns": {**service.stats.as_dict(), "running": service.running_turns},
            "endpoints": stats.as_dict(),
        }
        if service.mirror is not None and bodies is not None:
            detail["mirror"] = await mirror_detail(service.mirror, bodies)
        return JSONResponse(detail)

    @router.get(
        "/metrics",
        operation_id="metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={
            200: {
                "content": {prometheus.CONTENT_TYPE: {"schema": {"type": "string"}}},
                "description": "Text format 0.0.4",
            },
            401: {"model": ErrorBody, "description": "Missing or wrong API key"},
        },
    )
    async def metrics() -> Response:
        database = await service.database_state()
        out = prometheus.Exposition("ha_agent_")
        request_metrics(out, stats)
        _agent_metrics(out, service, database)
        text = out.text()
        if service.mirror is not None and bodies is not None:
            mirror = prometheus.Exposition(METRICS_PREFIX)
            mirror_metrics(mirror, service.mirror, bodies, database)  # one database: the same ping
            text += mirror.text()
        return Response(text, media_type=prometheus.CONTENT_TYPE)

    return router


def _agent_metrics(out: prometheus.Exposition, service: AgentService, database: dict[str, Any]) -> None:
    turns = service.stats
    out.metric(
        "turns_total",
        "counter",
        "Turns answered, by outcome (failed: the model failed).",
        [({"outcome": "ok"}, turns.turns), ({"outcome": "failed"}, turns.failed)],
    )
    out.metric("turn_seconds_total", "counter", "Time spent answering turns.", [({}, turns.seconds)])
    out.gauge("turns_running", "Turns being answered now.", service.running_turns)
    out.metric(
        "tokens_total",
        "counter",
        "Tokens the model reported, by kind (cached: part of the prompt).",
        [
            ({"kind": "prompt"}, turns.prompt_tokens),
            ({"kind": "completion"}, turns.completion_tokens),
            ({"kind": "cached"}, turns.cached_tokens),
        ],
    )
    out.metric(
        "tool_calls_total",
        "counter",
        "Tool calls run, by outcome.",
        [({"outcome": "ok"}, turns.tool_calls - turns.tool_errors), ({"outcome": "error"}, turns.tool_errors)],
    )
    out.gauge("home_stale", "1 while the home may lag behind Home Assistant.", service.home.stale)
    out.gauge("db_up", "1 if the database answered a ping.", database["ok"])
    latency = database["latency_ms"]
    out.gauge(
        "db_latency_seconds", "Time of a database ping (NaN: failed).", latency / 1000 if latency is not None else None
    )
