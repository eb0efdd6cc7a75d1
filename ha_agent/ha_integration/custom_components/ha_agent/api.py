"""A small client of the ha-agent REST API, on Home Assistant's shared aiohttp session."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .const import CHAT_TIMEOUT_S, CHECK_TIMEOUT_S


class AgentError(Exception):
    """The agent could not answer; the message is fit to be spoken to the user."""


class CannotConnect(AgentError):
    """Nothing answered at the URL (refused, DNS, timeout, not ha-agent)."""


class InvalidAuth(AgentError):
    """The agent refused the API key (HTTP 401/403)."""


class ConversationGone(AgentError):
    """The agent does not know the conversation id (HTTP 404)."""


@dataclass
class ChatAnswer:
    """The agent's answer to one turn (the `done` event of its stream)."""

    conversation_id: str
    reply: str
    path: str = "llm"
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)

    @property
    def asks(self) -> bool:
        """Whether the reply waits for the user: a question, or an action awaiting a yes."""
        if self.reply.rstrip().endswith("?"):
            return True
        return any(
            isinstance(call.get("result"), dict) and call["result"].get("needs_confirmation")
            for call in self.tool_calls
        )

    @property
    def details(self) -> dict[str, Any]:
        """What the turn cost and did, for people who inspect HA's response or trace."""
        return {
            "conversation_id": self.conversation_id,
            "path": self.path,
            "usage": self.usage,
            "timings": self.timings,
            "tool_calls": [
                {k: call[k] for k in ("name", "arguments", "duration_ms", "error") if call.get(k) is not None}
                for call in self.tool_calls
            ],
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ChatAnswer:
        return cls(
            conversation_id=str(payload["conversation_id"]),
            reply=str(payload["reply"]),
            path=str(payload.get("path", "llm")),
            tool_calls=list(payload.get("tool_calls") or []),
            usage=dict(payload.get("usage") or {}),
            timings=dict(payload.get("timings") or {}),
        )


class ChatStream:
    """One streamed turn: `async for delta in stream.text()` yields the reply as it arrives;
    `stream.answer` is the whole answer once the text is done. An `error` event, a cut stream
    or the deadline raise `AgentError` from the iteration."""

    def __init__(self, response: aiohttp.ClientResponse, deadline: float) -> None:
        self._response = response
        self._deadline = deadline
        self.answer: ChatAnswer | None = None

    async def _lines(self) -> AsyncIterator[str]:
        """The body's lines, however long: a `done` event carries every tool result on one line,
        which can be more than aiohttp's own line reader takes (it refuses a 3 MB line)."""
        pending = b""
        async for chunk in self._response.content.iter_any():
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line.decode("utf-8").rstrip("\r")
        if pending:
            yield pending.decode("utf-8").rstrip("\r")

    async def _events(self) -> AsyncIterator[tuple[str, Any]]:
        """Server-sent events as (name, JSON data); one `data:` line each, as the agent writes."""
        name = "message"
        data: list[str] = []
        async for line in self._lines():
            if not line:
                if data:
                    try:
                        yield name, json.loads("\n".join(data))
                    except ValueError as err:
                        raise AgentError("ha-agent sent an unreadable event") from err
                name, data = "message", []
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())

    async def text(self) -> AsyncIterator[str]:
        streamed = ""
        try:
            async with asyncio.timeout_at(self._deadline):
                async for name, data in self._events():
                    if name == "text" and isinstance(data, dict) and data.get("delta"):
                        streamed += str(data["delta"])
                        yield str(data["delta"])
                    elif name == "done" and isinstance(data, dict) and "reply" in data:
                        self.answer = ChatAnswer.from_payload(data)
                        # Answers without a model (the local engine, a confirmation) come whole.
                        if self.answer.reply.startswith(streamed) and len(self.answer.reply) > len(streamed):
                            yield self.answer.reply[len(streamed) :]
                        return
                    elif name == "error":
                        detail = data.get("detail") if isinstance(data, dict) else None
                        raise AgentError(f"ha-agent could not answer: {detail or 'the turn failed'}")
        except TimeoutError as err:
            raise AgentError(f"ha-agent did not answer within {CHAT_TIMEOUT_S:.0f} seconds") from err
        except (aiohttp.ClientError, OSError, UnicodeDecodeError) as err:
            raise AgentError("ha-agent stopped answering") from err
        finally:
            self._response.release()
        raise AgentError("ha-agent ended the turn without an answer")


def normalize_url(url: str) -> str:
    return url.strip().rstrip("/")


class AgentApi:
    """`GET /health`, `GET /api/v1/audit` (to check the key) and `POST /api/v1/chat`, streamed."""

    def __init__(self, session: aiohttp.ClientSession, url: str, api_key: str | None) -> None:
        self._session = session
        self._url = normalize_url(url)
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def _request(self, method: str, path: str, timeout: float, body: Any = None) -> tuple[int, Any]:
        try:
            async with asyncio.timeout(timeout):
                async with self._session.request(
                    method, self._url + path, json=body, headers=self._headers, allow_redirects=False
                ) as response:
                    try:
                        payload = await response.json(content_type=None)
                    except ValueError:
                        payload = None
                    return response.status, payload
        except TimeoutError as err:
            raise CannotConnect(f"ha-agent did not answer within {timeout:.0f} seconds") from err
        except (aiohttp.ClientError, OSError, ValueError) as err:
            raise CannotConnect("ha-agent cannot be reached") from err

    async def check(self) -> None:
        """Raise `CannotConnect` unless an ha-agent answers, `InvalidAuth` unless it takes the key."""
        status, payload = await self._request("GET", "/health", CHECK_TIMEOUT_S)
        if status != 200 or not isinstance(payload, dict) or "status" not in payload:
            raise CannotConnect(f"no ha-agent health answer at {self._url} (HTTP {status})")
        status, _ = await self._request("GET", "/api/v1/audit?limit=1", CHECK_TIMEOUT_S)
        if status in (401, 403):
            raise InvalidAuth("ha-agent refused the API key")
        if status >= 400:
            raise CannotConnect(f"ha-agent answered HTTP {status}")

    @contextlib.asynccontextmanager
    async def chat(
        self,
        message: str,
        conversation_id: str | None,
        *,
        language: str | None = None,
        area: str | None = None,
        device_id: str | None = None,
    ) -> AsyncIterator[ChatStream]:
        """`POST /api/v1/chat` with `stream: true`: errors the agent answers before streaming
        (a wrong key, an unknown conversation...) are raised here, before any text."""
        body: dict[str, Any] = {"message": message, "stream": True}
        if conversation_id:
            body["conversation_id"] = conversation_id
        # What HA knows of the speaker: the agent answers in their language and treats "the
        # lights" as the lights of the room they are in.
        if language and language != "*":  # HA's MATCH_ALL: no language in particular
            body["language"] = language
        if area:
            body["area"] = area
        if device_id:
            body["device_id"] = device_id
        # One deadline for the whole turn, the streamed text included.
        deadline = asyncio.get_running_loop().time() + CHAT_TIMEOUT_S
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._session.post(
                    self._url + "/api/v1/chat", json=body, headers=self._headers, allow_redirects=False
                )
        except TimeoutError as err:
            raise CannotConnect(f"ha-agent did not answer within {CHAT_TIMEOUT_S:.0f} seconds") from err
        except (aiohttp.ClientError, OSError, ValueError) as err:
            raise CannotConnect("ha-agent cannot be reached") from err
        try:
            if response.status != 200 or not response.content_type.startswith("text/event-stream"):
                try:
                    payload = await response.json(content_type=None)
                except (ValueError, aiohttp.ClientError):
                    payload = None
                detail = payload.get("detail") if isinstance(payload, dict) else None
                if response.status in (401, 403):
                    raise InvalidAuth("ha-agent refused the API key; check it in the integration's options")
                if response.status == 404:
                    raise ConversationGone(str(detail or "unknown conversation"))
                why = detail if isinstance(detail, str) else f"HTTP {response.status}"
                raise AgentError(f"ha-agent could not answer: {why}")
            yield ChatStream(response, deadline)
        finally:
            response.release()
