"""The agent's errors as JSON, beside the data-api's handlers (`install_error_handlers`), which
the agent's app installs too: validation (422), HTTP errors, unknown paths."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse

from data_api.store import StoreError
from ha_agent.agent import TurnError
from ha_agent.history import ConversationNotFound

_LOGGER = logging.getLogger(__name__)


def unknown_conversation(conversation_id: str) -> str:
    return (
        f"no conversation {conversation_id!r}: it was never started, or was deleted or purged "
        "(history_retention_days); leave out conversation_id to start a new one"
    )


def turn_error_body(exc: TurnError) -> dict[str, str]:
    """What a client is told when the model failed: the user's message is in the conversation."""
    return {"detail": str(exc), "conversation_id": exc.conversation_id}


def install_agent_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ConversationNotFound)
    async def conversation_not_found(request: Request, exc: ConversationNotFound) -> JSONResponse:
        return JSONResponse({"detail": unknown_conversation(str(exc.args[0]))}, status_code=404)

    @app.exception_handler(TurnError)
    async def turn_failed(request: Request, exc: TurnError) -> JSONResponse:
        return JSONResponse(turn_error_body(exc), status_code=exc.status)

    # Replaces the data-api's handler, whose message speaks of the mirror.
    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> JSONResponse:
        _LOGGER.warning("database error serving %s: %s", request.url.path, exc)
        return JSONResponse(
            {"detail": "the database is unavailable; retry shortly"}, status_code=503, headers={"retry-after": "5"}
        )
