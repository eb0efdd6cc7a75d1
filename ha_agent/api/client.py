"""A client of a running agent over HTTP (`ha-agent chat`, scripts, tests)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from data_api.platform.logs import display_url
from ha_agent.llm.sse import iter_sse

# A turn may take the model several rounds and retries: wait for it rather than give up early.
_TIMEOUT = httpx.Timeout(10.0, read=600.0)


class AgentError(Exception):
    """The agent could not be reached, refused the request, or the turn failed; one line.

    `conversation_id` is set when the turn failed after the message was stored in it."""

    def __init__(self, message: str, status: int | None = None, conversation_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.conversation_id = conversation_id


class AgentClient:
    def __init__(self, url: str, api_key: str | None = None, timeout: httpx.Timeout = _TIMEOUT) -> None:
        self.url = url.rstrip("/")
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(base_url=self.url, headers=headers, timeout=timeout)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AgentClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def chat(self, message: str, conversation_id: str | None = None) -> dict[str, Any]:
        """One turn, answered whole: the `POST /api/v1/chat` JSON."""
        body = {"message": message, "conversation_id": conversation_id, "stream": False}
        async with self._request("POST", "/api/v1/chat", json=body) as response:
            await response.aread()
            return response.json()

    async def stream(
        self, message: str, conversation_id: str | None = None
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """One turn as `(event, data)`: `start`, `text`, `tool_call`, `done`; an `error` event
        is raised as `AgentError`."""
        body = {"message": message, "conversation_id": conversation_id, "stream": True}
        async with self._request("POST", "/api/v1/chat", json=body) as response:
            async for event, data in iter_sse(response.aiter_lines()):
                payload = json.loads(data)
                if event == "error":
                    detail = payload.get("detail") or "the turn failed"
                    raise AgentError(detail, payload.get("status"), payload.get("conversation_id"))
                yield event, payload
                if event == "done":
                    return
        raise AgentError("the agent closed the stream before the turn finished; the conversation has what was stored")

    async def conversation(self, conversation_id: str) -> dict[str, Any]:
        async with self._request("GET", f"/api/v1/conversations/{conversation_id}") as response:
            await response.aread()
            return response.json()

    async def delete(self, conversation_id: str) -> None:
        async with self._request("DELETE", f"/api/v1/conversations/{conversation_id}"):
            pass

    @asynccontextmanager
    async def _request(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        try:
            async with self._http.stream(method, path, **kwargs) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise _error(response)
                yield response
        except httpx.TransportError as exc:
            raise AgentError(
                f"cannot reach the agent at {display_url(self.url)} ({type(exc).__name__}): "
                "is `ha-agent serve` running, and AGENT_URL (or --url) right?"
            ) from None


def _error(response: httpx.Response) -> AgentError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    conversation_id = body.get("conversation_id") if isinstance(body, dict) else None
    message = str(detail) if detail else f"HTTP {response.status_code} from {response.request.url.path}"
    if response.status_code == 401:
        message = f"the agent at {response.request.url.host} refused the request: {message}"
    return AgentError(message, response.status_code, conversation_id)
