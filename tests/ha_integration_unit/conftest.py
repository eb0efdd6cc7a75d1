"""Fixtures of the integration's unit tests (run inside the phacc venv, see venv.py): HA's test
harness from pytest-homeassistant-custom-component, and a stub ha-agent served by aiohttp."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ha_agent.const import CONF_API_KEY, CONF_URL, DOMAIN

KEY = "stub-agent-key-0123456789"
ENTITY_ID = "conversation.ha_agent"


@pytest.fixture(autouse=True)
async def auto_enable_custom_integrations(hass: HomeAssistant, enable_custom_integrations: None) -> None:
    """Let HA's loader find `custom_components.ha_agent`; `conversation` needs HA's core component."""
    assert await async_setup_component(hass, "homeassistant", {})


@dataclass
class StubAgent:
    """Answers like ha-agent: `/health`, `/api/v1/audit` (key checked), `/api/v1/chat`."""

    key: str | None = KEY
    replies: list[str] = field(default_factory=list)
    status: int = 200  # of /api/v1/chat
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    conversations: dict[str, int] = field(default_factory=dict)
    server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def _authorized(self, request: web.Request) -> bool:
        return self.key is None or request.headers.get("Authorization") == f"Bearer {self.key}"

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "role": "agent", "stale": False})

    async def audit(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"detail": "missing or wrong API key"}, status=401)
        return web.json_response({"items": []})

    async def chat(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"detail": "missing or wrong API key"}, status=401)
        body = await request.json()
        self.requests.append(body)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.status != 200:
            return web.json_response({"detail": "the language model failed"}, status=self.status)
        conversation_id = body.get("conversation_id")
        if conversation_id is None:
            conversation_id = uuid.uuid4().hex
            self.conversations[conversation_id] = 0
        elif conversation_id not in self.conversations:
            return web.json_response({"detail": f"no conversation {conversation_id}"}, status=404)
        self.conversations[conversation_id] += 1
        reply = self.replies.pop(0) if self.replies else "Done."
        return web.json_response({
            "conversation_id": conversation_id, "reply": reply, "tool_calls": [], "path": "local",
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "cached_tokens": 0},
            "timings": {"context_ms": 0, "llm_ms": 0, "tools_ms": 0, "total_ms": 1},
        })  # fmt: skip


@pytest.fixture
async def stub_agent(socket_enabled: None) -> AsyncIterator[StubAgent]:
    """A real server on loopback (HA's harness blocks sockets unless asked)."""
    stub = StubAgent()
    app = web.Application()
    app.router.add_get("/health", stub.health)
    app.router.add_get("/api/v1/audit", stub.audit)
    app.router.add_post("/api/v1/chat", stub.chat)
    stub.server = TestServer(app, host="127.0.0.1")
    await stub.server.start_server()
    yield stub
    await stub.server.close()


@pytest.fixture
async def entry(hass: HomeAssistant, stub_agent: StubAgent) -> MockConfigEntry:
    """The integration set up against the stub agent."""
    config_entry = MockConfigEntry(
        domain=DOMAIN, title="ha-agent", data={CONF_URL: stub_agent.url, CONF_API_KEY: KEY}
    )
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry
