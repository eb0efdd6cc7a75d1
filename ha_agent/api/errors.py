"""The agent's own errors as JSON, beside the platform's handlers (validation, HTTP errors,
unknown paths, a database outage) that every service's app has."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse

from ha_agent.conversation import TurnError
from ha_agent.history import ConversationNotFound


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
