"""The agent API's request body and the shapes of its answers (for OpenAPI and its readers).

`ChatRequest` validates; the response models only document: answers are built from
`TurnResult.as_api()` and the stores' rows, like the mirror's bodies are built from `as_dict()`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

MAX_MESSAGE_CHARS = 4000
CONVERSATION_ID = Field(None, min_length=1, max_length=64, description="From an earlier answer; leave out to start one")


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_CHARS)
    ] = Field(description=f"What the person says, 1 to {MAX_MESSAGE_CHARS} characters")
    conversation_id: str | None = CONVERSATION_ID
    stream: bool = Field(False, description="Answer as server-sent events (text, tool_call, done, error)")
    area: str | None = Field(
        None, min_length=1, max_length=100, description="Area id where the person speaks (a voice satellite's)"
    )
    language: str | None = Field(
        None, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$", max_length=16, description="The person's language, e.g. en"
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


class ChatResponse(BaseModel):
    conversation_id: str
    reply: str
    tool_calls: list[ToolCallOut]
    usage: UsageOut
    timings: TimingsOut
    path: str = Field(description="How the turn was answered: llm, or confirmation (a pending action)")


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
