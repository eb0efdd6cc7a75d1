"""Fixtures of the integration's unit tests (run inside the phacc venv, see venv.py): HA's test
harness from pytest-homeassistant-custom-component, and a stub ha-agent served by aiohttp.

They run on every HA line the integration supports (HA 2025.4.4 and 2026.10.4); where HA's
API differs, a test checks what the running HA offers (`HA_VERSION`)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from custom_components.ha_agent.const import CONF_API_KEY, CONF_URL, DOMAIN
from homeassistant.const import MAJOR_VERSION, MINOR_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

KEY = "stub-agent-key-0123456789"
ENTITY_ID = "conversation.ha_agent"
HA_VERSION = (MAJOR_VERSION, MINOR_VERSION)


@pytest.fixture(autouse=True)
async def auto_enable_custom_integrations(hass: HomeAssistant, enable_custom_integrations: None) -> None:
    """Let HA's loader find `custom_components.ha_agent`; `conversation` needs HA's core component."""
    assert await async_setup_component(hass, "homeassistant", {})


@dataclass
class StubAgent:
    """Answers like ha-agent: `/health`, `/api/v1/audit` (key checked), `/api/v1/chat` streamed
    as server-sent events (start, text pieces, tool_call, done or error)."""

    key: str | None = KEY
    replies: list[str] = field(default_factory=list)
    # Each reply is streamed in these pieces when set (else as one `done`, like the local engine).
    pieces: list[str] | None = None
    hold: asyncio.Event | None = None  # when set, the stream waits for it after the first piece
    fail_after_text: bool = False  # an `error` event after the first piece
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
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

    async def chat(self, request: web.Request) -> web.StreamResponse:
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
        stream = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await stream.prepare(request)

        async def send(event: str, data: dict[str, Any]) -> None:
            await stream.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())

        await send("start", {"conversation_id": conversation_id})
        for number, piece in enumerate(self.pieces or []):
            await send("text", {"delta": piece})
            if number == 0 and self.fail_after_text:
                await send(
                    "error", {"detail": "the language model failed", "conversation_id": conversation_id, "status": 502}
                )
                return stream
            if number == 0 and self.hold is not None:
                await self.hold.wait()
        for call in self.tool_calls:
            await send("tool_call", call)
        await send(
            "done",
            {
                "conversation_id": conversation_id,
                "reply": reply,
                "tool_calls": self.tool_calls,
                "path": "local",
                "usage": {"prompt_tokens": 120, "completion_tokens": 8, "cached_tokens": 100},
                "timings": {"context_ms": 0.5, "llm_ms": 0, "tools_ms": 3.5, "total_ms": 4.5},
            },
        )
        return stream


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
    config_entry = MockConfigEntry(domain=DOMAIN, title="ha-agent", data={CONF_URL: stub_agent.url, CONF_API_KEY: KEY})
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry
