"""The agent API's request body and the shapes of its answers (for OpenAPI and its readers).

`ChatRequest` validates; the response models only document: answers are built from
`TurnResult.as_api()` and the stores' rows, like the mirror's bodies are built from `as_dict()`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

MAX_MESSAGE_CHARS = 4000
_WHITE_SPACE = r"\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
CONVERSATION_ID = Field(None, min_length=1, max_length=64, description="From an earlier answer; leave out to start one")


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_CHARS)] = (
        Field(
            description=f"What the person says, 1 to {MAX_MESSAGE_CHARS} characters, not blank, no NUL",
            # Documents what `_no_nul` and the stripping refuse (pydantic does not check it again):
            # a character that is neither NUL nor Unicode White_Space, which is what the strip removes.
            json_schema_extra={"pattern": f"^[^\\u0000]*[^\\u0000{_WHITE_SPACE}][^\\u0000]*$"},
        )
    )
    conversation_id: str | None = CONVERSATION_ID
    stream: bool = Field(False, description="Answer as server-sent events (text, tool_call, done, error)")
    area: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Area id where the person speaks (a voice satellite's)",
    )
    language: str | None = Field(
        None, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$", max_length=16, description="The person's language, e.g. en"
    )
    device_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="Home Assistant's id of the device spoken to (a voice satellite's)",
    )

    @field_validator("message")
    @classmethod
    def _no_nul(cls, message: str) -> str:
        # PostgreSQL's text cannot hold NUL: refused here as input to fix, not later as an outage.
        if "\x00" in message:
            raise ValueError("must not contain NUL characters (\\u0000)")
        return message


class ToolCallOut(BaseModel):
    id: str
    name: str
    arguments: Any
    result: Any = None
    error: str | None = None
    duration_ms: float


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int


class TimingsOut(BaseModel):
    context_ms: float
    llm_ms: float
    tools_ms: float
    total_ms: float


class ConfirmationOut(BaseModel):
    question: str = Field(description="The question the reply starts with, written by ha-agent, not the model")
    actions: list[str] = Field(description="Each action that runs if the next message is a yes, in plain words")
    expires_at: datetime = Field(description="After this, a yes runs nothing")


class ChatResponse(BaseModel):
    conversation_id: str
    reply: str
    tool_calls: list[ToolCallOut]
    usage: UsageOut
    timings: TimingsOut
    path: str = Field(
        description="How the turn was answered: llm (the model), local (the intent engine), or confirmation "
        "(the answer to a question awaiting a yes)"
    )
    confirmation: ConfirmationOut | None = Field(
        None, description="Set when the turn left actions awaiting the person's yes (say yes or no next)"
    )


def _event(name: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["event", "data"],
        "properties": {
            "event": {"const": name},
            "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data},
        },
    }


def _ref(model: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{model}"}  # in the document: ChatResponse's models are


# One event of a streamed turn (OpenAPI 3.1: the `schema` of text/event-stream is each event's).
CHAT_EVENT: dict[str, Any] = {
    "description": "start, text (a piece of the reply), tool_call (each once run), then done or error",
    "oneOf": [
        _event(
            "start",
            {"type": "object", "required": ["conversation_id"], "properties": {"conversation_id": {"type": "string"}}},
        ),
        _event("text", {"type": "object", "required": ["delta"], "properties": {"delta": {"type": "string"}}}),
        _event("tool_call", _ref("ToolCallOut")),
        _event("done", _ref("ChatResponse")),
        _event(
            "error",
            {
                "type": "object",
                "required": ["detail", "conversation_id", "status"],
                "properties": {
                    "detail": {"type": "string"},
                    "conversation_id": {"type": "string"},
                    "status": {"type": "integer"},
                },
            },
        ),
    ],
}


class TurnErrorBody(BaseModel):
    detail: str = Field(description="What went wrong, fit to show to the person")
    conversation_id: str = Field(description="The conversation, which holds the user's message")


class MessageOut(BaseModel):
    seq: int
    role: str
    content: str | None
    tool_calls: list[dict[str, Any]] | None
    tool_call_id: str | None
    name: str | None
    token_count: int
    created_at: datetime


class ConversationOut(BaseModel):
    id: str
    home_id: str
    title: str | None
    created_at: datetime
    updated_at: datetime
    message_count: int
    messages: list[MessageOut]


class SectionOut(BaseModel):
    name: str
    tokens: int
    volatile: bool
    available: bool


class ContextOut(BaseModel):
    mode: str = Field(description="full: every exposed entity listed; relevant: the message's, the rest counted")
    budget: int
    tokens: int
    build_ms: float
    stale: bool
    section_tokens: dict[str, int]
    sections: list[SectionOut]
    prefix: str = Field(description="The stable part of the system prompt (cached by providers)")
    volatile: str = Field(description="The part that changes with states and time")


class AuditRow(BaseModel):
    id: int
    conversation_id: str
    tool: str
    arguments: Any
    result: Any
    error: str | None
    created_at: datetime
    duration_ms: float


class AuditOut(BaseModel):
    items: list[AuditRow]


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="degraded: the home may lag behind Home Assistant, or the database fails"
    )
    role: Literal["all", "agent"] = Field(description="all: the mirror runs in this process; agent: a data-api is")
    stale: bool
    connected: bool | None = Field(None, description="Whether the mirror is connected to Home Assistant (role all)")
    database: dict[str, Any] = Field(description="ok, latency_ms, error: whether the database could store a turn")


class HealthDetailedOut(HealthOut):
    model_config = ConfigDict(extra="allow")

    uptime_seconds: float
    home: dict[str, Any]
    llm: dict[str, Any]
    turns: dict[str, Any]
    endpoints: dict[str, Any] = Field(description="Per endpoint: requests, statuses and timings")
    mirror: dict[str, Any] | None = Field(None, description="The mirror's sync state and cache (role all)")
