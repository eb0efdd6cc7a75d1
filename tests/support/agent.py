"""The agent served over real HTTP for tests: simulated HA → mirror (SQLite) → agent → uvicorn.

Everything runs in the test's event loop; the tests speak HTTP to it with httpx, as a client
would. The model is a `ScriptedLLMServer` the test scripts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from data_api.mirror import Mirror
from data_api.platform.http.server import HttpServer
from data_api.platform.settings import Settings
from data_api.simulator import SimulatedHA
from ha_agent.api.app import create_app
from ha_agent.assemble import one_process
from ha_agent.llm.sse import iter_sse
from ha_agent.service import AgentService

KEY = "agent-test-key-0123456789"
MODEL = "gpt-4o-mini"


def agent_settings(sim: SimulatedHA, llm_url: str, database: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ha_url": sim.url,
        "ha_token": sim.token,
        "database_url": f"sqlite+aiosqlite:///{database}",
        "llm_base_url": llm_url,
        "llm_model": MODEL,
        "llm_timeout": 10.0,
        "llm_max_retries": 1,
        "home_id": "test",
        "api_keys": [],
        "ha_reconnect_min_delay": 0.05,
        "ha_reconnect_max_delay": 0.5,
        # These tests are about the model's path; the local engine's fast path has its own.
        "intents_fast_path": False,
    }
    return Settings(**{**values, **overrides})


@dataclass
class ServedAgent:
    settings: Settings
    mirror: Mirror
    service: AgentService
    url: str
    http: httpx.AsyncClient

    async def chat(self, message: str, conversation_id: str | None = None, **extra: Any) -> httpx.Response:
        return await self.http.post(
            "/api/v1/chat", json={"message": message, "conversation_id": conversation_id, **extra}
        )

    async def stream(self, message: str, conversation_id: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """The events of a streamed turn, parsed."""
        body = {"message": message, "conversation_id": conversation_id, "stream": True}
        async with self.http.stream("POST", "/api/v1/chat", json=body) as response:
            assert response.status_code == 200, await response.aread()
            assert response.headers["content-type"].startswith("text/event-stream")
            return [(event, json.loads(data)) async for event, data in iter_sse(response.aiter_lines())]


@asynccontextmanager
async def serve_agent(settings: Settings, *, headers: dict[str, str] | None = None) -> AsyncIterator[ServedAgent]:
    """The one-process shape (`ha-agent serve`): mirror, agent and both APIs on one server."""
    async with AsyncExitStack() as stack:
        service = await stack.enter_async_context(one_process(settings, wait=True))
        mirror = service.mirror
        assert mirror is not None
        server = HttpServer(create_app(service, settings))
        url = await server.start()
        stack.push_async_callback(server.stop)
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=url, headers=headers or {}, timeout=30))
        yield ServedAgent(settings, mirror, service, url, http)


def system_prompt(request: dict[str, Any]) -> str:
    first = request["messages"][0]
    assert first["role"] == "system"
    return str(first["content"])
