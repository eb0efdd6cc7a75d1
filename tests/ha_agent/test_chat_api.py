"""The agent's REST API over real HTTP: simulated HA (small home) → mirror → agent → uvicorn, with
a scripted OpenAI-compatible model that is as strict as the real one about tool-call ids."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from data_api.simulator import SimulatedHA
from ha_agent import tokens
from ha_agent.history import count_message_tokens
from ha_agent.llm.sse import iter_sse
from ha_agent.simulator.scripted_server import Reply, ScriptedLLMServer
from ha_agent.storage import conversations
from tests.support.agent import KEY, MODEL, ServedAgent, agent_settings, serve_agent, system_prompt


@pytest.fixture
async def agent(sim: SimulatedHA, llm: ScriptedLLMServer, tmp_path) -> AsyncIterator[ServedAgent]:
    async with serve_agent(agent_settings(sim, llm.base_url, tmp_path / "agent.db")) as served:
        yield served


async def _exposed(agent: ServedAgent, domain: str, count: int = 1) -> list[str]:
    entities = (await agent.service.home.kind("entities")).sorted_items()
    found = [e.entity_id for e in entities if e.domain == domain and e.exposed][:count]
    assert len(found) == count, f"the small home has fewer than {count} exposed {domain} entities"
    return found


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- a turn --------------------------------------------------------------------------------------
async def test_a_turn_end_to_end_counts_each_message_once(agent: ServedAgent, llm, monkeypatch) -> None:
    counted: list[str] = []
    real_count = tokens.count_tokens

    def counting(text: str, model: str) -> int:
        counted.append(text)
        return real_count(text, model)

    monkeypatch.setattr(tokens, "count_tokens", counting)
    llm.script(Reply.text("First reply alpha."), Reply.text("Second reply beta."))

    response = await agent.chat("first message omega")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reply"] == "First reply alpha." and body["tool_calls"] == []
    assert set(body) >= {"conversation_id", "reply", "tool_calls", "usage", "timings"}
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "cached_tokens"}
    assert body["usage"]["prompt_tokens"] > 0
    assert set(body["timings"]) == {"context_ms", "llm_ms", "tools_ms", "total_ms"}
    assert response.headers["x-response-time"].endswith("ms")

    # The home's context reached the model, before the user's message.
    request = llm.requests[-1]
    prompt = system_prompt(request)
    for entity_id in await _exposed(agent, "light", 3) + await _exposed(agent, "sensor", 2):
        assert entity_id in prompt
    assert request["messages"][-1] == {"role": "user", "content": "first message omega"}
    assert {tool["function"]["name"] for tool in request["tools"]} >= {"get_state", "call_service"}
    assert "first message omega" in counted and "First reply alpha." in counted

    conversation_id = body["conversation_id"]
    stored = (await agent.http.get(f"/api/v1/conversations/{conversation_id}")).json()
    assert [(m["role"], m["content"]) for m in stored["messages"]] == [
        ("user", "first message omega"),
        ("assistant", "First reply alpha."),
    ]
    first_counts = [m["token_count"] for m in stored["messages"]]
    assert all(count > 0 for count in first_counts)
    assert stored["messages"][0]["token_count"] == count_message_tokens(
        {"role": "user", "content": "first message omega"}, MODEL
    )

    counted.clear()
    response = await agent.chat("second message", conversation_id)
    assert response.status_code == 200, response.text
    sent = [(m["role"], m["content"]) for m in llm.requests[-1]["messages"][1:]]
    assert sent == [
        ("user", "first message omega"),
        ("assistant", "First reply alpha."),
        ("user", "second message"),
    ]
    # The first turn's messages were sent again but not counted again: their counts are stored.
    assert "first message omega" not in counted and "First reply alpha." not in counted
    assert "second message" in counted and "Second reply beta." in counted
    stored = (await agent.http.get(f"/api/v1/conversations/{conversation_id}")).json()
    assert [m["token_count"] for m in stored["messages"][:2]] == first_counts
    assert stored["message_count"] == 4


async def test_prompt_prefix_is_identical_until_the_home_changes(agent: ServedAgent, llm, sim: SimulatedHA) -> None:
    llm.script(Reply.text("One."), Reply.text("Two."), Reply.text("Three."))
    first = await agent.chat("which lights are on?")
    await agent.chat("and the heating?", first.json()["conversation_id"])
    prefix = (await agent.service.context.build("")).prefix
    one, two = (system_prompt(r) for r in llm.requests)
    assert one.startswith(prefix) and two.startswith(prefix)
    assert one != prefix  # the volatile part (states, time) follows it

    area_id = sorted(sim.home.areas)[0]
    sim.home.update_area(area_id, name="Renamed Sunroom")
    for _ in range(500):
        if (await agent.service.home.kind("areas")).items[area_id].name == "Renamed Sunroom":
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the mirror never saw the area renamed")

    await agent.chat("which lights are on?")
    three = system_prompt(llm.requests[-1])
    changed = (await agent.service.context.build("")).prefix
    assert changed != prefix and "Renamed Sunroom" in changed
    assert three.startswith(changed) and not three.startswith(prefix)


async def test_tool_calls_round_trip_through_the_model(agent: ServedAgent, llm) -> None:
    light = (await _exposed(agent, "light"))[0]
    llm.script(
        Reply.tool_calls(
            [("get_state", {"entities": [light]}, "call_a"), ("search_entities", {"query": "lamp"}, "call_b")]
        ),
        Reply.text("The light is as it was."),
    )
    response = await agent.chat("is the light on?")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(c["id"], c["name"]) for c in body["tool_calls"]] == [
        ("call_a", "get_state"),
        ("call_b", "search_entities"),
    ]
    assert all("error" not in c and c["duration_ms"] >= 0 for c in body["tool_calls"]), body["tool_calls"]
    assert light in str(body["tool_calls"][0]["result"])
    assert body["reply"] == "The light is as it was."

    # The second request answers every call (the scripted server refuses it otherwise).
    answer = llm.requests[1]["messages"]
    assert [c["id"] for c in answer[-3]["tool_calls"]] == ["call_a", "call_b"]
    assert [(m["role"], m["tool_call_id"]) for m in answer[-2:]] == [("tool", "call_a"), ("tool", "call_b")]

    conversation_id = body["conversation_id"]
    stored = (await agent.http.get(f"/api/v1/conversations/{conversation_id}")).json()["messages"]
    assert [m["role"] for m in stored] == ["user", "assistant", "tool", "tool", "assistant"]
    assert stored[1]["tool_calls"][0]["function"]["name"] == "get_state"
    audit = (await agent.http.get("/api/v1/audit", params={"conversation_id": conversation_id})).json()["items"]
    assert sorted(row["tool"] for row in audit) == ["get_state", "search_entities"]


async def test_another_homes_conversation_is_not_found(agent: ServedAgent, llm) -> None:
    """Homes may share one database: an id from another home answers 404, and nothing of it
    is read, continued or deleted."""
    theirs = await agent.service.history.create("another-home")
    await agent.service.history.append(theirs, [{"role": "user", "content": "their secret"}], MODEL)
    for response in (
        await agent.http.get(f"/api/v1/conversations/{theirs}"),
        await agent.chat("and now?", theirs),
        await agent.http.delete(f"/api/v1/conversations/{theirs}"),
    ):
        assert response.status_code == 404, response.text
        assert "their secret" not in response.text
    assert llm.requests == []  # the model never saw it
    (stored,) = await agent.service.history.load(theirs)
    assert stored.content == "their secret"


async def test_a_long_conversation_is_cut_to_the_history_budget_in_whole_groups(sim, llm, tmp_path) -> None:
    budget = 600
    settings = agent_settings(sim, llm.base_url, tmp_path / "long.db", history_max_tokens=budget)
    async with serve_agent(settings) as agent:
        history = agent.service.history
        conversation_id = await history.create("test")
        for i in range(60):  # 300 messages: a question, two parallel calls and their answers, a reply
            calls = [
                {"id": f"call_{i}_{n}", "type": "function", "function": {"name": "get_state", "arguments": "{}"}}
                for n in "ab"
            ]
            await history.append(
                conversation_id,
                [
                    {"role": "user", "content": f"question number {i} about the house"},
                    {"role": "assistant", "content": None, "tool_calls": calls},
                    {"role": "tool", "tool_call_id": f"call_{i}_a", "content": f'{{"state": "on", "n": {i}}}'},
                    {"role": "tool", "tool_call_id": f"call_{i}_b", "content": f'{{"state": "off", "n": {i}}}'},
                    {"role": "assistant", "content": f"Answer number {i}: one is on, one is off."},
                ],
                MODEL,
            )
        llm.script(Reply.text("Done."))
        response = await agent.chat("and now?", conversation_id)
        assert response.status_code == 200, response.text

    sent = llm.requests[-1]["messages"][1:]
    assert 3 < len(sent) < 300
    assert sum(count_message_tokens(m, MODEL) for m in sent) <= budget
    assert sent[0]["content"] == "question number 0 about the house"  # the first question stays
    assert sent[-1] == {"role": "user", "content": "and now?"}
    open_calls: set[str] = set()
    for message in sent:
        if message["role"] == "tool":
            assert message["tool_call_id"] in open_calls, f"orphan tool message {message}"
            open_calls.discard(message["tool_call_id"])
            continue
        assert not open_calls, f"calls left unanswered: {open_calls}"
        open_calls = {call["id"] for call in message.get("tool_calls") or ()}
    assert not open_calls


async def test_a_restarted_agent_continues_the_conversation(sim, llm, tmp_path) -> None:
    settings = agent_settings(sim, llm.base_url, tmp_path / "restart.db")
    llm.script(Reply.text("Noted: zebra."), Reply.text("It was zebra."))
    async with serve_agent(settings) as agent:
        conversation_id = (await agent.chat("remember the word zebra")).json()["conversation_id"]
    async with serve_agent(settings) as agent:  # a new service and app over the same database
        response = await agent.chat("which word was it?", conversation_id)
        assert response.status_code == 200, response.text
    sent = [(m["role"], m["content"]) for m in llm.requests[-1]["messages"][1:]]
    assert sent == [
        ("user", "remember the word zebra"),
        ("assistant", "Noted: zebra."),
        ("user", "which word was it?"),
    ]


async def test_retention_purges_idle_conversations_when_the_service_starts(sim, llm, tmp_path) -> None:
    settings = agent_settings(sim, llm.base_url, tmp_path / "retention.db", history_retention_days=30)
    async with serve_agent(settings) as agent:
        idle = await agent.service.history.create("test")
        recent = await agent.service.history.create("test")
        async with agent.service.history.engine.begin() as conn:
            await conn.execute(
                update(conversations)
                .where(conversations.c.id == idle)
                .values(updated_at=datetime.now(UTC) - timedelta(days=31))
            )
    async with serve_agent(settings) as agent:
        assert (await agent.http.get(f"/api/v1/conversations/{idle}")).status_code == 404
        assert (await agent.http.get(f"/api/v1/conversations/{recent}")).status_code == 200


# --- the model failing ---------------------------------------------------------------------------
async def test_a_rate_limit_is_retried_once_and_the_turn_answers(agent: ServedAgent, llm) -> None:
    llm.script(Reply.error(429, retry_after=0), Reply.text("Fine now."))
    response = await agent.chat("hello")
    assert response.status_code == 200, response.text
    assert response.json()["reply"] == "Fine now."
    assert len(llm.requests) == 2


async def _assert_message_kept(agent: ServedAgent, body: dict[str, Any], message: str) -> None:
    stored = (await agent.http.get(f"/api/v1/conversations/{body['conversation_id']}")).json()["messages"]
    assert [(m["role"], m["content"]) for m in stored][-1] == ("user", message)


async def test_a_model_that_is_down_gives_502_and_keeps_the_message(sim, tmp_path) -> None:
    settings = agent_settings(sim, f"http://127.0.0.1:{_closed_port()}/v1", tmp_path / "down.db", llm_max_retries=0)
    async with serve_agent(settings) as agent:
        response = await agent.chat("turn on the lights")
        assert response.status_code == 502, response.text
        body = response.json()
        assert "cannot be reached" in body["detail"]
        await _assert_message_kept(agent, body, "turn on the lights")

        events = await agent.stream("and now?", body["conversation_id"])
        assert [name for name, _ in events] == ["start", "error"]
        error = events[-1][1]
        assert error["status"] == 502 and "cannot be reached" in error["detail"]
        assert error["conversation_id"] == body["conversation_id"]
        await _assert_message_kept(agent, body, "and now?")


async def test_a_slow_or_busy_model_gives_504_or_503_and_keeps_the_message(sim, llm, tmp_path) -> None:
    settings = agent_settings(sim, llm.base_url, tmp_path / "slow.db", llm_timeout=0.3, llm_max_retries=0)
    async with serve_agent(settings) as agent:
        llm.script(Reply.delay(5.0, Reply.text("too late")))
        response = await agent.chat("are you there?")
        assert response.status_code == 504, response.text
        assert "did not answer in time" in response.json()["detail"]
        await _assert_message_kept(agent, response.json(), "are you there?")

        llm.script(Reply.error(429))
        response = await agent.chat("and now?", response.json()["conversation_id"])
        assert response.status_code == 503, response.text
        assert "busy" in response.json()["detail"]
        await _assert_message_kept(agent, response.json(), "and now?")


# --- streaming -----------------------------------------------------------------------------------
async def test_stream_and_plain_answers_agree(agent: ServedAgent, llm) -> None:
    text = "Two lights are on in the kitchen, and the heating is at 21 degrees."
    llm.script(Reply.text(text), Reply.text(text))
    plain = (await agent.chat("what is on?")).json()
    events = await agent.stream("what is on?")
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done" and set(names[1:-1]) == {"text"}
    done = events[-1][1]
    assert "".join(data["delta"] for name, data in events if name == "text") == done["reply"] == plain["reply"] == text
    assert set(done) == set(plain) and done["conversation_id"] == events[0][1]["conversation_id"]

    light = (await _exposed(agent, "light"))[0]
    llm.script(Reply.tool_calls([("get_state", {"entities": [light]})]), Reply.text("It is on."))
    events = await agent.stream("is it on?", done["conversation_id"])
    names = [name for name, _ in events]
    assert names.index("tool_call") < names.index("done")
    call = dict(events)["tool_call"]
    assert call["name"] == "get_state" and call["arguments"] == {"entities": [light]} and "result" in call
    assert dict(events)["done"]["tool_calls"] == [call]


async def test_a_turn_goes_on_when_the_client_leaves_the_stream(agent: ServedAgent, llm) -> None:
    llm.script(Reply.delay(0.3, Reply.text("A reply nobody waited for.")))
    body = {"message": "slow question", "stream": True}
    async with agent.http.stream("POST", "/api/v1/chat", json=body) as response:
        async for event, data in iter_sse(response.aiter_lines()):
            assert event == "start"
            conversation_id = json.loads(data)["conversation_id"]
            break  # and hang up
    for _ in range(300):
        stored = (await agent.http.get(f"/api/v1/conversations/{conversation_id}")).json()["messages"]
        if len(stored) == 2:
            break
        await asyncio.sleep(0.02)
    assert [(m["role"], m["content"]) for m in stored] == [
        ("user", "slow question"),
        ("assistant", "A reply nobody waited for."),
    ]


# --- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "status", "words"),
    [
        (b'{"message": "   "}', 422, "'message': must not be empty"),
        (b'{"message": "' + b"x" * 10_000 + b'"}', 422, "must be at most 4000 characters"),
        (b'{"message": 5}', 422, "'message'"),
        (b'{"message": "a\\u0000b"}', 422, "must not contain NUL characters"),
        (b'{"mesage": "hi"}', 422, "'message': is required"),
        (b'{"message": "hi", "stream": "sometimes"}', 422, "'stream'"),
        (b'{"message": "hi"', 400, "not valid JSON"),
        (b"", 400, "not valid JSON (it is empty)"),
        (b'["hi"]', 400, "must be a JSON object"),
        (
            b'{"message": "hi", "conversation_id": "no-such-conversation"}',
            404,
            "no conversation 'no-such-conversation'",
        ),
        (b'{"message": "hi", "conversation_id": "no-such-conversation", "stream": true}', 404, "no conversation"),
        (b'{"message": "' + b"x" * 70_000 + b'"}', 413, "larger than"),
    ],
)
async def test_bad_input_gets_a_4xx_that_says_what_to_fix(agent: ServedAgent, llm, content, status, words) -> None:
    response = await agent.http.post("/api/v1/chat", content=content, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    assert llm.request_count == 0


async def test_unknown_conversations_and_deleting(agent: ServedAgent, llm) -> None:
    assert (await agent.http.get("/api/v1/conversations/nope")).status_code == 404
    assert (await agent.http.delete("/api/v1/conversations/nope")).status_code == 404
    assert (await agent.http.get("/api/v1/conversations/" + "x" * 100)).status_code == 422
    llm.script(Reply.text("Hi."))
    conversation_id = (await agent.chat("hello")).json()["conversation_id"]
    assert (await agent.http.delete(f"/api/v1/conversations/{conversation_id}")).status_code == 204
    assert (await agent.http.get(f"/api/v1/conversations/{conversation_id}")).status_code == 404
    assert (await agent.chat("again", conversation_id)).status_code == 404


async def test_api_keys_are_required_when_set(sim, llm, tmp_path) -> None:
    settings = agent_settings(sim, llm.base_url, tmp_path / "keys.db", api_keys=[KEY])
    async with serve_agent(settings) as agent:
        assert (await agent.http.get("/health")).status_code == 200  # open, for supervisors
        missing = await agent.chat("hello")
        assert missing.status_code == 401 and "API key is required" in missing.json()["detail"]
        wrong = await agent.http.post(
            "/api/v1/chat", json={"message": "hi"}, headers={"authorization": "Bearer " + "w" * 24}
        )
        assert wrong.status_code == 401 and "not accepted" in wrong.json()["detail"]
        llm.script(Reply.text("Hi."))
        right = await agent.http.post(
            "/api/v1/chat", json={"message": "hi"}, headers={"authorization": f"Bearer {KEY}"}
        )
        assert right.status_code == 200, right.text
        assert (await agent.http.get("/api/v1/context", headers={"x-api-key": KEY})).status_code == 200
        assert llm.request_count == 1


# --- inspection, health, and the mirror beside the agent -----------------------------------------
async def test_context_endpoint_shows_per_section_tokens(agent: ServedAgent) -> None:
    light = (await _exposed(agent, "light"))[0]
    body = (await agent.http.get("/api/v1/context", params={"q": "turn on the kitchen light"})).json()
    assert body["mode"] == "full" and body["budget"] > 0 and body["build_ms"] >= 0
    assert set(body["section_tokens"]) >= {"instructions", "home", "areas", "entities", "time"}
    assert all(tokens > 0 for tokens in body["section_tokens"].values())
    assert body["tokens"] >= sum(body["section_tokens"].values())
    assert body["prefix"].startswith("You are the assistant") and "Current time" in body["volatile"]
    assert light in body["prefix"] + body["volatile"]
    assert [s["name"] for s in body["sections"]] == list(body["section_tokens"])
    too_long = await agent.http.get("/api/v1/context", params={"q": "x" * 5000})
    assert too_long.status_code == 422 and "at most 4000" in too_long.json()["detail"]


async def test_health_metrics_and_the_mirror_routes_in_one_process(agent: ServedAgent, llm) -> None:
    llm.script(Reply.text("Hi."))
    assert (await agent.chat("hello")).status_code == 200
    health = (await agent.http.get("/health")).json()
    assert health.pop("database")["ok"] is True
    assert health == {"status": "ok", "role": "all", "stale": False, "connected": True}
    detail = (await agent.http.get("/health/detailed")).json()
    assert detail["database"]["ok"] and detail["turns"]["turns"] == 1 and detail["llm"]["model"] == MODEL
    assert detail["mirror"]["connected"] and "entities" in detail["mirror"]["cache"]
    assert "POST /api/v1/chat" in detail["endpoints"]
    metrics = (await agent.http.get("/metrics")).text
    assert 'ha_agent_turns_total{outcome="ok"} 1' in metrics
    assert 'ha_agent_requests_total{method="POST",route="/api/v1/chat",status="200"} 1' in metrics
    assert "ha_data_api_cache_hits_total" in metrics and "ha_agent_db_up 1" in metrics
    lights = await agent.http.get("/api/v1/entities", params={"domain": "light"})  # the mirror's API
    assert lights.status_code == 200 and lights.json()["items"] and lights.headers["etag"]
    assert (await agent.http.get("/api/v1/nothing")).status_code == 404
    paths = (await agent.http.get("/openapi.json")).json()["paths"]
    assert {
        "/api/v1/chat",
        "/api/v1/conversations/{conversation_id}",
        "/api/v1/context",
        "/api/v1/audit",
        "/api/v1/entities",
        "/health",
        "/metrics",
    } <= set(paths)


async def test_the_speakers_area_and_language_reach_the_model(agent: ServedAgent, llm) -> None:
    llm.script(Reply.text("Klaar."))
    area = sorted((await agent.service.home.kind("areas")).items)[0]
    response = await agent.chat("doe het licht aan", area=area, language="nl")
    assert response.status_code == 200, response.text
    prompt = system_prompt(llm.requests[-1])
    assert "The person is in: " in prompt and f"({area})" in prompt
    assert "Answer in language: nl" in prompt
    bad = await agent.chat("hi", language="not a language!")
    assert bad.status_code == 422 and "language" in bad.text
