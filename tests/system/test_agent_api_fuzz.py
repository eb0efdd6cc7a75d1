"""Property-based checks of the agent's API from its own OpenAPI document (schemathesis).

The one-process stack (`serve_agent`: simulated small home, SQLite, mirror, agent, uvicorn) runs
on a background thread with API keys set, so the document names the keys and every request
carries one; the model is a `ScriptedLLMServer` that echoes. Every operation (the agent's and
the mirror's it serves) is called with generated valid and invalid input: never a 5xx, and
status, content type, headers and body conform to the document. Examples are bounded so the
module runs well under a minute.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import schemathesis
from schemathesis import GenerationMode

from data_api.simulator import SimulatedHA, generate_home
from ha_agent.simulator.scripted_server import Reply, ScriptedLLMServer, echo
from tests.support.agent import KEY, ServedAgent, agent_settings, serve_agent
from tests.support.fuzzing import all_operations, fuzz_operations, report

AUTH = {"Authorization": f"Bearer {KEY}"}
EXAMPLES_PER_OPERATION = 15
T = TypeVar("T")


class ThreadServedAgent:
    """`serve_agent` in its own event loop on a background thread: the tests are plain code
    speaking HTTP to it, as schemathesis does."""

    def __init__(self, folder: Path, *, model: bool) -> None:
        self.folder = folder
        self.model = model  # False: the local intent engine alone (the default, and the demo)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="served-agent", daemon=True)
        self._stack = AsyncExitStack()
        self.url = ""

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> ThreadServedAgent:
        self._thread.start()
        self.run(self._start())
        return self

    async def _start(self) -> None:
        sim = SimulatedHA(generate_home("small"))
        await sim.start()
        self._stack.push_async_callback(sim.close)
        if self.model:
            llm = await self._stack.enter_async_context(ScriptedLLMServer(responder=echo, record=False))
            settings = agent_settings(sim, llm.base_url, self.folder / "agent.db", api_keys=[KEY])
        else:
            settings = agent_settings(sim, "http://127.0.0.1:9/v1", self.folder / "agent.db", api_keys=[KEY],
                                      llm_base_url=None, llm_provider="local")  # fmt: skip
        self.agent: ServedAgent = await self._stack.enter_async_context(serve_agent(settings, headers=AUTH))
        self.url = self.agent.url
        # What random input never reaches: conversations that exist, and the tools' audit rows
        # (one call that answers, one that fails), so their 200 bodies are checked too.
        entities = (await self.agent.service.home.kind("entities")).sorted_items()
        light = next(e for e in entities if e.domain == "light" and e.exposed)
        if self.model:
            calls = [("get_state", {"entities": [light.entity_id]}), ("get_state", {"entities": "not a list"})]
            llm.script(Reply.tool_calls(calls), Reply.text("It is on."))
        turn = await self.agent.chat(f"Is the {light.name} on?")
        assert turn.status_code == 200, turn.text
        self.conversation_id = turn.json()["conversation_id"]
        other = await self.agent.chat("Hello")  # the echo answers; deleted by the fuzzing
        self.deleted_id = other.json()["conversation_id"]

    def explicit_cases(self) -> dict[str, list[dict[str, Any]]]:
        ongoing = self.conversation_id
        return {
            "POST /api/v1/chat": [
                {"body": {"message": "Is the kitchen light on?", "stream": True}, "media_type": "application/json"},
                {"body": {"message": "And now?", "conversation_id": ongoing}, "media_type": "application/json"},
                {
                    "body": {
                        "message": "Thanks",
                        "conversation_id": ongoing,
                        "stream": True,
                        "area": "kitchen",
                        "language": "en-GB",
                    },
                    "media_type": "application/json",
                },
            ],
            "GET /api/v1/conversations/{conversation_id}": [{"path_parameters": {"conversation_id": ongoing}}],
            "DELETE /api/v1/conversations/{conversation_id}": [
                {"path_parameters": {"conversation_id": self.deleted_id}}
            ],
            "GET /api/v1/audit": [{"query": {"conversation_id": ongoing}}, {"query": {"limit": 1}}],
            "GET /api/v1/context": [{"query": {"q": "Is the kitchen light on?"}}],
        }

    def close(self) -> None:
        try:
            self.run(self._stack.aclose())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)


@pytest.fixture(scope="module", params=["model", "no model"])
def served_agent(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThreadServedAgent]:
    """The agent with a model, and without one (the default and the demo: the local engine)."""
    stack = ThreadServedAgent(Path(tmp_path_factory.mktemp("agent-api-fuzz")), model=request.param == "model")
    try:
        yield stack.start()  # inside: a start that fails half-way still closes what it opened
    finally:
        stack.close()


@pytest.fixture(scope="module")
def api_schema(served_agent: ThreadServedAgent) -> schemathesis.BaseSchema:
    # The document itself needs the key: every path but /health (and the page) does.
    return schemathesis.openapi.from_url(f"{served_agent.url}/openapi.json", headers=AUTH)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_every_operation_conforms_whatever_the_input(
    api_schema: schemathesis.BaseSchema, served_agent: ThreadServedAgent, mode: GenerationMode
) -> None:
    operations = all_operations(api_schema)
    assert len(operations) >= 20
    failures = fuzz_operations(
        operations,
        mode,
        base_url=served_agent.url,
        headers=AUTH,
        max_examples=EXAMPLES_PER_OPERATION,
        explicit=served_agent.explicit_cases(),
    )
    assert not failures, report(failures)


def test_the_document_describes_every_endpoint(api_schema: schemathesis.BaseSchema) -> None:
    paths = api_schema.raw_schema["paths"]
    agent = {"/api/v1/chat", "/api/v1/conversations/{conversation_id}", "/api/v1/context", "/api/v1/audit"}
    assert agent | {"/health", "/health/detailed", "/metrics", "/api/v1/entities"} <= set(paths)
    assert set(paths["/api/v1/conversations/{conversation_id}"]) == {"get", "delete"}
    chat = paths["/api/v1/chat"]["post"]
    assert chat["requestBody"]["required"]
    assert set(chat["responses"]["200"]["content"]) == {"application/json", "text/event-stream"}
    assert chat["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    for path in agent:
        for operation in paths[path].values():
            assert operation["summary"] and "401" in operation["responses"], path
    assert set(paths["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain; version=0.0.4; charset=utf-8"}
    assert set(paths["/"]["get"]["responses"]["200"]["content"]) == {"text/html"}
    schemes = api_schema.raw_schema["components"]["securitySchemes"]
    assert {"bearer", "apiKey"} <= set(schemes)
    assert paths["/health"]["get"]["security"] == paths["/"]["get"]["security"] == []  # open


@pytest.mark.parametrize("path", ["/api/v1/context", "/api/v1/audit", "/health/detailed", "/metrics", "/openapi.json"])
def test_a_request_without_the_key_is_refused(served_agent: ThreadServedAgent, path: str) -> None:
    with httpx.Client(base_url=served_agent.url, timeout=10) as client:
        response = client.get(path)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/json")
        assert "API key" in response.json()["detail"]
        assert response.headers["www-authenticate"].startswith("Bearer")
        wrong = client.post("/api/v1/chat", json={"message": "hi"}, headers={"X-API-Key": "not-the-key"})
        assert wrong.status_code == 401 and "not accepted" in wrong.json()["detail"]
        assert client.get("/health").status_code == 200
