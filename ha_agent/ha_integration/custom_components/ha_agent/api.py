"""A small client of the ha-agent REST API, on Home Assistant's shared aiohttp session."""

from __future__ import annotations

import asyncio
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
    conversation_id: str
    reply: str
    path: str = "llm"
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def asks(self) -> bool:
        """Whether the reply waits for the user: a question, or an action awaiting a yes."""
        if self.reply.rstrip().endswith("?"):
            return True
        return any(
            isinstance(call.get("result"), dict) and call["result"].get("needs_confirmation")
            for call in self.tool_calls
        )


def normalize_url(url: str) -> str:
    return url.strip().rstrip("/")


class AgentApi:
    """`GET /health`, `GET /api/v1/audit` (to check the key) and `POST /api/v1/chat`."""

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

    async def chat(
        self, message: str, conversation_id: str | None, *, language: str | None = None, area: str | None = None
    ) -> ChatAnswer:
        body: dict[str, Any] = {"message": message}
        if conversation_id:
            body["conversation_id"] = conversation_id
        # What HA knows of the speaker: the agent answers in their language and treats "the
        # lights" as the lights of the room they are in.
        if language and language != "*":
            body["language"] = language
        if area:
            body["area"] = area
        status, payload = await self._request("POST", "/api/v1/chat", CHAT_TIMEOUT_S, body)
        detail = payload.get("detail") if isinstance(payload, dict) else None
        if status in (401, 403):
            raise InvalidAuth("ha-agent refused the API key; check it in the integration's options")
        if status == 404:
            raise ConversationGone(str(detail or "unknown conversation"))
        if status != 200 or not isinstance(payload, dict) or "reply" not in payload:
            why = detail if isinstance(detail, str) else f"HTTP {status}"
            raise AgentError(f"ha-agent could not answer: {why}")
        return ChatAnswer(
            conversation_id=str(payload["conversation_id"]),
            reply=str(payload["reply"]),
            path=str(payload.get("path", "llm")),
            tool_calls=list(payload.get("tool_calls") or []),
        )
