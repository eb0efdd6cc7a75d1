"""`GET /api/v1/context` and `GET /api/v1/audit`: what the model is shown, and what the tools did."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from data_api.platform.http.bodies import dump_json
from data_api.platform.http.errors import ErrorBody
from ha_agent.context import Context
from ha_agent.tools.store import MAX_AUDIT_LIMIT

from . import schemas

if TYPE_CHECKING:
    from ha_agent.service import AgentService

# 422 is ErrorBody (one readable line), not FastAPI's default HTTPValidationError.
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong API key"},
    422: {"model": ErrorBody, "description": "A parameter to fix (too long, out of range...)"},
}


def _context(context: Context, stale: bool) -> dict[str, Any]:
    return {
        "mode": context.mode,
        "budget": context.budget,
        "tokens": context.tokens,
        "build_ms": round(context.build_ms, 3),
        "stale": stale,
        "section_tokens": context.section_tokens(),
        "sections": [
            {"name": s.name, "tokens": s.tokens, "volatile": s.volatile, "available": s.available}
            for s in context.sections
        ],
        "prefix": context.prefix,
        "volatile": context.volatile,
    }


def inspect_router(service: AgentService) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["inspect"])

    @router.get(
        "/context",
        operation_id="get_context",
        summary="The context the model would get for a message, with per-section token counts",
        response_model=None,
        responses={200: {"model": schemas.ContextOut}, **_ERRORS},
    )
    async def context(
        q: Annotated[
            str, Query(max_length=schemas.MAX_MESSAGE_CHARS, description="A message: picks the relevant entities")
        ] = "",
    ) -> Response:
        built = await service.context.build(q)
        return Response(dump_json(_context(built, service.home.stale)), media_type="application/json")

    @router.get(
        "/audit",
        operation_id="list_audit",
        summary="The tools' calls, newest first: arguments, result or error, duration",
        response_model=None,
        responses={200: {"model": schemas.AuditOut}, **_ERRORS},
    )
    async def audit(
        limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_LIMIT, description="Rows, newest first")] = 100,
        conversation_id: Annotated[
            str | None, Query(min_length=1, max_length=64, description="Only this conversation's calls")
        ] = None,
    ) -> Response:
        rows = await service.tool_store.list_audit(limit, conversation_id)
        return Response(dump_json({"items": rows}), media_type="application/json")

    return router
