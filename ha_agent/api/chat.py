"""`POST /api/v1/chat` and `GET|DELETE /api/v1/conversations/{id}`: thin over `AgentService`.

A streamed turn is started before the response is: an unknown conversation is a plain 404, not
an event stream that fails. Once streaming, a failure is an `error` event (the status is already
sent); the user's message is stored either way.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response, StreamingResponse

from data_api import StoreError
from data_api.platform.http.bodies import dump_json
from data_api.platform.http.errors import ErrorBody
from ha_agent.context import Hints
from ha_agent.conversation import TurnError
from ha_agent.history import Conversation, ConversationNotFound

from . import schemas, sse
from .body import read_model
from .errors import turn_error_body

if TYPE_CHECKING:
    from ha_agent.service import AgentService

_LOGGER = logging.getLogger(__name__)
_EXAMPLE = '{"message": "Turn on the kitchen light", "conversation_id": null, "stream": false}'
_JSON = "application/json"
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body is not a JSON object"},
    401: {"model": ErrorBody, "description": "Missing or wrong API key"},
    404: {"model": ErrorBody, "description": "No such conversation"},
    413: {"model": ErrorBody, "description": "The body is too large"},
    422: {"model": ErrorBody, "description": "A field to fix (an empty or too long message...)"},
}
_TURN_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": schemas.TurnErrorBody, "description": why}
    for status, why in (
        (502, "The language model failed; the user's message is stored"),
        (503, "The language model is busy or unreachable; the user's message is stored"),
        (504, "The language model did not answer in time; the user's message is stored"),
    )
}
# Our 422 body is ErrorBody (one readable line), not FastAPI's default HTTPValidationError.
_BAD_ID: dict[str, Any] = {"model": ErrorBody, "description": "The conversation id is empty or too long"}
ConversationId = Annotated[str, Path(min_length=1, max_length=64, description="From a chat answer")]


def _json(payload: Any, status: int = 200) -> Response:
    return Response(dump_json(payload), status_code=status, media_type=_JSON)


def _conversation(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "home_id": conversation.home_id,
        "title": conversation.title,
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "message_count": conversation.message_count,
        "messages": [
            {
                "seq": m.seq,
                "role": m.role,
                "content": m.content,
                "tool_calls": m.tool_calls,
                "tool_call_id": m.tool_call_id,
                "name": m.name,
                "token_count": m.token_count,
                "created_at": m.created_at.isoformat(),
            }
            for m in conversation.messages
        ],
    }


async def _events(conversation_id: str, events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    yield sse.event("start", {"conversation_id": conversation_id})
    try:
        async for event in events:
            kind = event["type"]
            if kind == "text":
                yield sse.event("text", {"delta": event["delta"]})
            elif kind == "tool_call":
                yield sse.event("tool_call", {k: v for k, v in event.items() if k != "type"})
            elif kind == "done":
                yield sse.event("done", event["result"].as_api())
    except TurnError as exc:
        yield sse.event("error", {**turn_error_body(exc), "status": exc.status})
    except StoreError as exc:
        _LOGGER.warning("database error during a streamed turn: %s", exc)
        detail = "the database is unavailable; retry shortly"
        yield sse.event("error", {"detail": detail, "conversation_id": conversation_id, "status": 503})
    except Exception:
        _LOGGER.exception("a streamed turn failed")
        detail = "internal error: the server log has the details"
        yield sse.event("error", {"detail": detail, "conversation_id": conversation_id, "status": 500})


def chat_router(service: AgentService) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["chat"])

    @router.post(
        "/chat",
        operation_id="chat",
        summary="One turn of a conversation: the reply, the tool calls made, tokens and timings",
        description=(
            "Leave out `conversation_id` to start a conversation; pass the returned one to go on. "
            "With `stream: true` the answer is `text/event-stream`: `start` (the conversation id), "
            "`text` (a piece of the reply), `tool_call` (each call once run), then `done` (the "
            "same JSON as without streaming) or `error` (`detail`, `conversation_id`, `status`). "
            "The user's message is stored before the model is asked, so a failed turn loses nothing."
        ),
        response_model=None,
        responses={
            200: {
                "model": schemas.ChatResponse,
                "content": {sse.MEDIA_TYPE: {"schema": schemas.CHAT_EVENT}},
                "description": "The turn: JSON, or events with `stream: true`",
            },
            **_ERRORS,
            **_TURN_ERRORS,
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {_JSON: {"schema": schemas.ChatRequest.model_json_schema()}},
            }
        },
    )
    async def chat(request: Request) -> Response:
        body = await read_model(request, schemas.ChatRequest, _EXAMPLE)
        if not body.stream:
            result = await service.turn(body.message, body.conversation_id, Hints(body.area, body.language))
            return _json(result.as_api())
        events = service.stream(body.message, body.conversation_id, Hints(body.area, body.language))
        start = await anext(events)  # raises ConversationNotFound (404) before any byte is sent
        return StreamingResponse(
            _events(start["conversation_id"], events), media_type=sse.MEDIA_TYPE, headers=sse.HEADERS
        )

    @router.get(
        "/conversations/{conversation_id}",
        operation_id="get_conversation",
        summary="A conversation with its messages, each with its stored token count",
        response_model=None,
        responses={200: {"model": schemas.ConversationOut}, 401: _ERRORS[401], 404: _ERRORS[404], 422: _BAD_ID},
    )
    async def get_conversation(conversation_id: ConversationId) -> Response:
        conversation = await service.history.get(conversation_id, home_id=service.settings.home_id)
        if conversation is None:
            raise ConversationNotFound(conversation_id)
        return _json(_conversation(conversation))

    @router.delete(
        "/conversations/{conversation_id}",
        operation_id="delete_conversation",
        summary="Delete a conversation and its messages (the tools' audit stays)",
        status_code=204,
        response_model=None,
        responses={204: {"description": "Deleted"}, 401: _ERRORS[401], 404: _ERRORS[404], 422: _BAD_ID},
    )
    async def delete_conversation(conversation_id: ConversationId) -> Response:
        if not await service.delete_conversation(conversation_id):
            raise ConversationNotFound(conversation_id)
        return Response(status_code=204)

    return router
